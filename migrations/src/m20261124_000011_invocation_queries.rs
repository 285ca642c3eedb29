//! Data access log: every `gov.query` an app made while serving a citizen,
//! kept with the invocation (DESIGN.md: "every query is recorded with the
//! invocation"). Lets a supervisor answer "which app read whose record,
//! when", and a citizen see which of their records an app looked up.
//!
//! No foreign key to `invocations`: on PostgreSQL that table carries none
//! either (bulk loads), and rows here are only ever written in the same
//! transaction as their invocation.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("invocation_queries")
                    .col(id())
                    .col(ref_id("invocation_id"))
                    // Order of the query within the run, from 0.
                    .col(int("seq"))
                    .col(text("dataset"))
                    .col(text("record_key"))
                    // The record's length as the guest saw it, or the
                    // negative ABI code (not permitted, not found, …).
                    .col(int("code"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                unique("invocation_queries", &["invocation_id", "seq"]),
                index("invocation_queries", &["dataset", "record_key"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["invocation_queries"]).await
    }
}
