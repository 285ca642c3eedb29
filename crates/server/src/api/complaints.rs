//! Complaints over JSON: the rules are `service::complaints`'.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use service::complaints::{self, ComplaintList, ComplaintQuery, ComplaintRequest, ComplaintView};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ClientAddr, RequestId};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(file_complaint, list_complaints, get_complaint, answer_complaint, resolve_complaint, reopen_complaint,
        replay_complaint_invocation),
    tags((name = "complaints", description = "Citizens' complaints, answered within a deadline"))
)]
pub struct ComplaintsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", post(file_complaint).get(list_complaints))
        .route("/complaints/{id}", get(get_complaint))
        .route("/complaints/{id}/answer", post(answer_complaint))
        .route("/complaints/{id}/resolve", post(resolve_complaint))
        .route("/complaints/{id}/reopen", post(reopen_complaint))
        .route("/complaints/{id}/replay", post(replay_complaint_invocation))
}

/// File a complaint about an app or an order (citizen). Answered within 5
/// working days by the app's ISV or the order's department.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints",
    request_body = ComplaintRequest, security(("bearer" = [])),
    responses((status = 201, body = ComplaintView),
              (status = 404, description = "no such app or order", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn file_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    ClientAddr(addr): ClientAddr,
    request_id: RequestId,
    ApiJson(req): ApiJson<ComplaintRequest>,
) -> ApiResult<(StatusCode, Json<ComplaintView>)> {
    let actor = who.current.actor(&request_id);
    let view = complaints::file(&state, &actor, addr, req).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Complaints you may see, newest first: a citizen's own; those about an
/// ISV's apps or a department's orders; all of them for supervisors.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints",
    params(ComplaintQuery), security(("bearer" = [])),
    responses((status = 200, body = ComplaintList), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_complaints(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiQuery(q): ApiQuery<ComplaintQuery>,
) -> ApiResult<Json<ComplaintList>> {
    Ok(Json(
        complaints::list(&state, &who.actor(&request_id), &q).await?,
    ))
}

/// One complaint you may see; another's is a 404, not a 403, so ids reveal
/// nothing.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")), security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody)))]
pub async fn get_complaint(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintView>> {
    let detail = complaints::detail(&state, &who.actor(&request_id), id).await?;
    Ok(Json(detail.complaint))
}

/// Replay the invocation a complaint names (the app's ISV, the order's
/// department, supervisors): the same version, input, seed and clock; the
/// report names every difference. Audited.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/replay", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")), security(("bearer" = [])),
    responses((status = 200, body = service::replay::ReplayReport),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such complaint for you, or it names no invocation", body = ErrorBody),
        (status = 410, description = "the invocation's replay record was purged", body = ErrorBody)))]
pub async fn replay_complaint_invocation(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<service::replay::ReplayReport>> {
    Ok(Json(
        complaints::replay(&state, &who.actor(&request_id), id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
}

/// Answer a complaint about your app (ISV) or your order (department).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/answer", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")),
    request_body = AnswerRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintView),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not open", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn answer_complaint(
    State(state): State<AppState>,
    who: Authed<roles::ComplaintAnswerers>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AnswerRequest>,
) -> ApiResult<Json<ComplaintView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(
        complaints::answer(&state, &actor, id, req.answer).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// How well it was handled: 1 (非常不满意) … 5 (非常满意).
    pub stars: i64,
}

/// Accept the answer to your complaint and rate its handling (citizen).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/resolve", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")),
    request_body = ResolveRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody),
              (status = 409, description = "not answered", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn resolve_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<Json<ComplaintView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(
        complaints::resolve(&state, &actor, id, req.stars).await?,
    ))
}

/// Not satisfied with the answer: reopen your complaint (citizen), with a
/// new deadline.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/reopen", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")), security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody),
              (status = 409, description = "not answered", body = ErrorBody)))]
pub async fn reopen_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintView>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(complaints::reopen(&state, &actor, id).await?))
}
