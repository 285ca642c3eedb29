//! A local fake of the Stripe endpoints govmarket calls (`POST
//! /v1/transfers`), checking what Stripe checks for those calls: the
//! secret key, form encoding, required parameters, currency and amount
//! rules, unknown parameters, and idempotency (the same key with the same
//! parameters replays the first answer; the same key with other parameters
//! is an error). Failures and stalls can be injected for the n-th transfer,
//! to test the payout worker's crash safety.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use serde_json::{Value, json};

/// Currencies the fake accepts (lower case, as Stripe requires).
const CURRENCIES: &[&str] = &["cny", "usd", "eur", "hkd", "gbp", "jpy", "sgd"];
/// Stripe's largest amount: eight digits in the smallest unit.
const MAX_AMOUNT: i64 = 99_999_999;
const KNOWN_PARAMS: &[&str] = &[
    "amount",
    "currency",
    "destination",
    "description",
    "transfer_group",
    "source_transaction",
    "source_type",
];

/// What to do with the n-th new transfer (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Answer 500 without creating anything (not stored under the key).
    ServerError,
    /// Refuse with 400 `insufficient_funds` (stored under the key, as
    /// Stripe stores refusals).
    Decline,
    /// Create the transfer and store the answer, then never answer: the
    /// client sees a timeout, as when a process dies mid-call.
    Stall,
}

/// A transfer the fake created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTransfer {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub destination: String,
    pub transfer_group: Option<String>,
    pub idempotency_key: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// The first answer given under an idempotency key: the sorted parameters
/// it was given for, its status and its body.
type StoredAnswer = (Vec<(String, String)>, u16, Value);

#[derive(Default)]
struct Inner {
    transfers: Vec<FakeTransfer>,
    idempotency: HashMap<String, StoredAnswer>,
    /// Transfer attempts that reached parameter checks.
    requests: usize,
    /// 1-based ordinal of the next new transfer attempt.
    attempts: usize,
    inject: HashMap<usize, Injected>,
    /// When set, destinations must be one of these.
    accounts: Option<HashSet<String>>,
}

struct Shared {
    secret_key: String,
    inner: Mutex<Inner>,
}

/// A running fake; it stops when dropped.
pub struct FakeStripe {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeStripe {
    /// Starts on a free loopback port, accepting `secret_key`.
    pub async fn start(secret_key: &str) -> std::io::Result<FakeStripe> {
        let shared = Arc::new(Shared {
            secret_key: secret_key.to_owned(),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/v1/transfers", post(create_transfer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake Stripe stopped");
            }
        });
        Ok(FakeStripe { addr, shared, task })
    }

    /// The base URL to configure the client with.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Every transfer created, in order.
    pub fn transfers(&self) -> Vec<FakeTransfer> {
        self.shared.inner.lock().transfers.clone()
    }

    /// Requests to `/v1/transfers` that passed authentication.
    pub fn requests(&self) -> usize {
        self.shared.inner.lock().requests
    }

    /// Injects `what` into the n-th new transfer attempt (1-based, counting
    /// attempts that are not idempotent replays).
    pub fn inject(&self, nth: usize, what: Injected) {
        self.shared.inner.lock().inject.insert(nth, what);
    }

    /// Removes every pending injection.
    pub fn clear_injections(&self) {
        self.shared.inner.lock().inject.clear();
    }

    /// Restricts destinations to these connected accounts.
    pub fn set_accounts(&self, accounts: &[&str]) {
        self.shared.inner.lock().accounts =
            Some(accounts.iter().map(|a| (*a).to_owned()).collect());
    }
}

fn error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> Response {
    let mut body = json!({"error": {"type": kind, "message": message}});
    if let Some(p) = param {
        body["error"]["param"] = json!(p);
    }
    (status, axum::Json(body)).into_response()
}

async fn create_transfer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = format!("Bearer {}", shared.secret_key);
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
            None,
        );
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Request bodies must be form encoded (application/x-www-form-urlencoded)",
            None,
        );
    }
    let Ok(mut params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Invalid form body",
            None,
        );
    };
    params.sort();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let (status, body, stall) = {
        let mut inner = shared.inner.lock();
        inner.requests += 1;
        if let Some(k) = &key
            && let Some((first, status, body)) = inner.idempotency.get(k)
        {
            if *first != params {
                return error(
                    StatusCode::BAD_REQUEST,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    None,
                );
            }
            let mut resp = (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                axum::Json(body.clone()),
            )
                .into_response();
            resp.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            return resp;
        }
        if let Err(resp) = validate(&params, inner.accounts.as_ref()) {
            return resp;
        }
        inner.attempts += 1;
        let nth = inner.attempts;
        let injected = inner.inject.remove(&nth);
        if injected == Some(Injected::ServerError) {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "Injected server error",
                None,
            );
        }
        let (status, body) = if injected == Some(Injected::Decline) {
            (
                400u16,
                json!({"error": {"type": "invalid_request_error", "code": "insufficient_funds",
                       "message": "You have insufficient available funds in your Stripe account."}}),
            )
        } else {
            let transfer = new_transfer(&params, key.clone(), inner.transfers.len() + 1);
            let body = transfer_json(&transfer);
            inner.transfers.push(transfer);
            (200u16, body)
        };
        if let Some(k) = key {
            inner
                .idempotency
                .insert(k, (params.clone(), status, body.clone()));
        }
        (status, body, injected == Some(Injected::Stall))
    };
    if stall {
        // Long enough for any client timeout; the server task is aborted
        // when the fake is dropped.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        axum::Json(body),
    )
        .into_response()
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[allow(clippy::result_large_err)]
fn validate(
    params: &[(String, String)],
    accounts: Option<&HashSet<String>>,
) -> Result<(), Response> {
    let bad = |message: String, param: &str| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &message,
            Some(param),
        )
    };
    for (k, _) in params {
        let known = KNOWN_PARAMS.contains(&k.as_str())
            || (k.starts_with("metadata[") && k.ends_with(']'))
            || k.starts_with("expand[");
        if !known {
            return Err(bad(format!("Received unknown parameter: {k}"), k));
        }
    }
    for required in ["amount", "currency", "destination"] {
        if get(params, required).is_none() {
            return Err(bad(
                format!("Missing required param: {required}."),
                required,
            ));
        }
    }
    let amount = get(params, "amount").unwrap_or_default();
    match amount.parse::<i64>() {
        Ok(a) if a > 0 && a <= MAX_AMOUNT => {}
        Ok(_) => {
            return Err(bad(
                "Amount must be a positive integer no larger than 99999999.".into(),
                "amount",
            ));
        }
        Err(_) => return Err(bad(format!("Invalid integer: {amount}"), "amount")),
    }
    let currency = get(params, "currency").unwrap_or_default();
    if !CURRENCIES.contains(&currency) {
        return Err(bad(format!("Invalid currency: {currency}."), "currency"));
    }
    let destination = get(params, "destination").unwrap_or_default();
    let known = match accounts {
        Some(set) => set.contains(destination),
        None => crate::valid_account(destination),
    };
    if !known {
        return Err(bad(
            format!("No such destination: '{destination}'"),
            "destination",
        ));
    }
    Ok(())
}

fn new_transfer(params: &[(String, String)], key: Option<String>, n: usize) -> FakeTransfer {
    let metadata = params
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_owned(), v.clone()))
        })
        .collect();
    FakeTransfer {
        id: format!("tr_fake{n:08}"),
        amount: get(params, "amount")
            .and_then(|a| a.parse().ok())
            .unwrap_or_default(),
        currency: get(params, "currency").unwrap_or_default().to_owned(),
        destination: get(params, "destination").unwrap_or_default().to_owned(),
        transfer_group: get(params, "transfer_group").map(str::to_owned),
        idempotency_key: key,
        metadata,
    }
}

/// A complete Stripe `transfer` object (the client requires every field).
fn transfer_json(t: &FakeTransfer) -> Value {
    json!({
        "id": t.id,
        "object": "transfer",
        "amount": t.amount,
        "amount_reversed": 0,
        "balance_transaction": null,
        "created": 1_790_000_000i64,
        "currency": t.currency,
        "description": null,
        "destination": t.destination,
        "destination_payment": null,
        "livemode": false,
        "metadata": t.metadata,
        "reversals": {"object": "list", "data": [], "has_more": false,
                      "url": format!("/v1/transfers/{}/reversals", t.id)},
        "reversed": false,
        "source_transaction": null,
        "source_type": "card",
        "transfer_group": t.transfer_group,
    })
}
