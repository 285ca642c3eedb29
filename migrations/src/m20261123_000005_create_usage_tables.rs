//! What citizens do: invocations (usage events), ratings with their
//! history, replies and reports, and complaints.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The biggest table (the settlement benchmark loads 10 million rows):
        // identity ids, no JSON, and only the indexes settlement and the
        // rating check need.
        manager
            .create_table(
                Table::create()
                    .table("invocations")
                    .col(id())
                    .col(ref_id("app_id"))
                    .col(ref_id("version_id"))
                    .col(ref_id("citizen_id"))
                    .col(instant("occurred_at"))
                    // Settlement period of occurred_at, e.g. "2026Q3".
                    .col(text("period"))
                    .col(text("verdict"))
                    .col(flag("success", false))
                    .col(bigint("instructions"))
                    .col(bigint("latency_us"))
                    // Client-supplied, so a retried request is counted once.
                    .col(text_null("idempotency_key"))
                    // Set by fraud review: excluded from U_a.
                    .col(flag("invalid", false))
                    .foreign_key(&mut fk("invocations", "app_id", "apps"))
                    .foreign_key(&mut fk("invocations", "version_id", "versions"))
                    .foreign_key(&mut fk("invocations", "citizen_id", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("ratings")
                    .col(id())
                    .col(ref_id("app_id"))
                    .col(ref_id("citizen_id"))
                    .col(int("stars"))
                    .col(text_null("comment"))
                    .col(text_null("suggestion"))
                    // Hidden by a supervisor after a report was upheld.
                    .col(flag("hidden", false))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .foreign_key(&mut fk("ratings", "app_id", "apps"))
                    .foreign_key(&mut fk("ratings", "citizen_id", "users"))
                    .to_owned(),
            )
            .await?;

        // Every state a rating has had, so settlement can use "the ratings
        // as they stand at the end of P" after later edits.
        manager
            .create_table(
                Table::create()
                    .table("rating_history")
                    .col(id())
                    .col(ref_id("rating_id"))
                    .col(ref_id("app_id"))
                    .col(ref_id("citizen_id"))
                    .col(int("stars"))
                    .col(text_null("comment"))
                    .col(text_null("suggestion"))
                    .col(flag("hidden", false))
                    .col(instant("recorded_at"))
                    .foreign_key(&mut fk("rating_history", "rating_id", "ratings"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("rating_replies")
                    .col(id())
                    .col(ref_id("rating_id"))
                    .col(ref_id("author_id"))
                    .col(text("body"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .foreign_key(&mut fk("rating_replies", "rating_id", "ratings"))
                    .foreign_key(&mut fk("rating_replies", "author_id", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("rating_reports")
                    .col(id())
                    .col(ref_id("rating_id"))
                    // Anyone may report, signed in or not.
                    .col(ref_id_null("reporter_id"))
                    .col(text("reason"))
                    // open | upheld | dismissed
                    .col(text("status"))
                    .col(instant("created_at"))
                    .col(ref_id_null("resolved_by"))
                    .col(instant_null("resolved_at"))
                    .foreign_key(&mut fk("rating_reports", "rating_id", "ratings"))
                    .foreign_key(&mut fk("rating_reports", "reporter_id", "users"))
                    .foreign_key(&mut fk("rating_reports", "resolved_by", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("complaints")
                    .col(id())
                    .col(ref_id("citizen_id"))
                    .col(ref_id_null("app_id"))
                    .col(ref_id_null("order_id"))
                    .col(text("body"))
                    // A domain::ComplaintStatus name.
                    .col(text("status"))
                    .col(instant("deadline"))
                    .col(text_null("answer"))
                    .col(ref_id_null("answered_by"))
                    .col(instant_null("answered_at"))
                    .col(instant_null("resolved_at"))
                    // The citizen's 1–5 rating of how it was handled.
                    .col(int_null("resolution_stars"))
                    .col(instant("created_at"))
                    .foreign_key(&mut fk("complaints", "citizen_id", "users"))
                    .foreign_key(&mut fk("complaints", "app_id", "apps"))
                    .foreign_key(&mut fk("complaints", "order_id", "orders"))
                    .foreign_key(&mut fk("complaints", "answered_by", "users"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                // Settlement: U_a per (period, app); distinct citizens.
                index("invocations", &["period", "app_id", "citizen_id"]),
                // Also serves "has this citizen used this app" (few rows per citizen).
                unique("invocations", &["citizen_id", "idempotency_key"]),
                unique("ratings", &["app_id", "citizen_id"]),
                index("ratings", &["citizen_id"]),
                index("rating_history", &["app_id", "recorded_at"]),
                index("rating_history", &["rating_id"]),
                unique("rating_replies", &["rating_id"]),
                index("rating_reports", &["rating_id"]),
                index("rating_reports", &["status"]),
                index("complaints", &["status", "deadline"]),
                index("complaints", &["citizen_id"]),
                index("complaints", &["app_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "complaints",
                "rating_reports",
                "rating_replies",
                "rating_history",
                "ratings",
                "invocations",
            ],
        )
        .await
    }
}
