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
mod tests;
