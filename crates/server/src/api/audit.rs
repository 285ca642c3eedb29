//! The audit log for supervisors and admins (`service::settlement::audit`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use service::settlement::audit::{self, AuditHead, AuditList, AuditVerify};
use utoipa::IntoParams;

use super::{ApiQuery, PageQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(audit_list, audit_verify, public_head, public_verify),
    tags((name = "audit", description = "The hash-chained audit log"))
)]
pub struct AuditApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_list))
        .route("/audit/verify", get(audit_verify))
        .route("/public/audit/head", get(public_head))
        .route("/public/audit/verify", get(public_verify))
}

/// The audit log, newest first (supervisor, admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_list(
    State(state): State<AppState>,
    who: Authed<roles::Auditors>,
    request_id: RequestId,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<AuditList>> {
    let actor = who.current.actor(&request_id);
    let limit = page.limit.unwrap_or(50);
    Ok(Json(audit::list(&state, &actor, page.cursor, limit).await?))
}

/// Re-computes the audit hash chain (supervisor, admin).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    security(("bearer" = [])),
    responses((status = 200, body = AuditVerify), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    who: Authed<roles::Auditors>,
    request_id: RequestId,
) -> ApiResult<Json<AuditVerify>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(audit::verify(&state, &actor).await?))
}

/// The audit chain's current head: its newest entry's id, seq and hash
/// (public). Every approved settlement records the head at its approval.
#[utoipa::path(get, path = "/api/v1/public/audit/head", tag = "audit",
    responses((status = 200, body = AuditHead)))]
pub async fn public_head(State(state): State<AppState>) -> ApiResult<Json<AuditHead>> {
    Ok(Json(audit::public_head(&state).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeadQuery {
    /// The published head's seq.
    pub seq: i64,
    /// The published head's hash.
    pub hash: String,
}

/// Whether the log still extends a head published earlier (public): a
/// truncation or rewrite names the first bad entry.
#[utoipa::path(get, path = "/api/v1/public/audit/verify", tag = "audit",
    params(HeadQuery),
    responses((status = 200, body = AuditVerify), (status = 400, body = ErrorBody)))]
pub async fn public_verify(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<HeadQuery>,
) -> ApiResult<Json<AuditVerify>> {
    Ok(Json(audit::public_verify(&state, q.seq, &q.hash).await?))
}
