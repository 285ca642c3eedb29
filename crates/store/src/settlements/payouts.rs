//! Payouts: one per paid line, `pending -> sent -> confirmed | failed`
//! (`held` without a payout account), each move audited.

use domain::{PayoutStatus, SettlementStatus, TransitionError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{
    AuditedBy, CORRECTION_CARRY_FORWARD, PayoutRow, RunRow, SettleError, correction, find_run,
    line, lines, transition,
};
use crate::audit;
use crate::entity::{organisations, payouts, settlement_runs};
use crate::{Db, StoreError};

/// Why a line's payout is held, shown to finance and the ISV.
pub const HELD_NO_ACCOUNT: &str = "该服务商尚未登记收款账户 / the ISV has no payout account";

/// Starts paying an approved run: `approved -> paying`, and one payout per
/// line with a positive amount (an ISV's lines are paid separately, so
/// each statement line maps to one transfer). Lines of ISVs without a payout
/// account are `held` with the reason; the rest are `pending`.
/// On a run already `paying`, does nothing and returns it (the worker
/// resumes). With `four_eyes`, refused (`FourEyes`) when `by` drafted or
/// last recomputed the run.
pub async fn start_payout(
    db: &Db,
    run_id: i64,
    provider: &str,
    by: &AuditedBy,
    four_eyes: bool,
) -> Result<RunRow, SettleError> {
    let txn = db.begin_write().await?;
    let run = find_run(&txn, run_id).await?.ok_or(SettleError::NotFound)?;
    let status = run.typed_status()?;
    if status == SettlementStatus::Paying {
        txn.commit().await?;
        return Ok(run);
    }
    status.move_to(SettlementStatus::Paying)?;
    super::runs::check_four_eyes(&run, by, four_eyes)?;
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
                created_by: Set(by.user_id),
                created_at: Set(now),
                applied_run_id: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit::append(
                &txn,
                by.entry(
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
        by.entry(
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
    by: &AuditedBy,
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
        by.entry(&format!("payout.{}", to.as_str()), "payout", id, summary),
    )
    .await?;
    txn.commit().await?;
    Ok(find_payout(db.conn(), id).await?)
}

/// `pending -> sent`, committed before the provider is called.
pub async fn mark_sent(db: &Db, id: i64, by: &AuditedBy) -> Result<Option<PayoutRow>, SettleError> {
    move_payout(
        db,
        id,
        PayoutStatus::Pending,
        PayoutStatus::Sent,
        by,
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
    by: &AuditedBy,
) -> Result<Option<PayoutRow>, SettleError> {
    let ext = external_id.to_owned();
    move_payout(
        db,
        id,
        PayoutStatus::Sent,
        PayoutStatus::Confirmed,
        by,
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
    by: &AuditedBy,
) -> Result<Option<PayoutRow>, SettleError> {
    let r = reason.to_owned();
    move_payout(
        db,
        id,
        PayoutStatus::Sent,
        PayoutStatus::Failed,
        by,
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
pub async fn retry_payout(db: &Db, id: i64, by: &AuditedBy) -> Result<PayoutRow, SettleError> {
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
        by,
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
pub async fn finish_if_done(db: &Db, run_id: i64, by: &AuditedBy) -> Result<RunRow, SettleError> {
    let all = payouts_of_run(db.conn(), run_id).await?;
    let done = all.iter().all(|p| p.is(PayoutStatus::Confirmed));
    let run = find_run(db.conn(), run_id)
        .await?
        .ok_or(SettleError::NotFound)?;
    if done && run.typed_status()? == SettlementStatus::Paying {
        let total: i64 = all.iter().map(|p| p.amount_fen).sum();
        return transition(db, run_id, SettlementStatus::Paid, by, move |r| {
            format!("{} 结算已全部付清，合计 {total} 分", r.period)
        })
        .await;
    }
    Ok(run)
}
