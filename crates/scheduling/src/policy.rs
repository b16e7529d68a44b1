//! What patients may do when: book, cancel, be reminded, check in.
//!
//! Staff bypass these limits; they are enforced by the callers for patients only.

use jiff::{SignedDuration, Timestamp};

use crate::local_time::local_day;
use crate::rules::Rules;

/// How long before its start a patient may check in for a visit.
pub const CHECK_IN_OPENS_BEFORE: SignedDuration = SignedDuration::from_mins(60);
/// How long after its start a patient may still check in (late arrivals).
pub const CHECK_IN_CLOSES_AFTER: SignedDuration = SignedDuration::from_mins(30);

/// Why a patient may not book a slot now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotBookable {
    /// The slot starts before now.
    #[error("this time has already passed")]
    Past,
    /// The slot starts within the minimum notice.
    #[error("this time needs more notice: book from {earliest} on")]
    TooSoon {
        /// The first instant that may be booked now.
        earliest: Timestamp,
    },
    /// The slot starts after the booking horizon.
    #[error("this time is beyond how far ahead the clinic takes bookings ({latest})")]
    TooFar {
        /// The end of the booking horizon (exclusive): slots must start before it.
        latest: Timestamp,
    },
}

/// The instants at which a patient may book a slot start at `now`, as [earliest, latest).
///
/// `earliest` is `now` plus the notice. `latest` is the end of the local day (in
/// `rules.zone`) `horizon_days` days after today, so whole days open up at midnight rather
/// than slot by slot through the day. Generate slots in this range to list what a patient
/// can book.
pub fn booking_window(rules: &Rules, now: Timestamp) -> (Timestamp, Timestamp) {
    let notice = SignedDuration::from_mins(i64::from(rules.notice_minutes));
    let earliest = now.checked_add(notice).unwrap_or(Timestamp::MAX);
    let today = rules.zone.to_datetime(now).date();
    let last_day = today
        .checked_add(jiff::Span::new().days(i64::from(rules.horizon_days)))
        .unwrap_or(jiff::civil::Date::MAX);
    (earliest, local_day(&rules.zone, last_day).1)
}

/// Whether a patient may book a slot starting at `start` at `now` (notice and horizon,
/// see [`booking_window`]). Staff bypass this elsewhere.
pub fn check_bookable(rules: &Rules, start: Timestamp, now: Timestamp) -> Result<(), NotBookable> {
    let (earliest, latest) = booking_window(rules, now);
    if start < now {
        Err(NotBookable::Past)
    } else if start < earliest {
        Err(NotBookable::TooSoon { earliest })
    } else if start >= latest {
        Err(NotBookable::TooFar { latest })
    } else {
        Ok(())
    }
}

/// Whether a patient may still cancel or move a visit starting at `start` themselves: up to
/// and including `cancel_notice_hours` before the start.
pub fn patient_may_cancel(rules: &Rules, start: Timestamp, now: Timestamp) -> bool {
    let notice = SignedDuration::from_hours(i64::from(rules.cancel_notice_hours));
    match start.checked_sub(notice) {
        Ok(deadline) => now <= deadline,
        Err(_) => false,
    }
}

/// When reminders go out for a visit at `start`: start - each offset, keeping only those
/// still after `now`, sorted, deduped.
pub fn reminder_times(
    start: Timestamp,
    offsets: &[SignedDuration],
    now: Timestamp,
) -> Vec<Timestamp> {
    let mut times: Vec<Timestamp> = offsets
        .iter()
        .filter_map(|&offset| start.checked_sub(offset).ok())
        .filter(|&at| at > now)
        .collect();
    times.sort_unstable();
    times.dedup();
    times
}

/// Whether a patient may check in themselves: from [`CHECK_IN_OPENS_BEFORE`] before the
/// start until (excluding) [`CHECK_IN_CLOSES_AFTER`] after it.
pub fn may_check_in(start: Timestamp, now: Timestamp) -> bool {
    let opens = start
        .checked_sub(CHECK_IN_OPENS_BEFORE)
        .unwrap_or(Timestamp::MIN);
    let closes = start
        .checked_add(CHECK_IN_CLOSES_AFTER)
        .unwrap_or(Timestamp::MAX);
    opens <= now && now < closes
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }

    /// Paris, 2 hours' notice, 30 days ahead, cancel up to 24 hours before.
    fn rules() -> Rules {
        let mut rules = Rules::new(TimeZone::get("Europe/Paris").unwrap());
        rules.notice_minutes = 120;
        rules.horizon_days = 30;
        rules.cancel_notice_hours = 24;
        rules
    }

    // Monday 2026-11-23 10:00 in Paris.
    const NOW: &str = "2026-11-23T09:00:00Z";

    #[test]
    fn window_runs_from_notice_to_the_end_of_the_last_local_day() {
        // Today + 30 days = 2026-12-23, which ends at midnight Paris = 23:00Z.
        assert_eq!(
            booking_window(&rules(), ts(NOW)),
            (ts("2026-11-23T11:00:00Z"), ts("2026-12-23T23:00:00Z"))
        );
    }

    #[test]
    fn bookable_within_the_window() {
        let now = ts(NOW);
        assert_eq!(
            check_bookable(&rules(), ts("2026-11-23T11:00:00Z"), now),
            Ok(())
        );
        assert_eq!(
            check_bookable(&rules(), ts("2026-12-01T08:00:00Z"), now),
            Ok(())
        );
        assert_eq!(
            check_bookable(&rules(), ts("2026-12-23T22:30:00Z"), now),
            Ok(())
        );
    }

    #[test]
    fn past_slots_are_refused() {
        let now = ts(NOW);
        assert_eq!(
            check_bookable(&rules(), ts("2026-11-23T08:59:59Z"), now),
            Err(NotBookable::Past)
        );
        assert_eq!(
            check_bookable(&rules(), ts("2026-11-20T09:00:00Z"), now),
            Err(NotBookable::Past)
        );
    }

    #[test]
    fn slots_within_the_notice_are_too_soon() {
        let now = ts(NOW);
        let too_soon = NotBookable::TooSoon {
            earliest: ts("2026-11-23T11:00:00Z"),
        };
        assert_eq!(check_bookable(&rules(), now, now), Err(too_soon.clone()));
        assert_eq!(
            check_bookable(&rules(), ts("2026-11-23T10:59:00Z"), now),
            Err(too_soon.clone())
        );
        assert_eq!(
            too_soon.to_string(),
            "this time needs more notice: book from 2026-11-23T11:00:00Z on"
        );
    }

    #[test]
    fn without_notice_a_slot_starting_now_is_bookable() {
        let mut rules = rules();
        rules.notice_minutes = 0;
        assert_eq!(check_bookable(&rules, ts(NOW), ts(NOW)), Ok(()));
    }

    #[test]
    fn slots_beyond_the_horizon_are_too_far() {
        let now = ts(NOW);
        let too_far = NotBookable::TooFar {
            latest: ts("2026-12-23T23:00:00Z"),
        };
        assert_eq!(
            check_bookable(&rules(), ts("2026-12-23T23:00:00Z"), now),
            Err(too_far.clone())
        );
        assert_eq!(
            check_bookable(&rules(), ts("2027-03-01T09:00:00Z"), now),
            Err(too_far.clone())
        );
        assert_eq!(
            too_far.to_string(),
            "this time is beyond how far ahead the clinic takes bookings (2026-12-23T23:00:00Z)"
        );
        assert_eq!(
            NotBookable::Past.to_string(),
            "this time has already passed"
        );
    }

    #[test]
    fn horizon_counts_local_days() {
        // 00:30 on Tuesday in Paris is still Monday in UTC: the horizon counts from Tuesday.
        let now = ts("2026-11-23T23:30:00Z");
        assert_eq!(booking_window(&rules(), now).1, ts("2026-12-24T23:00:00Z"));
    }

    #[test]
    fn cancel_until_the_deadline() {
        let start = ts("2026-11-25T09:00:00Z");
        assert!(patient_may_cancel(
            &rules(),
            start,
            ts("2026-11-23T09:00:00Z")
        ));
        assert!(patient_may_cancel(
            &rules(),
            start,
            ts("2026-11-24T09:00:00Z")
        ));
        assert!(!patient_may_cancel(
            &rules(),
            start,
            ts("2026-11-24T09:00:01Z")
        ));
        assert!(!patient_may_cancel(
            &rules(),
            start,
            ts("2026-11-25T10:00:00Z")
        ));
        let mut anytime = rules();
        anytime.cancel_notice_hours = 0;
        assert!(anytime.check().is_ok());
        assert!(patient_may_cancel(
            &anytime,
            start,
            ts("2026-11-25T08:59:00Z")
        ));
        assert!(!patient_may_cancel(
            &anytime,
            start,
            ts("2026-11-25T09:01:00Z")
        ));
    }

    #[test]
    fn reminders_are_sorted_deduped_and_in_the_future() {
        let start = ts("2026-11-25T09:00:00Z");
        let offsets = [mins(60), SignedDuration::from_hours(24), mins(60), mins(15)];
        assert_eq!(
            reminder_times(start, &offsets, ts("2026-11-23T09:00:00Z")),
            [
                ts("2026-11-24T09:00:00Z"),
                ts("2026-11-25T08:00:00Z"),
                ts("2026-11-25T08:45:00Z")
            ]
        );
        // The day-before reminder has gone; one exactly at `now` has too.
        assert_eq!(
            reminder_times(start, &offsets, ts("2026-11-25T08:00:00Z")),
            [ts("2026-11-25T08:45:00Z")]
        );
        assert_eq!(reminder_times(start, &offsets, start), []);
        assert_eq!(reminder_times(start, &[], ts(NOW)), []);
    }

    #[test]
    fn check_in_window() {
        let start = ts("2026-11-25T09:00:00Z");
        assert!(!may_check_in(start, ts("2026-11-25T07:59:59Z")));
        assert!(may_check_in(start, ts("2026-11-25T08:00:00Z")));
        assert!(may_check_in(start, start));
        assert!(may_check_in(start, ts("2026-11-25T09:29:59Z")));
        assert!(!may_check_in(start, ts("2026-11-25T09:30:00Z")));
        assert_eq!(CHECK_IN_OPENS_BEFORE, mins(60));
        assert_eq!(CHECK_IN_CLOSES_AFTER, mins(30));
    }
}
