//! What settlement needs beyond the base schema:
//!
//! - a partial index over the usage that counts (`success AND NOT invalid`)
//!   on `(period, app_id, citizen_id)`, so `COUNT(DISTINCT citizen_id) …
//!   GROUP BY app_id` for one period is an index-only scan on PostgreSQL
//!   and a covering-index scan on SQLite, never a read of the whole table;
//! - one settlement run per period: a draft is recomputed in place, and
//!   once approved the period is closed (corrections are adjustment lines
//!   in a later period), so a period can never be paid twice;
//! - each statement line's eligibility and whether the cap bound it, so a
//!   zero amount is explained;
//! - `rating_history (rating_id, recorded_at)` for "the latest state of
//!   each rating at the end of P".

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Both backends accept this partial-index syntax; booleans are
        // 0/1 integers on SQLite, so the predicate means the same there.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_invocations_settle ON invocations (period, app_id, citizen_id) \
                 WHERE success AND NOT invalid",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_settlement_runs_period_one")
                    .table("settlement_runs")
                    .col("period")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rating_history_rating_recorded")
                    .table("rating_history")
                    .col("rating_id")
                    .col("recorded_at")
                    .to_owned(),
            )
            .await?;
        // One column per ALTER: SQLite accepts nothing else.
        manager
            .alter_table(
                Table::alter()
                    .table("settlement_lines")
                    .add_column(
                        ColumnDef::new("eligibility")
                            .text()
                            .not_null()
                            .default("eligible"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("settlement_lines")
                    .add_column(flag("capped", false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["capped", "eligibility"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("settlement_lines")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_rating_history_rating_recorded")
                    .table("rating_history")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_settlement_runs_period_one")
                    .table("settlement_runs")
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_invocations_settle")
            .await?;
        Ok(())
    }
}
