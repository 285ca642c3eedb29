//! Fraud signals at the supervisor's desk: list, one signal, confirm (its
//! usage becomes invalid) and dismiss. The use cases are
//! `service::supervise::signals`'.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use service::supervise::signals::{self, Decision, SignalView, SubjectView};
use utoipa::{IntoParams, ToSchema};

use super::supervise::ReasonRequest;
use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_signals, get_signal, confirm_signal, dismiss_signal),
    components(schemas(SignalList, SignalView, SubjectView))
)]
pub struct SignalsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/signals", get(list_signals))
        .route("/supervise/signals/{id}", get(get_signal))
        .route("/supervise/signals/{id}/confirm", post(confirm_signal))
        .route("/supervise/signals/{id}/dismiss", post(dismiss_signal))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignalQuery {
    /// open | dismissed | confirmed; every signal when absent.
    pub status: Option<String>,
}

/// Fraud signals, newest first: every one on a single page (`next` is null).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalList {
    pub items: Vec<SignalView>,
    pub next: Option<i64>,
}

/// Fraud signals with their evidence, newest first (supervisor).
#[utoipa::path(get, path = "/api/v1/supervise/signals", tag = "supervise",
    params(SignalQuery), security(("bearer" = [])),
    responses((status = 200, body = SignalList), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_signals(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiQuery(q): ApiQuery<SignalQuery>,
) -> ApiResult<Json<SignalList>> {
    let actor = who.current.actor(&request_id);
    let status = q.status.as_deref().map(signals::parse_status).transpose()?;
    let items = signals::list(&state, &actor, status).await?;
    Ok(Json(SignalList { items, next: None }))
}

/// One fraud signal with the citizens it covers (supervisor).
#[utoipa::path(get, path = "/api/v1/supervise/signals/{id}", tag = "supervise",
    params(("id" = i64, Path, description = "signal id")), security(("bearer" = [])),
    responses((status = 200, body = SignalView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_signal(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SignalView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(signals::get(&state, &actor, id).await?))
}

/// Confirm a fraud signal (supervisor): its invocations become invalid and
/// leave U of the drafts of their periods. Refused (409 `period_approved`,
/// nothing changed) when any of them lies in a period whose settlement is
/// approved: corrections there are adjustments.
#[utoipa::path(post, path = "/api/v1/supervise/signals/{id}/confirm", tag = "supervise",
    params(("id" = i64, Path, description = "signal id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = SignalView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "decided already, or a period is approved", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn confirm_signal(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<SignalView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(
        signals::decide(&state, &actor, id, Decision::Confirm, &req.reason).await?,
    ))
}

/// Dismiss a fraud signal as a false alarm (supervisor); no usage changes.
#[utoipa::path(post, path = "/api/v1/supervise/signals/{id}/dismiss", tag = "supervise",
    params(("id" = i64, Path, description = "signal id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = SignalView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "decided already", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn dismiss_signal(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<SignalView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(
        signals::decide(&state, &actor, id, Decision::Dismiss, &req.reason).await?,
    ))
}
