//! Runs: a period's draft stored (or recomputed in place), approval,
//! listing, and the statement lines.

use domain::{Eligibility, Fen, Period, SettlementStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{AuditedBy, LineKind, LineRow, RunRow, SettleError, correction, line};
use crate::audit;
use crate::entity::settlement_runs;
use crate::{Db, StoreError};

/// A run as computed, before it is stored. The draft's author is the
/// [`AuditedBy`] that stores it.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub period: Period,
    pub params: serde_json::Value,
    pub budget_total: Fen,
    pub paid_total: Fen,
    pub unspent: Fen,
    pub reward_pool: Fen,
}

/// A statement line as computed. Rationals are `(numerator, denominator)`
/// decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub order_id: Option<i64>,
    pub app_id: i64,
    pub isv_org_id: i64,
    pub kind: LineKind,
    pub users_u: i64,
    pub ratings_n: i64,
    pub stars_sum: i64,
    pub r: (String, String),
    pub q: (String, String),
    pub w: (String, String),
    pub sum_w: (String, String),
    pub budget: Fen,
    pub amount: Fen,
    pub rank: Option<i32>,
    pub explanation: String,
    pub eligibility: Eligibility,
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

/// The `eligibility` column's text of a `domain::Eligibility`.
pub fn eligibility_name(e: Eligibility) -> &'static str {
    match e {
        Eligibility::Eligible => "eligible",
        Eligibility::NotPublished => "not_published",
        Eligibility::NoUsage => "no_usage",
        Eligibility::SuspendedForFraud => "suspended_for_fraud",
    }
}

impl NewLine {
    fn into_active(self, run_id: i64) -> line::ActiveModel {
        line::ActiveModel {
            run_id: Set(run_id),
            order_id: Set(self.order_id),
            app_id: Set(self.app_id),
            isv_org_id: Set(self.isv_org_id),
            kind: Set(self.kind.as_str().to_owned()),
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
            budget_fen: Set(self.budget.as_fen()),
            amount_fen: Set(self.amount.as_fen()),
            rank: Set(self.rank),
            explanation: Set(self.explanation),
            eligibility: Set(eligibility_name(self.eligibility).to_owned()),
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
    period: Period,
) -> Result<Option<RunRow>, StoreError> {
    Ok(settlement_runs::Entity::find()
        .filter(settlement_runs::Column::Period.eq(period.to_string()))
        .one(conn)
        .await?)
}

/// Stores a draft for the period: a new run, or the period's existing
/// draft `existing` (as the caller read it before computing) recomputed in
/// place, its lines replaced. The run is not read again: the recompute
/// only writes while the run is still a draft, so a run approved
/// meanwhile is refused (`AlreadySettled`), as is a draft of the same
/// period stored meanwhile by someone else.
pub async fn save_draft(
    db: &Db,
    existing: Option<RunRow>,
    run: NewRun,
    lines: Vec<NewLine>,
    by: &AuditedBy,
) -> Result<RunRow, SettleError> {
    let claimed: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.adjustment.as_ref().map(|a| a.correction_id))
        .collect();
    let period = run.period.to_string();
    let created_by = by.user_id.unwrap_or(0);
    let txn = db.begin_write().await?;
    let now = crate::now();
    let line_count = i32::try_from(lines.len()).unwrap_or(i32::MAX);
    let (saved, action) = match existing {
        Some(old) => {
            if old.typed_status()? != SettlementStatus::Draft {
                return Err(SettleError::AlreadySettled(period));
            }
            let saved = RunRow {
                params: run.params,
                budget_total_fen: run.budget_total.as_fen(),
                paid_total_fen: run.paid_total.as_fen(),
                unspent_fen: run.unspent.as_fen(),
                reward_pool_fen: run.reward_pool.as_fen(),
                line_count,
                created_by,
                created_at: now,
                ..old
            };
            let active = settlement_runs::ActiveModel {
                params: Set(saved.params.clone()),
                budget_total_fen: Set(saved.budget_total_fen),
                paid_total_fen: Set(saved.paid_total_fen),
                unspent_fen: Set(saved.unspent_fen),
                reward_pool_fen: Set(saved.reward_pool_fen),
                line_count: Set(line_count),
                created_by: Set(created_by),
                created_at: Set(now),
                ..Default::default()
            };
            // Conditional on the run still being a draft: approval may
            // have happened since the caller read it.
            let updated = settlement_runs::Entity::update_many()
                .set(active)
                .filter(settlement_runs::Column::Id.eq(saved.id))
                .filter(settlement_runs::Column::Status.eq(SettlementStatus::Draft.as_str()))
                .exec(&txn)
                .await?;
            if updated.rows_affected == 0 {
                return Err(SettleError::AlreadySettled(period));
            }
            line::Entity::delete_many()
                .filter(line::Column::RunId.eq(saved.id))
                .exec(&txn)
                .await?;
            (saved, "settlement.recompute")
        }
        None => {
            let active = settlement_runs::ActiveModel {
                period: Set(period.clone()),
                status: Set(SettlementStatus::Draft.as_str().to_owned()),
                params: Set(run.params),
                budget_total_fen: Set(run.budget_total.as_fen()),
                paid_total_fen: Set(run.paid_total.as_fen()),
                unspent_fen: Set(run.unspent.as_fen()),
                reward_pool_fen: Set(run.reward_pool.as_fen()),
                line_count: Set(line_count),
                created_by: Set(created_by),
                created_at: Set(now),
                ..Default::default()
            };
            let saved = active.insert(&txn).await.map_err(|e| {
                match StoreError::from_insert(e, &[("period", "settlement period")]) {
                    // Another draft for the period won the race.
                    StoreError::Conflict { .. } => SettleError::AlreadySettled(period.clone()),
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
        by.entry(
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
pub(super) async fn transition(
    db: &Db,
    run_id: i64,
    to: SettlementStatus,
    by: &AuditedBy,
    summary: impl FnOnce(&RunRow) -> String,
) -> Result<RunRow, SettleError> {
    transition_guarded(db, run_id, to, by, false, summary).await
}

async fn transition_guarded(
    db: &Db,
    run_id: i64,
    to: SettlementStatus,
    by: &AuditedBy,
    four_eyes: bool,
    summary: impl FnOnce(&RunRow) -> String,
) -> Result<RunRow, SettleError> {
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    run.typed_status()?.move_to(to)?;
    check_four_eyes(&run, by, four_eyes)?;
    let now = crate::now();
    let text = summary(&run);
    let mut active: settlement_runs::ActiveModel = run.into();
    active.status = Set(to.as_str().to_owned());
    match to {
        SettlementStatus::Approved => {
            active.approved_by = Set(by.user_id);
            active.approved_at = Set(Some(now));
        }
        SettlementStatus::Paid => active.paid_at = Set(Some(now)),
        _ => {}
    }
    let saved = active.update(&txn).await?;
    audit::append(
        &txn,
        by.entry(
            &format!("settlement.{}", to.as_str()),
            "settlement_run",
            run_id,
            text,
        ),
    )
    .await?;
    if to == SettlementStatus::Approved {
        // The audit head at approval (the approval's own entry), published
        // with the run: anyone holding it can check the log still extends it.
        if let Some((seq, hash)) = audit::head(&txn).await? {
            crate::entity::settlement_audit_heads::ActiveModel {
                run_id: Set(run_id),
                audit_seq: Set(seq),
                audit_hash: Set(hash),
                recorded_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(saved)
}

/// The audit head recorded when run `run_id` was approved: `(seq, hash)`.
pub async fn audit_head_of<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> Result<Option<(i64, String)>, StoreError> {
    use crate::entity::settlement_audit_heads as h;
    Ok(h::Entity::find()
        .filter(h::Column::RunId.eq(run_id))
        .one(conn)
        .await?
        .map(|m| (m.audit_seq, m.audit_hash)))
}

/// An audit head published with an approved run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedHead {
    pub run_id: i64,
    pub period: String,
    pub seq: i64,
    pub hash: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// Every audit head recorded at an approval, newest first, at most `limit`.
pub async fn published_heads<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<PublishedHead>, StoreError> {
    use crate::entity::settlement_audit_heads as h;
    use sea_orm::{QueryOrder, QuerySelect};
    let heads = h::Entity::find()
        .order_by_desc(h::Column::AuditSeq)
        .limit(limit)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(heads.len());
    for head in heads {
        let period = crate::entity::settlement_runs::Entity::find_by_id(head.run_id)
            .one(conn)
            .await?
            .map(|r| r.period)
            .unwrap_or_default();
        out.push(PublishedHead {
            run_id: head.run_id,
            period,
            seq: head.audit_seq,
            hash: head.audit_hash,
            recorded_at: head.recorded_at,
        });
    }
    Ok(out)
}

/// Approves a draft: from here on the run is immutable. With `four_eyes`,
/// refused (`FourEyes`) when `by` drafted or last recomputed it, checked
/// in the approval's transaction.
pub async fn approve(
    db: &Db,
    run_id: i64,
    by: &AuditedBy,
    four_eyes: bool,
) -> Result<RunRow, SettleError> {
    transition_guarded(db, run_id, SettlementStatus::Approved, by, four_eyes, |r| {
        format!("批准 {} 结算，支付合计 {} 分", r.period, r.paid_total_fen)
    })
    .await
}

/// `FourEyes` when `four_eyes` holds and `by` drafted or last recomputed `run`.
pub(super) fn check_four_eyes(
    run: &RunRow,
    by: &AuditedBy,
    four_eyes: bool,
) -> Result<(), SettleError> {
    if four_eyes && by.user_id == Some(run.created_by) {
        return Err(SettleError::FourEyes(run.id));
    }
    Ok(())
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
        if run.typed_status()? == SettlementStatus::Draft {
            continue;
        }
        out.push((run, vec![l]));
    }
    Ok(out)
}
