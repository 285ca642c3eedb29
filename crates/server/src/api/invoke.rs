//! Citizens using an app: the input is checked against the order's input
//! schema, the app runs in the sandbox with the citizen as subject and the
//! order's datasets, and one usage event is written.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, roles};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::extract::ClientAddr;
use crate::state::AppState;
use service::invoke::{MAX_KEY_LEN, run_for_citizen};
use service::ratelimit::Action;
use service::{Actor, ServiceError};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(invoke),
    tags((name = "invoke", description = "Citizens using apps"))
)]
pub struct InvokeApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/apps/{id}/invoke", post(invoke))
}

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
    // The user moves into the actor: no copy on this path. Invocations are
    // not audited, so the actor needs no request id.
    let actor = Actor::user(who.current.user, None);
    let done = run_for_citizen(&state, &actor, app_id, req.input, key)
        .await
        .map_err(ServiceError::from)?;
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
