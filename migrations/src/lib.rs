//! Database migrations of govmarket, one set for SQLite and PostgreSQL.
//!
//! Rules for this crate (production databases depend on them):
//! - A migration that has been applied anywhere is never edited; changes are
//!   new migrations appended to [`Migrator::migrations`].
//! - One file per migration, named `mYYYYMMDD_NNNNNN_what.rs`.
//! - Only portable DDL (sea-query builders, or SQL both backends accept).
//! - Timestamps have no database default: the application always writes
//!   them, so SQLite stores every instant in the one text format sqlx
//!   writes (RFC 3339 in UTC), which keeps them comparable as text.
//! - Primary keys are `BIGINT` identities (`INTEGER PRIMARY KEY` on SQLite),
//!   money is `BIGINT` fen, JSON is `jsonb` (text on SQLite).

pub use sea_orm_migration;
pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261123_000001_create_identity_tables;
mod m20261123_000002_create_order_tables;
mod m20261123_000003_create_app_tables;
mod m20261123_000004_create_jobs_table;
mod m20261123_000005_create_usage_tables;
mod m20261123_000006_create_settlement_tables;
mod m20261123_000007_drop_invocation_foreign_keys_on_postgres;
mod m20261123_000020_settlement_aggregation;
mod m20261124_000001_settlement_covering_indexes;
mod m20261124_000002_settlement_corrections;
mod m20261124_000010_notifications;
mod m20261124_000011_invocation_queries;
mod m20261203_000101_invocation_queries_refused;
mod m20261203_000201_app_suspensions;
mod m20261203_000202_settlement_audit_heads;
mod m20261203_000301_order_rules;
mod m20261204_000201_suite_revisions;
mod m20261205_000101_fraud_signals;
mod m20261205_000401_invocation_replays;
mod m20261205_000402_complaint_invocation;
mod m20261205_000403_complaint_overdue_notice;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_identity_tables::Migration),
            Box::new(m20261123_000002_create_order_tables::Migration),
            Box::new(m20261123_000003_create_app_tables::Migration),
            Box::new(m20261123_000004_create_jobs_table::Migration),
            Box::new(m20261123_000005_create_usage_tables::Migration),
            Box::new(m20261123_000006_create_settlement_tables::Migration),
            Box::new(m20261123_000007_drop_invocation_foreign_keys_on_postgres::Migration),
            Box::new(m20261123_000020_settlement_aggregation::Migration),
            Box::new(m20261124_000001_settlement_covering_indexes::Migration),
            Box::new(m20261124_000002_settlement_corrections::Migration),
            Box::new(m20261124_000010_notifications::Migration),
            Box::new(m20261124_000011_invocation_queries::Migration),
            Box::new(m20261203_000101_invocation_queries_refused::Migration),
            Box::new(m20261203_000201_app_suspensions::Migration),
            Box::new(m20261203_000202_settlement_audit_heads::Migration),
            Box::new(m20261203_000301_order_rules::Migration),
            Box::new(m20261204_000201_suite_revisions::Migration),
            Box::new(m20261205_000101_fraud_signals::Migration),
            Box::new(m20261205_000401_invocation_replays::Migration),
            Box::new(m20261205_000402_complaint_invocation::Migration),
            Box::new(m20261205_000403_complaint_overdue_notice::Migration),
        ]
    }
}
