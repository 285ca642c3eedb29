//! `govmarket settle`: draft, approve and pay a quarter, with four eyes.

use crate::{govmarket, text};

/// The period's runs `(id, status)`, every payout `(status, amount)`, and
/// the sum of the positive statement lines.
type SettlementState = (Vec<(i64, String)>, Vec<(String, i64)>, i64);

/// Reads the demo database the binary wrote, as finance would audit it.
fn settlement_state(data_dir: &std::path::Path) -> SettlementState {
    use sea_orm::{ConnectionTrait, Statement};
    let url = format!(
        "sqlite://{}?mode=ro",
        data_dir.join("govmarket.db").display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = store::connect(&url).await.unwrap();
        let q = |sql: &str| Statement::from_string(db.conn().get_database_backend(), sql.to_owned());
        let runs = db
            .conn()
            .query_all_raw(q("SELECT id, status FROM settlement_runs WHERE period = '2026Q3'"))
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "status").unwrap()))
            .collect();
        let payouts = db
            .conn()
            .query_all_raw(q("SELECT status, amount_fen FROM payouts ORDER BY id"))
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("", "status").unwrap(), r.try_get("", "amount_fen").unwrap()))
            .collect();
        let paid_lines: i64 = db
            .conn()
            .query_one_raw(q(
                "SELECT COALESCE(SUM(amount_fen), 0) AS s FROM settlement_lines WHERE amount_fen > 0",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "s")
            .unwrap();
        db.close().await.unwrap();
        (runs, payouts, paid_lines)
    })
}

#[test]
fn settle_drafts_approves_and_pays_the_demo_quarter_and_refuses_bad_periods() {
    let dir = tempfile::tempdir().unwrap();
    let out = govmarket(dir.path(), &["demo", "seed"]);
    assert!(out.status.success(), "{}", text(&out));

    // bad input first: nothing may be written for it
    let out = govmarket(dir.path(), &["settle", "--period", "2026Q5"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--period"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    let out = govmarket(dir.path(), &["settle", "--period", "2099Q1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("has not ended"), "{}", text(&out));
    assert!(settlement_state(dir.path()).0.is_empty());

    let out = govmarket(dir.path(), &["settle", "--period", "2026Q3"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("draft run"), "{}", text(&out));
    let (runs, payouts, _) = settlement_state(dir.path());
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1, "draft");
    assert!(payouts.is_empty());

    // paying a draft is refused and changes nothing
    let out = govmarket(dir.path(), &["settle", "--period", "2026Q3", "--payout"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("approve it first"), "{}", text(&out));
    assert_eq!(settlement_state(dir.path()).0[0].1, "draft");

    // Four eyes: the drafter may not approve its own draft, nor change it.
    let out = govmarket(dir.path(), &["settle", "--period", "2026Q3", "--approve"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("four_eyes"), "{}", text(&out));
    assert_eq!(settlement_state(dir.path()).0[0].1, "draft");

    let out = govmarket(
        dir.path(),
        &[
            "settle",
            "--period",
            "2026Q3",
            "--approve",
            "--by",
            "finance2@demo.local",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("approved run") && text(&out).contains("finance2@demo.local"),
        "{}",
        text(&out)
    );
    assert_eq!(settlement_state(dir.path()).0[0].1, "approved");

    let out = govmarket(
        dir.path(),
        &[
            "settle",
            "--period",
            "2026Q3",
            "--payout",
            "--by",
            "finance2@demo.local",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let (runs, payouts, paid_lines) = settlement_state(dir.path());
    assert_eq!(runs[0].1, "paid", "{}", text(&out));
    assert!(!payouts.is_empty());
    assert!(payouts.iter().all(|(s, _)| s == "confirmed"), "{payouts:?}");
    assert!(
        text(&out).contains(&format!("{} confirmed, 0 failed", payouts.len())),
        "{}",
        text(&out)
    );
    // every fen of the statement paid, once
    assert_eq!(payouts.iter().map(|(_, a)| a).sum::<i64>(), paid_lines);

    // again: nothing is paid twice
    let out = govmarket(dir.path(), &["settle", "--period", "2026Q3", "--payout"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already paid"), "{}", text(&out));
    assert_eq!(settlement_state(dir.path()).1, payouts);
}
