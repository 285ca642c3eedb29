//! Regression: an open order's suite has a revision, bumped whenever a case
//! is added or a dataset replaced, and each test run records the revision
//! it loaded. A version is published only after passing the current
//! revision, and a run that loaded an older one is run again. Orders start
//! at revision 0; runs stored before this migration have none (read as 0,
//! the revision every order had then).

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
                    .table("orders")
                    .add_column(int("suite_revision").default(0).take())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("test_runs")
                    .add_column(int_null("suite_revision"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("test_runs")
                    .drop_column("suite_revision")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("suite_revision")
                    .to_owned(),
            )
            .await
    }
}
