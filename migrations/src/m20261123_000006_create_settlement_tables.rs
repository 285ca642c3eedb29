//! Settlement runs, their statement lines and payouts.

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
                    .table("settlement_runs")
                    .col(id())
                    .col(text("period"))
                    // A domain::SettlementStatus name.
                    .col(text("status"))
                    // Every formula parameter (C, m, r_min, cap, reward pool…).
                    .col(json("params"))
                    .col(fen("budget_total_fen"))
                    .col(fen("paid_total_fen"))
                    .col(fen("unspent_fen"))
                    .col(fen("reward_pool_fen"))
                    .col(int("line_count"))
                    .col(ref_id("created_by"))
                    .col(instant("created_at"))
                    .col(ref_id_null("approved_by"))
                    .col(instant_null("approved_at"))
                    .col(instant_null("paid_at"))
                    .foreign_key(&mut fk("settlement_runs", "created_by", "users"))
                    .foreign_key(&mut fk("settlement_runs", "approved_by", "users"))
                    .to_owned(),
            )
            .await?;

        // Rationals (R, q, w, sum w) are stored as decimal integer text: they
        // are exact i128 numerators and denominators, wider than BIGINT.
        manager
            .create_table(
                Table::create()
                    .table("settlement_lines")
                    .col(id())
                    .col(ref_id("run_id"))
                    .col(ref_id_null("order_id"))
                    .col(ref_id("app_id"))
                    .col(ref_id("isv_org_id"))
                    // payment | reward | adjustment
                    .col(text("kind"))
                    .col(bigint("users_u"))
                    .col(bigint("ratings_n"))
                    .col(bigint("stars_sum"))
                    .col(text("r_num"))
                    .col(text("r_den"))
                    .col(text("q_num"))
                    .col(text("q_den"))
                    .col(text("w_num"))
                    .col(text("w_den"))
                    .col(text("sum_w_num"))
                    .col(text("sum_w_den"))
                    .col(fen("budget_fen"))
                    .col(fen("amount_fen"))
                    .col(int_null("rank"))
                    .col(text("explanation"))
                    .foreign_key(&mut fk_cascade(
                        "settlement_lines",
                        "run_id",
                        "settlement_runs",
                    ))
                    .foreign_key(&mut fk("settlement_lines", "order_id", "orders"))
                    .foreign_key(&mut fk("settlement_lines", "app_id", "apps"))
                    .foreign_key(&mut fk("settlement_lines", "isv_org_id", "organisations"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("payouts")
                    .col(id())
                    .col(ref_id("line_id"))
                    .col(ref_id("run_id"))
                    // ledger | stripe
                    .col(text("provider"))
                    // A domain::PayoutStatus name.
                    .col(text("status"))
                    .col(fen("amount_fen"))
                    // Destination account as it was when the payout was made.
                    .col(text_null("destination"))
                    // Derived from run and line: a resumed payout cannot pay twice.
                    .col(text("idempotency_key"))
                    .col(text_null("external_id"))
                    .col(int("attempts"))
                    .col(text_null("last_error"))
                    .col(instant("created_at"))
                    .col(instant("updated_at"))
                    .col(instant_null("sent_at"))
                    .col(instant_null("confirmed_at"))
                    .col(instant_null("failed_at"))
                    .foreign_key(&mut fk("payouts", "line_id", "settlement_lines"))
                    .foreign_key(&mut fk("payouts", "run_id", "settlement_runs"))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index("settlement_runs", &["period"]),
                index("settlement_lines", &["run_id"]),
                index("settlement_lines", &["app_id"]),
                unique("payouts", &["line_id"]),
                unique("payouts", &["idempotency_key"]),
                index("payouts", &["run_id", "status"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["payouts", "settlement_lines", "settlement_runs"]).await
    }
}
