//! The hash-chained audit log, for supervisors and admins.

use chrono::{DateTime, Utc};
use domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

/// Who may read the audit log.
pub const AUDITORS: &[Role] = &[Role::Supervisor, Role::Admin];

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

impl From<store::audit::AuditEvent> for AuditItem {
    fn from(e: store::audit::AuditEvent) -> Self {
        Self {
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
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditItem>,
    pub next: Option<i64>,
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

/// Re-computes the audit hash chain.
pub async fn verify(services: &Services, actor: &Actor) -> ServiceResult<AuditVerify> {
    actor.require(AUDITORS)?;
    let v = store::audit::verify(services.db.conn()).await?;
    Ok(if v.ok {
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
    })
}

/// The audit chain's current head, public: publish it (or take it from an
/// approved settlement) and check later that the log still extends it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditHead {
    /// The newest entry's id and its number in the chain.
    pub entry_id: Option<i64>,
    pub seq: i64,
    /// Its hash; the genesis hash while the log is empty.
    pub hash: String,
}

/// The current head (anyone, no sign-in).
pub async fn public_head(services: &Services) -> ServiceResult<AuditHead> {
    let page = store::audit::list(services.db.conn(), None, 1).await?;
    Ok(match page.items.into_iter().next() {
        Some(e) => AuditHead {
            entry_id: Some(e.id),
            seq: e.seq,
            hash: e.hash,
        },
        None => AuditHead {
            entry_id: None,
            seq: 0,
            hash: store::audit::GENESIS_HASH.to_owned(),
        },
    })
}

/// Whether the log still extends a head published earlier (anyone): the
/// chain verifies and entry `seq` still carries `hash`; otherwise the first
/// bad entry and why. A truncation is caught here.
pub async fn public_verify(
    services: &Services,
    seq: i64,
    hash: &str,
) -> ServiceResult<AuditVerify> {
    let v = store::audit::verify_extends(services.db.conn(), seq, hash).await?;
    Ok(AuditVerify {
        ok: v.ok,
        entries: v.ok.then_some(v.entries),
        first_bad: v.first_bad,
        reason: v.reason,
    })
}

/// An audit head published with an approved settlement.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedHead {
    pub run_id: i64,
    /// The run's period, e.g. `2026Q3`.
    pub period: String,
    pub seq: i64,
    pub hash: String,
    pub recorded_at: DateTime<Utc>,
}

/// The heads recorded at each approval, newest first (anyone, no sign-in):
/// the points anyone can check the log against.
pub async fn published_heads(services: &Services) -> ServiceResult<Vec<PublishedHead>> {
    Ok(
        store::settlements::runs::published_heads(services.db.conn(), 40)
            .await?
            .into_iter()
            .map(|h| PublishedHead {
                run_id: h.run_id,
                period: h.period,
                seq: h.seq,
                hash: h.hash,
                recorded_at: h.recorded_at,
            })
            .collect(),
    )
}
