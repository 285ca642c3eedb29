//! ISVs' pages: their apps across orders (with withdrawal), uploading a
//! version from the browser, asking a clarification question, and a
//! version's test run and report, refreshed by the browser while the run is
//! in flight (a `Refresh` header, so no script is needed), with the publish
//! button once it passed.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{OrderStatus, Role};
use serde::Deserialize;
use store::entity::apps;

use super::{FormErrors, Page, WebPath, WebQuery, csrf_form, internal_page, message_page};
use crate::api::apps::{
    Upload, VersionView, app_for, check_upload, module_cap, publish, read_upload_parts,
    upload_version, version_view, withdraw,
};
use crate::extract::RequestId;
use service::ServiceError;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isv/apps", get(apps_page))
        .route(
            "/isv/apps/{id}/withdraw",
            get(withdraw_page).post(withdraw_submit),
        )
        .route(
            "/isv/orders/{id}/upload",
            // The handler enforces the module cap (the order's, within the
            // platform's upload limit) itself, part by part, as the API
            // does; the site-wide body limit would cut a legitimate module
            // short.
            get(upload_page)
                .post(upload_submit)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/isv/orders/{id}/questions", post(ask_submit))
        .route("/isv/versions/{id}", get(version_page).post(publish_submit))
}

/// The message key of a version status.
pub(crate) fn version_status_key(status: &str) -> &'static str {
    match status {
        "queued" => "isv.vstatus.queued",
        "testing" => "isv.vstatus.testing",
        "passed" => "isv.vstatus.passed",
        "failed" => "isv.vstatus.failed",
        "rejected" => "isv.vstatus.rejected",
        "published" => "isv.vstatus.published",
        "superseded" => "isv.vstatus.superseded",
        "withdrawn" => "isv.vstatus.withdrawn",
        "suspended" => "isv.vstatus.suspended",
        _ => "isv.vstatus.unknown",
    }
}

/// The message key of an app status.
pub(crate) fn app_status_key(status: &str) -> &'static str {
    match status {
        "active" => "isv.astatus.active",
        "withdrawn" => "isv.astatus.withdrawn",
        "suspended" => "isv.astatus.suspended",
        _ => "isv.vstatus.unknown",
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The signed-in ISV and its organisation; else the response to send: the
/// sign-in page (coming back to `back`), or a 403 page for other roles.
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn require_isv(page: &Page, back: &str) -> Result<(CurrentUser, i64), Response> {
    match &page.current {
        None => Err(Redirect::to(&format!("/login?next={}", urlencode(back))).into_response()),
        Some(c) if c.role() == Role::Isv => match c.user.org_id {
            Some(org) => Ok((c.clone(), org)),
            None => Err(forbidden(page, "isv.forbidden")),
        },
        Some(_) => Err(forbidden(page, "isv.forbidden")),
    }
}

fn forbidden(page: &Page, body_key: &str) -> Response {
    message_page(page, StatusCode::FORBIDDEN, "forbidden.title", body_key)
}

fn not_found(page: &Page) -> Response {
    message_page(
        page,
        StatusCode::NOT_FOUND,
        "notfound.title",
        "notfound.body",
    )
}

#[derive(Deserialize)]
struct EmptyForm {}

// ------------------------------------------------------------ my apps

/// A version as a row of the apps table shows it.
pub struct VersionCell {
    pub id: i64,
    pub number: i32,
    pub status: String,
    pub score: String,
}

pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub order_id: i64,
    pub order_title: String,
    pub status: String,
    pub published: Option<VersionCell>,
    pub latest: Option<VersionCell>,
    pub can_withdraw: bool,
    pub can_upload: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/apps.html")]
struct AppsPage {
    page: Page,
    apps: Vec<AppRow>,
}

/// Order titles and statuses, each order read once.
async fn orders_of(
    state: &AppState,
    ids: impl Iterator<Item = i64>,
) -> Result<BTreeMap<i64, (String, String)>, ApiError> {
    let mut out = BTreeMap::new();
    for id in ids {
        if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(id) {
            let o = store::orders::get(state.db.conn(), id).await?;
            slot.insert(o.map(|o| (o.title, o.status)).unwrap_or_default());
        }
    }
    Ok(out)
}

async fn app_rows(state: &AppState, org: i64) -> Result<Vec<AppRow>, ApiError> {
    let conn = state.db.conn();
    let mine = store::apps::list(conn, Some(org), None).await?;
    let orders = orders_of(state, mine.iter().map(|a| a.order_id)).await?;
    let mut rows = Vec::with_capacity(mine.len());
    for app in mine {
        // Newest first, so the first is the latest upload.
        let versions = store::apps::versions_of(conn, app.id).await?;
        let cell = |v: &store::entity::versions::Model| VersionCell {
            id: v.id,
            number: v.number,
            status: v.status.clone(),
            score: v
                .test_score_bp
                .map(|bp| format!("{}.{:02}%", bp / 100, bp % 100))
                .unwrap_or_default(),
        };
        let published = versions.iter().find(|v| v.status == "published").map(cell);
        let latest = versions.first().map(cell);
        let (order_title, order_status) = orders.get(&app.order_id).cloned().unwrap_or_default();
        let active = app.status == "active";
        rows.push(AppRow {
            id: app.id,
            name: app.name,
            order_id: app.order_id,
            order_title,
            status: app.status.clone(),
            published,
            latest,
            can_withdraw: app.status != "withdrawn",
            can_upload: active && order_status == OrderStatus::Open.as_str(),
        });
    }
    Ok(rows)
}

async fn apps_page(State(state): State<AppState>, page: Page) -> Response {
    let (_, org) = match require_isv(&page, "/isv/apps") {
        Ok(x) => x,
        Err(r) => return r,
    };
    match app_rows(&state, org).await {
        Ok(apps) => AppsPage { page, apps }.into_response(),
        Err(e) => internal_page(&page, e),
    }
}

// ------------------------------------------------------------ withdraw

#[derive(Template, WebTemplate)]
#[template(path = "isv/withdraw.html")]
struct WithdrawPage {
    page: Page,
    app_id: i64,
    app_name: String,
    order_id: i64,
    order_title: String,
}

/// The app, if it is this ISV's own; else the page to send.
async fn own_app(
    state: &AppState,
    page: &Page,
    who: &CurrentUser,
    id: i64,
) -> Result<apps::Model, Response> {
    match app_for(state.db.conn(), who, id).await {
        Ok((app, crate::api::apps::Viewer::Isv)) => Ok(app),
        Ok(_) => Err(forbidden(page, "isv.not_yours")),
        Err(e) if e.status() == StatusCode::FORBIDDEN => Err(forbidden(page, "isv.not_yours")),
        Err(e) if e.status() == StatusCode::NOT_FOUND => Err(not_found(page)),
        Err(e) => Err(internal_page(page, e)),
    }
}

async fn withdraw_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    let (who, _) = match require_isv(&page, &format!("/isv/apps/{id}/withdraw")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let app = match own_app(&state, &page, &who, id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if app.status == "withdrawn" {
        return message_page(
            &page,
            StatusCode::CONFLICT,
            "isv.withdraw.failed",
            "isv.withdraw.already",
        );
    }
    let order_title = match store::orders::get(state.db.conn(), app.order_id).await {
        Ok(o) => o.map(|o| o.title).unwrap_or_default(),
        Err(e) => return internal_page(&page, e),
    };
    WithdrawPage {
        page,
        app_id: app.id,
        app_name: app.name,
        order_id: app.order_id,
        order_title,
    }
    .into_response()
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let (who, _) = match require_isv(&page, &format!("/isv/apps/{id}/withdraw")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(r) = csrf_form::<EmptyForm>(&state, &page, &body) {
        return r;
    }
    match withdraw(&state, &who, id, &request_id).await {
        Ok(_) => Redirect::to("/isv/apps").into_response(),
        Err(e) => match e.status() {
            StatusCode::FORBIDDEN => forbidden(&page, "isv.not_yours"),
            StatusCode::NOT_FOUND => not_found(&page),
            s if s.is_client_error() => {
                message_page(&page, s, "isv.withdraw.failed", "isv.withdraw.already")
            }
            _ => internal_page(&page, e),
        },
    }
}

// ------------------------------------------------------------ upload

#[derive(Deserialize)]
struct UploadQuery {
    /// An existing app of this ISV to add a version to; absent for a new app.
    app: Option<String>,
}

/// An existing app of the ISV on this order, offered as a target.
pub struct AppChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/upload.html")]
struct UploadPage {
    page: Page,
    errors: FormErrors,
    order_id: i64,
    order_title: String,
    /// The app a version is added to; `None` for a new app.
    app: Option<AppChoice>,
    /// The ISV's other active apps on this order.
    choices: Vec<AppChoice>,
    name: String,
    release_notes: String,
    max_size: String,
}

/// What the form needs besides the user's input: the order, the chosen app.
struct UploadTarget {
    order: store::entity::orders::Model,
    app: Option<apps::Model>,
    cap: usize,
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// The order (open, visible) and the chosen app (the ISV's own, of this
/// order); else the page to send.
async fn upload_target(
    state: &AppState,
    page: &Page,
    org: i64,
    order_id: i64,
    query: &UploadQuery,
) -> Result<UploadTarget, Response> {
    let order = match store::orders::get(state.db.conn(), order_id).await {
        Ok(Some(o)) if o.status != OrderStatus::Draft.as_str() => o,
        Ok(_) => return Err(not_found(page)),
        Err(e) => return Err(internal_page(page, e)),
    };
    let app = match query.app.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => {
            let Ok(id) = raw.parse::<i64>() else {
                return Err(not_found(page));
            };
            match store::apps::get(state.db.conn(), id).await {
                Ok(Some(a)) if a.isv_org_id != org => {
                    return Err(forbidden(page, "isv.not_yours"));
                }
                Ok(Some(a)) if a.order_id == order_id => Some(a),
                Ok(_) => return Err(not_found(page)),
                Err(e) => return Err(internal_page(page, e)),
            }
        }
    };
    let cap = match module_cap(state, order_id).await {
        Ok(c) => c,
        Err(e) => return Err(internal_page(page, e)),
    };
    Ok(UploadTarget { order, app, cap })
}

#[allow(clippy::too_many_arguments, reason = "one form's state, passed once")]
async fn upload_view(
    state: &AppState,
    page: Page,
    status: StatusCode,
    org: i64,
    target: UploadTarget,
    errors: FormErrors,
    name: String,
    release_notes: String,
) -> Response {
    let choices = match store::apps::list(state.db.conn(), Some(org), Some(target.order.id)).await {
        Ok(list) => list
            .into_iter()
            .filter(|a| a.status == "active" && target.app.as_ref().is_none_or(|c| c.id != a.id))
            .map(|a| AppChoice {
                id: a.id,
                name: a.name,
            })
            .collect(),
        Err(e) => return internal_page(&page, e),
    };
    let mut page = page;
    page.has_errors = !errors.is_empty();
    (
        status,
        UploadPage {
            page,
            errors,
            order_id: target.order.id,
            order_title: target.order.title,
            app: target.app.map(|a| AppChoice {
                id: a.id,
                name: a.name,
            }),
            choices,
            name,
            release_notes,
            max_size: human_size(target.cap),
        },
    )
        .into_response()
}

async fn upload_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(order_id): WebPath<i64>,
    WebQuery(query): WebQuery<UploadQuery>,
) -> Response {
    let back = format!("/isv/orders/{order_id}/upload");
    let (_, org) = match require_isv(&page, &back) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let target = match upload_target(&state, &page, org, order_id, &query).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if target.order.status != OrderStatus::Open.as_str() {
        return message_page(
            &page,
            StatusCode::CONFLICT,
            "isv.upload.closed_title",
            "isv.upload.order_closed",
        );
    }
    upload_view(
        &state,
        page,
        StatusCode::OK,
        org,
        target,
        FormErrors::default(),
        String::new(),
        String::new(),
    )
    .await
}

/// The CSRF token, which the form sends as its first part so that a forged
/// post is refused before a byte of the module is read.
async fn leading_csrf_token(form: &mut Multipart) -> Option<String> {
    let mut field = form.next_field().await.ok()??;
    if field.name() != Some(crate::csrf::CSRF_FIELD) {
        return None;
    }
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        buf.extend_from_slice(&chunk);
        // A token is 64 hex digits; anything longer is not one.
        if buf.len() > 128 {
            return None;
        }
    }
    String::from_utf8(buf).ok()
}

async fn upload_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(order_id): WebPath<i64>,
    WebQuery(query): WebQuery<UploadQuery>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let back = format!("/isv/orders/{order_id}/upload");
    let (who, org) = match require_isv(&page, &back) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(mut form) = form else {
        return message_page(
            &page,
            StatusCode::BAD_REQUEST,
            "isv.upload.failed",
            "isv.upload.bad_form",
        );
    };
    let token = leading_csrf_token(&mut form).await;
    let csrf_ok = !page.csrf_seed.is_empty()
        && token
            .as_deref()
            .is_some_and(|t| crate::csrf::verify(&state.csrf_key, &page.csrf_seed, t));
    if !csrf_ok {
        return forbidden(&page, "forbidden.csrf");
    }
    let target = match upload_target(&state, &page, org, order_id, &query).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Errors about a chosen app sit beside its summary; for a new app the
    // name field is where the user can act.
    let app_field = if target.app.is_some() { "app" } else { "name" };
    let mut errors = FormErrors::default();

    let up = match read_upload_parts(form, target.cap).await {
        Ok(up) => up,
        Err(e) if e.status().is_client_error() => {
            let (field, message) = upload_read_error(&page, &e, target.cap);
            errors.push(field, message);
            let status = e.status();
            return upload_view(
                &state,
                page,
                status,
                org,
                target,
                errors,
                String::new(),
                String::new(),
            )
            .await;
        }
        Err(e) => return internal_page(&page, e),
    };
    // A chosen app's name is the app's own, whatever the form carried.
    let up = match &target.app {
        Some(app) => Upload {
            name: app.name.clone(),
            ..up
        },
        None => up,
    };
    let name = up.name.clone();
    let notes = up.release_notes.clone();
    let refuse = |errors: FormErrors, status: StatusCode, page: Page, target: UploadTarget| {
        let (name, notes) = (name.clone(), notes.clone());
        let state = &state;
        async move { upload_view(state, page, status, org, target, errors, name, notes).await }
    };
    let up = match check_upload(up) {
        Ok(up) => up,
        Err(e) => {
            let (field, message) = upload_read_error(&page, &e, target.cap);
            errors.push(field, message);
            return refuse(errors, e.status(), page, target).await;
        }
    };

    if target.order.status != OrderStatus::Open.as_str() {
        errors.push("wasm", page.t("isv.upload.order_closed"));
        return refuse(errors, StatusCode::CONFLICT, page, target).await;
    }
    // The API keeps an invalid module as a `rejected` version; in the browser
    // the ISV is told at once, beside the file input, and nothing is stored.
    // The sandbox caches the compiled module by sha256, so the upload's own
    // check below costs no second compilation.
    let contract = match service::appdata::contract_of(&target.order) {
        Ok(c) => c,
        Err(e) => return internal_page(&page, e),
    };
    let checked = {
        let sandbox = state.sandbox.clone();
        let wasm = std::sync::Arc::<[u8]>::from(up.wasm.as_slice());
        tokio::task::spawn_blocking(move || sandbox.validate(&wasm, &contract.limits)).await
    };
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(rejection)) => {
            errors.push(
                "wasm",
                format!("{}{rejection}", page.t("isv.upload.invalid_module")),
            );
            return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY, page, target).await;
        }
        Err(e) => return internal_page(&page, ApiError::internal(e)),
    }
    match upload_version(&state, &who, order_id, up, &request_id).await {
        Ok((_, version)) => Redirect::to(&format!("/isv/versions/{}", version.id)).into_response(),
        Err(e) if e.status().is_client_error() => {
            let (field, key) = match e.code() {
                "order_not_open" => ("wasm", "isv.upload.order_closed"),
                "run_in_flight" => (app_field, "isv.upload.in_flight"),
                "app_not_active" => (app_field, "isv.upload.app_not_active"),
                "name_taken" => ("name", "isv.upload.name_taken"),
                _ => (e.field().unwrap_or("wasm"), ""),
            };
            let message = if key.is_empty() {
                e.message().to_owned()
            } else {
                page.t(key).to_owned()
            };
            errors.push(field, message);
            refuse(errors, e.status(), page, target).await
        }
        Err(e) => internal_page(&page, e),
    }
}

/// The field and message for a refused multipart read.
fn upload_read_error(page: &Page, e: &ApiError, cap: usize) -> (&'static str, String) {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return (
            "wasm",
            format!("{}{}", page.t("isv.upload.too_large"), human_size(cap)),
        );
    }
    match e.field() {
        Some("wasm") => ("wasm", page.t("isv.upload.no_file").to_owned()),
        Some("name") => ("name", page.t("isv.upload.name_invalid").to_owned()),
        Some("release_notes") => (
            "release_notes",
            page.t("isv.upload.notes_too_long").to_owned(),
        ),
        _ => ("wasm", page.t("isv.upload.bad_form").to_owned()),
    }
}

// ------------------------------------------------------------ questions

#[derive(Deserialize)]
struct QuestionForm {
    #[serde(default)]
    body: String,
}

async fn ask_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(order_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let (who, _) = match require_isv(&page, &format!("/orders/{order_id}")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let form: QuestionForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let actor = who.actor(&request_id);
    match service::questions::ask(&state, &actor, order_id, &form.body).await {
        Ok(q) => Redirect::to(&format!("/orders/{order_id}#question-{}", q.id)).into_response(),
        Err(ServiceError::NotFound(_)) => not_found(&page),
        Err(e) if e.is_client_error() => {
            let key = match &e {
                ServiceError::Conflict { .. } => "isv.ask.order_closed",
                _ if form.body.trim().is_empty() => "isv.ask.empty",
                _ => "isv.ask.too_long",
            };
            let mut errors = FormErrors::default();
            errors.push("body", page.t(key));
            let status = crate::error::status_of(&e);
            super::orders::order_detail(
                &state,
                page,
                &actor,
                order_id,
                super::orders::AskForm {
                    errors,
                    body: form.body,
                    status,
                },
            )
            .await
        }
        Err(e) => internal_page(&page, e),
    }
}

// ------------------------------------------------------------ one version

/// One row of the report as the page shows it.
pub struct CaseRow {
    pub id: String,
    pub visibility: String,
    pub verdict: String,
    pub accepted: bool,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/version.html")]
struct VersionPage {
    page: Page,
    app_name: String,
    version: VersionView,
    in_flight: bool,
    /// The app's own ISV is looking (not its department or oversight).
    owner: bool,
    can_publish: bool,
    cases: Vec<CaseRow>,
    percent_done: i32,
}

async fn version_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    let Some(who) = page.current.clone() else {
        let next = format!("/login?next=/isv/versions/{id}");
        return Redirect::to(&next).into_response();
    };
    let v = match store::apps::version(state.db.conn(), id).await {
        Ok(Some(v)) => v,
        Ok(None) => return super::not_found(page).await,
        Err(e) => return internal_page(&page, e),
    };
    let (app, viewer) = match app_for(state.db.conn(), &who, v.app_id).await {
        Ok(x) => x,
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "isv.not_yours",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let view = match version_view(&state, &app, v, viewer).await {
        Ok(v) => v,
        Err(e) => return internal_page(&page, e),
    };
    let in_flight = view
        .run
        .as_ref()
        .is_some_and(|r| r.status == "queued" || r.status == "running");
    let percent_done = view.run.as_ref().map_or(0, |r| {
        if r.total_cases > 0 {
            r.done_cases * 100 / r.total_cases
        } else {
            0
        }
    });
    let cases = view
        .report
        .as_ref()
        .and_then(|r| r["cases"].as_array())
        .map(|cases| {
            cases
                .iter()
                .map(|c| CaseRow {
                    id: c["id"].as_str().unwrap_or_default().to_owned(),
                    visibility: c["visibility"].as_str().unwrap_or_default().to_owned(),
                    verdict: c["verdict"].as_str().unwrap_or_default().to_owned(),
                    accepted: c["verdict"] == "accepted",
                    detail: c["detail"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let owner = viewer == crate::api::apps::Viewer::Isv;
    let can_publish = owner && view.status == "passed";
    let html = VersionPage {
        page,
        owner,
        app_name: app.name,
        in_flight,
        can_publish,
        cases,
        percent_done,
        version: view,
    };
    if in_flight {
        // Browsers reload on a `Refresh` header: progress without a script.
        (
            [(axum::http::HeaderName::from_static("refresh"), "2")],
            html,
        )
            .into_response()
    } else {
        html.into_response()
    }
}

async fn publish_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    if let Err(r) = csrf_form::<EmptyForm>(&state, &page, &body) {
        return r;
    }
    let Some(who) = page.current.clone() else {
        return Redirect::to(&format!("/login?next=/isv/versions/{id}")).into_response();
    };
    match publish(&state, &who, id, &request_id).await {
        Ok(_) => Redirect::to(&format!("/isv/versions/{id}")).into_response(),
        Err(e) if e.status().is_client_error() => message_page(
            &page,
            e.status(),
            "isv.publish_failed",
            "isv.publish_failed_body",
        ),
        Err(e) => internal_page(&page, e),
    }
}
