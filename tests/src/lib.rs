//! Helpers for the end-to-end tests: a real server on a free port, over a
//! fresh database (SQLite temp file, or a PostgreSQL database cloned from a
//! migrated template when `TEST_DATABASE_URL` is set).

use std::net::SocketAddr;

use serde_json::{Value, json};
use service::config::{Config, FileConfig, Overrides};

/// A fixed key so tests can forge and expire tokens deliberately.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub db: store::testing::TestDb,
    pub state: server::AppState,
    pub client: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the configuration adjusted first (a small
/// upload limit, a short deadline…).
pub async fn spawn_app_with(tune: impl FnOnce(&mut Config)) -> TestApp {
    let db = store::testing::TestDb::new().await;
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let env = |k: &str| match k {
        "GOVMARKET_JWT_SECRET" => Some(TEST_JWT_SECRET.to_owned()),
        _ => None,
    };
    let mut config = Config::resolve(
        FileConfig::default(),
        env,
        Overrides {
            addr: Some("127.0.0.1:0".parse().expect("addr")),
            data_dir: Some(data_dir.path().to_path_buf()),
        },
    )
    .expect("config");
    config.database_url = db.url().to_owned();
    tune(&mut config);
    let state = server::AppState::with_db(config, db.db().clone()).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let app = server::app(state.clone());
    tokio::spawn(async move {
        axum_serve(listener, app).await;
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp {
        addr,
        base: format!("http://{addr}"),
        db,
        state,
        client,
        _data_dir: data_dir,
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("test server stopped: {e}");
    }
}

/// A valid resident ID number for the n-th test citizen.
pub fn resident_id(n: u16) -> String {
    let birth = chrono_date(1990, 1, 1);
    domain::ResidentId::generate("330106", birth, n, n % 2 == 1)
        .expect("valid test id")
        .as_str()
        .to_owned()
}

fn chrono_date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A page as the shared client (no redirects followed) gets it.
    pub async fn get_page(&self, path: &str) -> (u16, String) {
        let resp = self.client.get(self.url(path)).send().await.expect("get");
        (resp.status().as_u16(), resp.text().await.expect("body"))
    }

    /// A form posted by the shared client.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("post")
    }

    /// Registers a citizen through the API and returns its token.
    pub async fn citizen(&self, email: &str, n: u16) -> String {
        let (status, body) = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD,
                        "display_name": "测试市民", "role": "citizen", "id_number": resident_id(n)}),
                None,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// A signed-in user of any role, created as an admin would.
    pub async fn staff(&self, role: domain::Role, email: &str) -> String {
        let reg = service::accounts::Registration {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            display_name: format!("测试 {role}"),
            role: role.as_str().to_owned(),
            org_name: role
                .needs_organisation()
                .then(|| format!("测试单位 {email}")),
            ..Default::default()
        };
        let user =
            service::accounts::create_by_admin(&self.state.db, reg, &service::Actor::system())
                .await
                .map_err(|e| format!("{e:?}"))
                .expect("staff account");
        self.state.keys.issue(user.id, user.role).expect("token").0
    }

    pub async fn count_users(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        store::entity::users::Entity::find()
            .count(self.state.db.conn())
            .await
            .expect("count")
    }
}

/// The CSRF token a page's form carries in its hidden `csrf_token` field.
pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("form has a csrf token") + marker.len();
    html[start..start + 64].to_owned()
}

/// The password of every account `TestApp::citizen` and `TestApp::staff` make.
pub const PASSWORD: &str = "correct horse battery";

/// The value of the hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').expect("the value ends") + start;
    html[start..end].to_owned()
}

/// A browser without JavaScript: its own cookie jar, no redirects followed.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .expect("client"),
        }
    }

    /// A browser signed in as `email` ([`PASSWORD`]) through the login form.
    pub async fn signed_in(app: &TestApp, email: &str) -> Browser {
        let b = Browser::new(app);
        let (_, html) = b.get("/login").await;
        let token = hidden_csrf(&html);
        let resp = b
            .post_form(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(resp.status().as_u16(), 303, "{email} signs in");
        b
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = self.get_resp(path).await;
        (resp.status().as_u16(), resp.text().await.expect("body"))
    }

    pub async fn get_resp(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("post")
    }

    /// The CSRF token of this browser, read from a page that has a form.
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get("/login").await;
        hidden_csrf(&html)
    }
}
