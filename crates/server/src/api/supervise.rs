//! The supervisor's desk: suspensions of apps and moderation of reported
//! ratings. The use cases are `service::supervise`'.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use service::supervise::moderation::{self, ModerationView, ReportedRating};
use service::supervise::suspensions::{self, SuspendedApp, SuspensionView};
use service::supervise::{moderation::Decision as Moderation, suspensions::Decision};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(suspend_app, reinstate_app, suspended_apps, reported_ratings, hide_rating, restore_rating),
    components(schemas(ReasonRequest, SuspendedAppList, ReportedRatingList)),
    tags((name = "supervise", description = "The supervisor's desk: suspensions, moderation, fraud signals"))
)]
pub struct SuperviseApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/apps/{id}/suspend", post(suspend_app))
        .route("/apps/{id}/reinstate", post(reinstate_app))
        .route("/supervise/apps/suspended", get(suspended_apps))
        .route("/supervise/ratings/reported", get(reported_ratings))
        .route("/ratings/{id}/hide", post(hide_rating))
        .route("/ratings/{id}/restore", post(restore_rating))
}

/// A supervisor's decision needs a reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// 1–500 characters.
    pub reason: String,
}

/// The apps suspended now: every one on a single page (`next` is null).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuspendedAppList {
    pub items: Vec<SuspendedApp>,
    pub next: Option<i64>,
}

/// The reported ratings waiting for a decision: all on a single page
/// (`next` is null).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedRatingList {
    pub items: Vec<ReportedRating>,
    pub next: Option<i64>,
}

/// Suspend an app (supervisor): it leaves the market at once and earns
/// nothing while suspended; its ISV is notified.
#[utoipa::path(post, path = "/api/v1/apps/{id}/suspend", tag = "supervise",
    params(("id" = i64, Path, description = "app id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = SuspensionView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already suspended, or withdrawn", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn suspend_app(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<SuspensionView>> {
    decide_app(&state, who, &request_id, id, Decision::Suspend, req).await
}

/// Reinstate a suspended app (supervisor); its ISV is notified.
#[utoipa::path(post, path = "/api/v1/apps/{id}/reinstate", tag = "supervise",
    params(("id" = i64, Path, description = "app id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = SuspensionView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "not suspended", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn reinstate_app(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<SuspensionView>> {
    decide_app(&state, who, &request_id, id, Decision::Reinstate, req).await
}

/// The one use case behind both app decisions.
async fn decide_app(
    state: &AppState,
    who: Authed<roles::Supervisor>,
    request_id: &RequestId,
    id: i64,
    decision: Decision,
    req: ReasonRequest,
) -> ApiResult<Json<SuspensionView>> {
    let actor = who.current.actor(request_id);
    Ok(Json(
        suspensions::decide(state, &actor, id, decision, &req.reason).await?,
    ))
}

/// Apps suspended now, most recent first (supervisor).
#[utoipa::path(get, path = "/api/v1/supervise/apps/suspended", tag = "supervise",
    security(("bearer" = [])),
    responses((status = 200, body = SuspendedAppList), (status = 403, body = ErrorBody)))]
pub async fn suspended_apps(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
) -> ApiResult<Json<SuspendedAppList>> {
    let actor = who.current.actor(&request_id);
    let items = suspensions::suspended(&state, &actor).await?;
    Ok(Json(SuspendedAppList { items, next: None }))
}

/// Reported ratings waiting for a decision, with their reports (supervisor).
#[utoipa::path(get, path = "/api/v1/supervise/ratings/reported", tag = "supervise",
    security(("bearer" = [])),
    responses((status = 200, body = ReportedRatingList), (status = 403, body = ErrorBody)))]
pub async fn reported_ratings(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
) -> ApiResult<Json<ReportedRatingList>> {
    let actor = who.current.actor(&request_id);
    let items = moderation::reported(&state, &actor).await?;
    Ok(Json(ReportedRatingList { items, next: None }))
}

/// Hide a rating (supervisor): it leaves the average, the reviews (with its
/// reply) and settlement from now on; the rater and the ISV are told.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/hide", tag = "supervise",
    params(("id" = i64, Path, description = "rating id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = ModerationView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already hidden", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn hide_rating(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ModerationView>> {
    moderate(&state, who, &request_id, id, Moderation::Hide, req).await
}

/// Restore a hidden rating (supervisor); the rater and the ISV are told.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/restore", tag = "supervise",
    params(("id" = i64, Path, description = "rating id")),
    request_body = ReasonRequest, security(("bearer" = [])),
    responses((status = 200, body = ModerationView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "not hidden", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn restore_rating(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ModerationView>> {
    moderate(&state, who, &request_id, id, Moderation::Restore, req).await
}

/// The one use case behind both rating decisions.
async fn moderate(
    state: &AppState,
    who: Authed<roles::Supervisor>,
    request_id: &RequestId,
    id: i64,
    decision: Moderation,
    req: ReasonRequest,
) -> ApiResult<Json<ModerationView>> {
    let actor = who.current.actor(request_id);
    Ok(Json(
        moderation::decide(state, &actor, id, decision, &req.reason).await?,
    ))
}
