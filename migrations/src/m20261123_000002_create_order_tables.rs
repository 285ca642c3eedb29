//! Requirement orders and what a department attaches to them: datasets,
//! test cases, clarification questions and answers.

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
                    .table("orders")
                    .col(id())
                    .col(ref_id("department_org_id"))
                    .col(ref_id_null("created_by"))
                    .col(text("title"))
                    .col(text("description"))
                    .col(text("category"))
                    // JSON array of strings.
                    .col(json("tags"))
                    // Quarterly budget.
                    .col(fen("budget_fen"))
                    .col(instant_null("deadline"))
                    // A domain::OrderStatus name.
                    .col(text("status"))
                    // {input_schema, output_schema, grants, limits}; frozen once open.
                    .col(json("contract"))
                    // Share of hidden cases that must pass, in basis points (10000 = 100%).
                    .col(int("pass_threshold_bp"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .col(instant_null("published_at"))
                    .col(instant_null("closed_at"))
                    .foreign_key(&mut fk("orders", "department_org_id", "organisations"))
                    .foreign_key(&mut fk("orders", "created_by", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("datasets")
                    .col(id())
                    .col(ref_id("order_id"))
                    .col(text("name"))
                    // Bumped on every replacement, so test reports name the data they ran on.
                    .col(int("version"))
                    // Whether ISVs may download it for local testing.
                    .col(flag("sample", false))
                    .col(bigint("record_count"))
                    .col(bigint("size_bytes"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .foreign_key(&mut fk("datasets", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("dataset_records")
                    .col(id())
                    .col(ref_id("dataset_id"))
                    .col(text("key"))
                    .col(json("record"))
                    .foreign_key(&mut fk_cascade("dataset_records", "dataset_id", "datasets"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("test_cases")
                    .col(id())
                    .col(ref_id("order_id"))
                    // The suite's own id of the case, e.g. "hidden-017".
                    .col(text("case_id"))
                    .col(text("description"))
                    .col(json("input"))
                    .col(text_null("subject"))
                    // {exact: …} | {contains: …} | {schema_only: true}
                    .col(json("expect"))
                    // sample | hidden
                    .col(text("visibility"))
                    .col(int("weight"))
                    .col(instant("added_at"))
                    .foreign_key(&mut fk("test_cases", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("questions")
                    .col(id())
                    .col(ref_id("order_id"))
                    .col(ref_id("asked_by"))
                    .col(text("body"))
                    .col(instant("created_at"))
                    .foreign_key(&mut fk("questions", "order_id", "orders"))
                    .foreign_key(&mut fk("questions", "asked_by", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("answers")
                    .col(id())
                    .col(ref_id("question_id"))
                    .col(ref_id("answered_by"))
                    .col(text("body"))
                    .col(instant("created_at"))
                    .foreign_key(&mut fk("answers", "question_id", "questions"))
                    .foreign_key(&mut fk("answers", "answered_by", "users"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("orders", &["status"]),
                index("orders", &["department_org_id"]),
                unique("datasets", &["order_id", "name"]),
                unique("dataset_records", &["dataset_id", "key"]),
                unique("test_cases", &["order_id", "case_id"]),
                index("questions", &["order_id"]),
                index("answers", &["question_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "answers",
                "questions",
                "test_cases",
                "dataset_records",
                "datasets",
                "orders",
            ],
        )
        .await
    }
}
