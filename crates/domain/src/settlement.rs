//! Settlement math (DESIGN.md "Settlement: the formula"), pure and exact.
//!
//! For one order with quarterly budget `B`:
//! `R_a` = Bayesian rating, `q_a = 0 if R_a < r_min else R_a / 5`,
//! `w_a = U_a * q_a`, `pay_a = B * w_a / sum(w)` rounded to whole fen by the
//! largest-remainder method. Every intermediate value is an exact
//! [`Ratio`]; the only rounding is the final, explicit one to fen.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::error::user_facing;
use crate::money::Fen;
use crate::rating::{RatingParams, bayesian_rating};
use crate::ratio::Ratio;

/// Every parameter of a settlement run. Stored with the run, so each
/// statement can be re-derived later from its inputs and these values.
///
/// Missing fields take the DESIGN.md defaults, and unknown fields are
/// refused, so a typo in `POST /settlements {params}` cannot silently fall
/// back to a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementParams {
    /// C: weight of the rating prior, in ratings (default 10).
    pub c: u64,
    /// m: prior mean in stars (default 3).
    pub m: Ratio,
    /// Apps rated below this earn nothing (default 2.5).
    pub r_min: Ratio,
    /// Optional cap per app as a share of the order budget, in (0, 1];
    /// the excess goes to the uncapped apps.
    pub cap_share: Option<Ratio>,
    /// The period's platform-wide reward pool for the top apps.
    pub reward_pool_fen: Fen,
    /// How the reward pool splits among ranks 1, 2, 3, … in percent;
    /// must add up to 100 (default 50/30/20).
    pub reward_split_percent: Vec<u8>,
    /// The IANA time zone the period is read in (default Asia/Shanghai).
    pub time_zone: String,
}

impl Default for SettlementParams {
    fn default() -> SettlementParams {
        SettlementParams {
            c: 10,
            m: Ratio::from_integer(3),
            r_min: Ratio::new(5, 2).expect("2 is not zero"),
            cap_share: None,
            reward_pool_fen: Fen::ZERO,
            reward_split_percent: vec![50, 30, 20],
            time_zone: "Asia/Shanghai".to_owned(),
        }
    }
}

impl SettlementParams {
    /// Checks every parameter is in its meaningful range.
    pub fn validate(&self) -> Result<(), SettlementError> {
        let one = Ratio::one();
        let five = Ratio::from_integer(5);
        if self.c == 0 {
            return Err(SettlementError::InvalidParams("c must be at least 1"));
        }
        if self.m < one || self.m > five {
            return Err(SettlementError::InvalidParams("m must be between 1 and 5"));
        }
        if self.r_min.is_negative() || self.r_min > five {
            return Err(SettlementError::InvalidParams(
                "r_min must be between 0 and 5",
            ));
        }
        if let Some(cap) = &self.cap_share
            && (!cap.is_positive() || *cap > one)
        {
            return Err(SettlementError::InvalidParams(
                "cap_share must be greater than 0 and at most 1",
            ));
        }
        if self.reward_pool_fen.is_negative() {
            return Err(SettlementError::InvalidParams(
                "reward_pool_fen must not be negative",
            ));
        }
        validate_split(&self.reward_split_percent)?;
        self.tz()?;
        Ok(())
    }

    pub fn rating_params(&self) -> RatingParams {
        RatingParams {
            c: self.c,
            m: self.m.clone(),
        }
    }

    /// The parsed time zone.
    pub fn tz(&self) -> Result<Tz, SettlementError> {
        self.time_zone
            .parse::<Tz>()
            .map_err(|_| SettlementError::InvalidParams("time_zone is not a known IANA time zone"))
    }
}

fn validate_split(split: &[u8]) -> Result<(), SettlementError> {
    let total: u32 = split.iter().map(|&p| u32::from(p)).sum();
    if split.is_empty() || total != 100 {
        return Err(SettlementError::InvalidParams(
            "reward_split_percent must add up to 100",
        ));
    }
    Ok(())
}

/// Why a settlement could not be computed. Every variant is a problem
/// with the inputs; the math itself cannot fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("invalid settlement parameters: {0}")]
    InvalidParams(&'static str),
    #[error("the budget must not be negative")]
    NegativeBudget,
    #[error("app {0} appears more than once")]
    DuplicateApp(i64),
    #[error("app {0} has a star sum impossible for its number of ratings")]
    InconsistentRatings(i64),
}

user_facing!(SettlementError {
    SettlementError::InvalidParams(_) => ("settlement_invalid_params", "结算参数无效"),
    SettlementError::NegativeBudget => ("settlement_negative_budget", "预算不能为负数"),
    SettlementError::DuplicateApp(_) => ("settlement_duplicate_app", "同一应用出现了多次"),
    SettlementError::InconsistentRatings(_) => ("settlement_inconsistent_ratings", "评分总星数与评分人数不符"),
});

/// One app's facts for the period, as the store counted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUsage {
    pub app_id: i64,
    /// U: distinct citizens with a successful, valid invocation in P.
    pub users: u64,
    /// n: ratings as they stand at the end of P.
    pub ratings: u64,
    /// Sum of those ratings' stars.
    pub sum_stars: u64,
    /// When the app was first published (tie-break for rewards).
    pub published_at: DateTime<Utc>,
    /// Had a published version at some point during P.
    pub published_in_period: bool,
    /// Suspended for fraud: excluded whatever its usage.
    pub suspended_for_fraud: bool,
}

/// Whether an app takes part in the split, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    Eligible,
    NotPublished,
    NoUsage,
    SuspendedForFraud,
}

impl Eligibility {
    pub fn of(usage: &AppUsage) -> Eligibility {
        if usage.suspended_for_fraud {
            Eligibility::SuspendedForFraud
        } else if !usage.published_in_period {
            Eligibility::NotPublished
        } else if usage.users == 0 {
            Eligibility::NoUsage
        } else {
            Eligibility::Eligible
        }
    }
}

/// One statement line: the app's inputs, every derived value, and its pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementLine {
    pub app_id: i64,
    pub eligibility: Eligibility,
    /// U
    pub users: u64,
    /// n
    pub ratings: u64,
    pub sum_stars: u64,
    pub published_at: DateTime<Utc>,
    /// R: the Bayesian rating.
    pub r: Ratio,
    /// q: 0 below `r_min`, else R / 5.
    pub q: Ratio,
    /// w = U * q (0 when not eligible).
    pub w: Ratio,
    /// sum(w) over the order's apps.
    pub sum_w: Ratio,
    /// B: the order's budget.
    pub budget_fen: Fen,
    /// Whether the per-app cap limited this line.
    pub capped: bool,
    pub amount_fen: Fen,
}

impl SettlementLine {
    /// How the amount was derived, in Chinese, for the statement's
    /// `explanation` column and the public settlement page, e.g.
    /// `U=100，n=10，星数合计=50，R=4.00，q=0.8000，w=40.00，Σw=100.00，B=¥1,000.00 → ¥400.00`.
    pub fn explanation_zh(&self) -> String {
        let reason = match self.eligibility {
            Eligibility::Eligible => "",
            Eligibility::NotPublished => "（本期未上架，不参与分配）",
            Eligibility::NoUsage => "（本期无有效使用，不参与分配）",
            Eligibility::SuspendedForFraud => "（因违规被暂停，不参与分配）",
        };
        let cap = if self.capped {
            "（已达单个应用上限）"
        } else {
            ""
        };
        format!(
            "U={}，n={}，星数合计={}，R={}，q={}，w={}，Σw={}，B={} → {}{}{}",
            self.users,
            self.ratings,
            self.sum_stars,
            self.r.to_decimal_string(2),
            self.q.to_decimal_string(4),
            self.w.to_decimal_string(2),
            self.sum_w.to_decimal_string(2),
            self.budget_fen,
            self.amount_fen,
            cap,
            reason,
        )
    }
}

/// The settlement of one order for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSettlement {
    pub budget_fen: Fen,
    pub sum_w: Ratio,
    /// The sum of the lines' amounts.
    pub paid_fen: Fen,
    /// `budget - paid`: all of it when sum(w) = 0, the part no app could
    /// take when every paid app is capped, else zero.
    pub unspent_fen: Fen,
    /// The cap per app in fen, `floor(cap_share * B)`, if a cap is set.
    pub cap_fen: Option<Fen>,
    /// Sorted by app id, whatever the input order.
    pub lines: Vec<SettlementLine>,
}

/// Settles one order: see the module documentation for the formula.
///
/// The result depends only on the inputs as a set (lines are sorted by app
/// id first) and is exact to the fen: `paid + unspent = B` always.
pub fn settle_order(
    budget: Fen,
    apps: &[AppUsage],
    params: &SettlementParams,
) -> Result<OrderSettlement, SettlementError> {
    params.validate()?;
    if budget.is_negative() {
        return Err(SettlementError::NegativeBudget);
    }
    let mut apps: Vec<&AppUsage> = apps.iter().collect();
    apps.sort_by_key(|a| a.app_id);
    let mut seen = BTreeSet::new();
    for a in &apps {
        if !seen.insert(a.app_id) {
            return Err(SettlementError::DuplicateApp(a.app_id));
        }
        let plausible = if a.ratings == 0 {
            a.sum_stars == 0
        } else {
            a.sum_stars >= a.ratings && u128::from(a.sum_stars) <= u128::from(a.ratings) * 5
        };
        if !plausible {
            return Err(SettlementError::InconsistentRatings(a.app_id));
        }
    }

    let rating_params = params.rating_params();
    let five = Ratio::from_integer(5);
    let derived: Vec<(Eligibility, Ratio, Ratio, Ratio)> = apps
        .iter()
        .map(|a| {
            let eligibility = Eligibility::of(a);
            let r = bayesian_rating(a.ratings, a.sum_stars, &rating_params);
            let q = if r < params.r_min {
                Ratio::zero()
            } else {
                r.checked_div(&five).expect("5 is not zero")
            };
            let w = if eligibility == Eligibility::Eligible {
                &Ratio::from(a.users) * &q
            } else {
                Ratio::zero()
            };
            (eligibility, r, q, w)
        })
        .collect();
    let sum_w: Ratio = derived.iter().map(|(_, _, _, w)| w).sum();
    let weights: Vec<Ratio> = derived.iter().map(|(_, _, _, w)| w.clone()).collect();

    let cap_fen = params.cap_share.as_ref().map(|share| {
        let cap = (share * &Ratio::from(budget.as_fen())).floor();
        // cap_share <= 1 (validated), so the cap is at most the budget.
        Fen::from_fen(cap.to_i64().unwrap_or(budget.as_fen()))
    });
    let (amounts, capped) = allocate(budget, &weights, cap_fen);

    let paid = Fen::checked_sum(amounts.iter().copied())
        .expect("the amounts add up to at most the budget, which is an i64");
    let unspent = budget
        .checked_sub(paid)
        .expect("paid is between 0 and the budget");
    let lines = apps
        .iter()
        .zip(derived)
        .zip(amounts.into_iter().zip(capped))
        .map(
            |((a, (eligibility, r, q, w)), (amount, capped))| SettlementLine {
                app_id: a.app_id,
                eligibility,
                users: a.users,
                ratings: a.ratings,
                sum_stars: a.sum_stars,
                published_at: a.published_at,
                r,
                q,
                w,
                sum_w: sum_w.clone(),
                budget_fen: budget,
                capped,
                amount_fen: amount,
            },
        )
        .collect();
    Ok(OrderSettlement {
        budget_fen: budget,
        sum_w,
        paid_fen: paid,
        unspent_fen: unspent,
        cap_fen,
        lines,
    })
}

/// Splits `budget` in proportion to `weights` (non-negative, in app-id
/// order), with an optional per-app cap. Returns each app's fen and
/// whether the cap bound it.
///
/// With a cap this is water-filling: apps whose proportional share exceeds
/// the cap are fixed at the cap, and what remains is shared again among
/// the others, until no share exceeds the cap. An app capped in one round
/// stays capped, because removing capped apps only raises the others'
/// shares, so at most one round per app is needed.
fn allocate(budget: Fen, weights: &[Ratio], cap_fen: Option<Fen>) -> (Vec<Fen>, Vec<bool>) {
    let n = weights.len();
    let mut capped = vec![false; n];
    let zero_result = (vec![Fen::ZERO; n], vec![false; n]);
    let b = Ratio::from(budget.as_fen());
    if budget.as_fen() == 0 || weights.iter().all(|w| !w.is_positive()) {
        return zero_result;
    }
    let cap = cap_fen.map(|c| Ratio::from(c.as_fen()));
    let mut remaining = b.clone();
    let mut uncapped_w: Ratio = weights.iter().sum();
    if let Some(cap) = &cap {
        loop {
            if !uncapped_w.is_positive() {
                break;
            }
            let newly: Vec<usize> = (0..n)
                .filter(|&i| !capped[i] && weights[i].is_positive())
                .filter(|&i| {
                    let share = (&remaining * &weights[i])
                        .checked_div(&uncapped_w)
                        .expect("uncapped weight is positive");
                    share > *cap
                })
                .collect();
            if newly.is_empty() {
                break;
            }
            for i in newly {
                capped[i] = true;
                remaining = &remaining - cap;
                uncapped_w = &uncapped_w - &weights[i];
            }
        }
    }
    let quotas: Vec<Ratio> = (0..n)
        .map(|i| {
            if capped[i] {
                cap.clone().unwrap_or_else(Ratio::zero)
            } else if weights[i].is_positive() && uncapped_w.is_positive() {
                (&remaining * &weights[i])
                    .checked_div(&uncapped_w)
                    .expect("uncapped weight is positive")
            } else {
                Ratio::zero()
            }
        })
        .collect();
    // Quotas add up to B, or to (capped apps x cap) when every paid app is
    // capped; both are whole fen, which largest remainder needs.
    let total: Ratio = quotas.iter().sum();
    let total = total.floor();
    let amounts = largest_remainder(&total, &quotas)
        .into_iter()
        .map(|a| Fen::from_fen(a.to_i64().expect("each amount is at most the budget")))
        .collect();
    (amounts, capped)
}

/// Rounds exact `quotas` to integers adding up to `total` (which must be
/// `sum(quotas)` rounded down): each gets its floor, then the leftover units
/// go one each to the largest fractional parts, ties to the earlier index
/// (callers order by app id ascending, or by rank).
fn largest_remainder(total: &BigInt, quotas: &[Ratio]) -> Vec<BigInt> {
    let mut amounts: Vec<BigInt> = quotas.iter().map(Ratio::floor).collect();
    let floors: BigInt = amounts.iter().sum();
    let leftover = (total - floors).to_usize().unwrap_or(0);
    let mut order: Vec<(usize, Ratio)> = quotas.iter().map(Ratio::fract).enumerate().collect();
    // Stable sort: equal fractions keep index order, i.e. app id ascending.
    order.sort_by(|a, b| b.1.cmp(&a.1));
    for (i, _) in order.into_iter().take(leftover) {
        amounts[i] += 1;
    }
    amounts
}

/// An app in the running for the period's rewards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardCandidate {
    pub app_id: i64,
    pub w: Ratio,
    pub r: Ratio,
    pub users: u64,
    pub published_at: DateTime<Utc>,
}

impl From<&SettlementLine> for RewardCandidate {
    fn from(line: &SettlementLine) -> RewardCandidate {
        RewardCandidate {
            app_id: line.app_id,
            w: line.w.clone(),
            r: line.r.clone(),
            users: line.users,
            published_at: line.published_at,
        }
    }
}

/// One reward: rank 1 is the best app platform-wide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardLine {
    pub rank: u32,
    pub app_id: i64,
    pub share_percent: u8,
    pub w: Ratio,
    pub r: Ratio,
    pub users: u64,
    pub amount_fen: Fen,
}

/// Splits the reward `pool` among the best candidates, ranked by w (ties:
/// higher R, then higher U, then earlier publication, then lower app id so
/// the order is total). Only apps with w > 0 can win. The pool is first
/// split by `split_percent` with largest remainder (ties to the better
/// rank), so the slot amounts add up to the pool exactly; a slot without a
/// candidate stays unspent (pool minus the lines' sum).
pub fn rewards(
    pool: Fen,
    candidates: &[RewardCandidate],
    split_percent: &[u8],
) -> Result<Vec<RewardLine>, SettlementError> {
    validate_split(split_percent)?;
    if pool.is_negative() {
        return Err(SettlementError::InvalidParams(
            "reward_pool_fen must not be negative",
        ));
    }
    let mut seen = BTreeSet::new();
    for c in candidates {
        if !seen.insert(c.app_id) {
            return Err(SettlementError::DuplicateApp(c.app_id));
        }
    }
    let mut ranked: Vec<&RewardCandidate> =
        candidates.iter().filter(|c| c.w.is_positive()).collect();
    ranked.sort_by(|a, b| {
        b.w.cmp(&a.w)
            .then_with(|| b.r.cmp(&a.r))
            .then_with(|| b.users.cmp(&a.users))
            .then_with(|| a.published_at.cmp(&b.published_at))
            .then_with(|| a.app_id.cmp(&b.app_id))
    });
    let pool_r = Ratio::from(pool.as_fen());
    let quotas: Vec<Ratio> = split_percent
        .iter()
        .map(|&p| {
            (&pool_r * &Ratio::from(u64::from(p)))
                .checked_div(&Ratio::from_integer(100))
                .expect("100 is not zero")
        })
        .collect();
    let slots = largest_remainder(&BigInt::from(pool.as_fen()), &quotas);
    Ok(ranked
        .into_iter()
        .zip(split_percent.iter().zip(slots))
        .zip(1u32..)
        .map(|((c, (&percent, amount)), rank)| RewardLine {
            rank,
            app_id: c.app_id,
            share_percent: percent,
            w: c.w.clone(),
            r: c.r.clone(),
            users: c.users,
            amount_fen: Fen::from_fen(amount.to_i64().expect("each slot is at most the pool")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).expect("in range")
    }

    fn usage(app_id: i64, users: u64, ratings: u64, sum_stars: u64) -> AppUsage {
        AppUsage {
            app_id,
            users,
            ratings,
            sum_stars,
            published_at: t0(),
            published_in_period: true,
            suspended_for_fraud: false,
        }
    }

    fn ratio(s: &str) -> Ratio {
        Ratio::parse(s).expect("valid ratio")
    }

    fn amounts(s: &OrderSettlement) -> Vec<(i64, i64)> {
        s.lines
            .iter()
            .map(|l| (l.app_id, l.amount_fen.as_fen()))
            .collect()
    }

    #[test]
    fn usage_times_quality_splits_the_budget_and_low_ratings_earn_nothing() {
        // A: R = 3 (prior only), q = 3/5, w = 100 * 3/5 = 60.
        // B: R = (30 + 50) / 20 = 4, q = 4/5, w = 50 * 4/5 = 40.
        // C: R = (30 + 10) / 20 = 2 < 2.5, so q = 0 and w = 0.
        let apps = [
            usage(1, 100, 0, 0),
            usage(2, 50, 10, 50),
            usage(3, 200, 10, 10),
        ];
        let s = settle_order(Fen::from_fen(100_000), &apps, &SettlementParams::default())
            .expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 60_000), (2, 40_000), (3, 0)]);
        assert_eq!(s.sum_w, Ratio::from_integer(100));
        let b = &s.lines[1];
        assert_eq!(
            (b.r.clone(), b.q.clone(), b.w.clone()),
            (ratio("4"), ratio("4/5"), ratio("40"))
        );
        assert_eq!(s.lines[2].r, ratio("2"));
        assert_eq!(s.lines[2].q, Ratio::zero());
        assert_eq!(s.unspent_fen, Fen::ZERO);
    }

    #[test]
    fn a_line_explains_itself_in_chinese() {
        let apps = [usage(1, 100, 0, 0), usage(2, 50, 10, 50)];
        let s = settle_order(Fen::from_fen(100_000), &apps, &SettlementParams::default())
            .expect("valid inputs");
        assert_eq!(
            s.lines[1].explanation_zh(),
            "U=50，n=10，星数合计=50，R=4.00，q=0.8000，w=40.00，Σw=100.00，B=¥1,000.00 → ¥400.00"
        );
    }

    #[test]
    fn leftover_fen_go_to_the_largest_remainders_and_ties_to_the_lowest_app_id() {
        // Three equal weights, 100 fen: 33.33 each, 1 fen left over.
        let apps = [usage(7, 10, 0, 0), usage(3, 10, 0, 0), usage(5, 10, 0, 0)];
        let s = settle_order(Fen::from_fen(100), &apps, &SettlementParams::default())
            .expect("valid inputs");
        assert_eq!(amounts(&s), [(3, 34), (5, 33), (7, 33)]);

        // Weights 1, 2 and 4 of 100 fen: 14.29, 28.57, 57.14; floors 99,
        // the 1 left over goes to the largest fraction (app 2's .57).
        let apps = [usage(1, 5, 0, 0), usage(2, 10, 0, 0), usage(3, 20, 0, 0)];
        let s = settle_order(Fen::from_fen(100), &apps, &SettlementParams::default())
            .expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 14), (2, 29), (3, 57)]);
    }

    #[test]
    fn when_no_app_has_weight_nothing_is_paid_and_the_budget_is_unspent() {
        let mut suspended = usage(2, 500, 0, 0);
        suspended.suspended_for_fraud = true;
        let apps = [usage(1, 100, 10, 10), suspended, usage(3, 0, 0, 0)];
        let s = settle_order(Fen::from_fen(5_000), &apps, &SettlementParams::default())
            .expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 0), (2, 0), (3, 0)]);
        assert_eq!(s.sum_w, Ratio::zero());
        assert_eq!(
            (s.paid_fen, s.unspent_fen),
            (Fen::ZERO, Fen::from_fen(5_000))
        );
        assert_eq!(s.lines[1].eligibility, Eligibility::SuspendedForFraud);
        assert_eq!(s.lines[2].eligibility, Eligibility::NoUsage);
    }

    #[test]
    fn a_capped_app_gives_its_excess_to_the_others() {
        // Weights 80, 10, 10 of 1000 fen with a cap of half: A would get
        // 800, is capped at 500, and B and C share the other 500.
        let apps = [usage(1, 80, 0, 0), usage(2, 10, 0, 0), usage(3, 10, 0, 0)];
        let params = SettlementParams {
            cap_share: Some(ratio("1/2")),
            ..SettlementParams::default()
        };
        let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 500), (2, 250), (3, 250)]);
        assert!(s.lines[0].capped && !s.lines[1].capped);
        assert_eq!(s.cap_fen, Some(Fen::from_fen(500)));
    }

    #[test]
    fn redistribution_can_push_a_second_app_over_the_cap() {
        // Weights 50, 30, 20 of 1000 fen, cap 40%: A capped at 400; B's
        // share of the remaining 600 is 360 < 400, C gets 240.
        // With cap 35%: A at 350, then B's share of 650 is 390 > 350, so B
        // is capped too and C takes the remaining 300.
        let apps = [usage(1, 50, 0, 0), usage(2, 30, 0, 0), usage(3, 20, 0, 0)];
        let mut params = SettlementParams {
            cap_share: Some(ratio("0.4")),
            ..SettlementParams::default()
        };
        let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 400), (2, 360), (3, 240)]);
        params.cap_share = Some(ratio("0.35"));
        let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 350), (2, 350), (3, 300)]);
    }

    #[test]
    fn when_every_paying_app_is_capped_the_rest_is_unspent() {
        let apps = [usage(1, 10, 0, 0), usage(2, 30, 0, 0)];
        let params = SettlementParams {
            cap_share: Some(ratio("1/4")),
            ..SettlementParams::default()
        };
        let s = settle_order(Fen::from_fen(1_001), &apps, &params).expect("valid inputs");
        assert_eq!(amounts(&s), [(1, 250), (2, 250)]);
        assert_eq!(s.unspent_fen, Fen::from_fen(501));
    }

    #[test]
    fn impossible_inputs_are_refused() {
        let p = SettlementParams::default();
        assert_eq!(
            settle_order(Fen::from_fen(-1), &[], &p),
            Err(SettlementError::NegativeBudget)
        );
        assert_eq!(
            settle_order(
                Fen::from_fen(1),
                &[usage(1, 1, 0, 0), usage(1, 2, 0, 0)],
                &p
            ),
            Err(SettlementError::DuplicateApp(1))
        );
        assert_eq!(
            settle_order(Fen::from_fen(1), &[usage(4, 1, 2, 11)], &p),
            Err(SettlementError::InconsistentRatings(4))
        );
        let bad = SettlementParams {
            reward_split_percent: vec![50, 30, 30],
            ..SettlementParams::default()
        };
        assert!(matches!(
            settle_order(Fen::from_fen(1), &[], &bad),
            Err(SettlementError::InvalidParams(_))
        ));
    }

    #[test]
    fn params_deserialise_with_defaults_and_refuse_unknown_fields() {
        let p: SettlementParams =
            serde_json::from_str(r#"{"r_min": 3.0, "cap_share": "0.3"}"#).expect("valid");
        assert_eq!(p.r_min, Ratio::from_integer(3));
        assert_eq!(p.cap_share, Some(ratio("3/10")));
        assert_eq!(p.c, 10);
        assert!(serde_json::from_str::<SettlementParams>(r#"{"rmin": 3}"#).is_err());
        let json = serde_json::to_value(SettlementParams::default()).expect("serialise");
        assert_eq!(json["r_min"], "5/2");
        assert_eq!(
            json["reward_split_percent"],
            serde_json::json!([50, 30, 20])
        );
    }

    fn candidate(app_id: i64, w: &str, r: &str, users: u64, days: i64) -> RewardCandidate {
        RewardCandidate {
            app_id,
            w: ratio(w),
            r: ratio(r),
            users,
            published_at: t0() + chrono::Duration::days(days),
        }
    }

    #[test]
    fn rewards_go_fifty_thirty_twenty_to_the_top_three_by_weight() {
        let c = [
            candidate(1, "10", "4", 10, 0),
            candidate(2, "30", "4", 10, 0),
            candidate(3, "20", "4", 10, 0),
            candidate(4, "5", "4", 10, 0),
        ];
        let lines = rewards(Fen::from_fen(1_001), &c, &[50, 30, 20]).expect("valid");
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.rank, l.app_id, l.amount_fen.as_fen()))
            .collect();
        // 500.5, 300.3, 200.2: the leftover fen goes to rank 1's .5.
        assert_eq!(got, [(1, 2, 501), (2, 3, 300), (3, 1, 200)]);
    }

    #[test]
    fn reward_ties_fall_to_rating_then_users_then_earlier_publication() {
        let c = [
            candidate(1, "12", "3", 20, 0),
            candidate(2, "12", "4", 15, 5),
            candidate(3, "12", "3", 20, -1),
            candidate(4, "12", "3", 30, 9),
        ];
        let lines = rewards(Fen::from_fen(100), &c, &[50, 30, 20]).expect("valid");
        let ranked: Vec<_> = lines.iter().map(|l| l.app_id).collect();
        assert_eq!(ranked, [2, 4, 3]);
    }

    #[test]
    fn rewards_need_positive_weight_and_empty_slots_stay_unspent() {
        let c = [candidate(1, "0", "2", 100, 0), candidate(2, "1", "3", 1, 0)];
        let lines = rewards(Fen::from_fen(1_000), &c, &[50, 30, 20]).expect("valid");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].app_id, lines[0].amount_fen),
            (2, Fen::from_fen(500))
        );
    }

    // ---- properties ----

    fn arb_usage(app_id: i64) -> impl Strategy<Value = AppUsage> {
        (
            0u64..5_000,
            0u64..300,
            0u64..=400,
            0i64..1_000,
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.05),
        )
            .prop_map(
                move |(users, ratings, spread, days, published, fraud)| AppUsage {
                    app_id,
                    users,
                    ratings,
                    sum_stars: ratings + ratings * spread / 100,
                    published_at: t0() + chrono::Duration::days(days),
                    published_in_period: published,
                    suspended_for_fraud: fraud,
                },
            )
    }

    fn arb_apps() -> impl Strategy<Value = Vec<AppUsage>> {
        prop::collection::btree_set(1i64..10_000, 0..12)
            .prop_flat_map(|ids| ids.into_iter().map(arb_usage).collect::<Vec<_>>())
    }

    fn arb_params() -> impl Strategy<Value = SettlementParams> {
        prop::option::of((1i64..=100).prop_map(|p| Ratio::new(p, 100).expect("non-zero"))).prop_map(
            |cap_share| SettlementParams {
                cap_share,
                ..SettlementParams::default()
            },
        )
    }

    fn arb_budget() -> impl Strategy<Value = Fen> {
        prop_oneof![0i64..1_000, 0i64..100_000_000_000].prop_map(Fen::from_fen)
    }

    proptest! {
        #[test]
        fn lines_add_up_to_the_budget_or_report_it_unspent(
            budget in arb_budget(), apps in arb_apps(), params in arb_params(),
        ) {
            let s = settle_order(budget, &apps, &params).expect("valid inputs");
            let total = Fen::checked_sum(s.lines.iter().map(|l| l.amount_fen)).expect("no overflow");
            prop_assert_eq!(total, s.paid_fen);
            prop_assert_eq!(s.paid_fen.checked_add(s.unspent_fen), Some(budget));
            let any_uncapped_paid = s.lines.iter().any(|l| l.w.is_positive() && !l.capped);
            if s.sum_w.is_zero() {
                prop_assert_eq!(s.paid_fen, Fen::ZERO);
            } else if any_uncapped_paid {
                prop_assert_eq!(s.paid_fen, budget);
            }
            for l in &s.lines {
                prop_assert!(!l.amount_fen.is_negative());
                prop_assert!(l.amount_fen <= budget);
                if let Some(cap) = s.cap_fen {
                    prop_assert!(l.amount_fen <= cap);
                }
                if !l.w.is_positive() {
                    prop_assert_eq!(l.amount_fen, Fen::ZERO);
                }
            }
        }

        #[test]
        fn without_a_cap_each_line_is_within_one_fen_of_its_exact_share(
            budget in arb_budget(), apps in arb_apps(),
        ) {
            let s = settle_order(budget, &apps, &SettlementParams::default()).expect("valid inputs");
            prop_assume!(s.sum_w.is_positive());
            for l in &s.lines {
                // Re-derived from the line's own stored inputs.
                let exact = (&Ratio::from(l.budget_fen.as_fen()) * &l.w)
                    .checked_div(&l.sum_w)
                    .expect("sum_w is positive");
                let diff = &Ratio::from(l.amount_fen.as_fen()) - &exact;
                prop_assert!(diff > Ratio::from_integer(-1) && diff < Ratio::one());
            }
        }

        #[test]
        fn the_result_does_not_depend_on_input_order(
            budget in arb_budget(), apps in arb_apps(), params in arb_params(), seed: u64,
        ) {
            let a = settle_order(budget, &apps, &params).expect("valid inputs");
            let mut shuffled = apps.clone();
            // A deterministic Fisher-Yates driven by the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let b = settle_order(budget, &shuffled, &params).expect("valid inputs");
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a, settle_order(budget, &apps, &params).expect("valid inputs"));
        }

        #[test]
        fn more_users_at_the_same_rating_never_earn_less(
            budget in arb_budget(), apps in arb_apps(), params in arb_params(),
            pick: prop::sample::Index, extra in 1u64..1_000,
        ) {
            prop_assume!(!apps.is_empty());
            let i = pick.index(apps.len());
            let before = settle_order(budget, &apps, &params).expect("valid inputs");
            let mut more = apps.clone();
            more[i].users += extra;
            let after = settle_order(budget, &more, &params).expect("valid inputs");
            let id = apps[i].app_id;
            let paid = |s: &OrderSettlement| s.lines.iter().find(|l| l.app_id == id).map(|l| l.amount_fen);
            prop_assert!(paid(&after) >= paid(&before), "{:?} < {:?}", paid(&after), paid(&before));
        }

        #[test]
        fn rewards_never_exceed_the_pool_and_follow_the_ranking(
            pool in 0i64..10_000_000, apps in arb_apps(),
        ) {
            let s = settle_order(Fen::from_fen(1_000_000), &apps, &SettlementParams::default())
                .expect("valid inputs");
            let candidates: Vec<RewardCandidate> = s.lines.iter().map(RewardCandidate::from).collect();
            let lines = rewards(Fen::from_fen(pool), &candidates, &[50, 30, 20]).expect("valid");
            let total = Fen::checked_sum(lines.iter().map(|l| l.amount_fen)).expect("no overflow");
            prop_assert!(total <= Fen::from_fen(pool));
            let positive = candidates.iter().filter(|c| c.w.is_positive()).count();
            prop_assert_eq!(lines.len(), positive.min(3));
            if positive >= 3 {
                prop_assert_eq!(total, Fen::from_fen(pool));
            }
            for pair in lines.windows(2) {
                prop_assert!(pair[0].w >= pair[1].w);
                prop_assert!(pair[0].amount_fen >= pair[1].amount_fen);
            }
        }
    }
}
