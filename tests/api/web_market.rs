//! Web journeys (market pages) against a real server, without JavaScript:
//! browse and compare without signing in, use an app through the form
//! generated from its input schema, rate it, reply, report.

use e2e::{Browser, TestApp, hidden, spawn_app};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use store::entity::{apps, orders, rating_replies, rating_reports, ratings};

use crate::market::{Listed, app_with_version, invocation_rows, order};

const SI_LOOKUP: &[u8] = include_bytes!("../../sandbox/guest/wasm/si_lookup.wasm");

/// The email of the ISV user `app_with_version` created for a listing.
async fn isv_email(app: &TestApp, l: &Listed) -> String {
    let claims = app.state.keys.verify(&l.isv_token).expect("token");
    let id: i64 = claims.sub.parse().expect("user id");
    store::users::find_by_id(app.state.db.conn(), id)
        .await
        .unwrap()
        .unwrap()
        .email
}

/// Gives the order's output schema titles, as departments write them.
async fn titled_contract(app: &TestApp, order_id: i64) {
    let row = orders::Entity::find_by_id(order_id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut contract = row.contract.clone();
    let titles = [
        ("found", "是否查到参保记录"),
        ("name", "姓名"),
        ("months_paid", "缴费月数"),
        ("total_personal_fen", "个人缴费合计（分）"),
        ("total_employer_fen", "单位缴费合计（分）"),
        ("latest_month", "最近缴费月份"),
        ("continuous_months", "连续缴费月数"),
    ];
    for (k, t) in titles {
        contract["output_schema"]["properties"][k]["title"] = json!(t);
    }
    let mut active: orders::ActiveModel = row.into();
    active.contract = Set(contract);
    active.update(app.state.db.conn()).await.unwrap();
}

async fn rating_rows(app: &TestApp, app_id: i64) -> Vec<ratings::Model> {
    ratings::Entity::find()
        .filter(ratings::Column::AppId.eq(app_id))
        .all(app.state.db.conn())
        .await
        .unwrap()
}

/// Uses the app through its web form with `months`; returns status and page.
async fn use_app(c: &Browser, app_id: i64, months: &str) -> (u16, String, String) {
    let (status, html) = c.get(&format!("/market/apps/{app_id}/use")).await;
    assert_eq!(status, 200, "{html}");
    let token = hidden(&html, "csrf_token");
    let key = hidden(&html, "idempotency_key");
    let resp = c
        .post_form(
            &format!("/market/apps/{app_id}/use"),
            &[
                ("csrf_token", &token),
                ("idempotency_key", &key),
                ("months", months),
            ],
        )
        .await;
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap(), key)
}

async fn rate_on_web(c: &Browser, app_id: i64, form: &[(&str, &str)]) -> reqwest::Response {
    let (_, html) = c.get(&format!("/market/apps/{app_id}")).await;
    let token = hidden(&html, "csrf_token");
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    c.post_form(&format!("/market/apps/{app_id}/rating"), &fields)
        .await
}

#[tokio::test]
async fn anyone_browses_the_market_and_sees_services_with_real_numbers() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 11).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    app_with_version(&app, order_id, "参保通", SI_LOOKUP, "published").await;
    let token = app.citizen("c11@example.cn", 11).await;
    let (status, _) =
        crate::market::invoke(&app, &token, a.app_id, json!({"months": 6}), None).await;
    assert_eq!(status, 200);

    let anon = Browser::new(&app);
    let (status, html) = anon.get("/market").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("社保缴费记录查询"), "{html}");
    assert!(html.contains(&format!("href=\"/market/services/{order_id}\"")));
    assert!(html.contains("<h2 class=\"heading-m\" id=\"cat-1\">社会保障</h2>"));
    // two competing apps, one user this period
    assert!(html.contains("可选应用</dt><dd>2</dd>"), "{html}");
    assert!(html.contains("本季度使用人数</dt><dd>1</dd>"), "{html}");
    assert!(
        html.contains("社会保障（2）"),
        "the category facet counts apps"
    );

    let (status, html) = anon.get("/market?q=缴费记录&sort=users&category=").await;
    assert_eq!(status, 200);
    assert!(html.contains("社保缴费记录查询"));
    let (_, html) = anon.get("/market?q=公积金贷款").await;
    assert!(html.contains("没有找到符合条件的服务"), "{html}");
    assert!(!html.contains("/market/services/"));
    let (_, html) = anon.get("/market?min_rating=5").await;
    assert!(
        !html.contains("/market/services/"),
        "no app has a 5-star rating"
    );

    let long = "查".repeat(201);
    let (status, html) = anon.get(&format!("/market?q={long}")).await;
    assert_eq!(status, 422);
    assert!(html.contains("error-summary") && html.contains("href=\"#q\""));

    let resp = anon
        .client
        .get(app.url("/market"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("App market"));
}

#[tokio::test]
async fn the_service_page_ranks_competing_apps_by_bayesian_rating_with_charts() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 12).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let b = app_with_version(&app, order_id, "参保通", SI_LOOKUP, "published").await;
    let token = app.citizen("c12@example.cn", 12).await;
    for (id, stars) in [(a.app_id, 2), (b.app_id, 5)] {
        let (status, _) = crate::market::invoke(&app, &token, id, json!({"months": 6}), None).await;
        assert_eq!(status, 200);
        let resp = app
            .client
            .put(app.url(&format!("/api/v1/apps/{id}/rating")))
            .bearer_auth(&token)
            .json(&json!({"stars": stars}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }

    let (status, html) = Browser::new(&app)
        .get(&format!("/market/services/{order_id}"))
        .await;
    assert_eq!(status, 200, "{html}");
    let pos_a = html.find(&format!("/market/apps/{}\"", a.app_id)).unwrap();
    let pos_b = html.find(&format!("/market/apps/{}\"", b.app_id)).unwrap();
    assert!(pos_b < pos_a, "five stars rank first");
    // (10*3 + 5) / 11 and (10*3 + 2) / 11
    assert!(html.contains("<strong>3.18</strong>") && html.contains("<strong>2.91</strong>"));
    assert!(html.contains("<svg class=\"histogram\""));
    assert!(
        html.contains("评分分布：5星 1 · 4星 0 · 3星 0 · 2星 0 · 1星 0"),
        "{html}"
    );
    assert!(html.contains("<svg class=\"compare-chart\""));
    assert!(
        html.contains("id=\"compare-table\""),
        "the chart has a table"
    );
    assert!(html.contains("100.0%"), "test score");
    assert!(html.contains("测试单位"), "ISV named");

    let (status, _) = Browser::new(&app).get("/market/services/999999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_citizen_uses_an_app_through_the_generated_form_and_a_resubmission_counts_once() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 13).await;
    titled_contract(&app, order_id).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    app.citizen("c13@example.cn", 13).await;
    let c = Browser::signed_in(&app, "c13@example.cn").await;

    let (status, html) = c.get(&format!("/market/apps/{}/use", a.app_id)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<label class=\"label\" for=\"months\">查询月数"));
    assert!(html.contains("name=\"months\"") && html.contains("inputmode=\"numeric\""));

    let (status, html, key) = use_app(&c, a.app_id, "12").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<dt>缴费月数</dt><dd>2</dd>"), "{html}");
    assert!(html.contains("<dt>是否查到参保记录</dt><dd>是</dd>"));
    assert!(html.contains("<dt>姓名</dt><dd>张伟</dd>"));
    assert!(
        !html.contains("{\"") && !html.contains("months_paid"),
        "no raw JSON"
    );
    assert_eq!(invocation_rows(&app, a.app_id).await.len(), 1);

    // the same form sent again (a double click, a reload) counts once
    let (_, html) = c.get(&format!("/market/apps/{}/use", a.app_id)).await;
    let token = hidden(&html, "csrf_token");
    let resp = c
        .post_form(
            &format!("/market/apps/{}/use", a.app_id),
            &[
                ("csrf_token", &token),
                ("idempotency_key", &key),
                ("months", "12"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let rows = invocation_rows(&app, a.app_id).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].success);
    assert_eq!(rows[0].idempotency_key.as_deref(), Some(key.as_str()));
}

#[tokio::test]
async fn a_schema_violation_is_shown_beside_the_field_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 14).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    app.citizen("c14@example.cn", 14).await;
    let c = Browser::signed_in(&app, "c14@example.cn").await;

    let (status, html, key) = use_app(&c, a.app_id, "99").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("<title>错误："));
    assert!(
        html.contains("<a href=\"#months\">查询月数须在 1 到 36 之间</a>"),
        "{html}"
    );
    assert!(html.contains("id=\"months-error\""));
    assert!(html.contains("value=\"99\""), "what was typed is kept");
    assert_eq!(hidden(&html, "idempotency_key"), key, "the same submission");

    let (status, html, _) = use_app(&c, a.app_id, "twelve").await;
    assert_eq!(status, 422);
    assert!(html.contains("查询月数须为整数"), "{html}");
    assert!(invocation_rows(&app, a.app_id).await.is_empty());
}

#[tokio::test]
async fn an_app_that_traps_shows_a_kind_message_and_a_failed_use() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 15).await;
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#,
    )
    .unwrap();
    let broken = app_with_version(&app, order_id, "会崩溃", &wasm, "published").await;
    app.citizen("c15@example.cn", 15).await;
    let c = Browser::signed_in(&app, "c15@example.cn").await;
    let (status, html, _) = use_app(&c, broken.app_id, "6").await;
    assert_eq!(status, 200);
    assert!(html.contains("未能完成您的请求"), "{html}");
    assert!(!html.contains("unreachable"));
    let rows = invocation_rows(&app, broken.app_id).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].success);
}

#[tokio::test]
async fn unpublished_and_suspended_apps_cannot_be_used_and_say_why() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 16).await;
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
    app.citizen("c16@example.cn", 16).await;
    let c = Browser::signed_in(&app, "c16@example.cn").await;

    let (status, html) = c
        .get(&format!("/market/apps/{}/use", unpublished.app_id))
        .await;
    assert_eq!(status, 409);
    assert!(html.contains("该应用目前未上架"), "{html}");
    let (status, html) = c
        .get(&format!("/market/apps/{}/use", suspended.app_id))
        .await;
    assert_eq!(status, 409);
    assert!(html.contains("该应用已被暂停使用"), "{html}");
    // posting anyway records nothing
    let (_, page) = c.get("/market").await;
    let token = hidden(&page, "csrf_token");
    let resp = c
        .post_form(
            &format!("/market/apps/{}/use", suspended.app_id),
            &[
                ("csrf_token", &token),
                ("idempotency_key", "k"),
                ("months", "6"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    assert!(invocation_rows(&app, suspended.app_id).await.is_empty());
    let (status, _) = c.get(&format!("/market/apps/{}", unpublished.app_id)).await;
    assert_eq!(status, 404);
    let (status, _) = c.get("/market/apps/999999/use").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn only_signed_in_citizens_reach_the_use_form() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 17).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let (status, _) = Browser::new(&app)
        .get(&format!("/market/apps/{}/use", a.app_id))
        .await;
    assert_eq!(status, 303);
    let resp = Browser::new(&app)
        .client
        .get(app.url(&format!("/market/apps/{}/use", a.app_id)))
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("/login?next=%2Fmarket%2Fapps%2F{}%2Fuse", a.app_id)
    );
    let isv = Browser::signed_in(&app, &isv_email(&app, &a).await).await;
    let (status, html) = isv.get(&format!("/market/apps/{}/use", a.app_id)).await;
    assert_eq!(status, 403);
    assert!(html.contains("只有市民"), "{html}");
}

#[tokio::test]
async fn a_rating_needs_a_use_then_a_second_rating_updates_the_first() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 18).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    app.citizen("c18@example.cn", 18).await;
    let c = Browser::signed_in(&app, "c18@example.cn").await;

    let (_, html) = c.get(&format!("/market/apps/{}", a.app_id)).await;
    assert!(html.contains("成功使用这个应用后才能评价它"), "{html}");
    assert!(!html.contains("name=\"stars\""));
    let resp = rate_on_web(&c, a.app_id, &[("stars", "5")]).await;
    assert_eq!(resp.status().as_u16(), 403, "rating without use");
    assert!(rating_rows(&app, a.app_id).await.is_empty());

    let (status, _, _) = use_app(&c, a.app_id, "6").await;
    assert_eq!(status, 200);
    let (_, html) = c.get(&format!("/market/apps/{}", a.app_id)).await;
    assert!(html.contains("<legend class=\"legend\">您对这个应用满意吗？</legend>"));
    assert!(
        html.contains("<label for=\"stars-5\">非常满意（5 星）</label>"),
        "{html}"
    );
    assert!(html.contains("<label for=\"stars-1\">非常不满意（1 星）</label>"));

    let resp = rate_on_web(&c, a.app_id, &[("comment", "没选星")]).await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<a href=\"#stars\">请选择您的满意程度</a>"));
    assert!(
        html.contains(">没选星</textarea>"),
        "what was typed is kept"
    );
    assert!(rating_rows(&app, a.app_id).await.is_empty());

    let resp = rate_on_web(
        &c,
        a.app_id,
        &[("stars", "4"), ("comment", "查询很快"), ("suggestion", "")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, html) = c
        .get(&format!("/market/apps/{}?done=rated", a.app_id))
        .await;
    assert!(html.contains("感谢您的评价"));
    assert!(
        html.contains("id=\"stars-4\" name=\"stars\" value=\"4\" checked"),
        "pre-filled"
    );
    assert!(html.contains(">查询很快</textarea>"));
    assert!(html.contains("修改您的评价"));

    let resp = rate_on_web(&c, a.app_id, &[("stars", "2"), ("comment", "变慢了")]).await;
    assert_eq!(resp.status().as_u16(), 303);
    let rows = rating_rows(&app, a.app_id).await;
    assert_eq!(rows.len(), 1, "one rating per citizen per app");
    assert_eq!(rows[0].stars, 2);
    assert_eq!(rows[0].comment.as_deref(), Some("变慢了"));

    let long = "长".repeat(1001);
    let resp = rate_on_web(&c, a.app_id, &[("stars", "5"), ("comment", &long)]).await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"comment-error\""), "{html}");
    assert!(html.contains("不能超过 1000 个字"));
    let rows = rating_rows(&app, a.app_id).await;
    assert_eq!((rows.len(), rows[0].stars), (1, 2), "nothing half-written");

    let resp = rate_on_web(&c, a.app_id, &[("stars", "9")]).await;
    assert_eq!(resp.status().as_u16(), 422);
}

#[tokio::test]
async fn only_the_owning_isv_replies_and_anyone_reports() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 19).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let other = app_with_version(&app, order_id, "参保通", SI_LOOKUP, "published").await;
    let token = app.citizen("c19@example.cn", 19).await;
    crate::market::invoke(&app, &token, a.app_id, json!({"months": 6}), None).await;
    let resp = app
        .client
        .put(app.url(&format!("/api/v1/apps/{}/rating", a.app_id)))
        .bearer_auth(&token)
        .json(&json!({"stars": 3, "comment": "一般般"}))
        .send()
        .await
        .unwrap();
    let rating: Value = resp.json().await.unwrap();
    let rating_id = rating["id"].as_i64().unwrap();
    let page = format!("/market/apps/{}", a.app_id);
    let reply = format!("/market/ratings/{rating_id}/reply");

    let intruder = Browser::signed_in(&app, &isv_email(&app, &other).await).await;
    let (_, html) = intruder.get(&page).await;
    assert!(!html.contains(&reply), "no reply form for another ISV");
    let t = hidden(&html, "csrf_token");
    let resp = intruder
        .post_form(&reply, &[("csrf_token", &t), ("body", "抢答")])
        .await;
    assert_eq!(resp.status().as_u16(), 403);

    let owner = Browser::signed_in(&app, &isv_email(&app, &a).await).await;
    let (_, html) = owner.get(&page).await;
    assert!(html.contains(&format!("action=\"{reply}\"")));
    let t = hidden(&html, "csrf_token");
    let resp = owner
        .post_form(&reply, &[("csrf_token", &t), ("body", "  ")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp.text().await.unwrap().contains("请填写回复内容"));
    let resp = owner
        .post_form(&reply, &[("csrf_token", &t), ("body", "感谢反馈，已优化")])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let resp = owner
        .post_form(&reply, &[("csrf_token", &t), ("body", "再回复")])
        .await;
    assert_eq!(resp.status().as_u16(), 409, "one reply per rating");
    let replies = rating_replies::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(replies.len(), 1);
    let (_, html) = Browser::new(&app).get(&page).await;
    assert!(html.contains("服务商回复") && html.contains("感谢反馈，已优化"));

    // a report from someone signed out
    let anon = Browser::new(&app);
    let (_, html) = anon.get(&page).await;
    let t = hidden(&html, "csrf_token");
    let report = format!("/market/ratings/{rating_id}/report");
    let resp = anon
        .post_form(&report, &[("csrf_token", &t), ("reason", "")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"report-{rating_id}-error\"")),
        "{html}"
    );
    let resp = anon
        .post_form(&report, &[("csrf_token", &t), ("reason", "广告")])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let reports = rating_reports::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].reason, "广告");
}

#[tokio::test]
async fn market_form_posts_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 20).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let token = app.citizen("c20@example.cn", 20).await;
    crate::market::invoke(&app, &token, a.app_id, json!({"months": 6}), None).await;
    let c = Browser::signed_in(&app, "c20@example.cn").await;
    let before = invocation_rows(&app, a.app_id).await.len();

    let resp = c
        .post_form(
            &format!("/market/apps/{}/use", a.app_id),
            &[("months", "6")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = c
        .post_form(
            &format!("/market/apps/{}/rating", a.app_id),
            &[("stars", "5")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(invocation_rows(&app, a.app_id).await.len(), before);
    assert!(rating_rows(&app, a.app_id).await.is_empty());
}

#[tokio::test]
async fn too_many_ratings_get_a_page_with_the_retry_after_hint() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 21).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let token = app.citizen("c21@example.cn", 21).await;
    crate::market::invoke(&app, &token, a.app_id, json!({"months": 6}), None).await;
    let c = Browser::signed_in(&app, "c21@example.cn").await;
    let mut limited = None;
    for _ in 0..12 {
        let resp = rate_on_web(&c, a.app_id, &[("stars", "4")]).await;
        if resp.status().as_u16() == 429 {
            limited = Some(resp);
            break;
        }
        assert_eq!(resp.status().as_u16(), 303);
    }
    let resp = limited.expect("the rating allowance runs out");
    let secs: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs >= 1);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains(&format!("{secs} 秒后再试"))
    );
    assert_eq!(rating_rows(&app, a.app_id).await.len(), 1);
}

#[tokio::test]
async fn reviews_are_shown_newest_first_ten_to_a_page() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 22).await;
    let a = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    for n in 0..12u16 {
        let token = app.citizen(&format!("p{n}@example.cn"), 100 + n).await;
        let (status, _) =
            crate::market::invoke(&app, &token, a.app_id, json!({"months": 3}), None).await;
        assert_eq!(status, 200);
        let resp = app
            .client
            .put(app.url(&format!("/api/v1/apps/{}/rating", a.app_id)))
            .bearer_auth(&token)
            .json(&json!({"stars": 1 + n % 5, "comment": format!("第{n}条评价")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }
    let anon = Browser::new(&app);
    let (status, html) = anon.get(&format!("/market/apps/{}", a.app_id)).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("class=\"review\"").count(), 10);
    let newest = html.find("第11条评价").unwrap();
    let older = html.find("第2条评价").unwrap();
    assert!(newest < older, "newest first");
    assert!(!html.contains("第1条评价<") && !html.contains("第0条评价"));
    let marker = "?cursor=";
    let start = html.find(marker).expect("a link to older reviews") + marker.len();
    let cursor: String = html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let (_, html) = anon
        .get(&format!("/market/apps/{}?cursor={cursor}", a.app_id))
        .await;
    assert_eq!(html.matches("class=\"review\"").count(), 2);
    assert!(html.contains("第1条评价") && html.contains("第0条评价"));
    assert!(html.contains("回到最新评价"));
    // the statistics count all twelve
    assert!(html.contains("（12 条评价"), "{html}");

    let resp = anon
        .client
        .get(app.url(&format!("/market/apps/{}", a.app_id)))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("Reviews") && html.contains("Very dissatisfied"));
}

#[tokio::test]
async fn a_citizen_complains_from_the_app_page_and_the_isv_answers_without_javascript() {
    let app = spawn_app().await;
    let order_id = order(&app, "社保缴费记录查询", 71).await;
    let listed = app_with_version(&app, order_id, "社保快查", SI_LOOKUP, "published").await;
    let token = app.citizen("w71@example.cn", 71).await;
    let citizen = Browser::signed_in(&app, "w71@example.cn").await;
    // A complaint about an app speaks of a use of it.
    let (status, _) = super::market::invoke(
        &app,
        &token,
        listed.app_id,
        serde_json::json!({"months": 6}),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // The app page links to the complaint form, which names the app.
    let (status, html) = citizen
        .get(&format!("/market/apps/{}", listed.app_id))
        .await;
    assert_eq!(status, 200);
    let link = format!("/complaints/new?app={}", listed.app_id);
    assert!(html.contains(&link), "{html}");
    let (status, form) = citizen.get(&link).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("社保快查"));
    let csrf = hidden(&form, "csrf_token");
    let app_field = hidden(&form, "app");

    // An empty complaint comes back with the error summarised and beside the field.
    let resp = citizen
        .post_form(
            "/complaints/new",
            &[
                ("csrf_token", &csrf),
                ("app", &app_field),
                ("order", ""),
                ("body", "  "),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("error-summary") && html.contains("body-error"),
        "{html}"
    );
    assert_eq!(
        store::complaints::list(
            app.state.db.conn(),
            &store::complaints::Scope::All,
            None,
            None,
            None,
            10
        )
        .await
        .unwrap()
        .len(),
        0
    );

    let resp = citizen
        .post_form(
            "/complaints/new",
            &[
                ("csrf_token", &csrf),
                ("app", &app_field),
                ("order", ""),
                ("body", "查询不到上个月的缴费记录"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let detail = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(detail.starts_with("/complaints/"), "{detail}");
    let (status, html) = citizen.get(&detail).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("投诉已提交") && html.contains("待答复"),
        "{html}"
    );
    assert!(
        !html.contains("action=\"/complaints/"),
        "nothing to do until answered: {html}"
    );

    // The ISV finds it in its list and answers it.
    let isv = Browser::signed_in(&app, &isv_email(&app, &listed).await).await;
    let (_, list) = isv.get("/complaints").await;
    let path = detail.split('?').next().unwrap();
    assert!(list.contains(&format!("href=\"{path}\"")), "{list}");
    let (_, page) = isv.get(path).await;
    let csrf = hidden(&page, "csrf_token");
    let resp = isv
        .post_form(
            &format!("{path}/answer"),
            &[("csrf_token", &csrf), ("answer", "")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp.text().await.unwrap().contains("answer-error"));
    let resp = isv
        .post_form(
            &format!("{path}/answer"),
            &[("csrf_token", &csrf), ("answer", "数据已补录，请重新查询")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);

    // The citizen sees the answer and resolves it with a rating.
    let (_, page) = citizen.get(path).await;
    assert!(page.contains("数据已补录，请重新查询"), "{page}");
    let csrf = hidden(&page, "csrf_token");
    let resp = citizen
        .post_form(&format!("{path}/resolve"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(resp.status().as_u16(), 422, "no level chosen");
    let resp = citizen
        .post_form(
            &format!("{path}/resolve"),
            &[("csrf_token", &csrf), ("stars", "4")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, page) = citizen.get(path).await;
    assert!(
        page.contains("已办结") && page.contains("满意（4"),
        "{page}"
    );

    // A form without its CSRF token changes nothing.
    let resp = citizen.post_form(&format!("{path}/reopen"), &[]).await;
    assert_eq!(resp.status().as_u16(), 403);
}
