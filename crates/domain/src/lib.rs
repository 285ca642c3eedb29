//! The pure rules of govmarket: the vocabulary of DESIGN.md as types.
//!
//! Nothing here performs I/O. Every value that crosses a trust boundary
//! (money, resident ID numbers, credit codes, periods, stars, sha256 ids)
//! has a `parse` constructor, so an invalid value cannot exist past it.

pub mod lifecycle;
pub mod role;
pub mod verdict;

pub use lifecycle::{
    ComplaintStatus, OrderStatus, PayoutStatus, SettlementStatus, TransitionError, VersionStatus,
};
pub use role::Role;
pub use verdict::Verdict;
