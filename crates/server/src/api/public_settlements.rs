//! Approved settlements, public without sign-in: apps, amounts, ranks and
//! the parameters they were computed with. Drafts are never shown.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::Serialize;
use store::settlements as st;
use utoipa::ToSchema;

use super::{ApiPath, ApiQuery, PageQuery};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(public_runs, public_run),
    tags((name = "public", description = "Public transparency pages' data"))
)]
pub struct PublicSettlementsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public/settlements", get(public_runs))
        .route("/public/settlements/{id}", get(public_run))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicRun {
    pub id: i64,
    pub period: String,
    pub status: String,
    pub budget_total_fen: i64,
    pub paid_total_fen: i64,
    pub unspent_fen: i64,
    pub reward_pool_fen: i64,
    pub approved_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
}

impl From<st::RunRow> for PublicRun {
    fn from(r: st::RunRow) -> Self {
        PublicRun {
            id: r.id,
            period: r.period,
            status: r.status,
            budget_total_fen: r.budget_total_fen,
            paid_total_fen: r.paid_total_fen,
            unspent_fen: r.unspent_fen,
            reward_pool_fen: r.reward_pool_fen,
            approved_at: r.approved_at,
            params: r.params,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicRunList {
    pub items: Vec<PublicRun>,
    pub next: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicLine {
    pub kind: String,
    pub order_id: Option<i64>,
    pub order_title: Option<String>,
    pub app_id: i64,
    pub app_name: String,
    pub isv_name: String,
    pub users: i64,
    pub ratings: i64,
    /// R to two decimals.
    pub rating: String,
    pub amount_fen: i64,
    pub rank: Option<i32>,
    pub explanation: String,
    /// On an adjustment line: the approved run and line it corrects, and
    /// why (corrections are public like the amounts they change).
    pub adjusts_run_id: Option<i64>,
    pub adjusts_line_id: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicRunDetail {
    pub run: PublicRun,
    pub lines: Vec<PublicLine>,
}

/// Approved settlement runs, newest first (public).
#[utoipa::path(get, path = "/api/v1/public/settlements", tag = "public",
    params(PageQuery),
    responses((status = 200, body = PublicRunList)))]
pub async fn public_runs(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<PublicRunList>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let (rows, next) = st::list_runs(state.db.conn(), true, page.cursor, limit).await?;
    Ok(Json(PublicRunList {
        items: rows.into_iter().map(PublicRun::from).collect(),
        next,
    }))
}

/// Names for the lines: apps, orders and ISVs.
pub(crate) struct Names {
    pub apps: std::collections::HashMap<i64, String>,
    pub orders: std::collections::HashMap<i64, String>,
    pub orgs: std::collections::HashMap<i64, String>,
}

pub(crate) async fn names(state: &AppState, lines: &[st::LineRow]) -> ApiResult<Names> {
    use sea_orm::{ColumnTrait, QueryFilter};
    use store::entity::{apps, orders, organisations};
    let app_ids: Vec<i64> = lines.iter().map(|l| l.app_id).collect();
    let order_ids: Vec<i64> = lines.iter().filter_map(|l| l.order_id).collect();
    let org_ids: Vec<i64> = lines.iter().map(|l| l.isv_org_id).collect();
    let conn = state.db.conn();
    Ok(Names {
        apps: apps::Entity::find()
            .filter(apps::Column::Id.is_in(app_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect(),
        orders: orders::Entity::find()
            .filter(orders::Column::Id.is_in(order_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.title))
            .collect(),
        orgs: organisations::Entity::find()
            .filter(organisations::Column::Id.is_in(org_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
    })
}

/// Loads an approved (or later) run; drafts are 404 to the public.
pub(crate) async fn approved_run(state: &AppState, id: i64) -> ApiResult<st::RunRow> {
    match st::find_run(state.db.conn(), id).await? {
        Some(r) if r.status != domain::SettlementStatus::Draft.as_str() => Ok(r),
        _ => Err(ApiError::not_found("结算 / settlement")),
    }
}

/// One approved run with every app's amount, rank and explanation (public).
#[utoipa::path(get, path = "/api/v1/public/settlements/{id}", tag = "public",
    params(("id" = i64, Path)),
    responses((status = 200, body = PublicRunDetail), (status = 404, body = ErrorBody)))]
pub async fn public_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PublicRunDetail>> {
    let run = approved_run(&state, id).await?;
    let lines = st::lines(state.db.conn(), id).await?;
    let n = names(&state, &lines).await?;
    let out = lines
        .into_iter()
        .map(|l| PublicLine {
            rating: super::settlements::r_display(&l),
            kind: l.kind,
            order_title: l.order_id.and_then(|o| n.orders.get(&o).cloned()),
            order_id: l.order_id,
            app_name: n.apps.get(&l.app_id).cloned().unwrap_or_default(),
            app_id: l.app_id,
            isv_name: n.orgs.get(&l.isv_org_id).cloned().unwrap_or_default(),
            users: l.users_u,
            ratings: l.ratings_n,
            amount_fen: l.amount_fen,
            rank: l.rank,
            explanation: l.explanation,
            adjusts_run_id: l.adjusts_run_id,
            adjusts_line_id: l.adjusts_line_id,
            reason: l.reason,
        })
        .collect();
    Ok(Json(PublicRunDetail {
        run: run.into(),
        lines: out,
    }))
}
