//! Fraud signals at the supervisor's desk: the list, one signal with its
//! evidence and subjects, and the decision. Confirming a signal flags its
//! invocations invalid (they leave U of drafts); it is refused while any of
//! them lies in a period whose settlement is approved (corrections there
//! are adjustments). Dismissing changes no usage. A decision is final.

use chrono::{DateTime, Utc};
use domain::{SignalKind, SignalStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::{SUPERVISORS, reason};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// A citizen a signal covers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectView {
    pub citizen_id: i64,
    /// Successful uses of the app in the window when the signal was raised.
    pub uses: i64,
}

/// A fraud signal with its evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignalView {
    pub id: i64,
    /// heavy_citizen | rating_burst | single_use_raters | shared_address |
    /// new_account_cluster
    pub kind: String,
    pub app_id: i64,
    pub app_name: String,
    /// `{observed, norm, threshold, counts: {…}}`, numbers only.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// open | dismissed | confirmed
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Invocations flagged invalid by confirming it.
    pub flagged_uses: Option<i64>,
    pub subject_count: usize,
    /// The citizens it covers (only in the single-signal view; empty in
    /// the list).
    pub subjects: Vec<SubjectView>,
}

/// The supervisor's decision about a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Its invocations become invalid and leave U of open periods.
    Confirm,
    /// A false alarm: nothing changes but the signal's status.
    Dismiss,
}

impl Decision {
    fn target(self) -> SignalStatus {
        match self {
            Decision::Confirm => SignalStatus::Confirmed,
            Decision::Dismiss => SignalStatus::Dismissed,
        }
    }
}

/// A stored status or kind that does not parse: the row was edited
/// outside the application.
fn corrupt(e: domain::lifecycle::UnknownStatus) -> ServiceError {
    ServiceError::internal(anyhow::anyhow!("{e}"))
}

/// `open`, `dismissed` or `confirmed`; anything else is 422 on `status`.
pub fn parse_status(value: &str) -> ServiceResult<SignalStatus> {
    value.trim().parse().map_err(|_| {
        ServiceError::invalid(
            "status",
            Msg::new("err.supervise.signal_status").arg("value", value),
        )
    })
}

async fn view(
    services: &Services,
    s: store::entity::fraud_signals::Model,
    with_subjects: bool,
) -> ServiceResult<SignalView> {
    let conn = services.db.conn();
    let kind: SignalKind = s.kind.parse().map_err(corrupt)?;
    let status: SignalStatus = s.status.parse().map_err(corrupt)?;
    let app_name = store::apps::get(conn, s.app_id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let subjects: Vec<SubjectView> = store::fraud::subjects(conn, s.id)
        .await?
        .into_iter()
        .map(|r| SubjectView {
            citizen_id: r.citizen_id,
            uses: r.uses,
        })
        .collect();
    Ok(SignalView {
        id: s.id,
        kind: kind.as_str().to_owned(),
        app_id: s.app_id,
        app_name,
        evidence: s.evidence,
        window_start: s.window_start,
        window_end: s.window_end,
        status: status.as_str().to_owned(),
        created_at: s.created_at,
        decided_by: s.decided_by,
        decided_at: s.decided_at,
        reason: s.reason,
        flagged_uses: s.flagged_uses,
        subject_count: subjects.len(),
        subjects: if with_subjects { subjects } else { vec![] },
    })
}

/// Signals with `status` (all when `None`), newest first (supervisor).
pub async fn list(
    services: &Services,
    actor: &Actor,
    status: Option<SignalStatus>,
) -> ServiceResult<Vec<SignalView>> {
    actor.require(SUPERVISORS)?;
    let rows = store::fraud::list(services.db.conn(), status).await?;
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        out.push(view(services, s, false).await?);
    }
    Ok(out)
}

/// One signal with its subjects (supervisor).
pub async fn get(services: &Services, actor: &Actor, id: i64) -> ServiceResult<SignalView> {
    actor.require(SUPERVISORS)?;
    let s = store::fraud::get(services.db.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::FraudSignal))?;
    view(services, s, true).await
}

fn already_decided(status: &str) -> ServiceError {
    ServiceError::conflict(
        "signal_decided",
        Msg::new("err.supervise.signal_decided").arg("status", status),
    )
}

/// Confirms or dismisses an open signal, with a reason (supervisor).
/// Audited. Conflicts: `signal_decided` when it was decided already,
/// `period_approved` when confirming would flag usage of a period whose
/// settlement is approved; either way nothing changes.
pub async fn decide(
    services: &Services,
    actor: &Actor,
    id: i64,
    decision: Decision,
    why: &str,
) -> ServiceResult<SignalView> {
    let user = actor.require(SUPERVISORS)?;
    let why = reason(why)?;
    let txn = services.db.begin_write().await?;
    let signal = store::fraud::get(&txn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::FraudSignal))?;
    let status: SignalStatus = signal.status.parse().map_err(corrupt)?;
    if status.move_to(decision.target()).is_err() {
        return Err(already_decided(status.as_str()));
    }
    let flagged = match decision {
        Decision::Confirm => {
            let settled = store::fraud::settled_periods(&txn, &signal).await?;
            if !settled.is_empty() {
                return Err(ServiceError::conflict(
                    "period_approved",
                    Msg::new("err.supervise.period_approved").arg("periods", settled.join(", ")),
                ));
            }
            let n = store::fraud::flag_invocations(&txn, &signal).await?;
            Some(i64::try_from(n).map_err(ServiceError::internal)?)
        }
        Decision::Dismiss => None,
    };
    let decided = store::fraud::decide(&txn, id, decision.target(), Some(user.id), &why, flagged)
        .await
        .map_err(|e| match e {
            // Another supervisor decided meanwhile.
            store::StoreError::Conflict { .. } => already_decided("decided"),
            e => e.into(),
        })?;
    let (action, summary) = match decision {
        Decision::Confirm => (
            "fraud_signal.confirm",
            format!(
                "确认欺诈信号 #{id}（{}，应用 {}），{} 次使用标记为无效：{why}",
                signal.kind,
                signal.app_id,
                flagged.unwrap_or(0)
            ),
        ),
        Decision::Dismiss => (
            "fraud_signal.dismiss",
            format!(
                "驳回欺诈信号 #{id}（{}，应用 {}）：{why}",
                signal.kind, signal.app_id
            ),
        ),
    };
    store::audit::append(&txn, actor.audit(action, "fraud_signal", id, summary)).await?;
    txn.commit().await?;
    view(services, decided, true).await
}
