//! Corrections to approved settlements, and how an ISV's lines of one run
//! become payouts.
//!
//! An approved run is immutable. A correction found later (usage that
//! turned out to be fraudulent, a late-found error) is recorded against
//! one of its lines and appears as an *adjustment line* in the next draft
//! run of a later period. Its amount may be negative.
//!
//! Nobody is ever paid a negative amount. When a run is paid, each ISV's
//! lines are netted: its negative lines are offset against its positive
//! lines of the same run (lowest line id first), and if the ISV's net is
//! still negative, the remainder is carried forward as a new correction
//! into the next later draft — held against future payments rather than
//! demanded back. Every fen is accounted for: the payouts plus the amount
//! carried forward equal the sum of the ISV's lines.

use crate::error::user_facing;
use crate::money::Fen;

/// Corrections larger than this (in absolute value) are refused: no
/// service budget is near it, and it keeps every sum far from overflow.
pub const MAX_CORRECTION_FEN: i64 = 1_000_000_000_000;
/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Why a correction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("a correction must change the amount (zero given)")]
    Zero,
    #[error("a correction is at most {MAX_CORRECTION_FEN} fen either way")]
    TooLarge,
    /// The line would end up below zero: more would be taken back than it
    /// paid.
    #[error(
        "the line paid {line_fen} fen and earlier corrections changed it by {earlier_fen} fen: it cannot go below zero"
    )]
    BelowZero { line_fen: i64, earlier_fen: i64 },
    #[error("a reason is required")]
    NoReason,
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
}

user_facing!(CorrectionError {
    CorrectionError::Zero => ("correction_zero", "更正金额不能为 0"),
    CorrectionError::TooLarge => ("correction_too_large", "更正金额超出允许范围"),
    CorrectionError::BelowZero { .. } => ("correction_below_zero", "扣减后该行金额将低于 0：不能扣回多于原行支付的金额"),
    CorrectionError::NoReason => ("correction_no_reason", "请填写更正原因"),
    CorrectionError::ReasonTooLong => ("correction_reason_too_long", "更正原因不能超过 500 个字"),
});

/// Checks a correction of `amount` to a line that paid `line`, which
/// earlier corrections already changed by `earlier` in total: the line may
/// not end below zero (below its own amount, for a negative adjustment
/// line). Returns the trimmed reason.
pub fn validate_correction(
    line: Fen,
    earlier: Fen,
    amount: Fen,
    reason: &str,
) -> Result<String, CorrectionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CorrectionError::NoReason);
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(CorrectionError::ReasonTooLong);
    }
    if amount.as_fen() == 0 {
        return Err(CorrectionError::Zero);
    }
    if amount.as_fen().unsigned_abs() > MAX_CORRECTION_FEN.unsigned_abs() {
        return Err(CorrectionError::TooLarge);
    }
    let corrected =
        i128::from(line.as_fen()) + i128::from(earlier.as_fen()) + i128::from(amount.as_fen());
    // A negative (adjustment) line may be reversed up to zero and beyond,
    // but not deepened: taking back more is a correction of the original.
    let floor = i128::from(line.as_fen().min(0));
    if corrected < floor {
        return Err(CorrectionError::BelowZero {
            line_fen: line.as_fen(),
            earlier_fen: earlier.as_fen(),
        });
    }
    Ok(reason.to_owned())
}

/// One payout of a netted line: what is sent, and what was kept back to
/// offset the ISV's negative lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NettedPayout {
    pub line_id: i64,
    /// The line's amount minus `offset`; zero when fully offset.
    pub pay: Fen,
    pub offset: Fen,
}

/// One ISV's lines of a run, netted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netting {
    /// One entry per positive line, by line id.
    pub payouts: Vec<NettedPayout>,
    /// Zero or negative: what is left of the negative lines after every
    /// positive line is offset, carried into the next period.
    pub carried_forward: Fen,
}

/// Nets one ISV's lines `(line id, amount)` of a run (see the module
/// documentation). The result does not depend on the order of `lines`.
///
/// Sums use `i128`, so no input of `i64` lines can overflow; a line's pay
/// is at most its amount, so every output fits in `i64`.
pub fn net_isv_lines(lines: &[(i64, Fen)]) -> Netting {
    let mut sorted: Vec<(i64, Fen)> = lines.to_vec();
    sorted.sort_by_key(|&(id, _)| id);
    let mut owed: i128 = sorted
        .iter()
        .filter(|(_, a)| a.is_negative())
        .map(|(_, a)| -i128::from(a.as_fen()))
        .sum();
    let mut payouts = Vec::new();
    for (line_id, amount) in sorted {
        if amount.as_fen() <= 0 {
            continue;
        }
        let offset = owed.min(i128::from(amount.as_fen()));
        owed -= offset;
        let offset = i64::try_from(offset).expect("at most the line's amount");
        payouts.push(NettedPayout {
            line_id,
            pay: Fen::from_fen(amount.as_fen() - offset),
            offset: Fen::from_fen(offset),
        });
    }
    // Beyond i64 only if the negative lines alone exceed it; saturate
    // rather than panic (such a run cannot be stored anyway).
    let carried = i64::try_from(-owed).unwrap_or(i64::MIN);
    Netting {
        payouts,
        carried_forward: Fen::from_fen(carried),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(n: i64) -> Fen {
        Fen::from_fen(n)
    }

    #[test]
    fn a_correction_needs_a_reason_and_a_non_zero_amount_within_bounds() {
        assert_eq!(
            validate_correction(fen(100), fen(0), fen(-30), "  刷量  "),
            Ok("刷量".to_owned())
        );
        assert_eq!(
            validate_correction(fen(100), fen(0), fen(0), "x"),
            Err(CorrectionError::Zero)
        );
        assert_eq!(
            validate_correction(fen(100), fen(0), fen(5), " "),
            Err(CorrectionError::NoReason)
        );
        assert_eq!(
            validate_correction(fen(100), fen(0), fen(5), &"长".repeat(501)),
            Err(CorrectionError::ReasonTooLong)
        );
        assert_eq!(
            validate_correction(fen(0), fen(0), fen(MAX_CORRECTION_FEN + 1), "x"),
            Err(CorrectionError::TooLarge)
        );
        assert_eq!(
            validate_correction(fen(0), fen(0), fen(i64::MIN), "x"),
            Err(CorrectionError::TooLarge)
        );
    }

    #[test]
    fn a_line_cannot_be_taken_back_below_zero_counting_earlier_corrections() {
        assert!(validate_correction(fen(100), fen(0), fen(-100), "x").is_ok());
        assert_eq!(
            validate_correction(fen(100), fen(-60), fen(-41), "x"),
            Err(CorrectionError::BelowZero {
                line_fen: 100,
                earlier_fen: -60
            })
        );
        // a positive correction first makes room for a larger negative one
        assert!(validate_correction(fen(100), fen(50), fen(-150), "x").is_ok());
        // a negative adjustment line may be reversed, not deepened
        assert!(validate_correction(fen(-300), fen(0), fen(100), "x").is_ok());
        assert!(validate_correction(fen(-300), fen(0), fen(400), "x").is_ok());
        assert!(validate_correction(fen(-300), fen(0), fen(-1), "x").is_err());
    }

    #[test]
    fn negative_lines_are_offset_lowest_line_first_and_the_rest_carried_forward() {
        let n = net_isv_lines(&[(3, fen(500)), (1, fen(200)), (9, fen(-300))]);
        assert_eq!(
            n.payouts,
            vec![
                NettedPayout {
                    line_id: 1,
                    pay: fen(0),
                    offset: fen(200)
                },
                NettedPayout {
                    line_id: 3,
                    pay: fen(400),
                    offset: fen(100)
                },
            ]
        );
        assert_eq!(n.carried_forward, fen(0));

        let n = net_isv_lines(&[(1, fen(200)), (2, fen(-450))]);
        assert_eq!(
            n.payouts,
            vec![NettedPayout {
                line_id: 1,
                pay: fen(0),
                offset: fen(200)
            }]
        );
        assert_eq!(n.carried_forward, fen(-250));

        let n = net_isv_lines(&[(1, fen(200)), (2, fen(0))]);
        assert_eq!(
            n.payouts,
            vec![NettedPayout {
                line_id: 1,
                pay: fen(200),
                offset: fen(0)
            }]
        );
        assert_eq!(n.carried_forward, fen(0));
    }

    fn arb_lines() -> impl Strategy<Value = Vec<(i64, Fen)>> {
        prop::collection::btree_map(1i64..10_000, -MAX_CORRECTION_FEN..MAX_CORRECTION_FEN, 0..12)
            .prop_map(|m| {
                m.into_iter()
                    .map(|(id, a)| (id, Fen::from_fen(a)))
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn payouts_plus_the_amount_carried_forward_equal_the_lines_to_the_fen(lines in arb_lines()) {
            let n = net_isv_lines(&lines);
            let total: i128 = lines.iter().map(|(_, a)| i128::from(a.as_fen())).sum();
            let paid: i128 = n.payouts.iter().map(|p| i128::from(p.pay.as_fen())).sum();
            prop_assert_eq!(paid + i128::from(n.carried_forward.as_fen()), total);
            prop_assert!(n.carried_forward.as_fen() <= 0);
            for p in &n.payouts {
                let line = lines.iter().find(|(id, _)| *id == p.line_id).expect("a line").1;
                prop_assert!(p.pay.as_fen() >= 0 && p.offset.as_fen() >= 0);
                prop_assert_eq!(p.pay.as_fen() + p.offset.as_fen(), line.as_fen());
            }
            // never both paying and carrying a debt forward
            if n.carried_forward.as_fen() < 0 {
                prop_assert!(n.payouts.iter().all(|p| p.pay.as_fen() == 0));
            }
        }

        #[test]
        fn netting_does_not_depend_on_the_order_of_the_lines(
            lines in arb_lines(), seed in any::<u64>(),
        ) {
            let mut shuffled = lines.clone();
            let len = shuffled.len();
            if len > 1 {
                shuffled.rotate_left((seed as usize) % len);
                shuffled.reverse();
            }
            prop_assert_eq!(net_isv_lines(&lines), net_isv_lines(&shuffled));
        }

        #[test]
        fn a_valid_correction_never_leaves_the_line_below_zero(
            line in -MAX_CORRECTION_FEN..MAX_CORRECTION_FEN, earlier in -MAX_CORRECTION_FEN..MAX_CORRECTION_FEN,
            amount in -MAX_CORRECTION_FEN..MAX_CORRECTION_FEN,
        ) {
            let ok = validate_correction(fen(line), fen(earlier), fen(amount), "原因").is_ok();
            prop_assert_eq!(ok, amount != 0 && line + earlier + amount >= line.min(0));
        }
    }
}
