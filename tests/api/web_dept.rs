//! Web journeys (dept pages) against a real server, without JavaScript: GET
//! a page, post its form back with the cookie and the hidden CSRF token,
//! then check through the API and the database what was (not) written.

use domain::Role;
use e2e::{TestApp, hidden_csrf, spawn_app};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::orders::{draft_si_order, guest, si_cases, si_contract};

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let resp = app.post_form(path, form).await;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, resp.text().await.unwrap())
}

/// Signs the test browser in as a demo user; returns a CSRF token valid for
/// this browser and an API token for checking what was written.
async fn sign_in(app: &TestApp, email: &str) -> (String, String) {
    let (_, html) = app.get_page("/login").await;
    let csrf = hidden_csrf(&html);
    let (status, _, _) = post_form(
        app,
        "/login",
        &[
            ("csrf_token", &csrf),
            ("email", email),
            ("password", service::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 303, "signed in");
    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": service::demo::DEMO_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (csrf, body["token"].as_str().unwrap().to_owned())
}

async fn demo_department(app: &TestApp) -> (String, String) {
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    sign_in(app, "department@demo.local").await
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// The new-order form filled in for the guest kit's social-insurance contract.
fn order_form(csrf: &str) -> Vec<(&'static str, String)> {
    let c = si_contract();
    vec![
        ("csrf_token", csrf.to_owned()),
        ("title", "社保缴费记录查询".into()),
        ("description", "查询本人近期社保缴费记录".into()),
        ("category", "社会保障".into()),
        ("tags", "社保, 缴费".into()),
        ("budget", "12500.50".into()),
        ("deadline", "2099-12-31".into()),
        ("input_schema", pretty(&c["input_schema"])),
        ("output_schema", pretty(&c["output_schema"])),
        ("datasets", "social_insurance:subject".into()),
        ("instructions", "50000000".into()),
        ("memory_mib", "16".into()),
        ("wall_time_ms", "1000".into()),
        ("pass_threshold", "100".into()),
    ]
}

fn with(form: &[(&'static str, String)], key: &str, value: &str) -> Vec<(&'static str, String)> {
    form.iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == key {
                    value.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

async fn post_owned(
    app: &TestApp,
    path: &str,
    form: &[(&'static str, String)],
) -> (u16, String, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(app, path, &pairs).await
}

/// The case form for one of the guest kit's cases.
fn case_form(csrf: &str, case: &Value) -> Vec<(&'static str, String)> {
    let expect = &case["expect"];
    vec![
        ("csrf_token", csrf.to_owned()),
        ("case_id", case["id"].as_str().unwrap().to_owned()),
        (
            "case_description",
            case["description"].as_str().unwrap_or("").to_owned(),
        ),
        (
            "case_subject",
            case["subject"].as_str().unwrap_or("").to_owned(),
        ),
        ("case_input", case["input"].to_string()),
        ("case_expect", expect["kind"].as_str().unwrap().to_owned()),
        (
            "case_expected",
            expect
                .get("value")
                .map(Value::to_string)
                .unwrap_or_default(),
        ),
        (
            "case_visibility",
            case["visibility"].as_str().unwrap().to_owned(),
        ),
        ("case_weight", case["weight"].to_string()),
    ]
}

async fn upload_dataset(
    app: &TestApp,
    order: i64,
    csrf: Option<&str>,
    bytes: Vec<u8>,
) -> (u16, String, String) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(t) = csrf {
        form = form.text("csrf_token", t.to_owned());
    }
    let form = form
        .text("dataset_name", "social_insurance")
        .text("dataset_sample", "on")
        .part(
            "dataset_file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("social_insurance.json")
                .mime_str("application/json")
                .unwrap(),
        );
    let resp = app
        .client
        .post(app.url(&format!("/dept/orders/{order}/datasets")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, resp.text().await.unwrap())
}

fn si_dataset() -> Vec<u8> {
    std::fs::read(guest(
        "suites/social-insurance/datasets/social_insurance.json",
    ))
    .unwrap()
}

async fn count_orders(app: &TestApp) -> u64 {
    store::entity::orders::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

/// Creates a draft through the web form; returns its id.
async fn web_draft(app: &TestApp, csrf: &str) -> i64 {
    let (status, location, body) = post_owned(app, "/dept/orders/new", &order_form(csrf)).await;
    assert_eq!(status, 303, "{body}");
    let rest = location
        .strip_prefix("/dept/orders/")
        .expect("redirected to the order page");
    rest.split('?').next().unwrap().parse().unwrap()
}

async fn suite_ids(app: &TestApp, order: i64, token: &str) -> Vec<String> {
    let (status, suite) = app
        .get_json(&format!("/api/v1/orders/{order}/test-suite"), Some(token))
        .await;
    assert_eq!(status, 200, "{suite}");
    suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_department_drafts_uploads_adds_cases_and_publishes_through_the_web() {
    let app = spawn_app().await;
    let (csrf, token) = demo_department(&app).await;

    let (status, html) = app.get_page("/dept/orders").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/dept/orders/new\""), "{html}");
    let (status, html) = app.get_page("/dept/orders/new").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("for=\"input_schema\""),
        "every input is labelled"
    );

    let id = web_draft(&app, &csrf).await;
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["status"], "draft");
    assert_eq!(order["budget_fen"], 1_250_050, "12500.50 yuan in fen");
    assert_eq!(order["tags"], json!(["社保", "缴费"]));
    assert_eq!(
        order["contract"]["datasets"],
        json!(["social_insurance:subject"])
    );
    assert_eq!(order["contract"]["limits"]["memory_bytes"], 16 << 20);
    assert_eq!(order["contract"]["limits"]["instructions"], 50_000_000);
    assert_eq!(order["pass_threshold_bp"], 10_000);

    // the draft shows up in the department's list, drafts included
    let (_, html) = app.get_page("/dept/orders").await;
    assert!(html.contains(&format!("href=\"/dept/orders/{id}\"")));
    assert!(html.contains("草稿"));

    // an edit round-trips through the form
    let (_, html) = app.get_page(&format!("/dept/orders/{id}/edit")).await;
    assert!(html.contains("value=\"12500.50\""), "budget shown in yuan");
    let edited = with(&order_form(&csrf), "title", "社保缴费记录查询（修订）");
    let edited = with(&edited, "pass_threshold", "99.5");
    let (status, location, body) =
        post_owned(&app, &format!("/dept/orders/{id}/edit"), &edited).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(location, format!("/dept/orders/{id}?done=updated"));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["title"], "社保缴费记录查询（修订）");
    assert_eq!(order["pass_threshold_bp"], 9_950);

    // publishing too early is refused on the page, with the reason
    let (status, _, html) = post_form(
        &app,
        &format!("/dept/orders/{id}/publish"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("class=\"error-summary\""));
    assert!(html.contains("发布前请先上传测试用例"), "{html}");

    // dataset upload (multipart)
    let (status, location, body) = upload_dataset(&app, id, Some(&csrf), si_dataset()).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=dataset"));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    let ds = &order["datasets"][0];
    assert_eq!(ds["name"], "social_insurance");
    assert_eq!(ds["sample"], true);
    assert!(ds["record_count"].as_i64().unwrap() > 0);

    // two cases, a sample and a hidden one
    let cases = si_cases();
    let cases = cases.as_array().unwrap();
    let sample = cases.iter().find(|c| c["visibility"] == "sample").unwrap();
    let hidden = cases.iter().find(|c| c["visibility"] == "hidden").unwrap();
    for case in [sample, hidden] {
        let (status, location, body) = post_owned(
            &app,
            &format!("/dept/orders/{id}/cases"),
            &case_form(&csrf, case),
        )
        .await;
        assert_eq!(status, 303, "{body}");
        assert!(location.contains("done=case"), "{location}");
    }
    assert_eq!(
        suite_ids(&app, id, &token).await,
        vec![
            sample["id"].as_str().unwrap().to_owned(),
            hidden["id"].as_str().unwrap().to_owned()
        ]
    );
    // the department sees every case on its page, hidden ones included
    let (_, html) = app.get_page(&format!("/dept/orders/{id}")).await;
    assert!(html.contains(hidden["id"].as_str().unwrap()));
    assert!(
        html.contains("action=\"/dept/orders/"),
        "action forms shown"
    );

    let (status, location, body) = post_form(
        &app,
        &format!("/dept/orders/{id}/publish"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.ends_with("done=published"));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["status"], "open");
    let (_, html) = app
        .get_page(&format!("/dept/orders/{id}?done=published"))
        .await;
    assert!(html.contains("订单已发布"), "confirmation shown");
    assert!(
        !html.contains(&format!("/dept/orders/{id}/publish")),
        "no publish button once open"
    );
    assert!(html.contains(&format!("/dept/orders/{id}/close")));

    // an open order's suite still grows from the page
    let third = cases
        .iter()
        .find(|c| c["id"] != sample["id"] && c["id"] != hidden["id"])
        .unwrap();
    let (status, _, body) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, third),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(suite_ids(&app, id, &token).await.len(), 3);

    // and closes
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/close"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["status"], "closed");
}

#[tokio::test]
async fn bad_order_fields_are_refused_beside_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let (csrf, _) = demo_department(&app).await;
    let form = order_form(&csrf);

    let cases: [(&str, &str, u16); 6] = [
        ("input_schema", r#"{"type": "nonsense"}"#, 422),
        ("output_schema", "{not json", 422),
        ("budget", "-5", 422),
        ("budget", "一万", 422),
        ("budget", "1.005", 422),
        ("instructions", "99999999999999", 422),
    ];
    for (field, value, want) in cases {
        let (status, _, html) =
            post_owned(&app, "/dept/orders/new", &with(&form, field, value)).await;
        assert_eq!(status, want, "{field}={value}");
        assert!(html.contains("<title>错误："), "{field}: title prefixed");
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field}: summary links to the field: {html}"
        );
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field}: message beside the field"
        );
    }
    // several problems at once are all reported
    let many = with(&with(&form, "title", " "), "budget", "-1");
    let (status, _, html) = post_owned(&app, "/dept/orders/new", &many).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"title-error\"") && html.contains("id=\"budget-error\""));
    assert!(html.contains("value=\"-1\""), "the input is kept");
    assert_eq!(count_orders(&app).await, 0, "nothing written");
}

#[tokio::test]
async fn bad_datasets_and_cases_are_refused_beside_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let (csrf, token) = demo_department(&app).await;
    let id = web_draft(&app, &csrf).await;

    let (status, _, html) =
        upload_dataset(&app, id, Some(&csrf), b"this is not json\n".to_vec()).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("id=\"dataset_file-error\""), "{html}");
    assert!(html.contains("href=\"#dataset_file\""));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["datasets"], json!([]), "no dataset written");

    // the input schema allows months 1..=36
    let case = json!({
        "id": "too-many-months", "description": "", "subject": "33010619900101123X",
        "input": {"months": 99}, "expect": {"kind": "schema"},
        "visibility": "hidden", "weight": 1
    });
    let (status, _, html) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, &case),
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"case_input-error\""), "{html}");
    assert!(html.contains("href=\"#case_input\""));
    assert!(html.contains("too-many-months"), "the input is kept");
    assert!(suite_ids(&app, id, &token).await.is_empty());

    let mut bad = case_form(&csrf, &case);
    bad = with(&bad, "case_input", "{\"months\": 3");
    bad = with(&bad, "case_weight", "0");
    let (status, _, html) = post_owned(&app, &format!("/dept/orders/{id}/cases"), &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"case_input-error\"") && html.contains("id=\"case_weight-error\""));
    assert!(suite_ids(&app, id, &token).await.is_empty());
}

#[tokio::test]
async fn an_open_orders_contract_cannot_be_edited_from_the_web() {
    let app = spawn_app().await;
    let (csrf, token) = demo_department(&app).await;
    let id = web_draft(&app, &csrf).await;
    let (status, _, _) = upload_dataset(&app, id, Some(&csrf), si_dataset()).await;
    assert_eq!(status, 303);
    let case = &si_cases()[0];
    let (status, _, _) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, case),
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/publish"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);

    let (status, html) = app.get_page(&format!("/dept/orders/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("合同已冻结"),
        "the form says why it is read-only"
    );
    let edited = with(&order_form(&csrf), "input_schema", r#"{"type": "object"}"#);
    let edited = with(&edited, "title", "改过的标题");
    let (status, _, html) = post_owned(&app, &format!("/dept/orders/{id}/edit"), &edited).await;
    assert_eq!(status, 409);
    assert!(html.contains("class=\"error-summary\""));
    assert!(html.contains("id=\"input_schema-error\""));
    assert!(html.contains("合同已冻结"));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["title"], "社保缴费记录查询", "nothing written");
    assert_eq!(
        order["contract"]["input_schema"],
        si_contract()["input_schema"]
    );

    // a case whose id is taken is refused, the suite unchanged
    let (status, _, html) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, case),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"case_id-error\""));
    assert_eq!(suite_ids(&app, id, &token).await.len(), 1);
}

#[tokio::test]
async fn another_departments_order_is_out_of_reach() {
    let app = spawn_app().await;
    let other = app.staff(Role::Department, "other@dept.example").await;
    let id = draft_si_order(&app, &other).await;
    let cases_before = suite_ids(&app, id, &other).await;

    let (csrf, _) = demo_department(&app).await;
    // a draft of another department does not exist for this one
    let (status, _) = app.get_page(&format!("/dept/orders/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_page(&format!("/dept/orders/{id}/edit")).await;
    assert_eq!(status, 404);
    let (_, html) = app.get_page("/dept/orders").await;
    assert!(
        !html.contains("社保缴费记录查询"),
        "not in this department's list"
    );
    let (status, _, _) = post_owned(
        &app,
        &format!("/dept/orders/{id}/edit"),
        &with(&order_form(&csrf), "title", "抢来的"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/cancel"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 404);

    // once published it is public, and still not this department's to change
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(&other),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.get_page(&format!("/dept/orders/{id}")).await;
    assert_eq!(status, 403);
    let case = json!({
        "id": "intruder", "input": {}, "expect": {"kind": "schema"},
        "visibility": "hidden", "weight": 1
    });
    let (status, _, _) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, &case),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = upload_dataset(&app, id, Some(&csrf), si_dataset()).await;
    assert_eq!(status, 403);
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/close"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 403);

    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&other))
        .await;
    assert_eq!(order["title"], "社保缴费记录查询");
    assert_eq!(order["status"], "open");
    assert_eq!(order["datasets"][0]["version"], 1, "no new dataset version");
    assert_eq!(suite_ids(&app, id, &other).await, cases_before);
}

#[tokio::test]
async fn only_signed_in_department_users_reach_the_pages() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/dept/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/login?next=%2Fdept%2Forders");

    service::demo::seed_accounts(&app.state.db).await.unwrap();
    sign_in(&app, "isv@demo.local").await;
    let (status, html) = app.get_page("/dept/orders").await;
    assert_eq!(status, 403);
    assert!(html.contains("政府部门"), "{html}");
    let (status, _) = app.get_page("/dept/orders/new").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let (csrf, token) = demo_department(&app).await;

    let without: Vec<_> = order_form(&csrf)
        .into_iter()
        .filter(|(k, _)| *k != "csrf_token")
        .collect();
    let (status, _, _) = post_owned(&app, "/dept/orders/new", &without).await;
    assert_eq!(status, 403);
    assert_eq!(count_orders(&app).await, 0);

    let id = web_draft(&app, &csrf).await;
    let (status, _, _) = upload_dataset(&app, id, None, si_dataset()).await;
    assert_eq!(status, 403, "multipart without the token");
    let (status, _, _) = upload_dataset(&app, id, Some(&"0".repeat(64)), si_dataset()).await;
    assert_eq!(status, 403, "multipart with a wrong token");
    let case: Vec<_> = case_form(&csrf, &si_cases()[0])
        .into_iter()
        .filter(|(k, _)| *k != "csrf_token")
        .collect();
    let (status, _, _) = post_owned(&app, &format!("/dept/orders/{id}/cases"), &case).await;
    assert_eq!(status, 403);
    let (status, _, _) = post_form(&app, &format!("/dept/orders/{id}/cancel"), &[]).await;
    assert_eq!(status, 403);

    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    assert_eq!(order["status"], "draft");
    assert_eq!(order["datasets"], json!([]));
    assert!(suite_ids(&app, id, &token).await.is_empty());
}

#[tokio::test]
async fn questions_are_answered_from_the_order_page_and_overdue_ones_marked() {
    let app = spawn_app().await;
    let (csrf, token) = demo_department(&app).await;
    let id = web_draft(&app, &csrf).await;
    upload_dataset(&app, id, Some(&csrf), si_dataset()).await;
    post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, &si_cases()[0]),
    )
    .await;
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/publish"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);

    let isv = app.staff(Role::Isv, "vendor@isv.example").await;
    let mut qids = vec![];
    for body in ["查询月数最多多少？", "未缴费时 name 返回什么？"] {
        let (status, q) = app
            .post_json(
                &format!("/api/v1/orders/{id}/questions"),
                &json!({"body": body}),
                Some(&isv),
            )
            .await;
        assert_eq!(status, 201, "{q}");
        qids.push(q["id"].as_i64().unwrap());
    }
    // the first question has waited ten days
    let old = store::entity::questions::Entity::find_by_id(qids[0])
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut old: store::entity::questions::ActiveModel = old.into();
    old.created_at = Set(chrono::Utc::now() - chrono::TimeDelta::days(10));
    old.update(app.state.db.conn()).await.unwrap();

    let (_, html) = app.get_page(&format!("/dept/orders/{id}")).await;
    assert_eq!(html.matches("已超期未答复").count(), 1, "{html}");
    assert!(html.contains(&format!("for=\"answer-{}\"", qids[0])));

    let (status, _, html) = post_form(
        &app,
        &format!("/dept/questions/{}/answer", qids[0]),
        &[("csrf_token", &csrf), ("answer", "  ")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains(&format!("id=\"answer-{}-error\"", qids[0])));
    assert!(html.contains(&format!("href=\"#answer-{}\"", qids[0])));

    let (status, location, _) = post_form(
        &app,
        &format!("/dept/questions/{}/answer", qids[0]),
        &[("csrf_token", &csrf), ("answer", "最多 36 个月。")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.contains("done=answered"));
    let (_, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&token))
        .await;
    let answered = order["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == qids[0])
        .unwrap();
    assert_eq!(answered["answer"]["body"], "最多 36 个月。");
    assert_eq!(answered["overdue"], false);
    let (_, html) = app.get_page(&format!("/dept/orders/{id}")).await;
    assert!(!html.contains("已超期未答复"));
    assert!(html.contains("最多 36 个月。"));
}

#[tokio::test]
async fn a_case_added_on_the_page_to_an_open_order_re_tests_published_versions() {
    use service::pipeline::{WorkerConfig, run_one};
    let app = spawn_app().await;
    let (csrf, _) = demo_department(&app).await;
    let id = web_draft(&app, &csrf).await;
    upload_dataset(&app, id, Some(&csrf), si_dataset()).await;
    let first = &si_cases()[0];
    post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, first),
    )
    .await;
    let (status, _, _) = post_form(
        &app,
        &format!("/dept/orders/{id}/publish"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, 303);

    let isv = app.staff(Role::Isv, "vendor@isv.example").await;
    let module = std::fs::read(guest("wasm/si_lookup.wasm")).unwrap();
    let (status, up) = crate::pipeline::upload(&app, &isv, id, "社保查询", module).await;
    assert_eq!(status, 201, "{up}");
    let vid = up["version"]["id"].as_i64().unwrap();
    let worker = WorkerConfig {
        lease: std::time::Duration::from_secs(30),
        heartbeat: std::time::Duration::from_millis(100),
        idle_poll: std::time::Duration::from_millis(50),
    };
    let drain = || async {
        while run_one(&app.state, "test-worker", &worker)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap()
        {}
    };
    drain().await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // a hidden case the published app cannot meet
    let mut extra = first.clone();
    extra["id"] = json!("hidden-regression-1");
    extra["visibility"] = json!("hidden");
    extra["expect"] = json!({"kind": "contains", "value": {"name": "不是这个人"}});
    let (status, location, body) = post_owned(
        &app,
        &format!("/dept/orders/{id}/cases"),
        &case_form(&csrf, &extra),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=case_regression"), "{location}");
    let (_, html) = app.get_page(&location).await;
    assert!(html.contains("正在重新测试"), "the page says so");

    drain().await;
    let (_, v) = app
        .get_json(&format!("/api/v1/versions/{vid}"), Some(&isv))
        .await;
    assert_eq!(v["status"], "suspended", "{v}");
    assert_eq!(v["run"]["reason"], "regression");
    assert_eq!(v["run"]["total_cases"], 2);
}
