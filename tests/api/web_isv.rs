//! Web journeys (isv pages) against a real server, without JavaScript: each
//! user is a browser of its own (cookie jar), GETs a form and posts it back
//! with the hidden CSRF token it carried.

use std::time::Duration;

use domain::Role;
use e2e::{Browser, TestApp, hidden_csrf, spawn_app};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use service::pipeline::{WorkerConfig, run_one};

use crate::orders::{guest, open_si_order, order_body, put_raw, si_cases};

fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(guest(&format!("wasm/{name}.wasm"))).expect("example app")
}

/// The ISV pages' upload form, as a browser posts it.
trait Upload {
    async fn upload(
        &self,
        path: &str,
        csrf: Option<&str>,
        name: &str,
        module: Option<Vec<u8>>,
    ) -> reqwest::Response;
}

impl Upload for Browser {
    /// Posts the upload form as a browser sends it: the hidden token first,
    /// then the name, the release notes and the file.
    async fn upload(
        &self,
        path: &str,
        csrf: Option<&str>,
        name: &str,
        module: Option<Vec<u8>>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = csrf {
            form = form.text("csrf_token", t.to_owned());
        }
        form = form
            .text("name", name.to_owned())
            .text("release_notes", "网页上传");
        form = match module {
            Some(bytes) => form.part(
                "wasm",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("app.wasm")
                    .mime_str("application/wasm")
                    .expect("mime"),
            ),
            // A browser sends an empty file part when no file was chosen.
            None => form.part(
                "wasm",
                reqwest::multipart::Part::bytes(Vec::new())
                    .file_name("")
                    .mime_str("application/octet-stream")
                    .expect("mime"),
            ),
        };
        self.client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// The error message shown beside `field` (GOV.UK pattern: `<field>-error`).
fn error_beside(html: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no error beside {field}: {html}"));
    let rest = &html[start..];
    let end = rest.find("</p>").expect("end of message");
    rest[..end].to_owned()
}

fn fast() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_millis(100),
        idle_poll: Duration::from_millis(50),
    }
}

/// Runs queued jobs in this task until none is left.
async fn drain(app: &TestApp) {
    while run_one(&app.state, "test-worker", &fast())
        .await
        .map_err(|e| e.into_anyhow())
        .expect("worker")
    {}
}

/// (apps, versions, module blobs, test runs) in the database.
pub(crate) async fn written(app: &TestApp) -> (u64, u64, u64, u64) {
    let conn = app.state.db.conn();
    (
        store::entity::apps::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        store::entity::versions::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        store::entity::module_blobs::Entity::find()
            .count(conn)
            .await
            .expect("count"),
        store::entity::test_runs::Entity::find()
            .count(conn)
            .await
            .expect("count"),
    )
}

async fn version_status(app: &TestApp, id: i64) -> String {
    store::apps::version(app.state.db.conn(), id)
        .await
        .expect("read")
        .expect("version")
        .status
}

/// An order from `body` with the guest kit's dataset and suite, published.
async fn open_order_with(app: &TestApp, dept: &str, body: &serde_json::Value) -> i64 {
    let (status, created) = app.post_json("/api/v1/orders", body, Some(dept)).await;
    assert_eq!(status, 201, "{created}");
    let order = created["id"].as_i64().expect("id");
    let data = std::fs::read(guest(
        "suites/social-insurance/datasets/social_insurance.json",
    ))
    .expect("dataset");
    let (status, _) = put_raw(
        app,
        &format!("/api/v1/orders/{order}/datasets/social_insurance"),
        data,
        "application/json",
        dept,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = put_raw(
        app,
        &format!("/api/v1/orders/{order}/test-suite"),
        serde_json::to_vec(&json!({"cases": si_cases()})).expect("json"),
        "application/json",
        dept,
    )
    .await;
    assert_eq!(status, 200);
    let (status, published) = app
        .post_json(
            &format!("/api/v1/orders/{order}/publish"),
            &json!({}),
            Some(dept),
        )
        .await;
    assert_eq!(status, 200, "{published}");
    order
}

fn version_id_of(location: &str) -> i64 {
    location
        .strip_prefix("/isv/versions/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a version page: {location}"))
}

#[tokio::test]
async fn an_isv_uploads_in_the_browser_watches_the_run_publishes_and_sees_it_in_my_apps() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let isv = Browser::signed_in(&app, "isv@example.cn").await;

    // The order page offers the upload link and the question form.
    let (status, html) = isv.get(&format!("/orders/{order}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/isv/orders/{order}/upload\"")));
    assert!(html.contains(&format!("action=\"/isv/orders/{order}/questions\"")));

    let (status, html) = isv.get(&format!("/isv/orders/{order}/upload")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("<label class=\"label\" for=\"wasm\">"));
    let token = hidden_csrf(&html);
    let path = format!("/isv/orders/{order}/upload");
    let resp = isv
        .upload(&path, Some(&token), "社保查询", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let vid = version_id_of(&location(&resp));

    // While the run is queued the page asks the browser to refresh itself.
    let resp = isv.get_resp(&format!("/isv/versions/{vid}")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("refresh").expect("refresh header"), "2");
    let html = resp.text().await.expect("body");
    assert!(html.contains("排队中"), "{html}");

    drain(&app).await;
    let resp = isv.get_resp(&format!("/isv/versions/{vid}")).await;
    assert!(
        resp.headers().get("refresh").is_none(),
        "finished: no refresh"
    );
    let html = resp.text().await.expect("body");
    assert!(html.contains("测试通过"), "{html}");
    assert!(html.contains(&format!("action=\"/isv/versions/{vid}\"")));
    let resp = isv
        .post_form(
            &format!("/isv/versions/{vid}"),
            &[("csrf_token", &hidden_csrf(&html))],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(version_status(&app, vid).await, "published");

    let (status, html) = isv.get("/isv/apps").await;
    assert_eq!(status, 200);
    assert!(html.contains("社保查询"));
    assert!(html.contains("社保缴费记录查询"), "the order's title");
    assert!(html.contains(&format!("href=\"/isv/versions/{vid}\"")));
    assert!(html.contains("已上架"));

    // A second version of the same app, chosen from the list.
    let app_id = store::apps::version(app.state.db.conn(), vid)
        .await
        .expect("read")
        .expect("version")
        .app_id;
    let chosen = format!("/isv/orders/{order}/upload?app={app_id}");
    assert!(html.contains(&format!("href=\"{chosen}\"")), "{html}");
    let (status, html) = isv.get(&chosen).await;
    assert_eq!(status, 200);
    assert!(html.contains("社保查询"));
    assert!(!html.contains("id=\"name\""), "the name is the app's");
    let resp = isv
        .upload(&chosen, Some(&token), "任何名字", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let v2 = version_id_of(&location(&resp));
    let v2_row = store::apps::version(app.state.db.conn(), v2)
        .await
        .expect("read")
        .expect("version");
    assert_eq!(v2_row.app_id, app_id, "added to the chosen app");
    assert_eq!(v2_row.number, 2);
    assert_eq!(written(&app).await.0, 1, "still one app");
}

#[tokio::test]
async fn bad_uploads_show_the_error_beside_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    app.staff(Role::Isv, "isv@example.cn").await;
    app.staff(Role::Isv, "rival@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let isv = Browser::signed_in(&app, "isv@example.cn").await;
    let token = isv.csrf().await;
    let path = format!("/isv/orders/{order}/upload");
    let nothing = (0, 0, 0, 0);

    // No file chosen.
    let resp = isv.upload(&path, Some(&token), "社保查询", None).await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("class=\"error-summary\""), "{html}");
    assert!(html.contains("<title>错误："), "title says error");
    assert!(error_beside(&html, "wasm").contains("请选择要上传的 .wasm 文件"));
    assert!(html.contains("value=\"社保查询\""), "the name is kept");
    assert_eq!(written(&app).await, nothing);

    // Garbage instead of a module: the validator's reason, beside the file.
    let resp = isv
        .upload(
            &path,
            Some(&token),
            "社保查询",
            Some(b"MZ not wasm".to_vec()),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    let msg = error_beside(&html, "wasm");
    assert!(msg.contains("不是可接受的 WebAssembly 模块"), "{msg}");
    assert!(msg.contains("not a valid WebAssembly module"), "{msg}");
    assert_eq!(written(&app).await, nothing);

    // No name for a new app.
    let resp = isv
        .upload(&path, Some(&token), "  ", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "name").contains("请输入 1 到 80 个字符的应用名称"));
    assert_eq!(written(&app).await, nothing);

    // A forged post without the token is refused before the form is read.
    let resp = isv
        .upload(&path, None, "社保查询", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(written(&app).await, nothing);

    // A good upload, then a second one while its run is in flight.
    let resp = isv
        .upload(&path, Some(&token), "社保查询", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let vid = version_id_of(&location(&resp));
    let once = written(&app).await;
    assert_eq!(once, (1, 1, 1, 1));
    let app_id = store::apps::version(app.state.db.conn(), vid)
        .await
        .expect("read")
        .expect("version")
        .app_id;
    let chosen = format!("{path}?app={app_id}");
    let resp = isv
        .upload(&chosen, Some(&token), "社保查询", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(
        error_beside(&html, "app").contains("仍有测试在进行"),
        "{html}"
    );
    // The same through the new-app form, by name.
    let resp = isv
        .upload(&path, Some(&token), "社保查询", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "name").contains("仍有测试在进行"));
    assert_eq!(written(&app).await, once);

    // Another ISV may not add to, read, or withdraw this app.
    let rival = Browser::signed_in(&app, "rival@example.cn").await;
    let rival_token = rival.csrf().await;
    let (status, html) = rival.get(&chosen).await;
    assert_eq!(status, 403, "{html}");
    let resp = rival
        .upload(&chosen, Some(&rival_token), "x", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let (status, _) = rival.get(&format!("/isv/versions/{vid}")).await;
    assert_eq!(status, 403);
    let (status, _) = rival.get(&format!("/isv/apps/{app_id}/withdraw")).await;
    assert_eq!(status, 403);
    let resp = rival
        .post_form(
            &format!("/isv/apps/{app_id}/withdraw"),
            &[("csrf_token", &rival_token)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let (_, html) = rival.get("/isv/apps").await;
    assert!(
        !html.contains("社保查询"),
        "the rival sees only its own apps"
    );
    assert_eq!(written(&app).await, once);
    let row = store::apps::get(app.state.db.conn(), app_id)
        .await
        .expect("read")
        .expect("app");
    assert_eq!(row.status, "active");

    // A closed order takes no uploads.
    drain(&app).await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/orders/{order}/close"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let resp = isv
        .upload(&path, Some(&token), "迟到的应用", Some(wasm("si_lookup")))
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "wasm").contains("不在征集中"));
    let (status, html) = isv.get(&path).await;
    assert_eq!(status, 409);
    assert!(html.contains("不在征集中"));
    assert_eq!(written(&app).await, once);
}

#[tokio::test]
async fn a_module_over_the_orders_size_cap_is_refused_beside_the_file_input() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    app.staff(Role::Isv, "isv@example.cn").await;
    let mut body = order_body("小模块订单");
    body["contract"]["limits"]["module_bytes"] = json!(40_000);
    let order = open_order_with(&app, &dept, &body).await;

    let isv = Browser::signed_in(&app, "isv@example.cn").await;
    let (_, html) = isv.get(&format!("/isv/orders/{order}/upload")).await;
    assert!(html.contains("40 KiB"), "the form names the cap");
    let module = wasm("si_lookup");
    assert!(module.len() > 40_000);
    let resp = isv
        .upload(
            &format!("/isv/orders/{order}/upload"),
            Some(&hidden_csrf(&html)),
            "大模块",
            Some(module),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 413);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "wasm").contains("模块过大"));
    assert_eq!(written(&app).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn an_isv_asks_a_question_on_the_order_page_and_it_shows_there_publicly() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    app.staff(Role::Isv, "isv@example.cn").await;
    app.citizen("citizen@example.cn", 7).await;
    let order = open_si_order(&app, &dept).await;
    let isv = Browser::signed_in(&app, "isv@example.cn").await;
    let (_, html) = isv.get(&format!("/orders/{order}")).await;
    let token = hidden_csrf(&html);
    let ask = format!("/isv/orders/{order}/questions");
    let questions = || async {
        store::entity::questions::Entity::find()
            .count(app.state.db.conn())
            .await
            .expect("count")
    };

    let resp = isv
        .post_form(&ask, &[("csrf_token", &token), ("body", "   ")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("class=\"error-summary\""));
    assert!(error_beside(&html, "body").contains("请输入您的问题"));
    assert!(html.contains("社保缴费记录查询"), "the order page again");
    assert_eq!(questions().await, 0);

    let long = "长".repeat(4_001);
    let resp = isv
        .post_form(&ask, &[("csrf_token", &token), ("body", &long)])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "body").contains("4000"));
    assert!(html.contains(&long), "the text is kept for correction");
    assert_eq!(questions().await, 0);

    let resp = isv.post_form(&ask, &[("body", "无令牌")]).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(questions().await, 0);

    let text = "查询月数超过 36 时应返回什么？";
    let resp = isv
        .post_form(&ask, &[("csrf_token", &token), ("body", text)])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(location(&resp).starts_with(&format!("/orders/{order}#question-")));
    assert_eq!(questions().await, 1);

    // Public: a signed-out visitor sees the question, and then the answer.
    let visitor = Browser::new(&app);
    let (_, html) = visitor.get(&format!("/orders/{order}")).await;
    assert!(html.contains(text));
    assert!(html.contains("待部门答复"));
    assert!(!html.contains(&ask), "no question form for visitors");
    let (_, q) = app.get_json(&format!("/api/v1/orders/{order}"), None).await;
    let qid = q["questions"][0]["id"].as_i64().expect("question id");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/questions/{qid}/answer"),
            &json!({"body": "按 36 个月处理。"}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200);
    let (_, html) = visitor.get(&format!("/orders/{order}")).await;
    assert!(html.contains("按 36 个月处理。"));

    // Only ISVs ask.
    let citizen = Browser::signed_in(&app, "citizen@example.cn").await;
    let ctoken = citizen.csrf().await;
    let resp = citizen
        .post_form(&ask, &[("csrf_token", &ctoken), ("body", "市民的问题")])
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = visitor.post_form(&ask, &[("body", "x")]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(location(&resp).starts_with("/login?next="));

    // Closed: refused beside the field, and the form is gone.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/orders/{order}/close"),
            &json!({}),
            Some(&dept),
        )
        .await;
    assert_eq!(status, 200);
    let resp = isv
        .post_form(&ask, &[("csrf_token", &token), ("body", "还能问吗？")])
        .await;
    assert_eq!(resp.status().as_u16(), 409);
    let html = resp.text().await.expect("body");
    assert!(error_beside(&html, "body").contains("不在征集中"));
    let (_, html) = isv.get(&format!("/orders/{order}")).await;
    assert!(!html.contains(&ask));
    assert_eq!(questions().await, 1);
}

#[tokio::test]
async fn an_isv_withdraws_an_app_through_the_confirmation_page() {
    let app = spawn_app().await;
    let dept = app.staff(Role::Department, "dept@example.cn").await;
    let isv_token = app.staff(Role::Isv, "isv@example.cn").await;
    let order = open_si_order(&app, &dept).await;
    let (status, up) =
        crate::pipeline::upload(&app, &isv_token, order, "社保查询", wasm("si_lookup")).await;
    assert_eq!(status, 201, "{up}");
    let app_id = up["app"]["id"].as_i64().expect("id");
    let vid = up["version"]["id"].as_i64().expect("id");
    drain(&app).await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/versions/{vid}/publish"),
            &json!({}),
            Some(&isv_token),
        )
        .await;
    assert_eq!(status, 200);

    let isv = Browser::signed_in(&app, "isv@example.cn").await;
    let confirm = format!("/isv/apps/{app_id}/withdraw");
    let (_, html) = isv.get("/isv/apps").await;
    assert!(html.contains(&format!("href=\"{confirm}\"")));
    let (status, html) = isv.get(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("确认撤回「社保查询」"), "{html}");
    let token = hidden_csrf(&html);

    let resp = isv.post_form(&confirm, &[]).await;
    assert_eq!(resp.status().as_u16(), 403, "no token, no withdrawal");
    assert_eq!(version_status(&app, vid).await, "published");

    let resp = isv.post_form(&confirm, &[("csrf_token", &token)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/isv/apps");
    assert_eq!(version_status(&app, vid).await, "withdrawn");
    let row = store::apps::get(app.state.db.conn(), app_id)
        .await
        .expect("read")
        .expect("app");
    assert_eq!(row.status, "withdrawn");

    let (_, html) = isv.get("/isv/apps").await;
    assert!(html.contains("已撤回"));
    assert!(!html.contains(&format!("href=\"{confirm}\"")));
    let (status, _) = isv.get(&confirm).await;
    assert_eq!(status, 409);
    let resp = isv.post_form(&confirm, &[("csrf_token", &token)]).await;
    assert_eq!(resp.status().as_u16(), 409);
}

#[tokio::test]
async fn my_apps_is_for_signed_in_isvs_only() {
    let app = spawn_app().await;
    app.staff(Role::Department, "dept@example.cn").await;
    let visitor = Browser::new(&app);
    let resp = visitor.get_resp("/isv/apps").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?next=%2Fisv%2Fapps");
    let dept = Browser::signed_in(&app, "dept@example.cn").await;
    let (status, html) = dept.get("/isv/apps").await;
    assert_eq!(status, 403);
    assert!(html.contains("只有软件服务商账户可以使用此页面"));
    let (status, _) = dept.get("/isv/orders/1/upload").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_order_list_filters_by_category_and_department() {
    let app = spawn_app().await;
    let dept_a = app.staff(Role::Department, "a@example.cn").await;
    let dept_b = app.staff(Role::Department, "b@example.cn").await;
    let si = open_si_order(&app, &dept_a).await;
    let mut body = order_body("公积金提取资格核验");
    body["category"] = json!("住房保障");
    let hf = open_order_with(&app, &dept_b, &body).await;
    let (_, view) = app.get_json(&format!("/api/v1/orders/{si}"), None).await;
    let org_a = view["department_org_id"].as_i64().expect("org");

    let b = Browser::new(&app);
    let (status, html) = b.get("/orders").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/orders/{si}\"")));
    assert!(html.contains(&format!("href=\"/orders/{hf}\"")));
    assert!(
        html.contains("<option value=\"住房保障\""),
        "categories offered"
    );
    assert!(
        html.contains(&format!("<option value=\"{org_a}\"")),
        "departments offered"
    );

    let (_, html) = b
        .get("/orders?category=%E4%BD%8F%E6%88%BF%E4%BF%9D%E9%9A%9C")
        .await;
    assert!(html.contains(&format!("href=\"/orders/{hf}\"")));
    assert!(!html.contains(&format!("href=\"/orders/{si}\"")));
    assert!(html.contains("<option value=\"住房保障\" selected>"));

    let (_, html) = b.get(&format!("/orders?department={org_a}")).await;
    assert!(html.contains(&format!("href=\"/orders/{si}\"")));
    assert!(!html.contains(&format!("href=\"/orders/{hf}\"")));

    let (status, _) = b.get("/orders?department=abc").await;
    assert_eq!(status, 400);
}
