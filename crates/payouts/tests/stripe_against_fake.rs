//! The Stripe provider against the local fake: what Stripe checks, and
//! that a re-sent payment with the same key is one transfer.

use std::time::Duration;

use payouts::fake::{FakeStripe, Injected};
use payouts::{Payout, PayoutError, PayoutRequest, StripeConfig, StripeConnect};

const KEY: &str = "sk_test_govmarket";

fn req(line_id: i64, amount_fen: i64) -> PayoutRequest {
    PayoutRequest {
        idempotency_key: payouts::idempotency_key(7, line_id, 0),
        amount_fen,
        destination: "acct_isv1".into(),
        period: "2026Q3".into(),
        description: format!("govmarket 2026Q3 line {line_id}"),
        run_id: 7,
        line_id,
    }
}

fn provider(fake: &FakeStripe, secret: &str, timeout: Duration) -> StripeConnect {
    StripeConnect::new(&StripeConfig {
        secret_key: secret.into(),
        base_url: fake.base_url(),
        timeout,
    })
    .unwrap()
}

#[tokio::test]
async fn a_transfer_carries_amount_currency_destination_group_and_key() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    let receipt = stripe.pay(&req(1, 12_345)).await.unwrap();
    let t = fake.transfers();
    assert_eq!(t.len(), 1);
    assert_eq!(receipt.external_id, t[0].id);
    assert_eq!(t[0].amount, 12_345);
    assert_eq!(t[0].currency, "cny");
    assert_eq!(t[0].destination, "acct_isv1");
    assert_eq!(t[0].transfer_group.as_deref(), Some("2026Q3"));
    assert_eq!(
        t[0].idempotency_key.as_deref(),
        Some("govmarket-run7-line1-try0")
    );
    assert_eq!(t[0].metadata.get("line_id").map(String::as_str), Some("1"));
}

#[tokio::test]
async fn sending_the_same_payment_twice_makes_one_transfer() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    let a = stripe.pay(&req(1, 500)).await.unwrap();
    let b = stripe.pay(&req(1, 500)).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(fake.transfers().len(), 1);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn the_same_key_with_another_amount_is_refused() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    stripe.pay(&req(1, 500)).await.unwrap();
    let err = stripe.pay(&req(1, 501)).await.unwrap_err();
    assert!(
        matches!(&err, PayoutError::Rejected(m) if m.contains("same parameters")),
        "{err:?}"
    );
    assert_eq!(fake.transfers().len(), 1);
}

#[tokio::test]
async fn a_wrong_secret_key_is_refused() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    let stripe = provider(&fake, "sk_test_wrong", Duration::from_secs(5));
    let err = stripe.pay(&req(1, 500)).await.unwrap_err();
    assert!(
        matches!(&err, PayoutError::Rejected(m) if m.contains("401")),
        "{err:?}"
    );
    assert!(fake.transfers().is_empty());
}

#[tokio::test]
async fn an_unknown_destination_is_refused() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    fake.set_accounts(&["acct_other"]);
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    let err = stripe.pay(&req(1, 500)).await.unwrap_err();
    assert!(
        matches!(&err, PayoutError::Rejected(m) if m.contains("No such destination")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_zero_amount_never_reaches_stripe() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    let err = stripe.pay(&req(1, 0)).await.unwrap_err();
    assert!(matches!(err, PayoutError::Invalid(_)));
    assert_eq!(fake.requests(), 0);
}

#[tokio::test]
async fn a_server_error_is_an_unknown_outcome_and_a_decline_is_a_refusal() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    fake.inject(1, Injected::ServerError);
    fake.inject(2, Injected::Decline);
    let stripe = provider(&fake, KEY, Duration::from_secs(5));
    assert!(matches!(
        stripe.pay(&req(1, 100)).await,
        Err(PayoutError::Unknown(_))
    ));
    let declined = stripe.pay(&req(2, 100)).await.unwrap_err();
    assert!(
        matches!(&declined, PayoutError::Rejected(m) if m.contains("insufficient")),
        "{declined:?}"
    );
    // The 500 was not stored: the same key now goes through.
    stripe.pay(&req(1, 100)).await.unwrap();
    assert_eq!(fake.transfers().len(), 1);
}

#[tokio::test]
async fn a_stalled_call_times_out_and_the_resend_replays_the_transfer_made_meanwhile() {
    let fake = FakeStripe::start(KEY).await.unwrap();
    fake.inject(1, Injected::Stall);
    let stripe = provider(&fake, KEY, Duration::from_millis(300));
    assert!(matches!(
        stripe.pay(&req(1, 100)).await,
        Err(PayoutError::Unknown(_))
    ));
    let receipt = stripe.pay(&req(1, 100)).await.unwrap();
    let t = fake.transfers();
    assert_eq!(t.len(), 1, "one transfer despite two calls");
    assert_eq!(receipt.external_id, t[0].id);
}
