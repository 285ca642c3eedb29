//! `test_cases`: One case of an order's test suite; `visibility` is `sample` or `hidden`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "test_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    #[sea_orm(column_type = "Text")]
    pub case_id: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub input: Json,
    #[sea_orm(column_type = "Text")]
    pub subject: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub expect: Json,
    #[sea_orm(column_type = "Text")]
    pub visibility: String,
    pub weight: i32,
    pub added_at: DateTimeUtc,
    /// The rule the case checks, shown to vendors beside its verdict (never its data).
    #[sea_orm(column_type = "Text")]
    pub rule: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
