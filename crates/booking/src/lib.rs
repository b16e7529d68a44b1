//! Booking: the care network's agendas as FHIR `Schedule` and `Slot` resources, and the
//! workflows over them (search, hold, book, cancel, reschedule, waitlist, arrivals,
//! reminders), for in-clinic, video and home visits.
//!
//! Rules and time arithmetic are in `carefront-scheduling` (no I/O); this crate maps them to
//! FHIR and the store. The one-appointment-per-slot rule is enforced by [`BookingIndex`], a
//! write hook that every write of the repository runs, so the FHIR REST API and these
//! workflows give the same guarantee.

mod agenda;
mod appointments;
mod availability;
pub mod error;
pub mod index;
mod notify;
pub mod schedule;
pub mod search;
pub mod time;
mod waitlist;

use std::sync::Arc;

use carefront_scheduling::jiff::SignedDuration;
use carefront_store::repository::{Repository, WriteHook};

pub use agenda::{entry as agenda_entry, triage_of, AgendaEntry, AgendaSlot};
pub use appointments::{Actor, BookRequest, Booked, Held, Mark};
pub use availability::{Conflict, Regenerated};
pub use error::BookingError;
pub use index::BookingIndex;
pub use schedule::ScheduleSpec;
pub use search::{IndexedSchedule, Offer, OfferedSlot, SlotQuery, Sort};
pub use waitlist::WaitRequest;

pub use carefront_scheduling as scheduling;

/// What an operator may tune.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a hold keeps a slot for a patient who is confirming.
    pub hold: SignedDuration,
    /// How long a patient on the waitlist has to accept an earlier slot offered to them.
    pub waitlist_offer: SignedDuration,
    /// Reminders go out this long before each visit.
    pub reminders: Vec<SignedDuration>,
    /// The public address of the server, for links in mail.
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hold: SignedDuration::from_mins(5),
            waitlist_offer: SignedDuration::from_mins(30),
            reminders: vec![
                SignedDuration::from_hours(24),
                SignedDuration::from_hours(2),
            ],
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// The booking service. Cheap to clone; holds no state of its own (everything is in the
/// store), so any number of server instances can run it over one database.
#[derive(Clone)]
pub struct Booking {
    repo: Repository,
    settings: Arc<Settings>,
}

impl Booking {
    /// `repo` must run [`Booking::hook`] (see [`Repository::with_hook`]).
    pub fn new(repo: Repository, settings: Settings) -> Self {
        Booking {
            repo,
            settings: Arc::new(settings),
        }
    }

    /// The write hook that keeps the booking indexes and the one-appointment-per-slot rule.
    pub fn hook() -> Arc<dyn WriteHook> {
        Arc::new(BookingIndex)
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// How often lapsed holds are released, and how often schedules are extended.
const HOLD_SWEEP: std::time::Duration = std::time::Duration::from_secs(30);
const EXTEND_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// The first extension waits a little, so that starting an instance stays quick and light.
const FIRST_EXTEND_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

impl Booking {
    /// Background upkeep of one server instance: release lapsed holds (offering the slots to
    /// the waitlist) and extend schedules to their horizon. Idempotent, so every instance may
    /// run it against the same database.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let booking = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut last_extend: Option<std::time::Instant> = None;
            loop {
                let now = scheduling::jiff::Timestamp::now();
                let due = match last_extend {
                    None => started.elapsed() >= FIRST_EXTEND_AFTER,
                    Some(t) => t.elapsed() >= EXTEND_EVERY,
                };
                if due {
                    match booking.extend_all(now).await {
                        Ok(r) => tracing::info!(
                            created = r.created,
                            removed = r.removed,
                            conflicts = r.conflicts.len(),
                            "schedules extended"
                        ),
                        Err(e) => tracing::warn!(error = %e, "extending schedules failed"),
                    }
                    last_extend = Some(std::time::Instant::now());
                }
                if let Err(e) = booking.release_lapsed_holds(now).await {
                    tracing::warn!(error = %e, "releasing lapsed holds failed");
                }
                tokio::time::sleep(HOLD_SWEEP).await;
            }
        })
    }
}
