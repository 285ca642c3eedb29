//! The market, public to browse: services by category and department, a
//! service's competing apps side by side, an app's reviews, using an app and
//! rating it.
//!
//! Every rule lives in the use cases (`service::market::{select,
//! public_app, service_overview}`, `service::invoke::{usable,
//! run_for_citizen}`, `service::ratings::{rate, reply, report}`); these
//! handlers turn their answers and errors into pages: a client error beside
//! its field or as a page with the right status, an internal one as the
//! opaque error page.
//!
//! - `charts`: the star histogram and the comparison chart (inline SVG)
//! - `browse`: `/market` and a service's page
//! - `app_page`: an app's page with its reviews and forms
//! - `ratings`: rating, replying, reporting
//! - `use_app`: using an app (the form from its input schema, the result)

mod app_page;
mod browse;
mod charts;
mod ratings;
mod use_app;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::Role;
use service::{Actor, ServiceError};

use super::{Page, internal_page, message_page};
use crate::extract::RequestId;
use crate::state::AppState;

/// Where a signed-out visitor goes (kept here for the complaints pages).
pub(crate) use super::extract::login_redirect;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/market", get(browse::market_page))
        .route("/market/services/{order_id}", get(browse::service_page))
        .route("/market/apps/{app_id}", get(app_page::app_page))
        .route(
            "/market/apps/{app_id}/use",
            get(use_app::use_page).post(use_app::use_submit),
        )
        .route("/market/apps/{app_id}/rating", post(ratings::rate_submit))
        .route(
            "/market/ratings/{rating_id}/reply",
            post(ratings::reply_submit),
        )
        .route(
            "/market/ratings/{rating_id}/report",
            post(ratings::report_submit),
        )
}

/// Reviews per page on an app's page.
const REVIEWS_PER_PAGE: u64 = 10;
/// Market pages fetched for the service overview (100 apps each); beyond
/// that the citizen is asked to narrow the search.
const MAX_MARKET_PAGES: usize = 10;

/// The signed-in citizen, or the page to answer with: sign in first (back
/// to `next` afterwards), or 403 for other roles.
/// (Not `SignedIn<roles::Citizen>`: the market says why only citizens may,
/// and a form's sign-in comes back to the app's page, not to the post.)
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn require_citizen(page: &Page, request_id: &RequestId, next: &str) -> Result<Actor, Response> {
    match &page.current {
        None => Err(login_redirect(next)),
        Some(c) if c.user.role == Role::Citizen => Ok(c.actor(request_id)),
        Some(_) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "market.citizens_only",
        )),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "market/error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    message: String,
    back: String,
}

/// A use case's refusal as a page with its status and message; a rate
/// limit keeps its `Retry-After`; internal errors are logged and shown
/// opaquely.
fn error_page(page: &Page, e: ServiceError, back: &str) -> Response {
    if !e.is_client_error() {
        return internal_page(page, e);
    }
    let retry_after = match &e {
        ServiceError::NotFound(_) => {
            return message_page(
                page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        ServiceError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    let message = match retry_after {
        Some(secs) => page
            .t("market.rate_limited")
            .replace("{secs}", &secs.to_string()),
        None => page.lang.error_message(&e),
    };
    let mut resp = (
        crate::error::status_of(&e),
        ErrorPage {
            page,
            message,
            back: back.to_owned(),
        },
    )
        .into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn message_with_back(page: &Page, status: StatusCode, key: &str, back: &str) -> Response {
    let html = ErrorPage {
        page,
        message: page.t(key).to_owned(),
        back: back.to_owned(),
    };
    (status, html).into_response()
}

fn local_date(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.config.timezone)
        .format("%Y-%m-%d")
        .to_string()
}

fn percent_bp(bp: Option<i32>) -> String {
    bp.map(|b| format!("{:.1}%", f64::from(b) / 100.0))
        .unwrap_or_else(|| "—".into())
}

/// "★★★★☆": the picture; the number is always written beside it.
fn star_picture(stars: i32) -> String {
    let s = usize::try_from(stars.clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(s), "☆".repeat(5 - s))
}

pub(crate) fn level_key(stars: i32) -> &'static str {
    match stars {
        1 => "market.level.1",
        2 => "market.level.2",
        3 => "market.level.3",
        4 => "market.level.4",
        _ => "market.level.5",
    }
}

#[cfg(test)]
mod tests {
    use super::charts::histogram;
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn the_histogram_scales_to_the_largest_bar_and_reads_as_text() {
        let h = histogram([1, 0, 0, 2, 4], Lang::ZhCn.catalog());
        let widths: Vec<(u8, &str)> = h.bars.iter().map(|b| (b.stars, b.width.as_str())).collect();
        assert_eq!(
            widths,
            [
                (5, "120.0"),
                (4, "60.0"),
                (3, "0.0"),
                (2, "0.0"),
                (1, "30.0")
            ]
        );
        assert_eq!(h.summary, "5星 4 · 4星 2 · 3星 0 · 2星 0 · 1星 1");
        let empty = histogram([0; 5], Lang::ZhCn.catalog());
        assert!(empty.bars.iter().all(|b| b.width == "0.0"));
        assert_eq!(star_picture(4), "★★★★☆");
        assert_eq!(level_key(1), "market.level.1");
        assert_eq!(percent_bp(Some(9_550)), "95.5%");
        assert_eq!(percent_bp(None), "—");
    }

    #[test]
    fn a_language_has_its_levels() {
        for lang in [Lang::ZhCn, Lang::En] {
            for s in 1..=5 {
                assert_ne!(lang.catalog().t(level_key(s)), level_key(s));
            }
        }
    }
}
