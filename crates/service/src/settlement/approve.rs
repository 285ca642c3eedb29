//! Finance's decisions on a run: approval (the run becomes immutable),
//! and corrections of an approved run's lines (taken in by a later
//! period's draft as adjustment lines).

use domain::{Fen, Role};
use store::settlements::{self as st, RunRow};

use super::audited_by;
use super::views::CorrectionView;
use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

/// Approves a draft: from here on the run is immutable. Four eyes (unless
/// configured off): the finance user who drafted or last recomputed it is
/// refused (`four_eyes`), and nothing is written.
pub async fn approve(services: &Services, actor: &Actor, run_id: i64) -> ServiceResult<RunRow> {
    actor.require(&[Role::Finance])?;
    Ok(st::approve(
        &services.db,
        run_id,
        &audited_by(actor),
        services.config.four_eyes,
    )
    .await?)
}

/// Records a correction of `line_id` of the approved run `run_id`. The run
/// is not changed: the correction becomes an adjustment line in the next
/// draft of a later period.
pub async fn record_correction(
    services: &Services,
    actor: &Actor,
    run_id: i64,
    line_id: i64,
    amount: Fen,
    reason: &str,
) -> ServiceResult<CorrectionView> {
    actor.require(&[Role::Finance])?;
    let c = st::record_correction(
        &services.db,
        run_id,
        line_id,
        amount,
        reason,
        &audited_by(actor),
    )
    .await?;
    Ok(c.into())
}
