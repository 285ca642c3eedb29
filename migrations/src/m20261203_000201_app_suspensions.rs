//! Suspensions of apps by a supervisor: one row per suspension, closed when
//! the app is reinstated. Settlement reads these intervals (never words in a
//! reason): usage while an app was suspended earns nothing.

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
                    .table("app_suspensions")
                    .col(id())
                    .col(ref_id("app_id"))
                    .col(text("reason"))
                    .col(ref_id_null("suspended_by"))
                    .col(instant("suspended_at"))
                    // NULL while the suspension lasts.
                    .col(instant_null("reinstated_at"))
                    .col(ref_id_null("reinstated_by"))
                    .col(text_null("reinstate_reason"))
                    .foreign_key(&mut fk_cascade("app_suspensions", "app_id", "apps"))
                    .foreign_key(&mut fk("app_suspensions", "suspended_by", "users"))
                    .foreign_key(&mut fk("app_suspensions", "reinstated_by", "users"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![index("app_suspensions", &["app_id", "suspended_at"])],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["app_suspensions"]).await
    }
}
