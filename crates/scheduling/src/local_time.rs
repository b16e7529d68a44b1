//! Turning local wall-clock times into instants, including across daylight-saving changes.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

/// Which end of an interval a local time is, which decides how a repeated
/// (fall-back) time is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edge {
    /// A repeated time means its first occurrence, so the interval is as long as possible.
    Start,
    /// A repeated time means its second occurrence, for the same reason.
    End,
}

/// The instant of local time `dt` in `zone`.
///
/// - A time that does not exist (skipped by a spring-forward change) resolves to the
///   instant of the change, i.e. just after the gap: a block from 02:30 on a night when
///   02:00 jumps to 03:00 opens at 03:00.
/// - A time that happens twice (fall-back) resolves to the earlier instant for an
///   [`Edge::Start`] and the later one for an [`Edge::End`].
///
/// `None` only for dates at the very ends of jiff's supported range.
pub(crate) fn to_instant(zone: &TimeZone, dt: DateTime, edge: Edge) -> Option<Timestamp> {
    match zone.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, after } => match edge {
            Edge::Start => before.to_timestamp(dt).ok(),
            Edge::End => after.to_timestamp(dt).ok(),
        },
        AmbiguousOffset::Gap { before, after } => {
            // Read with the new offset, a time in the gap falls just before the change,
            // so the next transition from there is the change itself.
            let probe = after.to_timestamp(dt).ok()?;
            match zone.following(probe).next() {
                Some(change) => Some(change.timestamp()),
                None => before.to_timestamp(dt).ok(),
            }
        }
    }
}

/// The local calendar day `date` in `zone` as [start, end) instants (23 or 25 hours on
/// DST days).
///
/// Both ends are resolved as starts of days, so consecutive days share their boundary.
pub fn local_day(zone: &TimeZone, date: Date) -> (Timestamp, Timestamp) {
    let start = to_instant(
        zone,
        date.to_datetime(jiff::civil::Time::midnight()),
        Edge::Start,
    )
    .unwrap_or(Timestamp::MIN);
    let end = date
        .tomorrow()
        .ok()
        .and_then(|next| {
            to_instant(
                zone,
                next.to_datetime(jiff::civil::Time::midnight()),
                Edge::Start,
            )
        })
        .unwrap_or(Timestamp::MAX);
    (start, end)
}

/// Monday of the week containing `date`.
pub fn week_start(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    // Only fails within a week of jiff's earliest date; that week starts there.
    date.checked_sub(jiff::SignedDuration::from_hours(24 * back))
        .unwrap_or(Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::SignedDuration;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn length(day: (Timestamp, Timestamp)) -> SignedDuration {
        day.0.duration_until(day.1)
    }

    #[test]
    fn ordinary_day_is_24_hours() {
        let day = local_day(&tz("Europe/Paris"), date(2026, 11, 23));
        assert_eq!(
            day,
            (ts("2026-11-22T23:00:00Z"), ts("2026-11-23T23:00:00Z"))
        );
        assert_eq!(length(day), SignedDuration::from_hours(24));
    }

    #[test]
    fn paris_spring_forward_day_is_23_hours() {
        let day = local_day(&tz("Europe/Paris"), date(2026, 3, 29));
        assert_eq!(
            day,
            (ts("2026-03-28T23:00:00Z"), ts("2026-03-29T22:00:00Z"))
        );
        assert_eq!(length(day), SignedDuration::from_hours(23));
    }

    #[test]
    fn paris_fall_back_day_is_25_hours() {
        let day = local_day(&tz("Europe/Paris"), date(2026, 10, 25));
        assert_eq!(
            day,
            (ts("2026-10-24T22:00:00Z"), ts("2026-10-25T23:00:00Z"))
        );
        assert_eq!(length(day), SignedDuration::from_hours(25));
    }

    #[test]
    fn new_york_dst_days() {
        let ny = tz("America/New_York");
        let spring = local_day(&ny, date(2026, 3, 8));
        assert_eq!(
            spring,
            (ts("2026-03-08T05:00:00Z"), ts("2026-03-09T04:00:00Z"))
        );
        assert_eq!(length(spring), SignedDuration::from_hours(23));
        let fall = local_day(&ny, date(2026, 11, 1));
        assert_eq!(
            fall,
            (ts("2026-11-01T04:00:00Z"), ts("2026-11-02T05:00:00Z"))
        );
        assert_eq!(length(fall), SignedDuration::from_hours(25));
    }

    #[test]
    fn midnight_in_a_gap_starts_the_day_after_the_gap() {
        // Havana springs forward at 00:00 -> 01:00 (2026-03-08), so that day starts at 01:00.
        let havana = tz("America/Havana");
        let day = local_day(&havana, date(2026, 3, 8));
        assert_eq!(
            day,
            (ts("2026-03-08T05:00:00Z"), ts("2026-03-09T04:00:00Z"))
        );
        assert_eq!(length(day), SignedDuration::from_hours(23));
    }

    #[test]
    fn gap_resolves_to_the_change_and_fold_by_edge() {
        let paris = tz("Europe/Paris");
        // 02:30 does not exist on 2026-03-29: the clocks go from 02:00 CET to 03:00 CEST at 01:00Z.
        let gap = date(2026, 3, 29).at(2, 30, 0, 0);
        assert_eq!(
            to_instant(&paris, gap, Edge::Start),
            Some(ts("2026-03-29T01:00:00Z"))
        );
        assert_eq!(
            to_instant(&paris, gap, Edge::End),
            Some(ts("2026-03-29T01:00:00Z"))
        );
        // 02:30 happens twice on 2026-10-25: first in CEST (00:30Z), then in CET (01:30Z).
        let fold = date(2026, 10, 25).at(2, 30, 0, 0);
        assert_eq!(
            to_instant(&paris, fold, Edge::Start),
            Some(ts("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            to_instant(&paris, fold, Edge::End),
            Some(ts("2026-10-25T01:30:00Z"))
        );
    }

    #[test]
    fn week_starts_on_monday() {
        assert_eq!(week_start(date(2026, 11, 23)), date(2026, 11, 23)); // Monday
        assert_eq!(week_start(date(2026, 11, 26)), date(2026, 11, 23)); // Thursday
        assert_eq!(week_start(date(2026, 11, 29)), date(2026, 11, 23)); // Sunday
        assert_eq!(week_start(date(2027, 1, 1)), date(2026, 12, 28)); // across a year
    }
}
