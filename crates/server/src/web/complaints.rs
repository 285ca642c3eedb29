//! Complaint pages: a citizen files one from an app's or a service's page
//! and follows it; the ISV or department concerned answers it; supervisors
//! see every complaint, the overdue ones first if they ask. The rules are
//! the API's (`api::complaints`); these pages only render and post.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{ComplaintStatus, Role};
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;
use store::entity::{apps, complaints, orders};

use super::market::{level_key, login_redirect};
use super::{
    EmptyForm, FormErrors, Page, WebPath, WebQuery, csrf_form, internal_page, message_page, missing,
};
use crate::api::complaints::{
    ComplaintRequest, MAX_COMPLAINT_CHARS, answer, file, reopen, resolve, scope_of, visible,
};
use crate::error::ApiError;
use crate::extract::ClientAddr;
use crate::extract::RequestId;
use crate::state::AppState;
use service::ratelimit::Action;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(list_page))
        .route("/complaints/new", get(new_page).post(new_submit))
        .route("/complaints/{id}", get(detail_page))
        .route("/complaints/{id}/answer", post(answer_submit))
        .route("/complaints/{id}/resolve", post(resolve_submit))
        .route("/complaints/{id}/reopen", post(reopen_submit))
}

/// An API refusal as a page: 404 and 403 as such, a conflict (the
/// complaint moved meanwhile) or rate limit with its message.
fn refusal(page: &Page, e: ApiError) -> Response {
    match e.status() {
        StatusCode::NOT_FOUND => missing(page),
        StatusCode::FORBIDDEN => message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "complaints.forbidden",
        ),
        StatusCode::TOO_MANY_REQUESTS => message_page(
            page,
            StatusCode::TOO_MANY_REQUESTS,
            "complaints.title",
            "complaints.rate_limited",
        ),
        s if s.is_client_error() => message_page(page, s, "complaints.title", "complaints.moved"),
        _ => internal_page(page, e),
    }
}

fn local(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.config.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn status_key(status: &str) -> &'static str {
    match status {
        "open" => "complaints.status.open",
        "answered" => "complaints.status.answered",
        "resolved" => "complaints.status.resolved",
        _ => "complaints.status.unknown",
    }
}

/// What a complaint is about, as a page shows it.
pub struct Subject {
    pub href: String,
    pub name: String,
}

async fn subject(
    state: &AppState,
    app_id: Option<i64>,
    order_id: Option<i64>,
) -> Result<Option<Subject>, ApiError> {
    let conn = state.db.conn();
    if let Some(id) = app_id {
        return Ok(apps::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|a| Subject {
                href: format!("/market/apps/{}", a.id),
                name: a.name,
            }));
    }
    if let Some(id) = order_id {
        return Ok(orders::Entity::find_by_id(id)
            .one(conn)
            .await?
            .filter(|o| o.status != domain::OrderStatus::Draft.as_str())
            .map(|o| Subject {
                href: format!("/market/services/{}", o.id),
                name: o.title,
            }));
    }
    Ok(None)
}

/// The names of the apps and the titles of the orders a page of complaints
/// is about: two queries for the page, not two per row.
async fn subject_names(
    state: &AppState,
    rows: &[complaints::Model],
) -> Result<(HashMap<i64, String>, HashMap<i64, String>), ApiError> {
    let conn = state.db.conn();
    let app_ids: Vec<i64> = rows.iter().filter_map(|c| c.app_id).collect();
    let order_ids: Vec<i64> = rows.iter().filter_map(|c| c.order_id).collect();
    // The names only: an order row also carries its contract.
    let apps = apps::Entity::find()
        .select_only()
        .columns([apps::Column::Id, apps::Column::Name])
        .filter(apps::Column::Id.is_in(app_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let orders = orders::Entity::find()
        .select_only()
        .columns([orders::Column::Id, orders::Column::Title])
        .filter(orders::Column::Id.is_in(order_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok((apps, orders))
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
    page: Page,
    WebQuery(q): WebQuery<ListQuery>,
) -> Response {
    let Some(current) = page.current.clone() else {
        return login_redirect("/complaints");
    };
    let user = current.user;
    let scope = match scope_of(&state, &user).await {
        Ok(s) => s,
        Err(e) => return refusal(&page, e),
    };
    let overdue_only = q.overdue.as_deref().is_some_and(|v| !v.is_empty());
    let cursor = q.cursor.as_deref().and_then(|c| c.parse::<i64>().ok());
    let now = store::now();
    const PAGE: u64 = 50;
    let rows = match store::complaints::list(
        state.db.conn(),
        &scope,
        None,
        overdue_only.then_some(now),
        cursor,
        PAGE + 1,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return internal_page(&page, e),
    };
    let more = rows.len() as u64 > PAGE;
    let rows: Vec<complaints::Model> = rows.into_iter().take(PAGE as usize).collect();
    let (app_names, order_titles) = match subject_names(&state, &rows).await {
        Ok(n) => n,
        Err(e) => return internal_page(&page, e),
    };
    let mut out = Vec::new();
    for c in rows {
        let name = c
            .app_id
            .and_then(|a| app_names.get(&a))
            .or_else(|| c.order_id.and_then(|o| order_titles.get(&o)))
            .cloned()
            .unwrap_or_default();
        out.push(Row {
            id: c.id,
            subject: name,
            status_key: status_key(&c.status),
            overdue: c.status == ComplaintStatus::Open.as_str() && c.deadline < now,
            deadline: local(&state, c.deadline),
            filed: local(&state, c.created_at),
        });
    }
    ListPage {
        next: if more { out.last().map(|r| r.id) } else { None },
        rows: out,
        overdue_only,
        is_citizen: user.role == Role::Citizen,
        is_supervisor: matches!(user.role, Role::Supervisor | Role::Admin),
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
    subject: Subject,
    app: String,
    order: String,
    body: String,
    max: usize,
}

#[derive(Deserialize)]
struct NewQuery {
    app: Option<String>,
    order: Option<String>,
}

fn parse_id(raw: Option<&str>) -> Option<i64> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn require_citizen(page: &Page, next: &str) -> Result<store::users::User, Response> {
    match &page.current {
        None => Err(login_redirect(next)),
        Some(c) if c.user.role == Role::Citizen => Ok(c.user.clone()),
        Some(_) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "complaints.citizens_only",
        )),
    }
}

async fn new_page(
    State(state): State<AppState>,
    page: Page,
    WebQuery(q): WebQuery<NewQuery>,
) -> Response {
    let back = format!(
        "/complaints/new?{}",
        serde_urlencoded::to_string([
            ("app", q.app.clone().unwrap_or_default()),
            ("order", q.order.clone().unwrap_or_default()),
        ])
        .unwrap_or_default()
    );
    if let Err(r) = require_citizen(&page, &back) {
        return r;
    }
    let (app, order) = (parse_id(q.app.as_deref()), parse_id(q.order.as_deref()));
    let subject = match subject(&state, app, order).await {
        Ok(Some(s)) => s,
        Ok(None) => return missing(&page),
        Err(e) => return internal_page(&page, e),
    };
    NewPage {
        page,
        errors: FormErrors::default(),
        subject,
        app: app.map(|a| a.to_string()).unwrap_or_default(),
        order: if app.is_some() {
            String::new()
        } else {
            order.map(|o| o.to_string()).unwrap_or_default()
        },
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
    body: String,
}

async fn new_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    body: Bytes,
) -> Response {
    let citizen = match require_citizen(&page, "/complaints") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form: NewForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (app, order) = (parse_id(Some(&form.app)), parse_id(Some(&form.order)));
    let subject = match subject(&state, app, order).await {
        Ok(Some(s)) => s,
        Ok(None) => return missing(&page),
        Err(e) => return internal_page(&page, e),
    };
    let text = form.body.trim();
    let mut errors = FormErrors::default();
    if text.is_empty() {
        errors.push("body", page.t("complaints.new.empty"));
    } else if text.chars().count() > MAX_COMPLAINT_CHARS {
        errors.push(
            "body",
            page.t("complaints.new.too_long")
                .replace("{max}", &MAX_COMPLAINT_CHARS.to_string()),
        );
    }
    // A slip on the form is answered before the limit counts the attempt.
    if errors.is_empty()
        && let Err(e) = state
            .rate_limits
            .check(Action::Rate, Some(citizen.id), addr)
    {
        return refusal(&page, e.into());
    }
    if errors.is_empty() {
        let req = ComplaintRequest {
            app_id: app,
            order_id: if app.is_some() { None } else { order },
            body: form.body.clone(),
        };
        match file(&state, &citizen, req, request_id).await {
            Ok(view) => {
                return Redirect::to(&format!("/complaints/{}?done=filed", view.id))
                    .into_response();
            }
            Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                errors.push("body", e.message());
            }
            Err(e) => return refusal(&page, e),
        }
    }
    let mut page = page;
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        NewPage {
            page,
            errors,
            subject,
            app: form.app,
            order: form.order,
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
    c: complaints::Model,
    subject: Option<Subject>,
    status_key: &'static str,
    overdue: bool,
    deadline: String,
    filed: String,
    answered: String,
    can_answer: bool,
    can_resolve: bool,
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

async fn detail_view(
    state: &AppState,
    page: Page,
    id: i64,
    errors: FormErrors,
    answer_draft: String,
    flash_key: &'static str,
) -> Response {
    let Some(current) = page.current.clone() else {
        return login_redirect(&format!("/complaints/{id}"));
    };
    let user = current.user;
    let c = match visible(state, &user, id).await {
        Ok(c) => c,
        Err(e) => return refusal(&page, e),
    };
    let subject = match subject(state, c.app_id, c.order_id).await {
        Ok(s) => s,
        Err(e) => return internal_page(&page, e),
    };
    let now = store::now();
    let open = c.status == ComplaintStatus::Open.as_str();
    let answered = c.status == ComplaintStatus::Answered.as_str();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = page;
    page.has_errors = !errors.is_empty();
    (
        status,
        DetailPage {
            errors,
            subject,
            status_key: status_key(&c.status),
            overdue: open && c.deadline < now,
            deadline: local(state, c.deadline),
            filed: local(state, c.created_at),
            answered: c.answered_at.map(|t| local(state, t)).unwrap_or_default(),
            // `visible` already limited an ISV or department to what concerns it.
            can_answer: open && matches!(user.role, Role::Isv | Role::Department),
            can_resolve: answered && user.role == Role::Citizen && c.citizen_id == user.id,
            answer_draft,
            flash_key,
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
    page: Page,
    WebPath(id): WebPath<i64>,
    WebQuery(q): WebQuery<DetailQuery>,
) -> Response {
    let flash = match q.done.as_deref() {
        Some("filed") => "complaints.flash.filed",
        Some("answered") => "complaints.flash.answered",
        Some("resolved") => "complaints.flash.resolved",
        Some("reopened") => "complaints.flash.reopened",
        _ => "",
    };
    detail_view(
        &state,
        page,
        id,
        FormErrors::default(),
        String::new(),
        flash,
    )
    .await
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

async fn answer_submit(
    State(state): State<AppState>,
    page: Page,
    RequestId(request_id): RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let user = match &page.current {
        None => return login_redirect(&format!("/complaints/{id}")),
        Some(c) if matches!(c.user.role, Role::Isv | Role::Department) => c.user.clone(),
        Some(_) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "complaints.forbidden",
            );
        }
    };
    let form: AnswerForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match answer(&state, &user, id, form.answer.clone(), request_id).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=answered")).into_response(),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut errors = FormErrors::default();
            let message = if form.answer.trim().is_empty() {
                page.t("complaints.answer.empty").to_owned()
            } else {
                page.t("complaints.new.too_long")
                    .replace("{max}", &MAX_COMPLAINT_CHARS.to_string())
            };
            errors.push("answer", message);
            detail_view(&state, page, id, errors, form.answer, "").await
        }
        Err(e) => refusal(&page, e),
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    #[serde(default)]
    stars: String,
}

async fn resolve_submit(
    State(state): State<AppState>,
    page: Page,
    RequestId(request_id): RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let citizen = match require_citizen(&page, &format!("/complaints/{id}")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form: ResolveForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(stars) = form
        .stars
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=5).contains(s))
    else {
        let mut errors = FormErrors::default();
        errors.push("stars", page.t("complaints.resolve.choose"));
        return detail_view(&state, page, id, errors, String::new(), "").await;
    };
    match resolve(&state, &citizen, id, stars, request_id).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=resolved")).into_response(),
        Err(e) => refusal(&page, e),
    }
}

async fn reopen_submit(
    State(state): State<AppState>,
    page: Page,
    RequestId(request_id): RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let citizen = match require_citizen(&page, &format!("/complaints/{id}")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = csrf_form::<EmptyForm>(&state, &page, &body) {
        return r;
    }
    match reopen(&state, &citizen, id, request_id).await {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done=reopened")).into_response(),
        Err(e) => refusal(&page, e),
    }
}
