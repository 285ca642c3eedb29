//! `case_results`: The verdict and measurements of one case in a test run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub test_run_id: i64,
    #[sea_orm(column_type = "Text")]
    pub case_id: String,
    #[sea_orm(column_type = "Text")]
    pub verdict: String,
    pub instructions: i64,
    pub peak_memory_bytes: i64,
    pub wall_time_us: i64,
    pub queries: i32,
    #[sea_orm(column_type = "Text")]
    pub stdout: String,
    #[sea_orm(column_type = "Text")]
    pub stderr: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub actual_output: Option<Json>,
    #[sea_orm(column_type = "Text")]
    pub message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
