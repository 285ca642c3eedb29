//! Complaint pages: a citizen files one from an app's or a service's page
//! and follows it; the ISV or department concerned answers it; supervisors
//! see every complaint, the overdue ones first if they ask. The rules are
//! `service::complaints`'; these pages only render and post.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{ComplaintStatus, Role};
use serde::Deserialize;
use service::ServiceError;
use service::complaints::{
    self, ComplaintQuery, ComplaintRequest, ComplaintView, MAX_COMPLAINT_CHARS, Subject,
};

use super::extract::{CsrfForm, SignedIn};
use super::market::level_key;
use super::{EmptyForm, FormErrors, Page, WebPath, WebQuery, internal_page, message_page, missing};
use crate::auth::roles;
use crate::error::status_of;
use crate::extract::ClientAddr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(list_page))
        .route("/complaints/new", get(new_page).post(new_submit))
        .route("/complaints/{id}", get(detail_page))
        .route("/complaints/{id}/answer", post(answer_submit))
        .route("/complaints/{id}/resolve", post(resolve_submit))
        .route("/complaints/{id}/reopen", post(reopen_submit))
        .route("/complaints/{id}/replay", post(replay_submit))
}

/// A refusal as a page: not found and forbidden as such, a conflict (the
/// complaint moved meanwhile) or rate limit with its message.
fn refusal(page: &Page, e: ServiceError) -> Response {
    match &e {
        ServiceError::NotFound(_) => missing(page),
        ServiceError::Forbidden(_) => message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "complaints.forbidden",
        ),
        ServiceError::RateLimited { .. } => message_page(
            page,
            StatusCode::TOO_MANY_REQUESTS,
            "complaints.title",
            "complaints.rate_limited",
        ),
        e if e.is_client_error() => {
            message_page(page, status_of(e), "complaints.title", "complaints.moved")
        }
        _ => internal_page(page, e),
    }
}

fn local(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.config.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn status_key(status: ComplaintStatus) -> &'static str {
    match status {
        ComplaintStatus::Open => "complaints.status.open",
        ComplaintStatus::Answered => "complaints.status.answered",
        ComplaintStatus::Resolved => "complaints.status.resolved",
    }
}

/// What a complaint is about, as a page links it.
pub struct SubjectLink {
    pub href: String,
    pub name: String,
}

impl From<Subject> for SubjectLink {
    fn from(s: Subject) -> SubjectLink {
        match s {
            Subject::App { id, name } => SubjectLink {
                href: format!("/market/apps/{id}"),
                name,
            },
            Subject::Order { id, title } => SubjectLink {
                href: format!("/market/services/{id}"),
                name: title,
            },
        }
    }
}

// ------------------------------------------------------------ list

pub struct Row {
    pub id: i64,
    pub subject: String,
    pub status_key: &'static str,
    pub overdue: bool,
    pub deadline: String,
    pub filed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints/list.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    overdue_only: bool,
    is_citizen: bool,
    is_supervisor: bool,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct ListQuery {
    overdue: Option<String>,
    cursor: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Anyone>,
    WebQuery(q): WebQuery<ListQuery>,
) -> Response {
    let page = who.page;
    let overdue_only = q.overdue.as_deref().is_some_and(|v| !v.is_empty());
    let query = ComplaintQuery {
        overdue: Some(overdue_only),
        // A hand-edited cursor starts from the newest rather than failing.
        cursor: q.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()),
        ..ComplaintQuery::default()
    };
    let list = match complaints::list(&state, &who.actor, &query).await {
        Ok(l) => l,
        Err(e) => return refusal(&page, e),
    };
    let subjects = match complaints::subjects(&state, &list.items).await {
        Ok(n) => n,
        Err(e) => return internal_page(&page, e),
    };
    let rows = list
        .items
        .iter()
        .map(|c| Row {
            id: c.id,
            subject: subjects.name_of(c).unwrap_or_default().to_owned(),
            status_key: status_key(c.status()),
            overdue: c.overdue,
            deadline: local(&state, c.deadline),
            filed: local(&state, c.created_at),
        })
        .collect();
    let role = who.current.role();
    ListPage {
        next: list.next,
        rows,
        overdue_only,
        is_citizen: role == Role::Citizen,
        is_supervisor: matches!(role, Role::Supervisor | Role::Admin),
        page,
    }
    .into_response()
}

// ------------------------------------------------------------ new

#[derive(Template, WebTemplate)]
#[template(path = "complaints/new.html")]
struct NewPage {
    page: Page,
    errors: FormErrors,
    subject: SubjectLink,
    app: String,
    order: String,
    /// The use complained about, from "my data": kept as typed.
    invocation: String,
    body: String,
    max: usize,
}

#[derive(Deserialize)]
struct NewQuery {
    app: Option<String>,
    order: Option<String>,
    invocation: Option<String>,
}

fn parse_id(raw: Option<&str>) -> Option<i64> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

async fn new_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Complainants>,
    WebQuery(q): WebQuery<NewQuery>,
) -> Response {
    let page = who.page;
    let (app, order) = (parse_id(q.app.as_deref()), parse_id(q.order.as_deref()));
    let subject = match complaints::subject(&state, app, order).await {
        Ok(Some(s)) => s,
        Ok(None) => return missing(&page),
        Err(e) => return internal_page(&page, e),
    };
    NewPage {
        page,
        errors: FormErrors::default(),
        subject: subject.into(),
        app: app.map(|a| a.to_string()).unwrap_or_default(),
        order: if app.is_some() {
            String::new()
        } else {
            order.map(|o| o.to_string()).unwrap_or_default()
        },
        invocation: parse_id(q.invocation.as_deref())
            .filter(|_| app.is_some())
            .map(|i| i.to_string())
            .unwrap_or_default(),
        body: String::new(),
        max: MAX_COMPLAINT_CHARS,
    }
    .into_response()
}

#[derive(Deserialize)]
struct NewForm {
    #[serde(default)]
    app: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    invocation: String,
    #[serde(default)]
    body: String,
}

async fn new_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Complainants>,
    ClientAddr(addr): ClientAddr,
    CsrfForm(form): CsrfForm<NewForm>,
) -> Response {
    let page = who.page;
    let (app, order) = (parse_id(Some(&form.app)), parse_id(Some(&form.order)));
    let req = ComplaintRequest {
        app_id: app,
        order_id: if app.is_some() { None } else { order },
        body: form.body.clone(),
        invocation_id: parse_id(Some(&form.invocation)).filter(|_| app.is_some()),
    };
    let mut errors = FormErrors::default();
    match complaints::file(&state, &who.actor, addr, req).await {
        Ok(view) => {
            return Redirect::to(&format!("/complaints/{}?done=filed", view.id)).into_response();
        }
        // The subject is the page's own (hidden fields): what can be wrong
        // on the form is the text.
        Err(e @ ServiceError::Invalid { .. }) => {
            errors.push("body", page.lang.error_message(&e));
        }
        Err(e) => return refusal(&page, e),
    }
    // Only a form shown again needs its subject's name.
    let subject = match complaints::subject(&state, app, order).await {
        Ok(Some(s)) => s,
        Ok(None) => return missing(&page),
        Err(e) => return internal_page(&page, e),
    };
    let mut page = page;
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        NewPage {
            page,
            errors,
            subject: subject.into(),
            app: form.app,
            order: form.order,
            invocation: form.invocation,
            body: form.body,
            max: MAX_COMPLAINT_CHARS,
        },
    )
        .into_response()
}

// ------------------------------------------------------------ detail

#[derive(Template, WebTemplate)]
#[template(path = "complaints/detail.html")]
struct DetailPage {
    page: Page,
    errors: FormErrors,
    c: ComplaintView,
    subject: Option<SubjectLink>,
    status_key: &'static str,
    overdue: bool,
    deadline: String,
    filed: String,
    answered: String,
    can_answer: bool,
    can_resolve: bool,
    can_replay: bool,
    answer_draft: String,
    flash_key: &'static str,
    resolution_key: &'static str,
    levels: Vec<(i32, &'static str)>,
    max: usize,
}

#[derive(Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

/// What the detail page shows besides the complaint: a form's errors, the
/// answer being drafted, a message about what was just done.
#[derive(Default)]
struct Shown {
    errors: FormErrors,
    answer_draft: String,
    flash_key: &'static str,
}

async fn detail_view<R: crate::auth::RoleSet>(
    state: &AppState,
    who: SignedIn<R>,
    id: i64,
    shown: Shown,
) -> Response {
    let detail = match complaints::detail(state, &who.actor, id).await {
        Ok(d) => d,
        Err(e) => return refusal(&who.page, e),
    };
    let c = detail.complaint;
    let subject = match complaints::subject(state, c.app_id, c.order_id).await {
        Ok(s) => s.map(SubjectLink::from),
        Err(e) => return internal_page(&who.page, e),
    };
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = who.page;
    page.has_errors = !shown.errors.is_empty();
    (
        status,
        DetailPage {
            errors: shown.errors,
            subject,
            status_key: status_key(c.status()),
            overdue: c.overdue,
            deadline: local(state, c.deadline),
            filed: local(state, c.created_at),
            answered: c.answered_at.map(|t| local(state, t)).unwrap_or_default(),
            can_answer: detail.can_answer,
            can_resolve: detail.can_resolve,
            can_replay: detail.can_replay,
            answer_draft: shown.answer_draft,
            flash_key: shown.flash_key,
            resolution_key: level_key(c.resolution_stars.unwrap_or(0)),
            levels: (1..=5).rev().map(|s| (s, level_key(s))).collect(),
            max: MAX_COMPLAINT_CHARS,
            c,
            page,
        },
    )
        .into_response()
}

async fn detail_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Anyone>,
    WebPath(id): WebPath<i64>,
    WebQuery(q): WebQuery<DetailQuery>,
) -> Response {
    let flash_key = match q.done.as_deref() {
        Some("filed") => "complaints.flash.filed",
        Some("answered") => "complaints.flash.answered",
        Some("resolved") => "complaints.flash.resolved",
        Some("reopened") => "complaints.flash.reopened",
        _ => "",
    };
    let shown = Shown {
        flash_key,
        ..Shown::default()
    };
    detail_view(&state, who, id, shown).await
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

async fn answer_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::ComplaintAnswerers>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Response {
    match complaints::answer(&state, &who.actor, id, form.answer.clone()).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=answered")).into_response(),
        Err(e @ ServiceError::Invalid { .. }) => {
            let mut errors = FormErrors::default();
            errors.push("answer", who.page.lang.error_message(&e));
            let shown = Shown {
                errors,
                answer_draft: form.answer,
                ..Shown::default()
            };
            detail_view(&state, who, id, shown).await
        }
        Err(e) => refusal(&who.page, e),
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    #[serde(default)]
    stars: String,
}

async fn resolve_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Complainants>,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Response {
    // A missing or non-numeric choice is the same slip as one out of range.
    let stars = form.stars.trim().parse::<i64>().unwrap_or(0);
    match complaints::resolve(&state, &who.actor, id, stars).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=resolved")).into_response(),
        Err(ServiceError::Invalid { .. }) => {
            let mut errors = FormErrors::default();
            errors.push("stars", who.page.t("complaints.resolve.choose"));
            let shown = Shown {
                errors,
                ..Shown::default()
            };
            detail_view(&state, who, id, shown).await
        }
        Err(e) => refusal(&who.page, e),
    }
}

async fn reopen_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::Complainants>,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match complaints::reopen(&state, &who.actor, id).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=reopened")).into_response(),
        Err(e) => refusal(&who.page, e),
    }
}

// ------------------------------------------------------------ replay

/// The use a complaint names, run again for whoever handles it.
async fn replay_submit(
    State(state): State<AppState>,
    who: SignedIn<roles::ComplaintHandlers>,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match complaints::replay(&state, &who.actor, id).await {
        Ok(r) => super::replay::page(
            who.page,
            r,
            format!("/complaints/{id}"),
            "complaints.replay.back",
        ),
        Err(e) => refusal(&who.page, e),
    }
}
