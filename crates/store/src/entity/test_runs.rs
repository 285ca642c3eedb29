//! `test_runs`: One black-box run of a version against its order's suite.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "test_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub version_id: i64,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub total_cases: i32,
    pub accepted_cases: i32,
    pub score_bp: Option<i32>,
    pub passed: Option<bool>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "JsonBinary")]
    pub report: Option<Json>,
    /// The order's suite revision the run loaded (`None`: before revisions, read as 0).
    pub suite_revision: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
