//! Citizens using an app: the input is checked against the order's input
//! schema, the app runs in the sandbox with the citizen as subject and the
//! order's datasets, and one usage event is written.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use domain::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::market::Availability;
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, roles};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::extract::ClientAddr;
use crate::state::AppState;
use service::ratelimit::Action;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(invoke),
    tags((name = "invoke", description = "Citizens using apps"))
)]
pub struct InvokeApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/apps/{id}/invoke", post(invoke))
}

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 128;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvokeRequest {
    /// A value matching the order's input schema.
    #[schema(value_type = Object)]
    pub input: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvokeResponse {
    /// The app's answer, matching the order's output schema.
    #[schema(value_type = Object)]
    pub output: Value,
    pub invocation_id: i64,
    pub version_id: i64,
    pub latency_ms: u64,
}

/// What a run produced, for the API and the web page alike.
pub struct Invoked {
    pub invocation_id: i64,
    pub version_id: i64,
    pub order_id: i64,
    pub verdict: Verdict,
    pub output: Option<Value>,
    pub latency_us: u64,
}

/// The input failed the schema: one message per offending path
/// (`/a/b`, or empty for the whole value).
#[derive(Debug)]
pub struct InputErrors(pub Vec<(String, String)>);

/// Why an invocation did not run.
pub enum InvokeError {
    Api(ApiError),
    Input(InputErrors),
}

impl From<ApiError> for InvokeError {
    fn from(e: ApiError) -> Self {
        InvokeError::Api(e)
    }
}

impl From<service::ServiceError> for InvokeError {
    fn from(e: service::ServiceError) -> Self {
        InvokeError::Api(e.into())
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Api(e) => e,
            InvokeError::Input(InputErrors(errors)) => {
                let (path, message) = errors.into_iter().next().unwrap_or_default();
                let field = if path.is_empty() {
                    "input".to_owned()
                } else {
                    format!("input{}", path.replace('/', "."))
                };
                ApiError::invalid_field(&field, format!("输入不符合要求 / {message}"))
            }
        }
    }
}

/// Checks that `app_id` can be used, validates `input`, runs the app and
/// records the usage event. Shared by the API and the web form.
pub async fn run_for_citizen(
    state: &AppState,
    citizen: &store::users::User,
    app_id: i64,
    input: Value,
    idempotency_key: Option<String>,
) -> Result<Invoked, InvokeError> {
    let (version_id, order_id, stamps) = match state
        .availability
        .get(&state.db, app_id)
        .await
        .map_err(ApiError::from)?
    {
        Availability::Listed {
            version_id,
            order_id,
            datasets,
        } => (version_id, order_id, datasets),
        Availability::NoSuchApp => return Err(ApiError::not_found("应用 / app").into()),
        Availability::Suspended => {
            return Err(ApiError::conflict(
                "app_suspended",
                "该应用已被暂停使用 / this app is suspended",
            )
            .into());
        }
        Availability::NotPublished => {
            return Err(ApiError::conflict(
                "app_not_published",
                "该应用目前未上架 / this app is not published",
            )
            .into());
        }
    };
    let prepared = service::appdata::prepared_version(state, version_id, order_id).await?;
    let (contract, schemas) = (&prepared.contract, &prepared.schemas);
    if let Err(errors) = check_input(schemas, &input) {
        return Err(InvokeError::Input(errors));
    }
    let sha256 = prepared.sha256.clone();
    let data = service::appdata::datasets_from_stamps(
        &state.db,
        &state.datasets,
        order_id,
        contract,
        stamps,
    )
    .await?;

    let now = Utc::now();
    let tz = state.config.timezone;
    let local = now.with_timezone(&tz);
    let subject = citizen
        .id_number
        .clone()
        .unwrap_or_else(|| format!("citizen-{}", citizen.id));
    let request = sandbox::RunRequest {
        input,
        context: sandbox::RunContext {
            subject,
            locale: "zh-CN".into(),
            now: local.to_rfc3339(),
        },
        // Varies per request; a retry may see other random numbers, which
        // apps must not depend on for their answer anyway.
        seed: now.timestamp_micros() as u64 ^ (citizen.id as u64).rotate_left(32),
    };
    let started = std::time::Instant::now();
    let mut outcome = state
        .sandbox
        .run_async(sha256, request, data, contract.limits.clone())
        .await;
    schemas.judge_output(&mut outcome);
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if outcome.verdict != Verdict::Accepted {
        tracing::info!(app_id, version_id, verdict = %outcome.verdict,
            detail = outcome.detail.as_deref().unwrap_or(""), "invocation failed");
    }
    let period = domain::Period::containing(&now, tz)
        .map_err(ApiError::internal)?
        .to_string();
    let queries = std::mem::take(&mut outcome.queries)
        .into_iter()
        .map(|q| store::usage::DataQuery {
            dataset: q.dataset,
            key: q.key,
            code: q.code,
        })
        .collect();
    let recorded = state
        .usage
        .record(store::usage::UsageEvent {
            invocation: store::usage::NewInvocation {
                app_id,
                version_id,
                citizen_id: citizen.id,
                occurred_at: now,
                period,
                verdict: outcome.verdict.as_str().to_owned(),
                success: outcome.verdict == Verdict::Accepted,
                instructions: i64::try_from(outcome.instructions).unwrap_or(i64::MAX),
                latency_us: i64::try_from(latency_us).unwrap_or(i64::MAX),
                idempotency_key,
            },
            queries,
        })
        .await
        .map_err(ApiError::from)?;
    Ok(Invoked {
        invocation_id: recorded.id(),
        version_id,
        order_id,
        verdict: outcome.verdict,
        output: outcome
            .output
            .filter(|_| outcome.verdict == Verdict::Accepted),
        latency_us,
    })
}

/// The schema's complaints, by JSON pointer of the offending value.
pub fn check_input(schemas: &sandbox::ContractSchemas, input: &Value) -> Result<(), InputErrors> {
    schemas.check_input(input).map_err(|errors| {
        InputErrors(
            errors
                .into_iter()
                .map(|e| match e.split_once(": ") {
                    Some((path, msg)) if path.starts_with('/') => (path.to_owned(), msg.to_owned()),
                    _ => (String::new(), e),
                })
                .collect(),
        )
    })
}

/// The message a citizen sees when the app failed: kind, and without the
/// app's internals (those are in the ISV's logs).
pub fn failure_message(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::TimeLimitExceeded => {
            "该应用这次响应太慢，未能完成您的请求。请稍后再试，或选择其他应用。/ The app took too long to answer. Please try again later or choose another app."
        }
        _ => {
            "该应用这次未能完成您的请求，我们已记录此问题。请稍后再试，或选择其他应用。/ The app could not complete your request; the problem has been recorded. Please try again later or choose another app."
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                format!("Idempotency-Key 须为 1–{MAX_KEY_LEN} 个可见 ASCII 字符 / must be 1–{MAX_KEY_LEN} visible ASCII characters"),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Use an app (citizen). Send `Idempotency-Key` to make a retry count once.
#[utoipa::path(post, path = "/api/v1/apps/{id}/invoke", tag = "invoke",
    params(("id" = i64, Path, description = "app id"),
           ("Idempotency-Key" = Option<String>, Header, description = "retries with the same key count once")),
    request_body = InvokeRequest, security(("bearer" = [])),
    responses((status = 200, body = InvokeResponse),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "suspended or not published", body = ErrorBody),
              (status = 422, description = "input violates the schema", body = ErrorBody),
              (status = 429, body = ErrorBody),
              (status = 502, description = "the app failed; a failed usage event was recorded", body = ErrorBody)))]
pub async fn invoke(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    ClientAddr(addr): ClientAddr,
    ApiPath(app_id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<InvokeRequest>,
) -> ApiResult<Response> {
    state
        .rate_limits
        .check(Action::Invoke, Some(who.user().id), addr)?;
    let key = idempotency_key(&headers)?;
    let done = run_for_citizen(&state, who.user(), app_id, req.input, key).await?;
    match done.output {
        Some(output) => Ok(Json(InvokeResponse {
            output,
            invocation_id: done.invocation_id,
            version_id: done.version_id,
            latency_ms: done.latency_us / 1000,
        })
        .into_response()),
        // Not the client's fault and not ours: the app failed. The usage
        // event is recorded (as a failure, which does not count as a user).
        None => Ok((
            StatusCode::BAD_GATEWAY,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: "app_failed".into(),
                    message: failure_message(done.verdict).into(),
                    field: None,
                },
            }),
        )
            .into_response()),
    }
}
