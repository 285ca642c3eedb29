//! `invocations`: A usage event: one use of an app by a citizen.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub app_id: i64,
    pub version_id: i64,
    pub citizen_id: i64,
    pub occurred_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub period: String,
    #[sea_orm(column_type = "Text")]
    pub verdict: String,
    pub success: bool,
    pub instructions: i64,
    pub latency_us: i64,
    #[sea_orm(column_type = "Text")]
    pub idempotency_key: Option<String>,
    pub invalid: bool,
    /// The confirmed fraud signal that made this use invalid.
    pub invalid_signal_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
