//! Quarterly settlement and payouts: finance drafts, approves and pays a
//! past quarter; ISVs see their statements; the public sees approved runs.
//! The market is built directly in the database (orders, apps, published
//! versions, usage events, ratings with history), so these journeys test
//! settlement alone.

use chrono::{DateTime, TimeZone, Utc};
use domain::Role;
use e2e::{TestApp, hidden_csrf, spawn_app};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use store::entity::{
    apps, module_blobs, orders, organisations, rating_history, ratings, users, versions,
};
use store::usage::NewInvocation;

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
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/payout"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 409, "paying an unapproved run: {b}");
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&finance),
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
            Some(&finance),
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
        Some(&finance),
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

/// Pays through the ledger: the ISV without a payout account is held with
/// the reason, the rest are confirmed; once it records an account and
/// finance retries, the run is paid.
#[tokio::test]
async fn an_isv_without_a_payout_account_is_held_and_the_rest_are_paid() {
    let app = spawn_app().await;
    let m = market(&app).await;
    store::orgs::set_payout_account(app.state.db.conn(), m.isv_orgs[0], Some("acct_isv1".into()))
        .await
        .unwrap();
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/payout"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let detail = wait_for(&app, &finance, id, |d| {
        d["payouts"].as_array().is_some_and(|ps| {
            ps.iter()
                .all(|p| p["status"] != "pending" && p["status"] != "sent")
        })
    })
    .await;
    assert_eq!(detail["run"]["status"], "paying");
    let payouts = detail["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 3);
    let held: Vec<&Value> = payouts.iter().filter(|p| p["status"] == "held").collect();
    assert_eq!(held.len(), 1, "{detail}");
    assert!(
        held[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("payout account")
    );
    assert_eq!(
        payouts
            .iter()
            .filter(|p| p["status"] == "confirmed")
            .count(),
        2
    );
    assert!(payouts.iter().all(|p| p["provider"] == "ledger"));

    // Retrying before the ISV has an account changes nothing.
    let held_id = held[0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post_json(
            &format!("/api/v1/payouts/{held_id}/retry"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 409);
    store::orgs::set_payout_account(app.state.db.conn(), m.isv_orgs[1], Some("acct_isv2".into()))
        .await
        .unwrap();
    let (s, b) = app
        .post_json(
            &format!("/api/v1/payouts/{held_id}/retry"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let detail = wait_for(&app, &finance, id, |d| d["run"]["status"] == "paid").await;
    assert!(detail["run"]["paid_at"].is_string());

    // The treasury's CSV lists every instruction.
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/settlements/{id}/payouts.csv")))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("acct_isv2"));
}

async fn wait_for(app: &TestApp, token: &str, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (_, d) = app
            .get_json(&format!("/api/v1/settlements/{id}"), Some(token))
            .await;
        if done(&d) {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not reach the expected state");
}

#[tokio::test]
async fn an_isv_sees_only_its_own_statements_and_records_its_payout_account() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    // Put the test ISV user in the first ISV organisation.
    use sea_orm::{ColumnTrait, QueryFilter};
    users::Entity::update_many()
        .col_expr(
            users::Column::OrgId,
            sea_orm::sea_query::Expr::value(m.isv_orgs[0]),
        )
        .filter(users::Column::Email.eq("isv@example.cn"))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    let (_, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(s["items"], json!([]), "drafts are not statements yet");
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let (status, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(status, 200, "{s}");
    let lines = s["items"][0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "apps A and C, not B: {s}");
    assert!(lines.iter().all(|l| l["isv_org_id"] == m.isv_orgs[0]));

    let put = |body: Value| {
        let req = app
            .client
            .put(app.url("/api/v1/me/payout-account"))
            .bearer_auth(&isv)
            .json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(json!({"account": "not-an-account"})).await, 422);
    assert_eq!(put(json!({"account": "acct_1ABCdef"})).await, 200);
    let (_, s) = app.get_json("/api/v1/statements", Some(&isv)).await;
    assert_eq!(s["payout_account"], "acct_1ABCdef");
}

/// Crash safety against the fake Stripe: the transfer of the second line is
/// made but its answer never arrives; the worker is killed there and
/// started again. Every line is paid exactly once.
#[tokio::test]
async fn a_payout_killed_mid_transfer_resumes_and_pays_every_line_exactly_once() {
    use payouts::fake::{FakeStripe, Injected};
    let app = spawn_app().await;
    let m = market(&app).await;
    for (i, org) in m.isv_orgs.iter().enumerate() {
        store::orgs::set_payout_account(app.state.db.conn(), *org, Some(format!("acct_isv{i}")))
            .await
            .unwrap();
    }
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, d) = draft(
        &app,
        &finance,
        json!({"period": "2026Q3", "params": {"reward_pool_fen": 300}}),
    )
    .await;
    let id = d["run"]["id"].as_i64().unwrap();
    let paid_lines = d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["amount_fen"].as_i64().unwrap() > 0)
        .count();
    assert!(paid_lines >= 4, "{d}");
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let actor = service::Actor::system();
    let by = service::settlement::audited_by(&actor);
    store::settlements::start_payout(&app.state.db, id, "stripe", &by)
        .await
        .unwrap();

    let fake = FakeStripe::start("sk_test_crash").await.unwrap();
    fake.inject(2, Injected::Stall);
    let config = payouts::StripeConfig {
        secret_key: "sk_test_crash".into(),
        base_url: fake.base_url(),
        timeout: std::time::Duration::from_secs(60),
    };
    let db = app.state.db.clone();
    let provider = payouts::StripeConnect::new(&config).unwrap();
    let worker = tokio::spawn({
        let db = db.clone();
        let actor = actor.clone();
        async move { service::settlement::pay_run(&db, &provider, id, &actor, |_, _| {}).await }
    });
    for _ in 0..200 {
        if fake.transfers().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.transfers().len(),
        2,
        "the second transfer is made, its answer stalls"
    );
    // The process dies here.
    worker.abort();
    let _ = worker.await;
    let states: Vec<String> = store::settlements::payouts_of_run(db.conn(), id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.status)
        .collect();
    assert_eq!(states[0], "confirmed");
    assert_eq!(states[1], "sent", "sent was committed before the call");

    // Restart.
    let provider = payouts::StripeConnect::new(&config).unwrap();
    let report = service::settlement::pay_run(&db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.confirmed, paid_lines);
    let transfers = fake.transfers();
    assert_eq!(transfers.len(), paid_lines, "exactly one transfer per line");
    let mut lines: Vec<String> = transfers
        .iter()
        .map(|t| t.metadata["line_id"].clone())
        .collect();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), paid_lines);
    assert!(
        transfers
            .iter()
            .all(|t| t.transfer_group.as_deref() == Some("2026Q3"))
    );
    let run = store::settlements::find_run(db.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "paid");
    let total: i64 = transfers.iter().map(|t| t.amount).sum();
    assert_eq!(total, run.paid_total_fen);
}

/// A refused transfer fails its line; finance retries it with a new key.
#[tokio::test]
async fn a_refused_transfer_fails_and_a_retry_pays_it_under_a_new_key() {
    use payouts::fake::{FakeStripe, Injected};
    let app = spawn_app().await;
    let m = market(&app).await;
    for org in &m.isv_orgs {
        store::orgs::set_payout_account(app.state.db.conn(), *org, Some("acct_x".into()))
            .await
            .unwrap();
    }
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let id = d["run"]["id"].as_i64().unwrap();
    app.post_json(
        &format!("/api/v1/settlements/{id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let actor = service::Actor::system();
    let by = service::settlement::audited_by(&actor);
    store::settlements::start_payout(&app.state.db, id, "stripe", &by)
        .await
        .unwrap();
    let fake = FakeStripe::start("sk_test_x").await.unwrap();
    fake.inject(1, Injected::Decline);
    let provider = payouts::StripeConnect::new(&payouts::StripeConfig {
        secret_key: "sk_test_x".into(),
        base_url: fake.base_url(),
        timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    let db = &app.state.db;
    let report = service::settlement::pay_run(db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.failed, report.confirmed), (1, 2));
    let failed = store::settlements::payouts_of_run(db.conn(), id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.status == "failed")
        .unwrap();
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .contains("insufficient")
    );
    let retried = store::settlements::retry_payout(db, failed.id, &by)
        .await
        .unwrap();
    assert_ne!(retried.idempotency_key, failed.idempotency_key);
    service::settlement::pay_run(db, &provider, id, &actor, |_, _| {})
        .await
        .unwrap();
    assert_eq!(fake.transfers().len(), 3);
    let run = store::settlements::find_run(db.conn(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "paid");
}

// ------------------------------------------------------------ corrections

/// Q2 usage: apps A (ISV 1) and B (ISV 2) each used by two citizens after
/// their publication on 15 June, no ratings yet (R = m for both): each
/// takes half of the Q2 budget.
async fn q2_usage(app: &TestApp, m: &Market) {
    let at = shanghai(2026, 6, 20, 10, 0, 0);
    let mut events = Vec::new();
    for (app_idx, citizens) in [(0, &m.citizens[0..2]), (1, &m.citizens[2..4])] {
        for &c in citizens {
            events.push(NewInvocation {
                app_id: m.apps[app_idx].0,
                version_id: m.apps[app_idx].0,
                citizen_id: c,
                occurred_at: at,
                period: "2026Q2".into(),
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
        .expect("q2 usage");
}

/// Drafts and approves 2026Q2; returns its detail.
async fn approved_q2(app: &TestApp, m: &Market, finance: &str) -> Value {
    q2_usage(app, m).await;
    let (s, d) = draft(app, finance, json!({"period": "2026Q2"})).await;
    assert_eq!(s, 201, "{d}");
    let id = d["run"]["id"].as_i64().unwrap();
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(finance),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, d) = app
        .get_json(&format!("/api/v1/settlements/{id}"), Some(finance))
        .await;
    d
}

async fn correct(app: &TestApp, token: &str, run: i64, line: i64, body: Value) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/settlements/{run}/lines/{line}/corrections"),
        &body,
        Some(token),
    )
    .await
}

fn adjustments(detail: &Value) -> Vec<&Value> {
    detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "adjustment")
        .collect()
}

#[tokio::test]
async fn a_correction_of_an_approved_run_is_an_adjustment_line_of_the_next_period() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;

    // A draft is recomputed, not corrected.
    q2_usage(&app, &m).await;
    let (_, q2) = draft(&app, &finance, json!({"period": "2026Q2"})).await;
    let q2_id = q2["run"]["id"].as_i64().unwrap();
    let a_line = payment(&q2, m.apps[0].0)["id"].as_i64().unwrap();
    let b_line = payment(&q2, m.apps[1].0)["id"].as_i64().unwrap();
    assert_eq!(payment(&q2, m.apps[0].0)["amount_fen"], BUDGET_FEN / 2);
    let (s, b) = correct(
        &app,
        &finance,
        q2_id,
        a_line,
        json!({"amount_fen": -1, "reason": "x"}),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "correct_draft");
    app.post_json(
        &format!("/api/v1/settlements/{q2_id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let (_, before) = app
        .get_json(&format!("/api/v1/settlements/{q2_id}"), Some(&finance))
        .await;

    let (s, fraud) = correct(
        &app,
        &finance,
        q2_id,
        a_line,
        json!({"amount_fen": -300_000, "reason": "  刷量：两名市民的使用为脚本调用  "}),
    )
    .await;
    assert_eq!(s, 201, "{fraud}");
    assert_eq!(fraud["reason"], "刷量：两名市民的使用为脚本调用");
    assert_eq!(fraud["kind"], "correction");
    assert!(fraud["applied_run_id"].is_null());
    let (s, late) = correct(
        &app,
        &finance,
        q2_id,
        b_line,
        json!({"amount_fen": 50_000, "reason": "漏计的使用 / uncounted usage"}),
    )
    .await;
    assert_eq!(s, 201, "{late}");

    // Bad corrections: each refused with the field, nothing written.
    for (body, status, field) in [
        (
            json!({"amount_fen": 0, "reason": "x"}),
            422,
            Some("amount_fen"),
        ),
        (
            json!({"amount_fen": 5, "reason": "   "}),
            422,
            Some("reason"),
        ),
        (
            json!({"amount_fen": -700_001, "reason": "x"}),
            422,
            Some("amount_fen"),
        ),
        (
            json!({"amount_fen": 1_000_000_000_001_i64, "reason": "x"}),
            422,
            Some("amount_fen"),
        ),
        (json!({"amount_fen": 1.5, "reason": "x"}), 422, None),
        (json!({"amount_fen": "100", "reason": "x"}), 422, None),
        (
            json!({"amount_fen": 5, "reason": "x", "extra": 1}),
            422,
            None,
        ),
    ] {
        let (s, b) = correct(&app, &finance, q2_id, a_line, body.clone()).await;
        assert!(
            s == status || (field.is_none() && s == 400),
            "{body}: {s} {b}"
        );
        if let Some(f) = field {
            assert_eq!(b["error"]["field"], f, "{body}: {b}");
        }
    }
    let (s, _) = correct(
        &app,
        &finance,
        q2_id,
        999_999,
        json!({"amount_fen": 5, "reason": "x"}),
    )
    .await;
    assert_eq!(s, 404, "a line of no run");
    let (s, _) = correct(
        &app,
        &finance,
        999_999,
        a_line,
        json!({"amount_fen": 5, "reason": "x"}),
    )
    .await;
    assert_eq!(s, 404, "no such run");
    let supervisor = app.staff(Role::Supervisor, "sup@example.cn").await;
    let (s, _) = correct(
        &app,
        &supervisor,
        q2_id,
        a_line,
        json!({"amount_fen": 5, "reason": "x"}),
    )
    .await;
    assert_eq!(s, 403, "only finance corrects");

    // The approved run is untouched; the corrections are listed with it.
    let (_, after) = app
        .get_json(&format!("/api/v1/settlements/{q2_id}"), Some(&finance))
        .await;
    assert_eq!(after["run"], before["run"]);
    assert_eq!(after["lines"], before["lines"]);
    assert_eq!(after["corrections"].as_array().unwrap().len(), 2);

    // The next period's draft carries them as adjustment lines.
    let (s, q3) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(s, 201, "{q3}");
    let q3_id = q3["run"]["id"].as_i64().unwrap();
    let adj = adjustments(&q3);
    assert_eq!(adj.len(), 2, "{q3}");
    assert_eq!(adj[0]["amount_fen"], -300_000);
    assert_eq!(adj[0]["app_id"], m.apps[0].0);
    assert_eq!(adj[0]["isv_org_id"], m.isv_orgs[0]);
    assert_eq!(adj[0]["adjusts_run_id"], q2_id);
    assert_eq!(adj[0]["adjusts_line_id"], a_line);
    assert_eq!(adj[0]["correction_id"], fraud["id"]);
    assert_eq!(adj[0]["reason"], "刷量：两名市民的使用为脚本调用");
    let explanation = adj[0]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("2026Q2") && explanation.contains("刷量"),
        "{explanation}"
    );
    assert_eq!(adj[1]["amount_fen"], 50_000);
    // Outside Q3's budget: the payments still add up to it to the fen.
    let payments: i64 = q3["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "payment")
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(payments, BUDGET_FEN);
    assert_eq!(q3["run"]["paid_total_fen"], BUDGET_FEN);
    let (_, q2_now) = app
        .get_json(&format!("/api/v1/settlements/{q2_id}"), Some(&finance))
        .await;
    assert!(
        q2_now["corrections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["applied_run_id"] == q3_id),
        "{q2_now}"
    );

    // Recomputing the draft takes them in once, not twice.
    let (_, again) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(again["run"]["id"], q3_id);
    assert_eq!(adjustments(&again).len(), 2);

    // The CSV names the correction, the original run and line, and why.
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/settlements/{q3_id}/lines.csv")))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("correction_id,adjusts_run_id,adjusts_line_id,reason"),
        "{header}"
    );
    let row = csv
        .lines()
        .find(|l| l.contains(",adjustment,") && l.contains("-300000"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        row.ends_with(&format!(
            ",{},{q2_id},{a_line},刷量：两名市民的使用为脚本调用",
            fraud["id"]
        )),
        "{row}"
    );

    // Audited: who recorded which correction.
    use sea_orm::{ColumnTrait, QueryFilter};
    let audited = store::entity::audit_events::Entity::find()
        .filter(store::entity::audit_events::Column::Action.eq("settlement.correction"))
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
    assert!(
        audited[0].summary.contains("-300000"),
        "{}",
        audited[0].summary
    );
}

#[tokio::test]
async fn negative_adjustments_are_netted_per_isv_and_a_negative_net_is_carried_forward() {
    let app = spawn_app().await;
    let m = market(&app).await;
    for (i, org) in m.isv_orgs.iter().enumerate() {
        store::orgs::set_payout_account(app.state.db.conn(), *org, Some(format!("acct_isv{i}")))
            .await
            .unwrap();
    }
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let q2 = approved_q2(&app, &m, &finance).await;
    let q2_id = q2["run"]["id"].as_i64().unwrap();
    let a_line = payment(&q2, m.apps[0].0)["id"].as_i64().unwrap();
    let b_line = payment(&q2, m.apps[1].0)["id"].as_i64().unwrap();
    // ISV 1 loses all of A's Q2 pay, ISV 2 more than B earns in Q3.
    for (line, amount) in [(a_line, -500_000), (b_line, -400_000)] {
        let (s, b) = correct(
            &app,
            &finance,
            q2_id,
            line,
            json!({"amount_fen": amount, "reason": "刷量"}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }

    let (_, q3) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    let q3_id = q3["run"]["id"].as_i64().unwrap();
    let amount = |app_idx: usize| {
        payment(&q3, m.apps[app_idx].0)["amount_fen"]
            .as_i64()
            .unwrap()
    };
    let (a, b, c) = (amount(0), amount(1), amount(2));
    assert!(
        a + c > 500_000 && b < 400_000,
        "the scenario needs both cases: {a} {b} {c}"
    );
    app.post_json(
        &format!("/api/v1/settlements/{q3_id}/approve"),
        &json!({}),
        Some(&finance),
    )
    .await;
    let (s, body) = app
        .post_json(
            &format!("/api/v1/settlements/{q3_id}/payout"),
            &json!({}),
            Some(&finance),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let d = wait_for(&app, &finance, q3_id, |d| d["run"]["status"] == "paid").await;

    let payouts = d["payouts"].as_array().unwrap();
    let line_of = |p: &Value| {
        d["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == p["line_id"])
            .cloned()
            .unwrap()
    };
    // ISV 1: A's line is offset first (lowest line id), C's paid in full.
    let a_pay = payouts
        .iter()
        .find(|p| line_of(p)["app_id"] == m.apps[0].0)
        .expect("A is paid the rest");
    assert_eq!(a_pay["amount_fen"], a - 500_000);
    assert_eq!(a_pay["offset_fen"], 500_000);
    let c_pay = payouts
        .iter()
        .find(|p| line_of(p)["app_id"] == m.apps[2].0)
        .expect("C is paid");
    assert_eq!(
        (c_pay["amount_fen"].as_i64(), c_pay["offset_fen"].as_i64()),
        (Some(c), Some(0))
    );
    // ISV 2: nothing is paid, never a negative amount.
    assert!(
        payouts
            .iter()
            .all(|p| line_of(p)["isv_org_id"] != m.isv_orgs[1]),
        "{payouts:?}"
    );
    assert!(
        payouts
            .iter()
            .all(|p| p["amount_fen"].as_i64().unwrap() > 0)
    );
    // ... and what it still owes is carried forward as a correction.
    let carried: Vec<&Value> = d["corrections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "carry_forward")
        .collect();
    assert_eq!(carried.len(), 1, "{d}");
    assert_eq!(carried[0]["amount_fen"], b - 400_000);
    assert_eq!(carried[0]["isv_org_id"], m.isv_orgs[1]);
    assert!(carried[0]["applied_run_id"].is_null());
    let b_adjustment = adjustments(&d)
        .into_iter()
        .find(|l| l["isv_org_id"] == m.isv_orgs[1])
        .unwrap();
    assert_eq!(carried[0]["line_id"], b_adjustment["id"]);

    // Every fen accounted for: payouts plus what is carried equal the lines.
    let lines: i64 = d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    let paid: i64 = payouts
        .iter()
        .map(|p| p["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(paid + (b - 400_000), lines);
    assert_eq!(lines, BUDGET_FEN - 900_000);

    // Corrections are public like the amounts they change.
    let (s, public) = app
        .get_json(&format!("/api/v1/public/settlements/{q3_id}"), None)
        .await;
    assert_eq!(s, 200, "{public}");
    let public_adjustments: Vec<&Value> = public["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "adjustment")
        .collect();
    assert_eq!(public_adjustments.len(), 2, "{public}");
    assert!(
        public_adjustments
            .iter()
            .all(|l| l["reason"] == "刷量" && l["adjusts_run_id"] == q2_id)
    );
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn finance_records_a_correction_on_the_run_page_and_sees_it_in_the_next_draft() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let finance = app.staff(Role::Finance, "finance@example.cn").await;
    let q2 = approved_q2(&app, &m, &finance).await;
    let q2_id = q2["run"]["id"].as_i64().unwrap();
    let a_line = payment(&q2, m.apps[0].0)["id"]
        .as_i64()
        .unwrap()
        .to_string();

    let (_, html) = page(&app, "/login").await;
    let token = hidden_csrf(&html);
    let resp = post_form(
        &app,
        "/login",
        &[
            ("csrf_token", &token),
            ("email", "finance@example.cn"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let run_path = format!("/finance/settlements/{q2_id}");
    let (status, html) = page(&app, &run_path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("记录一项更正"),
        "the form is on an approved run"
    );
    assert!(html.contains("<legend"), "the form's fields are grouped");
    let token = hidden_csrf(&html);
    let post = format!("{run_path}/corrections");

    // Bad input: the page again, 422, each message at the top and beside
    // its field, what was typed kept, nothing written.
    let resp = post_form(
        &app,
        &post,
        &[
            ("csrf_token", &token),
            ("line_id", ""),
            ("amount_fen", "1.5"),
            ("reason", " "),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("error-summary"), "{html}");
    for (field, message) in [
        ("line_id", "请选择本次结算中的一行"),
        ("amount_fen", "请以整数分填写更正金额"),
        ("reason", "请填写更正原因"),
    ] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "summary links {field}"
        );
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "message beside {field}"
        );
        assert!(html.contains(message), "{message}");
    }
    assert!(html.contains("value=\"1.5\""), "typed amount kept");
    // More taken back than the line paid: the domain's message, by the field.
    let resp = post_form(
        &app,
        &post,
        &[
            ("csrf_token", &token),
            ("line_id", &a_line),
            ("amount_fen", "-500001"),
            ("reason", "刷量"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"amount_fen-error\""), "{html}");
    assert!(html.contains("不能扣回多于原行支付的金额"), "{html}");
    let (_, d) = app
        .get_json(&format!("/api/v1/settlements/{q2_id}"), Some(&finance))
        .await;
    assert_eq!(d["corrections"], json!([]), "nothing half-written");
    // No CSRF token, no correction.
    let resp = post_form(
        &app,
        &post,
        &[("line_id", &a_line), ("amount_fen", "-5"), ("reason", "x")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);

    let resp = post_form(
        &app,
        &post,
        &[
            ("csrf_token", &token),
            ("line_id", &a_line),
            ("amount_fen", "-120000"),
            ("reason", "刷量：脚本调用"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("{run_path}#corrections")
    );
    let (_, html) = page(&app, &run_path).await;
    assert!(html.contains("刷量：脚本调用"));
    assert!(html.contains("等待计入下一份以后周期的草稿"));

    // The next period's draft shows the adjustment line and where it came from.
    let resp = post_form(
        &app,
        "/finance",
        &[
            ("csrf_token", &token),
            ("period", "2026Q3"),
            ("reward_pool_fen", "0"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let q3_path = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = page(&app, &q3_path).await;
    assert!(
        html.contains(&format!("调整原行 #{a_line} (run {q2_id})")),
        "{html}"
    );
    assert!(html.contains("刷量：脚本调用"));
    assert!(html.contains("-¥1,200.00"), "{html}");
    assert!(
        !html.contains("记录一项更正"),
        "a draft is recomputed, not corrected"
    );
    let (_, html) = page(&app, &run_path).await;
    assert!(
        html.contains("已计入结算"),
        "the Q2 page links the run that took it in"
    );
}
