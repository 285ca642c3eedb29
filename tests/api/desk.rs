//! The department's desk per order: `GET /api/v1/orders/{id}/apps` lists
//! the apps submitted to its own order with their versions, scores, users
//! and ratings; another role is refused and another department's order is
//! not found.

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use super::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

/// Makes the order `order_id` belong to the department of `email`'s user.
async fn hand_order_to(app: &TestApp, order_id: i64, email: &str) {
    let conn = app.state.db.conn();
    let user = store::users::find_by_email(conn, email)
        .await
        .unwrap()
        .expect("user");
    let model = store::entity::orders::Entity::find_by_id(order_id)
        .one(conn)
        .await
        .unwrap()
        .expect("order");
    let mut active: store::entity::orders::ActiveModel = model.into();
    active.department_org_id = Set(user.org_id.expect("department org"));
    active.update(conn).await.unwrap();
}

#[tokio::test]
async fn the_department_sees_its_orders_apps_versions_users_and_ratings() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 21).await;
    let dept = app.staff(Role::Department, "desk@example.cn").await;
    hand_order_to(&app, order_id, "desk@example.cn").await;
    let listed = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("c21@example.cn", 21).await;
    let (s, _) = invoke(&app, &citizen, listed.app_id, json!({"months": 6}), None).await;
    assert_eq!(s, 200);
    let (s, b) = app
        .client
        .put(app.url(&format!("/api/v1/apps/{}/rating", listed.app_id)))
        .bearer_auth(&citizen)
        .json(&json!({"stars": 4, "comment": "好用"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(s, 201, "{:?}", b.text().await);

    let (s, body) = app
        .get_json(&format!("/api/v1/orders/{order_id}/apps"), Some(&dept))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["order_id"], order_id);
    let apps = body["apps"].as_array().expect("apps");
    assert_eq!(apps.len(), 1, "{body}");
    let a = &apps[0];
    assert_eq!(a["name"], "社保快查");
    assert_eq!(a["versions"][0]["status"], "published", "{body}");
    assert_eq!(a["this_period"]["users"], 1, "{body}");
    assert_eq!(a["this_period"]["invocations"], 1, "{body}");
    assert_eq!(a["ratings"], 1);
    assert_eq!(a["mean_stars_x100"], 400);
    assert_eq!(a["histogram"], json!([0, 0, 0, 1, 0]));

    // Another role: 403; another department: 404; nobody: 401.
    let isv = app.staff(Role::Isv, "isv-desk@example.cn").await;
    let (s, b) = app
        .get_json(&format!("/api/v1/orders/{order_id}/apps"), Some(&isv))
        .await;
    assert_eq!(s, 403, "{b}");
    let other = app.staff(Role::Department, "other-desk@example.cn").await;
    let (s, b) = app
        .get_json(&format!("/api/v1/orders/{order_id}/apps"), Some(&other))
        .await;
    assert_eq!(s, 404, "{b}");
    let (s, _) = app
        .get_json(&format!("/api/v1/orders/{order_id}/apps"), None)
        .await;
    assert_eq!(s, 401);
    let (s, _) = app
        .get_json("/api/v1/orders/999999/apps", Some(&dept))
        .await;
    assert_eq!(s, 404);
}
