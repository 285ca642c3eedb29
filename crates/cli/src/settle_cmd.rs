//! `govmarket settle --period 2026Q3 [--approve] [--payout]`: finance's
//! quarterly settlement from the command line, with progress bars.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use domain::{Fen, Period, Role, SettlementParams};
use indicatif::{ProgressBar, ProgressStyle};
use server::AppState;
use service::settlement;
use service::{Actor, ServiceError};
use store::settlements as st;

#[derive(Args)]
pub struct SettleArgs {
    /// The quarter to settle, e.g. 2026Q3.
    #[arg(long)]
    period: String,
    /// Approve the draft (it becomes immutable).
    #[arg(long)]
    approve: bool,
    /// Pay the approved run through the configured provider.
    #[arg(long)]
    payout: bool,
    /// The period's reward pool for the top three apps, in fen.
    #[arg(long, default_value_t = 0)]
    reward_pool_fen: i64,
    /// The finance account acting (default: the first finance account).
    #[arg(long)]
    by: Option<String>,
}

async fn finance_user(state: &AppState, by: Option<&str>) -> anyhow::Result<store::users::User> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let user = match by {
        Some(email) => store::users::find_by_email(state.db.conn(), email).await?,
        None => {
            let first = store::entity::users::Entity::find()
                .filter(store::entity::users::Column::Role.eq(Role::Finance.as_str()))
                .filter(store::entity::users::Column::Disabled.eq(false))
                .order_by_asc(store::entity::users::Column::Id)
                .one(state.db.conn())
                .await?;
            match first {
                Some(u) => store::users::find_by_id(state.db.conn(), u.id).await?,
                None => None,
            }
        }
    };
    match user {
        Some(u) if u.role == Role::Finance && !u.disabled => Ok(u),
        Some(u) => bail!("{} is not an active finance account", u.email),
        None => bail!(
            "no finance account: create one with `govmarket admin create-user --role finance …`"
        ),
    }
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub async fn run(state: &AppState, args: SettleArgs) -> anyhow::Result<ExitCode> {
    let period = match Period::parse(&args.period) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("--period: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.reward_pool_fen < 0 {
        eprintln!("--reward-pool-fen: must not be negative");
        return Ok(ExitCode::from(2));
    }
    let user = finance_user(state, args.by.as_deref()).await?;
    let actor = Actor::user(user.clone(), None);
    let params = SettlementParams {
        reward_pool_fen: Fen::from_fen(args.reward_pool_fen),
        time_zone: state.config.timezone.name().to_owned(),
        ..Default::default()
    };

    let existing = st::find_run_by_period(state.db.conn(), period).await?;
    let run = match existing {
        Some(run) if run.status != "draft" => {
            println!("{period} is already {} (run {})", run.status, run.id);
            run
        }
        // Approved as it was drafted: recomputing it here would make the
        // approver its last drafter, whom four eyes refuses.
        Some(run) if args.approve => {
            println!("approving draft run {} of {period} as drafted", run.id);
            run
        }
        _ => {
            let bar = spinner(&format!("aggregating {period} in the database…"));
            let run = settlement::draft(
                &state.db,
                period,
                &params,
                state.config.settlement_grace,
                chrono::Utc::now(),
                &actor,
            )
            .await;
            bar.finish_and_clear();
            let run = match run {
                Ok(run) => run,
                // Bad input, not a failure of the platform: the usage exit code.
                Err(ServiceError::Unprocessable { .. }) => {
                    let opens_at = settlement::settlement_opens_at(
                        period,
                        &params,
                        state.config.settlement_grace,
                    )
                    .map_err(ServiceError::into_anyhow)?;
                    eprintln!(
                        "--period: period {period} has not ended yet (settlement opens at {opens_at})"
                    );
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into_anyhow()),
            };
            println!(
                "draft run {} for {period}: {} lines, budget {}, paid {}, unspent {}",
                run.id,
                run.line_count,
                Fen::from_fen(run.budget_total_fen),
                Fen::from_fen(run.paid_total_fen),
                Fen::from_fen(run.unspent_fen)
            );
            let adjustments: Vec<i64> = st::lines(state.db.conn(), run.id)
                .await?
                .iter()
                .filter(|l| l.line_kind() == Some(st::LineKind::Adjustment))
                .map(|l| l.amount_fen)
                .collect();
            if !adjustments.is_empty() {
                println!(
                    "{} adjustment lines correcting earlier periods, net {}",
                    adjustments.len(),
                    Fen::from_fen(adjustments.iter().sum())
                );
            }
            run
        }
    };
    let run = if args.approve && run.status == "draft" {
        let run = settlement::approve(state, &actor, run.id)
            .await
            .map_err(|e| e.into_anyhow().context("approve"))?;
        println!("approved run {} by {}", run.id, user.email);
        run
    } else {
        run
    };
    if args.payout {
        if run.status == "draft" {
            eprintln!("run {} is a draft: approve it first (--approve)", run.id);
            return Ok(ExitCode::from(2));
        }
        if run.status == "paid" {
            println!("run {} is already paid: nothing to do", run.id);
            return Ok(ExitCode::SUCCESS);
        }
        let provider = settlement::provider(&state.config)?;
        // Paid here, in the foreground with a progress bar, rather than
        // by the background worker `settlement::start_payout` spawns.
        let by = settlement::audited_by(&actor);
        let run = st::start_payout(
            &state.db,
            run.id,
            provider.name(),
            &by,
            state.config.four_eyes,
        )
        .await
        .map_err(|e| ServiceError::from(e).into_anyhow().context("start payout"))?;
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("paying through {}", provider.name()));
        let report = settlement::pay_run(
            &state.db,
            provider.as_ref(),
            run.id,
            &actor,
            |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
        )
        .await
        .map_err(ServiceError::into_anyhow)?;
        bar.finish_and_clear();
        println!(
            "payouts: {} confirmed, {} failed, {} held (no payout account), {} unknown (re-sent on the next run)",
            report.confirmed, report.failed, report.held, report.unknown
        );
        if report.failed + report.unknown > 0 {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
