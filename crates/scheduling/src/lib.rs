//! Appointment scheduling without I/O: when a schedule offers slots, whether a patient may
//! book, cancel or check in, reminder times, distances, and iCalendar invitations.
//!
//! Everything here is pure and synchronous; storage, FHIR resources and sending mail live
//! in the crates that use it. Times are [`jiff`] values, re-exported so callers name the
//! same types.

pub use jiff;

mod distance;
mod generate;
pub mod ics;
mod local_time;
mod modality;
mod policy;
mod rules;

pub use distance::{distance_km, EARTH_RADIUS_KM};
pub use generate::{generate, SlotTime};
pub use local_time::{local_day, week_start};
pub use modality::Modality;
pub use policy::{
    booking_window, check_bookable, may_check_in, patient_may_cancel, reminder_times, NotBookable,
    CHECK_IN_CLOSES_AFTER, CHECK_IN_OPENS_BEFORE,
};
pub use rules::{
    AvailabilityException, ExceptionKind, Rules, RulesError, WeeklyHours, MAX_BUFFER_MINUTES,
    MAX_CANCEL_NOTICE_HOURS, MAX_HORIZON_DAYS, MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, WEEK,
};
