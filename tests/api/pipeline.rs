//! The testing pipeline: upload, queue, run, report, publish; regression
//! runs; a crashed worker's job finished by another exactly once.

use std::time::Duration;

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service::pipeline::{WorkerConfig, run_one};

use crate::orders::{guest, open_si_order, put_raw, si_cases};

pub fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(guest(&format!("wasm/{name}.wasm"))).expect("example app")
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    order: i64,
    name: &str,
    module: Vec<u8>,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("name", name.to_owned())
        .text("release_notes", "首个版本")
        .part(
            "wasm",
            reqwest::multipart::Part::bytes(module).file_name("app.wasm"),
        );
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order}/apps")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn fast() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_millis(100),
        idle_poll: Duration::from_millis(50),
    }
}

/// Runs queued jobs in this task until none is left.
pub async fn drain(app: &TestApp) {
    while run_one(&app.state, "test-worker", &fast())
        .await
        .map_err(|e| e.into_anyhow())
        .expect("worker")
    {}
}

async fn version(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, v) = app
        .get_json(&format!("/api/v1/versions/{id}"), Some(token))
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test]
async fn an_upload_is_tested_reported_and_published_and_the_isv_sees_hidden_cases_by_verdict_only()
{
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;

    let (status, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["version"]["status"], "queued");
    assert_eq!(up["version"]["run"]["status"], "queued");
    let vid = up["version"]["id"].as_i64().expect("id");
    let app_id = up["app"]["id"].as_i64().expect("id");

    // A second upload while the run is in flight is refused.
    let (status, body) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "run_in_flight");

    drain(&app).await;
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["status"], "passed", "{v}");
    assert_eq!(v["test_score_bp"], 10_000);
    assert_eq!(v["run"]["done_cases"], 10);
    let cases = v["report"]["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 10);
    for c in cases {
        if c["visibility"] == "hidden" {
            assert!(
                c.get("input").is_none_or(Value::is_null),
                "hidden input leaked: {c}"
            );
            assert!(
                c.get("actual").is_none_or(Value::is_null),
                "hidden output leaked: {c}"
            );
        } else {
            assert!(c["input"].is_object(), "{c}");
        }
    }
    // The department sees everything.
    let full = version(&app, &dept, vid).await;
    let hidden = full["report"]["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["visibility"] == "hidden")
        .cloned()
        .expect("a hidden case");
    assert!(hidden["input"].is_object(), "{hidden}");

    // Another ISV may neither read the report nor touch the app.
    let rival = app.staff(Role::Isv, "rival@example.cn").await;
    let (status, _) = app
        .get_json(&format!("/api/v1/versions/{vid}"), Some(&rival))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/apps/{app_id}/withdraw"),
            &json!({}),
            Some(&rival),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&rival),
        )
        .await;
    assert_eq!(status, 403);

    let (status, p) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["status"], "published");

    // Version 2 supersedes version 1 once it passes and is published.
    let (status, up2) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up2}");
    assert_eq!(up2["app"]["id"], app_id);
    assert_eq!(up2["version"]["number"], 2);
    let v2 = up2["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/versions/{v2}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(version(&app, &isv, vid).await["status"], "superseded");
    assert_eq!(version(&app, &isv, v2).await["status"], "published");

    // Withdrawal takes the app off the market.
    let (status, a) = app
        .post_json(
            &format!("/api/v1/apps/{app_id}/withdraw"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "withdrawn");
    assert_eq!(version(&app, &isv, v2).await["status"], "withdrawn");
}

/// An idle worker polls the queue rarely; an upload to the same server
/// wakes it, so testing starts at once instead of at the next poll.
#[tokio::test]
async fn an_upload_wakes_an_idle_worker_at_once() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let sleepy = WorkerConfig {
        idle_poll: Duration::from_secs(600),
        ..fast()
    };
    let worker = tokio::spawn(service::pipeline::run_worker_forever(
        app.state.clone(),
        "sleepy-worker".into(),
        sleepy,
    ));
    // Long enough for its first poll to find the queue empty.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (status, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up}");
    let vid = up["version"]["id"].as_i64().expect("id");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = version(&app, &isv, vid).await;
        if v["status"] == "passed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the idle worker did not take the upload's run: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.abort();
}

#[tokio::test]
async fn a_buggy_app_fails_and_cannot_be_published() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "有缺陷的版本", wasm("si_lookup_buggy")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(v["test_score_bp"].as_i64().expect("score") < 10_000);
    let (status, body) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "version_not_passed");
}

#[tokio::test]
async fn a_module_with_a_forbidden_import_is_rejected_at_upload_naming_it() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let module = wat_module(
        r#"(module (import "env" "system" (func)) (memory (export "memory") 1)
            (func (export "_start")))"#,
    );
    // As a new app: refused outright (see vendor_apps.rs for "nothing stored").
    let (status, body) = upload(&app, &isv, order, "越权", module.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_module");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("env.system")),
        "{body}"
    );
    // As a version of an existing app: kept as `rejected`, with the reason.
    let (status, first) = upload(&app, &isv, order, "越权", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{first}");
    drain(&app).await;
    let (status, up) = upload(&app, &isv, order, "越权", module).await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["version"]["status"], "rejected");
    assert_eq!(up["version"]["number"], 2);
    let reason = up["version"]["status_reason"].as_str().expect("reason");
    assert!(reason.contains("env.system"), "{reason}");
    assert!(
        up["version"]["run"].is_null(),
        "no run for a rejected module"
    );
}

pub fn wat_module(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid WAT")
}

#[tokio::test]
async fn uploads_to_a_closed_order_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/orders/{order}/close"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = upload(&app, &isv, order, "迟到", wasm("si_lookup")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "order_not_open");
    let apps = store::entity::apps::Entity::find()
        .count(app.state.db.conn())
        .await
        .expect("count");
    let blobs = store::entity::module_blobs::Entity::find()
        .count(app.state.db.conn())
        .await
        .expect("count");
    assert_eq!((apps, blobs), (0, 0));
}

#[tokio::test]
async fn new_cases_on_an_open_order_retest_published_versions_and_delist_those_that_fail() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200);

    // Changing an existing case of an open order is refused.
    let mut changed = si_cases();
    changed[0]["weight"] = json!(5);
    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{order}/test-suite"),
        serde_json::to_vec(&json!({"cases": changed})).expect("json"),
        "application/json",
        &dept,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "suite_frozen");

    // A new hidden case the app cannot meet (it expects a wrong name).
    let mut cases = si_cases();
    let mut extra = cases[0].clone();
    extra["id"] = json!("hidden-regression-1");
    extra["visibility"] = json!("hidden");
    extra["expect"] = json!({"kind": "contains", "value": {"name": "不是这个人"}});
    cases.as_array_mut().expect("array").push(extra);
    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{order}/test-suite"),
        serde_json::to_vec(&json!({"cases": cases})).expect("json"),
        "application/json",
        &dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 1);
    assert_eq!(body["regression_runs"], 1);

    drain(&app).await;
    let v = version(&app, &isv, vid).await;
    assert_eq!(v["status"], "suspended", "{v}");
    assert!(
        v["status_reason"]
            .as_str()
            .is_some_and(|r| r.contains("regression")),
        "{v}"
    );
    assert_eq!(v["run"]["reason"], "regression");
    assert_eq!(v["run"]["total_cases"], 11);

    // The vendor is told, with a link to the report; nobody else is.
    let (status, inbox) = app.get_json("/api/v1/notifications", Some(&isv)).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(inbox["unread"], 1, "{inbox}");
    let notice = &inbox["items"][0];
    assert_eq!(notice["kind"], "version.delisted");
    assert_eq!(notice["link"], format!("/isv/versions/{vid}"));
    let other = app.staff(Role::Isv, "other-isv@example.cn").await;
    let (_, theirs) = app.get_json("/api/v1/notifications", Some(&other)).await;
    assert_eq!(
        theirs["items"].as_array().map(Vec::len),
        Some(0),
        "{theirs}"
    );
    let nid = notice["id"].as_i64().expect("id");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/notifications/{nid}/read"),
            &json!({}),
            Some(&other),
        )
        .await;
    assert_eq!(status, 404, "another vendor cannot touch it");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/notifications/{nid}/read"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 204);
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&isv)).await;
    assert_eq!(inbox["unread"], 0, "{inbox}");
    assert!(inbox["items"][0]["read_at"].is_string(), "{inbox}");
}

#[tokio::test]
async fn a_job_whose_worker_died_is_finished_by_another_worker_exactly_once() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    let run_id = up["version"]["run"]["id"].as_i64().expect("run id");

    // Worker A claims the job and dies (never heart-beats or completes).
    let job = store::jobs::claim(
        app.state.db.conn(),
        "worker-a",
        &[store::pipeline::TEST_RUN_JOB],
        Duration::from_millis(300),
    )
    .await
    .expect("claim")
    .expect("a job");
    // While A's lease holds, B finds nothing to do.
    assert!(
        !run_one(&app.state, "worker-b", &fast())
            .await
            .map_err(|e| e.into_anyhow())
            .expect("b")
    );
    tokio::time::sleep(Duration::from_millis(400)).await;

    // B claims it after the lease expires and finishes it.
    assert!(
        run_one(&app.state, "worker-b", &fast())
            .await
            .map_err(|e| e.into_anyhow())
            .expect("b")
    );
    let job = store::jobs::get(app.state.db.conn(), job.id)
        .await
        .expect("job")
        .expect("exists");
    assert_eq!(job.status, store::jobs::JobStatus::Done);
    assert_eq!(job.attempts, 2);
    // A coming back to life cannot complete it a second time.
    let late = store::jobs::complete(app.state.db.conn(), job.id, "worker-a").await;
    assert!(late.is_err(), "{late:?}");
    let results = store::entity::case_results::Entity::find()
        .filter(store::entity::case_results::Column::TestRunId.eq(run_id))
        .count(app.state.db.conn())
        .await
        .expect("count");
    assert_eq!(results, 10, "each case stored once");
    assert_eq!(version(&app, &isv, vid).await["status"], "passed");
}

#[tokio::test]
async fn the_progress_endpoint_reports_the_run_for_polling() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    let (status, p) = app
        .get_json(&format!("/api/v1/versions/{vid}/progress"), Some(&isv))
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["run"]["status"], "queued");
    assert_eq!(p["run"]["total_cases"], 10);
    // Workers spawned as `serve` spawns them pick it up.
    let handles = service::pipeline::spawn_workers(app.state.clone(), 2);
    let mut last = Value::Null;
    // Generous: the test suite runs many servers at once on two cores.
    for _ in 0..600 {
        let (_, p) = app
            .get_json(&format!("/api/v1/versions/{vid}/progress"), Some(&isv))
            .await;
        if p["run"]["status"] == "finished" {
            last = p;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for h in handles {
        h.abort();
    }
    assert_eq!(last["version_status"], "passed", "{last}");
    assert_eq!(last["run"]["done_cases"], 10);
    assert_eq!(last["run"]["accepted_cases"], 10);
}

#[tokio::test]
async fn the_web_pages_list_orders_and_refresh_a_version_page_until_its_report_is_ready() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;

    let html = app
        .client
        .get(app.url("/orders?q=社保"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("html");
    assert!(html.contains(&format!("/orders/{order}")), "{html}");
    let resp = app
        .client
        .get(app.url(&format!("/orders/{order}")))
        .send()
        .await
        .expect("detail");
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.expect("html");
    assert!(html.contains("starter-kit.zip") && html.contains("social_insurance"));

    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    let page = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/isv/versions/{vid}")))
                .bearer_auth(token)
                .send()
                .await
                .expect("page")
        }
    };
    let queued = page(isv.clone()).await;
    assert_eq!(queued.status().as_u16(), 200);
    assert_eq!(
        queued
            .headers()
            .get("refresh")
            .and_then(|v| v.to_str().ok()),
        Some("2"),
        "the page reloads itself while the run is in flight"
    );
    drain(&app).await;
    let done = page(isv.clone()).await;
    assert!(done.headers().get("refresh").is_none());
    let html = done.text().await.expect("html");
    assert!(
        html.contains("accepted") && html.contains("hidden"),
        "{html}"
    );
    assert!(
        html.contains(&format!("action=\"/isv/versions/{vid}\"")),
        "publish form"
    );

    let rival = app.staff(Role::Isv, "rival@example.cn").await;
    assert_eq!(page(rival).await.status().as_u16(), 403);
}
