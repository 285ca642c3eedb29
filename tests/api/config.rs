//! Settings that change what the running server accepts.

use std::time::Duration;

use domain::Role;
use e2e::{hidden_csrf, spawn_app_with};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use crate::orders::{guest, open_si_order};
use crate::pipeline::upload;
use crate::web_isv::written;

/// Between the two example modules' sizes, far below an order's default
/// module cap (8 MiB), so the platform limit is the one that binds.
const SMALL_LIMIT: usize = 45_000;

fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(guest(&format!("wasm/{name}.wasm"))).expect("example app")
}

#[tokio::test]
async fn the_upload_limit_caps_modules_through_the_api_and_the_upload_form() {
    let app = spawn_app_with(|c| c.upload_limit_bytes = SMALL_LIMIT).await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let big = wasm("si_lookup");
    let small = wasm("probe");
    assert!(big.len() > SMALL_LIMIT && small.len() < SMALL_LIMIT);

    let (status, body) = upload(&app, &isv, order, "大模块", big.clone()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&SMALL_LIMIT.to_string())),
        "the message names the limit: {body}"
    );
    assert_eq!(written(&app).await, (0, 0, 0, 0));

    // The web form names the same cap and refuses the same module.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let login = browser
        .get(app.url("/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let resp = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", hidden_csrf(&login).as_str()),
            ("email", "isv@example.cn"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status().as_u16(), 303);
    let form_page = browser
        .get(app.url(&format!("/isv/orders/{order}/upload")))
        .send()
        .await
        .expect("upload page")
        .text()
        .await
        .expect("body");
    assert!(form_page.contains("44 KiB"), "the form names the cap");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", hidden_csrf(&form_page))
        .text("name", "大模块")
        .text("release_notes", "网页上传")
        .part(
            "wasm",
            reqwest::multipart::Part::bytes(big)
                .file_name("app.wasm")
                .mime_str("application/wasm")
                .expect("mime"),
        );
    let resp = browser
        .post(app.url(&format!("/isv/orders/{order}/upload")))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 413);
    assert!(resp.text().await.expect("body").contains("模块过大"));
    assert_eq!(written(&app).await, (0, 0, 0, 0));

    // A module under the limit is taken.
    let (status, body) = upload(&app, &isv, order, "小模块", small).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(written(&app).await.0, 1);
}

#[tokio::test]
async fn the_configured_answer_deadline_decides_which_questions_are_overdue() {
    let app = spawn_app_with(|c| c.question_answer_limit = Duration::from_secs(3600)).await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let mut asked = vec![];
    // Two hours is overdue under a one-hour deadline (not under the
    // default three days); half an hour is not.
    for (body, age) in [("两小时前的问题", 120), ("半小时前的问题", 30)] {
        let (status, q) = app
            .post_json(
                &format!("/api/v1/orders/{order}/questions"),
                &json!({"body": body}),
                Some(&isv),
            )
            .await;
        assert_eq!(status, 201, "{q}");
        let id = q["id"].as_i64().expect("id");
        let mut row: store::entity::questions::ActiveModel =
            store::entity::questions::Entity::find_by_id(id)
                .one(app.state.db.conn())
                .await
                .expect("read")
                .expect("question")
                .into();
        row.created_at = Set(chrono::Utc::now() - chrono::TimeDelta::minutes(age));
        row.update(app.state.db.conn()).await.expect("backdate");
        asked.push(id);
    }
    let (status, body) = app
        .get_json(&format!("/api/v1/orders/{order}"), Some(&isv))
        .await;
    assert_eq!(status, 200, "{body}");
    let overdue = |id: i64| {
        body["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .find(|q| q["id"] == id)
            .map(|q| q["overdue"].clone())
    };
    assert_eq!(overdue(asked[0]), Some(json!(true)), "{body}");
    assert_eq!(overdue(asked[1]), Some(json!(false)), "{body}");
}
