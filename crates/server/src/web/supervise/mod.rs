//! The supervisor's desk as pages: the moderation queue of reported
//! ratings and the suspensions page. The rules are `service::supervise`'s;
//! these pages only render and post. Supervisors alone (403 page for any
//! other role, sign-in for visitors).

pub mod audit;
pub mod dashboard;
pub mod evidence;
pub mod moderation;
pub mod signals;
pub mod suspensions;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use service::ServiceError;

use super::{FormErrors, Page, internal_page, message_page, missing};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(audit::router())
        .merge(dashboard::router())
        .merge(evidence::router())
        .merge(moderation::router())
        .merge(signals::router())
        .merge(suspensions::router())
}

/// A local time as the pages show it.
pub(crate) fn local(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.config.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What a refused decision becomes: a form error on `field` (shown at the
/// top and beside the field) with its status, or a whole page for a
/// missing thing, a forbidden actor or an internal failure.
pub(crate) enum Refusal {
    Form(StatusCode, FormErrors),
    Page(Response),
}

impl Refusal {
    /// The page the refusal is, or the form as `render` draws it again with
    /// the errors beside their fields, answered with the refusal's status:
    /// 422 for bad input, 409 when the object moved meanwhile.
    pub(crate) async fn respond(
        self,
        render: impl AsyncFnOnce(FormErrors) -> Response,
    ) -> Response {
        match self {
            Refusal::Page(resp) => resp,
            Refusal::Form(status, errors) => {
                let mut resp = render(errors).await;
                if resp.status().is_client_error() {
                    *resp.status_mut() = status;
                }
                resp
            }
        }
    }
}

pub(crate) fn refusal(page: &Page, field: &str, e: ServiceError) -> Refusal {
    let mut errors = FormErrors::default();
    match e {
        ServiceError::NotFound(_) => Refusal::Page(missing(page)),
        ServiceError::Forbidden(_) => Refusal::Page(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "forbidden.role",
        )),
        ServiceError::Invalid { msg, .. } => {
            errors.push(field, page.lang.render(&msg));
            Refusal::Form(StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        ServiceError::Conflict { msg, .. } => {
            errors.push(field, page.lang.render(&msg));
            Refusal::Form(StatusCode::CONFLICT, errors)
        }
        e => Refusal::Page(internal_page(page, e)),
    }
}
