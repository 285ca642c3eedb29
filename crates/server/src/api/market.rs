//! The market: listings of published apps, compared side by side, found by
//! search (`service::market::select`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::ApiQuery;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use service::market::{MarketPage, MarketQuery, select};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(market),
    tags((name = "market", description = "Published apps, compared; search; public statistics"))
)]
pub struct MarketApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/market", get(market))
}

/// The market: published apps with their public numbers (public).
#[utoipa::path(get, path = "/api/v1/market", tag = "market",
    params(MarketQuery),
    responses((status = 200, body = MarketPage), (status = 422, body = ErrorBody)))]
pub async fn market(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MarketQuery>,
) -> ApiResult<Json<MarketPage>> {
    Ok(Json(select(&state, &q).await?))
}
