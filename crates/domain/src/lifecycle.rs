//! The lifecycles of DESIGN.md: each status enum knows its name (the
//! lower-case word used in the API and the database) and which moves are
//! allowed, so no layer above can invent a transition.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A move a lifecycle does not allow, e.g. publishing a cancelled order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot move {kind} from `{from}` to `{to}`")]
pub struct TransitionError {
    pub kind: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// A status name that is not part of a lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} status `{value}`")]
pub struct UnknownStatus {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! lifecycle {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $($variant:ident = $text:literal),+ $(,)?
        }
        moves { $($from:ident -> $to:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Whether the lifecycle allows moving from `self` to `to`.
            pub fn can_move_to(self, to: $name) -> bool {
                matches!((self, to), $(($name::$from, $name::$to))|*)
            }

            /// `to` if the move is allowed, else a [`TransitionError`].
            pub fn move_to(self, to: $name) -> Result<$name, TransitionError> {
                if self.can_move_to(to) {
                    Ok(to)
                } else {
                    Err(TransitionError { kind: $kind, from: self.as_str(), to: to.as_str() })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownStatus { kind: $kind, value: s.to_owned() })
            }
        }
    };
}

lifecycle! {
    /// A requirement order: `draft -> open -> closed`, `open -> cancelled`.
    /// A draft may also be cancelled (withdrawn before anyone saw it).
    OrderStatus, "order" {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
        Cancelled = "cancelled",
    }
    moves {
        Draft -> Open,
        Draft -> Cancelled,
        Open -> Closed,
        Open -> Cancelled,
    }
}

impl OrderStatus {
    /// The contract (schemas, grants, limits) is frozen once the order is open.
    pub fn contract_editable(self) -> bool {
        self == OrderStatus::Draft
    }
}

lifecycle! {
    /// A version: `queued -> testing -> passed | failed | rejected`;
    /// `passed -> published -> superseded | withdrawn | suspended`.
    /// A regression re-test moves a published version back through testing.
    VersionStatus, "version" {
        Queued = "queued",
        Testing = "testing",
        Passed = "passed",
        Failed = "failed",
        Rejected = "rejected",
        Published = "published",
        Superseded = "superseded",
        Withdrawn = "withdrawn",
        Suspended = "suspended",
    }
    moves {
        Queued -> Testing,
        Queued -> Rejected,
        Testing -> Passed,
        Testing -> Failed,
        Testing -> Rejected,
        // a worker's lease expired: the run is claimed again
        Testing -> Queued,
        Passed -> Published,
        Passed -> Withdrawn,
        // a regression run finds a passed version below the grown suite
        Passed -> Failed,
        Published -> Superseded,
        Published -> Withdrawn,
        Published -> Suspended,
        Suspended -> Published,
    }
}

lifecycle! {
    /// An app: `active -> withdrawn` (its ISV), `active -> suspended ->
    /// active` (a supervisor suspends and reinstates it). A suspension is
    /// the app's own status, apart from a version delisted by a regression
    /// run; a suspended app may still be withdrawn by its vendor.
    AppStatus, "app" {
        Active = "active",
        Withdrawn = "withdrawn",
        Suspended = "suspended",
    }
    moves {
        Active -> Withdrawn,
        Active -> Suspended,
        Suspended -> Active,
        Suspended -> Withdrawn,
    }
}

lifecycle! {
    /// A settlement run: `draft -> approved -> paying -> paid`.
    /// `approved` is immutable; corrections are adjustment lines later.
    SettlementStatus, "settlement" {
        Draft = "draft",
        Approved = "approved",
        Paying = "paying",
        Paid = "paid",
    }
    moves {
        Draft -> Approved,
        Approved -> Paying,
        Paying -> Paid,
    }
}

lifecycle! {
    /// One payout line: `pending -> sent -> confirmed | failed`; a failed
    /// line can be retried (back to pending).
    PayoutStatus, "payout" {
        Pending = "pending",
        Held = "held",
        Sent = "sent",
        Confirmed = "confirmed",
        Failed = "failed",
    }
    moves {
        Pending -> Sent,
        Pending -> Held,
        Held -> Pending,
        Sent -> Confirmed,
        Sent -> Failed,
        Failed -> Pending,
    }
}

lifecycle! {
    /// A complaint: `open -> answered -> resolved`.
    ComplaintStatus, "complaint" {
        Open = "open",
        Answered = "answered",
        Resolved = "resolved",
    }
    moves {
        Open -> Answered,
        Answered -> Resolved,
        // the citizen is not satisfied with the answer
        Answered -> Open,
    }
}

lifecycle! {
    /// A fraud signal: `open -> confirmed` (its usage is flagged invalid)
    /// or `open -> dismissed`. A decision is final.
    SignalStatus, "fraud signal" {
        Open = "open",
        Dismissed = "dismissed",
        Confirmed = "confirmed",
    }
    moves {
        Open -> Dismissed,
        Open -> Confirmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_opens_once_and_its_contract_freezes() {
        assert!(OrderStatus::Draft.contract_editable());
        assert_eq!(
            OrderStatus::Draft.move_to(OrderStatus::Open),
            Ok(OrderStatus::Open)
        );
        assert!(!OrderStatus::Open.contract_editable());
        let err = OrderStatus::Cancelled
            .move_to(OrderStatus::Open)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot move order from `cancelled` to `open`"
        );
        assert!(!OrderStatus::Closed.can_move_to(OrderStatus::Open));
    }

    #[test]
    fn an_approved_settlement_cannot_go_back_to_draft() {
        assert!(SettlementStatus::Draft.can_move_to(SettlementStatus::Approved));
        assert!(!SettlementStatus::Approved.can_move_to(SettlementStatus::Draft));
        assert!(!SettlementStatus::Draft.can_move_to(SettlementStatus::Paying));
    }

    #[test]
    fn a_version_is_published_only_after_passing() {
        assert!(!VersionStatus::Failed.can_move_to(VersionStatus::Published));
        assert!(!VersionStatus::Queued.can_move_to(VersionStatus::Published));
        assert!(VersionStatus::Passed.can_move_to(VersionStatus::Published));
    }

    #[test]
    fn a_suspended_app_is_reinstated_but_not_suspended_twice() {
        assert!(AppStatus::Active.can_move_to(AppStatus::Suspended));
        assert!(!AppStatus::Suspended.can_move_to(AppStatus::Suspended));
        assert!(AppStatus::Suspended.can_move_to(AppStatus::Active));
        assert!(!AppStatus::Withdrawn.can_move_to(AppStatus::Active));
    }

    #[test]
    fn a_failed_payout_can_be_retried_but_a_confirmed_one_cannot() {
        assert!(PayoutStatus::Failed.can_move_to(PayoutStatus::Pending));
        assert!(!PayoutStatus::Confirmed.can_move_to(PayoutStatus::Pending));
    }

    #[test]
    fn status_names_round_trip() {
        for s in VersionStatus::ALL {
            assert_eq!(s.as_str().parse::<VersionStatus>().unwrap(), *s);
        }
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().unwrap(), *s);
        }
        assert!("open".parse::<SettlementStatus>().is_err());
    }

    #[test]
    fn a_fraud_signal_is_decided_once() {
        assert!(SignalStatus::Open.can_move_to(SignalStatus::Confirmed));
        assert!(SignalStatus::Open.can_move_to(SignalStatus::Dismissed));
        assert!(!SignalStatus::Confirmed.can_move_to(SignalStatus::Dismissed));
        assert!(!SignalStatus::Dismissed.can_move_to(SignalStatus::Confirmed));
        for s in SignalStatus::ALL {
            assert_eq!(s.as_str().parse::<SignalStatus>().unwrap(), *s);
        }
    }
}
