//! Departments' orders: drafts, contracts, datasets, suites, publication and
//! the clarification Q&A; with the bad input each step must refuse.

use domain::Role;
use e2e::{TestApp, spawn_app};
use serde_json::{Value, json};

pub fn guest(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sandbox/guest")
        .join(path)
}

pub fn read_json(path: &str) -> Value {
    let bytes = std::fs::read(guest(path)).expect("guest kit file");
    serde_json::from_slice(&bytes).expect("guest kit JSON")
}

/// The guest kit's social-insurance contract, as an order's contract.
pub fn si_contract() -> Value {
    let mut c = read_json("suites/social-insurance/contract.json");
    c.as_object_mut()
        .expect("object")
        .remove("threshold_percent");
    c
}

pub fn si_cases() -> Value {
    read_json("suites/social-insurance/cases.json")
}

pub fn order_body(title: &str) -> Value {
    json!({
        "title": title,
        "description": "查询本人近期社保缴费记录",
        "category": "社会保障",
        "tags": ["社保"],
        "budget_fen": 1_000_000,
        "contract": si_contract(),
    })
}

pub async fn put_raw(
    app: &TestApp,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
    token: &str,
) -> (u16, Value) {
    let resp = app
        .client
        .put(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn patch_json(app: &TestApp, path: &str, body: &Value, token: &str) -> (u16, Value) {
    let resp = app
        .client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A draft order with the guest kit's dataset (downloadable) and suite.
pub async fn draft_si_order(app: &TestApp, dept: &str) -> i64 {
    let (status, body) = app
        .post_json(
            "/api/v1/orders",
            &order_body("社保缴费记录查询"),
            Some(dept),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");
    let data = std::fs::read(guest(
        "suites/social-insurance/datasets/social_insurance.json",
    ))
    .expect("dataset");
    let (status, body) = put_raw(
        app,
        &format!("/api/v1/orders/{id}/datasets/social_insurance?sample=true"),
        data,
        "application/json",
        dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = put_raw(
        app,
        &format!("/api/v1/orders/{id}/test-suite"),
        serde_json::to_vec(&json!({"cases": si_cases()})).expect("json"),
        "application/json",
        dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// An open order ready for uploads.
pub async fn open_si_order(app: &TestApp, dept: &str) -> i64 {
    let id = draft_si_order(app, dept).await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "open");
    id
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
}

#[tokio::test]
async fn a_department_drafts_fills_and_publishes_an_order_that_anyone_can_then_find() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let id = draft_si_order(&app, &dept).await;

    // A draft is the department's alone.
    let (status, _) = app.get_json(&format!("/api/v1/orders/{id}"), None).await;
    assert_eq!(status, 404);
    let (status, list) = app.get_json("/api/v1/orders", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");

    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["budget_fen"], 1_000_000);
    assert_eq!(body["datasets"][0]["name"], "social_insurance");
    assert_eq!(body["datasets"][0]["record_count"], 6);
    assert_eq!(body["sample_cases"], 4);
    assert_eq!(body["hidden_cases"], 6);

    let (status, list) = app
        .get_json("/api/v1/orders?status=open&q=社保", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], id, "{list}");
    let (_, none) = app.get_json("/api/v1/orders?q=不动产", None).await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");

    // Every state change was audited.
    let sup = app.staff(Role::Supervisor, "sup@example.cn").await;
    let (_, audit) = app.get_json("/api/v1/audit?limit=50", Some(&sup)).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "order.create",
        "dataset.put",
        "test_suite.put",
        "order.publish",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

#[tokio::test]
async fn a_drafts_deadline_is_kept_when_absent_from_a_patch_and_cleared_by_null() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dl@example.cn").await;
    let id = draft_si_order(&app, &dept).await;
    let path = format!("/api/v1/orders/{id}");
    let (status, body) = patch_json(
        &app,
        &path,
        &json!({"deadline": "2099-06-30T16:00:00Z"}),
        &dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deadline"], "2099-06-30T16:00:00Z");
    let (status, body) = patch_json(
        &app,
        &path,
        &json!({"title": "社保缴费记录查询（新版）"}),
        &dept,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["deadline"], "2099-06-30T16:00:00Z",
        "absent: unchanged"
    );
    let (status, body) = patch_json(&app, &path, &json!({"deadline": null}), &dept).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deadline"], Value::Null, "null: cleared");
    assert_eq!(body["title"], "社保缴费记录查询（新版）");
}

#[tokio::test]
async fn an_invalid_json_schema_is_refused_and_no_order_is_written() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let mut body = order_body("坏合同");
    body["contract"]["input_schema"] = json!({"type": "no-such-type"});
    let (status, resp) = app.post_json("/api/v1/orders", &body, Some(&dept)).await;
    assert_error(status, &resp, 422, "validation_failed");
    assert_eq!(resp["error"]["field"], "contract.input_schema");

    let mut over = order_body("超限");
    over["contract"]["limits"] = json!({"memory_bytes": 1u64 << 40});
    let (status, resp) = app.post_json("/api/v1/orders", &over, Some(&dept)).await;
    assert_error(status, &resp, 422, "validation_failed");
    assert_eq!(resp["error"]["field"], "contract.limits");

    let (_, list) = app
        .get_json("/api/v1/orders?status=draft", Some(&dept))
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn a_dataset_that_is_not_json_or_too_big_is_refused_and_the_old_one_stays() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let id = draft_si_order(&app, &dept).await;
    let path = format!("/api/v1/orders/{id}/datasets/social_insurance");

    let (status, body) = put_raw(
        &app,
        &path,
        b"not json at all".to_vec(),
        "application/json",
        &dept,
    )
    .await;
    assert_error(status, &body, 400, "malformed_dataset");

    let huge = format!("{{\"k\": \"{}\"}}", "x".repeat(9 << 20)).into_bytes();
    let (status, body) = put_raw(&app, &path, huge, "application/json", &dept).await;
    assert_error(status, &body, 413, "payload_too_large");

    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{id}/datasets/not_granted"),
        b"{\"a\": 1}".to_vec(),
        "application/json",
        &dept,
    )
    .await;
    assert_error(status, &body, 422, "dataset_not_granted");

    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&dept))
        .await;
    assert_eq!(
        order["datasets"].as_array().map(Vec::len),
        Some(1),
        "{order}"
    );
    assert_eq!(order["datasets"][0]["version"], 1);
    assert_eq!(order["datasets"][0]["record_count"], 6);

    // JSON Lines replace it and bump the version.
    let lines =
        "{\"key\": \"a\", \"record\": {\"x\": 1}}\n{\"key\": \"b\", \"record\": {\"x\": 2}}\n";
    let (status, body) = put_raw(&app, &path, lines.into(), "application/x-ndjson", &dept).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["record_count"], 2);
}

#[tokio::test]
async fn a_case_whose_input_violates_the_input_schema_is_refused_when_authored() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let id = draft_si_order(&app, &dept).await;
    let mut cases = si_cases();
    cases[3]["input"] = json!({"months": "twelve"});
    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{id}/test-suite"),
        serde_json::to_vec(&json!({"cases": cases})).expect("json"),
        "application/json",
        &dept,
    )
    .await;
    assert_error(status, &body, 422, "validation_failed");
    assert_eq!(body["error"]["field"], "cases[3].input");
    // The earlier suite is intact.
    let (_, suite) = app
        .get_json(&format!("/api/v1/orders/{id}/test-suite"), Some(&dept))
        .await;
    assert_eq!(suite["cases"].as_array().map(Vec::len), Some(10), "{suite}");
}

#[tokio::test]
async fn the_contract_of_an_open_order_is_frozen() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let id = open_si_order(&app, &dept).await;
    let mut contract = si_contract();
    contract["limits"] = json!({"queries": 8});
    let (status, body) = patch_json(
        &app,
        &format!("/api/v1/orders/{id}"),
        &json!({"contract": contract}),
        &dept,
    )
    .await;
    assert_error(status, &body, 409, "order_not_draft");
    let (_, order) = app.get_json(&format!("/api/v1/orders/{id}"), None).await;
    assert_eq!(order["contract"]["limits"]["queries"], 4, "{order}");

    // Nor may another department touch it at all.
    let other = app.staff(Role::Department, "other@example.cn").await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/close"),
            &json!({}),
            Some(&other),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
}

#[tokio::test]
async fn isvs_see_sample_cases_only_and_the_starter_kit_holds_no_hidden_case() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let id = open_si_order(&app, &dept).await;

    let (status, suite) = app
        .get_json(&format!("/api/v1/orders/{id}/test-suite"), Some(&isv))
        .await;
    assert_eq!(status, 200);
    let cases = suite["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    assert!(cases.iter().all(|c| c["visibility"] == "sample"), "{suite}");
    assert_eq!(suite["hidden_cases"], 6);

    let resp = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/starter-kit.zip")))
        .bearer_auth(&isv)
        .send()
        .await
        .expect("kit");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("bytes");
    let dir = tempfile::tempdir().expect("dir");
    zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .expect("a zip")
        .extract(dir.path())
        .expect("unzips");
    // Beside the sample cases, kit.json says what the platform also runs:
    // the hidden cases and the share of them that must pass.
    let kit: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("kit.json")).expect("kit.json at the suite's root"),
    )
    .expect("kit.json is JSON");
    assert_eq!(
        kit,
        json!({"order_id": id, "hidden_cases": 6, "threshold_percent": 100}),
        "{kit}"
    );
    // Self-contained: a vendor builds an app from the kit alone.
    for file in [
        "app.c",
        "govmarket.h",
        "ABI.md",
        "build.sh",
        "Makefile",
        "README.md",
    ] {
        let text = std::fs::read_to_string(dir.path().join(file))
            .unwrap_or_else(|e| panic!("{file} in the kit: {e}"));
        assert!(!text.trim().is_empty(), "{file} is empty");
    }
    let app_c = std::fs::read_to_string(dir.path().join("app.c")).unwrap();
    assert!(app_c.contains("#include \"govmarket.h\""), "{app_c}");
    assert!(
        std::fs::read_to_string(dir.path().join("README.md"))
            .unwrap()
            .contains("sh build.sh")
    );
    // It is a suite directory as `govmarket app test --suite` reads it, and
    // the example app passes its sample cases locally.
    let suite = sandbox::SuiteDir::load(dir.path()).expect("loads as a suite");
    assert_eq!(suite.cases.len(), 4);
    assert!(
        suite
            .cases
            .iter()
            .all(|c| c.visibility == sandbox::Visibility::Sample)
    );
    let module = std::fs::read(guest("wasm/si_lookup.wasm")).expect("wasm");
    let sandbox = app.state.sandbox.clone();
    let report = tokio::task::spawn_blocking(move || {
        suite.evaluate(
            &sandbox,
            &module,
            &sandbox::EvalOptions::default(),
            &mut |_| {},
        )
    })
    .await
    .expect("joined")
    .expect("report");
    assert!(report.passed, "{report:?}");
}

#[tokio::test]
async fn isv_questions_get_public_answers_and_only_while_the_order_is_open() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let other_isv = app.staff(Role::Isv, "isv2@example.cn").await;
    let id = open_si_order(&app, &dept).await;

    let (status, q) = app
        .post_json(
            &format!("/api/v1/orders/{id}/questions"),
            &json!({"body": "months 缺省时按 12 个月计算吗？"}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 201, "{q}");
    assert_eq!(q["overdue"], false);
    let qid = q["id"].as_i64().expect("id");

    // Only the order's department answers, once.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/questions/{qid}/answer"),
            &json!({"body": "是"}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 403);
    let (status, a) = app
        .post_json(
            &format!("/api/v1/questions/{qid}/answer"),
            &json!({"body": "是的，缺省为 12 个月。"}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let (status, again) = app
        .post_json(
            &format!("/api/v1/questions/{qid}/answer"),
            &json!({"body": "再答一次"}),
            Some(&dept),
        )
        .await;
    assert_error(status, &again, 409, "already_answered");

    // The asker is told once; the answer itself is public.
    let (_, inbox) = app.get_json("/api/v1/notifications", Some(&isv)).await;
    let kinds: Vec<&str> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["question.answered"], "{inbox}");
    let (_, theirs) = app
        .get_json("/api/v1/notifications", Some(&other_isv))
        .await;
    assert_eq!(theirs["unread"], 0, "{theirs}");

    // Another ISV reads the answer.
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&other_isv))
        .await;
    assert_eq!(
        order["questions"][0]["answer"]["body"], "是的，缺省为 12 个月。",
        "{order}"
    );

    let (status, _) = app
        .post_json(
            &format!("/api/v1/orders/{id}/close"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/questions"),
            &json!({"body": "还能问吗？"}),
            Some(&isv),
        )
        .await;
    assert_error(status, &body, 409, "order_not_open");
}

#[tokio::test]
async fn an_order_without_its_granted_datasets_cannot_be_published() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let (_, order) = app
        .post_json("/api/v1/orders", &order_body("缺数据"), Some(&dept))
        .await;
    let id = order["id"].as_i64().expect("id");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_error(status, &body, 422, "order_incomplete");
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&dept))
        .await;
    assert_eq!(order["status"], "draft");
}

#[tokio::test]
async fn the_demo_seed_opens_four_orders_and_publishes_the_correct_example_app_only() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("accounts");
    let created = service::demo::seed_orders(&app.state)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("seed");
    assert_eq!(created, 4);
    let (_, list) = app.get_json("/api/v1/orders?status=open", None).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "{list}");
    for o in items {
        let (_, order) = app
            .get_json(&format!("/api/v1/orders/{}", o["id"]), None)
            .await;
        let cases = order["sample_cases"].as_i64().unwrap_or(0)
            + order["hidden_cases"].as_i64().unwrap_or(0);
        assert!(cases >= 20, "{order}");
        assert!(order["hidden_cases"].as_i64().unwrap_or(0) > 0, "{order}");
    }

    use sea_orm::{EntityTrait, PaginatorTrait};
    let apps = store::entity::apps::Entity::find()
        .all(app.state.db.conn())
        .await
        .expect("apps");
    assert_eq!(apps.len(), 2);
    for a in apps {
        let versions = store::apps::versions_of(app.state.db.conn(), a.id)
            .await
            .expect("versions");
        assert_eq!(versions.len(), 1);
        // Both were tested; only the correct one was published.
        let want_published = a.name == "社保缴费记录速查";
        assert_eq!(
            versions[0].status == "published",
            want_published,
            "{} is {}",
            a.name,
            versions[0].status
        );
        assert!(versions[0].test_score_bp.is_some(), "{} untested", a.name);
    }

    // A second seed changes nothing.
    let again = service::demo::seed_orders(&app.state)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("seed again");
    assert_eq!(again, 0);
    let n = store::entity::versions::Entity::find()
        .count(app.state.db.conn())
        .await
        .expect("count");
    assert_eq!(n, 2);
}
