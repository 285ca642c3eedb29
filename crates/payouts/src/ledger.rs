//! The embedded default provider: the payment becomes an instruction for
//! the treasury's bank system. The instructions themselves are the payout
//! rows in the database (the server exports them as CSV), so this provider
//! only validates and names the instruction; it is idempotent because the
//! instruction id is the idempotency key.

use crate::{Payout, PayoutFuture, PayoutReceipt, PayoutRequest};

#[derive(Debug, Default, Clone, Copy)]
pub struct Ledger;

impl Payout for Ledger {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn pay<'a>(&'a self, req: &'a PayoutRequest) -> PayoutFuture<'a> {
        Box::pin(async move {
            crate::check(req)?;
            Ok(PayoutReceipt {
                external_id: format!("ledger:{}", req.idempotency_key),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PayoutError;

    fn req(amount_fen: i64) -> PayoutRequest {
        PayoutRequest {
            idempotency_key: "govmarket-run1-line2-try0".into(),
            amount_fen,
            destination: "acct_123".into(),
            period: "2026Q3".into(),
            description: "test".into(),
            run_id: 1,
            line_id: 2,
        }
    }

    #[tokio::test]
    async fn the_ledger_names_the_instruction_by_its_key_so_a_resend_is_the_same_instruction() {
        let a = Ledger.pay(&req(100)).await.unwrap();
        let b = Ledger.pay(&req(100)).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.external_id, "ledger:govmarket-run1-line2-try0");
    }

    #[tokio::test]
    async fn the_ledger_refuses_a_zero_amount() {
        assert!(matches!(
            Ledger.pay(&req(0)).await,
            Err(PayoutError::Invalid(_))
        ));
    }
}
