//! A complaint about an app may name the invocation it is about (one of the
//! citizen's own), so that whoever handles it can replay that invocation.

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
                    .table("complaints")
                    .add_column(bigint_null("invocation_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("complaints")
                    .drop_column("invocation_id")
                    .to_owned(),
            )
            .await
    }
}
