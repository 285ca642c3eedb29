//! ISVs' pages: a version's test run and report, refreshed by the browser
//! while the run is in flight (a `Refresh` header, so no script is needed),
//! and the publish button once it passed.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Page, csrf_form, internal_page, message_page};
use crate::api::RequestId;
use crate::api::apps::{VersionView, app_for, publish, version_view};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/isv/versions/{id}", get(version_page).post(publish_submit))
}

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
    can_publish: bool,
    cases: Vec<CaseRow>,
    percent_done: i32,
}

async fn version_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let Some(who) = page.current.clone() else {
        let next = format!("/login?next=/isv/versions/{id}");
        return Redirect::to(&next).into_response();
    };
    let v = match store::apps::version(state.db.conn(), id).await {
        Ok(Some(v)) => v,
        Ok(None) => return super::not_found(page).await,
        Err(e) => return internal_page(&page, e.into()),
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
    let can_publish = viewer == crate::api::apps::Viewer::Isv && view.status == "passed";
    let html = VersionPage {
        page,
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

#[derive(Deserialize)]
struct EmptyForm {}

async fn publish_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    Path(id): Path<i64>,
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
