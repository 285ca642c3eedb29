//! Stripe Connect transfers to the ISVs' connected accounts.
//!
//! Each payment is one `POST /v1/transfers` with the line's idempotency key
//! (`Idempotency-Key` header): Stripe answers a repeated key with the same
//! parameters by replaying the first answer, so re-sending after a crash
//! cannot pay twice. `transfer_group` is the period, so the treasury can
//! reconcile a quarter in Stripe's dashboard.

use std::time::Duration;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_connect::transfer::CreateTransfer;
use stripe_types::Currency;

use crate::{Payout, PayoutError, PayoutFuture, PayoutReceipt, PayoutRequest};

/// Stripe's own API; tests and staging point [`StripeConfig::base_url`]
/// elsewhere.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com/";

/// A hung connection must not stall the payout worker forever; the line
/// stays `sent` and is re-sent with the same key later.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `sk_live_…` / `sk_test_…`.
    pub secret_key: String,
    pub base_url: String,
    /// Per attempt.
    pub timeout: Duration,
}

impl StripeConfig {
    pub fn new(secret_key: impl Into<String>) -> StripeConfig {
        StripeConfig {
            secret_key: secret_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

pub struct StripeConnect {
    client: Client,
}

impl std::fmt::Debug for StripeConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client holds the secret key.
        f.write_str("StripeConnect { .. }")
    }
}

impl StripeConnect {
    pub fn new(config: &StripeConfig) -> Result<StripeConnect, PayoutError> {
        let client = ClientBuilder::new(config.secret_key.clone())
            .url(config.base_url.clone())
            .timeout(config.timeout)
            .build()
            .map_err(|e| PayoutError::Invalid(format!("Stripe client: {e}")))?;
        Ok(StripeConnect { client })
    }

    async fn transfer(&self, req: &PayoutRequest) -> Result<PayoutReceipt, PayoutError> {
        crate::check(req)?;
        let key = IdempotencyKey::new(&req.idempotency_key)
            .map_err(|e| PayoutError::Invalid(format!("idempotency key: {e:?}")))?;
        let transfer = CreateTransfer::new(Currency::CNY, req.destination.clone())
            .amount(req.amount_fen)
            .transfer_group(req.period.clone())
            .description(req.description.clone())
            .metadata(std::collections::HashMap::from([
                ("run_id".to_owned(), req.run_id.to_string()),
                ("line_id".to_owned(), req.line_id.to_string()),
            ]))
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await
            .map_err(classify)?;
        Ok(PayoutReceipt {
            external_id: transfer.id.to_string(),
        })
    }
}

impl Payout for StripeConnect {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn pay<'a>(&'a self, req: &'a PayoutRequest) -> PayoutFuture<'a> {
        Box::pin(self.transfer(req))
    }
}

/// Sorts Stripe's answers into "refused" (a 4xx it will give again) and
/// "unknown" (it may or may not have happened; re-send with the same key).
/// 409 is an idempotent request still in flight, 429 rate limiting.
fn classify(err: StripeError) -> PayoutError {
    match err {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .unwrap_or_else(|| "no message".to_owned());
            if (400..500).contains(&status) && status != 409 && status != 429 {
                PayoutError::Rejected(format!("Stripe {status}: {message}"))
            } else {
                PayoutError::Unknown(format!("Stripe {status}: {message}"))
            }
        }
        StripeError::ConfigError(e) => PayoutError::Invalid(e),
        other => PayoutError::Unknown(other.to_string()),
    }
}
