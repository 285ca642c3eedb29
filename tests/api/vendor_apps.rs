//! The vendor's own apps: a bad first upload leaves nothing behind, and an
//! app never published may be deleted (audited), while a published one is
//! kept to be withdrawn.

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::orders::open_si_order;
use crate::pipeline::{drain, upload, wasm};

async fn counts(app: &TestApp) -> (u64, u64, u64, u64) {
    use store::entity::{apps, module_blobs, test_runs, versions};
    let conn = app.state.db.conn();
    (
        apps::Entity::find().count(conn).await.expect("apps"),
        versions::Entity::find()
            .count(conn)
            .await
            .expect("versions"),
        module_blobs::Entity::find()
            .count(conn)
            .await
            .expect("blobs"),
        test_runs::Entity::find().count(conn).await.expect("runs"),
    )
}

async fn delete(app: &TestApp, token: &str, id: i64) -> (u16, Value) {
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/apps/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("delete");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn audited(app: &TestApp, action: &str, id: i64) -> bool {
    use store::entity::audit_events;
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .filter(audit_events::Column::ObjectId.eq(id))
        .count(app.state.db.conn())
        .await
        .expect("audit")
        == 1
}

#[tokio::test]
async fn an_upload_that_is_not_webassembly_is_422_and_stores_no_app_version_or_blob() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (status, body) = upload(&app, &isv, order, "不是模块", b"MZ\x90\0 not wasm".to_vec()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_module");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(counts(&app).await, (0, 0, 0, 0));
    // The name is free: a good module under it creates the app.
    let (status, up) = upload(&app, &isv, order, "不是模块", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["version"]["number"], 1);
}

#[tokio::test]
async fn a_vendor_deletes_an_unpublished_app_with_its_versions_runs_and_modules() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let rival = app.staff(Role::Isv, "rival@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (status, up) = upload(&app, &isv, order, "试一试", wasm("si_lookup_buggy")).await;
    assert_eq!(status, 201, "{up}");
    let app_id = up["app"]["id"].as_i64().expect("id");

    // Not while its run is in flight.
    let (status, body) = delete(&app, &isv, app_id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "run_in_flight");
    drain(&app).await;

    // Another vendor's app does not exist for this one; nothing changes.
    let (status, _) = delete(&app, &rival, app_id).await;
    assert_eq!(status, 404);
    assert_eq!(counts(&app).await, (1, 1, 1, 1));
    // Nor may a department delete apps.
    let (status, _) = delete(&app, &dept, app_id).await;
    assert_eq!(status, 403);

    let (status, body) = delete(&app, &isv, app_id).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(counts(&app).await, (0, 0, 0, 0));
    assert!(audited(&app, "app.delete", app_id).await);
    let (status, _) = app
        .get_json(&format!("/api/v1/apps/{app_id}"), Some(&isv))
        .await;
    assert_eq!(status, 404);
    let (status, _) = delete(&app, &isv, app_id).await;
    assert_eq!(status, 404, "a second delete finds nothing");
}

#[tokio::test]
async fn a_published_app_is_not_deleted_but_withdrawn() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "社保查询", wasm("si_lookup")).await;
    let app_id = up["app"]["id"].as_i64().expect("id");
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = delete(&app, &isv, app_id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "app_was_published");
    assert_eq!(counts(&app).await, (1, 1, 1, 1));

    let (status, body) = app
        .post_json(
            &format!("/api/v1/apps/{app_id}/withdraw"),
            &json!({}),
            Some(&isv),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "withdrawn");
    assert!(audited(&app, "app.withdraw", app_id).await);
    // Withdrawn, it was still published once: kept for the record.
    let (status, body) = delete(&app, &isv, app_id).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn my_apps_offers_delete_for_a_never_published_app_and_deletes_it() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (_, up) = upload(&app, &isv, order, "草稿应用", wasm("si_lookup_buggy")).await;
    let app_id = up["app"]["id"].as_i64().expect("id");
    drain(&app).await;
    let browser = e2e::Browser::signed_in(&app, "isv@example.cn").await;
    let (status, html) = browser.get("/isv/apps").await;
    assert_eq!(status, 200);
    let action = format!("/isv/apps/{app_id}/delete");
    assert!(html.contains(&action), "{html}");
    let csrf = e2e::hidden_csrf(&html);
    let resp = browser.post_form(&action, &[("csrf_token", &csrf)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(counts(&app).await, (0, 0, 0, 0));
    assert!(audited(&app, "app.delete", app_id).await);
    let resp = browser.post_form(&action, &[("csrf_token", &csrf)]).await;
    assert_eq!(resp.status().as_u16(), 404, "gone");
}
