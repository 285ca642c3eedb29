//! Suspending an app (it leaves the market at once and earns nothing while
//! suspended) and reinstating it. A suspension is the app's own status,
//! apart from a version delisted by a regression run.

use chrono::{DateTime, Utc};
use domain::AppStatus;
use serde::Serialize;
use store::notifications::{Recipient, notify};
use utoipa::ToSchema;

use super::{SUPERVISORS, reason};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// An app's suspension state after a supervisor's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuspensionView {
    pub app_id: i64,
    pub app_name: String,
    /// active | withdrawn | suspended
    pub status: String,
    /// The reason of the last decision.
    pub reason: String,
    /// When the current (or last) suspension began.
    pub suspended_at: Option<DateTime<Utc>>,
    /// When it ended; `null` while it lasts.
    pub reinstated_at: Option<DateTime<Utc>>,
}

fn status_of(app: &store::entity::apps::Model) -> ServiceResult<AppStatus> {
    app.status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| {
            ServiceError::internal(anyhow::anyhow!("app {}: {e}", app.id))
        })
}

/// A supervisor's decision about an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An active app leaves the market, search and invocation at once.
    Suspend,
    /// A suspended app returns to the market.
    Reinstate,
}

impl Decision {
    /// The app's status after the decision.
    fn target(self) -> AppStatus {
        match self {
            Decision::Suspend => AppStatus::Suspended,
            Decision::Reinstate => AppStatus::Active,
        }
    }

    /// The conflict when the app is already where the decision would take
    /// it (or, for a suspension, withdrawn meanwhile by another supervisor).
    fn refused(self) -> ServiceError {
        match self {
            Decision::Suspend => ServiceError::conflict(
                "already_suspended",
                Msg::new("err.supervise.already_suspended"),
            ),
            Decision::Reinstate => {
                ServiceError::conflict("not_suspended", Msg::new("err.supervise.not_suspended"))
            }
        }
    }
}

/// Suspends an active app or reinstates a suspended one, with a reason
/// (supervisor). Its ISV is told; audited. Suspending a suspended app is a
/// conflict `already_suspended`, a withdrawn one `app_not_active`;
/// reinstating an app that is not suspended is `not_suspended`.
pub async fn decide(
    services: &Services,
    actor: &Actor,
    app_id: i64,
    decision: Decision,
    why: &str,
) -> ServiceResult<SuspensionView> {
    let user = actor.require(SUPERVISORS)?;
    let why = reason(why)?;
    let txn = services.db.begin_write().await?;
    let app = store::apps::get(&txn, app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let status = status_of(&app)?;
    let concurrent = |e: store::StoreError| match e {
        // Another supervisor decided meanwhile.
        store::StoreError::Conflict { .. } => decision.refused(),
        e => e.into(),
    };
    let (period, kind, action, notice) = match decision {
        Decision::Suspend => {
            if status == AppStatus::Suspended {
                return Err(decision.refused());
            }
            status.move_to(AppStatus::Suspended).map_err(|_| {
                ServiceError::conflict(
                    "app_not_active",
                    Msg::new("err.supervise.app_not_active").arg("status", status),
                )
            })?;
            let s = store::suspensions::suspend(&txn, app.id, &why, Some(user.id))
                .await
                .map_err(concurrent)?;
            (
                (Some(s.suspended_at), None),
                "app.suspended",
                ("app.suspend", "暂停"),
                format!(
                    "应用「{}」已被监管暂停，暂停期间不在市场展示、不能使用、不计入结算。理由：{why} / \"{}\" was suspended by a supervisor: it is off the market and earns nothing while suspended. Reason: {why}",
                    app.name, app.name
                ),
            )
        }
        Decision::Reinstate => {
            if status != AppStatus::Suspended {
                return Err(decision.refused());
            }
            let closed = store::suspensions::reinstate(&txn, app.id, &why, Some(user.id))
                .await
                .map_err(concurrent)?;
            (
                (
                    closed.as_ref().map(|s| s.suspended_at),
                    closed.and_then(|s| s.reinstated_at),
                ),
                "app.reinstated",
                ("app.reinstate", "恢复"),
                format!(
                    "应用「{}」已恢复上架。理由：{why} / \"{}\" was reinstated. Reason: {why}",
                    app.name, app.name
                ),
            )
        }
    };
    notify(
        &txn,
        Recipient::Org(app.isv_org_id),
        kind,
        notice,
        Some("/isv/apps".to_owned()),
    )
    .await?;
    let (audit_action, verb) = action;
    store::audit::append(
        &txn,
        actor.audit(
            audit_action,
            "app",
            app.id,
            format!("{verb}应用「{}」：{why}", app.name),
        ),
    )
    .await?;
    txn.commit().await?;
    // Off (or back on) the market now: this node's availability cache and
    // the search index; other nodes' caches expire within
    // `AVAILABILITY_TTL`, and the market's listings read the status from
    // the database.
    crate::search_index::index_app(services, app.id).await;
    let (suspended_at, reinstated_at) = period;
    Ok(SuspensionView {
        app_id: app.id,
        app_name: app.name,
        status: decision.target().as_str().to_owned(),
        reason: why,
        suspended_at,
        reinstated_at,
    })
}

/// An app suspended now, for the supervisor's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuspendedApp {
    pub app_id: i64,
    pub app_name: String,
    pub reason: Option<String>,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// Apps suspended now, most recent first (supervisor).
pub async fn suspended(services: &Services, actor: &Actor) -> ServiceResult<Vec<SuspendedApp>> {
    actor.require(SUPERVISORS)?;
    Ok(store::suspensions::suspended_apps(services.db.conn())
        .await?
        .into_iter()
        .map(|a| SuspendedApp {
            app_id: a.id,
            app_name: a.name,
            reason: a.status_reason,
            suspended_at: a.suspended_at,
        })
        .collect())
}
