//! Dates and local times of the demo network.

use time::macros::date;
use time::{Date, Duration, Month, Weekday};

/// The demo's "today". It is fixed so that a seed always gives the same network; histories
/// lie in the years before it and birth dates are counted back from it.
pub const AS_OF: Date = date!(2026 - 11 - 02);

/// A region's time zone, for the offsets of local date-times (clinic visits happen at
/// local office hours, so their instants depend on daylight saving time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeZone {
    Paris,
    NewYork,
}

impl TimeZone {
    pub fn iana(self) -> &'static str {
        match self {
            TimeZone::Paris => "Europe/Paris",
            TimeZone::NewYork => "America/New_York",
        }
    }

    /// The UTC offset during office hours on `day`.
    fn offset(self, day: Date) -> &'static str {
        let year = day.year();
        match self {
            // EU: summer time from the last Sunday of March to the last Sunday of October.
            TimeZone::Paris => {
                if day >= last_sunday(year, Month::March) && day < last_sunday(year, Month::October)
                {
                    "+02:00"
                } else {
                    "+01:00"
                }
            }
            // US: from the second Sunday of March to the first Sunday of November.
            TimeZone::NewYork => {
                if day >= nth_sunday(year, Month::March, 2)
                    && day < nth_sunday(year, Month::November, 1)
                {
                    "-04:00"
                } else {
                    "-05:00"
                }
            }
        }
    }
}

/// `YYYY-MM-DD`.
pub fn ymd(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

/// A FHIR dateTime at local `minutes` past midnight on `day`, with the zone's offset.
pub fn local_time(day: Date, minutes: u32, zone: TimeZone) -> String {
    format!(
        "{}T{:02}:{:02}:00{}",
        ymd(day),
        minutes / 60,
        minutes % 60,
        zone.offset(day)
    )
}

pub fn days_before(day: Date, days: i64) -> Date {
    day - Duration::days(days)
}

pub fn days_after(day: Date, days: i64) -> Date {
    day + Duration::days(days)
}

/// The same day, or the Monday after when it falls on a weekend (clinics book weekdays).
pub fn weekday_on_or_after(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => day + Duration::days(2),
        Weekday::Sunday => day + Duration::days(1),
        _ => day,
    }
}

/// Whole years from `born` to `on`.
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

fn last_sunday(year: i32, month: Month) -> Date {
    let last =
        Date::from_calendar_date(year, month, month.length(year)).expect("a month's last day");
    last - Duration::days(i64::from(last.weekday().number_days_from_sunday()))
}

fn nth_sunday(year: i32, month: Month, n: i64) -> Date {
    let first = Date::from_calendar_date(year, month, 1).expect("a month's first day");
    let to_sunday = (7 - i64::from(first.weekday().number_days_from_sunday())) % 7;
    first + Duration::days(to_sunday + 7 * (n - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_daylight_saving_time() {
        // 2026: EU switches on 29 March and 25 October; US on 8 March and 1 November.
        let at = |d: Date, z| local_time(d, 9 * 60 + 30, z);
        assert_eq!(
            at(date!(2026 - 03 - 27), TimeZone::Paris),
            "2026-03-27T09:30:00+01:00"
        );
        assert_eq!(
            at(date!(2026 - 03 - 30), TimeZone::Paris),
            "2026-03-30T09:30:00+02:00"
        );
        assert!(at(date!(2026 - 10 - 26), TimeZone::Paris).ends_with("+01:00"));
        assert!(at(date!(2026 - 03 - 06), TimeZone::NewYork).ends_with("-05:00"));
        assert!(at(date!(2026 - 03 - 09), TimeZone::NewYork).ends_with("-04:00"));
        assert!(at(date!(2026 - 10 - 30), TimeZone::NewYork).ends_with("-04:00"));
        assert!(at(date!(2026 - 11 - 02), TimeZone::NewYork).ends_with("-05:00"));
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(date!(2000 - 11 - 03), AS_OF), 25);
        assert_eq!(age_on(date!(2000 - 11 - 02), AS_OF), 26);
    }
}
