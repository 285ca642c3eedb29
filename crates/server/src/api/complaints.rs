//! Complaints: a citizen complains about an app or an order; the app's ISV
//! or the order's department answers before the deadline (5 working days);
//! the citizen resolves it, rating the handling, or reopens it. Supervisors
//! see every complaint and those past their deadline.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{ComplaintStatus, Role};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use store::audit::AuditEntry;
use store::entity::{apps, complaints, orders};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ClientAddr;
use crate::extract::RequestId;
use crate::state::AppState;
use service::ratelimit::Action;
use service::validate::{optional_text, stars_field};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(file_complaint, list_complaints, get_complaint, answer_complaint, resolve_complaint, reopen_complaint),
    tags((name = "complaints", description = "Citizens' complaints, answered within a deadline"))
)]
pub struct ComplaintsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", post(file_complaint).get(list_complaints))
        .route("/complaints/{id}", get(get_complaint))
        .route("/complaints/{id}/answer", post(answer_complaint))
        .route("/complaints/{id}/resolve", post(resolve_complaint))
        .route("/complaints/{id}/reopen", post(reopen_complaint))
}

/// Longest complaint or answer, in characters.
pub const MAX_COMPLAINT_CHARS: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// The app complained about; its order is implied.
    pub app_id: Option<i64>,
    /// The order (service) complained about, when not one app.
    pub order_id: Option<i64>,
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: i64,
    pub app_id: Option<i64>,
    pub order_id: Option<i64>,
    pub body: String,
    /// open | answered | resolved
    pub status: String,
    /// The answer is due by then (end of the 5th working day).
    pub deadline: DateTime<Utc>,
    /// Open past its deadline.
    pub overdue: bool,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The citizen's 1–5 rating of the handling.
    pub resolution_stars: Option<i32>,
    pub created_at: DateTime<Utc>,
}

impl ComplaintView {
    pub fn of(c: complaints::Model, now: DateTime<Utc>) -> ComplaintView {
        ComplaintView {
            overdue: c.status == ComplaintStatus::Open.as_str() && c.deadline < now,
            id: c.id,
            app_id: c.app_id,
            order_id: c.order_id,
            body: c.body,
            status: c.status,
            deadline: c.deadline,
            answer: c.answer,
            answered_at: c.answered_at,
            resolved_at: c.resolved_at,
            resolution_stars: c.resolution_stars,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintList {
    pub items: Vec<ComplaintView>,
    pub next: Option<i64>,
}

fn deadline_from(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    domain::working_days::deadline_after(
        &now.with_timezone(&state.config.timezone),
        domain::working_days::COMPLAINT_WORKING_DAYS,
    )
    .with_timezone(&Utc)
}

async fn audit(
    txn: &sea_orm::DatabaseTransaction,
    who: &store::users::User,
    action: &str,
    id: i64,
    summary: String,
    request_id: Option<String>,
) -> ApiResult<()> {
    store::audit::append(
        txn,
        AuditEntry {
            actor_id: Some(who.id),
            actor_role: Some(who.role),
            action: action.into(),
            object_type: "complaint".into(),
            object_id: Some(id),
            summary,
            request_id,
        },
    )
    .await?;
    Ok(())
}

/// File a complaint about an app or an order (citizen). Answered within 5
/// working days by the app's ISV or the order's department.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints",
    request_body = ComplaintRequest, security(("bearer" = [])),
    responses((status = 201, body = ComplaintView),
              (status = 404, description = "no such app or order", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn file_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    ApiJson(req): ApiJson<ComplaintRequest>,
) -> ApiResult<(StatusCode, Json<ComplaintView>)> {
    state
        .rate_limits
        .check(Action::Rate, Some(who.user().id), addr)?;
    let view = file(&state, who.user(), req, request_id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Checks and stores a complaint; shared by the API and the web form.
pub async fn file(
    state: &AppState,
    citizen: &store::users::User,
    req: ComplaintRequest,
    request_id: Option<String>,
) -> ApiResult<ComplaintView> {
    let body = optional_text("body", Some(req.body), MAX_COMPLAINT_CHARS)?
        .ok_or_else(|| ApiError::invalid_field("body", "请填写投诉内容 / describe the problem"))?;
    let conn = state.db.conn();
    let (app, order_id) = match (req.app_id, req.order_id) {
        (None, None) => {
            return Err(ApiError::invalid_field(
                "app_id",
                "请选择投诉的应用或服务 / name the app or the service",
            ));
        }
        (Some(app_id), order_id) => {
            let app = apps::Entity::find_by_id(app_id)
                .one(conn)
                .await?
                .ok_or_else(|| ApiError::not_found("应用 / app"))?;
            if order_id.is_some_and(|o| o != app.order_id) {
                return Err(ApiError::invalid_field(
                    "order_id",
                    "该应用不属于此服务 / the app does not serve this order",
                ));
            }
            let order_id = app.order_id;
            (Some(app), order_id)
        }
        (None, Some(order_id)) => (None, order_id),
    };
    let order = orders::Entity::find_by_id(order_id)
        .one(conn)
        .await?
        // A draft is the department's alone: to anyone else it does not exist.
        .filter(|o| o.status != domain::OrderStatus::Draft.as_str())
        .ok_or_else(|| ApiError::not_found("服务 / order"))?;
    let now = store::now();
    let txn = state.db.begin_write().await?;
    let saved = store::complaints::create(
        &txn,
        store::complaints::NewComplaint {
            citizen_id: citizen.id,
            app_id: app.as_ref().map(|a| a.id),
            order_id: Some(order.id),
            body,
            deadline: deadline_from(state, now),
        },
        now,
    )
    .await?;
    let about = match &app {
        Some(a) => format!("应用 {}", a.id),
        None => format!("服务 {}", order.id),
    };
    tell_answerers(state, &txn, &saved, &order, app.as_ref(), Waiting::Filed).await?;
    audit(
        &txn,
        citizen,
        "complaint.file",
        saved.id,
        format!("投诉{about}"),
        request_id,
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ComplaintView::of(saved, now))
}

/// Why a complaint waits for an answer.
#[derive(Clone, Copy)]
enum Waiting {
    Filed,
    /// Its citizen was not satisfied with the answer.
    Reopened,
}

/// Tells those who answer a complaint (the order's department and, for an
/// app, its ISV; by organisation, so whoever of them is on duty sees it)
/// that it waits for them, with its deadline.
async fn tell_answerers(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    saved: &complaints::Model,
    order: &orders::Model,
    app: Option<&apps::Model>,
    why: Waiting,
) -> ApiResult<()> {
    let due = saved
        .deadline
        .with_timezone(&state.config.timezone)
        .format("%Y-%m-%d %H:%M");
    let subject = app.map_or(order.title.as_str(), |a| a.name.as_str());
    let (kind, message) = match why {
        Waiting::Filed => (
            "complaint.filed",
            format!(
                "收到关于《{subject}》的投诉，请在 {due} 前答复。 / A complaint about \"{subject}\" was filed; answer it by {due}."
            ),
        ),
        Waiting::Reopened => (
            "complaint.reopened",
            format!(
                "关于《{subject}》的投诉未获解决，已重新打开，请在 {due} 前再次答复。 / A complaint about \"{subject}\" was reopened as not resolved; answer it again by {due}."
            ),
        ),
    };
    let recipients = std::iter::once(order.department_org_id)
        .chain(app.map(|a| a.isv_org_id))
        .map(store::notifications::Recipient::Org);
    for recipient in recipients {
        store::notifications::notify(
            txn,
            recipient,
            kind,
            message.clone(),
            Some(format!("/complaints/{}", saved.id)),
        )
        .await?;
    }
    Ok(())
}

/// The apps and orders a user answers complaints for: an ISV's apps, a
/// department's orders (and so every app competing in them).
async fn concerning(
    state: &AppState,
    user: &store::users::User,
) -> ApiResult<store::complaints::Scope> {
    let conn = state.db.conn();
    let Some(org) = user.org_id else {
        return Ok(store::complaints::Scope::Concerning {
            apps: Vec::new(),
            orders: Vec::new(),
        });
    };
    Ok(match user.role {
        Role::Isv => store::complaints::Scope::Concerning {
            apps: apps::Entity::find()
                .select_only()
                .column(apps::Column::Id)
                .filter(apps::Column::IsvOrgId.eq(org))
                .into_tuple::<i64>()
                .all(conn)
                .await?,
            orders: Vec::new(),
        },
        Role::Department => store::complaints::Scope::Concerning {
            apps: Vec::new(),
            orders: orders::Entity::find()
                .select_only()
                .column(orders::Column::Id)
                .filter(orders::Column::DepartmentOrgId.eq(org))
                .into_tuple::<i64>()
                .all(conn)
                .await?,
        },
        _ => store::complaints::Scope::Concerning {
            apps: Vec::new(),
            orders: Vec::new(),
        },
    })
}

/// Whose complaints `user` may read.
pub async fn scope_of(
    state: &AppState,
    user: &store::users::User,
) -> ApiResult<store::complaints::Scope> {
    match user.role {
        Role::Citizen => Ok(store::complaints::Scope::Citizen(user.id)),
        Role::Supervisor | Role::Admin => Ok(store::complaints::Scope::All),
        Role::Isv | Role::Department => concerning(state, user).await,
        Role::Finance => Err(ApiError::forbidden(
            "投诉由应用开发商、需求部门和监督人员处理 / complaints are handled by ISVs, departments and supervisors",
        )),
    }
}

pub fn in_scope(scope: &store::complaints::Scope, c: &complaints::Model) -> bool {
    match scope {
        store::complaints::Scope::All => true,
        store::complaints::Scope::Citizen(id) => c.citizen_id == *id,
        store::complaints::Scope::Concerning { apps, orders } => {
            c.app_id.is_some_and(|a| apps.contains(&a))
                || c.order_id.is_some_and(|o| orders.contains(&o))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplaintQuery {
    /// open | answered | resolved
    pub status: Option<String>,
    /// Only those still open past their deadline.
    pub overdue: Option<bool>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<i64>,
    /// At most 200; default 50.
    pub limit: Option<u64>,
}

/// Complaints you may see, newest first: a citizen's own; those about an
/// ISV's apps or a department's orders; all of them for supervisors.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints",
    params(ComplaintQuery), security(("bearer" = [])),
    responses((status = 200, body = ComplaintList), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_complaints(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiQuery(q): ApiQuery<ComplaintQuery>,
) -> ApiResult<Json<ComplaintList>> {
    let scope = scope_of(&state, &who.user).await?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            s.parse::<ComplaintStatus>().map_err(|_| {
                ApiError::bad_request("invalid_query", "status: open | answered | resolved")
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let now = store::now();
    let rows = store::complaints::list(
        state.db.conn(),
        &scope,
        status,
        q.overdue.unwrap_or(false).then_some(now),
        q.cursor,
        limit + 1,
    )
    .await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<ComplaintView> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|c| ComplaintView::of(c, now))
        .collect();
    let next = if more {
        items.last().map(|c| c.id)
    } else {
        None
    };
    Ok(Json(ComplaintList { items, next }))
}

/// Loads a complaint the user may see; another's is a 404, not a 403, so
/// ids reveal nothing.
pub async fn visible(
    state: &AppState,
    user: &store::users::User,
    id: i64,
) -> ApiResult<complaints::Model> {
    let scope = scope_of(state, user).await?;
    store::complaints::find(state.db.conn(), id)
        .await?
        .filter(|c| in_scope(&scope, c))
        .ok_or_else(|| ApiError::not_found("投诉 / complaint"))
}

/// One complaint you may see.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")), security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody)))]
pub async fn get_complaint(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintView>> {
    let c = visible(&state, &who.user, id).await?;
    Ok(Json(ComplaintView::of(c, store::now())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
}

fn moved(e: store::StoreError, message: &str) -> ApiError {
    match e {
        store::StoreError::Conflict { .. } => {
            ApiError::conflict("invalid_transition", message.to_owned())
        }
        other => other.into(),
    }
}

/// Answer a complaint about your app (ISV) or your order (department).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/answer", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")),
    request_body = AnswerRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintView),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not open", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn answer_complaint(
    State(state): State<AppState>,
    who: Authed<roles::ComplaintAnswerers>,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AnswerRequest>,
) -> ApiResult<Json<ComplaintView>> {
    Ok(Json(
        answer(&state, who.user(), id, req.answer, request_id).await?,
    ))
}

/// Checks and stores an answer (the caller admits only ISVs and
/// departments); shared by the API and the web form.
pub async fn answer(
    state: &AppState,
    user: &store::users::User,
    id: i64,
    text: String,
    request_id: Option<String>,
) -> ApiResult<ComplaintView> {
    let c = visible(state, user, id).await?;
    let text = optional_text("answer", Some(text), MAX_COMPLAINT_CHARS)?
        .ok_or_else(|| ApiError::invalid_field("answer", "请填写答复 / enter an answer"))?;
    if c.status != ComplaintStatus::Open.as_str() {
        return Err(ApiError::conflict(
            "invalid_transition",
            "该投诉已答复或已办结 / this complaint is already answered or resolved",
        ));
    }
    let now = store::now();
    let txn = state.db.begin_write().await?;
    // A reopened complaint's next answer replaces this one: the audit log
    // keeps each (the start of it, enough to tell them apart).
    let gist: String = text.chars().take(200).collect();
    let saved = store::complaints::answer(&txn, c.id, user.id, text, now)
        .await
        .map_err(|e| moved(e, "该投诉已被答复 / this complaint was answered meanwhile"))?;
    store::notifications::notify(
        &txn,
        store::notifications::Recipient::User(saved.citizen_id),
        "complaint.answered",
        "您的投诉已收到答复，请确认是否解决。 / Your complaint was answered; tell us whether it is resolved."
            .into(),
        Some(format!("/complaints/{}", saved.id)),
    )
    .await?;
    audit(
        &txn,
        user,
        "complaint.answer",
        c.id,
        format!("答复投诉 {}：{gist}", c.id),
        request_id,
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ComplaintView::of(saved, now))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// How well it was handled: 1 (非常不满意) … 5 (非常满意).
    pub stars: i64,
}

/// Accept the answer to your complaint and rate its handling (citizen).
#[utoipa::path(post, path = "/api/v1/complaints/{id}/resolve", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")),
    request_body = ResolveRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody),
              (status = 409, description = "not answered", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn resolve_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<Json<ComplaintView>> {
    Ok(Json(
        resolve(&state, who.user(), id, req.stars, request_id).await?,
    ))
}

/// Checks and stores the citizen's resolution; shared by the API and the
/// web form.
pub async fn resolve(
    state: &AppState,
    user: &store::users::User,
    id: i64,
    stars: i64,
    request_id: Option<String>,
) -> ApiResult<ComplaintView> {
    let c = visible(state, user, id).await?;
    let stars = stars_field(stars)?;
    let now = store::now();
    let txn = state.db.begin_write().await?;
    let saved = store::complaints::resolve(&txn, c.id, stars.get(), now)
        .await
        .map_err(|e| {
            moved(
                e,
                "只能办结已答复的投诉 / only an answered complaint can be resolved",
            )
        })?;
    audit(
        &txn,
        user,
        "complaint.resolve",
        c.id,
        format!("投诉 {} 办结，评 {} 星", c.id, stars.get()),
        request_id,
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ComplaintView::of(saved, now))
}

/// Not satisfied with the answer: reopen your complaint (citizen), with a
/// new deadline.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/reopen", tag = "complaints",
    params(("id" = i64, Path, description = "complaint id")), security(("bearer" = [])),
    responses((status = 200, body = ComplaintView), (status = 404, body = ErrorBody),
              (status = 409, description = "not answered", body = ErrorBody)))]
pub async fn reopen_complaint(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintView>> {
    Ok(Json(reopen(&state, who.user(), id, request_id).await?))
}

/// Reopens the citizen's answered complaint; shared by the API and the web
/// form.
pub async fn reopen(
    state: &AppState,
    user: &store::users::User,
    id: i64,
    request_id: Option<String>,
) -> ApiResult<ComplaintView> {
    let c = visible(state, user, id).await?;
    let now = store::now();
    let txn = state.db.begin_write().await?;
    let saved = store::complaints::reopen(&txn, c.id, deadline_from(state, now))
        .await
        .map_err(|e| {
            moved(
                e,
                "只能重新打开已答复的投诉 / only an answered complaint can be reopened",
            )
        })?;
    // Those who answered hear that it is back, with the new deadline.
    let order = match saved.order_id {
        Some(o) => orders::Entity::find_by_id(o).one(&txn).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("complaint {} has no order", saved.id)))?;
    let app = match saved.app_id {
        Some(a) => apps::Entity::find_by_id(a).one(&txn).await?,
        None => None,
    };
    tell_answerers(state, &txn, &saved, &order, app.as_ref(), Waiting::Reopened).await?;
    audit(
        &txn,
        user,
        "complaint.reopen",
        c.id,
        format!("投诉 {} 重新打开", c.id),
        request_id,
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ComplaintView::of(saved, now))
}
