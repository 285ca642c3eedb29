//! `fraud_signals`: a pattern the detector found in an app's usage or
//! ratings over a window, and the supervisor's decision about it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fraud_signals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// A `domain::SignalKind` name.
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    pub app_id: i64,
    #[sea_orm(column_type = "JsonBinary")]
    pub evidence: Json,
    pub window_start: DateTimeUtc,
    pub window_end: DateTimeUtc,
    /// A `domain::SignalStatus` name.
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub created_at: DateTimeUtc,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub flagged_uses: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
