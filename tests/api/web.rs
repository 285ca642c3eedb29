//! The web pages, driven as a browser without JavaScript would: GET a form,
//! post it back with the cookie and hidden CSRF token it carried.

use e2e::{TestApp, hidden_csrf, resident_id, spawn_app};

#[tokio::test]
async fn the_home_page_speaks_chinese_first_and_switches_to_english() {
    let app = spawn_app().await;
    let (status, html) = app.get_page("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("政务应用市场"));
    assert!(
        html.contains("软件服务商"),
        "tells vendors what they can do"
    );

    let resp = app
        .client
        .get(app.url("/lang/en?next=/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let (_, html) = app.get_page("/").await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Software vendors"));
}

#[tokio::test]
async fn the_demo_citizen_signs_in_through_the_web_page() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    let (_, html) = app.get_page("/login").await;
    let token = hidden_csrf(&html);
    let resp = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "citizen@demo.local"),
                ("password", service::demo::DEMO_PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/account");
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gm_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let (status, html) = app.get_page("/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("张小明"), "{html}");
    assert!(html.contains("citizen@demo.local"));
}

#[tokio::test]
async fn a_wrong_password_on_the_web_shows_the_error_summary_and_keeps_the_email() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    let (_, html) = app.get_page("/login").await;
    let token = hidden_csrf(&html);
    let resp = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "citizen@demo.local"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<title>错误："), "title is prefixed: {html}");
    assert!(html.contains("class=\"error-summary\""));
    assert!(
        html.contains("href=\"#email\""),
        "summary links to the field"
    );
    assert!(
        html.contains("id=\"email-error\""),
        "message beside the field"
    );
    assert!(html.contains("value=\"citizen@demo.local\""));
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    // get the cookie, but do not send the token back
    let _ = app.get_page("/register").await;
    let id = resident_id(3);
    let resp = app
        .post_form(
            "/register",
            &[
                ("role", "citizen"),
                ("display_name", "李四"),
                ("email", "li@example.cn"),
                ("password", "correct horse battery"),
                ("id_number", &id),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(app.count_users().await, 0);

    // a token from another browser does not help either
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let html = other
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign = hidden_csrf(&html);
    let resp = app
        .post_form(
            "/register",
            &[
                ("csrf_token", &foreign),
                ("role", "citizen"),
                ("display_name", "李四"),
                ("email", "li@example.cn"),
                ("password", "correct horse battery"),
                ("id_number", &id),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn registering_on_the_web_reports_each_bad_field_then_succeeds() {
    let app = spawn_app().await;
    let (_, html) = app.get_page("/register").await;
    let token = hidden_csrf(&html);
    let resp = app
        .post_form(
            "/register",
            &[
                ("csrf_token", &token),
                ("role", "citizen"),
                ("display_name", "李四"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("id_number", "123"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    for field in ["email", "password", "id_number"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "summary lists {field}"
        );
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "message beside {field}"
        );
    }
    assert!(
        !html.contains("value=\"short\""),
        "passwords are never echoed"
    );
    assert_eq!(app.count_users().await, 0);

    let id = resident_id(4);
    let resp = app
        .post_form(
            "/register",
            &[
                ("csrf_token", &token),
                ("role", "citizen"),
                ("display_name", "李四"),
                ("email", "li@example.cn"),
                ("password", "correct horse battery"),
                ("id_number", &id),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let (_, html) = app.get_page("/?done=registered").await;
    assert!(html.contains("李四"), "signed in after registering");
    assert_eq!(app.count_users().await, 1);
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token_and_clears_the_session() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    let (_, html) = app.get_page("/login").await;
    let token = hidden_csrf(&html);
    app.post_form(
        "/login",
        &[
            ("csrf_token", &token),
            ("email", "finance@demo.local"),
            ("password", service::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    let resp = app.post_form("/logout", &[]).await;
    assert_eq!(resp.status().as_u16(), 403, "no token, no sign-out");
    let (_, html) = app.get_page("/account").await;
    assert!(html.contains("赵会计"));
    let resp = app.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    let resp = app.client.get(app.url("/account")).send().await.unwrap();
    assert_eq!(
        resp.status().as_u16(),
        303,
        "signed out: sent to the login page"
    );
}

#[tokio::test]
async fn unknown_pages_are_html_404s_and_the_api_reference_renders() {
    let app = spawn_app().await;
    let (status, html) = app.get_page("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("找不到页面"));
    let (status, html) = app.get_page("/docs/api").await;
    assert_eq!(status, 200);
    assert!(html.contains("/api/v1/auth/login"));
    // The ABI guide, rendered from the kit's own ABI.md.
    let (status, html) = app.get_page("/docs/abi").await;
    assert_eq!(status, 200);
    assert!(html.contains("应用接口（ABI）说明"), "{html}");
    assert!(
        html.contains("<code>gov.query</code>") && html.contains("AssemblyScript"),
        "{html}"
    );
}

#[tokio::test]
async fn finance_form_posts_need_a_finance_user_and_the_csrf_token() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    let sign_in = |email: &'static str| {
        let app = &app;
        async move {
            let (_, html) = app.get_page("/login").await;
            let token = hidden_csrf(&html);
            app.post_form(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", email),
                    ("password", service::demo::DEMO_PASSWORD),
                ],
            )
            .await;
            token
        }
    };
    // signed out: sent to sign in, nothing read
    let resp = app.post_form("/finance/settlements/1/approve", &[]).await;
    assert_eq!(resp.status().as_u16(), 303);

    let token = sign_in("citizen@demo.local").await;
    let resp = app
        .post_form("/finance/settlements/1/approve", &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status().as_u16(), 403, "a citizen is not finance");

    let token = sign_in("finance@demo.local").await;
    let resp = app.post_form("/finance/settlements/1/approve", &[]).await;
    assert_eq!(resp.status().as_u16(), 403, "no token, no approval");
    let resp = app
        .post_form("/finance/settlements/1/approve", &[("csrf_token", &token)])
        .await;
    assert_eq!(
        resp.status().as_u16(),
        404,
        "checks passed; there is no run 1"
    );
}

/// Status, content type and body of a page.
async fn get_raw(app: &TestApp, path: &str) -> (u16, String, String) {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    (status, content_type, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_page_id_that_is_not_a_number_is_the_html_404_page() {
    let app = spawn_app().await;
    for path in [
        "/orders/abc",
        "/market/apps/abc",
        "/market/services/1e3",
        "/finance/settlements/x",
        "/lang/xx",
    ] {
        let (status, content_type, html) = get_raw(&app, path).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(html.contains("找不到页面"), "{path}: {html}");
        assert!(
            html.contains("<html lang=\"zh-CN\">"),
            "{path}: the full layout"
        );
    }
}

#[tokio::test]
async fn a_query_parameter_that_does_not_parse_is_an_html_400_page() {
    let app = spawn_app().await;
    let (status, content_type, html) = get_raw(&app, "/market/apps/1?cursor=abc").await;
    assert_eq!(status, 400, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("网址有误"), "{html}");
    assert!(!html.contains("Failed to deserialize"), "no raw axum text");

    // the English page when the visitor chose English
    app.client
        .get(app.url("/lang/en?next=/"))
        .send()
        .await
        .unwrap();
    let (status, _, html) = get_raw(&app, "/market/apps/1?cursor=abc").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("There is a problem with the address"),
        "{html}"
    );
}
