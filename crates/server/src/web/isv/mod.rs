//! ISVs' pages: their apps across orders (with withdrawal), uploading a
//! version from the browser, asking a clarification question, and a
//! version's test run and report, refreshed by the browser while the run is
//! in flight (a `Refresh` header, so no script is needed), with the publish
//! button once it passed. The use cases are `service::apps`'.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{Role, VersionStatus};
use serde::Deserialize;
use service::{Actor, ServiceError};

use super::extract::login_redirect;
use super::{FormErrors, Page, WebPath, csrf_form, internal_page, message_page};
use crate::extract::RequestId;
use crate::state::AppState;

mod apps;
mod upload;
mod version;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isv/apps", get(apps::apps_page))
        .route("/isv/apps/{id}/delete", post(apps::delete_submit))
        .route(
            "/isv/apps/{id}/withdraw",
            get(apps::withdraw_page).post(apps::withdraw_submit),
        )
        .route(
            "/isv/orders/{id}/upload",
            // The handler enforces the module cap (the order's, within the
            // platform's upload limit) itself, part by part, as the API
            // does; the site-wide body limit would cut a legitimate module
            // short.
            get(upload::upload_page)
                .post(upload::upload_submit)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/isv/orders/{id}/questions", post(ask_submit))
        .route(
            "/isv/versions/{id}",
            get(version::version_page).post(version::publish_submit),
        )
}

/// The message key of a version status.
pub(crate) fn version_status_key(status: impl Into<Option<VersionStatus>>) -> &'static str {
    match status.into() {
        Some(VersionStatus::Queued) => "isv.vstatus.queued",
        Some(VersionStatus::Testing) => "isv.vstatus.testing",
        Some(VersionStatus::Passed) => "isv.vstatus.passed",
        Some(VersionStatus::Failed) => "isv.vstatus.failed",
        Some(VersionStatus::Rejected) => "isv.vstatus.rejected",
        Some(VersionStatus::Published) => "isv.vstatus.published",
        Some(VersionStatus::Superseded) => "isv.vstatus.superseded",
        Some(VersionStatus::Withdrawn) => "isv.vstatus.withdrawn",
        Some(VersionStatus::Suspended) => "isv.vstatus.suspended",
        None => "isv.vstatus.unknown",
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

/// The signed-in ISV acting for its vendor, on a page: signed-out visitors
/// are sent to sign in (and brought back to this path), other roles and an
/// ISV account with no vendor get the ISV pages' own 403.
/// (Not `SignedIn<roles::Isv>`: these pages say why only vendors may.)
pub struct Vendor {
    pub page: Page,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Vendor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let page = Page::from_request_parts(parts, state).await?;
        let request_id = match RequestId::from_request_parts(parts, state).await {
            Ok(id) => id,
            Err(never) => match never {},
        };
        let actor = vendor(&page, &request_id, parts.uri.path())?;
        Ok(Vendor { page, actor })
    }
}

/// The signed-in ISV's actor; else the response to send: the sign-in page
/// (coming back to `next`), or a 403 page for other roles.
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn vendor(page: &Page, request_id: &RequestId, next: &str) -> Result<Actor, Response> {
    match &page.current {
        None => Err(login_redirect(next)),
        Some(c) if c.role() == Role::Isv && c.user.org_id.is_some() => Ok(c.actor(request_id)),
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

/// A refusal to look at or act on an app as a page: not this ISV's (403),
/// gone (404), or an outage; the other errors go back to the caller, which
/// shows them its own way.
#[allow(
    clippy::result_large_err,
    reason = "the error is the refusal left to show"
)]
fn access_error(page: &Page, e: ServiceError) -> Result<Response, ServiceError> {
    match e {
        ServiceError::Forbidden(_) => Ok(forbidden(page, "isv.not_yours")),
        ServiceError::NotFound(_) => Ok(not_found(page)),
        e if !e.is_client_error() => Ok(internal_page(page, e)),
        e => Err(e),
    }
}

#[derive(Deserialize)]
struct EmptyForm {}

// ------------------------------------------------------------ questions

#[derive(Deserialize)]
struct QuestionForm {
    #[serde(default)]
    body: String,
}

/// (The role check comes before the form is read, so a signed-out visitor
/// is sent to sign in and back to the order page, not refused for its token.)
async fn ask_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(order_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let actor = match vendor(&page, &request_id, &format!("/orders/{order_id}")) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let form: QuestionForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
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
