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

/// A hostile app: it first queries `social_insurance` with each of `keys`
/// (other people's ID numbers), then finds `context.subject` in its request
/// and prints, as its answer, the record the host gave it for that token.
fn echo_own_record_after(keys: &[&str]) -> Vec<u8> {
    let mut data = String::new();
    let mut probes = String::new();
    for (i, key) in keys.iter().enumerate() {
        let at = 4096 + 64 * i;
        data.push_str(&format!(r#"(data (i32.const {at}) "{key}")"#));
        probes.push_str(&format!(
            "(drop (call $query (i32.const 2048) (i32.const 16) (i32.const {at}) \
             (i32.const {len}) (i32.const 32768) (i32.const 16384)))\n",
            len = key.len()
        ));
    }
    let text = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "gov" "query" (func $query (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "\22subject\22:\22")
  (data (i32.const 1100) "{{}}")
  (data (i32.const 2048) "social_insurance")
  {data}
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (local $total i32) (local $n i32) (local $i i32) (local $j i32) (local $at i32) (local $r i32)
    {probes}
    (block $done (loop $read
      (i32.store (i32.const 0) (i32.add (i32.const 8192) (local.get $total)))
      (i32.store (i32.const 4) (i32.sub (i32.const 16384) (local.get $total)))
      (br_if $done (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $total (i32.add (local.get $total) (local.get $n)))
      (br $read)))
    (local.set $at (i32.const -1))
    (block $found (loop $scan
      (br_if $found (i32.gt_s (i32.add (local.get $i) (i32.const 44)) (local.get $total)))
      (local.set $j (i32.const 0))
      (block $miss (loop $cmp
        (br_if $miss (i32.ne
          (i32.load8_u (i32.add (i32.const 8192) (i32.add (local.get $i) (local.get $j))))
          (i32.load8_u (i32.add (i32.const 1024) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (if (i32.eq (local.get $j) (i32.const 11))
          (then
            (local.set $at (i32.add (i32.add (i32.const 8192) (local.get $i)) (i32.const 11)))
            (br $found)))
        (br $cmp)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (if (i32.lt_s (local.get $at) (i32.const 0))
      (then (call $write (i32.const 1100) (i32.const 2)) (return)))
    (local.set $r (call $query (i32.const 2048) (i32.const 16) (local.get $at) (i32.const 33)
      (i32.const 32768) (i32.const 16384)))
    (if (i32.gt_s (local.get $r) (i32.const 0))
      (then (call $write (i32.const 32768) (local.get $r)))
      (else (call $write (i32.const 1100) (i32.const 2))))))"#
    );
    wat::parse_str(text).expect("test WAT parses")
}

/// Lets order `order_id`'s apps answer any object (the record they echo)
/// and grants `social_insurance` as `grant`.
async fn echo_contract(app: &e2e::TestApp, order_id: i64, grant: &str) {
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let conn = app.state.db.conn();
    let order = store::entity::orders::Entity::find_by_id(order_id)
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let mut contract = order.contract.clone();
    contract["output_schema"] = json!({"type": "object"});
    contract["datasets"] = json!([grant]);
    let mut active = order.into_active_model();
    active.contract = Set(contract);
    active.update(conn).await.unwrap();
}

#[tokio::test]
async fn a_hostile_app_gets_only_its_citizens_record_projected_without_any_id_number() {
    let app = spawn_app().await;
    let others = [resident_id(41), resident_id(42)];
    let citizen_n = 43;
    let id_number = resident_id(citizen_n);
    let order_id = order(&app, "社保回显", citizen_n).await;
    echo_contract(&app, order_id, "social_insurance:subject").await;
    // The hostile app tries two other people and the citizen's own ID number.
    let probes = [others[0].as_str(), others[1].as_str(), id_number.as_str()];
    let wasm = echo_own_record_after(&probes);
    let listed = app_with_version(&app, order_id, "社保回显", &wasm, "published").await;
    let citizen = app.citizen("c43@example.cn", citizen_n).await;

    let (status, body) = invoke(&app, &citizen, listed.app_id, json!({"months": 12}), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["output"].is_object(),
        "the citizen still gets an answer: {body}"
    );
    let shown = &body["output"];
    // The record the host handed to the app, as the app echoed it.
    assert_eq!(shown["name"], "张伟", "{body}");
    assert_eq!(shown["records"].as_array().map(Vec::len), Some(2), "{body}");
    assert!(shown.get("id_number").is_none(), "projected: {body}");
    for id in probes {
        assert!(!body.to_string().contains(id), "{body}");
    }

    let rows = invocation_rows(&app, listed.app_id).await;
    let queries = store::usage::queries_of(app.state.db.conn(), rows[0].id)
        .await
        .unwrap();
    assert_eq!(queries.len(), 4, "{queries:?}");
    for q in &queries[..3] {
        assert!(q.refused, "another key is refused: {q:?}");
        assert_eq!(
            q.key,
            sandbox::host::REDACTED_KEY,
            "no ID number in the log"
        );
    }
    assert!(!queries[3].refused && queries[3].code > 0, "{queries:?}");
    let token = service::invoke::subject_for_app(&app.state, listed.app_id, rows[0].citizen_id);
    assert_eq!(queries[3].key, token);

    // The supervisor's evidence on the app: counts by dataset, refused queries.
    let supervisor = app
        .staff(domain::Role::Supervisor, "sup-data@example.cn")
        .await;
    let path = format!("/api/v1/supervise/apps/{}/data-access", listed.app_id);
    let (status, evidence) = app.get_json(&path, Some(&supervisor)).await;
    assert_eq!(status, 200, "{evidence}");
    assert_eq!(
        evidence["datasets"],
        json!([{"dataset": "social_insurance", "queries": 4, "refused": 3}]),
        "{evidence}"
    );
    assert_eq!(
        evidence["refused"].as_array().map(Vec::len),
        Some(3),
        "{evidence}"
    );
    assert_eq!(evidence["refused"][0]["invocation_id"], rows[0].id);
    assert_eq!(
        evidence["refused"][0]["record"],
        sandbox::host::REDACTED_KEY
    );
    for id in probes {
        assert!(!evidence.to_string().contains(id), "{evidence}");
    }
    let (status, _) = app.get_json(&path, Some(&citizen)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .get_json(
            "/api/v1/supervise/apps/999999/data-access",
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 404);

    // The same evidence on the supervisor's page, and a replay of the use.
    let desk = e2e::Browser::signed_in(&app, "sup-data@example.cn").await;
    let (status, html) = desk
        .get(&format!("/supervise/evidence?app={}", listed.app_id))
        .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("class=\"row-refused\"").count(), 3, "{html}");
    assert!(html.contains("<svg"), "the counts are drawn: {html}");
    let replay = format!("/supervise/invocations/{}/replay", rows[0].id);
    assert!(html.contains(&format!("action=\"{replay}\"")), "{html}");
    for id in probes {
        assert!(!html.contains(id), "{html}");
    }
    let resp = desk
        .post_form(&replay, &[("csrf_token", &e2e::hidden_csrf(&html))])
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let report = resp.text().await.unwrap();
    assert!(report.contains("回放结果与当时完全一致"), "{report}");
    for id in probes {
        assert!(!report.contains(id), "{report}");
    }
    for bad in ["abc", "999999", "-1"] {
        let (status, html) = desk.get(&format!("/supervise/evidence?app={bad}")).await;
        assert_eq!(status, 422, "{bad}");
        assert!(html.contains("app-error"), "{html}");
    }

    // The citizen's "my data" lists the invocation and each access.
    let (status, mine) = app.get_json("/api/v1/me/data", Some(&citizen)).await;
    assert_eq!(status, 200, "{mine}");
    let invocations = mine["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 1, "{mine}");
    let inv = &invocations[0];
    assert_eq!(inv["invocation_id"], rows[0].id);
    assert_eq!(inv["app_id"], listed.app_id);
    assert_eq!(inv["app_name"], "社保回显");
    assert_eq!(inv["verdict"], "accepted");
    let outcomes: Vec<&str> = inv["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["refused", "refused", "refused", "read"],
        "{mine}"
    );
    assert_eq!(inv["accesses"][3]["dataset"], "social_insurance");
    assert_eq!(inv["accesses"][3]["record"], token.as_str());
    for id in probes {
        assert!(!mine.to_string().contains(id), "no raw ID number: {mine}");
    }
    // As CSV, by parameter or by Accept header.
    for (path, accept) in [
        ("/api/v1/me/data?format=csv", "*/*"),
        ("/api/v1/me/data", "text/csv"),
    ] {
        let resp = app
            .client
            .get(app.url(path))
            .bearer_auth(&citizen)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = resp.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5, "a header and one line per access: {csv}");
        assert!(lines[0].contains("invocation_id,occurred_at"), "{csv}");
        assert!(
            lines[4].contains(&token) && lines[4].ends_with(",read"),
            "{csv}"
        );
        assert!(lines[1].contains("[redacted]") && lines[1].ends_with(",refused"));
        for id in probes {
            assert!(!csv.contains(id), "{csv}");
        }
    }
    // Another citizen sees none of it; staff are refused; a bad format is a 400.
    let other = app.citizen("c41@example.cn", 41).await;
    let (status, theirs) = app.get_json("/api/v1/me/data", Some(&other)).await;
    assert_eq!(status, 200);
    assert_eq!(theirs["invocations"], json!([]), "{theirs}");
    let isv = app.staff(domain::Role::Isv, "isv-mine@example.cn").await;
    let (status, _) = app.get_json("/api/v1/me/data", Some(&isv)).await;
    assert_eq!(status, 403);
    let (status, _) = app.get_json("/api/v1/me/data", None).await;
    assert_eq!(status, 401);
    let (status, body) = app
        .get_json("/api/v1/me/data?format=xml", Some(&citizen))
        .await;
    assert_eq!(status, 400, "{body}");

    // The page, linked from the citizen's account.
    let browser = e2e::Browser::signed_in(&app, "c43@example.cn").await;
    let (status, account) = browser.get("/account").await;
    assert_eq!(status, 200);
    assert!(account.contains("href=\"/account/data\""), "{account}");
    let (status, html) = browser.get("/account/data").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("我的数据") && html.contains("社保回显"),
        "{html}"
    );
    assert_eq!(html.matches("已拒绝").count(), 3, "{html}");
    assert!(html.contains(&token) && html.contains("已读取"), "{html}");
    for id in probes {
        assert!(!html.contains(id), "{html}");
    }
    let staff = e2e::Browser::signed_in(&app, "isv-mine@example.cn").await;
    let (status, _) = staff.get("/account/data").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_grant_naming_fields_hands_the_app_only_those_fields() {
    let app = spawn_app().await;
    let citizen_n = 44;
    let order_id = order(&app, "社保姓名", citizen_n).await;
    echo_contract(&app, order_id, "social_insurance:subject:fields/name").await;
    let wasm = echo_own_record_after(&[]);
    let listed = app_with_version(&app, order_id, "社保姓名", &wasm, "published").await;
    let citizen = app.citizen("c44@example.cn", citizen_n).await;
    let (status, body) = invoke(&app, &citizen, listed.app_id, json!({"months": 12}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"], json!({"name": "张伟"}), "{body}");

    // The public app page tells citizens, before use, what the app may read.
    let (status, html) = app
        .get_page(&format!("/market/apps/{}", listed.app_id))
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("此应用可读取的数据"), "{html}");
    assert!(
        html.contains("<code>social_insurance</code>：仅您本人的记录"),
        "{html}"
    );
    assert!(html.contains("字段：name"), "{html}");
}
