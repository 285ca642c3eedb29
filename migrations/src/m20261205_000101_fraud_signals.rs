//! Fraud signals and invalid usage.
//!
//! - `fraud_signals`: what the detector found (a kind, the app, its
//!   evidence in numbers, a window) and the supervisor's decision. One
//!   signal per kind, app and window (`uq_…`), so re-running the detector
//!   over a window adds nothing.
//! - `fraud_signal_subjects`: the citizens a signal covers; confirming it
//!   flags exactly their invocations of the app inside the window.
//! - `invocations.invalid_signal_id`: which confirmed signal made a use
//!   invalid (`NULL` for uses never flagged, and for rows older than this).
//! - `client_addresses`: a keyed hash (HMAC) of the address each account
//!   registered or signed in from, never the address itself.
//! - `fraud_detector_windows`: one row per detector window; the node that
//!   inserts it queues the run, so with several nodes a window runs once.

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
                    .table("fraud_signals")
                    .col(id())
                    // heavy_citizen | rating_burst | single_use_raters |
                    // shared_address | new_account_cluster
                    .col(text("kind"))
                    .col(ref_id("app_id"))
                    // {observed, norm, threshold, counts: {…}}
                    .col(json("evidence"))
                    .col(instant("window_start"))
                    .col(instant("window_end"))
                    // open | dismissed | confirmed
                    .col(text("status"))
                    .col(instant("created_at"))
                    .col(ref_id_null("decided_by"))
                    .col(instant_null("decided_at"))
                    .col(text_null("reason"))
                    // Invocations flagged invalid when it was confirmed.
                    .col(bigint_null("flagged_uses"))
                    .foreign_key(&mut fk_cascade("fraud_signals", "app_id", "apps"))
                    .foreign_key(&mut fk("fraud_signals", "decided_by", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("fraud_signal_subjects")
                    .col(id())
                    .col(ref_id("signal_id"))
                    .col(ref_id("citizen_id"))
                    // The citizen's successful uses of the app in the window.
                    .col(bigint("uses"))
                    .foreign_key(&mut fk_cascade(
                        "fraud_signal_subjects",
                        "signal_id",
                        "fraud_signals",
                    ))
                    .foreign_key(&mut fk("fraud_signal_subjects", "citizen_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("client_addresses")
                    .col(id())
                    .col(ref_id("user_id"))
                    // Hex HMAC-SHA256 of the address under the platform's
                    // client-address key.
                    .col(text("address_hash"))
                    .col(instant("first_seen_at"))
                    .foreign_key(&mut fk_cascade("client_addresses", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("fraud_detector_windows")
                    .col(id())
                    // `<start>/<end>` in RFC 3339: the one unique column a
                    // claim conflicts on.
                    .col(text("window_key"))
                    .col(instant("window_start"))
                    .col(instant("window_end"))
                    .col(instant("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("invocations")
                    .add_column(bigint_null("invalid_signal_id"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                unique(
                    "fraud_signals",
                    &["kind", "app_id", "window_start", "window_end"],
                ),
                index("fraud_signals", &["status", "created_at"]),
                unique("fraud_signal_subjects", &["signal_id", "citizen_id"]),
                unique("client_addresses", &["user_id", "address_hash"]),
                index("client_addresses", &["address_hash"]),
                unique("fraud_detector_windows", &["window_key"]),
            ],
        )
        .await?;
        // What a settlement's statement lines say was excluded: invalid
        // uses are few, so a partial index keeps that count from reading
        // every invocation of the period (measured in `bench settle`: 24 s
        // of 10M events without it), and costs the usage writer nothing.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_invocations_invalid ON invocations \
                 (period, app_id, invalid_signal_id) WHERE invalid",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_invocations_invalid")
                    .table("invocations")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("invocations")
                    .drop_column("invalid_signal_id")
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            &[
                "fraud_detector_windows",
                "client_addresses",
                "fraud_signal_subjects",
                "fraud_signals",
            ],
        )
        .await
    }
}
