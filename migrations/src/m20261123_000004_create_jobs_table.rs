//! The work queue (test runs, regression runs, reindexing, payouts).

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
                    .table("jobs")
                    .col(id())
                    .col(text("kind"))
                    .col(json("payload"))
                    // queued | running | done | failed
                    .col(text("status"))
                    .col(int("attempts"))
                    .col(int("max_attempts"))
                    // Worker holding the lease while running; a lease that
                    // expires (crashed worker) makes the job claimable again.
                    .col(text_null("lease_owner"))
                    .col(instant_null("lease_until"))
                    .col(instant("run_after"))
                    .col(text_null("last_error"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("jobs", &["status", "run_after"]),
                index("jobs", &["status", "lease_until"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["jobs"]).await
    }
}
