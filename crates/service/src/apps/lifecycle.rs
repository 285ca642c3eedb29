//! Publishing a passed version (it supersedes the app's previous one) and
//! withdrawing an app from the market, both by the app's own ISV.

use domain::{OrderStatus, Role, VersionStatus};
use store::entity::apps;

use super::{AppView, VersionView, Viewer, app_view, own_app, version_status, version_view};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// Publish a passed version of an active app on an open order (its ISV);
/// its last run must have passed the order's current suite
/// (`suite_not_passed` while a regression run is due or running).
pub async fn publish(
    services: &Services,
    actor: &Actor,
    version_id: i64,
) -> ServiceResult<VersionView> {
    actor.require(&[Role::Isv])?;
    let txn = services.db.begin_write().await?;
    let v = store::apps::version(&txn, version_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Version))?;
    let app = own_app(&txn, actor, v.app_id).await?;
    if app.status != "active" {
        return Err(ServiceError::conflict(
            "app_not_active",
            Msg::new("err.apps.app_not_active"),
        ));
    }
    let order = store::orders::get(&txn, app.order_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    if !order.is(OrderStatus::Open) {
        return Err(ServiceError::conflict(
            "order_not_open",
            Msg::new("err.apps.publish_order_not_open"),
        ));
    }
    let status = version_status(&v)?;
    status.move_to(VersionStatus::Published).map_err(|_| {
        ServiceError::conflict(
            "version_not_passed",
            Msg::new("err.apps.version_not_passed").arg("status", status),
        )
    })?;
    // It must have passed the order's current suite: a case added or a
    // dataset replaced since its last run means a regression run first.
    let current = store::pipeline::latest_finished(&txn, v.id)
        .await?
        .is_some_and(|r| {
            r.passed == Some(true) && r.suite_revision.unwrap_or(0) == order.suite_revision
        });
    if !current || store::pipeline::any_in_flight(&txn, &[v.id]).await? {
        return Err(ServiceError::conflict(
            "suite_not_passed",
            Msg::new("err.apps.suite_not_passed"),
        ));
    }
    let mut superseded = None;
    for old in store::apps::versions_of(&txn, app.id).await? {
        if old.is(VersionStatus::Published) {
            store::apps::set_version_status(
                &txn,
                old.id,
                VersionStatus::Published,
                VersionStatus::Superseded,
                Some(format!("superseded by version {}", v.number)),
            )
            .await?;
            superseded = Some(old.number);
        }
    }
    store::apps::set_version_status(
        &txn,
        v.id,
        VersionStatus::Passed,
        VersionStatus::Published,
        None,
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "version.publish",
            "version",
            v.id,
            match superseded {
                Some(n) => format!("发布应用「{}」第 {} 版，取代第 {n} 版", app.name, v.number),
                None => format!("发布应用「{}」第 {} 版", app.name, v.number),
            },
        ),
    )
    .await?;
    let v = store::apps::version(&txn, version_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Version))?;
    txn.commit().await?;
    crate::search_index::index_app(services, app.id).await;
    version_view(services, &app, v, Viewer::Isv).await
}

/// An app its ISV is about to withdraw, and the order it answers.
#[derive(Debug)]
pub struct Withdrawal {
    pub app: apps::Model,
    pub order_title: String,
}

/// What the withdrawal's confirmation shows; refused if already withdrawn.
pub async fn withdrawal(
    services: &Services,
    actor: &Actor,
    app_id: i64,
) -> ServiceResult<Withdrawal> {
    actor.require(&[Role::Isv])?;
    let conn = services.db.conn();
    let app = own_app(conn, actor, app_id).await?;
    if app.status == "withdrawn" {
        return Err(already_withdrawn());
    }
    let order_title = store::orders::get(conn, app.order_id)
        .await?
        .map(|o| o.title)
        .unwrap_or_default();
    Ok(Withdrawal { app, order_title })
}

fn already_withdrawn() -> ServiceError {
    ServiceError::conflict("already_withdrawn", Msg::new("err.apps.already_withdrawn"))
}

/// Withdraw an app from the market (its ISV): its published and passed
/// versions are withdrawn with it.
pub async fn withdraw(services: &Services, actor: &Actor, app_id: i64) -> ServiceResult<AppView> {
    actor.require(&[Role::Isv])?;
    let txn = services.db.begin_write().await?;
    let app = own_app(&txn, actor, app_id).await?;
    if app.status == "withdrawn" {
        return Err(already_withdrawn());
    }
    for v in store::apps::versions_of(&txn, app.id).await? {
        let from = version_status(&v)?;
        if matches!(from, VersionStatus::Published | VersionStatus::Passed) {
            store::apps::set_version_status(
                &txn,
                v.id,
                from,
                VersionStatus::Withdrawn,
                Some("withdrawn by the vendor".into()),
            )
            .await?;
        }
    }
    let app = store::apps::set_app_status(
        &txn,
        app,
        "withdrawn",
        Some("withdrawn by the vendor".into()),
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "app.withdraw",
            "app",
            app.id,
            format!("撤回应用「{}」", app.name),
        ),
    )
    .await?;
    txn.commit().await?;
    crate::search_index::index_app(services, app.id).await;
    app_view(services, app).await
}

/// Delete an app that was never published (its own ISV): its versions, test
/// runs and unshared modules go with it. Another vendor's app is not found;
/// an app that was ever published (or used) is kept, to be withdrawn instead.
pub async fn delete(services: &Services, actor: &Actor, app_id: i64) -> ServiceResult<()> {
    let (_, org) = super::vendor_org(actor)?;
    let txn = services.db.begin_write().await?;
    let app = store::apps::get(&txn, app_id)
        .await?
        .filter(|a| a.isv_org_id == org)
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let versions = store::apps::versions_of(&txn, app.id).await?;
    let ever_published = versions.iter().any(|v| {
        v.published_at.is_some()
            || matches!(
                v.status.parse::<VersionStatus>(),
                Ok(VersionStatus::Published | VersionStatus::Superseded | VersionStatus::Suspended)
            )
    });
    if ever_published || store::apps::has_history(&txn, app.id).await? {
        return Err(ServiceError::conflict(
            "app_was_published",
            Msg::new("err.apps.delete_published"),
        ));
    }
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    if store::pipeline::any_in_flight(&txn, &ids).await? {
        return Err(ServiceError::conflict(
            "run_in_flight",
            Msg::new("err.apps.delete_run_in_flight"),
        ));
    }
    store::apps::delete_unpublished(&txn, app.id).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "app.delete",
            "app",
            app.id,
            format!(
                "删除未发布的应用「{}」（{} 个版本）",
                app.name,
                versions.len()
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
