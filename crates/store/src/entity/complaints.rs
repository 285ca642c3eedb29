//! `complaints`: A citizen's complaint about an app or an order. `status` is a `domain::ComplaintStatus` name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub citizen_id: i64,
    pub app_id: Option<i64>,
    pub order_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub deadline: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub answer: Option<String>,
    pub answered_by: Option<i64>,
    pub answered_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution_stars: Option<i32>,
    pub created_at: DateTimeUtc,
    /// The citizen's own invocation the complaint is about, if named.
    pub invocation_id: Option<i64>,
    /// When supervisors were told it passed its deadline unanswered.
    pub overdue_notified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
