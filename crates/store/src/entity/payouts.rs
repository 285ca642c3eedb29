//! `payouts`: A payout of one statement line. `status` is a `domain::PayoutStatus` name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub line_id: i64,
    pub run_id: i64,
    #[sea_orm(column_type = "Text")]
    pub provider: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub amount_fen: i64,
    #[sea_orm(column_type = "Text")]
    pub destination: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub idempotency_key: String,
    #[sea_orm(column_type = "Text")]
    pub external_id: Option<String>,
    pub attempts: i32,
    #[sea_orm(column_type = "Text")]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    /// Kept back from the line's amount to offset the ISV's negative
    /// adjustment lines of the run (migration m20261124_000002).
    pub offset_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
