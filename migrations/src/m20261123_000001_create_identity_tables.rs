//! Organisations, users and the hash-chained audit log.

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
                    .table("organisations")
                    .col(id())
                    // department | isv
                    .col(text("kind"))
                    .col(text("name"))
                    // 统一社会信用代码, 18 characters, validated by domain::CreditCode.
                    .col(text_null("credit_code"))
                    // Payout destination, e.g. a Stripe connected account `acct_…`.
                    .col(text_null("payout_account"))
                    .col(instant("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(id())
                    .col(text("email"))
                    .col(text("password_hash"))
                    .col(text("display_name"))
                    // A domain::Role name.
                    .col(text("role"))
                    .col(ref_id_null("org_id"))
                    // Resident ID number of a citizen (18 digits, checksum-valid).
                    .col(text_null("id_number"))
                    .col(instant("created_at"))
                    .col(flag("disabled", false))
                    .foreign_key(&mut fk("users", "org_id", "organisations"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(id())
                    // Position in the chain, 1, 2, 3 … without gaps.
                    .col(bigint("seq"))
                    .col(instant("occurred_at"))
                    // No foreign keys: the log must outlive whatever it mentions.
                    .col(bigint_null("actor_id"))
                    .col(text_null("actor_role"))
                    .col(text("action"))
                    .col(text("object_type"))
                    .col(bigint_null("object_id"))
                    .col(text("summary"))
                    .col(text_null("request_id"))
                    .col(text("prev_hash"))
                    .col(text("hash"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                unique("organisations", &["name"]),
                unique("organisations", &["credit_code"]),
                unique("users", &["email"]),
                unique("users", &["id_number"]),
                index("users", &["org_id"]),
                unique("audit_events", &["seq"]),
                // Two appends that read the same head would insert the same
                // prev_hash: this makes a forked chain impossible to store.
                unique("audit_events", &["prev_hash"]),
                index("audit_events", &["object_type", "object_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["audit_events", "users", "organisations"]).await
    }
}
