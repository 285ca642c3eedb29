//! Fraud signals through the supervisor's pages, as a browser without
//! JavaScript uses them: the dashboard's count, the list, the evidence,
//! a refused and an accepted confirmation, and the draft's U afterwards.

use domain::Role;
use e2e::{Browser, hidden_csrf, spawn_app};
use serde_json::json;

use super::fraud::{detect, invalid_count, plant_heavy_citizens};
use super::{draft, market, payment};

#[tokio::test]
async fn a_supervisor_confirms_a_fraud_signal_through_the_pages_and_the_drafts_u_drops() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let a = m.apps[0].0;
    plant_heavy_citizens(&app, &m).await;
    detect(&app).await;
    app.staff(Role::Supervisor, "sup-web@example.cn").await;
    let sup = Browser::signed_in(&app, "sup-web@example.cn").await;
    let (status, html) = sup.get("/supervise").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<strong id="count-signals">1</strong>"#),
        "{html}"
    );
    let (status, html) = sup.get("/supervise/signals").await;
    assert_eq!(status, 200);
    let id = app.state.db.conn();
    let signal = store::fraud::list(id, Some(domain::SignalStatus::Open))
        .await
        .expect("signals")
        .remove(0);
    let detail = format!("/supervise/signals/{}", signal.id);
    assert!(html.contains(&format!(r#"href="{detail}""#)), "{html}");
    assert!(html.contains("单个市民调用远超常态"), "zh-CN by default");

    let (status, html) = sup.get(&detail).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<td class="num">60</td>"#),
        "observed: {html}"
    );
    assert!(html.contains(&format!("#{}", m.citizens[4])), "{html}");
    assert!(!html.contains(&format!("<td>#{}</td>", m.citizens[0])));

    // No reason: 422, the error in the summary and beside the field.
    let token = hidden_csrf(&html);
    let confirm = format!("{detail}/confirm");
    let resp = sup
        .post_form(&confirm, &[("csrf_token", &token), ("reason", "  ")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains(r##"href="#reason-confirm""##), "{html}");
    assert!(html.contains(r#"id="reason-confirm-error""#), "{html}");
    assert_eq!(invalid_count(&app, a).await, 1, "nothing flagged");

    let resp = sup
        .post_form(
            &confirm,
            &[("csrf_token", &token), ("reason", "半小时内调用 60 次")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(to, format!("{detail}?done=confirmed"));
    let (_, html) = sup.get(&to).await;
    assert!(html.contains(r#"id="done""#), "{html}");
    assert!(html.contains(r#"<dd id="flagged-uses">120</dd>"#), "{html}");
    assert!(!html.contains(&confirm), "no forms once decided");
    assert_eq!(invalid_count(&app, a).await, 121);

    // Deciding again by a stale form: 409, said in the summary at the top
    // of the signal's page, which now shows the decision and no forms.
    let resp = sup
        .post_form(
            &format!("{detail}/dismiss"),
            &[("csrf_token", &token), ("reason", "误报")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains("该欺诈信号已处理"), "{html}");

    let (_, html) = sup.get("/supervise").await;
    assert!(html.contains(r#"<strong id="count-signals">0</strong>"#));
    let finance = app.staff(Role::Finance, "finance-web@example.cn").await;
    let (_, d) = draft(&app, &finance, json!({"period": "2026Q3"})).await;
    assert_eq!(
        payment(&d, a)["users"],
        4,
        "the two flagged citizens left U"
    );

    // Unknown signal: the not-found page; another role: 403.
    let (status, _) = sup.get("/supervise/signals/999999").await;
    assert_eq!(status, 404);
    app.staff(Role::Finance, "fin-pages@example.cn").await;
    let other = Browser::signed_in(&app, "fin-pages@example.cn").await;
    for path in ["/supervise/signals", detail.as_str()] {
        let (status, _) = other.get(path).await;
        assert_eq!(status, 403, "{path}");
    }
}

#[tokio::test]
async fn confirming_usage_of_an_approved_period_is_refused_beside_the_reason() {
    let app = spawn_app().await;
    let m = market(&app).await;
    plant_heavy_citizens(&app, &m).await;
    let finance = app.staff(Role::Finance, "finance-web@example.cn").await;
    let approver = app.staff(Role::Finance, "approver-web@example.cn").await;
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
    app.staff(Role::Supervisor, "sup-web2@example.cn").await;
    let sup = Browser::signed_in(&app, "sup-web2@example.cn").await;
    let signal = store::fraud::list(app.state.db.conn(), None)
        .await
        .expect("signals")
        .remove(0);
    let detail = format!("/supervise/signals/{}", signal.id);
    let (_, html) = sup.get(&detail).await;
    let token = hidden_csrf(&html);
    let resp = sup
        .post_form(
            &format!("{detail}/confirm"),
            &[("csrf_token", &token), ("reason", "刷量")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(html.contains(r#"id="reason-confirm-error""#), "{html}");
    assert!(html.contains("2026Q3"), "names the period: {html}");
    assert!(html.contains(r#"value="刷量""#), "the reason is kept");
    assert_eq!(invalid_count(&app, m.apps[0].0).await, 1, "nothing flagged");
}
