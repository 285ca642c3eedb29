//! ISVs' apps and versions: upload, test reports, publication, withdrawal.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{OrderStatus, Role, VersionStatus};
use serde::Serialize;
use serde_json::Value;
use store::entity::{apps, test_runs, versions};
use utoipa::ToSchema;

use super::ApiPath;
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(upload, get_app, get_version, version_progress, publish_version, withdraw_app),
    tags((name = "apps", description = "ISVs' apps, versions and test reports"))
)]
pub struct AppsApi;

/// Longest release notes.
const MAX_NOTES_CHARS: usize = 4_000;
/// Longest app name.
const MAX_NAME_CHARS: usize = 80;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{id}/apps",
            // The handler enforces the module cap itself, part by part.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/apps/{id}", get(get_app))
        .route("/apps/{id}/withdraw", post(withdraw_app))
        .route("/versions/{id}", get(get_version))
        .route("/versions/{id}/progress", get(version_progress))
        .route("/versions/{id}/publish", post(publish_version))
}

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
    pub status: String,
    pub status_reason: Option<String>,
    pub test_score_bp: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub run: Option<RunView>,
    /// The latest finished run's report; hidden cases show only id and verdict to ISVs.
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

/// The app, if `who` may see its reports: its own ISV, the order's
/// department, supervisors and admins. Another ISV gets 403.
pub async fn app_for<C: sea_orm::ConnectionTrait>(
    conn: &C,
    who: &CurrentUser,
    app_id: i64,
) -> ApiResult<(apps::Model, Viewer)> {
    let app = store::apps::get(conn, app_id)
        .await?
        .ok_or_else(|| ApiError::not_found("应用 / app"))?;
    let viewer = match who.role() {
        Role::Isv if who.user.org_id == Some(app.isv_org_id) => Viewer::Isv,
        Role::Department => {
            let order = store::orders::get(conn, app.order_id).await?;
            match order {
                Some(o) if who.user.org_id == Some(o.department_org_id) => Viewer::Department,
                _ => return Err(not_yours()),
            }
        }
        Role::Supervisor | Role::Admin => Viewer::Oversight,
        _ => return Err(not_yours()),
    };
    Ok((app, viewer))
}

fn not_yours() -> ApiError {
    ApiError::forbidden("无权查看其他厂商的应用 / this app belongs to another vendor")
}

fn version_status(v: &versions::Model) -> ApiResult<VersionStatus> {
    v.status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| {
            ApiError::internal(anyhow::anyhow!("version {}: {e}", v.id))
        })
}

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

pub async fn app_view(state: &AppState, app: apps::Model) -> ApiResult<AppView> {
    let isv = store::orgs::find_by_id(state.db.conn(), app.isv_org_id)
        .await?
        .map(|o| o.name);
    let versions = store::apps::versions_of(state.db.conn(), app.id)
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
    state: &AppState,
    app: &apps::Model,
    v: versions::Model,
    viewer: Viewer,
) -> ApiResult<VersionView> {
    let latest = store::pipeline::latest_run(state.db.conn(), v.id).await?;
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
                .one(state.db.conn())
                .await?
        }
    };
    let report = match finished.and_then(|r| r.report) {
        Some(value) if viewer == Viewer::Isv => {
            let report: sandbox::TestReport = serde_json::from_value(value).map_err(|e| {
                ApiError::internal(anyhow::anyhow!("version {}: unreadable report: {e}", v.id))
            })?;
            Some(serde_json::to_value(report.isv_view()).map_err(ApiError::internal)?)
        }
        other => other,
    };
    Ok(VersionView {
        id: v.id,
        app_id: v.app_id,
        order_id: app.order_id,
        number: v.number,
        sha256: v.sha256,
        size_bytes: v.size_bytes,
        release_notes: v.release_notes,
        status: v.status,
        status_reason: v.status_reason,
        test_score_bp: v.test_score_bp,
        created_at: v.created_at,
        published_at: v.published_at,
        run: latest.as_ref().map(run_view),
        report,
    })
}

// ---------------------------------------------------------------- logic

/// An upload as received.
#[derive(Debug, Default)]
pub struct Upload {
    pub name: String,
    pub release_notes: String,
    pub wasm: Vec<u8>,
}

/// Reads the multipart form, refusing a module over `cap` bytes as soon as
/// it is exceeded (the rest of the body is not read).
pub async fn read_upload(form: Multipart, cap: usize) -> ApiResult<Upload> {
    check_upload(read_upload_parts(form, cap).await?)
}

/// The parts of an upload as sent, with the size caps enforced while
/// reading but no other checks, so a form can be shown again as filled in.
pub async fn read_upload_parts(mut form: Multipart, cap: usize) -> ApiResult<Upload> {
    let mut up = Upload::default();
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large("上传内容过大 / upload too large")
        } else {
            ApiError::bad_request("malformed_multipart", e.body_text())
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "wasm" => {
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if up.wasm.len() + chunk.len() > cap {
                        return Err(ApiError::payload_too_large(format!(
                            "模块不能超过 {} 字节 / the module may be at most {cap} bytes",
                            cap
                        )));
                    }
                    up.wasm.extend_from_slice(&chunk);
                }
            }
            "name" | "release_notes" => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if text.len() + chunk.len() > MAX_NOTES_CHARS * 4 {
                        return Err(ApiError::invalid_field(
                            &name,
                            format!("{name} 过长 / {name} is too long"),
                        ));
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(text).map_err(|_| {
                    ApiError::invalid_field(
                        &name,
                        format!("{name} 须为 UTF-8 文本 / must be UTF-8"),
                    )
                })?;
                if name == "name" {
                    up.name = text;
                } else {
                    up.release_notes = text;
                }
            }
            other => {
                return Err(ApiError::invalid_field(
                    other,
                    format!("未知字段 `{other}` / unknown part `{other}`"),
                ));
            }
        }
    }
    Ok(up)
}

/// An upload's presence and length checks: a module, a name, short notes.
pub fn check_upload(mut up: Upload) -> ApiResult<Upload> {
    if up.wasm.is_empty() {
        return Err(ApiError::invalid_field(
            "wasm",
            "请上传 WASM 模块 / the `wasm` part is required",
        ));
    }
    let name = up.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid_field(
            "name",
            format!(
                "应用名称须为 1 到 {MAX_NAME_CHARS} 个字符 / name must be 1..={MAX_NAME_CHARS} characters"
            ),
        ));
    }
    up.name = name.to_owned();
    if up.release_notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ApiError::invalid_field(
            "release_notes",
            format!(
                "版本说明不能超过 {MAX_NOTES_CHARS} 个字符 / at most {MAX_NOTES_CHARS} characters"
            ),
        ));
    }
    Ok(up)
}

/// The module size cap for an upload to this order: its contract's limit,
/// but never above the platform's upload limit (`GOVMARKET_UPLOAD_LIMIT_BYTES`).
pub async fn module_cap(state: &AppState, order_id: i64) -> ApiResult<usize> {
    let contract = service::appdata::contract_for_order(&state.db, order_id).await?;
    let limits = state.sandbox.resolve(&contract.limits);
    Ok(usize::try_from(limits.module_bytes)
        .unwrap_or(usize::MAX)
        .min(state.config.upload_limit_bytes))
}

/// Stores an uploaded version and queues its test run.
pub async fn upload_version(
    state: &AppState,
    who: &CurrentUser,
    order_id: i64,
    up: Upload,
    request_id: &RequestId,
) -> ApiResult<(apps::Model, versions::Model)> {
    let org = who
        .user
        .org_id
        .ok_or_else(|| ApiError::forbidden("账户未关联企业 / the account belongs to no vendor"))?;
    let order = store::orders::get(state.db.conn(), order_id)
        .await?
        .filter(|o| o.status != OrderStatus::Draft.as_str())
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    if order.status != OrderStatus::Open.as_str() {
        return Err(ApiError::conflict(
            "order_not_open",
            "订单不在征集中，不能上传 / the order is not open for uploads",
        ));
    }
    // Cheap checks first, so a refused upload costs no compilation.
    if let Some(app) = store::apps::find_by_name(state.db.conn(), order_id, &up.name).await? {
        check_can_add_version(state.db.conn(), &app, org).await?;
    }
    let contract = service::appdata::contract_of(&order)?;
    let sandbox = state.sandbox.clone();
    let limits = contract.limits.clone();
    let wasm = std::sync::Arc::<[u8]>::from(up.wasm);
    let validated = {
        let wasm = std::sync::Arc::clone(&wasm);
        tokio::task::spawn_blocking(move || sandbox.validate(&wasm, &limits))
            .await
            .map_err(ApiError::internal)?
    };
    let sha256 = sandbox::Sandbox::sha256_hex(&wasm);
    let (status, reason) = match &validated {
        Ok(_) => (VersionStatus::Queued, None),
        Err(rejection) => (VersionStatus::Rejected, Some(rejection.to_string())),
    };
    let total_cases = i32::try_from(store::orders::cases(state.db.conn(), order_id).await?.len())
        .map_err(ApiError::internal)?;

    let txn = state.db.begin_write().await?;
    let app = match store::apps::find_by_name(&txn, order_id, &up.name).await? {
        Some(app) => {
            check_can_add_version(&txn, &app, org).await?;
            app
        }
        None => store::apps::create(&txn, order_id, org, &up.name)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict { .. } => ApiError::conflict(
                    "name_taken",
                    "同名应用已存在 / an app with this name exists",
                ),
                other => other.into(),
            })?,
    };
    store::apps::put_blob(&txn, &sha256, wasm.to_vec()).await?;
    let version = store::apps::add_version(
        &txn,
        store::apps::NewVersion {
            app_id: app.id,
            sha256: sha256.clone(),
            size_bytes: i64::try_from(wasm.len()).map_err(ApiError::internal)?,
            release_notes: up.release_notes.trim().to_owned(),
            status,
            status_reason: reason.clone(),
            uploaded_by: who.id(),
        },
    )
    .await?;
    if status == VersionStatus::Queued {
        store::pipeline::enqueue_run(&txn, version.id, "upload", total_cases).await?;
    }
    store::audit::append(
        &txn,
        who.actor(request_id).audit(
            "version.upload",
            "version",
            version.id,
            match &reason {
                None => format!(
                    "上传应用「{}」第 {} 版（sha256 {}），已排队测试",
                    app.name,
                    version.number,
                    &sha256[..12]
                ),
                Some(r) => format!(
                    "上传应用「{}」第 {} 版，模块被拒绝：{r}",
                    app.name, version.number
                ),
            },
        ),
    )
    .await?;
    txn.commit().await?;
    if status == VersionStatus::Queued {
        state.jobs.queued();
    }
    Ok((app, version))
}

/// An existing app takes a new version only from its own vendor, while it is
/// active, and when no run of it is in flight.
async fn check_can_add_version<C: sea_orm::ConnectionTrait>(
    conn: &C,
    app: &apps::Model,
    org: i64,
) -> ApiResult<()> {
    if app.isv_org_id != org {
        return Err(ApiError::conflict(
            "name_taken",
            "该名称已被其他厂商的应用使用 / another vendor's app has this name",
        ));
    }
    if app.status != "active" {
        return Err(ApiError::conflict(
            "app_not_active",
            "应用已撤回或暂停，不能上传新版本 / the app is withdrawn or suspended",
        ));
    }
    let ids: Vec<i64> = store::apps::versions_of(conn, app.id)
        .await?
        .iter()
        .map(|v| v.id)
        .collect();
    if store::pipeline::any_in_flight(conn, &ids).await? {
        return Err(ApiError::conflict(
            "run_in_flight",
            "该应用仍有测试在进行，请等待完成后再上传 / a test run of this app is still in flight",
        ));
    }
    Ok(())
}

pub async fn publish(
    state: &AppState,
    who: &CurrentUser,
    version_id: i64,
    request_id: &RequestId,
) -> ApiResult<versions::Model> {
    let txn = state.db.begin_write().await?;
    let v = store::apps::version(&txn, version_id)
        .await?
        .ok_or_else(|| ApiError::not_found("版本 / version"))?;
    let (app, viewer) = app_for(&txn, who, v.app_id).await?;
    if viewer != Viewer::Isv {
        return Err(not_yours());
    }
    if app.status != "active" {
        return Err(ApiError::conflict(
            "app_not_active",
            "应用已撤回或暂停 / the app is withdrawn or suspended",
        ));
    }
    let order = store::orders::get(&txn, app.order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    if order.status != OrderStatus::Open.as_str() {
        return Err(ApiError::conflict(
            "order_not_open",
            "订单不在征集中 / the order is not open",
        ));
    }
    let status = version_status(&v)?;
    status.move_to(VersionStatus::Published).map_err(|_| {
        ApiError::conflict(
            "version_not_passed",
            format!("只有通过测试的版本可以发布（当前：{status}）/ only a passed version can be published (it is {status})"),
        )
    })?;
    let mut superseded = None;
    for old in store::apps::versions_of(&txn, app.id).await? {
        if old.status == VersionStatus::Published.as_str() {
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
        who.actor(request_id).audit(
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
        .ok_or_else(|| ApiError::not_found("版本 / version"))?;
    txn.commit().await?;
    service::search_index::index_app(state, app.id).await;
    Ok(v)
}

pub async fn withdraw(
    state: &AppState,
    who: &CurrentUser,
    app_id: i64,
    request_id: &RequestId,
) -> ApiResult<apps::Model> {
    let txn = state.db.begin_write().await?;
    let (app, viewer) = app_for(&txn, who, app_id).await?;
    if viewer != Viewer::Isv {
        return Err(not_yours());
    }
    if app.status == "withdrawn" {
        return Err(ApiError::conflict(
            "already_withdrawn",
            "应用已撤回 / the app is already withdrawn",
        ));
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
        who.actor(request_id).audit(
            "app.withdraw",
            "app",
            app.id,
            format!("撤回应用「{}」", app.name),
        ),
    )
    .await?;
    txn.commit().await?;
    service::search_index::index_app(state, app.id).await;
    Ok(app)
}

// ---------------------------------------------------------------- handlers

/// Upload a version (ISV, multipart: `wasm`, `name`, `release_notes`). A
/// second upload under the same name adds a version to that app.
#[utoipa::path(post, path = "/api/v1/orders/{id}/apps", tag = "apps",
    security(("bearer" = [])),
    responses((status = 201, body = UploadResult), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiPath(order_id): ApiPath<i64>,
    form: Multipart,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let cap = module_cap(&state, order_id).await?;
    let up = read_upload(form, cap).await?;
    let (app, version) = upload_version(&state, &who.current, order_id, up, &request_id).await?;
    let version = version_view(&state, &app, version, Viewer::Isv).await?;
    let app = app_view(&state, app).await?;
    Ok((StatusCode::CREATED, Json(UploadResult { app, version })))
}

/// An app with its versions (its ISV, the order's department, oversight).
#[utoipa::path(get, path = "/api/v1/apps/{id}", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = AppView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_app(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AppView>> {
    let (app, _) = app_for(state.db.conn(), &who, id).await?;
    Ok(Json(app_view(&state, app).await?))
}

/// A version with its latest run and report (ISVs see hidden cases by verdict only).
#[utoipa::path(get, path = "/api/v1/versions/{id}", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = VersionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VersionView>> {
    let v = store::apps::version(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("版本 / version"))?;
    let (app, viewer) = app_for(state.db.conn(), &who, v.app_id).await?;
    Ok(Json(version_view(&state, &app, v, viewer).await?))
}

pub async fn progress_of(state: &AppState, who: &CurrentUser, id: i64) -> ApiResult<Progress> {
    // The run and the version's status change in one transaction; reading
    // the run first means a finished run never shows with a stale status.
    let run = store::pipeline::latest_run(state.db.conn(), id).await?;
    let v = store::apps::version(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("版本 / version"))?;
    app_for(state.db.conn(), who, v.app_id).await?;
    Ok(Progress {
        version_id: id,
        version_status: v.status,
        run: run.as_ref().map(run_view),
    })
}

/// The test run's progress, for polling (cheap; no report).
#[utoipa::path(get, path = "/api/v1/versions/{id}/progress", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = Progress), (status = 403, body = ErrorBody)))]
pub async fn version_progress(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Progress>> {
    Ok(Json(progress_of(&state, &who, id).await?))
}

/// Publish a passed version; it supersedes the app's previous one (ISV).
#[utoipa::path(post, path = "/api/v1/versions/{id}/publish", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = VersionView), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn publish_version(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VersionView>> {
    let v = publish(&state, &who.current, id, &request_id).await?;
    let (app, viewer) = app_for(state.db.conn(), &who.current, v.app_id).await?;
    Ok(Json(version_view(&state, &app, v, viewer).await?))
}

/// Withdraw an app from the market (ISV).
#[utoipa::path(post, path = "/api/v1/apps/{id}/withdraw", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = AppView), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn withdraw_app(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AppView>> {
    let app = withdraw(&state, &who.current, id, &request_id).await?;
    Ok(Json(app_view(&state, app).await?))
}
