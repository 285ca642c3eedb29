//! `app_suspensions`: one suspension of an app by a supervisor, closed by its reinstatement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_suspensions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub app_id: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub suspended_by: Option<i64>,
    pub suspended_at: DateTimeUtc,
    pub reinstated_at: Option<DateTimeUtc>,
    pub reinstated_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub reinstate_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
