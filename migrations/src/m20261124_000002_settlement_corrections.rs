//! Corrections to approved settlements (DESIGN.md: "`approved` is
//! immutable; corrections are adjustment lines in a later period").
//!
//! - `settlement_corrections`: finance's correction of one line of an
//!   approved run (amount in fen, may be negative, and the reason), or a
//!   negative net carried forward by the payout. `applied_run_id` is the
//!   later run whose draft took it in as an adjustment line; `NULL` while
//!   it waits for the next draft.
//! - `settlement_lines` gains the correction it carries and the original
//!   run and line, so an adjustment line explains itself in the CSV.
//! - `payouts.offset_fen`: what was kept back from a line's payout to
//!   offset the same ISV's negative adjustment lines of the run.

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
                    .table("settlement_corrections")
                    .col(id())
                    // The approved run and its line being corrected.
                    .col(ref_id("run_id"))
                    .col(ref_id("line_id"))
                    .col(ref_id_null("order_id"))
                    .col(ref_id("app_id"))
                    .col(ref_id("isv_org_id"))
                    .col(fen("amount_fen"))
                    .col(text("reason"))
                    // correction | carry_forward
                    .col(text("kind"))
                    .col(ref_id_null("created_by"))
                    .col(instant("created_at"))
                    .col(ref_id_null("applied_run_id"))
                    .foreign_key(&mut fk(
                        "settlement_corrections",
                        "run_id",
                        "settlement_runs",
                    ))
                    .foreign_key(&mut fk(
                        "settlement_corrections",
                        "line_id",
                        "settlement_lines",
                    ))
                    .foreign_key(&mut fk("settlement_corrections", "created_by", "users"))
                    .foreign_key(&mut fk(
                        "settlement_corrections",
                        "applied_run_id",
                        "settlement_runs",
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("settlement_corrections", &["run_id"]),
                index("settlement_corrections", &["line_id"]),
                index("settlement_corrections", &["applied_run_id"]),
            ],
        )
        .await?;
        // One column per ALTER: SQLite accepts nothing else.
        for column in [
            bigint_null("correction_id"),
            bigint_null("adjusts_run_id"),
            bigint_null("adjusts_line_id"),
            text_null("reason"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("settlement_lines")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("payouts")
                    .add_column(
                        ColumnDef::new("offset_fen")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("payouts")
                    .drop_column("offset_fen")
                    .to_owned(),
            )
            .await?;
        for column in [
            "reason",
            "adjusts_line_id",
            "adjusts_run_id",
            "correction_id",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("settlement_lines")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        drop_tables(manager, &["settlement_corrections"]).await
    }
}
