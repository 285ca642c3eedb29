//! The market: comparing, searching and using apps.

use e2e::{TestApp, resident_id, spawn_app};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{
    apps, dataset_records, datasets, invocations, module_blobs, orders, organisations, versions,
};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");
const SI_CONTRACT: &str = include_str!("../../sandbox/guest/suites/social-insurance/contract.json");

/// A published app of its own order: the rows the upload/test/publish
/// flow would have written.
pub struct Listed {
    pub app_id: i64,
    pub version_id: i64,
    pub isv_token: String,
}

/// An open order with the social-insurance contract and one record for
/// test citizen `n`.
pub async fn order(app: &TestApp, title: &str, citizen_n: u16) -> i64 {
    let conn = app.state.db.conn();
    let now = store::now();
    let dep = organisations::ActiveModel {
        kind: Set("department".into()),
        name: Set(format!("市人力资源和社会保障局 {title}")),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let contract: Value = serde_json::from_str(SI_CONTRACT).unwrap();
    let order = orders::ActiveModel {
        department_org_id: Set(dep.id),
        title: Set(title.into()),
        description: Set("为参保人查询社会保险缴费记录 social insurance lookup".into()),
        category: Set("社会保障".into()),
        tags: Set(json!(["社保"])),
        budget_fen: Set(10_000_000),
        status: Set("open".into()),
        contract: Set(contract),
        pass_threshold_bp: Set(10_000),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(Some(now)),
        suite_revision: Set(0),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let ds = datasets::ActiveModel {
        order_id: Set(order.id),
        name: Set("social_insurance".into()),
        // appdata caches datasets per process by (order id, dataset id,
        // version); every test database numbers from 1, so a distinct
        // version keeps one test from reading another's cached records.
        version: Set(i32::from(citizen_n)),
        sample: Set(false),
        record_count: Set(1),
        size_bytes: Set(100),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let id = resident_id(citizen_n);
    dataset_records::ActiveModel {
        dataset_id: Set(ds.id),
        key: Set(id.clone()),
        record: Set(json!({"name": "张伟", "id_number": id, "city": "杭州市", "records": [
            {"month": "2026-01", "employer": "杭州某公司", "base_fen": 800000, "personal_fen": 64000, "employer_fen": 128000},
            {"month": "2026-02", "employer": "杭州某公司", "base_fen": 800000, "personal_fen": 64000, "employer_fen": 128000}
        ]})),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    order.id
}

/// An ISV's app for `order_id` with `wasm` as its one version, in `status`
/// (`published` to be listed).
pub async fn app_with_version(
    app: &TestApp,
    order_id: i64,
    name: &str,
    wasm: &[u8],
    status: &str,
) -> Listed {
    let email = format!("isv-{order_id}-{}@example.cn", uuid_like(name));
    let isv_token = app.staff(domain::Role::Isv, &email).await;
    let conn = app.state.db.conn();
    let user = store::users::find_by_email(conn, &email)
        .await
        .unwrap()
        .unwrap();
    let now = store::now();
    let sha = sandbox::Sandbox::sha256_hex(wasm);
    if module_blobs::Entity::find_by_id(sha.clone())
        .one(conn)
        .await
        .unwrap()
        .is_none()
    {
        module_blobs::ActiveModel {
            sha256: Set(sha.clone()),
            size_bytes: Set(wasm.len() as i64),
            bytes: Set(wasm.to_vec()),
            created_at: Set(now),
        }
        .insert(conn)
        .await
        .unwrap();
    }
    let a = apps::ActiveModel {
        order_id: Set(order_id),
        isv_org_id: Set(user.org_id.unwrap()),
        name: Set(name.into()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let v = versions::ActiveModel {
        app_id: Set(a.id),
        number: Set(1),
        sha256: Set(sha),
        size_bytes: Set(wasm.len() as i64),
        release_notes: Set("首个版本".into()),
        status: Set(status.into()),
        test_score_bp: Set(Some(10_000)),
        uploaded_by: Set(Some(user.id)),
        created_at: Set(now),
        published_at: Set((status == "published").then_some(now)),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    service::search_index::index_app(&app.state, a.id).await;
    Listed {
        app_id: a.id,
        version_id: v.id,
        isv_token,
    }
}

fn uuid_like(name: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    format!("{:x}", h.finish())
}

pub async fn invoke(
    app: &TestApp,
    token: &str,
    app_id: i64,
    input: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/apps/{app_id}/invoke")))
        .bearer_auth(token)
        .json(&json!({ "input": input }));
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn invocation_rows(app: &TestApp, app_id: i64) -> Vec<invocations::Model> {
    invocations::Entity::find()
        .filter(invocations::Column::AppId.eq(app_id))
        .all(app.state.db.conn())
        .await
        .unwrap()
}

fn trap_module() -> Vec<u8> {
    wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#)
        .unwrap()
}

#[tokio::test]
async fn the_market_compares_competing_apps_without_login() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 1).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let b = app_with_version(&app, order_id, "参保通", SI_LOOKUP, "published").await;
    // Not listed: only passed, not published.
    app_with_version(&app, order_id, "未上架", SI_LOOKUP, "passed").await;

    let (status, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}&sort=new"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    let ids: Vec<i64> = items
        .iter()
        .map(|i| i["app_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![b.app_id, a.app_id]);
    let first = &items[0];
    assert_eq!(first["order_id"], order_id);
    assert_eq!(first["version_id"], b.version_id);
    assert_eq!(first["rating"]["bayesian"], "3.00");
    assert_eq!(first["rating"]["histogram"], json!([0, 0, 0, 0, 0]));
    assert_eq!(first["users_this_period"], 0);
    assert_eq!(first["test_score_bp"], 10_000);
    assert!(first["isv"].as_str().unwrap().contains("测试单位"));
    assert_eq!(body["next"], Value::Null);

    let (status, body) = app
        .get_json(&format!("/api/v1/public/apps/{}", a.app_id), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["app"]["app_name"], "社保快查");
    assert_eq!(body["reviews"], json!([]));

    let (status, _) = app.get_json("/api/v1/market?sort=cheapest", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn search_finds_apps_by_chinese_words_and_filters_by_category() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 1).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;

    let (status, body) = app.get_json("/api/v1/market?q=缴费记录", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["app_id"], a.app_id);
    assert_eq!(body["facets"]["category"][0]["value"], "社会保障");

    let (_, body) = app.get_json("/api/v1/market?q=公积金贷款", None).await;
    assert_eq!(body["items"], json!([]));
    let (_, body) = app
        .get_json("/api/v1/market?category=%E4%BA%A4%E9%80%9A", None)
        .await;
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn a_citizen_uses_an_app_and_a_retry_with_the_same_key_counts_once() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 7).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c7@example.cn", 7).await;

    let (status, first) =
        invoke(&app, &citizen, a.app_id, json!({"months": 12}), Some("k-1")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["output"]["found"], true);
    assert_eq!(first["output"]["months_paid"], 2);
    let (status, again) =
        invoke(&app, &citizen, a.app_id, json!({"months": 12}), Some("k-1")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["invocation_id"], first["invocation_id"]);

    let rows = invocation_rows(&app, a.app_id).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].success);
    assert_eq!(rows[0].verdict, "accepted");
    assert_eq!(rows[0].version_id, a.version_id);
    assert!(rows[0].instructions > 0);
    let period = service::market::current_period(app.state.config.timezone);
    assert_eq!(rows[0].period, period);
    // The data access log: the app looked up this citizen's record, once,
    // and the retry added no second entry.
    let queries = store::usage::queries_of(app.state.db.conn(), rows[0].id)
        .await
        .unwrap();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert_eq!(queries[0].dataset, "social_insurance");
    assert_eq!(
        queries[0].key,
        service::invoke::subject_for_app(&app.state, a.app_id, rows[0].citizen_id),
        "the app queried with its pseudonym of the citizen, not the ID number"
    );
    assert!(queries[0].code > 0, "the record was found: {queries:?}");

    let (_, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}"), None)
        .await;
    assert_eq!(body["items"][0]["users_this_period"], 1);
}

#[tokio::test]
async fn input_that_violates_the_schema_is_refused_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 2).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c2@example.cn", 2).await;

    let (status, body) = invoke(&app, &citizen, a.app_id, json!({"months": 99}), None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "input.months");
    let (status, body) = invoke(&app, &citizen, a.app_id, json!({"colour": "red"}), None).await;
    assert_eq!(status, 422, "{body}");
    assert!(invocation_rows(&app, a.app_id).await.is_empty());

    // Only citizens invoke.
    let (status, _) = invoke(&app, &a.isv_token, a.app_id, json!({}), None).await;
    assert_eq!(status, 403);
    let (status, _) = invoke(&app, &citizen, 999_999, json!({}), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_unpublished_or_suspended_app_cannot_be_used() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 3).await;
    let unpublished = app_with_version(&app, order_id, "未上架", SI_LOOKUP, "passed").await;
    let suspended = app_with_version(&app, order_id, "被暂停", SI_LOOKUP, "published").await;
    let mut row: apps::ActiveModel = apps::Entity::find_by_id(suspended.app_id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .into();
    row.status = Set("suspended".into());
    row.update(app.state.db.conn()).await.unwrap();
    let citizen = app.citizen("c3@example.cn", 3).await;

    let (status, body) = invoke(&app, &citizen, unpublished.app_id, json!({}), None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "app_not_published");
    let (status, body) = invoke(&app, &citizen, suspended.app_id, json!({}), None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "app_suspended");
    assert!(invocation_rows(&app, suspended.app_id).await.is_empty());

    // Neither is in the market.
    let (_, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}"), None)
        .await;
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn an_app_that_traps_shows_a_kind_message_and_records_a_failed_use() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 4).await;
    let broken = app_with_version(&app, order_id, "会崩溃", &trap_module(), "published").await;
    let citizen = app.citizen("c4@example.cn", 4).await;

    let (status, body) = invoke(&app, &citizen, broken.app_id, json!({}), None).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "app_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("请稍后再试"), "{message}");
    assert!(!message.contains("unreachable"), "{message}");

    let rows = invocation_rows(&app, broken.app_id).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].success);
    assert_eq!(rows[0].verdict, "runtime_error");
    let (_, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}"), None)
        .await;
    assert_eq!(body["items"][0]["users_this_period"], 0);
}

#[tokio::test]
async fn concurrent_uses_are_all_recorded_and_shutdown_drains_the_queue() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 5).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let mut tokens = vec![];
    for n in 0..4u16 {
        tokens.push(app.citizen(&format!("batch{n}@example.cn"), 20 + n).await);
    }
    let mut running = vec![];
    for i in 0..24usize {
        let token = tokens[i % tokens.len()].clone();
        let base = app.base.clone();
        let client = app.client.clone();
        let app_id = a.app_id;
        running.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/apps/{app_id}/invoke"))
                .bearer_auth(token)
                .json(&json!({"input": {"months": 3}}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for r in running {
        let body = r.await.unwrap();
        ids.insert(body["invocation_id"].as_i64().expect("an invocation id"));
    }
    assert_eq!(ids.len(), 24, "every use has its own event");
    app.state.usage.shutdown().await;
    let rows = invocation_rows(&app, a.app_id).await;
    assert_eq!(rows.len(), 24);
    // After shutdown, events are still written (directly).
    let (status, _) = invoke(&app, &tokens[0], a.app_id, json!({}), None).await;
    assert_eq!(status, 200);
    assert_eq!(invocation_rows(&app, a.app_id).await.len(), 25);
    let (_, body) = app
        .get_json(&format!("/api/v1/market?order={order_id}"), None)
        .await;
    assert_eq!(body["items"][0]["users_this_period"], 4);
}

#[tokio::test]
async fn the_demo_market_has_competing_apps_for_three_services_and_each_answers_the_demo_citizen() {
    use sea_orm::PaginatorTrait;

    let app = spawn_app().await;
    let state = &app.state;
    service::demo::seed_accounts(&state.db)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("accounts");
    service::demo::seed_orders(state)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("orders");
    let published = service::demo::seed_market(state)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("market");
    assert_eq!(
        published, 6,
        "the six competing apps (one written in AssemblyScript) are tested and listed"
    );

    let (status, market) = app.get_json("/api/v1/market", None).await;
    assert_eq!(status, 200, "{market}");
    let items = market["items"].as_array().expect("items").clone();
    let mut per_order: std::collections::BTreeMap<i64, Vec<&Value>> = Default::default();
    for item in &items {
        per_order
            .entry(item["order_id"].as_i64().expect("order id"))
            .or_default()
            .push(item);
    }
    let competing = per_order.values().filter(|apps| apps.len() >= 2).count();
    assert!(competing >= 3, "{per_order:#?}");
    for apps in per_order.values() {
        // Every listed app passed every case, and the demo citizen used and rated it.
        for a in apps {
            assert_eq!(a["test_score_bp"], 10_000, "{a}");
            assert!(a["users_this_period"].as_u64() >= Some(1), "{a}");
            assert!(a["rating"]["count"].as_u64() >= Some(1), "{a}");
        }
    }

    // The demo citizen signs in and gets their own records from each new app.
    let (status, login) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "citizen@demo.local", "password": service::demo::DEMO_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().expect("token");
    let services = mock_data::demo_services();
    let me = mock_data::demo_citizen::ID_NUMBER;
    let plate = mock_data::demo_citizen::PLATE;
    let uses = [
        (
            "社保缴费查询便民版",
            "social-insurance-records",
            json!({"months": 24}),
        ),
        (
            "交通违法随手查",
            "traffic-violations",
            json!({"plate": plate}),
        ),
        (
            "违章查询简易版",
            "traffic-violations",
            json!({"plate": plate, "only_unpaid": true}),
        ),
        (
            "公积金提取一点通",
            "housing-fund-withdrawal",
            json!({"purpose": "rent", "amount_fen": 300_000}),
        ),
        (
            "公积金资格自助查",
            "housing-fund-withdrawal",
            json!({"purpose": "purchase", "amount_fen": 99_000_000}),
        ),
        (
            "公积金提取速核",
            "housing-fund-withdrawal",
            json!({"purpose": "retirement", "amount_fen": 1_000}),
        ),
    ];
    for (name, slug, input) in uses {
        let item = items
            .iter()
            .find(|i| i["app_name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"));
        let service = services.iter().find(|s| s.slug == slug).expect("service");
        let expected = service
            .reference_answer(me, &input)
            .expect("a known service");
        assert_eq!(
            expected["found"], true,
            "{name}: the demo citizen has records"
        );
        let app_id = item["app_id"].as_i64().expect("app id");
        let (status, body) = invoke(&app, token, app_id, input.clone(), None).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["output"], expected, "{name} for {input}");
    }

    // A second seed adds nothing.
    let apps_before = apps::Entity::find().count(state.db.conn()).await.unwrap();
    let versions_before = versions::Entity::find()
        .count(state.db.conn())
        .await
        .unwrap();
    let ratings_before = store::entity::ratings::Entity::find()
        .count(state.db.conn())
        .await
        .unwrap();
    let again = service::demo::seed_market(state)
        .await
        .map_err(|e| e.into_anyhow())
        .expect("market again");
    assert_eq!(again, 0);
    assert_eq!(
        apps::Entity::find().count(state.db.conn()).await.unwrap(),
        apps_before
    );
    assert_eq!(
        versions::Entity::find()
            .count(state.db.conn())
            .await
            .unwrap(),
        versions_before
    );
    assert_eq!(
        store::entity::ratings::Entity::find()
            .count(state.db.conn())
            .await
            .unwrap(),
        ratings_before
    );
}
