//! Settlement periods: calendar quarters in the platform time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::user_facing;

/// The default platform time zone (DESIGN.md: Asia/Shanghai).
pub const PLATFORM_TZ: Tz = chrono_tz::Asia::Shanghai;

/// The earliest and latest years a period may have; four digits keep the
/// `2026Q3` form unambiguous and every quarter boundary representable.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9999;

/// A calendar quarter, e.g. `2026Q3`. It covers the half-open interval
/// `[start, end)` of instants, whose bounds are local midnights in the
/// platform time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    // Field order matters: the derived Ord sorts by year, then quarter.
    year: i32,
    quarter: u8,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("a period is written as a year and a quarter, e.g. 2026Q3")]
    InvalidFormat,
    #[error("the quarter must be 1, 2, 3 or 4")]
    InvalidQuarter,
    #[error("the year must be between 1900 and 9999")]
    YearOutOfRange,
}

user_facing!(PeriodError {
    PeriodError::InvalidFormat => ("period_invalid", "结算周期格式应为“年份Q季度”，如 2026Q3"),
    PeriodError::InvalidQuarter => ("period_invalid_quarter", "季度应为 1 至 4"),
    PeriodError::YearOutOfRange => ("period_year_out_of_range", "年份应在 1900 至 9999 之间"),
});

impl Period {
    pub fn new(year: i32, quarter: u8) -> Result<Period, PeriodError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::YearOutOfRange);
        }
        if !(1..=4).contains(&quarter) {
            return Err(PeriodError::InvalidQuarter);
        }
        Ok(Period { year, quarter })
    }

    /// Parses `2026Q3` (a lower-case `q` is accepted).
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let s = s.trim();
        let (year, quarter) = s.split_once(['Q', 'q']).ok_or(PeriodError::InvalidFormat)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PeriodError::InvalidFormat);
        }
        if quarter.len() != 1 || !quarter.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PeriodError::InvalidFormat);
        }
        let year: i32 = year.parse().map_err(|_| PeriodError::InvalidFormat)?;
        let quarter: u8 = quarter.parse().map_err(|_| PeriodError::InvalidFormat)?;
        Period::new(year, quarter)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1..=4.
    pub fn quarter(self) -> u8 {
        self.quarter
    }

    /// The quarter holding `date`.
    pub fn of_date(date: NaiveDate) -> Result<Period, PeriodError> {
        Period::new(date.year(), (date.month0() / 3 + 1) as u8)
    }

    /// The period an instant falls in, reading the instant in `tz`.
    pub fn containing<T: TimeZone>(instant: &DateTime<T>, tz: Tz) -> Result<Period, PeriodError> {
        Period::of_date(instant.with_timezone(&tz).date_naive())
    }

    /// The first calendar day of the quarter.
    pub fn first_day(self) -> NaiveDate {
        let month = u32::from(self.quarter - 1) * 3 + 1;
        NaiveDate::from_ymd_opt(self.year, month, 1)
            .expect("years 1900..=9999 and months 1, 4, 7, 10 form valid dates")
    }

    /// The first instant of the period: local midnight of its first day in `tz`.
    pub fn start(self, tz: Tz) -> DateTime<Utc> {
        local_day_start(self.first_day(), tz)
    }

    /// The first instant after the period (exclusive end), which is the
    /// start of the next quarter.
    pub fn end(self, tz: Tz) -> DateTime<Utc> {
        let next_first = match self.next() {
            Some(next) => next.first_day(),
            None => NaiveDate::from_ymd_opt(MAX_YEAR + 1, 1, 1)
                .expect("10000-01-01 is within chrono's range"),
        };
        local_day_start(next_first, tz)
    }

    /// Whether `instant` lies in `[start, end)`.
    pub fn contains<T: TimeZone>(self, instant: &DateTime<T>, tz: Tz) -> bool {
        let utc = instant.with_timezone(&Utc);
        self.start(tz) <= utc && utc < self.end(tz)
    }

    /// The following quarter; `None` after 9999Q4.
    pub fn next(self) -> Option<Period> {
        if self.quarter == 4 {
            Period::new(self.year + 1, 1).ok()
        } else {
            Some(Period {
                year: self.year,
                quarter: self.quarter + 1,
            })
        }
    }

    /// The preceding quarter; `None` before 1900Q1.
    pub fn prev(self) -> Option<Period> {
        if self.quarter == 1 {
            Period::new(self.year - 1, 4).ok()
        } else {
            Some(Period {
                year: self.year,
                quarter: self.quarter - 1,
            })
        }
    }
}

/// The first instant of `date` in `tz`. Where a DST jump skips midnight
/// (some zones do), the day starts at the first existing local time; where
/// midnight happens twice, at the earlier one.
fn local_day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // Zone transitions are at most a few hours long, so within the first
    // minutes of the day a valid local time exists; probe minute by minute.
    for minutes in 0..(24 * 60) {
        let local = midnight + chrono::Duration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // No zone in the tz database skips a whole day's worth of minutes except
    // at a date-line change, where the day does not exist at all: fall back
    // to reading midnight as UTC rather than failing.
    midnight.and_utc()
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}Q{}", self.year, self.quarter)
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(rfc3339: &str) -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339(rfc3339).expect("valid timestamp")
    }

    #[test]
    fn the_last_second_of_september_in_shanghai_is_still_q3() {
        let p =
            Period::containing(&at("2026-09-30T23:59:59+08:00"), PLATFORM_TZ).expect("in range");
        assert_eq!(p.to_string(), "2026Q3");
    }

    #[test]
    fn midnight_of_october_first_in_shanghai_is_q4() {
        let p =
            Period::containing(&at("2026-10-01T00:00:00+08:00"), PLATFORM_TZ).expect("in range");
        assert_eq!(p.to_string(), "2026Q4");
        // The same instant is still September in UTC, so Q3 there.
        let utc =
            Period::containing(&at("2026-10-01T00:00:00+08:00"), chrono_tz::UTC).expect("in range");
        assert_eq!(utc.to_string(), "2026Q3");
    }

    #[test]
    fn start_and_end_are_shanghai_midnights() {
        let p = Period::parse("2026Q3").expect("valid");
        assert_eq!(p.start(PLATFORM_TZ), at("2026-07-01T00:00:00+08:00"));
        assert_eq!(p.end(PLATFORM_TZ), at("2026-10-01T00:00:00+08:00"));
    }

    #[test]
    fn next_and_prev_cross_year_boundaries() {
        let q4 = Period::parse("2026q4").expect("valid");
        assert_eq!(q4.next().map(|p| p.to_string()), Some("2027Q1".to_owned()));
        assert_eq!(q4.next().and_then(Period::prev), Some(q4));
        assert_eq!(Period::parse("9999Q4").expect("valid").next(), None);
        assert_eq!(Period::parse("1900Q1").expect("valid").prev(), None);
    }

    #[test]
    fn malformed_periods_are_refused() {
        assert_eq!(Period::parse("2026Q5"), Err(PeriodError::InvalidQuarter));
        assert_eq!(Period::parse("2026Q0"), Err(PeriodError::InvalidQuarter));
        assert_eq!(Period::parse("2026-3"), Err(PeriodError::InvalidFormat));
        assert_eq!(Period::parse("26Q3"), Err(PeriodError::InvalidFormat));
        assert_eq!(Period::parse("2026Q+3"), Err(PeriodError::InvalidFormat));
        assert_eq!(Period::parse("1899Q4"), Err(PeriodError::YearOutOfRange));
    }

    #[test]
    fn serde_uses_the_canonical_string() {
        let p = Period::new(2026, 3).expect("valid");
        assert_eq!(serde_json::to_string(&p).expect("serialise"), "\"2026Q3\"");
        assert!(serde_json::from_str::<Period>("\"2026Q9\"").is_err());
    }

    #[test]
    fn periods_sort_chronologically() {
        let a = Period::new(2025, 4).expect("valid");
        let b = Period::new(2026, 1).expect("valid");
        assert!(a < b);
    }

    proptest! {
        #[test]
        fn every_instant_lies_in_exactly_the_period_containing_returns(
            secs in -2_000_000_000i64..8_000_000_000i64,
            zone in prop::sample::select(vec![PLATFORM_TZ, chrono_tz::UTC, chrono_tz::America::New_York, chrono_tz::Australia::Lord_Howe]),
        ) {
            let instant = DateTime::from_timestamp(secs, 0).expect("in range");
            let p = Period::containing(&instant, zone).expect("in range");
            prop_assert!(p.contains(&instant, zone));
            if let Some(prev) = p.prev() {
                prop_assert!(!prev.contains(&instant, zone));
            }
            if let Some(next) = p.next() {
                prop_assert!(!next.contains(&instant, zone));
                prop_assert_eq!(p.end(zone), next.start(zone));
            }
        }

        #[test]
        fn display_parses_back(year in MIN_YEAR..=MAX_YEAR, quarter in 1u8..=4) {
            let p = Period::new(year, quarter).expect("in range");
            prop_assert_eq!(Period::parse(&p.to_string()), Ok(p));
        }
    }
}
