//! One version: its test run (the page refreshes itself while the run is in
//! flight), its report, and the publish button for its ISV once it passed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use service::ServiceError;
use service::apps::{self, VersionView, Viewer};

use super::{EmptyForm, Vendor, internal_page, message_page};
use crate::extract::RequestId;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, login_redirect};
use crate::web::{Page, WebPath};

/// One row of the report as the page shows it.
pub struct CaseRow {
    pub id: String,
    pub visibility: String,
    pub verdict: String,
    pub accepted: bool,
    pub detail: String,
    /// The rule the case checks (hidden cases too).
    pub rule: String,
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

fn case_rows(report: Option<&serde_json::Value>) -> Vec<CaseRow> {
    report
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
                    rule: c["rule"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// For the app's ISV, the order's department and oversight alike.
pub(super) async fn version_page(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
) -> Response {
    let Some(who) = page.current.clone() else {
        return login_redirect(&format!("/isv/versions/{id}"));
    };
    let detail = match apps::version(&state, &who.actor(&request_id), id).await {
        Ok(d) => d,
        Err(ServiceError::NotFound(_)) => return crate::web::not_found(page).await,
        Err(ServiceError::Forbidden(_)) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "isv.not_yours",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let view = detail.version;
    let in_flight = view.run.as_ref().is_some_and(|r| r.in_flight());
    let percent_done = view.run.as_ref().map_or(0, |r| r.percent_done());
    let cases = case_rows(view.report.as_ref());
    let owner = detail.viewer == Viewer::Isv;
    let can_publish = owner && view.status == domain::VersionStatus::Passed;
    let html = VersionPage {
        page,
        owner,
        app_name: detail.app_name,
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

pub(super) async fn publish_submit(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(id): WebPath<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Response {
    let Vendor { page, actor } = vendor;
    match apps::publish(&state, &actor, id).await {
        Ok(_) => Redirect::to(&format!("/isv/versions/{id}")).into_response(),
        Err(e) if e.is_client_error() => message_page(
            &page,
            crate::error::status_of(&e),
            "isv.publish_failed",
            "isv.publish_failed_body",
        ),
        Err(e) => internal_page(&page, e),
    }
}
