//! What finance, supervisors and ISVs read of runs: the store's rows as
//! the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use store::settlements::{self as st, CorrectionRow, LineRow, PayoutRow, RunRow};
use utoipa::ToSchema;

use crate::error::{ServiceError, ServiceResult, Thing};

/// A run with its totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub period: String,
    /// draft | approved | paying | paid
    pub status: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub budget_total_fen: i64,
    pub paid_total_fen: i64,
    pub unspent_fen: i64,
    pub reward_pool_fen: i64,
    pub line_count: i32,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<RunRow> for RunView {
    fn from(r: RunRow) -> Self {
        RunView {
            id: r.id,
            period: r.period,
            status: r.status,
            params: r.params,
            budget_total_fen: r.budget_total_fen,
            paid_total_fen: r.paid_total_fen,
            unspent_fen: r.unspent_fen,
            reward_pool_fen: r.reward_pool_fen,
            line_count: r.line_count,
            created_by: r.created_by,
            created_at: r.created_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
            paid_at: r.paid_at,
        }
    }
}

/// One statement line with every input of its amount.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub id: i64,
    pub order_id: Option<i64>,
    pub app_id: i64,
    pub isv_org_id: i64,
    /// payment | reward | adjustment
    pub kind: String,
    /// eligible | not_published | no_usage | suspended_for_fraud
    pub eligibility: String,
    /// U
    pub users: i64,
    /// n
    pub ratings: i64,
    pub sum_stars: i64,
    /// Exact rationals as `numerator/denominator`.
    pub r: String,
    pub q: String,
    pub w: String,
    pub sum_w: String,
    /// R to two decimals, for reading.
    pub r_display: String,
    pub budget_fen: i64,
    pub amount_fen: i64,
    pub capped: bool,
    pub rank: Option<i32>,
    pub explanation: String,
    /// On an adjustment line: the correction it carries, the approved run
    /// and line it corrects, and why.
    pub correction_id: Option<i64>,
    pub adjusts_run_id: Option<i64>,
    pub adjusts_line_id: Option<i64>,
    pub reason: Option<String>,
}

fn ratio_text(num: &str, den: &str) -> String {
    if den == "1" {
        num.to_owned()
    } else {
        format!("{num}/{den}")
    }
}

/// A line's R to two decimals (empty if its stored parts do not parse).
pub fn r_display(l: &LineRow) -> String {
    domain::Ratio::from_parts(&l.r_num, &l.r_den)
        .map(|r| r.to_decimal_string(2))
        .unwrap_or_default()
}

impl From<LineRow> for LineView {
    fn from(l: LineRow) -> Self {
        LineView {
            r_display: r_display(&l),
            id: l.id,
            order_id: l.order_id,
            app_id: l.app_id,
            isv_org_id: l.isv_org_id,
            kind: l.kind,
            eligibility: l.eligibility,
            users: l.users_u,
            ratings: l.ratings_n,
            sum_stars: l.stars_sum,
            r: ratio_text(&l.r_num, &l.r_den),
            q: ratio_text(&l.q_num, &l.q_den),
            w: ratio_text(&l.w_num, &l.w_den),
            sum_w: ratio_text(&l.sum_w_num, &l.sum_w_den),
            budget_fen: l.budget_fen,
            amount_fen: l.amount_fen,
            capped: l.capped,
            rank: l.rank,
            explanation: l.explanation,
            correction_id: l.correction_id,
            adjusts_run_id: l.adjusts_run_id,
            adjusts_line_id: l.adjusts_line_id,
            reason: l.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub id: i64,
    pub line_id: i64,
    pub provider: String,
    /// pending | held | sent | confirmed | failed
    pub status: String,
    pub amount_fen: i64,
    pub destination: Option<String>,
    pub idempotency_key: String,
    pub external_id: Option<String>,
    pub attempts: i32,
    /// Why it is held or failed.
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Kept back from the line's amount to offset the ISV's negative
    /// adjustment lines in this run (`amount_fen` is what is sent).
    pub offset_fen: i64,
}

impl From<PayoutRow> for PayoutView {
    fn from(p: PayoutRow) -> Self {
        PayoutView {
            id: p.id,
            line_id: p.line_id,
            provider: p.provider,
            status: p.status,
            amount_fen: p.amount_fen,
            destination: p.destination,
            idempotency_key: p.idempotency_key,
            external_id: p.external_id,
            attempts: p.attempts,
            last_error: p.last_error,
            updated_at: p.updated_at,
            offset_fen: p.offset_fen,
        }
    }
}

/// A correction of an approved run's line, and where it was taken in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionView {
    pub id: i64,
    /// The approved run and its line being corrected.
    pub run_id: i64,
    pub line_id: i64,
    pub app_id: i64,
    pub isv_org_id: i64,
    /// May be negative.
    pub amount_fen: i64,
    pub reason: String,
    /// correction | carry_forward (a negative net held by the payout)
    pub kind: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The later run whose draft carries it as an adjustment line; `null`
    /// until a draft of a later period takes it in.
    pub applied_run_id: Option<i64>,
}

impl From<CorrectionRow> for CorrectionView {
    fn from(c: CorrectionRow) -> Self {
        CorrectionView {
            id: c.id,
            run_id: c.run_id,
            line_id: c.line_id,
            app_id: c.app_id,
            isv_org_id: c.isv_org_id,
            amount_fen: c.amount_fen,
            reason: c.reason,
            kind: c.kind,
            created_by: c.created_by,
            created_at: c.created_at,
            applied_run_id: c.applied_run_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    pub run: RunView,
    pub lines: Vec<LineView>,
    pub payouts: Vec<PayoutView>,
    /// Corrections recorded against this run's lines.
    pub corrections: Vec<CorrectionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
    pub next: Option<i64>,
}

/// A run and everything stored under it, as rows (pages draw from these).
#[derive(Debug, Clone)]
pub struct RunRecords {
    pub run: RunRow,
    pub lines: Vec<LineRow>,
    pub payouts: Vec<PayoutRow>,
    pub corrections: Vec<CorrectionRow>,
}

impl RunRecords {
    /// Reads what is stored under `run` (the run itself is not read again).
    pub(crate) async fn of<C: sea_orm::ConnectionTrait>(
        conn: &C,
        run: RunRow,
    ) -> ServiceResult<RunRecords> {
        Ok(RunRecords {
            lines: st::lines(conn, run.id).await?,
            payouts: st::payouts_of_run(conn, run.id).await?,
            corrections: st::corrections_of_run(conn, run.id).await?,
            run,
        })
    }

    /// Reads run `id` and what is stored under it.
    pub(crate) async fn load<C: sea_orm::ConnectionTrait>(
        conn: &C,
        id: i64,
    ) -> ServiceResult<RunRecords> {
        let run = find(conn, id).await?;
        RunRecords::of(conn, run).await
    }
}

impl From<RunRecords> for RunDetail {
    fn from(r: RunRecords) -> Self {
        RunDetail {
            run: r.run.into(),
            lines: r.lines.into_iter().map(LineView::from).collect(),
            payouts: r.payouts.into_iter().map(PayoutView::from).collect(),
            corrections: r
                .corrections
                .into_iter()
                .map(CorrectionView::from)
                .collect(),
        }
    }
}

/// Run `id`, or not found.
pub(crate) async fn find<C: sea_orm::ConnectionTrait>(conn: &C, id: i64) -> ServiceResult<RunRow> {
    st::find_run(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::SettlementRun))
}
