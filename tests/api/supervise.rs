//! The supervisor's desk over the API: suspending and reinstating apps.

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{app_suspensions, audit_events};

use crate::market::{app_with_version, invocation_rows, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> (u16, Value) {
    app.post_json(path, &body, Some(token)).await
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .count(app.state.db.conn())
        .await
        .unwrap()
}

async fn suspension_rows(app: &TestApp, app_id: i64) -> Vec<app_suspensions::Model> {
    app_suspensions::Entity::find()
        .filter(app_suspensions::Column::AppId.eq(app_id))
        .all(app.state.db.conn())
        .await
        .unwrap()
}

async fn listed(app: &TestApp, order_id: i64) -> Vec<i64> {
    let (status, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().or(i["app_id"].as_i64()).unwrap())
        .collect()
}

async fn searched(app: &TestApp, q: &str) -> Vec<i64> {
    let (status, body) = app.get_json(&format!("/api/v1/market?q={q}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().or(i["app_id"].as_i64()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_supervisor_suspends_and_reinstates_an_app_and_its_isv_is_told() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 41).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("s41@example.cn", 41).await;
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let (status, body) = invoke(&app, &citizen, a.app_id, json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(listed(&app, order_id).await, vec![a.app_id]);
    assert_eq!(searched(&app, "缴费记录").await, vec![a.app_id]);

    let path = format!("/api/v1/apps/{}/suspend", a.app_id);
    let (status, body) = post(
        &app,
        &path,
        json!({"reason": "  疑似刷量，待核查  "}),
        &supervisor,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["reason"], "疑似刷量，待核查");
    assert!(body["suspended_at"].is_string(), "{body}");

    // Off the market at once: listing, search, invocation.
    assert!(listed(&app, order_id).await.is_empty());
    assert!(searched(&app, "缴费记录").await.is_empty());
    let before = invocation_rows(&app, a.app_id).await.len();
    let (status, body) = invoke(&app, &citizen, a.app_id, json!({}), None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "app_suspended");
    assert_eq!(invocation_rows(&app, a.app_id).await.len(), before);
    // The supervisor's list has it.
    let (status, body) = app
        .get_json("/api/v1/supervise/apps/suspended", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["app_id"], a.app_id);
    assert_eq!(body["items"][0]["reason"], "疑似刷量，待核查");
    assert_eq!(
        body["next"],
        Value::Null,
        "one page holds every suspended app"
    );

    // The ISV is told, with the reason.
    let (_, notes) = app
        .get_json("/api/v1/notifications", Some(&a.isv_token))
        .await;
    let note = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "app.suspended")
        .unwrap_or_else(|| panic!("no suspension notice: {notes}"));
    assert!(
        note["body"].as_str().unwrap().contains("疑似刷量"),
        "{note}"
    );
    assert_eq!(audit_count(&app, "app.suspend").await, 1);

    // Twice: 409, and nothing more written.
    let (status, body) = post(&app, &path, json!({"reason": "再次"}), &supervisor).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_suspended");
    assert_eq!(suspension_rows(&app, a.app_id).await.len(), 1);
    assert_eq!(audit_count(&app, "app.suspend").await, 1);

    // Reinstated: back on the market and usable.
    let back = format!("/api/v1/apps/{}/reinstate", a.app_id);
    let (status, body) = post(&app, &back, json!({"reason": "核查无误"}), &supervisor).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert!(body["reinstated_at"].is_string(), "{body}");
    assert_eq!(listed(&app, order_id).await, vec![a.app_id]);
    assert_eq!(searched(&app, "缴费记录").await, vec![a.app_id]);
    let (status, body) = invoke(&app, &citizen, a.app_id, json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    let rows = suspension_rows(&app, a.app_id).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].reinstated_at.is_some());
    assert_eq!(rows[0].reinstate_reason.as_deref(), Some("核查无误"));
    let (_, notes) = app
        .get_json("/api/v1/notifications", Some(&a.isv_token))
        .await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "app.reinstated"),
        "{notes}"
    );
    assert_eq!(audit_count(&app, "app.reinstate").await, 1);
    // Reinstating an active app: 409.
    let (status, body) = post(&app, &back, json!({"reason": "再次"}), &supervisor).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_suspended");
    assert_eq!(audit_count(&app, "app.reinstate").await, 1);
}

#[tokio::test]
async fn only_a_supervisor_suspends_and_bad_requests_change_nothing() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 42).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("s42@example.cn", 42).await;
    let supervisor = app.staff(Role::Supervisor, "sup42@example.cn").await;
    let path = format!("/api/v1/apps/{}/suspend", a.app_id);
    let mut others = vec![citizen, a.isv_token.clone()];
    for (role, email) in [
        (Role::Department, "dep42@example.cn"),
        (Role::Finance, "fin42@example.cn"),
        (Role::Admin, "adm42@example.cn"),
    ] {
        others.push(app.staff(role, email).await);
    }
    for token in &others {
        let (status, body) = post(&app, &path, json!({"reason": "试试"}), token).await;
        assert_eq!(status, 403, "{body}");
        let back = format!("/api/v1/apps/{}/reinstate", a.app_id);
        let (status, body) = post(&app, &back, json!({"reason": "试试"}), token).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, _) = app.post_json(&path, &json!({"reason": "匿名"}), None).await;
    assert_eq!(status, 401);

    let (status, body) = post(&app, &path, json!({"reason": "   "}), &supervisor).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let (status, body) = post(
        &app,
        &path,
        json!({"reason": "长".repeat(501)}),
        &supervisor,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let (status, body) = post(&app, &path, json!({}), &supervisor).await;
    assert!(status == 400 || status == 422, "{status} {body}");
    let (status, body) = post(
        &app,
        "/api/v1/apps/999999/suspend",
        json!({"reason": "不存在"}),
        &supervisor,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(suspension_rows(&app, a.app_id).await.is_empty());
    assert_eq!(audit_count(&app, "app.suspend").await, 0);
    assert_eq!(listed(&app, order_id).await, vec![a.app_id]);
}

#[tokio::test]
async fn sign_in_success_failure_and_sign_out_are_audited() {
    let app = spawn_app().await;
    app.staff(Role::Supervisor, "sup-login@example.cn").await;
    let (status, _) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "sup-login@example.cn", "password": "wrong password!"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(audit_count(&app, "session.sign_in_failed").await, 1);
    assert_eq!(audit_count(&app, "session.sign_in").await, 0);
    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "sup-login@example.cn", "password": e2e::PASSWORD}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_count(&app, "session.sign_in").await, 1);

    let browser = e2e::Browser::signed_in(&app, "sup-login@example.cn").await;
    assert_eq!(audit_count(&app, "session.sign_in").await, 2);
    let token = browser.csrf().await;
    let resp = browser
        .post_form("/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(audit_count(&app, "session.sign_out").await, 1);
    let ok = store::audit::verify(app.state.db.conn()).await.unwrap();
    assert!(ok.ok, "{ok:?}");
}

#[tokio::test]
async fn the_audit_api_filters_by_action_role_and_time_and_refuses_bad_filters() {
    let app = spawn_app().await;
    let supervisor = app.staff(Role::Supervisor, "sup-filter@example.cn").await;
    app.citizen("c-filter@example.cn", 61).await;
    let (status, all) = app
        .get_json("/api/v1/audit?limit=200", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{all}");
    let action = items[0]["action"].as_str().unwrap().to_owned();
    let (status, only) = app
        .get_json(&format!("/api/v1/audit?action={action}"), Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{only}");
    let only = only["items"].as_array().unwrap();
    assert!(!only.is_empty());
    assert!(only.iter().all(|e| e["action"] == action), "{only:?}");
    assert!(only.len() <= items.len());

    let (status, future) = app
        .get_json("/api/v1/audit?from=2999-01-01T00:00:00Z", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{future}");
    assert_eq!(future["items"], serde_json::json!([]));

    for bad in [
        "role=wizard",
        "actor_id=abc",
        "from=yesterday",
        "colour=red",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/audit?{bad}"), Some(&supervisor))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = app
        .get_json(
            "/api/v1/audit?from=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}
