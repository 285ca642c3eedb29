//! The moderation queue: reported ratings with their reports, one form per
//! rating to hide it (or restore it) with a reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use service::supervise::moderation::{self, Decision, ReportedRating};

use super::{local, refusal};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, WebPath, WebQuery, internal_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/ratings", get(queue_page))
        .route("/supervise/ratings/{id}/hide", post(hide_submit))
        .route("/supervise/ratings/{id}/restore", post(restore_submit))
}

/// One report as the queue shows it.
pub struct ReportRow {
    pub reason: String,
    pub at: String,
}

/// One reported rating and its form.
pub struct Item {
    pub r: ReportedRating,
    pub updated: String,
    pub reports: Vec<ReportRow>,
    /// The reason typed into this rating's form when it came back.
    pub draft: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/moderation.html")]
struct QueuePage {
    page: Page,
    errors: FormErrors,
    items: Vec<Item>,
    /// The rating just hidden or restored, and which.
    done: Option<(i64, bool)>,
    max: usize,
}

#[derive(Deserialize)]
struct QueueQuery {
    hidden: Option<i64>,
    restored: Option<i64>,
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn render(
    state: &AppState,
    who: SignedIn<roles::Supervisor>,
    errors: FormErrors,
    failed: Option<(i64, String)>,
    done: Option<(i64, bool)>,
) -> Response {
    let mut page = who.page;
    let queue = match moderation::reported(state, &who.actor).await {
        Ok(q) => q,
        Err(e) => return internal_page(&page, e),
    };
    let items = queue
        .into_iter()
        .map(|r| Item {
            updated: local(state, r.updated_at),
            reports: r
                .reports
                .iter()
                .map(|p| ReportRow {
                    reason: p.reason.clone(),
                    at: local(state, p.created_at),
                })
                .collect(),
            draft: failed
                .as_ref()
                .filter(|(id, _)| *id == r.rating_id)
                .map(|(_, d)| d.clone())
                .unwrap_or_default(),
            r,
        })
        .collect();
    let status = page.show_errors(&errors);
    (
        status,
        QueuePage {
            page,
            errors,
            items,
            done,
            max: service::supervise::MAX_REASON,
        },
    )
        .into_response()
}

async fn queue_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(q): WebQuery<QueueQuery>,
) -> Response {
    let done = q
        .hidden
        .map(|id| (id, true))
        .or(q.restored.map(|id| (id, false)));
    render(&state, who, FormErrors::default(), None, done).await
}

async fn decide(
    state: AppState,
    who: SignedIn<roles::Supervisor>,
    id: i64,
    decision: Decision,
    form: ReasonForm,
) -> Response {
    let field = format!("reason-{id}");
    match moderation::decide(&state, &who.actor, id, decision, &form.reason).await {
        Ok(_) => {
            let key = if decision == Decision::Hide {
                "hidden"
            } else {
                "restored"
            };
            Redirect::to(&format!("/supervise/ratings?{key}={id}")).into_response()
        }
        Err(e) => {
            refusal(&who.page, &field, e)
                .respond(async |errors| {
                    render(&state, who, errors, Some((id, form.reason)), None).await
                })
                .await
        }
    }
}

async fn hide_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    decide(state, who, id, Decision::Hide, form).await
}

async fn restore_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    decide(state, who, id, Decision::Restore, form).await
}
