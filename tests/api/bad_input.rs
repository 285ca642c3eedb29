//! Every kind of bad input gets a clear 4xx in our error format, and
//! nothing is half-written.

use e2e::{TEST_JWT_SECRET, resident_id, spawn_app};
use serde_json::{Value, json};

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

fn citizen_body(email: &str, n: u16) -> Value {
    json!({"email": email, "password": "correct horse battery",
           "display_name": "测试", "role": "citizen", "id_number": resident_id(n)})
}

#[tokio::test]
async fn malformed_json_is_a_400_and_creates_nothing() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(r#"{"email": "a@example.cn", "password": "#)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_error(status, &body, 400, "malformed_json");
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let mut body = citizen_body("a@example.cn", 1);
    body["is_admin"] = json!(true);
    let (status, resp) = app.post_json("/api/v1/auth/register", &body, None).await;
    assert_error(status, &resp, 422, "invalid_body");
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is_admin"),
        "{resp}"
    );
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_413() {
    let app = spawn_app().await;
    let mut body = citizen_body("a@example.cn", 1);
    body["display_name"] = json!("名".repeat(1024 * 1024));
    let (status, resp) = app.post_json("/api/v1/auth/register", &body, None).await;
    assert_error(status, &resp, 413, "payload_too_large");
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_401() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/me", None).await;
    assert_error(status, &body, 401, "unauthorized");

    let token = app.citizen("a@example.cn", 1).await;
    let claims: Value = {
        let payload = token.split('.').nth(1).unwrap();
        let _ = payload;
        json!({"sub": "1", "role": "admin", "iat": 0, "exp": 4_000_000_000u64})
    };
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-server-secret-not-the-server"),
    )
    .unwrap();
    let (status, body) = app.get_json("/api/v1/me", Some(&forged)).await;
    assert_error(status, &body, 401, "unauthorized");

    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "1", "role": "citizen", "iat": 0, "exp": 1_000_000}),
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let (status, body) = app.get_json("/api/v1/me", Some(&expired)).await;
    assert_error(status, &body, 401, "unauthorized");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // an algorithm switch to "none" is not accepted either
    let none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        token.split('.').nth(1).unwrap()
    );
    let (status, _) = app.get_json("/api/v1/me", Some(&none)).await;
    assert_eq!(status, 401);

    let (status, body) = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_citizen_cannot_read_the_audit_log() {
    let app = spawn_app().await;
    let token = app.citizen("a@example.cn", 1).await;
    let (status, body) = app.get_json("/api/v1/audit", Some(&token)).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = app.get_json("/api/v1/audit/verify", Some(&token)).await;
    assert_error(status, &body, 403, "forbidden");
}

#[tokio::test]
async fn a_duplicate_email_is_a_409_and_the_first_account_is_untouched() {
    let app = spawn_app().await;
    app.citizen("a@example.cn", 1).await;
    let mut again = citizen_body("A@EXAMPLE.CN", 2);
    again["display_name"] = json!("冒名者");
    let (status, body) = app.post_json("/api/v1/auth/register", &again, None).await;
    assert_error(status, &body, 409, "email_taken");
    assert_eq!(app.count_users().await, 1);
    let (status, _) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "a@example.cn", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_invalid_resident_id_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let mut body = citizen_body("a@example.cn", 1);
    let mut id = resident_id(1).into_bytes();
    // break the check character
    id[17] = if id[17] == b'0' { b'1' } else { b'0' };
    body["id_number"] = json!(String::from_utf8(id).unwrap());
    let (status, resp) = app.post_json("/api/v1/auth/register", &body, None).await;
    assert_error(status, &resp, 422, "validation_failed");
    assert_eq!(resp["error"]["field"], "id_number");
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn an_invalid_credit_code_is_a_422_naming_the_field_and_no_org_is_left_behind() {
    let app = spawn_app().await;
    let valid = domain::CreditCode::generate("330100", 4242).unwrap();
    let mut bad = valid.as_str().as_bytes().to_vec();
    bad[17] = if bad[17] == b'0' { b'1' } else { b'0' };
    let body = json!({"email": "dev@vendor.cn", "password": "correct horse battery",
        "display_name": "开发者", "role": "isv", "org_name": "某某科技",
        "credit_code": String::from_utf8(bad).unwrap()});
    let (status, resp) = app.post_json("/api/v1/auth/register", &body, None).await;
    assert_error(status, &resp, 422, "validation_failed");
    assert_eq!(resp["error"]["field"], "credit_code");
    assert!(
        store::orgs::find_by_name(app.state.db.conn(), "某某科技")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.count_users().await,
        0,
        "no user without its organisation"
    );

    // the same organisation registers fine with a valid code
    let mut ok = body.clone();
    ok["credit_code"] = json!(valid.as_str());
    let (status, resp) = app.post_json("/api/v1/auth/register", &ok, None).await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(app.count_users().await, 1);
}

#[tokio::test]
async fn a_second_isv_cannot_claim_an_existing_organisation() {
    let app = spawn_app().await;
    let body = |email: &str| {
        json!({"email": email, "password": "correct horse battery",
               "display_name": "开发者", "role": "isv", "org_name": "某某科技"})
    };
    let (status, _) = app
        .post_json("/api/v1/auth/register", &body("a@vendor.cn"), None)
        .await;
    assert_eq!(status, 201);
    let (status, resp) = app
        .post_json("/api/v1/auth/register", &body("b@vendor.cn"), None)
        .await;
    assert_error(status, &resp, 409, "org_name_taken");
    assert_eq!(resp["error"]["field"], "org_name");
    assert_eq!(app.count_users().await, 1);
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/no-such-thing", None).await;
    assert_error(status, &body, 404, "not_found");
}

/// Status, content type and body of a raw request.
async fn send(app: &e2e::TestApp, method: reqwest::Method, path: &str) -> (u16, String, Value) {
    let resp = app
        .client
        .request(method, app.url(path))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, content_type, body)
}

#[tokio::test]
async fn a_path_id_that_is_not_a_number_is_a_json_400_naming_it() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/orders/abc",
        "/api/v1/public/settlements/abc",
        "/api/v1/public/apps/1.5",
    ] {
        let (status, content_type, body) = send(&app, reqwest::Method::GET, path).await;
        assert_eq!(content_type, "application/json", "{path}: {body}");
        assert_error(status, &body, 400, "invalid_path");
        assert_eq!(body["error"]["field"], "id", "{path}: {body}");
    }
    // signed in, past the role check, an id beyond i64 is refused the same way
    let token = app.citizen("a@example.cn", 1).await;
    let (status, body) = app
        .get_json("/api/v1/apps/99999999999999999999999", Some(&token))
        .await;
    assert_error(status, &body, 400, "invalid_path");
    assert_eq!(body["error"]["field"], "id", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("integer"),
        "{body}"
    );
}

#[tokio::test]
async fn bad_or_unknown_query_parameters_are_json_400s_naming_them() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/v1/public/settlements?cursor=abc", "cursor"),
        ("/api/v1/public/settlements?bogus=1", "bogus"),
        ("/api/v1/market?sort=bogus", "sort"),
        ("/api/v1/market?min_rating=-1", "min_rating"),
        ("/api/v1/public/apps/1?limit=many", "limit"),
    ] {
        let (status, content_type, body) = send(&app, reqwest::Method::GET, path).await;
        assert_eq!(content_type, "application/json", "{path}: {body}");
        assert_error(status, &body, 400, "invalid_query");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{path}: {body}"
        );
    }
    // the same routes answer well-formed queries
    let (status, _, body) = send(&app, reqwest::Method::GET, "/api/v1/market?sort=new").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unsupported_method_on_an_api_route_is_a_json_405_with_allow() {
    let app = spawn_app().await;
    let resp = app
        .client
        .delete(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers()["allow"].to_str().unwrap(), "GET,HEAD");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_error(405, &body, 405, "method_not_allowed");

    let (status, content_type, body) =
        send(&app, reqwest::Method::PATCH, "/api/v1/auth/login").await;
    assert_eq!(content_type, "application/json");
    assert_error(status, &body, 405, "method_not_allowed");
}

async fn count_orders(app: &e2e::TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    store::entity::orders::Entity::find()
        .count(app.state.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_state_changing_api_request_signed_in_only_by_cookie_needs_the_csrf_header() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    // sign in through the web page: the client now holds gm_session and gm_csrf
    let html = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("csrf token") + marker.len();
    let csrf = html[start..start + 64].to_owned();
    let resp = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "department@demo.local"),
            ("password", service::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);

    // reading by cookie is fine
    let (status, me) = app.get_json("/api/v1/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "department");

    // writing by cookie alone is not, and nothing is written
    let body = crate::orders::order_body("跨站伪造的订单");
    let (status, resp) = app.post_json("/api/v1/orders", &body, None).await;
    assert_error(status, &resp, 403, "csrf");
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-CSRF-Token"),
        "{resp}"
    );
    let forged = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("x-csrf-token", "0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403, "a made-up token");
    let unsafe_put = app
        .client
        .put(app.url("/api/v1/me/payout-account"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsafe_put.status().as_u16(), 403, "PUT too");
    assert_eq!(count_orders(&app).await, 0);

    // the page's own token makes the same request good
    let resp = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(count_orders(&app).await, 1);

    // and a bearer token needs no CSRF header, cookie or not
    let (status, login) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "department@demo.local", "password": service::demo::DEMO_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap();
    let (status, resp) = app
        .post_json(
            "/api/v1/orders",
            &crate::orders::order_body("客户端创建的订单"),
            Some(token),
        )
        .await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(count_orders(&app).await, 2);
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "{doc}");
    let mut tried = 0;
    for (path, item) in paths {
        // any number will do for an id: the router matches the shape only
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    if seg == "{name}" { "x" } else { "1" }
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            tried += 1;
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // no session and no body: a handler answers 401, 404 for the
            // record, 415 and so on; never the router's own 404 or 405
            let (status, _, body) = send(&app, m, &concrete).await;
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            let router_404 = status == 404
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("endpoint"));
            assert!(
                !router_404,
                "{method} {path} is documented but not routed: {body}"
            );
            assert!(status < 500, "{method} {path}: {status} {body}");
        }
    }
    assert!(tried > 40, "only {tried} operations");
    assert_eq!(app.count_users().await, 0, "nothing was written");
    assert_eq!(count_orders(&app).await, 0);
}
