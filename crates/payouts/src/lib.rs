//! Payout providers: how govmarket moves a settlement line's money to an
//! ISV.
//!
//! A provider is asked to pay one [`PayoutRequest`] at a time. The caller
//! (the payout worker in `server::settlement`) owns the state machine
//! `pending -> sent -> confirmed | failed` and makes it crash-safe: it
//! commits `sent` with the request's idempotency key *before* calling the
//! provider, and after a crash re-sends every `sent` line with the same key.
//! Providers must therefore treat a repeated key with the same request as
//! the same payment (Stripe does; the ledger is keyed by it).
//!
//! - [`ledger::Ledger`], the embedded default: the payment instruction is
//!   recorded for the treasury's bank system (exported as CSV by the
//!   server); it confirms at once.
//! - [`stripe::StripeConnect`]: a Stripe Connect transfer to the ISV's
//!   connected account (`acct_…`), `transfer_group` = the period.
//! - `fake` (feature): a local fake of the Stripe endpoints we call, for
//!   tests, with failure and stall injection.

use std::future::Future;
use std::pin::Pin;

pub mod ledger;
pub mod stripe;

#[cfg(feature = "fake")]
pub mod fake;

pub use ledger::Ledger;
pub use stripe::{StripeConfig, StripeConnect};

/// One payment to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRequest {
    /// Derived from the run and the line (and the retry number): the same
    /// key always means the same payment.
    pub idempotency_key: String,
    /// Positive integer fen.
    pub amount_fen: i64,
    /// The ISV's payout account, e.g. a Stripe connected account `acct_…`.
    pub destination: String,
    /// The settlement period, e.g. `2026Q3` (Stripe's `transfer_group`).
    pub period: String,
    /// Shown on the ISV's side, e.g. "govmarket 2026Q3 statement line 17".
    pub description: String,
    pub run_id: i64,
    pub line_id: i64,
}

/// A payment the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutReceipt {
    /// The provider's id for the payment (Stripe `tr_…`, ledger `ledger:…`).
    pub external_id: String,
}

/// Why a payment did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutError {
    /// The provider refused this payment; sending it again unchanged will
    /// not help (bad destination, insufficient balance, …). The line
    /// becomes `failed` and finance may retry it after fixing the cause.
    #[error("the payout was refused: {0}")]
    Rejected(String),
    /// The outcome is unknown (timeout, network error, provider 5xx): the
    /// line stays `sent` and is re-sent later with the same key, which the
    /// provider's idempotency makes safe.
    #[error("the payout outcome is unknown: {0}")]
    Unknown(String),
    /// The request itself is unusable (e.g. a non-positive amount); a bug
    /// in the caller, never retried.
    #[error("invalid payout request: {0}")]
    Invalid(String),
}

/// A boxed future, so providers can be used as `dyn Payout`.
pub type PayoutFuture<'a> =
    Pin<Box<dyn Future<Output = Result<PayoutReceipt, PayoutError>> + Send + 'a>>;

/// A payout provider.
pub trait Payout: Send + Sync {
    /// The provider's name as stored with each payout: `ledger` or `stripe`.
    fn name(&self) -> &'static str;

    /// Pays `req`. Calling it again with the same request must not pay
    /// twice.
    fn pay<'a>(&'a self, req: &'a PayoutRequest) -> PayoutFuture<'a>;
}

/// Checks a payout account as ISVs enter it: a Stripe connected account id,
/// `acct_` followed by 1 to 64 ASCII letters and digits.
pub fn valid_account(account: &str) -> bool {
    account.strip_prefix("acct_").is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The idempotency key of a line's payment: stable across crashes and
/// restarts, new for each explicit retry after a definitive failure (a
/// refused payment replayed under the old key would only be refused again).
pub fn idempotency_key(run_id: i64, line_id: i64, retry: i32) -> String {
    format!("govmarket-run{run_id}-line{line_id}-try{retry}")
}

pub(crate) fn check(req: &PayoutRequest) -> Result<(), PayoutError> {
    if req.amount_fen <= 0 {
        return Err(PayoutError::Invalid(format!(
            "amount must be a positive number of fen, got {}",
            req.amount_fen
        )));
    }
    if !valid_account(&req.destination) {
        return Err(PayoutError::Invalid(format!(
            "destination {:?} is not a payout account (acct_…)",
            req.destination
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payout_accounts_look_like_stripe_connected_accounts() {
        assert!(valid_account("acct_1Nv0FGQ9RKHgCVdK"));
        assert!(!valid_account("acct_"));
        assert!(!valid_account("ACCT_123"));
        assert!(!valid_account("acct_12 3"));
        assert!(!valid_account("cus_123"));
        assert!(!valid_account(&format!("acct_{}", "a".repeat(65))));
    }

    #[test]
    fn idempotency_keys_differ_per_line_and_retry_but_not_per_call() {
        assert_eq!(idempotency_key(1, 2, 0), idempotency_key(1, 2, 0));
        assert_ne!(idempotency_key(1, 2, 0), idempotency_key(1, 3, 0));
        assert_ne!(idempotency_key(1, 2, 0), idempotency_key(1, 2, 1));
        assert_ne!(idempotency_key(1, 23, 0), idempotency_key(12, 3, 0));
    }
}
