//! Apps, their versions (WASM modules stored once per sha256), test runs
//! and per-case results.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Content-addressed module store: two versions with the same bytes
        // (a re-upload, or the same module for two orders) share one row.
        manager
            .create_table(
                Table::create()
                    .table("module_blobs")
                    .col(schema::text("sha256").primary_key())
                    .col(bigint("size_bytes"))
                    .col(schema::blob("bytes"))
                    .col(instant("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("apps")
                    .col(id())
                    .col(ref_id("order_id"))
                    .col(ref_id("isv_org_id"))
                    .col(text("name"))
                    // active | withdrawn | suspended
                    .col(text("status"))
                    .col(text_null("status_reason"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .col(instant_null("suspended_at"))
                    .foreign_key(&mut fk("apps", "order_id", "orders"))
                    .foreign_key(&mut fk("apps", "isv_org_id", "organisations"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("versions")
                    .col(id())
                    .col(ref_id("app_id"))
                    // 1, 2, 3 … within the app.
                    .col(int("number"))
                    .col(text("sha256"))
                    .col(bigint("size_bytes"))
                    .col(text("release_notes"))
                    // A domain::VersionStatus name.
                    .col(text("status"))
                    // Weighted share of accepted cases of the latest run, basis points.
                    .col(int_null("test_score_bp"))
                    .col(ref_id_null("uploaded_by"))
                    .col(instant("created_at"))
                    .col(instant_null("published_at"))
                    .col(instant_null("superseded_at"))
                    .col(instant_null("withdrawn_at"))
                    .col(instant_null("suspended_at"))
                    // Why it was rejected, suspended or withdrawn.
                    .col(text_null("status_reason"))
                    .foreign_key(&mut fk("versions", "app_id", "apps"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_versions_sha256")
                            .from("versions", "sha256")
                            .to("module_blobs", "sha256")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut fk("versions", "uploaded_by", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("test_runs")
                    .col(id())
                    .col(ref_id("version_id"))
                    // queued | running | finished | error
                    .col(text("status"))
                    // upload | regression
                    .col(text("reason"))
                    .col(int("total_cases"))
                    .col(int("accepted_cases"))
                    .col(int_null("score_bp"))
                    .col(schema::boolean_null("passed"))
                    .col(instant("created_at"))
                    .col(instant_null("started_at"))
                    .col(instant_null("finished_at"))
                    .col(json_null("report"))
                    .foreign_key(&mut fk("test_runs", "version_id", "versions"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("case_results")
                    .col(id())
                    .col(ref_id("test_run_id"))
                    .col(text("case_id"))
                    // A domain::Verdict name.
                    .col(text("verdict"))
                    .col(bigint("instructions"))
                    .col(bigint("peak_memory_bytes"))
                    .col(bigint("wall_time_us"))
                    .col(int("queries"))
                    // Truncated by the sandbox to its output limit.
                    .col(text("stdout"))
                    .col(text("stderr"))
                    .col(json_null("actual_output"))
                    .col(text_null("message"))
                    .foreign_key(&mut fk_cascade("case_results", "test_run_id", "test_runs"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                unique("apps", &["order_id", "name"]),
                index("apps", &["isv_org_id"]),
                unique("versions", &["app_id", "number"]),
                index("versions", &["status"]),
                index("versions", &["sha256"]),
                index("test_runs", &["version_id"]),
                unique("case_results", &["test_run_id", "case_id"]),
            ],
        )
        .await?;

        // At most one published version per app (DESIGN.md, lifecycles).
        // Partial indexes are spelled the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_versions_one_published_per_app \
                 ON versions (app_id) WHERE status = 'published'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "case_results",
                "test_runs",
                "versions",
                "apps",
                "module_blobs",
            ],
        )
        .await
    }
}
