//! `/supervise/evidence?app=ID`: an app's use of citizens' data. Queries
//! per dataset, read and refused, drawn as bars; the refused queries listed,
//! each invocation with a form to replay it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use service::ServiceError;
use service::mydata::{self, AppEvidence};

use super::dashboard::{Chart, chart};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{
    EmptyForm, FormErrors, Page, WebPath, WebQuery, internal_page, message_page, missing,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/evidence", get(evidence_page))
        .route("/supervise/invocations/{id}/replay", post(replay_submit))
}

#[derive(Deserialize)]
struct EvidenceQuery {
    #[serde(default)]
    app: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/evidence.html")]
struct EvidencePage {
    page: Page,
    errors: FormErrors,
    app: String,
    evidence: Option<AppEvidence>,
    charts: Vec<Chart>,
}

async fn evidence_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(q): WebQuery<EvidenceQuery>,
) -> Response {
    let mut page = who.page;
    let mut errors = FormErrors::default();
    let raw = q.app.trim().to_owned();
    let mut evidence = None;
    if !raw.is_empty() {
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => match mydata::app_evidence(&state, &who.actor, id).await {
                Ok(e) => evidence = Some(e),
                Err(ServiceError::NotFound(_)) => {
                    errors.push("app", page.t("supervise.evidence.no_app").to_owned());
                }
                Err(e) => return internal_page(&page, e),
            },
            _ => errors.push("app", page.t("supervise.audit.bad_id").to_owned()),
        }
    }
    let charts = evidence
        .as_ref()
        .map(|e| {
            let rows = |refused: bool| {
                e.datasets
                    .iter()
                    .map(|d| {
                        let n = if refused { d.refused } else { d.queries };
                        (d.dataset.clone(), n, n.to_string())
                    })
                    .collect()
            };
            vec![
                chart("queries", "supervise.evidence.queries", rows(false)),
                chart("refused", "supervise.evidence.refused", rows(true)),
            ]
        })
        .unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        page.has_errors = true;
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        EvidencePage {
            page,
            errors,
            app: raw,
            evidence,
            charts,
        },
    )
        .into_response()
}

/// Any invocation, run again for a supervisor.
async fn replay_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match service::replay::replay(&state, &who.actor, id).await {
        Ok(r) => {
            let back = format!("/supervise/evidence?app={}", r.app_id);
            crate::web::replay::page(who.page, r, back, "supervise.evidence.back")
        }
        Err(ServiceError::NotFound(_)) => missing(&who.page),
        Err(ServiceError::Gone(_)) => message_page(
            &who.page,
            StatusCode::GONE,
            "supervise.evidence.gone_title",
            "err.replay.purged",
        ),
        Err(e) => internal_page(&who.page, e),
    }
}
