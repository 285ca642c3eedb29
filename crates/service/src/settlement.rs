//! Quarterly settlement: aggregate in the database, apply the formula of
//! `domain::settlement` per order, rank the rewards, store the statement
//! lines; and the payout worker that pays an approved run through a
//! [`payouts::Payout`] provider without ever paying a line twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{
    AppUsage, Eligibility, Fen, Period, Ratio, RewardCandidate, SettlementParams, settle_order,
};
use payouts::{Payout, PayoutError, PayoutRequest};
use store::settlements::{self as st, Actor, NewLine, NewRun, RunRow, SettleError};

use crate::config::Config;

/// Why a settlement could not be computed or stored.
#[derive(Debug, thiserror::Error)]
pub enum SettlementFailure {
    #[error("period {period} has not ended yet (settlement opens at {opens_at})")]
    PeriodNotEnded {
        period: Period,
        opens_at: DateTime<Utc>,
    },
    #[error(transparent)]
    Formula(#[from] domain::SettlementError),
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The instant from which `period` can be settled: its end plus the grace
/// time for late usage events.
pub fn settlement_opens_at(
    period: Period,
    params: &SettlementParams,
    grace: Duration,
) -> Result<DateTime<Utc>, SettlementFailure> {
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

fn parts(r: &Ratio) -> (String, String) {
    r.to_parts()
}

/// Computes period P's settlement from the database: deterministic, the
/// same data and parameters give the same lines.
pub async fn compute<C: sea_orm::ConnectionTrait>(
    conn: &C,
    period: Period,
    params: &SettlementParams,
    created_by: i64,
) -> Result<Computed, SettlementFailure> {
    params.validate()?;
    let tz = params.tz()?;
    let facts = st::aggregate(conn, &period.to_string(), period.start(tz), period.end(tz)).await?;

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
                kind: "payment",
                users_u: i64::try_from(line.users).unwrap_or(i64::MAX),
                ratings_n: i64::try_from(line.ratings).unwrap_or(i64::MAX),
                stars_sum: i64::try_from(line.sum_stars).unwrap_or(i64::MAX),
                r: parts(&line.r),
                q: parts(&line.q),
                w: parts(&line.w),
                sum_w: parts(&line.sum_w),
                budget_fen: line.budget_fen.as_fen(),
                amount_fen: line.amount_fen.as_fen(),
                rank: None,
                explanation: line.explanation_zh(),
                eligibility: eligibility_name(line.eligibility).to_owned(),
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
            kind: "reward",
            users_u: i64::try_from(r.users).unwrap_or(i64::MAX),
            ratings_n: i64::try_from(app.ratings).unwrap_or(i64::MAX),
            stars_sum: i64::try_from(app.sum_stars).unwrap_or(i64::MAX),
            r: parts(&r.r),
            q: zero.clone(),
            w: parts(&r.w),
            sum_w: zero,
            budget_fen: params.reward_pool_fen.as_fen(),
            amount_fen: r.amount_fen.as_fen(),
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
            eligibility: eligibility_name(Eligibility::Eligible).to_owned(),
            capped: false,
            adjustment: None,
        });
    }
    lines.extend(adjustment_lines(conn, period).await?);
    let pool = params.reward_pool_fen.as_fen();
    Ok(Computed {
        run: NewRun {
            period: period.to_string(),
            params: serde_json::to_value(params).unwrap_or(serde_json::Value::Null),
            budget_total_fen: budget_total,
            paid_total_fen: paid_total.saturating_add(rewarded),
            unspent_fen: unspent_total.saturating_add(pool.saturating_sub(rewarded)),
            reward_pool_fen: pool,
            created_by,
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
) -> Result<Vec<NewLine>, SettlementFailure> {
    let draft_id = st::find_run_by_period(conn, &period.to_string())
        .await?
        .map(|r| r.id);
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
            kind: "adjustment",
            users_u: 0,
            ratings_n: 0,
            stars_sum: 0,
            r: zero.clone(),
            q: zero.clone(),
            w: zero.clone(),
            sum_w: zero.clone(),
            budget_fen: 0,
            amount_fen: c.amount_fen,
            rank: None,
            explanation: format!(
                "调整（{what}）：{original} 结算（第 {} 号）第 {} 行，原因：{} → {}",
                c.run_id,
                c.line_id,
                c.reason,
                Fen::from_fen(c.amount_fen)
            ),
            eligibility: eligibility_name(Eligibility::Eligible).to_owned(),
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

pub fn eligibility_name(e: Eligibility) -> &'static str {
    match e {
        Eligibility::Eligible => "eligible",
        Eligibility::NotPublished => "not_published",
        Eligibility::NoUsage => "no_usage",
        Eligibility::SuspendedForFraud => "suspended_for_fraud",
    }
}

/// Computes and stores the period's draft (recomputing an existing draft
/// in place). Refused before the period has ended plus the grace time,
/// and once the period's run is approved.
pub async fn draft(
    db: &store::Db,
    period: Period,
    params: &SettlementParams,
    grace: Duration,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<RunRow, SettlementFailure> {
    params.validate()?;
    let opens_at = settlement_opens_at(period, params, grace)?;
    if now < opens_at {
        return Err(SettlementFailure::PeriodNotEnded { period, opens_at });
    }
    if let Some(existing) = st::find_run_by_period(db.conn(), &period.to_string()).await?
        && existing.status != domain::SettlementStatus::Draft.as_str()
    {
        return Err(SettleError::AlreadySettled(period.to_string()).into());
    }
    let computed = compute(db.conn(), period, params, actor.id.unwrap_or(0)).await?;
    Ok(st::save_draft(db, computed.run, computed.lines, actor).await?)
}

/// The provider the configuration selects: Stripe when a secret key is
/// set, else the ledger.
pub fn provider(config: &Config) -> Result<Box<dyn Payout>, PayoutError> {
    match &config.stripe_secret_key {
        Some(key) => {
            let mut sc = payouts::StripeConfig::new(key.expose());
            if let Some(url) = &config.stripe_base_url {
                sc.base_url = url.clone();
            }
            Ok(Box::new(payouts::StripeConnect::new(&sc)?))
        }
        None => Ok(Box::new(payouts::Ledger)),
    }
}

/// What one pass of the payout worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayReport {
    pub confirmed: usize,
    pub failed: usize,
    /// Outcome unknown (timeout, provider error): still `sent`, re-sent
    /// with the same key on the next pass.
    pub unknown: usize,
    pub held: usize,
    pub total: usize,
}

/// Pays every `pending` payout of the run and re-sends every `sent` one,
/// each with its stored idempotency key; marks the run paid when all are
/// confirmed. Safe to run again at any time (after a crash, a timeout, a
/// retry): a line is only ever sent under its key, and the provider
/// treats a repeated key as the same payment.
///
/// `progress(done, total)` is called after each payout.
pub async fn pay_run(
    db: &store::Db,
    provider: &dyn Payout,
    run_id: i64,
    actor: &Actor,
    mut progress: impl FnMut(usize, usize),
) -> Result<PayReport, SettlementFailure> {
    let run = st::find_run(db.conn(), run_id)
        .await?
        .ok_or(SettleError::NotFound)?;
    let all = st::payouts_of_run(db.conn(), run_id).await?;
    let mut report = PayReport {
        total: all.len(),
        ..Default::default()
    };
    for (i, p) in all.into_iter().enumerate() {
        let p = match p.status.as_str() {
            "pending" => match st::mark_sent(db, p.id, actor).await? {
                Some(sent) => sent,
                // Another worker took it.
                None => continue,
            },
            "sent" => p,
            "confirmed" => {
                report.confirmed += 1;
                progress(i + 1, report.total);
                continue;
            }
            "failed" => {
                report.failed += 1;
                continue;
            }
            _ => {
                report.held += 1;
                continue;
            }
        };
        let Some(destination) = p.destination.clone() else {
            st::mark_failed(db, p.id, st::HELD_NO_ACCOUNT, actor).await?;
            report.failed += 1;
            continue;
        };
        let req = PayoutRequest {
            idempotency_key: p.idempotency_key.clone(),
            amount_fen: p.amount_fen,
            destination,
            period: run.period.clone(),
            description: format!("govmarket {} statement line {}", run.period, p.line_id),
            run_id,
            line_id: p.line_id,
        };
        match provider.pay(&req).await {
            Ok(receipt) => {
                st::mark_confirmed(db, p.id, &receipt.external_id, actor).await?;
                report.confirmed += 1;
            }
            Err(PayoutError::Unknown(reason)) => {
                tracing::warn!(payout = p.id, %reason, "payout outcome unknown; will re-send");
                st::note_unknown(db, p.id, &reason).await?;
                report.unknown += 1;
            }
            Err(e) => {
                st::mark_failed(db, p.id, &e.to_string(), actor).await?;
                report.failed += 1;
            }
        }
        progress(i + 1, report.total);
    }
    st::finish_if_done(db, run_id, actor).await?;
    Ok(report)
}

/// Spawns the payout worker for one run, in the background.
pub fn spawn_pay_run(state: &crate::Services, run_id: i64, actor: Actor) {
    let db = state.db.clone();
    let config = state.config.clone();
    tokio::spawn(async move {
        let provider = match provider(&config) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "payout provider unavailable");
                return;
            }
        };
        match pay_run(&db, provider.as_ref(), run_id, &actor, |_, _| {}).await {
            Ok(report) => tracing::info!(run_id, ?report, "payout pass finished"),
            Err(e) => tracing::error!(run_id, error = %e, "payout pass failed"),
        }
    });
}

/// On start-up: resumes every run whose payout was interrupted.
pub async fn resume_payouts(state: &crate::Services) -> Result<usize, store::StoreError> {
    let runs = st::paying_runs(state.db.conn()).await?;
    for id in &runs {
        spawn_pay_run(state, *id, Actor::default());
    }
    Ok(runs.len())
}

/// The demo quarter: `serve --demo` settles 2026Q3 on first start.
pub const DEMO_PERIOD: &str = "2026Q3";
/// Citizens of the simulated quarter; each uses a few apps.
const DEMO_CITIZENS: u64 = 3000;

/// A small deterministic generator (SplitMix64), so the demo quarter is the
/// same on every machine without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds 2026Q3 of simulated usage and ratings over the demo apps (those
/// the orders and market seeders published), so finance can preview,
/// approve and pay a real settlement on first start. Deterministic and
/// idempotent: nothing happens if 2026Q3 already has usage or there are no
/// published apps. The demo orders and versions were published "now", so
/// their publication is moved to before the quarter (demo history only).
/// Returns the number of usage events written.
pub async fn seed_quarter(state: &crate::Services) -> Result<u64, crate::ServiceError> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use store::entity::{
        apps, invocations, orders, organisations, rating_history, ratings, users, versions,
    };

    let db = &state.db;
    let conn = db.conn();
    let already = invocations::Entity::find()
        .filter(invocations::Column::Period.eq(DEMO_PERIOD))
        .count(conn)
        .await?;
    if already > 0 {
        return Ok(0);
    }
    let published = versions::Entity::find()
        .filter(versions::Column::Status.eq("published"))
        .all(conn)
        .await?;
    if published.is_empty() {
        return Ok(0);
    }
    let tz = state.config.timezone;
    let period = Period::parse(DEMO_PERIOD).expect("the demo period is well formed");
    let start = period.start(tz);
    let before = start - chrono::Duration::days(7);
    let app_ids: Vec<i64> = published.iter().map(|v| v.app_id).collect();
    let app_rows = apps::Entity::find()
        .filter(apps::Column::Id.is_in(app_ids.clone()))
        .all(conn)
        .await?;
    let order_ids: Vec<i64> = app_rows.iter().map(|a| a.order_id).collect();
    let isv_ids: Vec<i64> = app_rows.iter().map(|a| a.isv_org_id).collect();

    let txn = db.begin_write().await?;
    // Demo history: the services were open and the apps listed before Q3.
    orders::Entity::update_many()
        .col_expr(
            orders::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(Some(before)),
        )
        .filter(orders::Column::Id.is_in(order_ids))
        .filter(orders::Column::PublishedAt.gt(before))
        .exec(&txn)
        .await?;
    versions::Entity::update_many()
        .col_expr(
            versions::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(Some(before)),
        )
        .filter(versions::Column::Status.eq("published"))
        .filter(versions::Column::PublishedAt.gt(before))
        .exec(&txn)
        .await?;
    // Every demo ISV can be paid, except none: the settlement page shows a
    // held line only when an ISV really has no account.
    for isv in &isv_ids {
        organisations::Entity::update_many()
            .col_expr(
                organisations::Column::PayoutAccount,
                sea_orm::sea_query::Expr::value(Some(format!("acct_demo{isv}"))),
            )
            .filter(organisations::Column::Id.eq(*isv))
            .filter(organisations::Column::PayoutAccount.is_null())
            .exec(&txn)
            .await?;
    }
    // Citizens: bulk rows, no password (they cannot sign in; they exist to
    // have used the apps).
    let first_email = "quarter-citizen-0@demo.local";
    if users::Entity::find()
        .filter(users::Column::Email.eq(first_email))
        .count(&txn)
        .await?
        == 0
    {
        let rows: Vec<users::ActiveModel> = (0..DEMO_CITIZENS)
            .map(|i| users::ActiveModel {
                email: sea_orm::Set(format!("quarter-citizen-{i}@demo.local")),
                // Not a valid hash: the account cannot sign in.
                password_hash: sea_orm::Set("!demo-quarter".into()),
                display_name: sea_orm::Set(format!("演示市民{i}")),
                role: sea_orm::Set("citizen".into()),
                org_id: sea_orm::Set(None),
                id_number: sea_orm::Set(None),
                created_at: sea_orm::Set(before),
                disabled: sea_orm::Set(false),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(500) {
            users::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
    }
    let citizens: Vec<i64> = users::Entity::find()
        .filter(users::Column::Email.like("quarter-citizen-%@demo.local"))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    txn.commit().await?;

    // Each app has a popularity and a quality; each citizen uses 1 to 4
    // apps a few times over the quarter and rates some of them.
    let mut rng = SplitMix(0x5eed_2026_0003);
    let versions_by_app: std::collections::HashMap<i64, i64> =
        published.iter().map(|v| (v.app_id, v.id)).collect();
    let mut apps_sorted: Vec<i64> = versions_by_app.keys().copied().collect();
    apps_sorted.sort_unstable();
    let popularity: Vec<u64> = apps_sorted.iter().map(|_| 1 + rng.below(10)).collect();
    // An app's quality follows what the demo citizen already said of it
    // (the market seeder rates the careful apps above the basic ones), so
    // that the quarter's ratings tell the same story; an unrated app draws.
    let mut seeded: std::collections::HashMap<i64, (i64, i64)> = Default::default();
    for r in ratings::Entity::find()
        .filter(ratings::Column::AppId.is_in(apps_sorted.clone()))
        .all(conn)
        .await?
    {
        let e = seeded.entry(r.app_id).or_default();
        *e = (e.0 + i64::from(r.stars), e.1 + 1);
    }
    let quality: Vec<u64> = apps_sorted
        .iter()
        .map(|app_id| {
            let drawn = rng.below(3);
            match seeded.get(app_id) {
                Some(&(sum, n)) if sum >= 4 * n => 2,
                Some(&(sum, n)) if sum >= 3 * n => 1,
                Some(_) => 0,
                None => drawn,
            }
        })
        .collect();
    let total_pop: u64 = popularity.iter().sum();
    let quarter_secs = (period.end(tz) - start).num_seconds().max(1) as u64;
    let mut events = Vec::new();
    let mut rating_rows = Vec::new();
    for &citizen in &citizens {
        let mut used = std::collections::BTreeSet::new();
        for _ in 0..(1 + rng.below(4)) {
            let mut pick = rng.below(total_pop);
            let mut idx = 0;
            while pick >= popularity[idx] {
                pick -= popularity[idx];
                idx += 1;
            }
            used.insert(idx);
        }
        for idx in used {
            let app_id = apps_sorted[idx];
            for _ in 0..(1 + rng.below(3)) {
                let at = start + chrono::Duration::seconds(rng.below(quarter_secs) as i64);
                let success = rng.below(20) != 0;
                events.push(store::usage::NewInvocation {
                    app_id,
                    version_id: versions_by_app[&app_id],
                    citizen_id: citizen,
                    occurred_at: at,
                    period: DEMO_PERIOD.to_owned(),
                    verdict: if success { "accepted" } else { "runtime_error" }.into(),
                    success,
                    instructions: 50_000 + rng.below(50_000) as i64,
                    latency_us: 2_000 + rng.below(5_000) as i64,
                    idempotency_key: None,
                });
            }
            if rng.below(3) == 0 {
                // Quality 0 apps hover around 2 stars, 2 around 4.5.
                let stars = (1 + quality[idx] + rng.below(3)).min(5) as i32;
                let at = start + chrono::Duration::seconds(rng.below(quarter_secs) as i64);
                rating_rows.push((app_id, citizen, stars, at));
            }
        }
    }
    let written = store::usage::load(db, events).await?;
    let txn = db.begin_write().await?;
    for chunk in rating_rows.chunks(500) {
        let rows: Vec<ratings::ActiveModel> = chunk
            .iter()
            .map(|&(app_id, citizen, stars, at)| ratings::ActiveModel {
                app_id: sea_orm::Set(app_id),
                citizen_id: sea_orm::Set(citizen),
                stars: sea_orm::Set(stars),
                comment: sea_orm::Set(None),
                suggestion: sea_orm::Set(None),
                hidden: sea_orm::Set(false),
                created_at: sea_orm::Set(at),
                updated_at: sea_orm::Set(at),
                ..Default::default()
            })
            .collect();
        ratings::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    // History rows mirror the ratings (one state each), so settlement
    // reads the ratings "as they stood at the end of Q3".
    let stored = ratings::Entity::find()
        .filter(ratings::Column::CitizenId.is_in(citizens.clone()))
        .all(&txn)
        .await?;
    for chunk in stored.chunks(500) {
        let rows: Vec<rating_history::ActiveModel> = chunk
            .iter()
            .map(|r| rating_history::ActiveModel {
                rating_id: sea_orm::Set(r.id),
                app_id: sea_orm::Set(r.app_id),
                citizen_id: sea_orm::Set(r.citizen_id),
                stars: sea_orm::Set(r.stars),
                comment: sea_orm::Set(None),
                suggestion: sea_orm::Set(None),
                hidden: sea_orm::Set(false),
                recorded_at: sea_orm::Set(r.created_at),
                ..Default::default()
            })
            .collect();
        rating_history::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(written)
}
