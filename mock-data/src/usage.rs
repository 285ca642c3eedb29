//! Simulated citizen usage and ratings for one quarter, to demo and load
//! test settlement. Deterministic in its seed and cheap: a few integer
//! draws per event.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::{Period, Stars};
use serde::Serialize;

use crate::rng::Rng;

/// One successful invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SimulatedUse {
    /// Index of the citizen, `0..citizens`.
    pub citizen: usize,
    /// Index of the app, `0..apps`.
    pub app: usize,
    pub at: DateTime<Utc>,
}

/// A rating, given after the citizen's first use of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SimulatedRating {
    pub citizen: usize,
    pub app: usize,
    pub stars: Stars,
    pub at: DateTime<Utc>,
}

/// A quarter's simulated activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulatedQuarter {
    /// Sorted by time (then citizen, then app).
    pub uses: Vec<SimulatedUse>,
    /// At most one per citizen and app, sorted by time.
    pub ratings: Vec<SimulatedRating>,
    /// Each app's hidden "true" quality (1..=5) the ratings scatter around,
    /// so a demo can show that better apps earn more.
    pub app_quality: Vec<u8>,
}

/// Per-app totals of a simulation: the settlement's U, n and sum of stars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AppTotals {
    pub users: u64,
    pub ratings: u64,
    pub sum_stars: u64,
}

impl SimulatedQuarter {
    /// U, n and the sum of stars for each app index `0..apps`.
    pub fn app_totals(&self, apps: usize) -> Vec<AppTotals> {
        let mut totals = vec![AppTotals::default(); apps];
        // Uses are grouped per (citizen, app) by construction only loosely
        // (sorted by time), so count distinct pairs explicitly.
        let mut pairs: Vec<(usize, usize)> = self.uses.iter().map(|u| (u.app, u.citizen)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        for (app, _) in pairs {
            if let Some(t) = totals.get_mut(app) {
                t.users += 1;
            }
        }
        for r in &self.ratings {
            if let Some(t) = totals.get_mut(r.app) {
                t.ratings += 1;
                t.sum_stars += u64::from(r.stars.get());
            }
        }
        totals
    }
}

/// Simulates `citizens` citizens using `apps` apps during `period` (read
/// in `tz`). Apps differ in popularity and quality; most citizens use one
/// or two apps a few times, and a bit under half of them rate what they
/// used. The same arguments always give the same result.
pub fn simulate_quarter(
    seed: u64,
    citizens: usize,
    apps: usize,
    period: Period,
    tz: Tz,
) -> SimulatedQuarter {
    let mut rng = Rng::new(seed);
    let start = period.start(tz);
    let span_secs = (period.end(tz) - start).num_seconds().max(1) as u64;
    let popularity: Vec<u64> = (0..apps).map(|_| 1 + rng.below(10)).collect();
    let app_quality: Vec<u8> = (0..apps).map(|_| 1 + rng.below(5) as u8).collect();
    let total_popularity: u64 = popularity.iter().sum();
    let pick_app = |rng: &mut Rng| -> usize {
        let mut x = rng.below(total_popularity);
        for (i, p) in popularity.iter().enumerate() {
            if x < *p {
                return i;
            }
            x -= p;
        }
        apps.saturating_sub(1)
    };
    let mut uses = Vec::with_capacity(citizens * 2);
    let mut ratings = Vec::with_capacity(citizens);
    for citizen in 0..citizens {
        if apps == 0 {
            break;
        }
        let wanted = match rng.below(100) {
            0..=29 => 0,
            30..=74 => 1,
            75..=94 => 2,
            _ => 3,
        }
        .min(apps);
        let mut chosen: Vec<usize> = Vec::with_capacity(wanted);
        // Bounded retries: with few apps, duplicates are simply dropped.
        for _ in 0..wanted * 4 {
            if chosen.len() == wanted {
                break;
            }
            let app = pick_app(&mut rng);
            if !chosen.contains(&app) {
                chosen.push(app);
            }
        }
        for app in chosen {
            let times = 1 + rng.below(4);
            let mut first: Option<DateTime<Utc>> = None;
            for _ in 0..times {
                let at = start + chrono::Duration::seconds(rng.below(span_secs) as i64);
                first = Some(first.map_or(at, |f| f.min(at)));
                uses.push(SimulatedUse { citizen, app, at });
            }
            if let Some(first) = first
                && rng.chance(45)
            {
                let quality = i64::from(app_quality[app]);
                let noise = [-1, 0, 0, 0, 1][rng.below(5) as usize];
                let stars =
                    Stars::new((quality + noise).clamp(1, 5) as u8).expect("clamped to 1..=5");
                // Rated within a day of first use, but inside the period.
                let remaining = (period.end(tz) - first).num_seconds().max(1) as u64;
                let delay = rng.below(remaining.min(86_400));
                let at = first + chrono::Duration::seconds(delay as i64);
                ratings.push(SimulatedRating {
                    citizen,
                    app,
                    stars,
                    at,
                });
            }
        }
    }
    uses.sort_by_key(|u| (u.at, u.citizen, u.app));
    ratings.sort_by_key(|r| (r.at, r.citizen, r.app));
    SimulatedQuarter {
        uses,
        ratings,
        app_quality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::PLATFORM_TZ;

    fn q3() -> Period {
        Period::parse("2026Q3").expect("valid period")
    }

    #[test]
    fn the_same_seed_gives_the_same_quarter() {
        let a = simulate_quarter(42, 500, 6, q3(), PLATFORM_TZ);
        let b = simulate_quarter(42, 500, 6, q3(), PLATFORM_TZ);
        assert_eq!(a, b);
        let c = simulate_quarter(43, 500, 6, q3(), PLATFORM_TZ);
        assert_ne!(a.uses, c.uses);
    }

    #[test]
    fn every_event_lies_in_the_period_and_ratings_follow_a_use() {
        let sim = simulate_quarter(7, 2_000, 8, q3(), PLATFORM_TZ);
        assert!(sim.uses.len() > 2_000);
        for u in &sim.uses {
            assert!(q3().contains(&u.at, PLATFORM_TZ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &sim.ratings {
            assert!(q3().contains(&r.at, PLATFORM_TZ));
            assert!(
                seen.insert((r.citizen, r.app)),
                "one rating per citizen and app"
            );
            assert!(
                sim.uses
                    .iter()
                    .any(|u| u.citizen == r.citizen && u.app == r.app && u.at <= r.at)
            );
        }
        let totals = sim.app_totals(8);
        assert!(totals.iter().all(|t| t.ratings <= t.users));
        assert!(
            totals
                .iter()
                .all(|t| t.sum_stars >= t.ratings && t.sum_stars <= 5 * t.ratings)
        );
    }

    #[test]
    fn ten_thousand_citizens_simulate_in_well_under_a_second() {
        let started = std::time::Instant::now();
        let sim = simulate_quarter(1, 10_000, 12, q3(), PLATFORM_TZ);
        // Debug builds are slow; the bound still leaves a wide margin.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(sim.uses.len() > 10_000);
    }

    #[test]
    fn no_apps_or_no_citizens_give_an_empty_quarter() {
        assert!(
            simulate_quarter(1, 100, 0, q3(), PLATFORM_TZ)
                .uses
                .is_empty()
        );
        assert!(
            simulate_quarter(1, 0, 5, q3(), PLATFORM_TZ)
                .ratings
                .is_empty()
        );
    }
}
