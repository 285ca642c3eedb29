//! Fraud signals as pages: the list (open ones first, by status), and one
//! signal with its evidence, the citizens it covers and the two decisions,
//! each a form with a reason. Confirming flags the signal's usage invalid;
//! a refusal (reason missing, decided already, period approved) comes back
//! beside the form's reason field and in the summary at the top.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use service::supervise::signals::{self, Decision, SignalView};

use super::{local, refusal};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, WebPath, WebQuery, internal_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervise/signals", get(list_page))
        .route("/supervise/signals/{id}", get(detail_page))
        .route("/supervise/signals/{id}/confirm", post(confirm_submit))
        .route("/supervise/signals/{id}/dismiss", post(dismiss_submit))
}

/// The statuses the list can show, in the order of its tabs.
const TABS: [&str; 4] = ["open", "confirmed", "dismissed", "all"];

/// One signal in the list.
pub struct Row {
    pub s: SignalView,
    pub kind_key: String,
    pub status_key: String,
    pub window: String,
    pub observed: String,
    pub threshold: String,
}

fn number(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

fn row(state: &AppState, s: SignalView) -> Row {
    Row {
        kind_key: format!("supervise.signals.kind.{}", s.kind),
        status_key: format!("supervise.signals.status.{}", s.status),
        window: format!(
            "{} – {}",
            local(state, s.window_start),
            local(state, s.window_end)
        ),
        observed: number(&s.evidence["observed"]),
        threshold: number(&s.evidence["threshold"]),
        s,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/signals.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    tab: String,
    tabs: Vec<&'static str>,
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebQuery(q): WebQuery<ListQuery>,
) -> Response {
    let page = who.page;
    let tab = q
        .status
        .filter(|s| TABS.contains(&s.as_str()))
        .unwrap_or_else(|| "open".to_owned());
    let status = match tab.as_str() {
        "all" => None,
        other => match signals::parse_status(other) {
            Ok(s) => Some(s),
            Err(e) => return internal_page(&page, e),
        },
    };
    let list = match signals::list(&state, &who.actor, status).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    ListPage {
        rows: list.into_iter().map(|s| row(&state, s)).collect(),
        tab,
        tabs: TABS.to_vec(),
        page,
    }
    .into_response()
}

/// A subject as the detail page lists it.
pub struct Subject {
    pub citizen_id: i64,
    pub uses: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/signal.html")]
struct DetailPage {
    page: Page,
    errors: FormErrors,
    r: Row,
    /// `(name, value)` of the evidence's counts.
    counts: Vec<(String, String)>,
    norm: String,
    subjects: Vec<Subject>,
    decided_at: String,
    /// What each form's reason held when it came back.
    confirm_reason: String,
    dismiss_reason: String,
    done: Option<String>,
    max: usize,
}

#[derive(Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn render(
    state: &AppState,
    who: SignedIn<roles::Supervisor>,
    id: i64,
    errors: FormErrors,
    failed: Option<(Decision, String)>,
    done: Option<String>,
) -> Response {
    let mut page = who.page;
    let s = match signals::get(state, &who.actor, id).await {
        Ok(s) => s,
        Err(e) => {
            return match refusal(&page, "reason", e) {
                super::Refusal::Page(resp) => resp,
                // `get` refuses with no form field; never reached.
                super::Refusal::Form(..) => crate::web::missing(&page),
            };
        }
    };
    let counts = s.evidence["counts"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), number(v))).collect())
        .unwrap_or_default();
    let subjects = s
        .subjects
        .iter()
        .map(|x| Subject {
            citizen_id: x.citizen_id,
            uses: x.uses,
        })
        .collect();
    let (confirm_reason, dismiss_reason) = match failed {
        Some((Decision::Confirm, r)) => (r, String::new()),
        Some((Decision::Dismiss, r)) => (String::new(), r),
        None => (String::new(), String::new()),
    };
    let status = page.show_errors(&errors);
    (
        status,
        DetailPage {
            counts,
            norm: number(&s.evidence["norm"]),
            subjects,
            decided_at: s.decided_at.map(|t| local(state, t)).unwrap_or_default(),
            r: row(state, s),
            page,
            errors,
            confirm_reason,
            dismiss_reason,
            done: done.filter(|d| d == "confirmed" || d == "dismissed"),
            max: service::supervise::MAX_REASON,
        },
    )
        .into_response()
}

async fn detail_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    WebQuery(q): WebQuery<DetailQuery>,
) -> Response {
    render(&state, who, id, FormErrors::default(), None, q.done).await
}

async fn decide(
    state: AppState,
    who: SignedIn<roles::Supervisor>,
    id: i64,
    decision: Decision,
    form: ReasonForm,
) -> Response {
    let (field, done) = match decision {
        Decision::Confirm => ("reason-confirm", "confirmed"),
        Decision::Dismiss => ("reason-dismiss", "dismissed"),
    };
    match signals::decide(&state, &who.actor, id, decision, &form.reason).await {
        Ok(_) => Redirect::to(&format!("/supervise/signals/{id}?done={done}")).into_response(),
        Err(e) => {
            refusal(&who.page, field, e)
                .respond(async |errors| {
                    render(&state, who, id, errors, Some((decision, form.reason)), None).await
                })
                .await
        }
    }
}

async fn confirm_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    decide(state, who, id, Decision::Confirm, form).await
}

async fn dismiss_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    decide(state, who, id, Decision::Dismiss, form).await
}
