//! Regression holes: a grown suite or a replaced dataset re-tests passed
//! and published versions, a version publishes only once it has passed the
//! current suite, the threshold is exact in basis points, and deadlines are
//! kept at create, update and upload.

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::orders::{
    draft_si_order, guest, open_si_order, order_body, patch_json, put_raw, si_cases,
};
use crate::pipeline::{drain, upload, wasm};

async fn version(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, v) = app
        .get_json(&format!("/api/v1/versions/{id}"), Some(token))
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn publish(app: &TestApp, token: &str, vid: i64) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/versions/{vid}/publish"),
        &json!({}),
        Some(token),
    )
    .await
}

/// The guest suite plus a hidden case the example app cannot meet.
fn cases_with_a_failing_hidden_case() -> Value {
    let mut cases = si_cases();
    let mut extra = cases[0].clone();
    extra["id"] = json!("hidden-regression-1");
    extra["visibility"] = json!("hidden");
    extra["expect"] = json!({"kind": "contains", "value": {"name": "不是这个人"}});
    cases.as_array_mut().expect("array").push(extra);
    cases
}

async fn put_suite(app: &TestApp, dept: &str, order: i64, cases: &Value) -> (u16, Value) {
    put_raw(
        app,
        &format!("/api/v1/orders/{order}/test-suite"),
        serde_json::to_vec(&json!({"cases": cases})).expect("json"),
        "application/json",
        dept,
    )
    .await
}

async fn runs_of(app: &TestApp, vid: i64) -> u64 {
    store::entity::test_runs::Entity::find()
        .filter(store::entity::test_runs::Column::VersionId.eq(vid))
        .count(app.db.db().conn())
        .await
        .expect("count")
}

#[tokio::test]
async fn a_passed_version_faces_new_cases_and_cannot_be_published_before_its_regression_run() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (status, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up}");
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    assert_eq!(version(&app, &isv, vid).await["status"], "passed");

    // The suite grows while the version is passed but not yet published.
    let (status, body) = put_suite(&app, &dept, order, &cases_with_a_failing_hidden_case()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["regression_runs"], 1,
        "the passed version is re-tested"
    );

    // Until the regression run has passed, it cannot be published.
    let (status, body) = publish(&app, &isv, vid).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "suite_not_passed");
    assert_eq!(version(&app, &isv, vid).await["status"], "passed");

    drain(&app).await;
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["status"], "failed", "it fails the grown suite: {v}");
    assert_eq!(v["run"]["reason"], "regression");
    assert_eq!(v["run"]["total_cases"], 11);
    let (status, body) = publish(&app, &isv, vid).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "version_not_passed");
}

#[tokio::test]
async fn a_replaced_dataset_retests_passed_versions_which_publish_once_they_pass_again() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    assert_eq!(runs_of(&app, vid).await, 1);

    let data = std::fs::read(guest(
        "suites/social-insurance/datasets/social_insurance.json",
    ))
    .expect("dataset");
    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{order}/datasets/social_insurance?sample=true"),
        data,
        "application/json",
        &dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(runs_of(&app, vid).await, 2, "a regression run is queued");
    let (status, body) = publish(&app, &isv, vid).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "suite_not_passed");

    drain(&app).await;
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["status"], "passed", "{v}");
    assert_eq!(v["run"]["reason"], "regression");
    let (status, body) = publish(&app, &isv, vid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "published");
}

#[tokio::test]
async fn a_version_still_queued_when_the_suite_grows_is_tested_against_the_new_suite() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");

    let (status, body) = put_suite(&app, &dept, order, &cases_with_a_failing_hidden_case()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["regression_runs"], 0,
        "its run in flight covers it: no second run"
    );
    drain(&app).await;
    assert_eq!(runs_of(&app, vid).await, 1);
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["run"]["total_cases"], 11, "{v}");
    assert_eq!(v["status"], "failed", "{v}");
}

/// An order whose hidden cases weigh 200, of which the example app meets
/// 199 (99.5%), at `threshold_bp`.
async fn order_at_99_5_percent(app: &TestApp, dept: &str, threshold_bp: i32) -> i64 {
    let order = draft_si_order(app, dept).await;
    let (status, body) = patch_json(
        app,
        &format!("/api/v1/orders/{order}"),
        &json!({"pass_threshold_bp": threshold_bp}),
        dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut cases = cases_with_a_failing_hidden_case();
    for c in cases.as_array_mut().expect("array") {
        if c["id"] == "hidden-year-gap" {
            // 194 + the five other hidden cases of weight 1 = 199 met.
            c["weight"] = json!(194);
        }
    }
    let (status, body) = put_suite(app, dept, order, &cases).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{order}/publish"),
            &json!({}),
            Some(dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    order
}

#[tokio::test]
async fn the_threshold_is_kept_exactly_in_basis_points() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let at = order_at_99_5_percent(&app, &dept, 9_950).await;
    let above = order_at_99_5_percent(&app, &dept, 9_951).await;
    let (_, a) = upload(&app, &isv, at, "社保查询", wasm("si_lookup")).await;
    let (_, b) = upload(&app, &isv, above, "社保查询", wasm("si_lookup")).await;
    drain(&app).await;
    let a = version(&app, &isv, a["version"]["id"].as_i64().expect("id")).await;
    let b = version(&app, &isv, b["version"]["id"].as_i64().expect("id")).await;
    assert_eq!(a["status"], "passed", "99.5% meets 99.50%: {a}");
    assert_eq!(b["status"], "failed", "99.5% misses 99.51%: {b}");
}

#[tokio::test]
async fn a_past_deadline_is_refused_and_uploads_after_the_deadline_are_refused() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();

    let mut body = order_body("过期的订单");
    body["deadline"] = json!(past);
    let before = store::entity::orders::Entity::find()
        .count(app.db.db().conn())
        .await
        .expect("count");
    let (status, resp) = app.post_json("/api/v1/orders", &body, Some(&dept)).await;
    assert_eq!(status, 422, "{resp}");
    assert_eq!(resp["error"]["field"], "deadline", "{resp}");
    let after = store::entity::orders::Entity::find()
        .count(app.db.db().conn())
        .await
        .expect("count");
    assert_eq!(before, after, "nothing written");

    let order = draft_si_order(&app, &dept).await;
    let (status, resp) = patch_json(
        &app,
        &format!("/api/v1/orders/{order}"),
        &json!({"deadline": past}),
        &dept,
    )
    .await;
    assert_eq!(status, 422, "{resp}");
    assert_eq!(resp["error"]["field"], "deadline", "{resp}");
    let future = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (status, resp) = patch_json(
        &app,
        &format!("/api/v1/orders/{order}"),
        &json!({"deadline": future}),
        &dept,
    )
    .await;
    assert_eq!(status, 200, "a future deadline is fine: {resp}");
    let (status, resp) = app
        .post_json(
            &format!("/api/v1/orders/{order}/publish"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{resp}");

    // Time passes: the deadline is behind the open order.
    let model = store::orders::get(app.db.db().conn(), order)
        .await
        .expect("get")
        .expect("order");
    let mut active: store::entity::orders::ActiveModel = model.into();
    active.deadline = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
    active.update(app.db.db().conn()).await.expect("update");

    let (status, resp) = upload(&app, &isv, order, "迟到的应用", wasm("si_lookup")).await;
    assert_eq!(status, 409, "{resp}");
    assert_eq!(resp["error"]["code"], "deadline_passed", "{resp}");
    assert!(
        resp["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("截止") && m.contains("deadline")),
        "{resp}"
    );
    let apps = store::entity::apps::Entity::find()
        .count(app.db.db().conn())
        .await
        .expect("count");
    assert_eq!(apps, 0, "nothing written");
}
