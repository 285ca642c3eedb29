//! The audit head (entry seq and hash) recorded when a settlement run is
//! approved: published with the run, it lets anyone check later that the
//! audit log still extends it, so removing the newest entries is caught.

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
                    .table("settlement_audit_heads")
                    .col(id())
                    .col(ref_id("run_id"))
                    // The newest audit entry at approval (the approval's own).
                    .col(bigint("audit_seq"))
                    .col(text("audit_hash"))
                    .col(instant("recorded_at"))
                    .foreign_key(&mut fk_cascade(
                        "settlement_audit_heads",
                        "run_id",
                        "settlement_runs",
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(manager, vec![unique("settlement_audit_heads", &["run_id"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["settlement_audit_heads"]).await
    }
}
