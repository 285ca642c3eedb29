//! Payouts: finance starts paying an approved run or retries a payout;
//! the worker pays each pending line through the configured provider,
//! under its idempotency key, and resumes after a restart.

use domain::Role;
use payouts::{Payout, PayoutError, PayoutRequest};
use store::settlements::{self as st, PayoutRow};

use super::audited_by;
use super::views::{RunRecords, find};
use crate::actor::Actor;
use crate::config::Config;
use crate::error::{ServiceError, ServiceResult};
use crate::services::Services;

/// Finance pays an approved run: one payout per paid line, through the
/// configured provider, in the background. Lines of ISVs without a payout
/// account are held with the reason; the rest proceed. On a run being
/// paid it resumes the worker. Four eyes (unless configured off): the
/// finance user who drafted or last recomputed the run is refused.
pub async fn start_payout(
    services: &Services,
    actor: &Actor,
    run_id: i64,
) -> ServiceResult<RunRecords> {
    actor.require(&[Role::Finance])?;
    let provider = provider(&services.config).map_err(ServiceError::internal)?;
    let run = st::start_payout(
        &services.db,
        run_id,
        provider.name(),
        &audited_by(actor),
        services.config.four_eyes,
    )
    .await?;
    spawn_pay_run(services, run.id, actor.clone());
    RunRecords::of(services.db.conn(), run).await
}

/// Finance retries a failed payout with a new idempotency key, or
/// releases a held one once its ISV has a payout account; the worker
/// pays it in the background.
pub async fn retry_payout(
    services: &Services,
    actor: &Actor,
    payout_id: i64,
) -> ServiceResult<PayoutRow> {
    actor.require(&[Role::Finance])?;
    let p = st::retry_payout(&services.db, payout_id, &audited_by(actor)).await?;
    spawn_pay_run(services, p.run_id, actor.clone());
    Ok(p)
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
) -> ServiceResult<PayReport> {
    let by = audited_by(actor);
    let run = find(db.conn(), run_id).await?;
    let all = st::payouts_of_run(db.conn(), run_id).await?;
    let mut report = PayReport {
        total: all.len(),
        ..Default::default()
    };
    for (i, p) in all.into_iter().enumerate() {
        let p = match p.status.as_str() {
            "pending" => match st::mark_sent(db, p.id, &by).await? {
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
            st::mark_failed(db, p.id, st::HELD_NO_ACCOUNT, &by).await?;
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
                st::mark_confirmed(db, p.id, &receipt.external_id, &by).await?;
                report.confirmed += 1;
            }
            Err(PayoutError::Unknown(reason)) => {
                tracing::warn!(payout = p.id, %reason, "payout outcome unknown; will re-send");
                st::note_unknown(db, p.id, &reason).await?;
                report.unknown += 1;
            }
            Err(e) => {
                st::mark_failed(db, p.id, &e.to_string(), &by).await?;
                report.failed += 1;
            }
        }
        progress(i + 1, report.total);
    }
    st::finish_if_done(db, run_id, &by).await?;
    Ok(report)
}

/// Spawns the payout worker for one run, in the background.
pub fn spawn_pay_run(state: &Services, run_id: i64, actor: Actor) {
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
pub async fn resume_payouts(state: &Services) -> Result<usize, store::StoreError> {
    let runs = st::paying_runs(state.db.conn()).await?;
    for id in &runs {
        spawn_pay_run(state, *id, Actor::system());
    }
    Ok(runs.len())
}
