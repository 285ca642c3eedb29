//! Quarterly settlement and payouts: finance drafts, approves and pays a
//! past quarter; ISVs see their statements; the public sees approved runs.
//! The market is built directly in the database (orders, apps, published
//! versions, usage events, ratings with history), so these journeys test
//! settlement alone. Drafting, approval and the public view here; payouts
//! and statements in `paying`, corrections in `corrections`.

use chrono::{DateTime, TimeZone, Utc};
use domain::Role;
use e2e::{TestApp, hidden_csrf, spawn_app};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use store::entity::{
    apps, module_blobs, orders, organisations, rating_history, ratings, users, versions,
};
use store::usage::NewInvocation;

mod corrections;
mod four_eyes;
mod fraud;
mod fraud_web;
mod paying;
mod suspensions;

const BUDGET_FEN: i64 = 1_000_000;

fn shanghai(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, mi, s)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

/// The market of one order in 2026Q3: three apps by two ISVs.
struct Market {
    order_id: i64,
    /// (app id, isv org id)
    apps: Vec<(i64, i64)>,
    isv_orgs: Vec<i64>,
    citizens: Vec<i64>,
}

async fn org(app: &TestApp, kind: &str, name: &str) -> i64 {
    organisations::ActiveModel {
        kind: Set(kind.into()),
        name: Set(name.into()),
        credit_code: Set(None),
        payout_account: Set(None),
        created_at: Set(store::now()),
        ..Default::default()
    }
    .insert(app.state.db.conn())
    .await
    .expect("org")
    .id
}

/// Builds the market. Usage: app A 6 distinct citizens (one of them twice,
/// plus one failed and one invalid use that do not count), app B 3, app C
/// 2. Ratings at the end of Q3: A 5,5,4 ; B 2,1 (then edited to 5 after
/// the quarter: must not count) ; C none.
async fn market(app: &TestApp) -> Market {
    let conn = app.state.db.conn();
    let dept = org(app, "department", "测试人社局").await;
    let isv1 = org(app, "isv", "甲软件公司").await;
    let isv2 = org(app, "isv", "乙软件公司").await;
    let t0 = shanghai(2026, 6, 1, 9, 0, 0);
    let order = orders::ActiveModel {
        department_org_id: Set(dept),
        created_by: Set(None),
        title: Set("社保查询".into()),
        description: Set("查询社保缴费记录".into()),
        category: Set("社保".into()),
        tags: Set(json!([])),
        budget_fen: Set(BUDGET_FEN),
        deadline: Set(None),
        status: Set("open".into()),
        contract: Set(json!({})),
        pass_threshold_bp: Set(10_000),
        created_at: Set(t0),
        updated_at: Set(t0),
        published_at: Set(Some(t0)),
        closed_at: Set(None),
        suite_revision: Set(0),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("order")
    .id;
    module_blobs::ActiveModel {
        sha256: Set("0".repeat(64)),
        size_bytes: Set(8),
        bytes: Set(b"\0asm\x01\0\0\0".to_vec()),
        created_at: Set(t0),
    }
    .insert(conn)
    .await
    .expect("blob");
    let mut app_ids = Vec::new();
    for (name, isv) in [("甲应用", isv1), ("乙应用", isv2), ("丙应用", isv1)] {
        let a = apps::ActiveModel {
            order_id: Set(order),
            isv_org_id: Set(isv),
            name: Set(name.into()),
            status: Set("active".into()),
            status_reason: Set(None),
            created_at: Set(t0),
            updated_at: Set(t0),
            suspended_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("app")
        .id;
        versions::ActiveModel {
            app_id: Set(a),
            number: Set(1),
            sha256: Set("0".repeat(64)),
            size_bytes: Set(8),
            release_notes: Set(String::new()),
            status: Set("published".into()),
            test_score_bp: Set(Some(10_000)),
            uploaded_by: Set(None),
            created_at: Set(t0),
            published_at: Set(Some(shanghai(2026, 6, 15, 9, 0, 0))),
            superseded_at: Set(None),
            withdrawn_at: Set(None),
            suspended_at: Set(None),
            status_reason: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("version");
        app_ids.push((a, isv));
    }
    let mut citizens = Vec::new();
    for i in 0..8 {
        citizens.push(
            users::ActiveModel {
                email: Set(format!("settle-citizen{i}@example.cn")),
                password_hash: Set("not-a-hash".into()),
                display_name: Set(format!("市民{i}")),
                role: Set("citizen".into()),
                org_id: Set(None),
                id_number: Set(None),
                created_at: Set(t0),
                disabled: Set(false),
                ..Default::default()
            }
            .insert(conn)
            .await
            .expect("citizen")
            .id,
        );
    }
    let in_q3 = shanghai(2026, 8, 1, 10, 0, 0);
    let mut events = Vec::new();
    let mut use_app = |app_idx: usize, citizen: i64, at: DateTime<Utc>, success: bool| {
        let (a, _) = app_ids[app_idx];
        events.push(NewInvocation {
            app_id: a,
            // Version ids follow app ids one to one here.
            version_id: a,
            citizen_id: citizen,
            occurred_at: at,
            period: domain::Period::containing(&at, chrono_tz::Asia::Shanghai)
                .expect("period")
                .to_string(),
            verdict: if success { "accepted" } else { "runtime_error" }.into(),
            success,
            instructions: 1000,
            latency_us: 500,
            idempotency_key: None,
        });
    };
    for &c in &citizens[0..6] {
        use_app(0, c, in_q3, true);
    }
    use_app(0, citizens[0], in_q3, true);
    use_app(0, citizens[6], in_q3, false);
    // The last second of Q3 counts, the first second of Q4 does not.
    use_app(1, citizens[0], shanghai(2026, 9, 30, 23, 59, 59), true);
    use_app(1, citizens[1], in_q3, true);
    use_app(1, citizens[2], in_q3, true);
    use_app(1, citizens[7], shanghai(2026, 10, 1, 0, 0, 0), true);
    use_app(2, citizens[3], in_q3, true);
    use_app(2, citizens[4], in_q3, true);
    store::usage::insert_bulk(conn, events)
        .await
        .expect("invocations");
    // One invalid (fraud-flagged) use by a seventh citizen of app A.
    store::usage::insert_bulk(
        conn,
        vec![NewInvocation {
            app_id: app_ids[0].0,
            version_id: app_ids[0].0,
            citizen_id: citizens[7],
            occurred_at: in_q3,
            period: "2026Q3".into(),
            verdict: "accepted".into(),
            success: true,
            instructions: 1,
            latency_us: 1,
            idempotency_key: Some("flagged".into()),
        }],
    )
    .await
    .expect("flagged use");
    use sea_orm::{ColumnTrait, QueryFilter};
    store::entity::invocations::Entity::update_many()
        .col_expr(
            store::entity::invocations::Column::Invalid,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(store::entity::invocations::Column::IdempotencyKey.eq("flagged"))
        .exec(conn)
        .await
        .expect("flag");

    let rate = |app_idx: usize, citizen: i64, history: Vec<(i32, DateTime<Utc>)>| {
        let app_id = app_ids[app_idx].0;
        async move {
            let (last_stars, last_at) = *history.last().expect("a state");
            let r = ratings::ActiveModel {
                app_id: Set(app_id),
                citizen_id: Set(citizen),
                stars: Set(last_stars),
                comment: Set(None),
                suggestion: Set(None),
                hidden: Set(false),
                created_at: Set(history[0].1),
                updated_at: Set(last_at),
                ..Default::default()
            }
            .insert(conn)
            .await
            .expect("rating");
            for (stars, at) in history {
                rating_history::ActiveModel {
                    rating_id: Set(r.id),
                    app_id: Set(app_id),
                    citizen_id: Set(citizen),
                    stars: Set(stars),
                    comment: Set(None),
                    suggestion: Set(None),
                    hidden: Set(false),
                    recorded_at: Set(at),
                    ..Default::default()
                }
                .insert(conn)
                .await
                .expect("history");
            }
        }
    };
    rate(0, citizens[0], vec![(5, in_q3)]).await;
    rate(0, citizens[1], vec![(5, in_q3)]).await;
    rate(
        0,
        citizens[2],
        vec![(3, in_q3), (4, shanghai(2026, 9, 1, 0, 0, 0))],
    )
    .await;
    rate(1, citizens[1], vec![(2, in_q3)]).await;
    rate(
        1,
        citizens[2],
        vec![(1, in_q3), (5, shanghai(2026, 10, 2, 0, 0, 0))],
    )
    .await;
    Market {
        order_id: order,
        apps: app_ids,
        isv_orgs: vec![isv1, isv2],
        citizens,
    }
}

fn payment(detail: &Value, app_id: i64) -> &Value {
    detail["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["app_id"] == app_id && l["kind"] == "payment")
        .unwrap_or_else(|| panic!("no payment line for app {app_id}: {detail}"))
}

async fn draft(app: &TestApp, finance: &str, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/settlements", &body, Some(finance))
        .await
}

#[tokio::test]
async fn finance_settles_a_past_quarter_from_real_usage_and_ratings_to_the_fen() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (status, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["run"]["status"], "draft");
    assert_eq!(d["run"]["period"], "2026Q3");

    // U: distinct successful valid uses inside Q3 only.
    let a = payment(&d, m.apps[0].0);
    let b = payment(&d, m.apps[1].0);
    let c = payment(&d, m.apps[2].0);
    assert_eq!(
        a["users"], 6,
        "repeat, failed and invalid uses do not count"
    );
    assert_eq!(
        b["users"], 3,
        "23:59:59 on 30 September is Q3, 1 October is not"
    );
    assert_eq!(c["users"], 2);
    // Ratings as they stood at the end of Q3.
    assert_eq!(
        (a["ratings"].clone(), a["sum_stars"].clone()),
        (json!(3), json!(14))
    );
    assert_eq!(
        (b["ratings"].clone(), b["sum_stars"].clone()),
        (json!(2), json!(3)),
        "an edit after the quarter does not count"
    );
    // R = (10*3 + 14) / 13 = 44/13 ; B: 33/12 = 2.75 ; C: 3.
    assert_eq!(a["r"], "44/13");
    assert_eq!(b["r"], "11/4");
    assert_eq!(c["r"], "3");
    // The lines add up to the budget exactly, every amount explained.
    let total: i64 = [a, b, c]
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(total, BUDGET_FEN);
    assert_eq!(d["run"]["paid_total_fen"], BUDGET_FEN);
    assert_eq!(d["run"]["unspent_fen"], 0);
    assert!(a["explanation"].as_str().unwrap().contains("U=6"), "{a}");
    // w = U * R / 5: A 6*44/65, B 3*11/20, C 2*3/5; A earns the most.
    assert!(a["amount_fen"].as_i64() > b["amount_fen"].as_i64());
    assert_eq!(a["budget_fen"], BUDGET_FEN);
    let _ = (m.order_id, &m.isv_orgs, &m.citizens);
}

#[tokio::test]
async fn a_draft_is_recomputed_in_place_with_identical_lines() {
    let app = spawn_app().await;
    market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, first) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let (status, second) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(first["run"]["id"], second["run"]["id"]);
    let strip = |d: &Value| -> Vec<Value> {
        d["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l.as_object_mut().unwrap().remove("id");
                l
            })
            .collect()
    };
    assert_eq!(strip(&first), strip(&second));
}

#[tokio::test]
async fn the_reward_pool_goes_to_the_top_three_by_weight() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (status, d) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"reward_pool_fen": 1000}}),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    let rewards: Vec<&Value> = d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "reward")
        .collect();
    // B is below r_min (2.75 >= 2.5 so it qualifies): all three are ranked.
    assert_eq!(rewards.len(), 3, "{d}");
    assert_eq!(rewards[0]["rank"], 1);
    assert_eq!(rewards[0]["app_id"], m.apps[0].0);
    assert_eq!(rewards[0]["amount_fen"], 500);
    let pool: i64 = rewards
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(pool, 1000);
    assert_eq!(d["run"]["paid_total_fen"], BUDGET_FEN + 1000);
}

#[tokio::test]
async fn bad_settlement_requests_are_refused_with_the_reason() {
    let app = spawn_app().await;
    market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (s, b) = draft(&app, &finance, json!({"period": "2026Q5"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["field"], "period");
    let (s, b) = draft(&app, &finance, json!({"period": "Q3-2026"})).await;
    assert_eq!(
        (s, b["error"]["field"].clone()),
        (422, json!("period")),
        "{b}"
    );
    let (s, b) = draft(&app, &finance, json!({"period": "2099Q1"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "period_not_ended");
    let (s, b) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"reward_pool_fen": -1}}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["field"].clone()),
        (422, json!("params")),
        "{b}"
    );
    let (s, b) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"reward_pool_fen": 10.5}}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["field"].clone()),
        (422, json!("params")),
        "{b}"
    );
    let (s, b) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"c": 10, "typo": 1}}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn only_finance_may_draft_approve_and_pay() {
    let app = spawn_app().await;
    market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let (s, _) = draft(&app, &supervisor, json!({"period": "2026Q3"})).await;
    assert_eq!(s, 403);
    let (s, _) = draft(&app, &isv, json!({"period": "2026Q3"})).await;
    assert_eq!(s, 403);
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, _) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(s, 403);
    // Supervisors may read; ISVs may not read a whole run.
    let (s, _) = app
        .get_json(&format!("/api/v1/settlements/{id}"), Some(&supervisor))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .get_json(&format!("/api/v1/settlements/{id}"), Some(&isv))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .get_json(&format!("/api/v1/settlements/{id}"), None)
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn an_approved_run_is_immutable_and_cannot_be_approved_twice() {
    let app = spawn_app().await;
    market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/payout"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(s, 409, "paying an unapproved run: {b}");
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "approved");
    assert!(b["approved_by"].is_i64());
    assert!(b["approved_at"].is_string());
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "already_settled");
    let (s, _) = app
        .post_json(
            "/api/v1/settlements/999999/approve",
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 404);
    // The approval is in the audit log.
    let events = store::audit::list(app.state.db.conn(), None, 50)
        .await
        .unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.action == "settlement.approved" && e.object_id == Some(id))
    );
}

#[tokio::test]
async fn approved_runs_are_public_and_drafts_are_not() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, list) = app.get_json("/api/v1/public/settlements", None).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"], json!([]));
    let (s, _) = app
        .get_json(&format!("/api/v1/public/settlements/{id}"), None)
        .await;
    assert_eq!(s, 404);
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&approver),
    )
    .await;
    let (_, list) = app.get_json("/api/v1/public/settlements", None).await;
    assert_eq!(list["items"][0]["id"], id);
    let (s, pubd) = app
        .get_json(&format!("/api/v1/public/settlements/{id}"), None)
        .await;
    assert_eq!(s, 200, "{pubd}");
    let line = pubd["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["app_id"] == m.apps[0].0)
        .expect("app A");
    assert_eq!(line["app_name"], "甲应用");
    assert_eq!(line["isv_name"], "甲软件公司");
    assert_eq!(line["rating"], "3.38");
    // The public page renders too.
    let page = app
        .client
        .get(app.url(&format!("/settlements/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("甲应用"));
}

#[tokio::test]
async fn statement_lines_download_as_csv_with_every_input() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/settlements/{id}/lines.csv")))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = resp.text().await.unwrap();
    let mut rows = text.trim_start_matches('\u{feff}').lines();
    let header = rows.next().unwrap();
    assert!(header.starts_with("period,line_id,kind,order_id,app_id"));
    let a = rows
        .find(|r| r.contains(&format!(",payment,{},{},", m.order_id, m.apps[0].0)))
        .expect("app A's line");
    assert!(
        a.contains(",6,3,14,44,13,"),
        "U, n, stars, R as num/den: {a}"
    );
}
