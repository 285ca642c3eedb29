//! Record-level access (ABI v2): a query the dataset's access rule refused
//! is flagged in the data access log, so a citizen's "my data" page and a
//! supervisor's evidence can show it without decoding ABI codes. Rows
//! written before this migration were never refused (the rule did not
//! exist), hence the default.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("invocation_queries")
                    .add_column(flag("refused", false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("invocation_queries")
                    .drop_column("refused")
                    .to_owned(),
            )
            .await
    }
}
