//! Citizens' data (数据可用不可见): apps see a per-app pseudonym, never
//! the ID number; a contract must say how each dataset may be reached.

use e2e::{resident_id, spawn_app};
use serde_json::json;

use crate::market::{app_with_version, invocation_rows, invoke, order};
use crate::orders::order_body;

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

/// The key of the one query of invocation `id`, as the data access log holds it.
async fn queried_key(app: &e2e::TestApp, id: i64) -> String {
    let q = store::usage::queries_of(app.state.db.conn(), id)
        .await
        .unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0].code > 0, "the citizen's own record was found: {q:?}");
    assert!(!q[0].refused);
    q[0].key.clone()
}

#[tokio::test]
async fn two_apps_see_different_subjects_for_one_citizen_and_none_sees_the_id_number() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 31).await;
    let a = app_with_version(&app, order_id, "社保快查甲", SI_LOOKUP, "published").await;
    let b = app_with_version(&app, order_id, "社保快查乙", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c31@example.cn", 31).await;
    let id_number = resident_id(31);

    let mut keys = Vec::new();
    for (listed, key) in [(&a, "a-1"), (&a, "a-2"), (&b, "b-1")] {
        let (status, body) = invoke(
            &app,
            &citizen,
            listed.app_id,
            json!({"months": 12}),
            Some(key),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // The app found the citizen's record through the pseudonym...
        assert_eq!(body["output"]["found"], true, "{body}");
        assert_eq!(body["output"]["months_paid"], 2, "{body}");
        // ...and nothing it returned carries the ID number.
        assert!(!body.to_string().contains(&id_number), "{body}");
    }
    for listed in [&a, &b] {
        for row in invocation_rows(&app, listed.app_id).await {
            keys.push((listed.app_id, queried_key(&app, row.id).await));
        }
    }
    assert_eq!(keys.len(), 3);
    let (a1, a2, b1) = (&keys[0].1, &keys[1].1, &keys[2].1);
    assert_eq!(a1, a2, "one app sees one stable subject");
    assert_ne!(a1, b1, "two apps cannot link their subjects");
    for (app_id, key) in &keys {
        assert_ne!(key, &id_number);
        assert!(!key.contains(&id_number));
        let citizen_id = invocation_rows(&app, *app_id).await[0].citizen_id;
        assert_eq!(
            key,
            &service::invoke::subject_for_app(&app.state, *app_id, citizen_id),
            "the log holds what the app was given"
        );
    }
}

#[tokio::test]
async fn a_contract_granting_a_dataset_without_an_access_rule_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let dept = app
        .staff(domain::Role::Department, "dept-rule@example.cn")
        .await;
    for (grants, detail) in [
        (json!(["social_insurance"]), "no access rule"),
        (
            json!(["social_insurance:everything"]),
            "invalid access rule",
        ),
        (json!(["traffic:input"]), "invalid access rule"),
    ] {
        let mut body = order_body("无访问规则");
        body["contract"]["datasets"] = grants.clone();
        let (status, resp) = app.post_json("/api/v1/orders", &body, Some(&dept)).await;
        assert_eq!(status, 422, "{grants}: {resp}");
        assert_eq!(resp["error"]["code"], "validation_failed", "{resp}");
        assert_eq!(resp["error"]["field"], "contract.datasets", "{resp}");
        let message = resp["error"]["message"].to_string();
        assert!(
            message.contains("social_insurance") || message.contains("traffic"),
            "{resp}"
        );
        let _ = detail;
    }
    let (_, mine) = app
        .get_json("/api/v1/orders?status=draft", Some(&dept))
        .await;
    assert!(
        !mine.to_string().contains("无访问规则"),
        "nothing half-written: {mine}"
    );

    let mut body = order_body("有访问规则");
    body["contract"]["datasets"] = json!(["social_insurance:subject"]);
    let (status, resp) = app.post_json("/api/v1/orders", &body, Some(&dept)).await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(
        resp["contract"]["datasets"],
        json!(["social_insurance:subject"]),
        "{resp}"
    );
}
