//! `govmarket audit replay ID`: an operator reruns a citizen's invocation
//! from its sealed record.

use serde_json::{Value, json};

use crate::{govmarket, serve_demo, text};

#[tokio::test]
async fn an_operator_replays_a_demo_invocation_identically_and_a_missing_one_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, _) = serve_demo(dir.path()).await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "citizen@demo.local", "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("a token").to_owned();
    let market: Value = client
        .get(format!("{base}/api/v1/market"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &market["items"][0];
    let (app_id, order_id) = (
        item["app_id"].as_i64().unwrap(),
        item["order_id"].as_i64().unwrap(),
    );
    // A sample case's input is one the order's schema takes.
    let suite: Value = client
        .get(format!("{base}/api/v1/orders/{order_id}/test-suite"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let input = suite["cases"][0]["input"].clone();
    let invoked = client
        .post(format!("{base}/api/v1/apps/{app_id}/invoke"))
        .bearer_auth(&token)
        .json(&json!({ "input": input }))
        .send()
        .await
        .unwrap();
    assert_eq!(invoked.status(), 200);
    let invoked: Value = invoked.json().await.unwrap();
    let id = invoked["invocation_id"].as_i64().expect("an invocation id");
    drop(server);

    let out = govmarket(dir.path(), &["audit", "replay", &id.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["invocation_id"], id);
    assert_eq!(report["identical"], true, "{report}");
    assert_eq!(report["replayed"]["verdict"], "accepted", "{report}");
    assert_eq!(report["replayed"]["output"], invoked["output"], "{report}");

    // The replay is in the audit chain, which still verifies.
    let out = govmarket(dir.path(), &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = govmarket(
        dir.path(),
        &["audit", "replay", &(id + 1_000_000).to_string()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = govmarket(dir.path(), &["audit", "replay", "not-a-number"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
