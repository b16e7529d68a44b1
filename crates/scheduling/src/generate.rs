//! Laying out bookable slots from weekly hours and exceptions.

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp};

use crate::local_time::{to_instant, Edge};
use crate::rules::{ExceptionKind, Rules};

/// One generated slot, absolute times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SlotTime {
    /// First instant of the visit.
    pub start: Timestamp,
    /// Instant the visit ends (exclusive).
    pub end: Timestamp,
}

/// A half-open local interval.
type Local = (DateTime, DateTime);
/// A half-open absolute interval.
type Absolute = (Timestamp, Timestamp);

/// The slots of `rules` whose start lies in [from, to), sorted, no overlaps.
///
/// For each local date touched by [from, to) in `rules.zone`, the open time is that
/// weekday's weekly blocks plus the parts of `Extra` exceptions on that day, merged, minus
/// `Unavailable` exceptions. Each open interval is then turned into instants (see below)
/// and cut into slots in absolute time: slot *i* starts `i * (slot_minutes + buffer_minutes)`
/// after the interval opens, lasts `slot_minutes` and must end by the time it closes. The
/// layout restarts on each local day, so the slots of a day do not depend on the range asked
/// for. A slot overlapping an `Unavailable` exception is never produced.
///
/// Daylight-saving changes: a local time skipped by a spring-forward change resolves to the
/// instant of the change (just after the gap); a local time repeated by a fall-back change
/// resolves to its first occurrence when it opens an interval and to its second when it
/// closes one, so open time is never lost. A 09:00–12:00 block thus gives 09:00 local on
/// both sides of a change, and a 01:00–04:00 block on a change night is one hour shorter
/// or longer in absolute time.
///
/// The rules are not checked here (see [`Rules::check`]); a zero-length slot yields nothing.
///
/// ```
/// use carefront_scheduling::jiff::civil::{date, time, Weekday};
/// use carefront_scheduling::jiff::tz::TimeZone;
/// use carefront_scheduling::{generate, Rules, WeeklyHours};
///
/// let mut rules = Rules::new(TimeZone::get("Europe/Paris").unwrap());
/// rules.slot_minutes = 20;
/// rules.buffer_minutes = 10;
/// rules.weekly.push(WeeklyHours {
///     day: Weekday::Monday,
///     start: time(9, 0, 0, 0),
///     end: time(10, 30, 0, 0),
/// });
///
/// // Monday 2026-11-23, midnight to midnight in Paris (UTC+1).
/// let from = date(2026, 11, 23).to_zoned(rules.zone.clone()).unwrap().timestamp();
/// let to = date(2026, 11, 24).to_zoned(rules.zone.clone()).unwrap().timestamp();
/// let starts: Vec<String> = generate(&rules, from, to)
///     .iter()
///     .map(|slot| slot.start.to_string())
///     .collect();
/// assert_eq!(starts, ["2026-11-23T08:00:00Z", "2026-11-23T08:30:00Z", "2026-11-23T09:00:00Z"]);
/// ```
pub fn generate(rules: &Rules, from: Timestamp, to: Timestamp) -> Vec<SlotTime> {
    let slot = SignedDuration::from_mins(i64::from(rules.slot_minutes));
    let step =
        SignedDuration::from_mins(i64::from(rules.slot_minutes) + i64::from(rules.buffer_minutes));
    if from >= to || slot.is_zero() {
        return Vec::new();
    }
    let zone = &rules.zone;
    let first_day = zone.to_datetime(from).date();
    let last_day = zone.to_datetime(to - SignedDuration::from_nanos(1)).date();
    let range: Local = (first_day.to_datetime(Time::midnight()), day_end(last_day));

    // Sort the weekly blocks by weekday once rather than scanning them every day.
    // `None` as the end means midnight at the end of the day.
    let mut weekly: [Vec<(Time, Option<Time>)>; 7] = Default::default();
    for block in &rules.weekly {
        let end = (!block.ends_at_midnight()).then_some(block.end);
        weekly[block.day.to_monday_zero_offset() as usize].push((block.start, end));
    }
    let (mut extra, mut unavailable): (Vec<Local>, Vec<Local>) = (Vec::new(), Vec::new());
    for exception in &rules.exceptions {
        let interval = (exception.start, exception.end);
        if let Some(interval) = intersect(interval, range) {
            match exception.kind {
                ExceptionKind::Extra => extra.push(interval),
                ExceptionKind::Unavailable => unavailable.push(interval),
            }
        }
    }
    unavailable.sort();
    // In absolute time too, because fall-back resolution can widen open intervals over an
    // exception's edge. Resolved as widely as possible: start early, end late.
    let closed: Vec<Absolute> = unavailable
        .iter()
        .filter_map(|&(s, e)| {
            Some((
                to_instant(zone, s, Edge::Start)?,
                to_instant(zone, e, Edge::End)?,
            ))
        })
        .collect();

    let mut slots = Vec::new();
    let (mut open, mut cut, mut instants) = (Vec::new(), Vec::new(), Vec::new());
    let mut day = first_day;
    loop {
        let whole_day: Local = (day.to_datetime(Time::midnight()), day_end(day));
        open.clear();
        for &(start, end) in &weekly[day.weekday().to_monday_zero_offset() as usize] {
            let end = end.map_or(whole_day.1, |end| day.to_datetime(end));
            // Reversed blocks (rejected by `Rules::check`) open nothing.
            open.extend(intersect((day.to_datetime(start), end), whole_day));
        }
        open.extend(extra.iter().filter_map(|&x| intersect(x, whole_day)));
        merge(&mut open);
        subtract(&open, &unavailable, &mut cut);

        instants.clear();
        instants.extend(cut.iter().filter_map(|&(s, e)| {
            let interval = (
                to_instant(zone, s, Edge::Start)?,
                to_instant(zone, e, Edge::End)?,
            );
            (interval.0 < interval.1).then_some(interval)
        }));
        // Distinct local intervals can overlap once a fall-back hour is counted twice.
        merge(&mut instants);
        for &(open_at, close_at) in &instants {
            lay_out(
                open_at,
                close_at,
                slot,
                step,
                (from, to),
                &closed,
                &mut slots,
            );
        }

        if day >= last_day {
            break;
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }

    // Days meet at midnight; a zone whose clocks fall back at midnight could make their
    // slots overlap, so keep the earlier one.
    slots.sort_unstable();
    slots.dedup();
    let mut last_end: Option<Timestamp> = None;
    slots.retain(|slot| {
        let keep = last_end.is_none_or(|end| slot.start >= end);
        if keep {
            last_end = Some(slot.end);
        }
        keep
    });
    slots
}

/// Midnight at the end of `day` (the next day's 00:00, or the last representable time).
fn day_end(day: Date) -> DateTime {
    match day.tomorrow() {
        Ok(next) => next.to_datetime(Time::midnight()),
        Err(_) => day.to_datetime(Time::MAX),
    }
}

/// Push the slots of the open interval [open_at, close_at) that start in `window` and miss
/// every `closed` interval.
fn lay_out(
    open_at: Timestamp,
    close_at: Timestamp,
    slot: SignedDuration,
    step: SignedDuration,
    window: Absolute,
    closed: &[Absolute],
    slots: &mut Vec<SlotTime>,
) {
    let mut start = open_at;
    while start < window.1 {
        let Ok(end) = start.checked_add(slot) else {
            break;
        };
        if end > close_at {
            break;
        }
        let free = closed.iter().all(|&(s, e)| end <= s || start >= e);
        if start >= window.0 && free {
            slots.push(SlotTime { start, end });
        }
        let Ok(next) = start.checked_add(step) else {
            break;
        };
        start = next;
    }
}

/// The overlap of two half-open intervals, if not empty.
fn intersect<T: Ord + Copy>(a: (T, T), b: (T, T)) -> Option<(T, T)> {
    let interval = (a.0.max(b.0), a.1.min(b.1));
    (interval.0 < interval.1).then_some(interval)
}

/// Sort half-open intervals and merge those that overlap or touch.
fn merge<T: Ord + Copy>(intervals: &mut Vec<(T, T)>) {
    intervals.sort_unstable();
    let mut merged = 0;
    for i in 0..intervals.len() {
        let (s, e) = intervals[i];
        if merged > 0 && s <= intervals[merged - 1].1 {
            let last = &mut intervals[merged - 1];
            last.1 = last.1.max(e);
        } else {
            intervals[merged] = (s, e);
            merged += 1;
        }
    }
    intervals.truncate(merged);
}

/// `open` minus `closed` (sorted by start) into `out`; `open` must be sorted and disjoint.
fn subtract(open: &[Local], closed: &[Local], out: &mut Vec<Local>) {
    out.clear();
    for &(s, e) in open {
        let mut cursor = s;
        for &(cs, ce) in closed.iter().filter(|&&(cs, ce)| cs < e && ce > s) {
            if cs > cursor {
                out.push((cursor, cs));
            }
            cursor = cursor.max(ce);
        }
        if cursor < e {
            out.push((cursor, e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_day;
    use crate::rules::{AvailabilityException, WeeklyHours};
    use jiff::civil::{date, time, Weekday};
    use jiff::tz::TimeZone;

    /// A block on `day` from `start` to `end` given as (hour, minute).
    fn block(day: Weekday, start: (i8, i8), end: (i8, i8)) -> WeeklyHours {
        WeeklyHours {
            day,
            start: time(start.0, start.1, 0, 0),
            end: time(end.0, end.1, 0, 0),
        }
    }

    fn exception(kind: ExceptionKind, start: DateTime, end: DateTime) -> AvailabilityException {
        AvailabilityException {
            kind,
            start,
            end,
            note: None,
        }
    }

    fn rules(zone: &str, slot: u32, buffer: u32, weekly: Vec<WeeklyHours>) -> Rules {
        let mut rules = Rules::new(TimeZone::get(zone).unwrap());
        rules.slot_minutes = slot;
        rules.buffer_minutes = buffer;
        rules.weekly = weekly;
        rules
    }

    /// Slots of the local days `first..=last`.
    fn days(rules: &Rules, first: Date, last: Date) -> Vec<SlotTime> {
        let slots = generate(
            rules,
            local_day(&rules.zone, first).0,
            local_day(&rules.zone, last).1,
        );
        assert_well_formed(&slots, rules);
        slots
    }

    /// Slots as local "YYYY-MM-DD HH:MM-HH:MM" in the schedule's zone.
    fn local(rules: &Rules, slots: &[SlotTime]) -> Vec<String> {
        let fmt = |ts: Timestamp, f: &str| rules.zone.to_datetime(ts).strftime(f).to_string();
        slots
            .iter()
            .map(|s| format!("{}-{}", fmt(s.start, "%Y-%m-%d %H:%M"), fmt(s.end, "%H:%M")))
            .collect()
    }

    /// Slot starts as UTC strings.
    fn utc(slots: &[SlotTime]) -> Vec<String> {
        slots.iter().map(|s| s.start.to_string()).collect()
    }

    fn assert_well_formed(slots: &[SlotTime], rules: &Rules) {
        let length = SignedDuration::from_mins(i64::from(rules.slot_minutes));
        for slot in slots {
            assert_eq!(slot.start.duration_until(slot.end), length, "{slot:?}");
        }
        for pair in slots.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "overlap or disorder: {pair:?}"
            );
        }
    }

    #[test]
    fn weekly_hours_with_buffers() {
        let rules = rules(
            "Europe/Paris",
            20,
            10,
            vec![
                block(Weekday::Monday, (9, 0), (12, 0)),
                block(Weekday::Monday, (14, 0), (15, 0)),
            ],
        );
        // Monday 2026-11-23 to Sunday 2026-11-29: only Monday has hours.
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 29));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-11-23 09:00-09:20",
                "2026-11-23 09:30-09:50",
                "2026-11-23 10:00-10:20",
                "2026-11-23 10:30-10:50",
                "2026-11-23 11:00-11:20",
                "2026-11-23 11:30-11:50",
                "2026-11-23 14:00-14:20",
                "2026-11-23 14:30-14:50",
            ]
        );
        // Paris is UTC+1 in November.
        assert_eq!(slots[0].start, "2026-11-23T08:00:00Z".parse().unwrap());
    }

    #[test]
    fn weekly_hours_recur_every_week() {
        let rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![
                block(Weekday::Monday, (9, 0), (10, 0)),
                block(Weekday::Wednesday, (16, 0), (17, 0)),
            ],
        );
        let slots = days(&rules, date(2026, 11, 23), date(2026, 12, 6));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-11-23 09:00-09:30",
                "2026-11-23 09:30-10:00",
                "2026-11-25 16:00-16:30",
                "2026-11-25 16:30-17:00",
                "2026-11-30 09:00-09:30",
                "2026-11-30 09:30-10:00",
                "2026-12-02 16:00-16:30",
                "2026-12-02 16:30-17:00",
            ]
        );
    }

    #[test]
    fn slots_never_straddle_the_end_of_a_block() {
        let rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![block(Weekday::Monday, (9, 0), (10, 50))],
        );
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 23));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-11-23 09:00-09:30",
                "2026-11-23 09:30-10:00",
                "2026-11-23 10:00-10:30"
            ]
        );
        // With a buffer, the last slot may end exactly at closing time.
        let rules = rules_with(rules, |r| {
            r.slot_minutes = 25;
            r.buffer_minutes = 5;
            r.weekly = vec![block(Weekday::Monday, (9, 0), (9, 55))];
        });
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 23));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-23 09:00-09:25", "2026-11-23 09:30-09:55"]
        );
    }

    fn rules_with(mut rules: Rules, change: impl FnOnce(&mut Rules)) -> Rules {
        change(&mut rules);
        rules
    }

    #[test]
    fn overlapping_and_touching_blocks_merge() {
        let rules = rules(
            "Europe/Paris",
            45,
            0,
            vec![
                block(Weekday::Monday, (9, 0), (10, 0)),
                block(Weekday::Monday, (10, 0), (11, 0)),
                block(Weekday::Monday, (9, 30), (10, 30)),
            ],
        );
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 23));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-23 09:00-09:45", "2026-11-23 09:45-10:30"]
        );
    }

    #[test]
    fn a_block_may_end_at_midnight() {
        let rules = rules(
            "Europe/Paris",
            60,
            0,
            vec![block(Weekday::Friday, (22, 0), (0, 0))],
        );
        let slots = days(&rules, date(2026, 11, 27), date(2026, 11, 28));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-27 22:00-23:00", "2026-11-27 23:00-00:00"]
        );
    }

    #[test]
    fn only_starts_inside_the_range_and_the_layout_does_not_depend_on_it() {
        let rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![block(Weekday::Monday, (9, 0), (12, 0))],
        );
        let at = |h, m| {
            date(2026, 11, 23)
                .at(h, m, 0, 0)
                .to_zoned(rules.zone.clone())
                .unwrap()
                .timestamp()
        };
        let slots = generate(&rules, at(9, 45), at(11, 0));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-23 10:00-10:30", "2026-11-23 10:30-11:00"]
        );
        // A start exactly at `from` is in, one exactly at `to` is out.
        let slots = generate(&rules, at(10, 0), at(10, 30));
        assert_eq!(local(&rules, &slots), ["2026-11-23 10:00-10:30"]);
        assert_eq!(generate(&rules, at(10, 0), at(10, 0)), []);
        assert_eq!(generate(&rules, at(11, 0), at(10, 0)), []);
    }

    #[test]
    fn no_hours_no_slots() {
        let rules = rules("Europe/Paris", 30, 0, vec![]);
        assert_eq!(days(&rules, date(2026, 11, 23), date(2026, 12, 31)), []);
    }

    #[test]
    fn leave_removes_whole_days() {
        let weekdays = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ];
        let mut rules = rules(
            "Europe/Paris",
            60,
            0,
            weekdays
                .iter()
                .map(|&d| block(d, (9, 0), (11, 0)))
                .collect(),
        );
        rules.exceptions.push(exception(
            ExceptionKind::Unavailable,
            date(2026, 12, 24).at(0, 0, 0, 0),
            date(2026, 12, 27).at(0, 0, 0, 0),
        ));
        let slots = days(&rules, date(2026, 12, 21), date(2026, 12, 28));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-12-21 09:00-10:00",
                "2026-12-21 10:00-11:00",
                "2026-12-22 09:00-10:00",
                "2026-12-22 10:00-11:00",
                "2026-12-23 09:00-10:00",
                "2026-12-23 10:00-11:00",
                "2026-12-28 09:00-10:00",
                "2026-12-28 10:00-11:00",
            ]
        );
    }

    #[test]
    fn a_holiday_removes_part_of_a_day_and_the_layout_restarts_after_it() {
        let mut rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![block(Weekday::Monday, (9, 0), (12, 0))],
        );
        rules.exceptions.push(exception(
            ExceptionKind::Unavailable,
            date(2026, 11, 23).at(10, 15, 0, 0),
            date(2026, 11, 23).at(10, 50, 0, 0),
        ));
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 23));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-11-23 09:00-09:30",
                "2026-11-23 09:30-10:00",
                "2026-11-23 10:50-11:20",
                "2026-11-23 11:20-11:50",
            ]
        );
    }

    #[test]
    fn extra_hours_add_slots_on_a_closed_day() {
        let mut rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![block(Weekday::Monday, (9, 0), (10, 0))],
        );
        // Saturday 2026-11-28 is normally closed.
        rules.exceptions.push(exception(
            ExceptionKind::Extra,
            date(2026, 11, 28).at(10, 0, 0, 0),
            date(2026, 11, 28).at(11, 0, 0, 0),
        ));
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 29));
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-11-23 09:00-09:30",
                "2026-11-23 09:30-10:00",
                "2026-11-28 10:00-10:30",
                "2026-11-28 10:30-11:00",
            ]
        );
    }

    #[test]
    fn extra_hours_extend_a_block() {
        let mut rules = rules(
            "Europe/Paris",
            45,
            0,
            vec![block(Weekday::Monday, (9, 0), (10, 0))],
        );
        rules.exceptions.push(exception(
            ExceptionKind::Extra,
            date(2026, 11, 23).at(10, 0, 0, 0),
            date(2026, 11, 23).at(11, 0, 0, 0),
        ));
        // One interval 09:00-11:00, not two laid out separately (09:00 and 10:00).
        let slots = days(&rules, date(2026, 11, 23), date(2026, 11, 23));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-23 09:00-09:45", "2026-11-23 09:45-10:30"]
        );
    }

    #[test]
    fn extra_hours_across_midnight_are_laid_out_per_day() {
        let mut rules = rules("Europe/Paris", 60, 0, vec![]);
        rules.exceptions.push(exception(
            ExceptionKind::Extra,
            date(2026, 11, 27).at(22, 30, 0, 0),
            date(2026, 11, 28).at(1, 0, 0, 0),
        ));
        let slots = days(&rules, date(2026, 11, 27), date(2026, 11, 28));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-27 22:30-23:30", "2026-11-28 00:00-01:00"]
        );
        // Asking for Saturday alone gives the same Saturday slot.
        let slots = days(&rules, date(2026, 11, 28), date(2026, 11, 28));
        assert_eq!(local(&rules, &slots), ["2026-11-28 00:00-01:00"]);
    }

    #[test]
    fn unavailable_wins_over_extra() {
        let mut rules = rules("Europe/Paris", 30, 0, vec![]);
        rules.exceptions.push(exception(
            ExceptionKind::Extra,
            date(2026, 11, 28).at(9, 0, 0, 0),
            date(2026, 11, 28).at(11, 0, 0, 0),
        ));
        rules.exceptions.push(exception(
            ExceptionKind::Unavailable,
            date(2026, 11, 28).at(9, 30, 0, 0),
            date(2026, 11, 28).at(10, 30, 0, 0),
        ));
        let slots = days(&rules, date(2026, 11, 28), date(2026, 11, 28));
        assert_eq!(
            local(&rules, &slots),
            ["2026-11-28 09:00-09:30", "2026-11-28 10:30-11:00"]
        );
    }

    /// 09:00-10:00 every day, hourly slots.
    fn mornings(zone: &str) -> Rules {
        let every_day = crate::WEEK;
        rules(
            zone,
            60,
            0,
            every_day
                .iter()
                .map(|&d| block(d, (9, 0), (10, 0)))
                .collect(),
        )
    }

    #[test]
    fn paris_morning_stays_at_nine_across_dst() {
        let rules = mornings("Europe/Paris");
        // Spring forward on Sunday 2026-03-29: 09:00 is 08:00Z before, 07:00Z after.
        let slots = days(&rules, date(2026, 3, 28), date(2026, 3, 30));
        assert_eq!(
            utc(&slots),
            [
                "2026-03-28T08:00:00Z",
                "2026-03-29T07:00:00Z",
                "2026-03-30T07:00:00Z"
            ]
        );
        assert!(local(&rules, &slots)
            .iter()
            .all(|s| s.ends_with("09:00-10:00")));
        // Fall back on Sunday 2026-10-25: 07:00Z before, 08:00Z after.
        let slots = days(&rules, date(2026, 10, 24), date(2026, 10, 26));
        assert_eq!(
            utc(&slots),
            [
                "2026-10-24T07:00:00Z",
                "2026-10-25T08:00:00Z",
                "2026-10-26T08:00:00Z"
            ]
        );
    }

    #[test]
    fn new_york_morning_stays_at_nine_across_dst() {
        let rules = mornings("America/New_York");
        // Spring forward on Sunday 2026-03-08: EST (-5) to EDT (-4).
        let slots = days(&rules, date(2026, 3, 7), date(2026, 3, 8));
        assert_eq!(
            utc(&slots),
            ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"]
        );
        // Fall back on Sunday 2026-11-01: EDT to EST.
        let slots = days(&rules, date(2026, 10, 31), date(2026, 11, 1));
        assert_eq!(
            utc(&slots),
            ["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"]
        );
    }

    /// 01:00-04:00 on Sundays, 30-minute slots: 6 slots on an ordinary night.
    fn night(zone: &str) -> Rules {
        rules(zone, 30, 0, vec![block(Weekday::Sunday, (1, 0), (4, 0))])
    }

    #[test]
    fn night_block_on_an_ordinary_sunday() {
        let rules = night("Europe/Paris");
        let slots = days(&rules, date(2026, 11, 22), date(2026, 11, 22));
        assert_eq!(slots.len(), 6);
        assert_eq!(utc(&slots)[0], "2026-11-22T00:00:00Z");
    }

    #[test]
    fn paris_spring_forward_night_loses_an_hour() {
        let rules = night("Europe/Paris");
        // 01:00 CET = 00:00Z to 04:00 CEST = 02:00Z; 02:00-03:00 local does not exist.
        let slots = days(&rules, date(2026, 3, 29), date(2026, 3, 29));
        assert_eq!(
            utc(&slots),
            [
                "2026-03-29T00:00:00Z",
                "2026-03-29T00:30:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:30:00Z"
            ]
        );
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-03-29 01:00-01:30",
                "2026-03-29 01:30-03:00",
                "2026-03-29 03:00-03:30",
                "2026-03-29 03:30-04:00"
            ]
        );
    }

    #[test]
    fn paris_fall_back_night_gains_an_hour() {
        let rules = night("Europe/Paris");
        // 01:00 CEST = 23:00Z (Saturday) to 04:00 CET = 03:00Z; 02:00-03:00 local happens twice.
        let slots = days(&rules, date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!(
            utc(&slots),
            [
                "2026-10-24T23:00:00Z",
                "2026-10-24T23:30:00Z",
                "2026-10-25T00:00:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T01:30:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T02:30:00Z",
            ]
        );
        assert_eq!(
            local(&rules, &slots),
            [
                "2026-10-25 01:00-01:30",
                "2026-10-25 01:30-02:00",
                "2026-10-25 02:00-02:30",
                "2026-10-25 02:30-02:00",
                "2026-10-25 02:00-02:30",
                "2026-10-25 02:30-03:00",
                "2026-10-25 03:00-03:30",
                "2026-10-25 03:30-04:00",
            ]
        );
    }

    #[test]
    fn new_york_spring_forward_night_loses_an_hour() {
        let rules = night("America/New_York");
        // 01:00 EST = 06:00Z to 04:00 EDT = 08:00Z.
        let slots = days(&rules, date(2026, 3, 8), date(2026, 3, 8));
        assert_eq!(
            utc(&slots),
            [
                "2026-03-08T06:00:00Z",
                "2026-03-08T06:30:00Z",
                "2026-03-08T07:00:00Z",
                "2026-03-08T07:30:00Z"
            ]
        );
    }

    #[test]
    fn new_york_fall_back_night_gains_an_hour() {
        let rules = night("America/New_York");
        // 01:00 is itself repeated: the block opens at the first 01:00 (EDT, 05:00Z) and
        // closes at 04:00 EST = 09:00Z.
        let slots = days(&rules, date(2026, 11, 1), date(2026, 11, 1));
        assert_eq!(slots.len(), 8);
        assert_eq!(utc(&slots)[0], "2026-11-01T05:00:00Z");
        assert_eq!(utc(&slots)[7], "2026-11-01T08:30:00Z");
    }

    #[test]
    fn a_block_opening_in_the_gap_opens_when_the_clocks_jump() {
        let rules = rules(
            "Europe/Paris",
            30,
            0,
            vec![block(Weekday::Sunday, (2, 30), (4, 0))],
        );
        let slots = days(&rules, date(2026, 3, 29), date(2026, 3, 29));
        assert_eq!(
            local(&rules, &slots),
            ["2026-03-29 03:00-03:30", "2026-03-29 03:30-04:00"]
        );
        // A block entirely inside the gap opens nothing.
        let rules = rules_with(rules, |r| {
            r.weekly = vec![block(Weekday::Sunday, (2, 0), (3, 0))]
        });
        assert_eq!(days(&rules, date(2026, 3, 29), date(2026, 3, 29)), []);
    }

    #[test]
    fn blocks_that_overlap_in_the_repeated_hour_give_no_duplicates() {
        // 00:00-02:15 closes at the second 02:15 (01:15Z); 02:45-04:00 opens at the first
        // 02:45 (00:45Z): in absolute time they overlap and are merged.
        let rules = rules(
            "Europe/Paris",
            60,
            0,
            vec![
                block(Weekday::Sunday, (0, 0), (2, 15)),
                block(Weekday::Sunday, (2, 45), (4, 0)),
            ],
        );
        let slots = days(&rules, date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!(
            utc(&slots),
            [
                "2026-10-24T22:00:00Z",
                "2026-10-24T23:00:00Z",
                "2026-10-25T00:00:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T02:00:00Z",
            ]
        );
    }

    #[test]
    fn no_slot_overlaps_leave_in_the_repeated_hour() {
        let mut rules = rules(
            "Europe/Paris",
            60,
            0,
            vec![block(Weekday::Sunday, (0, 0), (4, 0))],
        );
        // Leave from the first 02:30 (00:30Z) to 03:00 CET (02:00Z).
        rules.exceptions.push(exception(
            ExceptionKind::Unavailable,
            date(2026, 10, 25).at(2, 30, 0, 0),
            date(2026, 10, 25).at(3, 0, 0, 0),
        ));
        let slots = days(&rules, date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!(
            utc(&slots),
            [
                "2026-10-24T22:00:00Z",
                "2026-10-24T23:00:00Z",
                "2026-10-25T02:00:00Z"
            ]
        );
    }

    #[test]
    fn eight_weeks_are_sorted_without_overlaps_or_duplicates() {
        let mut rules = mornings("Europe/Paris");
        rules.slot_minutes = 15;
        rules.buffer_minutes = 5;
        rules.weekly.push(block(Weekday::Sunday, (0, 0), (0, 0)));
        rules.weekly.push(block(Weekday::Monday, (9, 30), (18, 0)));
        rules.exceptions.push(exception(
            ExceptionKind::Extra,
            date(2026, 10, 24).at(20, 0, 0, 0),
            date(2026, 10, 26).at(3, 0, 0, 0),
        ));
        let slots = days(&rules, date(2026, 10, 5), date(2026, 11, 29));
        // Slots every 20 minutes. Sundays, open all day: 72 each, 75 on the 25-hour
        // 2026-10-25. Mondays, 09:00-18:00 once merged: 27 each. Tuesday to Saturday,
        // 09:00-10:00: 3 each. The extra hours add 12 on Saturday 20:00-24:00 and 9 on
        // Monday 00:00-03:00; on Sunday they change nothing.
        let sundays = 7 * 72 + 75;
        assert_eq!(slots.len(), sundays + 8 * 27 + 8 * 5 * 3 + 12 + 9);
    }
}
