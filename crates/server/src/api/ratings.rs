//! Ratings: a citizen rates an app they used (one rating, editable, history
//! kept); the app's ISV replies once, publicly; anyone reports a rating.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{Role, Stars};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use store::audit::AuditEntry;
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ClientAddr;
use crate::extract::RequestId;
use crate::state::AppState;
use service::ratelimit::Action;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(put_rating, reply, report),
    tags((name = "ratings", description = "Citizens' ratings, ISV replies, reports"))
)]
pub struct RatingsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/apps/{id}/rating", put(put_rating))
        .route("/ratings/{id}/reply", post(reply))
        .route("/ratings/{id}/report", post(report))
}

/// Longest comment, suggestion or reply, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Longest report reason.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 (非常不满意) … 5 (非常满意).
    pub stars: i64,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub id: i64,
    pub app_id: i64,
    pub stars: i32,
    /// The level's label, e.g. 满意.
    pub label: String,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many states the rating has had (1 = never edited).
    pub revisions: usize,
}

/// Trims; empty means absent; over the limit is a field error.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("不能超过 {max} 个字 / at most {max} characters"),
        ));
    }
    Ok(Some(v))
}

/// A 1–5 `stars` field as submitted; anything else is a field error.
pub fn stars_field(stars: i64) -> Result<Stars, ApiError> {
    u8::try_from(stars)
        .ok()
        .and_then(|s| Stars::new(s).ok())
        .ok_or_else(|| ApiError::invalid_field("stars", "请选择 1 到 5 星 / stars must be 1 to 5"))
}

/// Checks and stores a rating; shared by the API and the web form.
pub async fn rate(
    state: &AppState,
    citizen: &store::users::User,
    app_id: i64,
    req: RatingRequest,
    request_id: Option<String>,
) -> ApiResult<(RatingView, store::ratings::Upserted)> {
    let app = store::entity::apps::Entity::find_by_id(app_id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| ApiError::not_found("应用 / app"))?;
    let stars = stars_field(req.stars)?;
    let comment = optional_text("comment", req.comment, MAX_TEXT_CHARS)?;
    let suggestion = optional_text("suggestion", req.suggestion, MAX_TEXT_CHARS)?;
    if !store::usage::has_successful_use(state.db.conn(), citizen.id, app.id).await? {
        return Err(ApiError::forbidden(
            "请先成功使用该应用后再评价 / you can rate an app only after using it successfully",
        ));
    }
    let txn = state.db.begin_write().await?;
    let (model, how) = store::ratings::upsert(
        &txn,
        store::ratings::RatingInput {
            app_id: app.id,
            citizen_id: citizen.id,
            stars: stars.get(),
            comment,
            suggestion,
        },
        store::now(),
    )
    .await?;
    store::audit::append(
        &txn,
        AuditEntry {
            actor_id: Some(citizen.id),
            actor_role: Some(Role::Citizen),
            action: match how {
                store::ratings::Upserted::Created => "rating.create".into(),
                store::ratings::Upserted::Updated => "rating.update".into(),
            },
            object_type: "rating".into(),
            object_id: Some(model.id),
            summary: format!("应用 {} 获评 {} 星", app.id, stars.get()),
            request_id,
        },
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    let revisions = store::ratings::history(state.db.conn(), model.id)
        .await?
        .len();
    service::search_index::index_app(state, app.id).await;
    Ok((
        RatingView {
            id: model.id,
            app_id: model.app_id,
            stars: model.stars,
            label: stars.label_zh().to_owned(),
            comment: model.comment,
            suggestion: model.suggestion,
            created_at: model.created_at,
            updated_at: model.updated_at,
            revisions,
        },
        how,
    ))
}

/// Rate an app you have used (citizen): creates your rating, or updates it
/// (the earlier state is kept in its history).
#[utoipa::path(put, path = "/api/v1/apps/{id}/rating", tag = "ratings",
    params(("id" = i64, Path, description = "app id")),
    request_body = RatingRequest, security(("bearer" = [])),
    responses((status = 201, description = "created", body = RatingView),
              (status = 200, description = "updated", body = RatingView),
              (status = 403, description = "never used successfully", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn put_rating(
    State(state): State<AppState>,
    who: Authed<roles::Citizen>,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    ApiPath(app_id): ApiPath<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<(StatusCode, Json<RatingView>)> {
    state
        .rate_limits
        .check(Action::Rate, Some(who.user().id), addr)?;
    let (view, how) = rate(&state, who.user(), app_id, req, request_id).await?;
    let status = match how {
        store::ratings::Upserted::Created => StatusCode::CREATED,
        store::ratings::Upserted::Updated => StatusCode::OK,
    };
    Ok((status, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub id: i64,
    pub rating_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Reply publicly to a rating of one of your apps (ISV), once.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/reply", tag = "ratings",
    params(("id" = i64, Path, description = "rating id")),
    request_body = ReplyRequest, security(("bearer" = [])),
    responses((status = 201, body = ReplyView),
              (status = 403, description = "not your app", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already replied", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    RequestId(request_id): RequestId,
    ApiPath(rating_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReplyRequest>,
) -> ApiResult<(StatusCode, Json<ReplyView>)> {
    let view = reply_to(&state, who.user(), rating_id, req.body, request_id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Checks and stores an ISV's reply; shared by the API and the web form.
pub async fn reply_to(
    state: &AppState,
    isv: &store::users::User,
    rating_id: i64,
    body: String,
    request_id: Option<String>,
) -> ApiResult<ReplyView> {
    let rating = store::ratings::find(state.db.conn(), rating_id)
        .await?
        .ok_or_else(|| ApiError::not_found("评价 / rating"))?;
    let app = store::entity::apps::Entity::find_by_id(rating.app_id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| ApiError::not_found("应用 / app"))?;
    if isv.role != Role::Isv || isv.org_id != Some(app.isv_org_id) {
        return Err(ApiError::forbidden(
            "只能回复本机构应用的评价 / you can reply only to ratings of your own apps",
        ));
    }
    let body = optional_text("body", Some(body), MAX_TEXT_CHARS)?
        .ok_or_else(|| ApiError::invalid_field("body", "请填写回复内容 / enter a reply"))?;
    let txn = state.db.begin_write().await?;
    let saved = store::ratings::reply(&txn, rating.id, isv.id, body, store::now())
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => ApiError::conflict(
                "already_replied",
                "该评价已回复过 / this rating already has a reply",
            ),
            other => other.into(),
        })?;
    store::audit::append(
        &txn,
        AuditEntry {
            actor_id: Some(isv.id),
            actor_role: Some(Role::Isv),
            action: "rating.reply".into(),
            object_type: "rating".into(),
            object_id: Some(rating.id),
            summary: format!("回复了应用 {} 的评价", app.id),
            request_id,
        },
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ReplyView {
        id: saved.id,
        rating_id: saved.rating_id,
        body: saved.body,
        created_at: saved.created_at,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub rating_id: i64,
    /// `open` until a supervisor decides.
    pub status: String,
}

/// The signed-in user when there is a valid session, else nobody: reports
/// are open to the public.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(
            CurrentUser::from_request_parts(parts, state).await.ok(),
        ))
    }
}

/// Report a rating to the supervisors (anyone, signed in or not).
#[utoipa::path(post, path = "/api/v1/ratings/{id}/report", tag = "ratings",
    params(("id" = i64, Path, description = "rating id")),
    request_body = ReportRequest,
    responses((status = 201, body = ReportView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    ApiPath(rating_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    // Reports share the rating allowance: the reporter's and the address's.
    let reporter = who.as_ref().map(|u| u.user.id);
    state.rate_limits.check(Action::Rate, reporter, addr)?;
    let view = report_rating(&state, who.as_ref(), rating_id, req.reason, request_id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Checks and stores a report (the caller applies the rate limit); shared
/// by the API and the web form.
pub async fn report_rating(
    state: &AppState,
    who: Option<&CurrentUser>,
    rating_id: i64,
    reason: String,
    request_id: Option<String>,
) -> ApiResult<ReportView> {
    let reporter = who.map(|u| u.user.id);
    let rating = store::ratings::find(state.db.conn(), rating_id)
        .await?
        .ok_or_else(|| ApiError::not_found("评价 / rating"))?;
    let reason = optional_text("reason", Some(reason), MAX_REASON_CHARS)?
        .ok_or_else(|| ApiError::invalid_field("reason", "请说明举报原因 / give a reason"))?;
    let txn = state.db.begin_write().await?;
    let saved = store::ratings::report(&txn, rating.id, reporter, reason, store::now()).await?;
    store::audit::append(
        &txn,
        AuditEntry {
            actor_id: reporter,
            actor_role: who.map(|u| u.role()),
            action: "rating.report".into(),
            object_type: "rating".into(),
            object_id: Some(rating.id),
            summary: format!("举报了应用 {} 的一条评价", rating.app_id),
            request_id,
        },
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(ReportView {
        id: saved.id,
        rating_id: saved.rating_id,
        status: saved.status,
    })
}
