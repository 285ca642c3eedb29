//! The supervisor's desk as a browser without JavaScript uses it: the
//! moderation queue, the suspensions page, the dashboard and the audit
//! trail. Forms post with their hidden CSRF token.

use domain::Role;
use e2e::{Browser, TestApp, hidden_csrf, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use store::entity::{apps, audit_events, ratings};

use crate::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .count(app.state.db.conn())
        .await
        .unwrap()
}

async fn rating_hidden(app: &TestApp, id: i64) -> bool {
    ratings::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .hidden
}

async fn app_status(app: &TestApp, id: i64) -> String {
    apps::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .status
}

/// A published app, used and rated by a citizen, the rating reported twice.
async fn reported_rating(app: &TestApp, n: u16) -> (i64, i64) {
    let order_id = order(app, "社保缴费记录查询", n).await;
    let a = app_with_version(app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen(&format!("ws{n}@example.cn"), n).await;
    let (status, body) = invoke(app, &citizen, a.app_id, json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    let resp = app
        .client
        .put(app.url(&format!("/api/v1/apps/{}/rating", a.app_id)))
        .bearer_auth(&citizen)
        .json(&json!({"stars": 1, "comment": "加微信领红包"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let rating_id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    for why in ["含广告", "垃圾信息"] {
        let (status, _) = app
            .post_json(
                &format!("/api/v1/ratings/{rating_id}/report"),
                &json!({"reason": why}),
                None,
            )
            .await;
        assert_eq!(status, 201);
    }
    (a.app_id, rating_id)
}

async fn supervisor(app: &TestApp, email: &str) -> Browser {
    app.staff(Role::Supervisor, email).await;
    Browser::signed_in(app, email).await
}

#[tokio::test]
async fn desk_pages_are_the_supervisors_alone() {
    let app = spawn_app().await;
    let visitor = Browser::new(&app);
    for path in [
        "/supervise",
        "/supervise/ratings",
        "/supervise/signals",
        "/supervise/apps",
        "/supervise/audit",
        "/supervise/evidence",
    ] {
        let resp = visitor.get_resp(path).await;
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/login?next=%2Fsupervise"), "{path} → {to}");
    }
    app.staff(Role::Finance, "fin-ws@example.cn").await;
    let finance = Browser::signed_in(&app, "fin-ws@example.cn").await;
    for path in [
        "/supervise",
        "/supervise/ratings",
        "/supervise/signals",
        "/supervise/apps",
        "/supervise/audit",
        "/supervise/evidence",
    ] {
        let (status, html) = finance.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(html.contains("<html"), "an HTML 403 page for {path}");
    }
    // A form posted by another role is refused and changes nothing.
    let (_, rating_id) = reported_rating(&app, 61).await;
    let token = finance.csrf().await;
    let resp = finance
        .post_form(
            &format!("/supervise/ratings/{rating_id}/hide"),
            &[("csrf_token", &token), ("reason", "广告")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(!rating_hidden(&app, rating_id).await);
    assert_eq!(audit_count(&app, "rating.hide").await, 0);
}

#[tokio::test]
async fn a_supervisor_hides_and_restores_a_reported_rating_through_the_queue() {
    let app = spawn_app().await;
    let (app_id, rating_id) = reported_rating(&app, 62).await;
    let sup = supervisor(&app, "sup-ws62@example.cn").await;

    let (status, html) = sup.get("/supervise/ratings").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("加微信领红包"),
        "the rating's comment: {html}"
    );
    assert!(
        html.contains("含广告") && html.contains("垃圾信息"),
        "both reports"
    );
    let action = format!("/supervise/ratings/{rating_id}/hide");
    assert!(html.contains(&format!("action=\"{action}\"")), "{html}");
    let token = hidden_csrf(&html);

    // Without a token: 403, nothing changes.
    let resp = sup.post_form(&action, &[("reason", "广告")]).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(!rating_hidden(&app, rating_id).await);

    // A blank reason comes back with the error at the top and beside the field.
    let resp = sup
        .post_form(&action, &[("csrf_token", &token), ("reason", "   ")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    let field = format!("reason-{rating_id}");
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains(&format!("href=\"#{field}\"")), "{html}");
    assert!(html.contains(&format!("id=\"{field}-error\"")), "{html}");
    assert!(!rating_hidden(&app, rating_id).await);
    assert_eq!(audit_count(&app, "rating.hide").await, 0);

    let resp = sup
        .post_form(&action, &[("csrf_token", &token), ("reason", "广告内容")])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/supervise/ratings?hidden={rating_id}"));
    assert!(rating_hidden(&app, rating_id).await);
    assert_eq!(audit_count(&app, "rating.hide").await, 1);
    let (_, public) = app
        .get_json(&format!("/api/v1/public/apps/{app_id}"), None)
        .await;
    assert_eq!(public["app"]["rating"]["histogram"], json!([0, 0, 0, 0, 0]));

    // The queue is empty now; the notice offers to restore it.
    let (status, html) = sup.get(&to).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("加微信领红包"),
        "upheld reports leave the queue"
    );
    let restore = format!("/supervise/ratings/{rating_id}/restore");
    assert!(html.contains(&format!("action=\"{restore}\"")), "{html}");

    // Hiding it again is a conflict shown on the page, not a 500.
    let resp = sup
        .post_form(&action, &[("csrf_token", &token), ("reason", "再次")])
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(audit_count(&app, "rating.hide").await, 1);
    // A rating that does not exist: the 404 page.
    let resp = sup
        .post_form(
            "/supervise/ratings/999999/hide",
            &[("csrf_token", &token), ("reason", "广告")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 404);

    let resp = sup
        .post_form(&restore, &[("csrf_token", &token), ("reason", "误判")])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(!rating_hidden(&app, rating_id).await);
    assert_eq!(audit_count(&app, "rating.restore").await, 1);
}

#[tokio::test]
async fn a_supervisor_suspends_and_reinstates_an_app_through_the_page() {
    let app = spawn_app().await;
    let (app_id, _) = reported_rating(&app, 63).await;
    let sup = supervisor(&app, "sup-ws63@example.cn").await;
    let (status, html) = sup.get("/supervise/apps").await;
    assert_eq!(status, 200);
    let token = hidden_csrf(&html);
    let id = app_id.to_string();

    // Bad input: a number that is not one, an app that does not exist,
    // a blank reason. Each comes back beside its field; nothing changes.
    for (form_id, reason, status, field) in [
        ("abc", "刷量", 422, "app_id"),
        ("999999", "刷量", 404, "app_id"),
        (id.as_str(), " ", 422, "reason"),
    ] {
        let resp = sup
            .post_form(
                "/supervise/apps/suspend",
                &[
                    ("csrf_token", &token),
                    ("app_id", form_id),
                    ("reason", reason),
                ],
            )
            .await;
        assert_eq!(resp.status().as_u16(), status, "{form_id} {reason:?}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(&format!("href=\"#{field}\"")), "{html}");
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{html}");
    }
    assert_eq!(app_status(&app, app_id).await, "active");
    assert_eq!(audit_count(&app, "app.suspend").await, 0);

    let form = [
        ("csrf_token", token.as_str()),
        ("app_id", id.as_str()),
        ("reason", "疑似刷量"),
    ];
    let resp = sup.post_form("/supervise/apps/suspend", &form).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(app_status(&app, app_id).await, "suspended");
    let (_, html) = sup.get("/supervise/apps").await;
    assert!(
        html.contains("疑似刷量"),
        "the list shows the reason: {html}"
    );
    let reinstate = format!("/supervise/apps/{app_id}/reinstate");
    assert!(html.contains(&format!("action=\"{reinstate}\"")));

    // Suspending twice: 409 on the page, one audit entry.
    let resp = sup.post_form("/supervise/apps/suspend", &form).await;
    assert_eq!(resp.status().as_u16(), 409);
    assert!(resp.text().await.unwrap().contains("href=\"#app_id\""));
    assert_eq!(audit_count(&app, "app.suspend").await, 1);

    let resp = sup
        .post_form(&reinstate, &[("csrf_token", &token), ("reason", "")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert_eq!(app_status(&app, app_id).await, "suspended");
    let resp = sup
        .post_form(
            &reinstate,
            &[("csrf_token", &token), ("reason", "核查无误")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(app_status(&app, app_id).await, "active");
    let (_, html) = sup.get("/supervise/apps").await;
    assert!(!html.contains(&format!("action=\"{reinstate}\"")));
}

#[tokio::test]
async fn the_dashboard_counts_what_waits_and_shows_the_chain() {
    let app = spawn_app().await;
    let (app_id, _) = reported_rating(&app, 64).await;
    let sup = supervisor(&app, "sup-ws64@example.cn").await;
    let (status, html) = sup.get("/supervise").await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg"), "inline SVG charts");
    assert!(
        html.contains("<strong id=\"count-reported\">1</strong>"),
        "{html}"
    );
    assert!(html.contains("<strong id=\"count-suspended\">0</strong>"));
    assert!(html.contains("<strong id=\"count-overdue-complaints\">0</strong>"));
    let token = hidden_csrf(&html);
    let id = app_id.to_string();
    let resp = sup
        .post_form(
            "/supervise/apps/suspend",
            &[("csrf_token", &token), ("app_id", &id), ("reason", "刷量")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, html) = sup.get("/supervise").await;
    assert!(html.contains("<strong id=\"count-suspended\">1</strong>"));
    // The chain verifies, and its head is the suspension just audited.
    let (hid, hash) = store::audit::head(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(html.contains(&format!("#{hid} <code id=\"chain-head\">{hash}</code>")));
    assert!(html.contains("tag-post"), "chain intact: {html}");

    // Tampering with an entry shows on the dashboard.
    use sea_orm::{ActiveModelTrait, Set};
    let row = audit_events::Entity::find_by_id(hid)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut row: audit_events::ActiveModel = row.into();
    row.summary = Set("改过的摘要".into());
    row.update(app.state.db.conn()).await.unwrap();
    let (_, html) = sup.get("/supervise").await;
    assert!(html.contains("tag-delete"), "chain broken: {html}");
    assert!(
        html.contains(&format!("#{hid}</dd>")),
        "names the bad entry"
    );
}

#[tokio::test]
async fn the_audit_trail_filters_pages_and_exports_csv() {
    let app = spawn_app().await;
    let (app_id, rating_id) = reported_rating(&app, 65).await;
    let sup = supervisor(&app, "sup-ws65@example.cn").await;
    let (_, html) = sup.get("/supervise/apps").await;
    let token = hidden_csrf(&html);
    let id = app_id.to_string();
    sup.post_form(
        "/supervise/apps/suspend",
        &[("csrf_token", &token), ("app_id", &id), ("reason", "刷量")],
    )
    .await;
    sup.post_form(
        &format!("/supervise/ratings/{rating_id}/hide"),
        &[("csrf_token", &token), ("reason", "广告")],
    )
    .await;

    let (status, html) = sup.get("/supervise/audit?action=app.suspend").await;
    assert_eq!(status, 200);
    assert!(html.contains("<code>app.suspend</code>"), "{html}");
    assert!(!html.contains("<code>rating.hide</code>"));
    let (_, html) = sup
        .get(&format!(
            "/supervise/audit?object_type=rating&object_id={rating_id}&role=supervisor"
        ))
        .await;
    assert!(html.contains("<code>rating.hide</code>"));
    assert!(!html.contains("<code>app.suspend</code>"));
    // A time range after everything: nothing.
    let (_, html) = sup.get("/supervise/audit?from=2099-01-01").await;
    assert!(!html.contains("<code>app.suspend</code>"));

    // Bad filters come back beside their fields, 422, never 500.
    let resp = sup
        .get_resp("/supervise/audit?actor_id=abc&role=king&from=yesterday")
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    for f in ["actor_id", "role", "from"] {
        assert!(html.contains(&format!("href=\"#{f}\"")), "{f}");
        assert!(html.contains(&format!("id=\"{f}-error\"")), "{f}");
    }
    let resp = sup
        .get_resp("/supervise/audit?from=2026-05-02&until=2026-05-01")
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"until-error\""));

    // The CSV has the same filtered rows.
    for path in [
        "/supervise/audit.csv?action=app.suspend",
        "/supervise/audit?action=app.suspend&format=csv",
    ] {
        let resp = sup.get_resp(path).await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let body = resp.text().await.unwrap();
        let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 2, "a header and one row: {body}");
        assert!(lines[0].starts_with("seq,id,occurred_at,actor_id,actor_role,action"));
        assert!(lines[1].contains(",app.suspend,app,"), "{body}");
    }

    // Pages: 55 more entries, 50 a page, the next link goes on.
    for i in 0..55 {
        store::audit::append(
            app.state.db.conn(),
            service::Actor::system().audit("test.entry", "test", i, format!("条目 {i}")),
        )
        .await
        .unwrap();
    }
    let (_, html) = sup.get("/supervise/audit?action=test.entry").await;
    assert_eq!(html.matches("<code>test.entry</code>").count(), 50);
    let marker = "href=\"/supervise/audit?";
    let start = html.rfind(marker).expect("an older page link") + "href=\"".len();
    let next = html[start..start + html[start..].find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(next.contains("cursor="), "{next}");
    let (_, html) = sup.get(&next).await;
    assert_eq!(html.matches("<code>test.entry</code>").count(), 5, "{next}");
}
