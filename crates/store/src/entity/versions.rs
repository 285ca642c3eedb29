//! `versions`: One uploaded WASM module of an app. `status` is a `domain::VersionStatus` name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub app_id: i64,
    pub number: i32,
    #[sea_orm(column_type = "Text")]
    pub sha256: String,
    pub size_bytes: i64,
    #[sea_orm(column_type = "Text")]
    pub release_notes: String,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub test_score_bp: Option<i32>,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub superseded_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub suspended_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub status_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
