//! Ratings: only after use, one per citizen per app (edits keep history),
//! the ISV's one reply, reports, and the rate limit.

use e2e::spawn_app;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{rating_history, rating_replies, rating_reports, ratings};

use super::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

async fn put_rating(app: &e2e::TestApp, token: &str, app_id: i64, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .put(app.url(&format!("/api/v1/apps/{app_id}/rating")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn rating_count(app: &e2e::TestApp) -> u64 {
    ratings::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn citizen_cannot_rate_an_app_they_never_used() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 11).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r11@example.cn", 11).await;

    let (status, body) = put_rating(&app, &citizen, a.app_id, json!({"stars": 5})).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("使用"));
    assert_eq!(rating_count(&app).await, 0);

    // A failed use does not count either: an input error writes nothing,
    // and the app never answered.
    let (status, _) = invoke(&app, &citizen, a.app_id, json!({"months": 0}), None).await;
    assert_eq!(status, 422);
    let (status, _) = put_rating(&app, &citizen, a.app_id, json!({"stars": 5})).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_second_rating_updates_the_first_and_keeps_its_history() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 12).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r12@example.cn", 12).await;
    let (status, _) = invoke(&app, &citizen, a.app_id, json!({"months": 6}), None).await;
    assert_eq!(status, 200);

    let (status, first) = put_rating(
        &app,
        &citizen,
        a.app_id,
        json!({"stars": 2, "comment": "太慢了", "suggestion": "希望更快"}),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["label"], "不满意");
    let (status, second) = put_rating(
        &app,
        &citizen,
        a.app_id,
        json!({"stars": 5, "comment": "改进后很好用"}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["stars"], 5);
    assert_eq!(second["suggestion"], Value::Null);
    assert_eq!(second["revisions"], 2);
    assert_eq!(rating_count(&app).await, 1);
    let history = rating_history::Entity::find()
        .filter(rating_history::Column::RatingId.eq(first["id"].as_i64().unwrap()))
        .all(app.state.db.conn())
        .await
        .unwrap();
    let stars: Vec<i32> = history.iter().map(|h| h.stars).collect();
    assert_eq!(stars, vec![2, 5]);

    let (_, body) = app
        .get_json(&format!("/api/v1/public/apps/{}", a.app_id), None)
        .await;
    assert_eq!(body["app"]["rating"]["histogram"], json!([0, 0, 0, 0, 1]));
    // (10 * 3 + 5) / 11
    assert_eq!(body["app"]["rating"]["bayesian"], "3.18");
    assert_eq!(body["reviews"][0]["comment"], "改进后很好用");
    assert_eq!(body["reviews"][0]["edited"], true);
}

#[tokio::test]
async fn stars_out_of_range_and_oversize_comments_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 13).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r13@example.cn", 13).await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;

    for stars in [0, 6, -1] {
        let (status, body) = put_rating(&app, &citizen, a.app_id, json!({"stars": stars})).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "stars");
    }
    let long = "长".repeat(1001);
    let (status, body) = put_rating(
        &app,
        &citizen,
        a.app_id,
        json!({"stars": 4, "comment": long}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "comment");
    assert_eq!(rating_count(&app).await, 0);

    let (status, _) = put_rating(&app, &citizen, 999_999, json!({"stars": 4})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_isv_replies_once_and_another_isv_cannot_reply() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 14).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let other = app_with_version(&app, order_id, "别家应用", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r14@example.cn", 14).await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;
    let (_, rating) = put_rating(&app, &citizen, a.app_id, json!({"stars": 3})).await;
    let rating_id = rating["id"].as_i64().unwrap();
    let path = format!("/api/v1/ratings/{rating_id}/reply");

    let (status, body) = app
        .post_json(
            &path,
            &json!({"body": "别人的评价"}),
            Some(&other.isv_token),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .post_json(
            &path,
            &json!({"body": "感谢反馈，我们会改进。"}),
            Some(&a.isv_token),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json(&path, &json!({"body": "再次回复"}), Some(&a.isv_token))
        .await;
    assert_eq!(status, 409, "{body}");
    let replies = rating_replies::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(replies, 1);
    let (status, _) = app
        .post_json(&path, &json!({"body": "市民不能回复"}), Some(&citizen))
        .await;
    assert_eq!(status, 403);

    let (_, body) = app
        .get_json(&format!("/api/v1/public/apps/{}", a.app_id), None)
        .await;
    assert_eq!(
        body["reviews"][0]["reply"]["body"],
        "感谢反馈，我们会改进。"
    );
}

#[tokio::test]
async fn anyone_can_report_a_rating_without_signing_in() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 15).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r15@example.cn", 15).await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;
    let (_, rating) = put_rating(
        &app,
        &citizen,
        a.app_id,
        json!({"stars": 1, "comment": "广告"}),
    )
    .await;
    let path = format!("/api/v1/ratings/{}/report", rating["id"]);

    let (status, body) = app
        .post_json(&path, &json!({"reason": "含广告"}), None)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "open");
    let (status, _) = app.post_json(&path, &json!({"reason": "  "}), None).await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post_json(
            "/api/v1/ratings/999999/report",
            &json!({"reason": "x"}),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let reports = rating_reports::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(reports, 1);
}

#[tokio::test]
async fn rating_too_often_is_refused_with_retry_after() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 16).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("r16@example.cn", 16).await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;

    let mut refused = None;
    for i in 0..20 {
        let resp = app
            .client
            .put(app.url(&format!("/api/v1/apps/{}/rating", a.app_id)))
            .bearer_auth(&citizen)
            .json(&json!({"stars": 1 + i % 5}))
            .send()
            .await
            .unwrap();
        if resp.status().as_u16() == 429 {
            refused = Some(resp);
            break;
        }
        assert!(resp.status().is_success(), "{}", resp.status());
    }
    let resp = refused.expect("a burst of ratings is limited");
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // the RateLimit header the document promises on every 429
    let limit = resp.headers()["ratelimit"].to_str().unwrap().to_owned();
    assert_eq!(limit, format!("\"default\";r=0;t={retry}"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}
