//! Notifications: what the platform tells an organisation or a user about
//! their own things (a version delisted by a regression run, a question
//! answered), read on the account page and through the API.

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
                    .table("notifications")
                    .col(id())
                    // Exactly one recipient: every member of an organisation,
                    // or one user (citizens belong to none).
                    .col(ref_id_null("org_id"))
                    .col(ref_id_null("user_id"))
                    // e.g. version.delisted, question.answered
                    .col(text("kind"))
                    .col(text("body"))
                    .col(text_null("link"))
                    .col(instant("created_at"))
                    .col(instant_null("read_at"))
                    .foreign_key(&mut fk_cascade("notifications", "org_id", "organisations"))
                    .foreign_key(&mut fk_cascade("notifications", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("notifications", &["org_id", "id"]),
                index("notifications", &["user_id", "id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["notifications"]).await
    }
}
