//! Complaints: filed by citizens about an app or an order, answered by the
//! app's ISV or the order's department before a working-day deadline,
//! resolved (with the citizen's rating of the handling) or reopened; seen
//! only by those concerned, and by supervisors with the overdue ones.

use e2e::{TestApp, spawn_app, spawn_app_with};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, PaginatorTrait};
use serde_json::{Value, json};
use store::entity::{complaints, orders};

use super::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

/// The string `field` of each item a list endpoint gives `token`'s user.
async fn listed(app: &TestApp, path: &str, token: &str, field: &str) -> Vec<String> {
    let (status, list) = app.get_json(path, Some(token)).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n[field].as_str().map(str::to_owned))
        .collect()
}

/// The kinds of the notifications `token`'s user sees, newest first.
async fn notification_kinds(app: &TestApp, token: &str) -> Vec<String> {
    listed(app, "/api/v1/notifications", token, "kind").await
}

async fn count(app: &TestApp) -> u64 {
    complaints::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp, sup: &str) -> Vec<String> {
    let mut actions = listed(app, "/api/v1/audit?limit=200", sup, "action").await;
    actions.retain(|a| a.starts_with("complaint."));
    actions
}

/// A department user who owns `order_id`.
async fn department_of(app: &TestApp, order_id: i64, email: &str) -> String {
    let token = app.staff(domain::Role::Department, email).await;
    let conn = app.state.db.conn();
    let user = store::users::find_by_email(conn, email)
        .await
        .unwrap()
        .unwrap();
    let mut o = orders::Entity::find_by_id(order_id)
        .one(conn)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    o.department_org_id = Set(user.org_id.unwrap());
    o.update(conn).await.unwrap();
    token
}

#[tokio::test]
async fn a_complaint_about_an_app_is_answered_by_its_isv_and_resolved_by_the_citizen() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 41).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let rival = app_with_version(&app, order_id, "社保通", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c41@example.cn", 41).await;
    let other = app.citizen("c42@example.cn", 42).await;
    let dept = department_of(&app, order_id, "dept41@example.cn").await;
    let sup = app
        .staff(domain::Role::Supervisor, "sup41@example.cn")
        .await;
    // A complaint about an app speaks of a use of it.
    let (status, _) = invoke(&app, &citizen, a.app_id, json!({"months": 6}), None).await;
    assert_eq!(status, 200);

    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            &json!({"app_id": a.app_id, "body": "查询结果缺少 2025 年的缴费记录"}),
            Some(&citizen),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["status"], "open");
    assert_eq!(filed["order_id"], order_id, "the app's order is implied");
    assert_eq!(filed["overdue"], false);
    let id = filed["id"].as_i64().unwrap();
    let deadline: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(filed["deadline"].clone()).unwrap();
    let days = (deadline - chrono::Utc::now()).num_days();
    assert!(
        (5..=9).contains(&days),
        "5 working days ahead, got {days} days"
    );

    // Those who answer are told; the rival ISV is not.
    assert_eq!(
        notification_kinds(&app, &a.isv_token).await,
        ["complaint.filed"]
    );
    assert_eq!(notification_kinds(&app, &dept).await, ["complaint.filed"]);
    assert!(notification_kinds(&app, &rival.isv_token).await.is_empty());

    // Those concerned see it; another citizen and the rival ISV do not.
    for (who, sees) in [
        (&citizen, true),
        (&a.isv_token, true),
        (&dept, true),
        (&sup, true),
        (&other, false),
        (&rival.isv_token, false),
    ] {
        let (status, one) = app
            .get_json(&format!("/api/v1/complaints/{id}"), Some(who))
            .await;
        assert_eq!(status, if sees { 200 } else { 404 }, "{one}");
        let (status, list) = app.get_json("/api/v1/complaints", Some(who)).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["items"].as_array().unwrap().len(), usize::from(sees));
    }

    // Resolving before an answer is out of order.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/complaints/{id}/resolve"),
            &json!({"stars": 4}),
            Some(&citizen),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // The rival ISV cannot answer it; the app's ISV can, once.
    let answer = json!({"answer": "已补录 2025 年数据，请重新查询"});
    let path = format!("/api/v1/complaints/{id}/answer");
    let (status, _) = app.post_json(&path, &answer, Some(&rival.isv_token)).await;
    assert_eq!(status, 404);
    let (status, _) = app.post_json(&path, &answer, Some(&citizen)).await;
    assert_eq!(status, 403, "a citizen does not answer complaints");
    let (status, answered) = app.post_json(&path, &answer, Some(&a.isv_token)).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["answer"], "已补录 2025 年数据，请重新查询");
    let (status, body) = app.post_json(&path, &answer, Some(&dept)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        notification_kinds(&app, &citizen).await,
        ["complaint.answered"]
    );
    assert!(notification_kinds(&app, &other).await.is_empty());

    // Only its citizen resolves it, with 1–5 stars.
    let resolve = format!("/api/v1/complaints/{id}/resolve");
    let (status, _) = app
        .post_json(&resolve, &json!({"stars": 4}), Some(&other))
        .await;
    assert_eq!(status, 404);
    for stars in [0, 6] {
        let (status, body) = app
            .post_json(&resolve, &json!({"stars": stars}), Some(&citizen))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "stars");
    }
    let (status, done) = app
        .post_json(&resolve, &json!({"stars": 4}), Some(&citizen))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "resolved");
    assert_eq!(done["resolution_stars"], 4);
    let (status, _) = app
        .post_json(&resolve, &json!({"stars": 5}), Some(&citizen))
        .await;
    assert_eq!(status, 409);

    let mut actions = audit_actions(&app, &sup).await;
    actions.reverse();
    assert_eq!(
        actions,
        ["complaint.file", "complaint.answer", "complaint.resolve"]
    );
}

#[tokio::test]
async fn an_unsatisfied_citizen_reopens_and_the_department_answers_again() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 43).await;
    let citizen = app.citizen("c43@example.cn", 43).await;
    let dept = department_of(&app, order_id, "dept43@example.cn").await;

    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            &json!({"order_id": order_id, "body": "没有适合老年人使用的应用"}),
            Some(&citizen),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["app_id"], Value::Null);
    let id = filed["id"].as_i64().unwrap();
    let answer = format!("/api/v1/complaints/{id}/answer");
    let reopen = format!("/api/v1/complaints/{id}/reopen");

    let (status, _) = app.post_json(&reopen, &json!({}), Some(&citizen)).await;
    assert_eq!(status, 409, "an open complaint cannot be reopened");
    let (status, _) = app
        .post_json(&answer, &json!({"answer": "已联系开发商改进"}), Some(&dept))
        .await;
    assert_eq!(status, 200);
    let (status, again) = app.post_json(&reopen, &json!({}), Some(&citizen)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "open");
    assert_eq!(
        notification_kinds(&app, &dept).await,
        ["complaint.reopened", "complaint.filed"],
        "the department hears that the complaint is back, newest first"
    );
    assert_eq!(
        notification_kinds(&app, &citizen).await,
        ["complaint.answered"]
    );
    let (status, second) = app
        .post_json(&answer, &json!({"answer": "已上架大字版应用"}), Some(&dept))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["answer"], "已上架大字版应用");
}

#[tokio::test]
async fn bad_complaints_are_refused_and_nothing_is_written() {
    // Refusals count against the filing allowance too; this test is about
    // the refusals, not the limit.
    let app = spawn_app_with(|c| {
        c.rating_rate = service::ratelimit::Rate {
            per_minute: 1_000,
            burst: 100,
        }
    })
    .await;
    let order_id = order(&app, "社保缴费记录查询", 44).await;
    let other_order = order(&app, "医保报销进度查询", 45).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c44@example.cn", 44).await;
    let conn = app.state.db.conn();
    let mut draft = orders::Entity::find_by_id(other_order)
        .one(conn)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    draft.status = Set("draft".into());
    draft.update(conn).await.unwrap();

    let cases = [
        (json!({"body": "无对象"}), 422, Some("app_id")),
        (
            json!({"app_id": a.app_id, "body": "   "}),
            422,
            Some("body"),
        ),
        (
            json!({"app_id": a.app_id, "body": "长".repeat(2001)}),
            422,
            Some("body"),
        ),
        (
            json!({"app_id": a.app_id, "order_id": other_order, "body": "不匹配"}),
            422,
            Some("order_id"),
        ),
        (
            json!({"app_id": 999_999, "body": "没有这个应用"}),
            404,
            None,
        ),
        (
            json!({"order_id": other_order, "body": "草稿需求"}),
            404,
            None,
        ),
        (
            json!({"app_id": a.app_id, "body": "x", "extra": 1}),
            422,
            None,
        ),
        (json!({"app_id": "one", "body": "x"}), 422, None),
        (
            json!({"app_id": a.app_id, "body": "从没用过这个应用"}),
            422,
            Some("app_id"),
        ),
    ];
    for (body, want, field) in cases {
        let (status, resp) = app
            .post_json("/api/v1/complaints", &body, Some(&citizen))
            .await;
        assert_eq!(status, want, "{body} -> {resp}");
        assert!(resp["error"]["code"].is_string(), "{resp}");
        if let Some(f) = field {
            assert_eq!(resp["error"]["field"], f, "{resp}");
        }
    }
    let (status, _) = app
        .post_json(
            "/api/v1/complaints",
            &json!({"app_id": a.app_id, "body": "ISV 不能投诉"}),
            Some(&a.isv_token),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            "/api/v1/complaints",
            &json!({"app_id": a.app_id, "body": "未登录"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn supervisors_see_complaints_past_their_deadline() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 46).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c46@example.cn", 46).await;
    let sup = app
        .staff(domain::Role::Supervisor, "sup46@example.cn")
        .await;
    let finance = app.staff(domain::Role::Finance, "fin46@example.cn").await;
    let (status, _) = invoke(&app, &citizen, a.app_id, json!({"months": 6}), None).await;
    assert_eq!(status, 200);
    let mut ids = Vec::new();
    for body in ["第一条", "第二条", "第三条"] {
        let (status, filed) = app
            .post_json(
                "/api/v1/complaints",
                &json!({"app_id": a.app_id, "body": body}),
                Some(&citizen),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(filed["id"].as_i64().unwrap());
    }
    // The first one's deadline passed a day ago.
    let conn = app.state.db.conn();
    let mut late = complaints::Entity::find_by_id(ids[0])
        .one(conn)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    late.deadline = Set(store::now() - chrono::Duration::days(1));
    late.update(conn).await.unwrap();

    let (status, overdue) = app
        .get_json("/api/v1/complaints?overdue=true", Some(&sup))
        .await;
    assert_eq!(status, 200, "{overdue}");
    let items = overdue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[0]);
    assert_eq!(items[0]["overdue"], true);

    // Every supervisor is told once, however many nodes look at once.
    let sup2 = app
        .staff(domain::Role::Supervisor, "sup46b@example.cn")
        .await;
    let now = store::now();
    let (a1, a2) = tokio::join!(
        service::complaints::notify_overdue(&app.state, now),
        service::complaints::notify_overdue(&app.state, now)
    );
    assert_eq!(a1.unwrap() + a2.unwrap(), 1, "one complaint, told once");
    assert_eq!(
        service::complaints::notify_overdue(&app.state, now)
            .await
            .unwrap(),
        0
    );
    for token in [&sup, &sup2] {
        let kinds = notification_kinds(&app, token).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "complaint.overdue").count(),
            1,
            "{kinds:?}"
        );
    }
    assert!(
        !notification_kinds(&app, &finance)
            .await
            .contains(&"complaint.overdue".to_owned())
    );

    // Pages of one, newest first, cover all three.
    let mut seen = Vec::new();
    let mut path = "/api/v1/complaints?limit=1".to_owned();
    loop {
        let (status, page) = app.get_json(&path, Some(&sup)).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["next"].as_i64() {
            Some(next) => path = format!("/api/v1/complaints?limit=1&cursor={next}"),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let (status, _) = app.get_json("/api/v1/complaints", Some(&finance)).await;
    assert_eq!(status, 403);
    let (status, body) = app
        .get_json("/api/v1/complaints?status=closed", Some(&sup))
        .await;
    assert_eq!(status, 400, "{body}");
}
