//! A real server for the HTTP benchmarks: SQLite in a temporary directory,
//! the whole router on a loopback port, accounts issued directly, and the
//! guest kit's social-insurance order opened through the API.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use service::config::{Config, FileConfig, Overrides};

pub struct Harness {
    pub state: server::AppState,
    pub base: String,
    pub http: reqwest::Client,
    /// Holds the database and data directory until the bench ends.
    _dir: tempfile::TempDir,
}

pub fn guest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sandbox/guest")
        .join(path)
}

pub fn read_json(path: &str) -> anyhow::Result<Value> {
    let p = guest(path);
    let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// The body of a 2xx answer as JSON, or an error naming `what`.
pub async fn check(r: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    Ok(serde_json::from_str::<Value>(&body).unwrap_or(Value::Null))
}

impl Harness {
    /// Starts the server. `tune` may adjust the state before it serves
    /// (e.g. the rate limits, which would otherwise throttle a benchmark).
    pub async fn start(tune: impl FnOnce(&mut server::AppState)) -> anyhow::Result<Harness> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        let db = store::connect(&url).await?;
        store::migrate(&db).await?;
        let env = |k: &str| match k {
            "GOVMARKET_JWT_SECRET" => {
                Some("bench-secret-bench-secret-bench-secret-0123".to_owned())
            }
            _ => None,
        };
        let mut config = Config::resolve(
            FileConfig::default(),
            env,
            Overrides {
                addr: Some("127.0.0.1:0".parse()?),
                data_dir: Some(dir.path().to_path_buf()),
            },
        )?;
        config.database_url = url;
        let mut state = server::AppState::with_db(config, db)?;
        tune(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = server::app(state.clone());
        tokio::spawn(async move {
            let _ = server::axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        Ok(Harness {
            state,
            base,
            http: reqwest::Client::new(),
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An account made directly (no password hashing on the clock) and a
    /// bearer token for it.
    pub async fn token(
        &self,
        email: &str,
        role: domain::Role,
        id_number: Option<String>,
    ) -> anyhow::Result<String> {
        let reg = service::accounts::Registration {
            email: email.to_owned(),
            password: "correct horse battery".into(),
            display_name: "bench".into(),
            role: role.as_str().into(),
            org_name: (role != domain::Role::Citizen).then(|| format!("bench {email}")),
            id_number,
            ..Default::default()
        };
        let user =
            service::accounts::create_by_admin(&self.state.db, reg, &service::Actor::system())
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(self
            .state
            .keys
            .issue(user.id, user.role)
            .map_err(|e| e.into_anyhow())?
            .0)
    }

    /// Creates, fills and opens the guest kit's social-insurance order with
    /// `cases`; returns its id.
    pub async fn open_si_order(&self, dept: &str, cases: &[Value]) -> anyhow::Result<i64> {
        let mut contract = read_json("suites/social-insurance/contract.json")?;
        if let Some(c) = contract.as_object_mut() {
            c.remove("threshold_percent");
        }
        let order = check(
            self.http
                .post(self.url("/api/v1/orders"))
                .bearer_auth(dept)
                .json(
                    &json!({"title": "社保缴费记录查询（压测）", "description": "bench",
                              "category": "社会保障", "budget_fen": 100_000, "contract": contract}),
                )
                .send()
                .await?,
            "create order",
        )
        .await?;
        let order = order["id"].as_i64().context("order id")?;
        let data = std::fs::read(guest(
            "suites/social-insurance/datasets/social_insurance.json",
        ))?;
        check(
            self.http
                .put(self.url(&format!(
                    "/api/v1/orders/{order}/datasets/social_insurance?sample=true"
                )))
                .bearer_auth(dept)
                .header("content-type", "application/json")
                .body(data)
                .send()
                .await?,
            "dataset",
        )
        .await?;
        check(
            self.http
                .put(self.url(&format!("/api/v1/orders/{order}/test-suite")))
                .bearer_auth(dept)
                .json(&json!({ "cases": cases }))
                .send()
                .await?,
            "suite",
        )
        .await?;
        check(
            self.http
                .post(self.url(&format!("/api/v1/orders/{order}/publish")))
                .bearer_auth(dept)
                .send()
                .await?,
            "publish",
        )
        .await?;
        Ok(order)
    }

    /// Uploads `wasm` as a new app on `order`; returns (app id, version id).
    pub async fn upload(&self, isv: &str, order: i64, wasm: Vec<u8>) -> anyhow::Result<(i64, i64)> {
        let form = reqwest::multipart::Form::new()
            .text("name", "社保查询")
            .text("release_notes", "bench")
            .part(
                "wasm",
                reqwest::multipart::Part::bytes(wasm).file_name("app.wasm"),
            );
        let up = check(
            self.http
                .post(self.url(&format!("/api/v1/orders/{order}/apps")))
                .bearer_auth(isv)
                .multipart(form)
                .send()
                .await?,
            "upload",
        )
        .await?;
        Ok((
            up["app"]["id"].as_i64().context("app id")?,
            up["version"]["id"].as_i64().context("version id")?,
        ))
    }
}
