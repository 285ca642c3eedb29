//! Paying an approved run: held lines, interrupted transfers, refused
//! transfers and retries; the ISV's statements and payout account.

use super::*;

/// Pays through the ledger: the ISV without a payout account is held with
/// the reason, the rest are confirmed; once it records an account and
/// finance retries, the run is paid.
#[tokio::test]
async fn an_isv_without_a_payout_account_is_held_and_the_rest_are_paid() {
    let app = spawn_app().await;
    let m = market(&app).await;
    store::orgs::set_payout_account(app.state.db.conn(), m.isv_orgs[0], Some("acct_isv1".into()))
        .await
        .unwrap();
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&approver),
    )
    .await;
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/payout"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let detail = wait_for(&app, &finance, id, |d| {
        d["payouts"].as_array().is_some_and(|ps| {
            ps.iter()
                .all(|p| p["status"] != "pending" && p["status"] != "sent")
        })
    })
    .await;
    assert_eq!(detail["run"]["status"], "paying");
    let payouts = detail["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 3);
    let held: Vec<&Value> = payouts.iter().filter(|p| p["status"] == "held").collect();
    assert_eq!(held.len(), 1, "{detail}");
    assert!(
        held[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("payout account")
    );
    assert_eq!(
        payouts
            .iter()
            .filter(|p| p["status"] == "confirmed")
            .count(),
        2
    );
    assert!(payouts.iter().all(|p| p["provider"] == "ledger"));

    // Retrying before the ISV has an account changes nothing.
    let held_id = held[0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post_json(
            &format!("/api/v1/payouts/{held_id}/retry"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 409);
    store::orgs::set_payout_account(app.state.db.conn(), m.isv_orgs[1], Some("acct_isv2".into()))
        .await
        .unwrap();
    let (s, b) = app
        .post_json(
            &format!("/api/v1/payouts/{held_id}/retry"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let detail = wait_for(&app, &finance, id, |d| d["run"]["status"] == "paid").await;
    assert!(detail["run"]["paid_at"].is_string());

    // The treasury's CSV lists every instruction.
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/settlements/{id}/payouts.csv")))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("acct_isv2"));
}

pub(super) async fn wait_for(
    app: &TestApp,
    token: &str,
    id: i64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        let (_, d) = app
            .get_json(&format!("/api/v1/settlements/{id}"), Some(token))
            .await;
        if done(&d) {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not reach the expected state");
}

#[tokio::test]
async fn an_isv_sees_only_its_own_statements_and_records_its_payout_account() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    // Put the test ISV user in the first ISV organisation.
    use sea_orm::{ColumnTrait, QueryFilter};
    users::Entity::update_many()
        .col_expr(
            users::Column::OrgId,
            sea_orm::sea_query::Expr::value(m.isv_orgs[0]),
        )
        .filter(users::Column::Email.eq("isv@example.cn"))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (_, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(s["items"], json!([]), "drafts are not statements yet");
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&approver),
    )
    .await;
    let (status, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(status, 200, "{s}");
    let lines = s["items"][0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "apps A and C, not B: {s}");
    assert!(lines.iter().all(|l| l["isv_org_id"] == m.isv_orgs[0]));

    let put = |body: Value| {
        let req = app
            .client
            .put(app.url("/api/v1/me/payout-account"))
            .bearer_auth(&isv)
            .json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(json!({"account": "not-an-account"})).await, 422);
    assert_eq!(put(json!({"account": "acct_1ABCdef"})).await, 200);
    let (_, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(s["payout_account"], "acct_1ABCdef");
}

/// Crash safety against the fake Stripe: the transfer of the second line is
/// made but its answer never arrives; the worker is killed there and
/// started again. Every line is paid exactly once.
#[tokio::test]
async fn a_payout_killed_mid_transfer_resumes_and_pays_every_line_exactly_once() {
    use payouts::fake::{FakeStripe, Injected};
    let app = spawn_app().await;
    let m = market(&app).await;
    for (i, org) in m.isv_orgs.iter().enumerate() {
        store::orgs::set_payout_account(app.state.db.conn(), *org, Some(format!("acct_isv{i}")))
            .await
            .unwrap();
    }
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let (_, d) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"reward_pool_fen": 300}}),
    )
    .await;
    let id = d["run"]["id"].as_i64().unwrap();
    let paid_lines = d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["amount_fen"].as_i64().unwrap() > 0)
        .count();
    assert!(paid_lines >= 4, "{d}");
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&approver),
    )
    .await;
    let actor = service::Actor::system();
    let by = service::settlement::audited_by(&actor);
    store::settlements::start_payout(&app.state.db, id, "stripe", &by, true)
        .await
        .unwrap();

    let fake = FakeStripe::start("sk_test_crash").await.unwrap();
    fake.inject(2, Injected::Stall);
    let config = payouts::StripeConfig {
        secret_key: "sk_test_crash".into(),
        base_url: fake.base_url(),
        timeout: std::time::Duration::from_secs(60),
    };
    let db = app.state.db.clone();
    let provider = payouts::StripeConnect::new(&config).unwrap();
    let worker = tokio::spawn({
        let db = db.clone();
        let actor = actor.clone();
        async move { service::settlement::pay_run(&db, &provider, id, &actor, |_, _| {}).await }
    });
    for _ in 0..200 {
        if fake.transfers().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.transfers().len(),
        2,
        "the second transfer is made, its answer stalls"
    );
    // The process dies here.
    worker.abort();
    let _ = worker.await;
    let states: Vec<String> = store::settlements::payouts_of_run(db.conn(), id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.status)
        .collect();
    assert_eq!(states[0], "confirmed");
    assert_eq!(states[1], "sent", "sent was committed before the call");

    // Restart.
    let provider = payouts::StripeConnect::new(&config).unwrap();
    let report = service::settlement::pay_run(&db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.confirmed, paid_lines);
    let transfers = fake.transfers();
    assert_eq!(transfers.len(), paid_lines, "exactly one transfer per line");
    let mut lines: Vec<String> = transfers
        .iter()
        .map(|t| t.metadata["line_id"].clone())
        .collect();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), paid_lines);
    assert!(
        transfers
            .iter()
            .all(|t| t.transfer_group.as_deref() == Some("2026Q3"))
    );
    let run = store::settlements::find_run(db.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "paid");
    let total: i64 = transfers.iter().map(|t| t.amount).sum();
    assert_eq!(total, run.paid_total_fen);
}

/// A refused transfer fails its line; finance retries it with a new key.
#[tokio::test]
async fn a_refused_transfer_fails_and_a_retry_pays_it_under_a_new_key() {
    use payouts::fake::{FakeStripe, Injected};
    let app = spawn_app().await;
    let m = market(&app).await;
    for org in &m.isv_orgs {
        store::orgs::set_payout_account(app.state.db.conn(), *org, Some("acct_x".into()))
            .await
            .unwrap();
    }
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&approver),
    )
    .await;
    let actor = service::Actor::system();
    let by = service::settlement::audited_by(&actor);
    store::settlements::start_payout(&app.state.db, id, "stripe", &by, true)
        .await
        .unwrap();
    let fake = FakeStripe::start("sk_test_x").await.unwrap();
    fake.inject(1, Injected::Decline);
    let provider = payouts::StripeConnect::new(&payouts::StripeConfig {
        secret_key: "sk_test_x".into(),
        base_url: fake.base_url(),
        timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    let db = &app.state.db;
    let report = service::settlement::pay_run(db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.failed, report.confirmed), (1, 2));
    let failed = store::settlements::payouts_of_run(db.conn(), id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.status == "failed")
        .unwrap();
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("insufficient")
    );
    let retried = store::settlements::retry_payout(db, failed.id, &by)
        .await
        .unwrap();
    assert_ne!(retried.idempotency_key, failed.idempotency_key);
    service::settlement::pay_run(db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!(fake.transfers().len(), 3);
    let run = store::settlements::find_run(db.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "paid");
}

// ------------------------------------------------------------ corrections
