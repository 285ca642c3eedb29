//! The pure rules of govmarket: the vocabulary of DESIGN.md as types.
//!
//! Nothing here performs I/O. Every value that crosses a trust boundary
//! (money, resident ID numbers, credit codes, periods, stars, sha256 ids)
//! has a `parse` constructor, so an invalid value cannot exist past it.

pub mod account;
pub mod adjustment;
pub mod credit_code;
pub mod error;
pub mod fraud;
pub mod lifecycle;
pub mod money;
pub mod period;
pub mod rating;
pub mod ratio;
pub mod resident_id;
pub mod role;
pub mod settlement;
pub mod sha256;
pub mod stars;
pub mod verdict;
pub mod working_days;

pub use account::{Email, EmailError, Password, PasswordError};
pub use credit_code::{CreditCode, CreditCodeError};
pub use error::UserFacingError;
pub use fraud::SignalKind;
pub use money::{Fen, FenError};
pub use period::{PLATFORM_TZ, Period, PeriodError};
pub use rating::{RatingParams, StarHistogram, bayesian_rating};
pub use ratio::{BigInt, Ratio, RatioError};
pub use resident_id::{Gender, ResidentId, ResidentIdError};
pub use settlement::{
    AppUsage, Eligibility, OrderSettlement, RewardCandidate, RewardLine, SettlementError,
    SettlementLine, SettlementParams, rewards, settle_order,
};
pub use sha256::{Sha256Hex, Sha256HexError};
pub use stars::{Stars, StarsError};

pub use lifecycle::{
    AppStatus, ComplaintStatus, OrderStatus, PayoutStatus, SettlementStatus, SignalStatus,
    TransitionError, VersionStatus,
};
pub use role::Role;
pub use verdict::Verdict;
