//! The audit log for supervisors and admins.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiQuery, PageQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
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

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub summary: String,
    pub request_id: Option<String>,
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditItem>,
    pub next: Option<i64>,
}

/// The audit log, newest first (supervisor, admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_list(
    State(state): State<AppState>,
    _who: Authed<roles::Auditors>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<AuditList>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let store::audit::AuditPage { items: rows, next } =
        store::audit::list(state.db.conn(), page.cursor, limit).await?;
    Ok(Json(AuditList {
        items: rows
            .into_iter()
            .map(|e| AuditItem {
                id: e.id,
                seq: e.seq,
                occurred_at: e.occurred_at,
                actor_id: e.actor_id,
                actor_role: e.actor_role,
                action: e.action,
                object_type: e.object_type,
                object_id: e.object_id,
                summary: e.summary,
                request_id: e.request_id,
                hash: e.hash,
            })
            .collect(),
        next,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerify {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Re-computes the audit hash chain (supervisor, admin).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    security(("bearer" = [])),
    responses((status = 200, body = AuditVerify), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    _who: Authed<roles::Auditors>,
) -> ApiResult<Json<AuditVerify>> {
    let v = store::audit::verify(state.db.conn()).await?;
    Ok(Json(if v.ok {
        AuditVerify {
            ok: true,
            entries: Some(v.entries),
            first_bad: None,
            reason: None,
        }
    } else {
        AuditVerify {
            ok: false,
            entries: None,
            first_bad: v.first_bad,
            reason: v.reason,
        }
    }))
}
