//! ISVs' apps and versions: upload, test reports, publication, withdrawal.
//! The use cases are `service::apps`'.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use service::apps::{self, AppView, OnRejection, Progress, UploadResult, VersionView};

use super::ApiPath;
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{RequestId, read_upload_parts};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(upload, order_apps, get_app, delete_app, get_version, version_progress, publish_version, withdraw_app),
    components(schemas(UploadForm)),
    tags((name = "apps", description = "ISVs' apps, versions and test reports"))
)]
pub struct AppsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{id}/apps",
            // The handler enforces the module cap itself, part by part.
            post(upload)
                .layer(DefaultBodyLimit::disable())
                .get(order_apps),
        )
        .route("/apps/{id}", get(get_app).delete(delete_app))
        .route("/apps/{id}/withdraw", post(withdraw_app))
        .route("/versions/{id}", get(get_version))
        .route("/versions/{id}/progress", get(version_progress))
        .route("/versions/{id}/publish", post(publish_version))
}

/// The parts of an upload, as the document describes them (the handler
/// reads the stream part by part, so this struct is never built).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The WebAssembly module (`application/wasm`), at most the order's
    /// module cap.
    #[schema(value_type = String, format = Binary, content_media_type = "application/wasm")]
    wasm: Vec<u8>,
    /// The app's name; a second upload under the same name adds a version.
    name: String,
    /// What changed in this version.
    release_notes: Option<String>,
}

/// The department's desk for its own order: the apps and versions
/// submitted, their statuses and latest scores, users this period and last,
/// and ratings with a histogram. Another role: 403; another department's
/// order: 404.
#[utoipa::path(get, path = "/api/v1/orders/{id}/apps", tag = "apps",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The order")),
    responses((status = 200, body = service::orders::DeskApps),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn order_apps(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(order_id): ApiPath<i64>,
) -> ApiResult<Json<service::orders::DeskApps>> {
    Ok(Json(
        service::orders::desk_apps(&state, &who.actor(&request_id), order_id).await?,
    ))
}

/// Upload a version (ISV, multipart: `wasm`, `name`, `release_notes`). A
/// second upload under the same name adds a version to that app. A module
/// the sandbox refuses is 422 `invalid_module` for a new app (nothing is
/// stored) and a `rejected` version of an existing one.
#[utoipa::path(post, path = "/api/v1/orders/{id}/apps", tag = "apps",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
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
    let actor = who.current.actor(&request_id);
    let cap = apps::module_cap(&state, order_id).await?;
    let up = read_upload_parts(form, cap).await?;
    let (app, version) = apps::upload(&state, &actor, order_id, up, OnRejection::Keep).await?;
    Ok((
        StatusCode::CREATED,
        Json(apps::uploaded(&state, app, version).await?),
    ))
}

/// An app with its versions (its ISV, the order's department, oversight).
#[utoipa::path(get, path = "/api/v1/apps/{id}", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = AppView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_app(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AppView>> {
    Ok(Json(
        apps::get_app(&state, &who.actor(&request_id), id).await?,
    ))
}

/// Delete an app that was never published, with its versions and test
/// runs (its ISV). Another vendor's app is not found; a published one is
/// withdrawn instead (409 `app_was_published`).
#[utoipa::path(delete, path = "/api/v1/apps/{id}", tag = "apps", security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_app(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    apps::delete(&state, &who.current.actor(&request_id), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A version with its latest run and report (ISVs see hidden cases by verdict and rule label only).
#[utoipa::path(get, path = "/api/v1/versions/{id}", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = VersionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VersionView>> {
    let detail = apps::version(&state, &who.actor(&request_id), id).await?;
    Ok(Json(detail.version))
}

/// The test run's progress, for polling (cheap; no report).
#[utoipa::path(get, path = "/api/v1/versions/{id}/progress", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = Progress), (status = 403, body = ErrorBody)))]
pub async fn version_progress(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Progress>> {
    Ok(Json(
        apps::progress(&state, &who.actor(&request_id), id).await?,
    ))
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
    Ok(Json(
        apps::publish(&state, &who.current.actor(&request_id), id).await?,
    ))
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
    Ok(Json(
        apps::withdraw(&state, &who.current.actor(&request_id), id).await?,
    ))
}
