//! Supervisors' evidence on an app's use of citizens' data: query counts by
//! dataset and the refused queries (subject tokens only, never an ID number),
//! and replays of single invocations.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use service::mydata::{self, AppEvidence};
use service::replay::{self, Difference, ReplayReport, RunSummary};

use super::ApiPath;
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(app_data_access, replay_invocation),
    components(schemas(ReplayReport, RunSummary, Difference)),
    tags((name = "evidence", description = "Supervisors' evidence on apps' data accesses"))
)]
pub struct EvidenceApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/apps/{id}/data-access", get(app_data_access))
        .route(
            "/supervise/invocations/{id}/replay",
            post(replay_invocation),
        )
}

/// An app's data accesses: counts by dataset, latest refused queries (supervisors, admins).
#[utoipa::path(get, path = "/api/v1/supervise/apps/{id}/data-access", tag = "evidence",
    params(("id" = i64, Path, description = "The app")), security(("bearer" = [])),
    responses(
        (status = 200, body = AppEvidence),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn app_data_access(
    State(state): State<AppState>,
    who: Authed<roles::Auditors>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AppEvidence>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(mydata::app_evidence(&state, &actor, id).await?))
}

/// Replay an invocation (supervisors): the same version, input, seed and
/// clock on the datasets as they stand; the report names every difference.
/// Resident ID numbers in either output are masked. Audited.
#[utoipa::path(post, path = "/api/v1/supervise/invocations/{id}/replay", tag = "evidence",
    params(("id" = i64, Path, description = "The invocation")), security(("bearer" = [])),
    responses(
        (status = 200, body = ReplayReport),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 410, description = "its replay record was purged after the retention period",
            body = ErrorBody)))]
pub async fn replay_invocation(
    State(state): State<AppState>,
    who: Authed<roles::Supervisor>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReplayReport>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(replay::replay(&state, &actor, id).await?))
}
