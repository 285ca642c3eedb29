//! Four eyes: a run is approved, and its payout started, by a finance user
//! other than the one who drafted or last recomputed it; a one-person
//! office turns it off.

use domain::Role;
use e2e::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use super::{draft, market};

async fn post(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    app.post_json(path, &json!({}), Some(token)).await
}

async fn status_of(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, d) = app
        .get_json(&format!("/api/v1/settlements/{id}"), Some(token))
        .await;
    assert_eq!(s, 200, "{d}");
    d["run"]["status"].clone()
}

async fn approvals(app: &TestApp, id: i64) -> usize {
    store::audit::list(app.state.db.conn(), None, 200)
        .await
        .unwrap()
        .items
        .iter()
        .filter(|e| e.action == "settlement.approved" && e.object_id == Some(id))
        .count()
}

#[tokio::test]
async fn the_drafter_or_last_recomputer_may_neither_approve_nor_pay() {
    let app = spawn_app().await;
    market(&app).await;
    let alice = app.staff(Role::Finance, "alice@example.cn").await;
    let bob = app.staff(Role::Finance, "bob@example.cn").await;
    let (s, d) = draft(&app, &alice, json!({"period": "2026Q3"})).await;
    assert_eq!(s, 201, "{d}");
    let id = d["run"]["id"].as_i64().unwrap();

    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/approve"), &alice).await;
    assert_eq!(s, 403, "the drafter approving: {b}");
    assert_eq!(b["error"]["code"], "four_eyes", "{b}");
    assert_eq!(
        status_of(&app, &alice, id).await,
        "draft",
        "nothing written"
    );
    assert_eq!(approvals(&app, id).await, 0);

    // Bob recomputes it: now he is the one who may not approve it.
    let (s, d) = draft(&app, &bob, json!({"period": "2026Q3"})).await;
    assert!(s == 200 || s == 201, "{s} {d}");
    assert_eq!(d["run"]["id"].as_i64(), Some(id), "recomputed in place");
    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/approve"), &bob).await;
    assert_eq!(s, 403, "the last recomputer approving: {b}");
    assert_eq!(b["error"]["code"], "four_eyes");
    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/approve"), &alice).await;
    assert_eq!(s, 200, "another finance user approves: {b}");
    assert_eq!(approvals(&app, id).await, 1);

    // Bob last computed it, so he may not start its payout either.
    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/payout"), &bob).await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], "four_eyes");
    assert_eq!(
        status_of(&app, &alice, id).await,
        "approved",
        "nothing written"
    );
    let payouts = store::settlements::payouts_of_run(app.state.db.conn(), id)
        .await
        .unwrap();
    assert!(payouts.is_empty(), "no payout created: {payouts:?}");
    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/payout"), &alice).await;
    assert_eq!(s, 202, "{b}");
}

#[tokio::test]
async fn a_one_person_office_turns_four_eyes_off() {
    let app = spawn_app_with(|c| c.four_eyes = false).await;
    market(&app).await;
    let alone = app.staff(Role::Finance, "alone@example.cn").await;
    let (_, d) = draft(&app, &alone, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, b) = post(&app, &format!("/api/v1/settlements/{id}/approve"), &alone).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "approved");
}
