//! The rules document of an order (Markdown, written by its department:
//! field meanings, each rule, edge cases) and the rule each test case
//! checks, a label vendors see beside a hidden case's verdict (issue #21).

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
                    .table("order_rules")
                    .col(id())
                    .col(ref_id("order_id"))
                    .col(text("markdown"))
                    .col(ref_id_null("updated_by"))
                    .col(instant("updated_at"))
                    .foreign_key(&mut fk("order_rules", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;
        create_indexes(manager, vec![unique("order_rules", &["order_id"])]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("test_cases")
                    .add_column(text_null("rule"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("test_cases")
                    .drop_column("rule")
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, &["order_rules"]).await
    }
}
