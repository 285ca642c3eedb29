//! Fraud signals and invalid usage: the detector finds a planted heavy
//! citizen (and not the normal ones), a supervisor confirms the signal,
//! and the draft's U drops by exactly the flagged citizens. Confirming
//! usage of an approved period is refused with nothing changed; other
//! roles, unknown ids and second decisions are refused too.

use chrono::{DateTime, Utc};
use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{audit_events, invocations};
use store::usage::NewInvocation;

use super::{Market, draft, market, payment, shanghai};

/// Q3 2026 as a detector window.
pub(super) fn q3() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        shanghai(2026, 7, 1, 0, 0, 0),
        shanghai(2026, 10, 1, 0, 0, 0),
    )
}

/// Citizens 4 and 5 of the market invoke app A 59 more times each in Q3
/// (60 uses each against a norm of one).
pub(super) async fn plant_heavy_citizens(app: &TestApp, m: &Market) -> Vec<i64> {
    let heavy = vec![m.citizens[4], m.citizens[5]];
    let a = m.apps[0].0;
    let mut events = vec![];
    for &c in &heavy {
        for i in 0..59 {
            let at = shanghai(2026, 8, 2, 9, 0, 0) + chrono::TimeDelta::minutes(i);
            events.push(NewInvocation {
                app_id: a,
                version_id: a,
                citizen_id: c,
                occurred_at: at,
                period: "2026Q3".into(),
                verdict: "accepted".into(),
                success: true,
                instructions: 1000,
                latency_us: 500,
                idempotency_key: None,
            });
        }
    }
    store::usage::insert_bulk(app.state.db.conn(), events)
        .await
        .expect("heavy usage");
    heavy
}

pub(super) async fn detect(app: &TestApp) -> service::supervise::detector::DetectReport {
    let (start, end) = q3();
    service::supervise::detector::detect(&app.state, start, end)
        .await
        .expect("detector run")
}

async fn open_signals(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json("/api/v1/supervise/signals?status=open", Some(token))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], Value::Null);
    body["items"].as_array().expect("items").clone()
}

pub(super) async fn invalid_count(app: &TestApp, app_id: i64) -> u64 {
    invocations::Entity::find()
        .filter(invocations::Column::AppId.eq(app_id))
        .filter(invocations::Column::Invalid.eq(true))
        .count(app.state.db.conn())
        .await
        .expect("count")
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .count(app.state.db.conn())
        .await
        .expect("count")
}

#[tokio::test]
async fn a_confirmed_heavy_citizen_signal_drops_the_drafts_u_by_exactly_the_flagged_citizens() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let heavy = plant_heavy_citizens(&app, &m).await;
    let a = m.apps[0].0;
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, before) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(payment(&before, a)["users"], 6);

    let report = detect(&app).await;
    assert_eq!(report.new, 1, "one heavy-citizen signal, nothing else");
    // Re-running the window adds nothing.
    assert_eq!(detect(&app).await.new, 0);

    let signals = open_signals(&app, &supervisor).await;
    assert_eq!(signals.len(), 1, "{signals:?}");
    let s = &signals[0];
    assert_eq!(s["kind"], "heavy_citizen");
    assert_eq!(s["app_id"], a);
    assert_eq!(s["status"], "open");
    assert_eq!(s["evidence"]["observed"], 60);
    assert_eq!(s["evidence"]["norm"], 1);
    assert_eq!(s["evidence"]["threshold"], 50);
    assert_eq!(s["subject_count"], 2);
    let id = s["id"].as_i64().expect("id");

    // The detail names exactly the planted citizens, not the normal ones.
    let (status, detail) = app
        .get_json(
            &format!("/api/v1/supervise/signals/{id}"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    let mut subjects: Vec<i64> = detail["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| s["citizen_id"].as_i64().expect("citizen"))
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, heavy);

    let invalid_before = invalid_count(&app, a).await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/supervise/signals/{id}/confirm"),
            &json!({"reason": "同一账号半小时内调用 60 次"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "confirmed");
    assert_eq!(body["flagged_uses"], 120);
    assert!(body["decided_at"].is_string());
    assert_eq!(invalid_count(&app, a).await, invalid_before + 120);
    let flagged = invocations::Entity::find()
        .filter(invocations::Column::InvalidSignalId.eq(id))
        .all(app.state.db.conn())
        .await
        .expect("flagged");
    assert_eq!(flagged.len(), 120);
    assert!(
        flagged
            .iter()
            .all(|i| heavy.contains(&i.citizen_id) && i.invalid)
    );
    assert_eq!(audit_count(&app, "fraud_signal.confirm").await, 1);
    assert!(open_signals(&app, &supervisor).await.is_empty());

    // The draft, recomputed: U of A drops by exactly the two citizens.
    let (_, after) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(payment(&after, a)["users"], 4);
    // The line says how many uses were left out and why (the market's one
    // use flagged before signals existed, and this signal's 120).
    let why = payment(&after, a)["explanation"]
        .as_str()
        .expect("text")
        .to_owned();
    assert!(
        why.contains("已排除无效使用 121 次") && why.contains(&format!("欺诈信号 #{id}：120 次")),
        "{why}"
    );
    assert!(
        !payment(&after, m.apps[1].0)["explanation"]
            .as_str()
            .expect("text")
            .contains("无效"),
        "B has none"
    );
    assert_eq!(payment(&after, m.apps[1].0)["users"], 3, "B untouched");

    // Deciding twice: 409, nothing more written.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/supervise/signals/{id}/dismiss"),
            &json!({"reason": "再次"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "signal_decided");
    assert_eq!(audit_count(&app, "fraud_signal.dismiss").await, 0);
}

#[tokio::test]
async fn flagging_usage_of_an_approved_period_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let m = market(&app).await;
    plant_heavy_citizens(&app, &m).await;
    let a = m.apps[0].0;
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app.staff(Role::Finance, "approver@example.cn").await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let run = d["run"]["id"].as_i64().expect("run");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/settlements/{run}/approve"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    detect(&app).await;
    let id = open_signals(&app, &supervisor).await[0]["id"]
        .as_i64()
        .expect("id");
    let invalid_before = invalid_count(&app, a).await;

    let (status, body) = app
        .post_json(
            &format!("/api/v1/supervise/signals/{id}/confirm"),
            &json!({"reason": "刷量"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "period_approved");
    assert_eq!(invalid_count(&app, a).await, invalid_before);
    assert_eq!(open_signals(&app, &supervisor).await.len(), 1, "still open");
    assert_eq!(audit_count(&app, "fraud_signal.confirm").await, 0);

    // Dismissing needs no flagging, so it is allowed.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/supervise/signals/{id}/dismiss"),
            &json!({"reason": "已结算，另行调整"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "dismissed");
    assert_eq!(invalid_count(&app, a).await, invalid_before);
}

#[tokio::test]
async fn signals_are_the_supervisors_alone_and_bad_requests_are_refused() {
    let app = spawn_app().await;
    let m = market(&app).await;
    plant_heavy_citizens(&app, &m).await;
    detect(&app).await;
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let id = open_signals(&app, &supervisor).await[0]["id"]
        .as_i64()
        .expect("id");
    let confirm = format!("/api/v1/supervise/signals/{id}/confirm");

    for path in [
        "/api/v1/supervise/signals".to_owned(),
        format!("/api/v1/supervise/signals/{id}"),
    ] {
        let (status, body) = app.get_json(&path, Some(&finance)).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    let (status, _) = app.get_json("/api/v1/supervise/signals", None).await;
    assert_eq!(status, 401);
    let (status, body) = app
        .post_json(&confirm, &json!({"reason": "x"}), Some(&finance))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        invalid_count(&app, m.apps[0].0).await,
        1,
        "only the seeded one"
    );

    let (status, body) = app
        .get_json("/api/v1/supervise/signals/999999", Some(&supervisor))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app
        .post_json(
            "/api/v1/supervise/signals/999999/confirm",
            &json!({"reason": "x"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app
        .get_json("/api/v1/supervise/signals?status=maybe", Some(&supervisor))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "status");
    let (status, body) = app
        .post_json(&confirm, &json!({"reason": "   "}), Some(&supervisor))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .post_json(&confirm, &json!({"because": "x"}), Some(&supervisor))
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert_eq!(open_signals(&app, &supervisor).await.len(), 1);
}

#[tokio::test]
async fn many_accounts_from_one_address_are_a_signal_and_a_family_is_not() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let conn = app.state.db.conn();
    // Five of app A's six citizens came from one address; two others from
    // another. Only keyed hashes are stored.
    let key = &app.state.client_key;
    let farm = service::client_address::hash(key, "198.51.100.9".parse().expect("ip"));
    let home = service::client_address::hash(key, "203.0.113.4".parse().expect("ip"));
    for &c in &m.citizens[0..5] {
        store::fraud::record_address(conn, c, &farm)
            .await
            .expect("farm");
        // Recording twice keeps one row.
        store::fraud::record_address(conn, c, &farm)
            .await
            .expect("again");
    }
    for &c in &m.citizens[5..7] {
        store::fraud::record_address(conn, c, &home)
            .await
            .expect("home");
    }
    let report = detect(&app).await;
    assert_eq!(report.new, 1, "{report:?}");
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let signals = open_signals(&app, &supervisor).await;
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(signals[0]["kind"], "shared_address");
    assert_eq!(signals[0]["app_id"], m.apps[0].0);
    assert_eq!(signals[0]["evidence"]["observed"], 5);
    assert_eq!(signals[0]["evidence"]["counts"]["addresses"], 1);
    assert_eq!(signals[0]["subject_count"], 5);
    let rows = store::entity::client_addresses::Entity::find()
        .count(conn)
        .await
        .expect("count");
    assert_eq!(rows, 7);
}

#[tokio::test]
async fn a_detector_window_is_queued_once_and_run_once_however_many_nodes_ask() {
    use service::supervise::detector_job::{DETECT_JOB, run_one, schedule};
    let app = spawn_app().await;
    let now = store::now();
    // Two nodes tick at the same time: between them they queue each of the
    // last CATCH_UP_WINDOWS windows once.
    let (a, b) = tokio::join!(schedule(&app.state, now), schedule(&app.state, now));
    let windows = service::supervise::detector_job::CATCH_UP_WINDOWS as usize;
    assert_eq!(a.expect("first") + b.expect("second"), windows);
    assert_eq!(schedule(&app.state, now).await.expect("later tick"), 0);
    let queued = store::entity::jobs::Entity::find()
        .filter(store::entity::jobs::Column::Kind.eq(DETECT_JOB))
        .all(app.state.db.conn())
        .await
        .expect("jobs");
    assert_eq!(queued.len(), windows);
    let mut payloads: Vec<String> = queued.iter().map(|j| j.payload.to_string()).collect();
    payloads.sort();
    payloads.dedup();
    assert_eq!(payloads.len(), windows, "one job per window");
    // The nodes claim and run them; each job runs once, then nothing is due.
    let mut runs = 0;
    loop {
        let (a, b) = tokio::join!(run_one(&app.state, "node-a"), run_one(&app.state, "node-b"));
        let ran = usize::from(a.expect("a")) + usize::from(b.expect("b"));
        if ran == 0 {
            break;
        }
        runs += ran;
    }
    assert_eq!(runs, windows);
    for job in &queued {
        let job = store::jobs::get(app.state.db.conn(), job.id)
            .await
            .expect("job")
            .expect("exists");
        assert_eq!(job.status, store::jobs::JobStatus::Done, "{job:?}");
        assert_eq!(job.attempts, 1, "{job:?}");
    }
}
