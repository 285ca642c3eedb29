//! Settlement reads suspensions as intervals of the app's own status:
//! usage while suspended earns nothing, an app suspended all quarter is
//! ineligible as such, and no reason's wording matters.

use chrono::{DateTime, Utc};
use domain::Role;
use e2e::spawn_app;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;
use store::entity::app_suspensions;

use super::{draft, market, payment, shanghai};

async fn suspension(
    app: &e2e::TestApp,
    app_id: i64,
    reason: &str,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) {
    app_suspensions::ActiveModel {
        app_id: Set(app_id),
        reason: Set(reason.into()),
        suspended_by: Set(None),
        suspended_at: Set(from),
        reinstated_at: Set(until),
        reinstated_by: Set(None),
        reinstate_reason: Set(until.map(|_| "复核后恢复".into())),
        ..Default::default()
    }
    .insert(app.state.db.conn())
    .await
    .expect("suspension");
}

#[tokio::test]
async fn usage_while_suspended_earns_nothing_and_a_whole_quarter_suspension_is_ineligible() {
    let app = spawn_app().await;
    let m = market(&app).await;
    // B: suspended from 1 September to 5 October; its use at 23:59:59 on
    // 30 September falls inside, its two uses on 1 August do not. The
    // reason names no fraud: the interval is what counts.
    suspension(
        &app,
        m.apps[1].0,
        "评价异常，待核查",
        shanghai(2026, 9, 1, 0, 0, 0),
        Some(shanghai(2026, 10, 5, 0, 0, 0)),
    )
    .await;
    // C: suspended since before Q3 and never reinstated.
    suspension(
        &app,
        m.apps[2].0,
        "待核查",
        shanghai(2026, 6, 15, 0, 0, 0),
        None,
    )
    .await;
    // A: a suspension wholly after Q3 changes nothing of Q3.
    suspension(
        &app,
        m.apps[0].0,
        "fraud 欺诈 刷量",
        shanghai(2026, 10, 2, 0, 0, 0),
        None,
    )
    .await;

    let finance = app.staff(Role::Finance, "finance-s@example.cn").await;
    let (status, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(status, 201, "{d}");
    let a = payment(&d, m.apps[0].0);
    let b = payment(&d, m.apps[1].0);
    let c = payment(&d, m.apps[2].0);
    assert_eq!(a["users"], 6, "{a}");
    assert_eq!(a["eligibility"], "eligible", "{a}");
    assert_eq!(b["users"], 2, "the use while suspended is left out: {b}");
    assert_eq!(b["eligibility"], "eligible", "{b}");
    assert_eq!(c["eligibility"], "suspended_for_fraud", "{c}");
    assert_eq!(c["amount_fen"], 0, "{c}");
    let total: i64 = [a, b]
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(total, super::BUDGET_FEN);
}

#[tokio::test]
async fn an_approved_run_records_the_public_audit_head_and_a_truncation_is_caught() {
    let app = spawn_app().await;
    let _m = market(&app).await;
    let (status, empty) = app.get_json("/api/v1/public/audit/head", None).await;
    assert_eq!(status, 200, "{empty}");
    let finance = app.staff(Role::Finance, "finance-h@example.cn").await;
    let approver = app
        .staff(Role::Finance, "finance-h-approver@example.cn")
        .await;
    let (status, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(status, 201, "{d}");
    let id = d["run"]["id"].as_i64().unwrap();
    let (status, body) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&approver),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The head at approval is the approval's own entry, and the public head.
    let (status, head) = app.get_json("/api/v1/public/audit/head", None).await;
    assert_eq!(status, 200, "{head}");
    let recorded = store::settlements::audit_head_of(app.state.db.conn(), id)
        .await
        .unwrap()
        .expect("head recorded at approval");
    assert_eq!(head["seq"], recorded.0);
    assert_eq!(head["hash"], recorded.1.as_str());
    let approval = store::audit::list(app.state.db.conn(), None, 1)
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(approval.action, "settlement.approved");
    assert_eq!(head["entry_id"], approval.id);

    let check = format!(
        "/api/v1/public/audit/verify?seq={}&hash={}",
        recorded.0, recorded.1
    );
    let (status, ok) = app.get_json(&check, None).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["ok"], true, "{ok}");
    // The public page lists the head with its period and checks it.
    let visitor = e2e::Browser::new(&app);
    let (status, html) = visitor.get("/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains(&recorded.1), "the published head: {html}");
    let page_check = format!("/audit?seq={}&hash={}", recorded.0, recorded.1);
    let (status, html) = visitor.get(&page_check).await;
    assert_eq!(status, 200);
    assert!(html.contains("日志仍然延续这个链头"), "{html}");
    for bad in ["seq=x&hash=y", "seq=-1&hash=00", "seq=3&hash=zz"] {
        let (status, html) = visitor.get(&format!("/audit?{bad}")).await;
        assert_eq!(status, 422, "{bad}");
        assert!(
            html.contains("error-summary") || html.contains("error-message"),
            "{html}"
        );
    }
    // Truncating the newest entries: the chain alone still verifies, the
    // published head does not.
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .conn()
        .execute_unprepared(&format!(
            "DELETE FROM audit_events WHERE seq >= {}",
            recorded.0 - 1
        ))
        .await
        .unwrap();
    let (_, bad) = app.get_json(&check, None).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(bad["first_bad"], recorded.0 - 1, "the first removed entry");
    let (status, html) = visitor.get(&page_check).await;
    assert_eq!(status, 200);
    assert!(html.contains("日志不再延续这个链头"), "{html}");
    assert!(html.contains(&format!("#{}", recorded.0 - 1)), "{html}");
    let (status, body) = app
        .get_json("/api/v1/public/audit/verify?seq=x&hash=y", None)
        .await;
    assert_eq!(status, 400, "{body}");
}
