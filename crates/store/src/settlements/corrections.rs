//! Corrections of approved runs' lines, taken in by a later draft as
//! adjustment lines.

use domain::{Fen, Period, SettlementStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{AuditedBy, CorrectionRow, SettleError, correction, find_run, line};
use crate::audit;
use crate::{Db, StoreError};

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
    amount: Fen,
    reason: &str,
    by: &AuditedBy,
) -> Result<CorrectionRow, SettleError> {
    let amount_fen = amount.as_fen();
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    if run.typed_status()? == SettlementStatus::Draft {
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
        Fen::from_fen(line.amount_fen),
        Fen::from_fen(earlier),
        amount,
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
        created_by: Set(by.user_id),
        created_at: Set(crate::now()),
        applied_run_id: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        by.entry(
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
    period: Period,
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
        let later = Period::parse(&original).is_ok_and(|p| p < period);
        if later {
            out.push((c, original));
        }
    }
    Ok(out)
}
