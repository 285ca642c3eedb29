//! Deadlines counted in working days, as complaint handling rules count them.
//!
//! A working day is Monday to Friday, except the public holidays the State
//! Council sets each year, plus the weekend days it makes working days
//! (调休) around them. [`WorkingCalendar::default`] is the official 2026
//! calendar (国办发明电〔2025〕 "关于2026年部分节假日安排的通知", 2025-11-04);
//! a deployment adds later years' dates to it from its configuration.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Weekday};

/// Days a complaint has for its answer unless the deployment says otherwise.
pub const COMPLAINT_WORKING_DAYS: u32 = 5;

/// A day of 2026: (month, day).
type MonthDay = (u32, u32);

/// The 2026 public holidays, as ranges of days off (weekends inside them
/// included, which changes nothing).
const HOLIDAYS_2026: &[(MonthDay, MonthDay)] = &[
    ((1, 1), (1, 3)),   // 元旦
    ((2, 15), (2, 23)), // 春节
    ((4, 4), (4, 6)),   // 清明节
    ((5, 1), (5, 5)),   // 劳动节
    ((6, 19), (6, 21)), // 端午节
    ((9, 25), (9, 27)), // 中秋节
    ((10, 1), (10, 7)), // 国庆节
];

/// The 2026 weekend days that are working days (调休上班).
const MAKE_UP_DAYS_2026: &[MonthDay] = &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)];

/// Which days are working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<NaiveDate>,
    make_up_days: BTreeSet<NaiveDate>,
}

impl Default for WorkingCalendar {
    /// The official 2026 calendar.
    fn default() -> Self {
        let day = |(m, d): MonthDay| NaiveDate::from_ymd_opt(2026, m, d);
        let mut holidays = BTreeSet::new();
        for &(from, to) in HOLIDAYS_2026 {
            let (Some(mut d), Some(to)) = (day(from), day(to)) else {
                continue;
            };
            while d <= to {
                holidays.insert(d);
                d += Duration::days(1);
            }
        }
        WorkingCalendar {
            holidays,
            make_up_days: MAKE_UP_DAYS_2026.iter().filter_map(|&md| day(md)).collect(),
        }
    }
}

impl WorkingCalendar {
    /// Monday to Friday only: no holidays, no make-up days.
    pub fn weekdays_only() -> Self {
        WorkingCalendar {
            holidays: BTreeSet::new(),
            make_up_days: BTreeSet::new(),
        }
    }

    /// This calendar with more public holidays and make-up working days
    /// (e.g. a later year's, from the configuration). A day named in both
    /// is a working day: the State Council's notice never names one twice,
    /// and a working day cannot be lost by a typo.
    pub fn with(
        mut self,
        holidays: impl IntoIterator<Item = NaiveDate>,
        make_up_days: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        self.holidays.extend(holidays);
        self.make_up_days.extend(make_up_days);
        self
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.make_up_days.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The end (23:59:59 local time) of the `n`th working day after
    /// `start`'s day, in `start`'s time zone: filed on a Friday with
    /// `n = 5`, due the following Friday night. `n = 0` is the end of
    /// `start`'s own day.
    pub fn deadline_after<Tz: TimeZone>(&self, start: &DateTime<Tz>, n: u32) -> DateTime<Tz> {
        let tz = start.timezone();
        let mut day = start.date_naive();
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        let end = day
            .and_hms_opt(23, 59, 59)
            .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN));
        // A zone whose clocks jump over the end of a day (none in China) gets
        // the earliest valid reading, or the UTC reading as a last resort.
        tz.from_local_datetime(&end)
            .earliest()
            .unwrap_or_else(|| tz.from_utc_datetime(&end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<chrono_tz::Tz> {
        Shanghai.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn end_of(y: i32, m: u32, d: u32) -> DateTime<chrono_tz::Tz> {
        Shanghai.with_ymd_and_hms(y, m, d, 23, 59, 59).unwrap()
    }

    #[test]
    fn five_working_days_skip_the_weekend() {
        let c = WorkingCalendar::default();
        // 2026-11-23 is a Monday; 2026-11-27 a Friday.
        assert_eq!(
            c.deadline_after(&at(2026, 11, 23, 9), 5),
            end_of(2026, 11, 30)
        );
        assert_eq!(
            c.deadline_after(&at(2026, 11, 27, 18), 5),
            end_of(2026, 12, 4)
        );
        // Filed on a Sunday: Monday is the first working day.
        assert_eq!(
            c.deadline_after(&at(2026, 11, 29, 10), 1),
            end_of(2026, 11, 30)
        );
    }

    #[test]
    fn the_national_day_week_is_skipped_and_its_make_up_saturday_counts() {
        let c = WorkingCalendar::default();
        // Filed Wednesday 30 September: 1–7 October are off, Thursday 8 and
        // Friday 9 work, Saturday 10 is a make-up working day, then Monday
        // 12 and Tuesday 13.
        assert_eq!(
            c.deadline_after(&at(2026, 9, 30, 10), 5),
            end_of(2026, 10, 13)
        );
        // Without the calendar it would have been due in the holiday.
        let plain = WorkingCalendar::weekdays_only();
        assert_eq!(
            plain.deadline_after(&at(2026, 9, 30, 10), 5),
            end_of(2026, 10, 7)
        );
    }

    #[test]
    fn the_spring_festival_is_skipped_and_its_make_up_days_count() {
        let c = WorkingCalendar::default();
        // Filed Friday 13 February: Saturday 14 is a make-up working day, then
        // 15–23 are off; Tuesday 24 … Friday 27 work.
        assert_eq!(
            c.deadline_after(&at(2026, 2, 13, 9), 5),
            end_of(2026, 2, 27)
        );
        // Saturday 28 February works too.
        assert_eq!(
            c.deadline_after(&at(2026, 2, 26, 9), 2),
            end_of(2026, 2, 28)
        );
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2026, 1, 4).unwrap()));
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()));
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 5, 5).unwrap()));
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2026, 5, 9).unwrap()));
    }

    #[test]
    fn a_later_year_is_added_from_configuration() {
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let c = WorkingCalendar::default().with([new_year], []);
        // Thursday 31 December 2026 plus one working day: not Friday 1 January.
        assert_eq!(
            c.deadline_after(&at(2026, 12, 31, 9), 1),
            end_of(2027, 1, 4)
        );
        assert_eq!(
            WorkingCalendar::default().deadline_after(&at(2026, 12, 31, 9), 1),
            end_of(2027, 1, 1)
        );
        // A day named both ways stays a working day.
        let both = WorkingCalendar::default().with([new_year], [new_year]);
        assert!(both.is_working_day(new_year));
    }

    #[test]
    fn zero_days_is_the_end_of_the_same_day() {
        assert_eq!(
            WorkingCalendar::default().deadline_after(&at(2026, 11, 28, 8), 0),
            end_of(2026, 11, 28)
        );
    }

    #[test]
    fn the_deadline_is_never_before_the_start_and_skips_no_working_day() {
        let c = WorkingCalendar::default();
        for offset in 0..400 {
            let start = at(2026, 1, 1, 12) + Duration::days(offset);
            for n in 0..12 {
                let due = c.deadline_after(&start, n);
                assert!(due > start);
                let mut working = 0;
                let mut day = start.date_naive();
                while day < due.date_naive() {
                    day += Duration::days(1);
                    if c.is_working_day(day) {
                        working += 1;
                    }
                }
                assert_eq!(working, n, "from {start} plus {n}");
                assert!(c.is_working_day(due.date_naive()) || n == 0);
            }
        }
    }
}
