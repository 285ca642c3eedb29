//! The status columns as the domain's lifecycle enums.
//!
//! A row keeps its status as text (readable in SQL, stable if a Rust variant
//! is renamed); code outside this crate compares these typed views, never
//! the text, so a misspelt status is a compile error rather than a branch
//! that is silently never taken.

use domain::{ComplaintStatus, OrderStatus, PayoutStatus, SettlementStatus, VersionStatus};

use crate::StoreError;
use crate::entity::{complaints, orders, payouts, settlement_runs, versions};

macro_rules! typed_status {
    ($($model:ty => $status:ty),+ $(,)?) => {$(
        impl $model {
            /// The row's status; a value this code does not know is
            /// [`StoreError::Corrupt`].
            pub fn typed_status(&self) -> Result<$status, StoreError> {
                self.status
                    .parse()
                    .map_err(|e: domain::lifecycle::UnknownStatus| StoreError::Corrupt(e.to_string()))
            }

            /// Whether the row is in `status` (an unknown stored value is
            /// in none).
            pub fn is(&self, status: $status) -> bool {
                self.typed_status().is_ok_and(|s| s == status)
            }
        }
    )+};
}

typed_status! {
    orders::Model => OrderStatus,
    versions::Model => VersionStatus,
    complaints::Model => ComplaintStatus,
    payouts::Model => PayoutStatus,
    settlement_runs::Model => SettlementStatus,
}
