//! Moderation of reported ratings by a supervisor.

use domain::Role;
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{audit_events, rating_history, rating_reports};

use crate::market::{app_with_version, invoke, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

async fn rate(app: &TestApp, token: &str, app_id: i64, body: Value) -> Value {
    let resp = app
        .client
        .put(app.url(&format!("/api/v1/apps/{app_id}/rating")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    resp.json().await.unwrap()
}

async fn public(app: &TestApp, app_id: i64) -> Value {
    app.get_json(&format!("/api/v1/public/apps/{app_id}"), None)
        .await
        .1
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .count(app.state.db.conn())
        .await
        .unwrap()
}

/// Settlement's ratings of `app_id` as they stood at `end`: (n, sum).
async fn settled_ratings(
    app: &TestApp,
    app_id: i64,
    end: chrono::DateTime<chrono::Utc>,
) -> (i64, i64) {
    store::settlements::ratings_at(app.state.db.conn(), end)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _, _)| *a == app_id)
        .map(|(_, n, s)| (n, s))
        .unwrap_or((0, 0))
}

#[tokio::test]
async fn a_supervisor_hides_a_reported_rating_and_restores_it() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 51).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("m51@example.cn", 51).await;
    let supervisor = app.staff(Role::Supervisor, "sup51@example.cn").await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;
    let rating = rate(
        &app,
        &citizen,
        a.app_id,
        json!({"stars": 1, "comment": "加微信领红包"}),
    )
    .await;
    let rating_id = rating["id"].as_i64().unwrap();
    let (status, _) = app
        .post_json(
            &format!("/api/v1/ratings/{rating_id}/reply"),
            &json!({"body": "这不是我们的用户"}),
            Some(&a.isv_token),
        )
        .await;
    assert_eq!(status, 201);
    for why in ["含广告", "垃圾信息"] {
        let (status, _) = app
            .post_json(
                &format!("/api/v1/ratings/{rating_id}/report"),
                &json!({"reason": why}),
                None,
            )
            .await;
        assert_eq!(status, 201);
    }
    let before = public(&app, a.app_id).await;
    assert_eq!(before["app"]["rating"]["histogram"], json!([1, 0, 0, 0, 0]));
    assert_eq!(before["reviews"][0]["reply"]["body"], "这不是我们的用户");
    let before_hiding = store::now();
    assert_eq!(settled_ratings(&app, a.app_id, before_hiding).await, (1, 1));

    // The queue shows the rating once, with both reports and the reply.
    let (status, queue) = app
        .get_json("/api/v1/supervise/ratings/reported", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["next"], Value::Null, "{queue}");
    let queue = &queue["items"];
    assert_eq!(queue[0]["rating_id"], rating_id);
    assert_eq!(queue[0]["comment"], "加微信领红包");
    assert_eq!(queue[0]["reply"], "这不是我们的用户");
    assert_eq!(queue[0]["reports"][0]["reason"], "含广告");
    assert_eq!(queue[0]["reports"][1]["reason"], "垃圾信息");

    let hide = format!("/api/v1/ratings/{rating_id}/hide");
    let (status, body) = app
        .post_json(&hide, &json!({"reason": "广告内容"}), Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hidden"], true);

    // Out of the average, the reviews (reply with it) and the queue.
    let after = public(&app, a.app_id).await;
    assert_eq!(after["app"]["rating"]["histogram"], json!([0, 0, 0, 0, 0]));
    assert_eq!(after["app"]["rating"]["bayesian"], "3.00");
    assert_eq!(after["reviews"], json!([]));
    let (_, queue) = app
        .get_json("/api/v1/supervise/ratings/reported", Some(&supervisor))
        .await;
    assert_eq!(queue, json!({"items": [], "next": null}));
    let upheld = rating_reports::Entity::find()
        .filter(rating_reports::Column::Status.eq("upheld"))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(upheld, 2);
    // Settlement: out from this moment, still in before it.
    assert_eq!(settled_ratings(&app, a.app_id, store::now()).await, (0, 0));
    assert_eq!(settled_ratings(&app, a.app_id, before_hiding).await, (1, 1));
    // The rater and the ISV are told.
    let (_, notes) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    assert_eq!(notes["items"][0]["kind"], "rating.hidden", "{notes}");
    assert!(
        notes["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("广告内容")
    );
    let (_, notes) = app
        .get_json("/api/v1/notifications", Some(&a.isv_token))
        .await;
    assert_eq!(notes["items"][0]["kind"], "rating.hidden", "{notes}");
    assert_eq!(audit_count(&app, "rating.hide").await, 1);

    // Twice: 409, nothing written.
    let history = rating_history::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    let (status, body) = app
        .post_json(&hide, &json!({"reason": "再次"}), Some(&supervisor))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_hidden");
    let history_after = rating_history::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(history_after, history);
    assert_eq!(audit_count(&app, "rating.hide").await, 1);

    // Restored: back in the average and the reviews.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/ratings/{rating_id}/restore"),
            &json!({"reason": "复核后恢复"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hidden"], false);
    let back = public(&app, a.app_id).await;
    assert_eq!(back["app"]["rating"]["histogram"], json!([1, 0, 0, 0, 0]));
    assert_eq!(back["reviews"][0]["reply"]["body"], "这不是我们的用户");
    assert_eq!(settled_ratings(&app, a.app_id, store::now()).await, (1, 1));
    assert_eq!(audit_count(&app, "rating.restore").await, 1);
    let (_, notes) = app.get_json("/api/v1/notifications", Some(&citizen)).await;
    assert_eq!(notes["items"][0]["kind"], "rating.restored", "{notes}");
}

#[tokio::test]
async fn moderation_is_the_supervisors_and_a_missing_rating_is_404() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 52).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let citizen = app.citizen("m52@example.cn", 52).await;
    let supervisor = app.staff(Role::Supervisor, "sup52@example.cn").await;
    invoke(&app, &citizen, a.app_id, json!({}), None).await;
    let rating = rate(&app, &citizen, a.app_id, json!({"stars": 2})).await;
    let hide = format!("/api/v1/ratings/{}/hide", rating["id"]);
    let admin = app.staff(Role::Admin, "adm52@example.cn").await;
    for token in [&citizen, &a.isv_token, &admin] {
        let (status, body) = app
            .post_json(&hide, &json!({"reason": "试试"}), Some(token))
            .await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = app
            .get_json("/api/v1/supervise/ratings/reported", Some(token))
            .await;
        assert_eq!(status, 403);
    }
    let (status, body) = app
        .post_json(
            "/api/v1/ratings/999999/hide",
            &json!({"reason": "不存在"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app
        .post_json(&hide, &json!({"reason": ""}), Some(&supervisor))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/ratings/{}/restore", rating["id"]),
            &json!({"reason": "未隐藏"}),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_hidden");
    assert_eq!(public(&app, a.app_id).await["reviews"][0]["stars"], 2);
    assert_eq!(audit_count(&app, "rating.hide").await, 0);
}
