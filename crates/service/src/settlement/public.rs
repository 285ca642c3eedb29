//! Approved settlements, public without sign-in: apps, amounts, ranks and
//! the parameters they were computed with. Drafts are never shown.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::SettlementStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use store::settlements::{self as st, LineRow, RunRow};
use utoipa::ToSchema;

use super::views::r_display;
use crate::error::{ServiceError, ServiceResult, Thing};
use crate::services::Services;

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

impl From<RunRow> for PublicRun {
    fn from(r: RunRow) -> Self {
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

/// Names for the lines: apps, orders and ISVs.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub apps: HashMap<i64, String>,
    pub orders: HashMap<i64, String>,
    pub orgs: HashMap<i64, String>,
}

impl Names {
    pub fn app(&self, id: i64) -> String {
        self.apps.get(&id).cloned().unwrap_or_default()
    }
    pub fn order(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|o| self.orders.get(&o).cloned())
    }
    pub fn org(&self, id: i64) -> String {
        self.orgs.get(&id).cloned().unwrap_or_default()
    }
}

/// The names of the apps, orders and ISVs of `lines`.
pub async fn names<C: ConnectionTrait>(conn: &C, lines: &[LineRow]) -> ServiceResult<Names> {
    use store::entity::{apps, orders, organisations};
    let app_ids: Vec<i64> = lines.iter().map(|l| l.app_id).collect();
    let order_ids: Vec<i64> = lines.iter().filter_map(|l| l.order_id).collect();
    let org_ids: Vec<i64> = lines.iter().map(|l| l.isv_org_id).collect();
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

/// Approved runs, newest first (public); `limit` is clamped to 1..=200.
pub async fn runs(
    services: &Services,
    cursor: Option<i64>,
    limit: u64,
) -> ServiceResult<PublicRunList> {
    let (rows, next) = st::list_runs(services.db.conn(), true, cursor, limit.clamp(1, 200)).await?;
    Ok(PublicRunList {
        items: rows.into_iter().map(PublicRun::from).collect(),
        next,
    })
}

/// Approved runs as rows, newest first (the public list page).
pub async fn run_rows(services: &Services, limit: u64) -> ServiceResult<Vec<RunRow>> {
    Ok(
        st::list_runs(services.db.conn(), true, None, limit.clamp(1, 200))
            .await?
            .0,
    )
}

/// An approved (or later) run with its lines and their names; a draft is
/// not found, to the public.
#[derive(Debug, Clone)]
pub struct PublicSheet {
    pub run: RunRow,
    pub lines: Vec<LineRow>,
    pub names: Names,
}

pub async fn sheet(services: &Services, id: i64) -> ServiceResult<PublicSheet> {
    let conn = services.db.conn();
    let run = match st::find_run(conn, id).await? {
        Some(r) if !r.is(SettlementStatus::Draft) => r,
        _ => return Err(ServiceError::NotFound(Thing::SettlementRun)),
    };
    let lines = st::lines(conn, id).await?;
    let names = names(conn, &lines).await?;
    Ok(PublicSheet { run, lines, names })
}

/// One approved run with every app's amount, rank and explanation (public).
pub async fn run(services: &Services, id: i64) -> ServiceResult<PublicRunDetail> {
    let PublicSheet { run, lines, names } = sheet(services, id).await?;
    let lines = lines
        .into_iter()
        .map(|l| PublicLine {
            rating: r_display(&l),
            kind: l.kind,
            order_title: names.order(l.order_id),
            order_id: l.order_id,
            app_name: names.app(l.app_id),
            app_id: l.app_id,
            isv_name: names.org(l.isv_org_id),
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
    Ok(PublicRunDetail {
        run: run.into(),
        lines,
    })
}
