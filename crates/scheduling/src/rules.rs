//! The settings of one schedule: weekly opening hours, one-off exceptions and booking limits.

use jiff::civil::{DateTime, Time, Weekday};
use jiff::tz::TimeZone;

/// Shortest visit a schedule may offer, in minutes.
pub const MIN_SLOT_MINUTES: u32 = 5;
/// Longest visit a schedule may offer, in minutes (a working day).
pub const MAX_SLOT_MINUTES: u32 = 480;
/// Longest break after each visit, in minutes.
pub const MAX_BUFFER_MINUTES: u32 = 240;
/// Furthest ahead patients may be allowed to book, in days.
pub const MAX_HORIZON_DAYS: u32 = 365;
/// Longest cancellation deadline, in hours (30 days).
pub const MAX_CANCEL_NOTICE_HOURS: u32 = 720;

/// Recurring weekly opening of a schedule, in the schedule's local (wall-clock) time.
///
/// A block cannot cross midnight; an `end` of 00:00 means midnight at the *end* of `day`,
/// so a round-the-clock service is `00:00`–`00:00`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyHours {
    /// Day of the week the block recurs on.
    pub day: Weekday,
    /// Local opening time.
    pub start: Time,
    /// Local closing time (exclusive); 00:00 is the end of the day.
    pub end: Time,
}

impl WeeklyHours {
    /// Whether this block ends at midnight at the end of its day.
    pub(crate) fn ends_at_midnight(&self) -> bool {
        self.end == Time::midnight()
    }
}

/// Whether an exception closes or opens time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    /// Leave, holiday, training: no slots in this time, whatever the weekly hours say.
    Unavailable,
    /// One-off extra hours, added to the weekly hours.
    Extra,
}

/// A one-off change, local wall-clock times in the schedule's zone
/// (e.g. leave from 2026-12-24T00:00 to 2026-12-27T00:00).
#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityException {
    /// Closed or extra time.
    pub kind: ExceptionKind,
    /// Local start (inclusive).
    pub start: DateTime,
    /// Local end (exclusive).
    pub end: DateTime,
    /// Free text for staff, e.g. "annual leave".
    pub note: Option<String>,
}

/// The days of the week, Monday first.
pub const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// Everything that decides when a schedule offers slots and how patients may use them.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The schedule's time zone: weekly hours and exceptions are wall-clock times in it.
    pub zone: TimeZone,
    /// Recurring opening hours.
    pub weekly: Vec<WeeklyHours>,
    /// One-off closures and extra hours.
    pub exceptions: Vec<AvailabilityException>,
    /// Visit length in minutes, in [`MIN_SLOT_MINUTES`]..=[`MAX_SLOT_MINUTES`].
    pub slot_minutes: u32,
    /// Gap after each slot, in minutes.
    pub buffer_minutes: u32,
    /// Minimum notice before a slot can be booked by a patient, in minutes.
    pub notice_minutes: u32,
    /// How many days ahead patients may book (whole local days after today).
    pub horizon_days: u32,
    /// Patients may cancel or move a visit until this many hours before its start.
    pub cancel_notice_hours: u32,
}

impl Rules {
    /// Rules for `zone` with no opening hours yet and common defaults: 30-minute visits
    /// with no gap, 2 hours' notice, bookable 60 days ahead, cancellable up to 24 hours before.
    pub fn new(zone: TimeZone) -> Rules {
        Rules {
            zone,
            weekly: Vec::new(),
            exceptions: Vec::new(),
            slot_minutes: 30,
            buffer_minutes: 0,
            notice_minutes: 120,
            horizon_days: 60,
            cancel_notice_hours: 24,
        }
    }

    /// Check consistency and return the first problem in plain words.
    ///
    /// Overlapping weekly blocks or exceptions are allowed: they are merged when slots are
    /// generated.
    pub fn check(&self) -> Result<(), RulesError> {
        if !(MIN_SLOT_MINUTES..=MAX_SLOT_MINUTES).contains(&self.slot_minutes) {
            return Err(RulesError::SlotLength {
                minutes: self.slot_minutes,
            });
        }
        if self.buffer_minutes > MAX_BUFFER_MINUTES {
            return Err(RulesError::BufferTooLong {
                minutes: self.buffer_minutes,
            });
        }
        if !(1..=MAX_HORIZON_DAYS).contains(&self.horizon_days) {
            return Err(RulesError::Horizon {
                days: self.horizon_days,
            });
        }
        // Notice as long as the horizon would leave nothing a patient could book.
        if u64::from(self.notice_minutes) >= u64::from(self.horizon_days) * 24 * 60 {
            return Err(RulesError::NoticeBeyondHorizon {
                minutes: self.notice_minutes,
                horizon_days: self.horizon_days,
            });
        }
        if self.cancel_notice_hours > MAX_CANCEL_NOTICE_HOURS {
            return Err(RulesError::CancelNoticeTooLong {
                hours: self.cancel_notice_hours,
            });
        }
        for block in &self.weekly {
            if block.start >= block.end && !block.ends_at_midnight() {
                return Err(RulesError::WeeklyHoursReversed {
                    day: block.day,
                    start: block.start,
                    end: block.end,
                });
            }
        }
        for exception in &self.exceptions {
            if exception.start >= exception.end {
                return Err(RulesError::ExceptionReversed {
                    start: exception.start,
                    end: exception.end,
                });
            }
        }
        Ok(())
    }
}

/// What is wrong with a set of [`Rules`], worded for a clinic administrator.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RulesError {
    /// `slot_minutes` outside [`MIN_SLOT_MINUTES`]..=[`MAX_SLOT_MINUTES`].
    #[error("a visit must last between 5 and 480 minutes, not {minutes}")]
    SlotLength {
        /// The rejected value.
        minutes: u32,
    },
    /// `buffer_minutes` above [`MAX_BUFFER_MINUTES`].
    #[error("the break after each visit can be at most 240 minutes, not {minutes}")]
    BufferTooLong {
        /// The rejected value.
        minutes: u32,
    },
    /// `horizon_days` outside 1..=[`MAX_HORIZON_DAYS`].
    #[error("patients must be able to book between 1 and 365 days ahead, not {days}")]
    Horizon {
        /// The rejected value.
        days: u32,
    },
    /// `notice_minutes` covers the whole booking horizon.
    #[error(
        "a minimum notice of {minutes} minutes is longer than the {horizon_days}-day booking \
         window, so patients could never book"
    )]
    NoticeBeyondHorizon {
        /// The rejected notice.
        minutes: u32,
        /// The horizon it was compared with.
        horizon_days: u32,
    },
    /// `cancel_notice_hours` above [`MAX_CANCEL_NOTICE_HOURS`].
    #[error(
        "the cancellation deadline can be at most 720 hours (30 days) before a visit, not {hours}"
    )]
    CancelNoticeTooLong {
        /// The rejected value.
        hours: u32,
    },
    /// A weekly block that does not end after it starts.
    #[error(
        "the opening hours on {} must end after they start (they start at {} and end at {})",
        weekday_name(.day), hh_mm(.start), hh_mm(.end)
    )]
    WeeklyHoursReversed {
        /// Day of the block.
        day: Weekday,
        /// Its start.
        start: Time,
        /// Its end.
        end: Time,
    },
    /// An exception that does not end after it starts.
    #[error(
        "an exception must end after it starts (it starts on {} and ends on {})",
        date_hh_mm(.start), date_hh_mm(.end)
    )]
    ExceptionReversed {
        /// Its start.
        start: DateTime,
        /// Its end.
        end: DateTime,
    },
}

/// English name of a weekday, for messages.
fn weekday_name(day: &Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// `09:30`: administrators enter whole minutes, so seconds would only be noise.
fn hh_mm(time: &Time) -> String {
    time.strftime("%H:%M").to_string()
}

/// `2026-12-24 09:30`.
fn date_hh_mm(dt: &DateTime) -> String {
    dt.strftime("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn valid() -> Rules {
        let mut rules = Rules::new(TimeZone::get("Europe/Paris").unwrap());
        rules.weekly.push(WeeklyHours {
            day: Weekday::Monday,
            start: time(9, 0, 0, 0),
            end: time(12, 0, 0, 0),
        });
        rules.exceptions.push(AvailabilityException {
            kind: ExceptionKind::Unavailable,
            start: date(2026, 12, 24).at(0, 0, 0, 0),
            end: date(2026, 12, 27).at(0, 0, 0, 0),
            note: Some("leave".into()),
        });
        rules
    }

    fn message(rules: &Rules) -> String {
        rules.check().unwrap_err().to_string()
    }

    #[test]
    fn defaults_and_a_typical_schedule_pass() {
        assert_eq!(Rules::new(TimeZone::UTC).check(), Ok(()));
        assert_eq!(valid().check(), Ok(()));
    }

    #[test]
    fn slot_length_bounds() {
        let mut rules = valid();
        for ok in [5, 480] {
            rules.slot_minutes = ok;
            assert_eq!(rules.check(), Ok(()));
        }
        rules.slot_minutes = 0;
        assert_eq!(rules.check(), Err(RulesError::SlotLength { minutes: 0 }));
        rules.slot_minutes = 481;
        assert_eq!(
            message(&rules),
            "a visit must last between 5 and 480 minutes, not 481"
        );
    }

    #[test]
    fn buffer_bound() {
        let mut rules = valid();
        rules.buffer_minutes = 240;
        assert_eq!(rules.check(), Ok(()));
        rules.buffer_minutes = 241;
        assert_eq!(
            message(&rules),
            "the break after each visit can be at most 240 minutes, not 241"
        );
    }

    #[test]
    fn horizon_bounds() {
        let mut rules = valid();
        rules.notice_minutes = 0;
        for ok in [1, 365] {
            rules.horizon_days = ok;
            assert_eq!(rules.check(), Ok(()));
        }
        rules.horizon_days = 0;
        assert_eq!(
            message(&rules),
            "patients must be able to book between 1 and 365 days ahead, not 0"
        );
        rules.horizon_days = 366;
        assert_eq!(rules.check(), Err(RulesError::Horizon { days: 366 }));
    }

    #[test]
    fn notice_must_leave_bookable_time() {
        let mut rules = valid();
        rules.horizon_days = 1;
        rules.notice_minutes = 1439;
        assert_eq!(rules.check(), Ok(()));
        rules.notice_minutes = 1440;
        assert_eq!(
            message(&rules),
            "a minimum notice of 1440 minutes is longer than the 1-day booking window, so \
             patients could never book"
        );
    }

    #[test]
    fn cancel_notice_bound() {
        let mut rules = valid();
        rules.cancel_notice_hours = 720;
        assert_eq!(rules.check(), Ok(()));
        rules.cancel_notice_hours = 721;
        assert_eq!(
            message(&rules),
            "the cancellation deadline can be at most 720 hours (30 days) before a visit, not 721"
        );
    }

    #[test]
    fn weekly_hours_must_end_after_they_start() {
        let mut rules = valid();
        rules.weekly.push(WeeklyHours {
            day: Weekday::Wednesday,
            start: time(14, 0, 0, 0),
            end: time(13, 30, 0, 0),
        });
        assert_eq!(
            message(&rules),
            "the opening hours on Wednesday must end after they start (they start at 14:00 and \
             end at 13:30)"
        );
        rules.weekly[1].end = time(14, 0, 0, 0);
        assert_eq!(
            rules.check(),
            Err(RulesError::WeeklyHoursReversed {
                day: Weekday::Wednesday,
                start: time(14, 0, 0, 0),
                end: time(14, 0, 0, 0),
            })
        );
    }

    #[test]
    fn weekly_hours_may_end_at_midnight() {
        let mut rules = valid();
        rules.weekly.push(WeeklyHours {
            day: Weekday::Friday,
            start: time(18, 0, 0, 0),
            end: Time::midnight(),
        });
        rules.weekly.push(WeeklyHours {
            day: Weekday::Saturday,
            start: Time::midnight(),
            end: Time::midnight(),
        });
        assert_eq!(rules.check(), Ok(()));
    }

    #[test]
    fn exceptions_must_end_after_they_start() {
        let mut rules = valid();
        rules.exceptions[0].end = date(2026, 12, 23).at(17, 45, 0, 0);
        assert_eq!(
            message(&rules),
            "an exception must end after it starts (it starts on 2026-12-24 00:00 and ends on \
             2026-12-23 17:45)"
        );
    }

    #[test]
    fn the_first_problem_is_reported() {
        let mut rules = valid();
        rules.slot_minutes = 1;
        rules.horizon_days = 0;
        assert_eq!(rules.check(), Err(RulesError::SlotLength { minutes: 1 }));
    }
}
