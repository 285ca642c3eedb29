//! When the supervisors were told that a complaint passed its deadline
//! unanswered: they are told once per deadline (a reopened complaint has a
//! new one), and several nodes racing to tell them tell them once.

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
                    .add_column(instant_null("overdue_notified_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("complaints")
                    .drop_column("overdue_notified_at")
                    .to_owned(),
            )
            .await
    }
}
