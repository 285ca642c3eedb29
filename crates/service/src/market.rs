//! The market's shared rules: which quarter "this period" is, and the
//! rating a listing shows.

use chrono::{DateTime, Utc};
use domain::{Period, RatingParams, StarHistogram};

/// The period now in `tz`, the configured platform time zone
/// (`state.config.timezone`), e.g. `2026Q3`: "users this period" must
/// count the same quarter that settlement pays for.
pub fn current_period(tz: chrono_tz::Tz) -> String {
    period_at(&Utc::now(), tz)
}

/// The period containing `instant` in `tz`.
pub fn period_at(instant: &DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    Period::containing(instant, tz)
        .map(|p| p.to_string())
        // Only years outside the supported range fail; not reachable from the clock.
        .unwrap_or_default()
}

pub fn bayesian(counts: [u64; 5]) -> domain::Ratio {
    StarHistogram::from_counts(counts).bayesian(&RatingParams::default())
}

/// Whole stars of the Bayesian rating (1–5), the search rating facet.
pub fn rating_floor(counts: [u64; 5]) -> u8 {
    let floor = bayesian(counts).floor();
    u8::try_from(floor).unwrap_or(1).clamp(1, 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_zone_decides_the_current_period() {
        // 18:00 UTC on 30 September is already 1 October in Shanghai.
        let instant: DateTime<Utc> = "2026-09-30T18:00:00Z".parse().expect("timestamp");
        assert_eq!(
            period_at(&instant, crate::config::DEFAULT_TIMEZONE),
            "2026Q4"
        );
        assert_eq!(period_at(&instant, chrono_tz::UTC), "2026Q3");
        assert_eq!(period_at(&instant, chrono_tz::America::New_York), "2026Q3");
        // and a zone ahead of UTC moves the boundary the other way
        let instant: DateTime<Utc> = "2026-06-30T13:00:00Z".parse().expect("timestamp");
        assert_eq!(
            period_at(&instant, chrono_tz::Pacific::Kiritimati),
            "2026Q3"
        );
        assert_eq!(
            period_at(&instant, crate::config::DEFAULT_TIMEZONE),
            "2026Q2"
        );
    }
}
