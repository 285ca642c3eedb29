//! Rules with every order: the department's rules document (Markdown,
//! rendered safely on the order page, in the starter kit), and a rule
//! label per case that vendors see beside a hidden case's verdict, never
//! its data.

use domain::Role;
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::orders::{draft_si_order, put_raw, si_cases};
use crate::pipeline::{drain, upload, wasm};

const RULES: &str = "# 社保缴费记录查询规则\n\n## 规则\n\n1. **无记录**：`found` 为 false。\n\n\
                     <script>alert('x')</script>\n\n[点我](javascript:alert(1))\n";

async fn put_rules(app: &TestApp, token: &str, id: i64, markdown: &str) -> (u16, Value) {
    put_raw(
        app,
        &format!("/api/v1/orders/{id}/rules"),
        serde_json::to_vec(&json!({ "markdown": markdown })).expect("json"),
        "application/json",
        token,
    )
    .await
}

#[tokio::test]
async fn the_department_writes_the_rules_everyone_reads_them_rendered_safely_and_in_the_kit() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let other = app.staff(Role::Department, "other@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let id = draft_si_order(&app, &dept).await;

    let (status, body) = put_rules(&app, &dept, id, RULES).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rules"], RULES.trim());
    let audited = store::entity::audit_events::Entity::find()
        .filter(store::entity::audit_events::Column::Action.eq("order.rules"))
        .filter(store::entity::audit_events::Column::ObjectId.eq(id))
        .count(app.state.db.conn())
        .await
        .expect("audit");
    assert_eq!(audited, 1);

    // Only the order's own department writes them; bad input names the field.
    let (status, _) = put_rules(&app, &other, id, "# 别人的").await;
    assert_eq!(status, 403);
    let (status, _) = put_rules(&app, &isv, id, "# 服务商的").await;
    assert_eq!(status, 403);
    let (status, body) = put_rules(&app, &dept, id, &"长".repeat(20_001)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "markdown", "{body}");
    let (status, body) = put_raw(
        &app,
        &format!("/api/v1/orders/{id}/rules"),
        br#"{"markdown": 3}"#.to_vec(),
        "application/json",
        &dept,
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");

    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, order) = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&isv))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        order["rules"],
        RULES.trim(),
        "unchanged by the refused writes"
    );

    // The order page renders the Markdown, with nothing active left in it.
    let (status, html) = app.get_page(&format!("/orders/{id}")).await;
    assert!(
        html.contains("href=\"/docs/abi\""),
        "the order page links the ABI guide"
    );
    assert_eq!(status, 200);
    assert!(html.contains("<h1>社保缴费记录查询规则</h1>"), "{html}");
    assert!(html.contains("<strong>无记录</strong>"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("javascript:alert"), "{html}");

    // The starter kit carries them as RULES.md.
    let bytes = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/starter-kit.zip")))
        .send()
        .await
        .expect("kit")
        .bytes()
        .await
        .expect("bytes");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
    let mut rules = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("RULES.md").expect("RULES.md"), &mut rules)
        .expect("utf-8");
    assert_eq!(rules, RULES.trim());

    // The department edits them from its order page too.
    let browser = Browser::signed_in(&app, "dept@example.cn").await;
    let (_, page) = browser.get(&format!("/dept/orders/{id}")).await;
    let csrf = e2e::hidden_csrf(&page);
    let resp = browser
        .post_form(
            &format!("/dept/orders/{id}/rules"),
            &[("csrf_token", &csrf), ("rules", "# 新规则\n\n- 一条")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, page) = browser.get(&format!("/dept/orders/{id}")).await;
    assert!(page.contains("<h1>新规则</h1>"), "{page}");
}

#[tokio::test]
async fn a_vendor_sees_each_hidden_cases_rule_beside_its_verdict_never_its_data() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv = app.staff(Role::Isv, "isv@example.cn").await;
    let id = draft_si_order(&app, &dept).await;
    let mut cases = si_cases();
    for (i, c) in cases.as_array_mut().expect("cases").iter_mut().enumerate() {
        c["rule"] = json!(format!("规则 {}：按窗口统计", i % 3 + 1));
    }
    // A label over the limit is refused, naming the case's field.
    let mut long = cases.clone();
    long[1]["rule"] = json!("长".repeat(81));
    let suite = |cases: &Value| serde_json::to_vec(&json!({ "cases": cases })).expect("json");
    let path = format!("/api/v1/orders/{id}/test-suite");
    let (status, body) = put_raw(&app, &path, suite(&long), "application/json", &dept).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "cases[1].rule", "{body}");
    let (status, body) = put_raw(&app, &path, suite(&cases), "application/json", &dept).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{id}/publish"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (_, up) = upload(&app, &isv, id, "有缺陷的版本", wasm("si_lookup_buggy")).await;
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let (status, v) = app
        .get_json(&format!("/api/v1/versions/{vid}"), Some(&isv))
        .await;
    assert_eq!(status, 200);
    let report = v["report"]["cases"].as_array().expect("cases");
    let by_id: std::collections::BTreeMap<&str, &Value> = cases
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| (c["id"].as_str().expect("id"), c))
        .collect();
    let mut hidden = 0;
    for c in report {
        let id = c["id"].as_str().expect("id");
        assert_eq!(c["rule"], by_id[id]["rule"], "{c}");
        if c["visibility"] == "hidden" {
            hidden += 1;
            let keys: Vec<&str> = c
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys.len(), 4, "only id, visibility, verdict and rule: {c}");
        }
    }
    assert!(hidden > 0);
    // The version page shows the rule beside the verdict.
    let browser = Browser::signed_in(&app, "isv@example.cn").await;
    let (status, page) = browser.get(&format!("/isv/versions/{vid}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("规则 2：按窗口统计"), "{page}");
}
