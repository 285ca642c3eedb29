use e2e::{TEST_JWT_SECRET, resident_id, spawn_app};
use serde_json::json;

#[tokio::test]
async fn health_answers_once_ready() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_citizen_registers_signs_in_and_sees_themselves_with_a_masked_id() {
    let app = spawn_app().await;
    let id = resident_id(7);
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "Wang@Example.cn", "password": "correct horse battery",
                    "display_name": "王五", "role": "citizen", "id_number": id}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["email"], "wang@example.cn");
    assert_eq!(body["user"]["role"], "citizen");

    let (status, login) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "wang@example.cn", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap();
    assert!(login["expires_at"].as_str().is_some());

    let (status, me) = app.get_json("/api/v1/me", Some(token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["display_name"], "王五");
    let masked = me["id_number"].as_str().unwrap();
    assert_eq!(&masked[..4], &id[..4]);
    assert_eq!(&masked[14..], &id[14..]);
    assert!(masked.contains("**********"), "{masked}");
}

#[tokio::test]
async fn an_isv_registers_with_its_organisation() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "dev@vendor.cn", "password": "correct horse battery",
                    "display_name": "开发者", "role": "isv", "org_name": "杭州某某科技有限公司"}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role"], "isv");
    assert_eq!(body["user"]["org_name"], "杭州某某科技有限公司");
    assert!(body["user"]["org_id"].as_i64().is_some());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.citizen("a@example.cn", 1).await;
    let (s1, b1) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "a@example.cn", "password": "wrong password"}),
            None,
        )
        .await;
    let (s2, b2) = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@example.cn", "password": "wrong password"}),
            None,
        )
        .await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(b1, b2);
}

#[tokio::test]
async fn staff_roles_cannot_register_themselves() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "f@example.cn", "password": "correct horse battery",
                    "display_name": "x", "role": "finance"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "role");
    assert_eq!(app.count_users().await, 0);
}

#[tokio::test]
async fn supervisors_verify_the_audit_chain_that_registrations_extend() {
    let app = spawn_app().await;
    app.citizen("a@example.cn", 1).await;
    app.citizen("b@example.cn", 2).await;
    let sup = app.staff(domain::Role::Supervisor, "sup@example.cn").await;
    let (status, v) = app.get_json("/api/v1/audit/verify", Some(&sup)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"], 3);
    let (status, list) = app.get_json("/api/v1/audit?limit=2", Some(&sup)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["action"], "user.create", "newest first");
    assert_eq!(list["items"][1]["action"], "user.register");
    assert!(list["next"].as_i64().is_some());
    let cursor = list["next"].as_i64().unwrap();
    let (_, rest) = app
        .get_json(&format!("/api/v1/audit?cursor={cursor}"), Some(&sup))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null());
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(
        doc["paths"]["/api/v1/auth/login"]["post"].is_object(),
        "{doc}"
    );
    let _ = TEST_JWT_SECRET;
}

#[tokio::test]
async fn twenty_citizens_registering_at_once_all_get_accounts() {
    let app = spawn_app().await;
    let mut tasks = vec![];
    for n in 0..20u16 {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/register");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"email": format!("c{n}@example.cn"), "password": "correct horse battery",
                              "display_name": "并发", "role": "citizen", "id_number": resident_id(100 + n)}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    assert_eq!(app.count_users().await, 20);
}

#[tokio::test]
async fn one_resident_id_number_holds_one_citizen_account() {
    let app = spawn_app().await;
    app.citizen("first@example.cn", 9).await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "second@example.cn", "password": "correct horse battery",
                    "display_name": "冒名者", "role": "citizen", "id_number": resident_id(9)}),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "id_number_taken");
    assert_eq!(body["error"]["field"], "id_number");
    assert_eq!(app.count_users().await, 1);
}
