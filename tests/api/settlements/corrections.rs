//! Corrections of an approved run: adjustment lines of the next period,
//! netted per ISV, recorded through the API and the finance pages.

use super::paying::wait_for;
use super::*;

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
    // Four eyes: another finance user approves what `finance` drafted.
    let approver = app.staff(Role::Finance, "q2-approver@example.cn").await;
    let (s, b) = app
        .post_json(
            &format!("/api/v1/settlements/{id}/approve"),
            &json!({}),
            Some(&approver),
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
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;

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
        Some(&approver),
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
    let approver = app
        .staff(Role::Finance, "finance-approver@example.cn")
        .await;
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
        Some(&approver),
    )
    .await;
    let (s, body) = app
        .post_json(
            &format!("/api/v1/settlements/{q3_id}/payout"),
            &json!({}),
            Some(&approver),
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

    let (_, html) = app.get_page("/login").await;
    let token = hidden_csrf(&html);
    let resp = app
        .post_form(
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
    let (status, html) = app.get_page(&run_path).await;
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
    let resp = app
        .post_form(
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
    let resp = app
        .post_form(
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
    let resp = app
        .post_form(
            &post,
            &[("line_id", &a_line), ("amount_fen", "-5"), ("reason", "x")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);

    let resp = app
        .post_form(
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
    let (_, html) = app.get_page(&run_path).await;
    assert!(html.contains("刷量：脚本调用"));
    assert!(html.contains("等待计入下一份以后周期的草稿"));

    // The next period's draft shows the adjustment line and where it came from.
    let resp = app
        .post_form(
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
    let (_, html) = app.get_page(&q3_path).await;
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
    let (_, html) = app.get_page(&run_path).await;
    assert!(
        html.contains("已计入结算"),
        "the Q2 page links the run that took it in"
    );
}
