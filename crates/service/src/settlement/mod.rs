//! Quarterly settlement: aggregate in the database, apply the formula of
//! `domain::settlement` per order, rank the rewards, store the statement
//! lines; finance approves, corrects and pays; the payout worker pays an
//! approved run through a [`payouts::Payout`] provider without ever paying
//! a line twice. Also what the public sees of approved runs, the ISV's
//! statements, and the audit log for supervisors.
//!
//! - [`mod@compute`]: a period's lines from the database (no writes).
//! - [`mod@draft`]: finance's draft of a period, validated once, its run read once.
//! - [`mod@approve`]: approval and corrections of an approved run.
//! - [`payout`]: starting, retrying and running payouts.
//! - [`runs`]: finance's reading of runs and their CSV statements.
//! - [`public`]: approved runs for everyone.
//! - [`statements`]: the ISV's own statements and payout account.
//! - [`audit`]: the audit log for supervisors and admins.
//! - [`seed`]: the demo quarter.
//!
//! The store knows no actor: use cases hand it [`audited_by`] their
//! [`Actor`].

use store::settlements::{AuditedBy, SettleError};

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, Thing};

pub mod approve;
pub mod audit;
pub mod compute;
pub mod draft;
pub mod payout;
pub mod public;
pub mod runs;
pub mod seed;
pub mod statements;
pub mod views;

pub use approve::{approve, record_correction};
pub use compute::{Computed, compute, eligibility_name, settlement_opens_at};
pub use draft::{CreateRunRequest, create_draft, draft, parse_request};
pub use payout::{
    PayReport, pay_run, provider, resume_payouts, retry_payout, spawn_pay_run, start_payout,
};
pub use seed::{DEMO_PERIOD, seed_quarter};
pub use views::{
    CorrectionView, LineView, PayoutView, RunDetail, RunList, RunRecords, RunView, r_display,
};

/// What the store writes of `actor` beside an audited change.
pub fn audited_by(actor: &Actor) -> AuditedBy {
    AuditedBy {
        user_id: actor.id(),
        role: actor.role(),
        request_id: actor.request_id().map(str::to_owned),
    }
}

impl From<SettleError> for ServiceError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::NotFound => ServiceError::NotFound(Thing::SettlementRun),
            SettleError::LineNotFound => ServiceError::NotFound(Thing::SettlementLine),
            SettleError::Transition(t) => t.into(),
            SettleError::AlreadySettled(period) => ServiceError::conflict(
                "already_settled",
                Msg::new("err.settle.already_settled").arg("period", period),
            ),
            SettleError::CorrectDraft(_) => {
                ServiceError::conflict("correct_draft", Msg::new("err.settle.correct_draft"))
            }
            SettleError::InvalidCorrection(c) => {
                let field = match c {
                    domain::adjustment::CorrectionError::NoReason
                    | domain::adjustment::CorrectionError::ReasonTooLong => "reason",
                    _ => "amount_fen",
                };
                ServiceError::invalid(field, Msg::domain(&c))
            }
            SettleError::CorrectionsChanged => ServiceError::conflict(
                "corrections_changed",
                Msg::new("err.settle.corrections_changed"),
            ),
            SettleError::FourEyes(_) => ServiceError::Refused {
                code: "four_eyes",
                msg: Msg::new("err.settle.four_eyes"),
            },
            SettleError::Store(s) => s.into(),
        }
    }
}

impl From<domain::SettlementError> for ServiceError {
    fn from(e: domain::SettlementError) -> Self {
        ServiceError::invalid("params", Msg::domain(&e))
    }
}
