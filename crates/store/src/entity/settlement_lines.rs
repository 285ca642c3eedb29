//! `settlement_lines`: A statement line with every input of its amount. Rationals are decimal integer text (exact i128).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub order_id: Option<i64>,
    pub app_id: i64,
    pub isv_org_id: i64,
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    pub users_u: i64,
    pub ratings_n: i64,
    pub stars_sum: i64,
    #[sea_orm(column_type = "Text")]
    pub r_num: String,
    #[sea_orm(column_type = "Text")]
    pub r_den: String,
    #[sea_orm(column_type = "Text")]
    pub q_num: String,
    #[sea_orm(column_type = "Text")]
    pub q_den: String,
    #[sea_orm(column_type = "Text")]
    pub w_num: String,
    #[sea_orm(column_type = "Text")]
    pub w_den: String,
    #[sea_orm(column_type = "Text")]
    pub sum_w_num: String,
    #[sea_orm(column_type = "Text")]
    pub sum_w_den: String,
    pub budget_fen: i64,
    pub amount_fen: i64,
    pub rank: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub explanation: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
