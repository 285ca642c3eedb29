//! The audit log for supervisors and admins (`service::settlement::audit`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service::settlement::audit::{self, AuditHead, AuditList, AuditVerify};
use service::supervise::trail::{self, AuditFilter};
use utoipa::IntoParams;

use super::ApiQuery;
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

/// Filters of the audit log; every one optional, all must match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries by this user.
    pub actor_id: Option<i64>,
    /// Only entries by users of this role.
    #[param(value_type = Option<String>, example = "supervisor")]
    pub role: Option<domain::Role>,
    /// Only this action, e.g. `app.suspend`.
    pub action: Option<String>,
    /// Only entries about this kind of object, e.g. `app`.
    pub object_type: Option<String>,
    /// Only entries about the object with this id.
    pub object_id: Option<i64>,
    /// Entries at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<i64>,
    /// At most 200; default 50.
    pub limit: Option<u64>,
}

/// The audit log, newest first, filtered (supervisor, admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "the time range ends before it starts", body = ErrorBody)))]
pub async fn audit_list(
    State(state): State<AppState>,
    who: Authed<roles::Auditors>,
    request_id: RequestId,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    let actor = who.current.actor(&request_id);
    let filter = AuditFilter {
        actor_id: q.actor_id,
        actor_role: q.role.map(|r| r.as_str().to_owned()),
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        from: q.from,
        until: q.until,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        trail::page(&state, &actor, &filter, q.cursor, limit).await?,
    ))
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
