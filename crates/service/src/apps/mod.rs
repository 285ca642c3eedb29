//! ISVs' apps and versions: who may see one ([`Viewer`]), what is shown of
//! it (views with the latest run and report), uploading a version
//! ([`mod@upload`]), and publishing and withdrawing ([`lifecycle`]).

use chrono::{DateTime, Utc};
use domain::{OrderStatus, Role, VersionStatus};
use serde::Serialize;
use serde_json::Value;
use store::entity::{apps, test_runs, versions};
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

pub mod lifecycle;
pub mod upload;

pub use lifecycle::{delete, publish, withdraw, withdrawal};
pub use upload::{
    OnRejection, PartKind, Upload, UploadForm, UploadParts, module_cap, upload, upload_form,
    uploaded,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    pub id: i64,
    pub order_id: i64,
    pub isv_org_id: i64,
    pub isv: Option<String>,
    pub name: String,
    /// active | withdrawn | suspended
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub versions: Vec<VersionSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: i64,
    pub number: i32,
    pub status: String,
    pub test_score_bp: Option<i32>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    /// queued | running | finished | error
    pub status: String,
    /// upload | regression
    pub reason: String,
    pub total_cases: i32,
    pub done_cases: i32,
    pub accepted_cases: i32,
    pub score_bp: Option<i32>,
    pub passed: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunView {
    /// Queued or running: the version page refreshes until it is not.
    pub fn in_flight(&self) -> bool {
        self.status == store::pipeline::RUN_QUEUED || self.status == store::pipeline::RUN_RUNNING
    }

    /// How far the run is, in whole percent.
    pub fn percent_done(&self) -> i32 {
        if self.total_cases > 0 {
            self.done_cases * 100 / self.total_cases
        } else {
            0
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub id: i64,
    pub app_id: i64,
    pub order_id: i64,
    pub number: i32,
    pub sha256: String,
    pub size_bytes: i64,
    pub release_notes: String,
    /// queued | testing | passed | failed | rejected | published | superseded | withdrawn | suspended
    #[schema(value_type = String)]
    pub status: VersionStatus,
    pub status_reason: Option<String>,
    pub test_score_bp: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub run: Option<RunView>,
    /// The latest finished run's report; hidden cases show only id, verdict and rule label to ISVs.
    #[schema(value_type = Option<Object>)]
    pub report: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResult {
    pub app: AppView,
    pub version: VersionView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub version_id: i64,
    pub version_status: String,
    pub run: Option<RunView>,
}

// ---------------------------------------------------------------- access

/// Who is looking at an app: its ISV, the order's department, or oversight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Isv,
    Department,
    Oversight,
}

/// The app, if `actor` may see its reports: its own ISV, the order's
/// department, supervisors and admins. Anyone else is refused.
pub async fn app_for<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    app_id: i64,
) -> ServiceResult<(apps::Model, Viewer)> {
    let Some(role) = actor.role() else {
        return Err(ServiceError::Unauthenticated(Msg::new("err.sign_in_first")));
    };
    let app = store::apps::get(conn, app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let viewer = match role {
        Role::Isv if actor.org_id() == Some(app.isv_org_id) => Viewer::Isv,
        Role::Department => {
            let order = store::orders::get(conn, app.order_id).await?;
            match order {
                Some(o) if actor.org_id() == Some(o.department_org_id) => Viewer::Department,
                _ => return Err(not_yours()),
            }
        }
        Role::Supervisor | Role::Admin => Viewer::Oversight,
        _ => return Err(not_yours()),
    };
    Ok((app, viewer))
}

/// The app, which must be this ISV's own.
pub(crate) async fn own_app<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    app_id: i64,
) -> ServiceResult<apps::Model> {
    match app_for(conn, actor, app_id).await? {
        (app, Viewer::Isv) => Ok(app),
        _ => Err(not_yours()),
    }
}

pub(crate) fn not_yours() -> ServiceError {
    ServiceError::forbidden("err.apps.not_yours")
}

pub(crate) fn version_status(v: &versions::Model) -> ServiceResult<VersionStatus> {
    v.status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| {
            ServiceError::internal(anyhow::anyhow!("version {}: {e}", v.id))
        })
}

// ---------------------------------------------------------------- views

pub fn run_view(r: &test_runs::Model) -> RunView {
    let done = if r.status == store::pipeline::RUN_FINISHED {
        r.total_cases
    } else {
        r.report
            .as_ref()
            .and_then(|v| v.pointer("/progress/done"))
            .and_then(Value::as_i64)
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(0)
    };
    RunView {
        id: r.id,
        status: r.status.clone(),
        reason: r.reason.clone(),
        total_cases: r.total_cases,
        done_cases: done,
        accepted_cases: r.accepted_cases,
        score_bp: r.score_bp,
        passed: r.passed,
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
    }
}

pub async fn app_view(services: &Services, app: apps::Model) -> ServiceResult<AppView> {
    let isv = store::orgs::find_by_id(services.db.conn(), app.isv_org_id)
        .await?
        .map(|o| o.name);
    let versions = store::apps::versions_of(services.db.conn(), app.id)
        .await?
        .into_iter()
        .map(|v| VersionSummary {
            id: v.id,
            number: v.number,
            status: v.status,
            test_score_bp: v.test_score_bp,
            created_at: v.created_at,
        })
        .collect();
    Ok(AppView {
        id: app.id,
        order_id: app.order_id,
        isv_org_id: app.isv_org_id,
        isv,
        name: app.name,
        status: app.status,
        status_reason: app.status_reason,
        created_at: app.created_at,
        versions,
    })
}

pub async fn version_view(
    services: &Services,
    app: &apps::Model,
    v: versions::Model,
    viewer: Viewer,
) -> ServiceResult<VersionView> {
    let conn = services.db.conn();
    let latest = store::pipeline::latest_run(conn, v.id).await?;
    // The report of the newest finished run (a regression run in flight
    // should not hide the last verdicts).
    let finished = match &latest {
        Some(r) if r.status == store::pipeline::RUN_FINISHED => Some(r.clone()),
        _ => {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
            test_runs::Entity::find()
                .filter(test_runs::Column::VersionId.eq(v.id))
                .filter(test_runs::Column::Status.eq(store::pipeline::RUN_FINISHED))
                .order_by_desc(test_runs::Column::Id)
                .one(conn)
                .await?
        }
    };
    let report = match finished.and_then(|r| r.report) {
        Some(value) if viewer == Viewer::Isv => {
            let report: sandbox::TestReport = serde_json::from_value(value).map_err(|e| {
                ServiceError::internal(anyhow::anyhow!("version {}: unreadable report: {e}", v.id))
            })?;
            Some(serde_json::to_value(report.isv_view()).map_err(ServiceError::internal)?)
        }
        other => other,
    };
    let status = v.typed_status()?;
    Ok(VersionView {
        id: v.id,
        app_id: v.app_id,
        order_id: app.order_id,
        number: v.number,
        sha256: v.sha256,
        size_bytes: v.size_bytes,
        status,
        release_notes: v.release_notes,
        status_reason: v.status_reason,
        test_score_bp: v.test_score_bp,
        created_at: v.created_at,
        published_at: v.published_at,
        run: latest.as_ref().map(run_view),
        report,
    })
}

// ---------------------------------------------------------------- queries

/// An app with its versions (its ISV, the order's department, oversight).
pub async fn get_app(services: &Services, actor: &Actor, id: i64) -> ServiceResult<AppView> {
    let (app, _) = app_for(services.db.conn(), actor, id).await?;
    app_view(services, app).await
}

/// A version as its page shows it: the view, the app's name and who looks.
#[derive(Debug)]
pub struct VersionDetail {
    pub app_name: String,
    pub viewer: Viewer,
    pub version: VersionView,
}

/// A version with its latest run and report (ISVs see hidden cases by
/// verdict only).
pub async fn version(services: &Services, actor: &Actor, id: i64) -> ServiceResult<VersionDetail> {
    let conn = services.db.conn();
    let v = store::apps::version(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Version))?;
    let (app, viewer) = app_for(conn, actor, v.app_id).await?;
    let version = version_view(services, &app, v, viewer).await?;
    Ok(VersionDetail {
        app_name: app.name,
        viewer,
        version,
    })
}

/// The test run's progress, for polling (cheap; no report).
pub async fn progress(services: &Services, actor: &Actor, id: i64) -> ServiceResult<Progress> {
    let conn = services.db.conn();
    // The run and the version's status change in one transaction; reading
    // the run first means a finished run never shows with a stale status.
    let run = store::pipeline::latest_run(conn, id).await?;
    let v = store::apps::version(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Version))?;
    app_for(conn, actor, v.app_id).await?;
    Ok(Progress {
        version_id: id,
        version_status: v.status,
        run: run.as_ref().map(run_view),
    })
}

/// One of an ISV's apps, as "my apps" lists it.
#[derive(Debug)]
pub struct VendorApp {
    pub app: apps::Model,
    pub order_title: String,
    /// Newest first, so the first is the latest upload.
    pub versions: Vec<versions::Model>,
    /// Not withdrawn yet.
    pub can_withdraw: bool,
    /// Active, on an order open for uploads.
    pub can_upload: bool,
    /// Never published: it may be deleted ([`delete`]).
    pub can_delete: bool,
}

impl VendorApp {
    /// The version on the market, if any.
    pub fn published(&self) -> Option<&versions::Model> {
        self.versions
            .iter()
            .find(|v| v.is(VersionStatus::Published))
    }

    pub fn latest(&self) -> Option<&versions::Model> {
        self.versions.first()
    }
}

/// The signed-in ISV's apps across orders, each order read once.
pub async fn of_vendor(services: &Services, actor: &Actor) -> ServiceResult<Vec<VendorApp>> {
    let (_, org) = vendor_org(actor)?;
    let conn = services.db.conn();
    let mine = store::apps::list(conn, Some(org), None).await?;
    let mut orders = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(mine.len());
    for app in mine {
        if let std::collections::btree_map::Entry::Vacant(slot) = orders.entry(app.order_id) {
            let o = store::orders::get(conn, app.order_id).await?;
            slot.insert(
                o.map(|o| (o.title.clone(), o.is(OrderStatus::Open)))
                    .unwrap_or_default(),
            );
        }
        let (order_title, order_open) = orders.get(&app.order_id).cloned().unwrap_or_default();
        let versions = store::apps::versions_of(conn, app.id).await?;
        let active = app.status == "active";
        out.push(VendorApp {
            can_delete: app.status != "suspended"
                && versions.iter().all(|v| {
                    v.published_at.is_none() && v.status != VersionStatus::Published.as_str()
                }),
            can_withdraw: app.status != "withdrawn",
            can_upload: active && order_open,
            order_title,
            versions,
            app,
        });
    }
    Ok(out)
}

/// The signed-in ISV and its organisation: the vendor it acts for.
pub(crate) fn vendor_org(actor: &Actor) -> ServiceResult<(&store::users::User, i64)> {
    let user = actor.require(&[Role::Isv])?;
    let org = user
        .org_id
        .ok_or_else(|| ServiceError::forbidden("err.apps.no_vendor"))?;
    Ok((user, org))
}
