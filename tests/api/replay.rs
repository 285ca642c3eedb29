//! Supervisors' replays of citizens' invocations: the same version, input,
//! seed and clock, from a record sealed at the time and purged after the
//! retention period.

use domain::Role;
use e2e::{TestApp, resident_id, spawn_app};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{dataset_records, datasets};

use crate::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

/// A published social-insurance app, one citizen's successful invocation of
/// it, and a supervisor: (order id, invocation id, supervisor's token).
async fn invoked(app: &TestApp, n: u16) -> (i64, i64, String) {
    let order_id = order(app, "社保缴费记录查询", n).await;
    let listed = app_with_version(app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen(&format!("c{n}@example.cn"), n).await;
    let (status, body) = invoke(app, &citizen, listed.app_id, json!({"months": 12}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"]["months_paid"], 2, "{body}");
    let invocation_id = body["invocation_id"].as_i64().expect("an invocation id");
    let supervisor = app
        .staff(Role::Supervisor, &format!("sup{n}@example.cn"))
        .await;
    (order_id, invocation_id, supervisor)
}

async fn replay(app: &TestApp, id: i64, token: &str) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/supervise/invocations/{id}/replay"),
        &json!({}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn a_replay_reruns_the_invocation_identically_and_is_audited() {
    let app = spawn_app().await;
    let (_, id, supervisor) = invoked(&app, 41).await;

    let (status, report) = replay(&app, id, &supervisor).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["invocation_id"], id);
    assert_eq!(report["identical"], true, "{report}");
    assert_eq!(report["differences"], json!([]), "{report}");
    assert_eq!(report["original"]["verdict"], "accepted");
    assert_eq!(report["replayed"]["verdict"], "accepted");
    let instructions = report["original"]["instructions"].as_u64().unwrap();
    assert!(instructions > 0, "{report}");
    assert_eq!(report["replayed"]["instructions"], instructions);
    assert_eq!(report["original"]["output"]["months_paid"], 2, "{report}");
    assert_eq!(report["original"]["output"], report["replayed"]["output"]);
    assert!(
        !report.to_string().contains(&resident_id(41)),
        "no ID number in the report: {report}"
    );

    let trail = store::audit::verify(app.state.db.conn()).await.unwrap();
    assert!(trail.ok);
    let (status, audit) = app
        .get_json("/api/v1/audit?action=invocation.replay", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{audit}");
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "invocation.replay" && e["object_id"] == id),
        "{audit}"
    );
}

#[tokio::test]
async fn the_replay_record_is_sealed_at_rest() {
    let app = spawn_app().await;
    let (_, id, _) = invoked(&app, 42).await;
    let kept = store::replays::get(app.state.db.conn(), id)
        .await
        .unwrap()
        .expect("a replay record is kept with the invocation");
    for plain in [&b"months"[..], b"months_paid", resident_id(42).as_bytes()] {
        assert!(
            !kept.sealed.windows(plain.len()).any(|w| w == plain),
            "{:?} readable at rest",
            String::from_utf8_lossy(plain)
        );
    }
}

#[tokio::test]
async fn a_replay_after_the_data_changed_names_each_difference() {
    let app = spawn_app().await;
    let (order_id, id, supervisor) = invoked(&app, 43).await;
    let conn = app.state.db.conn();
    // The department's data changes after the invocation: one more payment.
    let ds = datasets::Entity::find()
        .filter(datasets::Column::OrderId.eq(order_id))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let version = ds.version;
    let mut changed: datasets::ActiveModel = ds.clone().into();
    changed.version = Set(version + 100);
    changed.updated_at = Set(store::now());
    changed.update(conn).await.unwrap();
    let row = dataset_records::Entity::find()
        .filter(dataset_records::Column::DatasetId.eq(ds.id))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let mut record = row.record.clone();
    let month = record["records"][0].clone();
    record["records"].as_array_mut().unwrap().push(month);
    let mut edited: dataset_records::ActiveModel = row.into();
    edited.record = Set(record);
    edited.update(conn).await.unwrap();

    let (status, report) = replay(&app, id, &supervisor).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["identical"], false, "{report}");
    assert_eq!(
        report["original"]["output"]["total_personal_fen"], 128_000,
        "{report}"
    );
    assert_eq!(
        report["replayed"]["output"]["total_personal_fen"], 192_000,
        "{report}"
    );
    let kinds: Vec<&str> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"dataset_changed"), "{report}");
    assert!(kinds.contains(&"output"), "{report}");
    assert!(kinds.contains(&"instructions"), "{report}");
    let changed = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "dataset_changed")
        .unwrap();
    assert_eq!(changed["name"], "social_insurance");
    assert_eq!(changed["version_then"], version);
    assert_eq!(changed["version_now"], version + 100);
}

#[tokio::test]
async fn replay_is_for_supervisors_and_a_purged_invocation_is_gone() {
    let app = spawn_app().await;
    let (_, id, supervisor) = invoked(&app, 44).await;
    for role in [Role::Citizen, Role::Isv, Role::Department, Role::Finance] {
        let token = if role == Role::Citizen {
            app.citizen("other44@example.cn", 144).await
        } else {
            app.staff(role, &format!("{role:?}44@example.cn").to_lowercase())
                .await
        };
        let (status, body) = replay(&app, id, &token).await;
        assert_eq!(status, 403, "{role:?}: {body}");
    }
    let (status, _) = replay(&app, id + 1000, &supervisor).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/supervise/invocations/{id}/replay"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // Not yet past the retention period: kept.
    let soon = store::now() + chrono::Duration::days(179);
    assert_eq!(
        service::replay::purge_expired(&app.state, soon)
            .await
            .unwrap(),
        0
    );
    let later = store::now() + chrono::Duration::days(181);
    assert_eq!(
        service::replay::purge_expired(&app.state, later)
            .await
            .unwrap(),
        1
    );
    let (status, body) = replay(&app, id, &supervisor).await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "gone", "{body}");
    // The usage itself stays: it is what settlement pays for.
    assert!(
        store::usage::invocation(app.state.db.conn(), id)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_complaint_names_its_invocation_and_its_handlers_replay_it() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 45).await;
    let listed = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let other = app_with_version(&app, order_id, "参保通", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c45@example.cn", 45).await;
    let neighbour = app.citizen("n45@example.cn", 145).await;
    let use_of = |token: &str, app_id: i64| {
        let token = token.to_owned();
        let app = &app;
        async move {
            let (status, body) = invoke(app, &token, app_id, json!({"months": 12}), None).await;
            assert_eq!(status, 200, "{body}");
            body["invocation_id"].as_i64().unwrap()
        }
    };
    let mine = use_of(&citizen, listed.app_id).await;
    let mine_of_other_app = use_of(&citizen, other.app_id).await;
    let theirs = use_of(&neighbour, listed.app_id).await;
    let file = async |invocation: Value| {
        let body = json!({"app_id": listed.app_id, "body": "查询结果与单位记录不符", "invocation_id": invocation});
        app.post_json("/api/v1/complaints", &body, Some(&citizen))
            .await
    };

    // Someone else's use, a use of another app, or none at all: refused,
    // naming the field, and nothing filed.
    for bad in [json!(theirs), json!(mine_of_other_app), json!(mine + 1000)] {
        let (status, body) = file(bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "invocation_id", "{body}");
    }
    let (_, list) = app.get_json("/api/v1/complaints", Some(&citizen)).await;
    assert_eq!(list["items"], json!([]), "{list}");

    let (status, complaint) = file(json!(mine)).await;
    assert_eq!(status, 201, "{complaint}");
    assert_eq!(complaint["invocation_id"], mine);
    let id = complaint["id"].as_i64().unwrap();
    let path = format!("/api/v1/complaints/{id}/replay");

    // The app's ISV handles it and replays the use; so may a supervisor.
    let supervisor = app.staff(Role::Supervisor, "sup45@example.cn").await;
    for token in [&listed.isv_token, &supervisor] {
        let (status, report) = app.post_json(&path, &json!({}), Some(token)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["invocation_id"], mine);
        assert_eq!(report["identical"], true, "{report}");
        assert!(!report.to_string().contains(&resident_id(45)), "{report}");
    }
    // The citizen has their answer; another ISV cannot see the complaint.
    let (status, _) = app.post_json(&path, &json!({}), Some(&citizen)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(&path, &json!({}), Some(&other.isv_token))
        .await;
    assert_eq!(status, 404);

    // A complaint that names no use has nothing to replay.
    let (status, plain) = app
        .post_json(
            "/api/v1/complaints",
            &json!({"app_id": listed.app_id, "body": "页面难以理解"}),
            Some(&citizen),
        )
        .await;
    assert_eq!(status, 201, "{plain}");
    assert!(plain["invocation_id"].is_null());
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{}/replay", plain["id"]),
            &json!({}),
            Some(&listed.isv_token),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_supervisor_replays_a_complaints_use_on_its_page() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 46).await;
    let listed = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c46@example.cn", 46).await;
    let (status, used) = invoke(&app, &citizen, listed.app_id, json!({"months": 12}), None).await;
    assert_eq!(status, 200, "{used}");
    // The citizen complains from "my data", about that very use.
    let invocation = used["invocation_id"].as_i64().unwrap();
    let mine = e2e::Browser::signed_in(&app, "c46@example.cn").await;
    let (status, html) = mine.get("/account/data").await;
    assert_eq!(status, 200);
    let link = format!(
        "/complaints/new?app={}&amp;invocation={invocation}",
        listed.app_id
    );
    assert!(html.contains(&link), "{html}");
    let (status, html) = mine.get(&link.replace("&amp;", "&")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("name=\"invocation\" value=\"{invocation}\"")),
        "{html}"
    );
    let resp = mine
        .post_form(
            "/complaints/new",
            &[
                ("csrf_token", &e2e::hidden_csrf(&html)),
                ("app", &listed.app_id.to_string()),
                ("order", ""),
                ("invocation", &invocation.to_string()),
                ("body", "金额不对"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (status, list) = app.get_json("/api/v1/complaints", Some(&citizen)).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["invocation_id"], invocation, "{list}");
    let id = list["items"][0]["id"].as_i64().unwrap();
    app.staff(Role::Supervisor, "sup46@example.cn").await;

    let browser = e2e::Browser::signed_in(&app, "sup46@example.cn").await;
    let (status, html) = browser.get(&format!("/complaints/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("action=\"/complaints/{id}/replay\"")),
        "{html}"
    );
    let csrf = e2e::hidden_csrf(&html);
    let resp = browser
        .post_form(
            &format!("/complaints/{id}/replay"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("回放结果与当时完全一致"), "{html}");
    assert!(html.contains("months_paid"), "{html}");
    assert!(!html.contains(&resident_id(46)), "{html}");

    // Without the form's token nothing runs.
    let resp = browser
        .post_form(&format!("/complaints/{id}/replay"), &[])
        .await;
    assert_eq!(resp.status().as_u16(), 403);
}
