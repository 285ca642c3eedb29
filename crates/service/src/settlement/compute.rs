//! A period's settlement computed from the database: the facts
//! aggregated by the store, the formula of `domain::settlement` per order,
//! the rewards ranked, and the adjustments of earlier periods taken in.
//! Nothing is written here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{
    AppUsage, Eligibility, Fen, Period, Ratio, RewardCandidate, SettlementParams, settle_order,
};
use store::settlements::{self as st, LineKind, NewLine, NewRun};

use crate::error::ServiceResult;

pub use store::settlements::eligibility_name;

/// The instant from which `period` can be settled: its end plus the grace
/// time for late usage events.
pub fn settlement_opens_at(
    period: Period,
    params: &SettlementParams,
    grace: Duration,
) -> ServiceResult<DateTime<Utc>> {
    let tz = params.tz()?;
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    Ok(period
        .end(tz)
        .checked_add_signed(grace)
        .unwrap_or(DateTime::<Utc>::MAX_UTC))
}

/// A computed settlement, not yet stored.
#[derive(Debug, Clone)]
pub struct Computed {
    pub run: NewRun,
    pub lines: Vec<NewLine>,
}

/// Per app, what its payment line says about the uses left out of U as
/// invalid: how many and which confirmed fraud signals flagged them, e.g.
/// `；已排除无效使用 120 次（欺诈信号 #3：120 次）`. Apps without any have
/// no entry.
async fn excluded_uses<C: sea_orm::ConnectionTrait>(
    conn: &C,
    period: Period,
) -> ServiceResult<std::collections::HashMap<i64, String>> {
    let mut per_app: std::collections::BTreeMap<i64, (i64, Vec<String>)> = Default::default();
    for (app_id, signal, uses) in store::fraud::invalid_uses(conn, &period.to_string()).await? {
        let entry = per_app.entry(app_id).or_default();
        entry.0 += uses;
        entry.1.push(match signal {
            Some(id) => format!("欺诈信号 #{id}：{uses} 次"),
            None => format!("其他核查：{uses} 次"),
        });
    }
    Ok(per_app
        .into_iter()
        .map(|(app, (total, why))| {
            (
                app,
                format!("；已排除无效使用 {total} 次（{}）", why.join("，")),
            )
        })
        .collect())
}

fn parts(r: &Ratio) -> (String, String) {
    r.to_parts()
}

/// Computes period P's settlement from the database: deterministic, the
/// same data and parameters give the same lines. `params` are validated
/// by the caller ([`super::draft()`] does, once); `draft_id` is the period's
/// draft being recomputed, if any, whose adjustments it takes in again.
pub async fn compute<C: sea_orm::ConnectionTrait>(
    conn: &C,
    period: Period,
    params: &SettlementParams,
    draft_id: Option<i64>,
) -> ServiceResult<Computed> {
    let tz = params.tz()?;
    let facts = st::aggregate(conn, period, period.start(tz), period.end(tz)).await?;
    let excluded = excluded_uses(conn, period).await?;

    let mut lines = Vec::new();
    let mut budget_total: i64 = 0;
    let mut paid_total: i64 = 0;
    let mut unspent_total: i64 = 0;
    let mut candidates = Vec::new();
    let app_info: std::collections::HashMap<i64, &st::AppFacts> =
        facts.apps.iter().map(|a| (a.app_id, a)).collect();
    for order in &facts.orders {
        let usages: Vec<AppUsage> = facts
            .apps
            .iter()
            .filter(|a| a.order_id == order.id)
            .map(|a| AppUsage {
                app_id: a.app_id,
                users: a.users,
                ratings: a.ratings,
                sum_stars: a.sum_stars,
                // Never published: its publication time does not matter,
                // it is not eligible.
                published_at: a.first_published_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
                published_in_period: a.published_in_period,
                suspended_for_fraud: a.suspended_for_fraud,
            })
            .collect();
        let settled = settle_order(Fen::from_fen(order.budget_fen), &usages, params)?;
        budget_total = budget_total.saturating_add(order.budget_fen);
        paid_total = paid_total.saturating_add(settled.paid_fen.as_fen());
        unspent_total = unspent_total.saturating_add(settled.unspent_fen.as_fen());
        for line in &settled.lines {
            if line.eligibility == Eligibility::Eligible {
                candidates.push(RewardCandidate::from(line));
            }
            let isv = app_info
                .get(&line.app_id)
                .map(|a| a.isv_org_id)
                .unwrap_or(0);
            lines.push(NewLine {
                order_id: Some(order.id),
                app_id: line.app_id,
                isv_org_id: isv,
                kind: LineKind::Payment,
                users_u: i64::try_from(line.users).unwrap_or(i64::MAX),
                ratings_n: i64::try_from(line.ratings).unwrap_or(i64::MAX),
                stars_sum: i64::try_from(line.sum_stars).unwrap_or(i64::MAX),
                r: parts(&line.r),
                q: parts(&line.q),
                w: parts(&line.w),
                sum_w: parts(&line.sum_w),
                budget: line.budget_fen,
                amount: line.amount_fen,
                rank: None,
                explanation: format!(
                    "{}{}",
                    line.explanation_zh(),
                    excluded.get(&line.app_id).map(String::as_str).unwrap_or("")
                ),
                eligibility: line.eligibility,
                capped: line.capped,
                adjustment: None,
            });
        }
    }

    // Without a pool there is nothing to pay, and ranks alone are not
    // statement lines.
    let rewards = if params.reward_pool_fen.as_fen() > 0 {
        domain::rewards(
            params.reward_pool_fen,
            &candidates,
            &params.reward_split_percent,
        )?
    } else {
        Vec::new()
    };
    let mut rewarded: i64 = 0;
    for r in &rewards {
        let Some(app) = app_info.get(&r.app_id) else {
            continue;
        };
        rewarded = rewarded.saturating_add(r.amount_fen.as_fen());
        let zero = parts(&Ratio::zero());
        lines.push(NewLine {
            order_id: Some(app.order_id),
            app_id: r.app_id,
            isv_org_id: app.isv_org_id,
            kind: LineKind::Reward,
            users_u: i64::try_from(r.users).unwrap_or(i64::MAX),
            ratings_n: i64::try_from(app.ratings).unwrap_or(i64::MAX),
            stars_sum: i64::try_from(app.sum_stars).unwrap_or(i64::MAX),
            r: parts(&r.r),
            q: zero.clone(),
            w: parts(&r.w),
            sum_w: zero,
            budget: params.reward_pool_fen,
            amount: r.amount_fen,
            rank: i32::try_from(r.rank).ok(),
            explanation: format!(
                "全平台第 {} 名（按 w 排名，w={}，R={}，U={}）：奖池 {} 的 {}% → {}",
                r.rank,
                r.w.to_decimal_string(2),
                r.r.to_decimal_string(2),
                r.users,
                params.reward_pool_fen,
                r.share_percent,
                r.amount_fen
            ),
            eligibility: Eligibility::Eligible,
            capped: false,
            adjustment: None,
        });
    }
    lines.extend(adjustment_lines(conn, period, draft_id).await?);
    let pool = params.reward_pool_fen.as_fen();
    Ok(Computed {
        run: NewRun {
            period,
            params: serde_json::to_value(params).unwrap_or(serde_json::Value::Null),
            budget_total: Fen::from_fen(budget_total),
            paid_total: Fen::from_fen(paid_total.saturating_add(rewarded)),
            unspent: Fen::from_fen(unspent_total.saturating_add(pool.saturating_sub(rewarded))),
            reward_pool: params.reward_pool_fen,
        },
        lines,
    })
}

/// The adjustment lines of a draft of `period`: one per correction of an
/// earlier period's approved run not yet taken in by another run. They are
/// outside the period's budget (they correct an earlier one), so they do
/// not count in the run's paid and unspent totals; payouts net them per
/// ISV (`domain::adjustment`).
async fn adjustment_lines<C: sea_orm::ConnectionTrait>(
    conn: &C,
    period: Period,
    draft_id: Option<i64>,
) -> ServiceResult<Vec<NewLine>> {
    let zero = parts(&Ratio::zero());
    let mut out = Vec::new();
    for (c, original) in st::corrections_for_draft(conn, period, draft_id).await? {
        let what = if c.kind == st::CORRECTION_CARRY_FORWARD {
            "结转"
        } else {
            "更正"
        };
        out.push(NewLine {
            order_id: c.order_id,
            app_id: c.app_id,
            isv_org_id: c.isv_org_id,
            kind: LineKind::Adjustment,
            users_u: 0,
            ratings_n: 0,
            stars_sum: 0,
            r: zero.clone(),
            q: zero.clone(),
            w: zero.clone(),
            sum_w: zero.clone(),
            budget: Fen::from_fen(0),
            amount: Fen::from_fen(c.amount_fen),
            rank: None,
            explanation: format!(
                "调整（{what}）：{original} 结算（第 {} 号）第 {} 行，原因：{} → {}",
                c.run_id,
                c.line_id,
                c.reason,
                Fen::from_fen(c.amount_fen)
            ),
            eligibility: Eligibility::Eligible,
            capped: false,
            adjustment: Some(st::Adjusts {
                correction_id: c.id,
                run_id: c.run_id,
                line_id: c.line_id,
                reason: c.reason,
            }),
        });
    }
    Ok(out)
}
