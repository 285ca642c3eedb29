//! An app's public statistics and reviews: open to everyone, no login.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::market::ListingFilter;
use utoipa::ToSchema;

use super::market::MarketItem;
use super::{ApiPath, ApiQuery, PageQuery};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use service::market::current_period;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(public_app),
    tags((name = "market", description = "Published apps, compared; search; public statistics"))
)]
pub struct PublicAppsApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/public/apps/{id}", get(public_app))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyPublic {
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPublic {
    pub rating_id: i64,
    pub stars: i32,
    pub label: String,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub edited: bool,
    pub reply: Option<ReplyPublic>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicApp {
    /// The listing with its numbers (rating, users this period, test score, rewards).
    pub app: MarketItem,
    /// The period "users this period" counts, e.g. `2026Q3`.
    pub period: String,
    /// Reviews, newest first.
    pub reviews: Vec<ReviewPublic>,
    /// Cursor for the next page of reviews.
    pub next: Option<i64>,
}

pub fn label(stars: i32) -> String {
    u8::try_from(stars)
        .ok()
        .and_then(|s| domain::Stars::new(s).ok())
        .map(|s| s.label_zh().to_owned())
        .unwrap_or_default()
}

/// An app's listing and reviews, or 404 when it is not in the market.
pub async fn load(state: &AppState, app_id: i64, page: &PageQuery) -> ApiResult<PublicApp> {
    let period = current_period(state.config.timezone);
    let listing = store::market::listings(
        state.db.conn(),
        &ListingFilter {
            order_id: None,
            app_ids: Some(vec![app_id]),
        },
        &period,
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| ApiError::not_found("应用 / app"))?;
    let limit = page.limit.unwrap_or(20).clamp(1, 100);
    let (reviews, next) =
        store::ratings::reviews(state.db.conn(), app_id, page.cursor, limit).await?;
    Ok(PublicApp {
        app: MarketItem::from(&listing),
        period,
        reviews: reviews
            .into_iter()
            .map(|r| ReviewPublic {
                rating_id: r.id,
                label: label(r.stars),
                stars: r.stars,
                comment: r.comment,
                suggestion: r.suggestion,
                created_at: r.created_at,
                updated_at: r.updated_at,
                edited: r.edited,
                reply: r
                    .reply
                    .map(|(body, created_at)| ReplyPublic { body, created_at }),
            })
            .collect(),
        next,
    })
}

/// An app's public statistics and reviews (public).
#[utoipa::path(get, path = "/api/v1/public/apps/{id}", tag = "market",
    params(("id" = i64, Path, description = "app id"), PageQuery),
    responses((status = 200, body = PublicApp), (status = 404, body = ErrorBody)))]
pub async fn public_app(
    State(state): State<AppState>,
    ApiPath(app_id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<PublicApp>> {
    Ok(Json(load(&state, app_id, &page).await?))
}
