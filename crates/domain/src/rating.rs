//! Ratings: the Bayesian average used for ranking and settlement, and the
//! star histogram shown on a service page.

use serde::{Deserialize, Serialize};

use crate::ratio::Ratio;
use crate::stars::Stars;

/// The prior of the Bayesian average: an app with no ratings is treated as
/// if it had `c` ratings of `m` stars, so a single 5-star rating cannot
/// outrank an app rated 4.8 by a thousand citizens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingParams {
    /// C, the weight of the prior in ratings.
    pub c: u64,
    /// m, the prior mean in stars (exact, so `3.0` is exactly 3).
    pub m: Ratio,
}

impl Default for RatingParams {
    fn default() -> RatingParams {
        RatingParams {
            c: 10,
            m: Ratio::from_integer(3),
        }
    }
}

/// `(C*m + sum_stars) / (C + n)`, exactly.
///
/// With `C = 0` and no ratings the formula is 0/0; the prior mean `m` is
/// returned then, the only value consistent with "no information".
pub fn bayesian_rating(n: u64, sum_stars: u64, params: &RatingParams) -> Ratio {
    let c = Ratio::from(params.c);
    let total = params.c.checked_add(n).map(Ratio::from);
    match total {
        Some(t) if !t.is_zero() => {
            let numer = &(&c * &params.m) + &Ratio::from(sum_stars);
            numer
                .checked_div(&t)
                .expect("the denominator C + n was checked to be non-zero")
        }
        Some(_) => params.m.clone(),
        // C + n beyond u64: compute in big integers instead.
        None => {
            let numer = &(&c * &params.m) + &Ratio::from(sum_stars);
            let t = &c + &Ratio::from(n);
            numer.checked_div(&t).unwrap_or_else(|| params.m.clone())
        }
    }
}

/// How many ratings of each star count an app has.
/// Serialised as five counts, for 1 star first: `[0, 1, 3, 10, 22]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StarHistogram([u64; 5]);

impl StarHistogram {
    pub fn new() -> StarHistogram {
        StarHistogram::default()
    }

    pub fn from_counts(counts: [u64; 5]) -> StarHistogram {
        StarHistogram(counts)
    }

    pub fn add(&mut self, stars: Stars) {
        let slot = &mut self.0[usize::from(stars.get() - 1)];
        *slot = slot.saturating_add(1);
    }

    /// Undoes an [`add`](Self::add), for an edited rating. Removing a
    /// rating that was never added leaves the count at zero.
    pub fn remove(&mut self, stars: Stars) {
        let slot = &mut self.0[usize::from(stars.get() - 1)];
        *slot = slot.saturating_sub(1);
    }

    pub fn count(&self, stars: Stars) -> u64 {
        self.0[usize::from(stars.get() - 1)]
    }

    pub fn counts(&self) -> [u64; 5] {
        self.0
    }

    /// n, the number of ratings.
    pub fn n(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, c| acc.saturating_add(*c))
    }

    /// The sum of all stars given.
    pub fn sum_stars(&self) -> u64 {
        self.0
            .iter()
            .zip(1u64..)
            .fold(0u64, |acc, (c, s)| acc.saturating_add(c.saturating_mul(s)))
    }

    /// The plain mean, or `None` without ratings.
    pub fn mean(&self) -> Option<Ratio> {
        Ratio::new(self.sum_stars(), self.n()).ok()
    }

    pub fn bayesian(&self, params: &RatingParams) -> Ratio {
        bayesian_rating(self.n(), self.sum_stars(), params)
    }
}

impl FromIterator<Stars> for StarHistogram {
    fn from_iter<I: IntoIterator<Item = Stars>>(iter: I) -> StarHistogram {
        let mut h = StarHistogram::new();
        for s in iter {
            h.add(s);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stars(n: u8) -> Stars {
        Stars::new(n).expect("1..=5")
    }

    #[test]
    fn an_unrated_app_sits_at_the_prior_mean() {
        assert_eq!(
            bayesian_rating(0, 0, &RatingParams::default()),
            Ratio::from_integer(3)
        );
    }

    #[test]
    fn a_single_five_star_rating_moves_the_average_only_a_little() {
        // (10*3 + 5) / (10 + 1) = 35/11
        let r = bayesian_rating(1, 5, &RatingParams::default());
        assert_eq!(r, Ratio::new(35, 11).expect("valid"));
        assert_eq!(r.to_decimal_string(2), "3.18");
    }

    #[test]
    fn many_ratings_outweigh_the_prior() {
        // 1000 ratings averaging 4.8: (30 + 4800) / 1010 = 483/101 ≈ 4.78
        let r = bayesian_rating(1000, 4800, &RatingParams::default());
        assert_eq!(r, Ratio::new(483, 101).expect("valid"));
        assert!(r > bayesian_rating(1, 5, &RatingParams::default()));
    }

    #[test]
    fn a_zero_weight_prior_without_ratings_falls_back_to_the_prior_mean() {
        let params = RatingParams {
            c: 0,
            m: Ratio::parse("3.5").expect("valid"),
        };
        assert_eq!(
            bayesian_rating(0, 0, &params),
            Ratio::new(7, 2).expect("valid")
        );
        assert_eq!(
            bayesian_rating(2, 9, &params),
            Ratio::new(9, 2).expect("valid")
        );
    }

    #[test]
    fn the_histogram_tracks_edits_and_feeds_the_average() {
        let mut h: StarHistogram = [5, 5, 4, 1].into_iter().map(stars).collect();
        assert_eq!(h.counts(), [1, 0, 0, 1, 2]);
        assert_eq!((h.n(), h.sum_stars()), (4, 15));
        // The citizen who gave 1 star edits it to 4.
        h.remove(stars(1));
        h.add(stars(4));
        assert_eq!(h.counts(), [0, 0, 0, 2, 2]);
        assert_eq!(h.mean(), Ratio::new(9, 2).ok());
        assert_eq!(
            h.bayesian(&RatingParams::default()),
            Ratio::new(48, 14).expect("valid")
        );
        assert_eq!(serde_json::to_string(&h).expect("serialise"), "[0,0,0,2,2]");
    }

    proptest! {
        #[test]
        fn the_bayesian_rating_lies_between_the_prior_and_the_plain_mean(
            n in 1u64..100_000, avg_numer in 0u64..=400, c in 0u64..100,
        ) {
            // sum_stars in [n, 5n]
            let sum = n + n * avg_numer / 100;
            let params = RatingParams { c, m: Ratio::from_integer(3) };
            let r = bayesian_rating(n, sum, &params);
            let mean = Ratio::new(sum, n).expect("n > 0");
            let (lo, hi) = if mean < params.m { (mean, params.m.clone()) } else { (params.m.clone(), mean) };
            prop_assert!(lo <= r && r <= hi);
        }
    }
}
