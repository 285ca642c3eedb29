//! Deadlines counted in working days, as complaint handling rules count them.
//!
//! A working day here is Monday to Friday. Public holidays and the make-up
//! working weekends around them are set by the State Council each year; a
//! deployment that needs them exact would add that calendar here.

use chrono::{DateTime, Datelike, Duration, TimeZone, Weekday};

/// Days a complaint has for its answer unless the deployment says otherwise.
pub const COMPLAINT_WORKING_DAYS: u32 = 5;

fn is_working_day(day: Weekday) -> bool {
    !matches!(day, Weekday::Sat | Weekday::Sun)
}

/// The end (23:59:59 local time) of the `n`th working day after `start`'s
/// day, in `start`'s time zone: filed on a Friday with `n = 5`, due the
/// following Friday night. `n = 0` is the end of `start`'s own day.
pub fn deadline_after<Tz: TimeZone>(start: &DateTime<Tz>, n: u32) -> DateTime<Tz> {
    let tz = start.timezone();
    let mut day = start.date_naive();
    let mut left = n;
    while left > 0 {
        day += Duration::days(1);
        if is_working_day(day.weekday()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<chrono_tz::Tz> {
        Shanghai.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn five_working_days_skip_the_weekend() {
        // 2026-11-23 is a Monday; 2026-11-27 a Friday.
        assert_eq!(
            deadline_after(&at(2026, 11, 23, 9), 5),
            Shanghai.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap()
        );
        assert_eq!(
            deadline_after(&at(2026, 11, 27, 18), 5),
            Shanghai.with_ymd_and_hms(2026, 12, 4, 23, 59, 59).unwrap()
        );
        // Filed on a Sunday: Monday is the first working day.
        assert_eq!(
            deadline_after(&at(2026, 11, 29, 10), 1),
            Shanghai.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap()
        );
    }

    #[test]
    fn zero_days_is_the_end_of_the_same_day() {
        assert_eq!(
            deadline_after(&at(2026, 11, 28, 8), 0),
            Shanghai.with_ymd_and_hms(2026, 11, 28, 23, 59, 59).unwrap()
        );
    }

    #[test]
    fn the_deadline_is_never_before_the_start_and_skips_no_working_day() {
        for offset in 0..14 {
            let start = at(2026, 11, 23, 12) + Duration::days(offset);
            for n in 0..12 {
                let due = deadline_after(&start, n);
                assert!(due > start);
                let mut working = 0;
                let mut day = start.date_naive();
                while day < due.date_naive() {
                    day += Duration::days(1);
                    if is_working_day(day.weekday()) {
                        working += 1;
                    }
                }
                assert_eq!(working, n, "from {start} plus {n}");
                assert!(is_working_day(due.weekday()) || n == 0);
            }
        }
    }
}
