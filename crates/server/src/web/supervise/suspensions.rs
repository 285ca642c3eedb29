//! The suspensions page: apps suspended now, each with a form to reinstate
//! it, and a form to suspend an app by its number. Both with a reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use service::supervise::suspensions::{self, Decision};

use super::{local, refusal};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, WebPath, WebQuery, internal_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/apps", get(list_page))
        .route("/supervise/apps/suspend", post(suspend_submit))
        .route("/supervise/apps/{id}/reinstate", post(reinstate_submit))
}

/// One suspended app and its reinstate form.
pub struct Row {
    pub app_id: i64,
    pub app_name: String,
    pub reason: String,
    pub since: String,
    pub field: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/suspensions.html")]
struct ListPage {
    page: Page,
    errors: FormErrors,
    rows: Vec<Row>,
    /// What the suspend form held when it came back.
    app_id: String,
    reason: String,
    done_key: &'static str,
    done_id: Option<i64>,
    max: usize,
}

#[derive(Deserialize)]
struct ListQuery {
    suspended: Option<i64>,
    reinstated: Option<i64>,
}

#[derive(Deserialize)]
struct SuspendForm {
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    reason: String,
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
    form: SuspendForm,
    done: (&'static str, Option<i64>),
) -> Response {
    let mut page = who.page;
    let list = match suspensions::suspended(state, &who.actor).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    let rows = list
        .into_iter()
        .map(|a| Row {
            field: format!("reason-{}", a.app_id),
            app_id: a.app_id,
            app_name: a.app_name,
            reason: a.reason.unwrap_or_default(),
            since: a.suspended_at.map(|t| local(state, t)).unwrap_or_default(),
        })
        .collect();
    let status = page.show_errors(&errors);
    (
        status,
        ListPage {
            page,
            errors,
            rows,
            app_id: form.app_id,
            reason: form.reason,
            done_key: done.0,
            done_id: done.1,
            max: service::supervise::MAX_REASON,
        },
    )
        .into_response()
}

fn blank() -> SuspendForm {
    SuspendForm {
        app_id: String::new(),
        reason: String::new(),
    }
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(q): WebQuery<ListQuery>,
) -> Response {
    let done = match (q.suspended, q.reinstated) {
        (Some(id), _) => ("supervise.suspensions.done_suspended", Some(id)),
        (None, Some(id)) => ("supervise.suspensions.done_reinstated", Some(id)),
        (None, None) => ("", None),
    };
    render(&state, who, FormErrors::default(), blank(), done).await
}

/// Renders the page again with the refusal beside `field`, or the page the
/// refusal is.
async fn refused(
    state: &AppState,
    who: SignedIn<roles::Supervisor>,
    field: &str,
    form: SuspendForm,
    e: service::ServiceError,
) -> Response {
    refusal(&who.page, field, e)
        .respond(async |errors| render(state, who, errors, form, ("", None)).await)
        .await
}

async fn suspend_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    CsrfForm(form): CsrfForm<SuspendForm>,
) -> Response {
    let Some(id) = form.app_id.trim().parse::<i64>().ok().filter(|id| *id > 0) else {
        let mut errors = FormErrors::default();
        errors.push(
            "app_id",
            who.page
                .t("supervise.suspensions.app_id_invalid")
                .to_owned(),
        );
        return render(&state, who, errors, form, ("", None)).await;
    };
    match suspensions::decide(&state, &who.actor, id, Decision::Suspend, &form.reason).await {
        Ok(_) => Redirect::to(&format!("/supervise/apps?suspended={id}")).into_response(),
        Err(service::ServiceError::NotFound(_)) => {
            let mut errors = FormErrors::default();
            errors.push(
                "app_id",
                who.page.t("supervise.suspensions.app_missing").to_owned(),
            );
            let mut resp = render(&state, who, errors, form, ("", None)).await;
            *resp.status_mut() = axum::http::StatusCode::NOT_FOUND;
            resp
        }
        Err(e) => {
            let field = if e.field().is_some() {
                "reason"
            } else {
                "app_id"
            };
            refused(&state, who, field, form, e).await
        }
    }
}

async fn reinstate_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    match suspensions::decide(&state, &who.actor, id, Decision::Reinstate, &form.reason).await {
        Ok(_) => Redirect::to(&format!("/supervise/apps?reinstated={id}")).into_response(),
        Err(e) => refused(&state, who, &format!("reason-{id}"), blank(), e).await,
    }
}
