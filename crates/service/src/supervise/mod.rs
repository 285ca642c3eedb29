//! The supervisor's desk: suspending and reinstating apps, moderating
//! reported ratings, and the dashboard's numbers. Every use case here is
//! the supervisor's alone (403 for any other role).

pub mod dashboard;
pub mod detector;
pub mod detector_job;
pub mod moderation;
pub mod signals;
pub mod suspensions;
pub mod trail;

use domain::Role;

use crate::error::{Msg, ServiceError, ServiceResult};

/// Who acts at this desk.
pub const SUPERVISORS: &[Role] = &[Role::Supervisor];

/// Longest reason a supervisor may give, in characters.
pub const MAX_REASON: usize = 500;

/// A supervisor's reason: trimmed, required, at most [`MAX_REASON`].
pub(crate) fn reason(value: &str) -> ServiceResult<String> {
    crate::validate::optional_text("reason", Some(value.to_owned()), MAX_REASON)?
        .ok_or_else(|| ServiceError::invalid("reason", Msg::new("err.supervise.reason_required")))
}
