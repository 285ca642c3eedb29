//! Ratings: a citizen rates an app they used (one rating, editable, history
//! kept); the app's ISV replies once, publicly; anyone reports a rating.
//! The rules are `service::ratings`'; these handlers add the rate limits.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use service::Actor;
use service::ratelimit::Action;
use service::ratings::{self, RatingRequest, RatingView, ReplyView, ReportView};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ClientAddr;
use crate::extract::RequestId;
use crate::state::AppState;

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
    request_id: RequestId,
    ApiPath(app_id): ApiPath<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<(StatusCode, Json<RatingView>)> {
    state
        .rate_limits
        .check(Action::Rate, Some(who.user().id), addr)?;
    let (view, how) = ratings::rate(&state, &who.current.actor(&request_id), app_id, req).await?;
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
    request_id: RequestId,
    ApiPath(rating_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReplyRequest>,
) -> ApiResult<(StatusCode, Json<ReplyView>)> {
    let view = ratings::reply(&state, &who.current.actor(&request_id), rating_id, req.body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub reason: String,
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
    request_id: RequestId,
    ApiPath(rating_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    // Reports share the rating allowance: the reporter's and the address's.
    let reporter = who.as_ref().map(|u| u.user.id);
    state.rate_limits.check(Action::Rate, reporter, addr)?;
    let actor = match &who {
        Some(u) => u.actor(&request_id),
        None => Actor::anonymous(request_id.as_option()),
    };
    let view = ratings::report(&state, &actor, rating_id, req.reason).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
