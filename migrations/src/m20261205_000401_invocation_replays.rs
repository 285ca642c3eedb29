//! What a supervisor's replay of an invocation needs (input, seed, virtual
//! clock, dataset stamps, the original output), sealed with the platform's
//! replay key and kept for the retention period, then purged.
//!
//! No foreign key to `invocations`: on PostgreSQL that table is written in
//! bulk without its keys (see `m20261123_000007`), and a purged row must
//! not take its invocation with it.

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
                    .table("invocation_replays")
                    .col(
                        ColumnDef::new("invocation_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    // When the invocation happened: the purge job's cut.
                    .col(instant("recorded_at"))
                    // Nonce, then the XChaCha20-Poly1305 ciphertext.
                    .col(ColumnDef::new("sealed").blob().not_null())
                    .to_owned(),
            )
            .await?;
        create_indexes(manager, vec![index("invocation_replays", &["recorded_at"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["invocation_replays"]).await
    }
}
