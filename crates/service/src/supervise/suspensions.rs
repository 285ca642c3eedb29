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

/// Suspends an active app with a reason (supervisor). It leaves the market,
/// search and invocation at once; its ISV is told; audited. Suspending a
/// suspended app is a conflict `already_suspended`, a withdrawn one
/// `app_not_active`.
pub async fn suspend(
    services: &Services,
    actor: &Actor,
    app_id: i64,
    why: &str,
) -> ServiceResult<SuspensionView> {
    let user = actor.require(SUPERVISORS)?;
    let why = reason(why)?;
    let txn = services.db.begin_write().await?;
    let app = store::apps::get(&txn, app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let status = status_of(&app)?;
    if status == AppStatus::Suspended {
        return Err(already_suspended());
    }
    status.move_to(AppStatus::Suspended).map_err(|_| {
        ServiceError::conflict(
            "app_not_active",
            Msg::new("err.supervise.app_not_active").arg("status", status),
        )
    })?;
    let s = store::suspensions::suspend(&txn, app.id, &why, Some(user.id))
        .await
        .map_err(|e| match e {
            // Another supervisor suspended it meanwhile.
            store::StoreError::Conflict { .. } => already_suspended(),
            e => e.into(),
        })?;
    notify(
        &txn,
        Recipient::Org(app.isv_org_id),
        "app.suspended",
        format!(
            "应用「{}」已被监管暂停，暂停期间不在市场展示、不能使用、不计入结算。理由：{why} / \"{}\" was suspended by a supervisor: it is off the market and earns nothing while suspended. Reason: {why}",
            app.name, app.name
        ),
        Some("/isv/apps".to_owned()),
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "app.suspend",
            "app",
            app.id,
            format!("暂停应用「{}」：{why}", app.name),
        ),
    )
    .await?;
    txn.commit().await?;
    // Off the market now: this node's availability cache and the search
    // index; other nodes' caches expire within `AVAILABILITY_TTL`, and the
    // market's listings read the status from the database.
    crate::search_index::index_app(services, app.id).await;
    Ok(SuspensionView {
        app_id: app.id,
        app_name: app.name,
        status: AppStatus::Suspended.as_str().to_owned(),
        reason: why,
        suspended_at: Some(s.suspended_at),
        reinstated_at: None,
    })
}

fn already_suspended() -> ServiceError {
    ServiceError::conflict(
        "already_suspended",
        Msg::new("err.supervise.already_suspended"),
    )
}

/// Reinstates a suspended app with a reason (supervisor): back on the
/// market; its ISV is told; audited. `not_suspended` otherwise.
pub async fn reinstate(
    services: &Services,
    actor: &Actor,
    app_id: i64,
    why: &str,
) -> ServiceResult<SuspensionView> {
    let user = actor.require(SUPERVISORS)?;
    let why = reason(why)?;
    let txn = services.db.begin_write().await?;
    let app = store::apps::get(&txn, app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    if status_of(&app)? != AppStatus::Suspended {
        return Err(not_suspended());
    }
    let closed = store::suspensions::reinstate(&txn, app.id, &why, Some(user.id))
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => not_suspended(),
            e => e.into(),
        })?;
    notify(
        &txn,
        Recipient::Org(app.isv_org_id),
        "app.reinstated",
        format!(
            "应用「{}」已恢复上架。理由：{why} / \"{}\" was reinstated. Reason: {why}",
            app.name, app.name
        ),
        Some("/isv/apps".to_owned()),
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "app.reinstate",
            "app",
            app.id,
            format!("恢复应用「{}」：{why}", app.name),
        ),
    )
    .await?;
    txn.commit().await?;
    crate::search_index::index_app(services, app.id).await;
    Ok(SuspensionView {
        app_id: app.id,
        app_name: app.name,
        status: AppStatus::Active.as_str().to_owned(),
        reason: why,
        suspended_at: closed.as_ref().map(|s| s.suspended_at),
        reinstated_at: closed.and_then(|s| s.reinstated_at),
    })
}

fn not_suspended() -> ServiceError {
    ServiceError::conflict("not_suspended", Msg::new("err.supervise.not_suspended"))
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
