//! `invocation_queries`: the data access log, one row per `gov.query` an
//! app made during an invocation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invocation_queries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub invocation_id: i64,
    pub seq: i32,
    pub dataset: String,
    pub record_key: String,
    pub code: i32,
    /// The dataset's access rule refused the query (ABI v2).
    pub refused: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
