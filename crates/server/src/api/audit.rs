//! The audit log for supervisors and admins (`service::settlement::audit`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use service::settlement::audit::{self, AuditList, AuditVerify};

use super::{ApiQuery, PageQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(audit_list, audit_verify),
    tags((name = "audit", description = "The hash-chained audit log"))
)]
pub struct AuditApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_list))
        .route("/audit/verify", get(audit_verify))
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
