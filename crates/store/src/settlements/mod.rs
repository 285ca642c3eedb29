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
//!
//! # Who
//!
//! The store knows no actor: every audited change takes an [`AuditedBy`],
//! the plain fields of the use case's actor that the audit log and the
//! `created_by` / `approved_by` columns keep.
//!
//! The sections live in their own files: [`facts`] (aggregation),
//! [`runs`] (drafts, approval, listing), [`payouts`], [`corrections`].

use domain::{Role, TransitionError};

use crate::StoreError;
use crate::audit::AuditEntry;

pub mod corrections;
pub mod facts;
pub mod payouts;
pub mod runs;

pub use corrections::*;
pub use facts::*;
pub use payouts::*;
pub use runs::*;

pub use crate::entity::payouts::Model as PayoutRow;
pub use crate::entity::settlement_runs::Model as RunRow;
pub use correction::Model as CorrectionRow;
pub use line::Model as LineRow;

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
    /// Four eyes: the user who drafted or last recomputed the run may not
    /// approve it or start its payout.
    #[error("run {0} was drafted by this user: another finance user must do this")]
    FourEyes(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for SettleError {
    fn from(e: sea_orm::DbErr) -> Self {
        SettleError::Store(StoreError::Db(e))
    }
}

/// Who an audited change is by: the plain fields of the use case's actor
/// (built by the use case; the store has no actor of its own).
#[derive(Debug, Clone, Default)]
pub struct AuditedBy {
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub request_id: Option<String>,
}

impl AuditedBy {
    fn entry(&self, action: &str, object_type: &str, id: i64, summary: String) -> AuditEntry {
        AuditEntry {
            actor_id: self.user_id,
            actor_role: self.role,
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id: Some(id),
            summary,
            request_id: self.request_id.clone(),
        }
    }
}

/// What a statement line pays: the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// An app's share of its order's budget.
    Payment,
    /// A rank's share of the reward pool.
    Reward,
    /// A correction of an earlier period's approved run.
    Adjustment,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Payment => "payment",
            LineKind::Reward => "reward",
            LineKind::Adjustment => "adjustment",
        }
    }

    /// The kind a stored line names; `None` for text this code never wrote.
    pub fn parse(s: &str) -> Option<LineKind> {
        match s {
            "payment" => Some(LineKind::Payment),
            "reward" => Some(LineKind::Reward),
            "adjustment" => Some(LineKind::Adjustment),
            _ => None,
        }
    }
}

impl line::Model {
    /// The line's kind, if it is one this code knows.
    pub fn line_kind(&self) -> Option<LineKind> {
        LineKind::parse(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_kind_reads_back_as_it_was_written() {
        for k in [LineKind::Payment, LineKind::Reward, LineKind::Adjustment] {
            assert_eq!(LineKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LineKind::parse("bonus"), None);
    }
}
