//! Settlement runs, statement lines and payouts.
//!
//! # Aggregation
//!
//! [`aggregate`] computes every input of the formula in the database: U
//! (distinct citizens with a successful, valid invocation in P) with one
//! `COUNT(DISTINCT …) GROUP BY app_id` over a partial index
//! (`idx_invocations_settle`, covering on SQLite as
//! `idx_invocations_settle_cover`), and n and the star sum from the latest
//! state of each rating at the end of P (window function over the
//! covering `idx_rating_history_latest`). Nothing loads individual events into memory.
//!
//! # Runs
//!
//! One run per period (a unique index): a draft is recomputed in place,
//! approval freezes it. Every state change appends an audit event in the
//! same transaction.
//!
//! # Payouts
//!
//! One payout per paid line, `pending -> sent -> confirmed | failed`
//! (`held` when the ISV has no payout account). [`mark_sent`] commits
//! before the provider is called, so a crash leaves the line `sent` with
//! its idempotency key, and the resumed worker sends the same key again.

use chrono::{DateTime, Utc};
use domain::{PayoutStatus, Role, SettlementStatus, TransitionError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use crate::audit::{self, AuditEntry};
use crate::entity::{organisations, payouts, settlement_runs};
use crate::{Db, StoreError};

pub use crate::entity::payouts::Model as PayoutRow;
pub use crate::entity::settlement_runs::Model as RunRow;
pub use line::Model as LineRow;

/// `settlement_lines` with the columns added by migration
/// `m20261123_000020_settlement_aggregation` (eligibility, capped).
pub mod line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_lines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub run_id: i64,
        pub order_id: Option<i64>,
        pub app_id: i64,
        pub isv_org_id: i64,
        /// payment | reward | adjustment
        #[sea_orm(column_type = "Text")]
        pub kind: String,
        pub users_u: i64,
        pub ratings_n: i64,
        pub stars_sum: i64,
        #[sea_orm(column_type = "Text")]
        pub r_num: String,
        #[sea_orm(column_type = "Text")]
        pub r_den: String,
        #[sea_orm(column_type = "Text")]
        pub q_num: String,
        #[sea_orm(column_type = "Text")]
        pub q_den: String,
        #[sea_orm(column_type = "Text")]
        pub w_num: String,
        #[sea_orm(column_type = "Text")]
        pub w_den: String,
        #[sea_orm(column_type = "Text")]
        pub sum_w_num: String,
        #[sea_orm(column_type = "Text")]
        pub sum_w_den: String,
        pub budget_fen: i64,
        pub amount_fen: i64,
        pub rank: Option<i32>,
        #[sea_orm(column_type = "Text")]
        pub explanation: String,
        /// A `domain::Eligibility` name (snake case).
        #[sea_orm(column_type = "Text")]
        pub eligibility: String,
        pub capped: bool,
        /// On an adjustment line: the correction it carries, and the
        /// approved run and line it corrects (migration
        /// `m20261124_000002_settlement_corrections`).
        pub correction_id: Option<i64>,
        pub adjusts_run_id: Option<i64>,
        pub adjusts_line_id: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `settlement_corrections`: a correction of an approved run's line,
/// waiting for (or taken into) a later period's draft as an adjustment
/// line.
pub mod correction {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_corrections")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub run_id: i64,
        pub line_id: i64,
        pub order_id: Option<i64>,
        pub app_id: i64,
        pub isv_org_id: i64,
        pub amount_fen: i64,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        /// correction | carry_forward
        #[sea_orm(column_type = "Text")]
        pub kind: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub applied_run_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use correction::Model as CorrectionRow;

/// Errors of settlement operations: expected outcomes the API maps to
/// 404 / 409, or a store failure.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("settlement run not found")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The period already has an approved run: it cannot be recomputed.
    #[error("period {0} is already settled")]
    AlreadySettled(String),
    /// Only an approved run's lines are corrected (a draft is recomputed).
    #[error("run {0} is a draft: recompute it instead of correcting it")]
    CorrectDraft(i64),
    /// The line does not belong to the run.
    #[error("line not found in this settlement run")]
    LineNotFound,
    #[error(transparent)]
    InvalidCorrection(#[from] domain::adjustment::CorrectionError),
    /// A correction this draft took in was taken by another draft at the
    /// same time; computing again resolves it.
    #[error("corrections changed while the draft was computed; try again")]
    CorrectionsChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for SettleError {
    fn from(e: sea_orm::DbErr) -> Self {
        SettleError::Store(StoreError::Db(e))
    }
}

/// Who is acting, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: Option<i64>,
    pub role: Option<Role>,
    pub request_id: Option<String>,
}

impl Actor {
    fn entry(&self, action: &str, object_type: &str, id: i64, summary: String) -> AuditEntry {
        AuditEntry {
            actor_id: self.id,
            actor_role: self.role,
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id: Some(id),
            summary,
            request_id: self.request_id.clone(),
        }
    }
}

// ---------------------------------------------------------------- facts

/// An order settled in P: open at some point during it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub id: i64,
    pub title: String,
    pub budget_fen: i64,
}

/// One app's inputs for P, as counted by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFacts {
    pub app_id: i64,
    pub order_id: i64,
    pub isv_org_id: i64,
    pub name: String,
    /// U
    pub users: u64,
    /// n, as the ratings stood at the end of P.
    pub ratings: u64,
    pub sum_stars: u64,
    /// First publication of any version; `None` if never published.
    pub first_published_at: Option<DateTime<Utc>>,
    pub published_in_period: bool,
    pub suspended_for_fraud: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub orders: Vec<OrderFacts>,
    /// Apps of those orders that were published in P or used in P,
    /// sorted by app id.
    pub apps: Vec<AppFacts>,
}

/// Binds `$1, $2 …` placeholders for either backend (SQLite spells them
/// `?1, ?2 …`).
fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Distinct citizens per app with a successful, valid invocation in the
/// period: the U of the formula, and the benchmark's baseline shape.
pub async fn distinct_users<C: ConnectionTrait>(
    conn: &C,
    period: &str,
) -> Result<Vec<(i64, i64)>, StoreError> {
    // The predicate matches idx_invocations_settle's exactly, so both
    // planners can use the partial index.
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT app_id, CAST(COUNT(DISTINCT citizen_id) AS BIGINT) AS users \
             FROM invocations WHERE period = $1 AND success AND NOT invalid GROUP BY app_id",
            vec![period.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "app_id")?,
                r.try_get::<i64>("", "users")?,
            ))
        })
        .collect()
}

/// Ratings per app as they stood at `end`: the latest history entry of
/// each rating recorded before `end` (ties on the instant go to the later
/// entry), unless that state was hidden by a supervisor. A rating with no
/// history at all counts with its current state if it was created before
/// `end`.
///
/// "Latest" is `LEAD(id) … IS NULL` over the ascending order of
/// `idx_rating_history_latest`, so both planners read that covering index
/// once, in order, with no sort (a `ROW_NUMBER() … DESC` sorted every
/// history row and cost more than counting the users on SQLite).
pub async fn ratings_at<C: ConnectionTrait>(
    conn: &C,
    end: DateTime<Utc>,
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let sql = "SELECT app_id, CAST(COUNT(*) AS BIGINT) AS n, \
                      CAST(COALESCE(SUM(stars), 0) AS BIGINT) AS sum_stars FROM ( \
                 SELECT app_id, stars, hidden, \
                        LEAD(id) OVER (PARTITION BY rating_id ORDER BY recorded_at, id) AS later \
                   FROM rating_history WHERE recorded_at < $1 \
                 UNION ALL \
                 SELECT r.app_id, r.stars, r.hidden, NULL \
                   FROM ratings r WHERE r.created_at < $1 AND NOT EXISTS \
                     (SELECT 1 FROM rating_history h WHERE h.rating_id = r.id) \
               ) t WHERE later IS NULL AND NOT hidden GROUP BY app_id";
    let rows = conn
        .query_all_raw(stmt(conn.get_database_backend(), sql, vec![end.into()]))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "app_id")?,
                r.try_get::<i64>("", "n")?,
                r.try_get::<i64>("", "sum_stars")?,
            ))
        })
        .collect()
}

/// Whether a suspension reason names fraud (English or Chinese).
pub fn is_fraud_reason(reason: &str) -> bool {
    let r = reason.to_lowercase();
    r.contains("fraud") || r.contains("欺诈") || r.contains("刷量") || r.contains("作弊")
}

/// Every input of period P's settlement. `start`/`end` bound P (end
/// exclusive) in UTC.
pub async fn aggregate<C: ConnectionTrait>(
    conn: &C,
    period: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Facts, StoreError> {
    let backend = conn.get_database_backend();
    let order_rows = conn
        .query_all_raw(stmt(
            backend,
            "SELECT id, title, budget_fen FROM orders \
             WHERE status IN ('open', 'closed') AND published_at IS NOT NULL \
               AND published_at < $2 AND (closed_at IS NULL OR closed_at >= $1) \
             ORDER BY id",
            vec![start.into(), end.into()],
        ))
        .await?;
    let mut orders = Vec::with_capacity(order_rows.len());
    for r in &order_rows {
        orders.push(OrderFacts {
            id: r.try_get("", "id")?,
            title: r.try_get("", "title")?,
            budget_fen: r.try_get("", "budget_fen")?,
        });
    }
    let order_ids: std::collections::BTreeSet<i64> = orders.iter().map(|o| o.id).collect();

    // Per app: first publication, whether a version was live during P, and
    // whether a version was suspended for fraud before the end of P.
    let app_rows = conn
        .query_all_raw(stmt(
            backend,
            "SELECT a.id, a.order_id, a.isv_org_id, a.name, a.status_reason, a.suspended_at, \
                    MIN(v.published_at) AS first_published, \
                    CAST(MAX(CASE WHEN v.published_at IS NOT NULL AND v.published_at < $2 \
                          AND (v.superseded_at IS NULL OR v.superseded_at >= $1) \
                          AND (v.withdrawn_at IS NULL OR v.withdrawn_at >= $1) \
                          AND (v.suspended_at IS NULL OR v.suspended_at >= $1) \
                         THEN 1 ELSE 0 END) AS BIGINT) AS live, \
                    MAX(CASE WHEN v.suspended_at IS NOT NULL AND v.suspended_at < $2 \
                         THEN v.status_reason ELSE NULL END) AS version_suspension \
             FROM apps a LEFT JOIN versions v ON v.app_id = a.id \
             GROUP BY a.id, a.order_id, a.isv_org_id, a.name, a.status_reason, a.suspended_at \
             ORDER BY a.id",
            vec![start.into(), end.into()],
        ))
        .await?;
    let users: std::collections::HashMap<i64, i64> =
        distinct_users(conn, period).await?.into_iter().collect();
    let ratings: std::collections::HashMap<i64, (i64, i64)> = ratings_at(conn, end)
        .await?
        .into_iter()
        .map(|(app, n, s)| (app, (n, s)))
        .collect();

    let mut apps = Vec::new();
    for r in &app_rows {
        let app_id: i64 = r.try_get("", "id")?;
        let order_id: i64 = r.try_get("", "order_id")?;
        if !order_ids.contains(&order_id) {
            continue;
        }
        let u = users.get(&app_id).copied().unwrap_or(0);
        let live = r.try_get::<Option<i64>>("", "live")?.unwrap_or(0) == 1;
        if u == 0 && !live {
            continue;
        }
        let app_suspended_at: Option<DateTime<Utc>> = r.try_get("", "suspended_at")?;
        let app_reason: Option<String> = r.try_get("", "status_reason")?;
        let version_reason: Option<String> = r.try_get("", "version_suspension")?;
        let app_fraud = app_suspended_at.is_some_and(|t| t < end)
            && app_reason.as_deref().is_some_and(is_fraud_reason);
        let version_fraud = version_reason.as_deref().is_some_and(is_fraud_reason);
        let (n, sum) = ratings.get(&app_id).copied().unwrap_or((0, 0));
        apps.push(AppFacts {
            app_id,
            order_id,
            isv_org_id: r.try_get("", "isv_org_id")?,
            name: r.try_get("", "name")?,
            users: u64::try_from(u).unwrap_or(0),
            ratings: u64::try_from(n).unwrap_or(0),
            sum_stars: u64::try_from(sum).unwrap_or(0),
            first_published_at: r.try_get("", "first_published")?,
            published_in_period: live,
            suspended_for_fraud: app_fraud || version_fraud,
        });
    }
    Ok(Facts { orders, apps })
}

// ---------------------------------------------------------------- runs

/// A run as computed, before it is stored.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub period: String,
    pub params: serde_json::Value,
    pub budget_total_fen: i64,
    pub paid_total_fen: i64,
    pub unspent_fen: i64,
    pub reward_pool_fen: i64,
    pub created_by: i64,
}

/// A statement line as computed. Rationals are `(numerator, denominator)`
/// decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub order_id: Option<i64>,
    pub app_id: i64,
    pub isv_org_id: i64,
    pub kind: &'static str,
    pub users_u: i64,
    pub ratings_n: i64,
    pub stars_sum: i64,
    pub r: (String, String),
    pub q: (String, String),
    pub w: (String, String),
    pub sum_w: (String, String),
    pub budget_fen: i64,
    pub amount_fen: i64,
    pub rank: Option<i32>,
    pub explanation: String,
    pub eligibility: String,
    pub capped: bool,
    /// Set on adjustment lines only.
    pub adjustment: Option<Adjusts>,
}

/// What an adjustment line corrects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjusts {
    pub correction_id: i64,
    pub run_id: i64,
    pub line_id: i64,
    pub reason: String,
}

impl NewLine {
    fn into_active(self, run_id: i64) -> line::ActiveModel {
        line::ActiveModel {
            run_id: Set(run_id),
            order_id: Set(self.order_id),
            app_id: Set(self.app_id),
            isv_org_id: Set(self.isv_org_id),
            kind: Set(self.kind.to_owned()),
            users_u: Set(self.users_u),
            ratings_n: Set(self.ratings_n),
            stars_sum: Set(self.stars_sum),
            r_num: Set(self.r.0),
            r_den: Set(self.r.1),
            q_num: Set(self.q.0),
            q_den: Set(self.q.1),
            w_num: Set(self.w.0),
            w_den: Set(self.w.1),
            sum_w_num: Set(self.sum_w.0),
            sum_w_den: Set(self.sum_w.1),
            budget_fen: Set(self.budget_fen),
            amount_fen: Set(self.amount_fen),
            rank: Set(self.rank),
            explanation: Set(self.explanation),
            eligibility: Set(self.eligibility),
            capped: Set(self.capped),
            correction_id: Set(self.adjustment.as_ref().map(|a| a.correction_id)),
            adjusts_run_id: Set(self.adjustment.as_ref().map(|a| a.run_id)),
            adjusts_line_id: Set(self.adjustment.as_ref().map(|a| a.line_id)),
            reason: Set(self.adjustment.map(|a| a.reason)),
            ..Default::default()
        }
    }
}

/// Rows per multi-row insert of lines (23 parameters each).
const LINE_CHUNK: usize = 500;

pub async fn find_run<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<RunRow>, StoreError> {
    Ok(settlement_runs::Entity::find_by_id(id).one(conn).await?)
}

pub async fn find_run_by_period<C: ConnectionTrait>(
    conn: &C,
    period: &str,
) -> Result<Option<RunRow>, StoreError> {
    Ok(settlement_runs::Entity::find()
        .filter(settlement_runs::Column::Period.eq(period))
        .one(conn)
        .await?)
}

fn status_of(run: &RunRow) -> Result<SettlementStatus, StoreError> {
    run.status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| StoreError::Corrupt(e.to_string()))
}

/// Stores a draft for the period: a new run, or the period's existing
/// draft recomputed in place (its lines replaced). Refused once the
/// period's run is approved.
pub async fn save_draft(
    db: &Db,
    run: NewRun,
    lines: Vec<NewLine>,
    actor: &Actor,
) -> Result<RunRow, SettleError> {
    let claimed: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.adjustment.as_ref().map(|a| a.correction_id))
        .collect();
    let txn = db.begin_write().await?;
    let now = crate::now();
    let line_count = i32::try_from(lines.len()).unwrap_or(i32::MAX);
    let existing = find_run_by_period(&txn, &run.period).await?;
    let (saved, action) = match existing {
        Some(old) => {
            if status_of(&old)? != SettlementStatus::Draft {
                return Err(SettleError::AlreadySettled(run.period));
            }
            line::Entity::delete_many()
                .filter(line::Column::RunId.eq(old.id))
                .exec(&txn)
                .await?;
            let mut active: settlement_runs::ActiveModel = old.into();
            active.params = Set(run.params);
            active.budget_total_fen = Set(run.budget_total_fen);
            active.paid_total_fen = Set(run.paid_total_fen);
            active.unspent_fen = Set(run.unspent_fen);
            active.reward_pool_fen = Set(run.reward_pool_fen);
            active.line_count = Set(line_count);
            active.created_by = Set(run.created_by);
            active.created_at = Set(now);
            (active.update(&txn).await?, "settlement.recompute")
        }
        None => {
            let active = settlement_runs::ActiveModel {
                period: Set(run.period.clone()),
                status: Set(SettlementStatus::Draft.as_str().to_owned()),
                params: Set(run.params),
                budget_total_fen: Set(run.budget_total_fen),
                paid_total_fen: Set(run.paid_total_fen),
                unspent_fen: Set(run.unspent_fen),
                reward_pool_fen: Set(run.reward_pool_fen),
                line_count: Set(line_count),
                created_by: Set(run.created_by),
                created_at: Set(now),
                ..Default::default()
            };
            let saved = active.insert(&txn).await.map_err(|e| {
                match StoreError::from_insert(e, &[("period", "settlement period")]) {
                    // Another draft for the period won the race.
                    StoreError::Conflict { .. } => SettleError::AlreadySettled(run.period.clone()),
                    other => SettleError::Store(other),
                }
            })?;
            (saved, "settlement.draft")
        }
    };
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() {
        let chunk: Vec<_> = lines
            .by_ref()
            .take(LINE_CHUNK)
            .map(|l| l.into_active(saved.id))
            .collect();
        line::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    if !claimed.is_empty() {
        // Only corrections still unclaimed or already this draft's: a
        // concurrent draft of another period may have taken one.
        let taken = correction::Entity::update_many()
            .col_expr(
                correction::Column::AppliedRunId,
                sea_orm::sea_query::Expr::value(Some(saved.id)),
            )
            .filter(correction::Column::Id.is_in(claimed.clone()))
            .filter(
                sea_orm::Condition::any()
                    .add(correction::Column::AppliedRunId.is_null())
                    .add(correction::Column::AppliedRunId.eq(saved.id)),
            )
            .exec(&txn)
            .await?;
        if taken.rows_affected != claimed.len() as u64 {
            return Err(SettleError::CorrectionsChanged);
        }
    }
    audit::append(
        &txn,
        actor.entry(
            action,
            "settlement_run",
            saved.id,
            format!(
                "{} 结算草稿：{} 行，支付 {} 分，未分配 {} 分，含 {} 笔以往周期的调整",
                saved.period,
                saved.line_count,
                saved.paid_total_fen,
                saved.unspent_fen,
                claimed.len()
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Moves a run to `to` (checked by the lifecycle) with an audit event.
async fn transition(
    db: &Db,
    run_id: i64,
    to: SettlementStatus,
    actor: &Actor,
    summary: impl FnOnce(&RunRow) -> String,
) -> Result<RunRow, SettleError> {
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    status_of(&run)?.move_to(to)?;
    let now = crate::now();
    let text = summary(&run);
    let mut active: settlement_runs::ActiveModel = run.into();
    active.status = Set(to.as_str().to_owned());
    match to {
        SettlementStatus::Approved => {
            active.approved_by = Set(actor.id);
            active.approved_at = Set(Some(now));
        }
        SettlementStatus::Paid => active.paid_at = Set(Some(now)),
        _ => {}
    }
    let saved = active.update(&txn).await?;
    audit::append(
        &txn,
        actor.entry(
            &format!("settlement.{}", to.as_str()),
            "settlement_run",
            run_id,
            text,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Approves a draft: from here on the run is immutable.
pub async fn approve(db: &Db, run_id: i64, actor: &Actor) -> Result<RunRow, SettleError> {
    transition(db, run_id, SettlementStatus::Approved, actor, |r| {
        format!("批准 {} 结算，支付合计 {} 分", r.period, r.paid_total_fen)
    })
    .await
}

/// Runs, newest first. `approved_only` lists what the public may see.
pub async fn list_runs<C: ConnectionTrait>(
    conn: &C,
    approved_only: bool,
    cursor: Option<i64>,
    limit: u64,
) -> Result<(Vec<RunRow>, Option<i64>), StoreError> {
    let mut q = settlement_runs::Entity::find().order_by_desc(settlement_runs::Column::Id);
    if approved_only {
        q = q.filter(settlement_runs::Column::Status.ne(SettlementStatus::Draft.as_str()));
    }
    if let Some(c) = cursor {
        q = q.filter(settlement_runs::Column::Id.lt(c));
    }
    let mut rows = q.limit(limit + 1).all(conn).await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// A run's lines: payments by order then app, then rewards by rank.
pub async fn lines<C: ConnectionTrait>(conn: &C, run_id: i64) -> Result<Vec<LineRow>, StoreError> {
    Ok(line::Entity::find()
        .filter(line::Column::RunId.eq(run_id))
        .order_by_asc(line::Column::Id)
        .all(conn)
        .await?)
}

/// An ISV's lines in approved runs, newest run first.
pub async fn lines_of_isv<C: ConnectionTrait>(
    conn: &C,
    org_id: i64,
) -> Result<Vec<(RunRow, Vec<LineRow>)>, StoreError> {
    let rows = line::Entity::find()
        .filter(line::Column::IsvOrgId.eq(org_id))
        .order_by_desc(line::Column::RunId)
        .order_by_asc(line::Column::Id)
        .all(conn)
        .await?;
    let mut out: Vec<(RunRow, Vec<LineRow>)> = Vec::new();
    for l in rows {
        if let Some((run, ls)) = out.last_mut()
            && run.id == l.run_id
        {
            ls.push(l);
            continue;
        }
        let Some(run) = find_run(conn, l.run_id).await? else {
            continue;
        };
        if status_of(&run)? == SettlementStatus::Draft {
            continue;
        }
        out.push((run, vec![l]));
    }
    Ok(out)
}

// ---------------------------------------------------------------- payouts

/// Why a line's payout is held, shown to finance and the ISV.
pub const HELD_NO_ACCOUNT: &str = "该服务商尚未登记收款账户 / the ISV has no payout account";

/// Starts paying an approved run: `approved -> paying`, and one payout per
/// line with a positive amount (an ISV's lines are paid separately, so
/// each statement line maps to one transfer). Lines of ISVs without a payout
/// account are `held` with the reason; the rest are `pending`.
/// On a run already `paying`, does nothing and returns it (the worker
/// resumes).
pub async fn start_payout(
    db: &Db,
    run_id: i64,
    provider: &str,
    actor: &Actor,
) -> Result<RunRow, SettleError> {
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    let status = status_of(&run)?;
    if status == SettlementStatus::Paying {
        txn.commit().await?;
        return Ok(run);
    }
    status.move_to(SettlementStatus::Paying)?;
    let now = crate::now();
    let accounts: std::collections::HashMap<i64, Option<String>> = organisations::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.payout_account))
        .collect();
    let mut held = 0;
    let mut pending = 0;
    let mut offset_total: i64 = 0;
    let mut carried_total: i64 = 0;
    let all_lines = lines(&txn, run_id).await?;
    let mut by_isv: std::collections::BTreeMap<i64, Vec<(i64, domain::Fen)>> =
        std::collections::BTreeMap::new();
    for l in &all_lines {
        by_isv
            .entry(l.isv_org_id)
            .or_default()
            .push((l.id, domain::Fen::from_fen(l.amount_fen)));
    }
    for (isv, isv_lines) in by_isv {
        // Nobody is paid a negative amount: see domain::adjustment.
        let netting = domain::adjustment::net_isv_lines(&isv_lines);
        let destination = accounts.get(&isv).cloned().flatten();
        for p in netting.payouts {
            offset_total = offset_total.saturating_add(p.offset.as_fen());
            if p.pay.as_fen() <= 0 {
                continue;
            }
            let status = if destination.is_some() {
                pending += 1;
                PayoutStatus::Pending
            } else {
                held += 1;
                PayoutStatus::Held
            };
            payouts::ActiveModel {
                line_id: Set(p.line_id),
                run_id: Set(run_id),
                provider: Set(provider.to_owned()),
                status: Set(status.as_str().to_owned()),
                amount_fen: Set(p.pay.as_fen()),
                destination: Set(destination.clone()),
                idempotency_key: Set(idempotency_key(run_id, p.line_id, 0)),
                external_id: Set(None),
                attempts: Set(1),
                last_error: Set((status == PayoutStatus::Held).then(|| HELD_NO_ACCOUNT.to_owned())),
                created_at: Set(now),
                updated_at: Set(now),
                offset_fen: Set(p.offset.as_fen()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        if netting.carried_forward.is_negative() {
            // Held against the ISV's future payments: a correction of its
            // latest negative line, taken in by the next later draft.
            let Some(last_negative) = all_lines
                .iter()
                .filter(|l| l.isv_org_id == isv && l.amount_fen < 0)
                .max_by_key(|l| l.id)
            else {
                continue;
            };
            let amount = netting.carried_forward.as_fen();
            carried_total = carried_total.saturating_add(amount);
            let saved = correction::ActiveModel {
                run_id: Set(run_id),
                line_id: Set(last_negative.id),
                order_id: Set(last_negative.order_id),
                app_id: Set(last_negative.app_id),
                isv_org_id: Set(isv),
                amount_fen: Set(amount),
                reason: Set(format!(
                    "{} 该服务商净额为负（{}），结转至以后的周期抵扣 / negative net in {} carried forward",
                    run.period,
                    domain::Fen::from_fen(amount),
                    run.period
                )),
                kind: Set(CORRECTION_CARRY_FORWARD.to_owned()),
                created_by: Set(actor.id),
                created_at: Set(now),
                applied_run_id: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit::append(
                &txn,
                actor.entry(
                    "settlement.carry_forward",
                    "settlement_correction",
                    saved.id,
                    format!(
                        "{} 服务商 {isv} 净额为负，{amount} 分结转至以后的周期",
                        run.period
                    ),
                ),
            )
            .await?;
        }
    }
    let mut active: settlement_runs::ActiveModel = run.clone().into();
    active.status = Set(SettlementStatus::Paying.as_str().to_owned());
    let saved = active.update(&txn).await?;
    audit::append(
        &txn,
        actor.entry(
            "settlement.paying",
            "settlement_run",
            run_id,
            format!(
                "开始支付 {}：{pending} 笔待付，{held} 笔因无收款账户暂缓，\
                 负数调整抵扣 {offset_total} 分，结转 {carried_total} 分（{provider}）",
                run.period
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The idempotency key of a line's `attempt`-th payment (1-based), the
/// same as `payouts::idempotency_key(run, line, attempt - 1)`.
pub fn idempotency_key(run_id: i64, line_id: i64, retry: i32) -> String {
    format!("govmarket-run{run_id}-line{line_id}-try{retry}")
}

pub async fn payouts_of_run<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> Result<Vec<PayoutRow>, StoreError> {
    Ok(payouts::Entity::find()
        .filter(payouts::Column::RunId.eq(run_id))
        .order_by_asc(payouts::Column::Id)
        .all(conn)
        .await?)
}

pub async fn find_payout<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<PayoutRow>, StoreError> {
    Ok(payouts::Entity::find_by_id(id).one(conn).await?)
}

/// Runs whose payouts were started and not finished (to resume after a
/// restart).
pub async fn paying_runs<C: ConnectionTrait>(conn: &C) -> Result<Vec<i64>, StoreError> {
    Ok(settlement_runs::Entity::find()
        .select_only()
        .column(settlement_runs::Column::Id)
        .filter(settlement_runs::Column::Status.eq(SettlementStatus::Paying.as_str()))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// Moves one payout `from -> to` if it is still in `from` (a lost race
/// changes nothing and returns `None`), with an audit event, in one
/// committed transaction.
#[allow(clippy::too_many_arguments)]
async fn move_payout(
    db: &Db,
    id: i64,
    from: PayoutStatus,
    to: PayoutStatus,
    actor: &Actor,
    edit: impl FnOnce(&mut payouts::ActiveModel),
    summary: String,
) -> Result<Option<PayoutRow>, SettleError> {
    from.move_to(to)?;
    let txn = db.begin_write().await?;
    let Some(p) = find_payout(&txn, id).await? else {
        return Err(SettleError::NotFound);
    };
    if p.status != from.as_str() {
        txn.commit().await?;
        return Ok(None);
    }
    let now = crate::now();
    let mut active: payouts::ActiveModel = p.into();
    active.status = Set(to.as_str().to_owned());
    active.updated_at = Set(now);
    match to {
        PayoutStatus::Sent => active.sent_at = Set(Some(now)),
        PayoutStatus::Confirmed => active.confirmed_at = Set(Some(now)),
        PayoutStatus::Failed => active.failed_at = Set(Some(now)),
        _ => {}
    }
    edit(&mut active);
    // Conditional on the status read above, so two workers cannot both
    // move the same payout.
    let result = payouts::Entity::update_many()
        .set(active)
        .filter(payouts::Column::Id.eq(id))
        .filter(payouts::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        txn.commit().await?;
        return Ok(None);
    }
    audit::append(
        &txn,
        actor.entry(&format!("payout.{}", to.as_str()), "payout", id, summary),
    )
    .await?;
    txn.commit().await?;
    Ok(find_payout(db.conn(), id).await?)
}

/// `pending -> sent`, committed before the provider is called.
pub async fn mark_sent(db: &Db, id: i64, actor: &Actor) -> Result<Option<PayoutRow>, SettleError> {
    move_payout(
        db,
        id,
        PayoutStatus::Pending,
        PayoutStatus::Sent,
        actor,
        |_| {},
        format!("付款 {id} 已发出"),
    )
    .await
}

/// `sent -> confirmed` with the provider's id for the payment.
pub async fn mark_confirmed(
    db: &Db,
    id: i64,
    external_id: &str,
    actor: &Actor,
) -> Result<Option<PayoutRow>, SettleError> {
    let ext = external_id.to_owned();
    move_payout(
        db,
        id,
        PayoutStatus::Sent,
        PayoutStatus::Confirmed,
        actor,
        move |a| {
            a.external_id = Set(Some(ext));
            a.last_error = Set(None);
        },
        format!("付款 {id} 已确认（{external_id}）"),
    )
    .await
}

/// `sent -> failed` with the provider's reason.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    reason: &str,
    actor: &Actor,
) -> Result<Option<PayoutRow>, SettleError> {
    let r = reason.to_owned();
    move_payout(
        db,
        id,
        PayoutStatus::Sent,
        PayoutStatus::Failed,
        actor,
        move |a| a.last_error = Set(Some(r)),
        format!("付款 {id} 失败：{reason}"),
    )
    .await
}

/// Notes why a `sent` payout's outcome is not known yet; it stays `sent`
/// and is re-sent with the same key.
pub async fn note_unknown(db: &Db, id: i64, reason: &str) -> Result<(), StoreError> {
    payouts::Entity::update_many()
        .col_expr(
            payouts::Column::LastError,
            sea_orm::sea_query::Expr::value(Some(reason.to_owned())),
        )
        .col_expr(
            payouts::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(payouts::Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Finance retries a payout: a `failed` one goes back to `pending` with a
/// new idempotency key (the refused payment's key would replay the
/// refusal); a `held` one goes to `pending` once its ISV has a payout
/// account. Anything else is an invalid transition.
pub async fn retry_payout(db: &Db, id: i64, actor: &Actor) -> Result<PayoutRow, SettleError> {
    let p = find_payout(db.conn(), id)
        .await?
        .ok_or(SettleError::NotFound)?;
    let from: PayoutStatus = p
        .status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| StoreError::Corrupt(e.to_string()))?;
    let line = line::Entity::find_by_id(p.line_id)
        .one(db.conn())
        .await?
        .ok_or(SettleError::NotFound)?;
    let account = organisations::Entity::find_by_id(line.isv_org_id)
        .one(db.conn())
        .await?
        .and_then(|o| o.payout_account);
    if from == PayoutStatus::Held && account.is_none() {
        // Stays held: nothing changed since.
        return Err(SettleError::Transition(TransitionError {
            kind: "payout",
            from: "held",
            to: "pending",
        }));
    }
    let attempts = if from == PayoutStatus::Failed {
        p.attempts + 1
    } else {
        p.attempts
    };
    let key = idempotency_key(p.run_id, p.line_id, attempts - 1);
    let moved = move_payout(
        db,
        id,
        from,
        PayoutStatus::Pending,
        actor,
        move |a| {
            a.attempts = Set(attempts);
            a.idempotency_key = Set(key);
            a.destination = Set(account);
            a.last_error = Set(None);
        },
        format!("付款 {id} 重新排队（第 {attempts} 次）"),
    )
    .await?;
    moved.ok_or(SettleError::Transition(TransitionError {
        kind: "payout",
        from: from.as_str(),
        to: "pending",
    }))
}

/// Marks the run paid when every payout is confirmed. Returns the run.
pub async fn finish_if_done(db: &Db, run_id: i64, actor: &Actor) -> Result<RunRow, SettleError> {
    let all = payouts_of_run(db.conn(), run_id).await?;
    let done = all
        .iter()
        .all(|p| p.status == PayoutStatus::Confirmed.as_str());
    let run = find_run(db.conn(), run_id)
        .await?
        .ok_or(SettleError::NotFound)?;
    if done && status_of(&run)? == SettlementStatus::Paying {
        let total: i64 = all.iter().map(|p| p.amount_fen).sum();
        return transition(db, run_id, SettlementStatus::Paid, actor, move |r| {
            format!("{} 结算已全部付清，合计 {total} 分", r.period)
        })
        .await;
    }
    Ok(run)
}

// ---------------------------------------------------------------- corrections

/// Finance's correction of a line.
pub const CORRECTION: &str = "correction";
/// A negative net carried forward by a payout.
pub const CORRECTION_CARRY_FORWARD: &str = "carry_forward";

/// Records a correction of `line_id` of the approved run `run_id`: the
/// run itself is not touched; the correction waits for the next draft of
/// a later period, where it becomes an adjustment line. Refused on a
/// draft, for a line of another run, and when the line would go below
/// zero counting earlier corrections. Audited.
pub async fn record_correction(
    db: &Db,
    run_id: i64,
    line_id: i64,
    amount_fen: i64,
    reason: &str,
    actor: &Actor,
) -> Result<CorrectionRow, SettleError> {
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    if status_of(&run)? == SettlementStatus::Draft {
        return Err(SettleError::CorrectDraft(run_id));
    }
    let line = line::Entity::find_by_id(line_id)
        .one(&txn)
        .await?
        .filter(|l| l.run_id == run_id)
        .ok_or(SettleError::LineNotFound)?;
    let earlier: i64 = correction::Entity::find()
        .filter(correction::Column::LineId.eq(line_id))
        .filter(correction::Column::Kind.eq(CORRECTION))
        .all(&txn)
        .await?
        .iter()
        .map(|c| c.amount_fen)
        .fold(0i64, i64::saturating_add);
    let reason = domain::adjustment::validate_correction(
        domain::Fen::from_fen(line.amount_fen),
        domain::Fen::from_fen(earlier),
        domain::Fen::from_fen(amount_fen),
        reason,
    )?;
    let saved = correction::ActiveModel {
        run_id: Set(run_id),
        line_id: Set(line_id),
        order_id: Set(line.order_id),
        app_id: Set(line.app_id),
        isv_org_id: Set(line.isv_org_id),
        amount_fen: Set(amount_fen),
        reason: Set(reason.clone()),
        kind: Set(CORRECTION.to_owned()),
        created_by: Set(actor.id),
        created_at: Set(crate::now()),
        applied_run_id: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        actor.entry(
            "settlement.correction",
            "settlement_correction",
            saved.id,
            format!(
                "更正 {} 结算第 {line_id} 行 {amount_fen} 分：{reason}",
                run.period
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Corrections recorded against the run's lines (including negative nets
/// its payout carried forward), oldest first.
pub async fn corrections_of_run<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> Result<Vec<CorrectionRow>, StoreError> {
    Ok(correction::Entity::find()
        .filter(correction::Column::RunId.eq(run_id))
        .order_by_asc(correction::Column::Id)
        .all(conn)
        .await?)
}

/// The corrections a draft of `period` takes in: those of runs of earlier
/// periods not yet taken by another run (or already taken by this
/// period's draft `draft_run_id`, which is being recomputed), each with
/// its original run's period, oldest first.
pub async fn corrections_for_draft<C: ConnectionTrait>(
    conn: &C,
    period: domain::Period,
    draft_run_id: Option<i64>,
) -> Result<Vec<(CorrectionRow, String)>, StoreError> {
    let mut open = sea_orm::Condition::any().add(correction::Column::AppliedRunId.is_null());
    if let Some(id) = draft_run_id {
        open = open.add(correction::Column::AppliedRunId.eq(id));
    }
    let rows = correction::Entity::find()
        .filter(open)
        .order_by_asc(correction::Column::Id)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut periods: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for c in rows {
        let original = match periods.get(&c.run_id) {
            Some(p) => p.clone(),
            None => {
                let Some(run) = find_run(conn, c.run_id).await? else {
                    continue;
                };
                periods.insert(c.run_id, run.period.clone());
                run.period
            }
        };
        // Only strictly later periods: a period is settled once.
        let later = domain::Period::parse(&original).is_ok_and(|p| p < period);
        if later {
            out.push((c, original));
        }
    }
    Ok(out)
}
