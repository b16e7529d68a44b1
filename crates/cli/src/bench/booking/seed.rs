//! Seeding, in this process and straight into the store (no HTTP): the directory and patients
//! as transaction Bundles, the schedules through `Booking::save_schedule` (which writes their
//! Slots), and the existing appointments through `Booking::book`, as staff would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carefront_booking::scheduling::jiff::{SignedDuration, Timestamp};
use carefront_booking::{Actor, BookRequest, Booking, ScheduleSpec, Settings};
use carefront_store::repository::{Repository, SearchLimits};
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::{Cell, Store};
use serde_json::Value;

use super::network::{self, Size};
use super::Latencies;
use crate::bench::data::Rng;
use crate::bench::report::thousands;
use crate::bench::StoreKind;

/// Entries per seeding Bundle.
const BUNDLE_ENTRIES: usize = 500;

/// The store opened in this process, with the booking service over it.
pub struct Local {
    pub store: Arc<dyn Store>,
    pub booking: Booking,
}

impl Local {
    /// Open the store (applying migrations), sized like `carefront serve`'s default.
    pub async fn open(kind: StoreKind, url: &str) -> Result<Local, String> {
        let cores = crate::bench::sys::cores() as u32;
        let store: Arc<dyn Store> = match kind {
            StoreKind::Sqlite => Arc::new(
                carefront_store_sqlite::SqliteStore::open_url(url, cores * 2)
                    .await
                    .map_err(|e| format!("cannot open {url}: {e}"))?,
            ),
            StoreKind::Postgres => Arc::new(
                carefront_store_postgres::PostgresStore::connect(url, cores * 8)
                    .await
                    .map_err(|e| format!("cannot open {url}: {e}"))?,
            ),
        };
        let repo =
            Repository::new(store.clone(), SearchLimits::default()).with_hook(Booking::hook());
        let booking = Booking::new(repo, Settings::default());
        Ok(Local { store, booking })
    }

    pub fn dialect(&self) -> Dialect {
        Dialect::of(self.store.backend())
    }
}

/// What seeding produced, for the later phases.
pub struct Seeded {
    /// Appointments that `Booking::book` accepted.
    pub appointments: usize,
    /// Free slots kept for the HTTP booking phase, in a random order.
    pub spare_slots: Vec<String>,
}

pub async fn seed(
    local: &Local,
    size: &Size,
    appointments: usize,
    spare: usize,
    tasks: usize,
) -> Result<Seeded, String> {
    let repo = local.booking.repository();
    let took = Instant::now();
    let mut directory = network::places(size);
    for p in 0..size.practitioners {
        directory.extend(network::practitioner_and_role(p, size));
    }
    let written = write_bundles(repo, &directory).await?;
    println!(
        "  directory: {} resources (2 regions, {} clinics, {} practitioners with their roles) in {}",
        thousands(written as u64),
        size.clinics,
        size.practitioners,
        secs(took.elapsed())
    );

    let took = Instant::now();
    let patients: Vec<Value> = (0..size.patients).map(network::patient).collect();
    let written = write_bundles(repo, &patients).await?;
    println!(
        "  patients: {} in {} ({:.0}/s, {BUNDLE_ENTRIES}-entry transaction Bundles)",
        thousands(written as u64),
        secs(took.elapsed()),
        written as f64 / took.elapsed().as_secs_f64()
    );

    let now = Timestamp::now();
    let specs: Vec<ScheduleSpec> = (0..size.practitioners)
        .flat_map(|p| network::schedules(p, size))
        .collect();
    let took = Instant::now();
    let schedules = specs.len();
    let slots = save_schedules(&local.booking, specs, now, tasks).await?;
    let elapsed = took.elapsed();
    println!(
        "  schedules: {} ({} weeks ahead) with {} slots in {} ({:.0} slots/s, Booking::save_schedule, {tasks} tasks)",
        thousands(schedules as u64),
        size.weeks,
        thousands(slots as u64),
        secs(elapsed),
        slots as f64 / elapsed.as_secs_f64()
    );

    let mut free = free_slots(local, now).await?;
    if free.len() < appointments + spare {
        return Err(format!(
            "only {} free slots for {} appointments and {} spare: raise --weeks or --practitioners",
            free.len(),
            appointments,
            spare
        ));
    }
    let spare_slots = free.split_off(appointments);
    let booked = book_existing(&local.booking, free, size.patients, tasks, now).await?;
    Ok(Seeded {
        appointments: booked,
        spare_slots: spare_slots.into_iter().take(spare).collect(),
    })
}

/// After the bulk load, leave the database as a server in service would find it, so that the
/// phases measure serving and not the seeding's aftermath: SQLite's write-ahead log copied
/// into the database (reads slow down as the log grows, and this one holds the whole load),
/// PostgreSQL's tables vacuumed and analysed as autovacuum would do (it may be off, or not
/// have run yet; the first searches must not be planned without statistics).
pub async fn settle(local: Local, url: &str) -> Result<(), String> {
    let took = Instant::now();
    if local.dialect() == Dialect::Postgres {
        local
            .store
            .execute(statement(Dialect::Postgres, "VACUUM ANALYZE", vec![]))
            .await
            .map_err(|e| format!("VACUUM ANALYZE failed: {e}"))?;
        println!("  VACUUM ANALYZE in {}", secs(took.elapsed()));
        return Ok(());
    }
    let before = wal_bytes(url);
    // Closing the last connection checkpoints the log into the database and removes it.
    drop(local);
    while wal_bytes(url).is_some_and(|n| n > 0) {
        if took.elapsed() > Duration::from_secs(600) {
            return Err("the seeding's SQLite WAL was not checkpointed within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "  WAL of {:.0} MB checkpointed into the database in {}",
        before.unwrap_or(0) as f64 / 1e6,
        secs(took.elapsed())
    );
    Ok(())
}

/// The size of the SQLite database's write-ahead log, if it has one.
pub fn wal_bytes(url: &str) -> Option<u64> {
    let path = url.strip_prefix("sqlite://")?;
    std::fs::metadata(format!("{path}-wal"))
        .ok()
        .map(|m| m.len())
}

pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Write `resources` in transaction Bundles; how many were written.
async fn write_bundles(repo: &Repository, resources: &[Value]) -> Result<usize, String> {
    for chunk in resources.chunks(BUNDLE_ENTRIES) {
        repo.bundle(network::transaction(chunk))
            .await
            .map_err(|e| format!("a seeding Bundle failed: {e}"))?;
    }
    Ok(resources.len())
}

/// Save every schedule, `tasks` at a time; the slots written.
async fn save_schedules(
    booking: &Booking,
    specs: Vec<ScheduleSpec>,
    now: Timestamp,
    tasks: usize,
) -> Result<usize, String> {
    let specs = Arc::new(specs);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (booking, specs, next) = (booking.clone(), specs.clone(), next.clone());
            tokio::spawn(async move {
                let mut slots = 0;
                while let Some(spec) = specs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let saved = booking
                        .save_schedule(spec, now)
                        .await
                        .map_err(|e| format!("Schedule/{}: {e}", spec.id))?;
                    slots += saved.created;
                }
                Ok::<usize, String>(slots)
            })
        })
        .collect();
    let mut slots = 0;
    for w in workers {
        slots += w.await.map_err(|e| e.to_string())??;
    }
    Ok(slots)
}

/// Every free slot starting two hours from now or later, shuffled (reproducibly) so that
/// bookings spread over clinicians and weeks as real ones do.
async fn free_slots(local: &Local, now: Timestamp) -> Result<Vec<String>, String> {
    let earliest = (now + SignedDuration::from_hours(2)).as_second();
    let s = statement(
        local.dialect(),
        "SELECT slot_id FROM slot_index WHERE status = 'free' AND appointment_id IS NULL \
         AND starts_at >= {}",
        vec![Bind::Int(earliest)],
    );
    let mut ids: Vec<String> = local
        .store
        .query(s)
        .await
        .map_err(|e| format!("cannot list free slots: {e}"))?
        .into_iter()
        .filter_map(|row| row.into_iter().next().and_then(Cell::into_text))
        .collect();
    ids.sort_unstable();
    let mut rng = Rng::new(7);
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.below(i as u64 + 1) as usize);
    }
    Ok(ids)
}

/// Book `slots` (one appointment each, patients in turn) with `tasks` concurrent callers of
/// `Booking::book`; how many succeeded.
async fn book_existing(
    booking: &Booking,
    slots: Vec<String>,
    patients: usize,
    tasks: usize,
    now: Timestamp,
) -> Result<usize, String> {
    let total = slots.len();
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicUsize::new(0));
    let took = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (booking, slots, next) = (booking.clone(), slots.clone(), next.clone());
            tokio::spawn(async move {
                let staff = Actor::Staff {
                    account_id: "bench".into(),
                    name: "Bench reception".into(),
                };
                let mut latencies = Latencies::default();
                let mut failed: Option<String> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot_id) = slots.get(i) else { break };
                    let request = BookRequest {
                        slot_id: slot_id.clone(),
                        patient_id: network::patient_id(i % patients),
                        ..BookRequest::default()
                    };
                    let sent = Instant::now();
                    let result = booking.book(&staff, &request, now).await;
                    latencies.record(sent.elapsed());
                    if let Err(e) = result {
                        latencies.errors += 1;
                        failed.get_or_insert_with(|| format!("Slot/{slot_id}: {e}"));
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut all = Latencies::default();
    let mut first_error = None;
    for w in workers {
        let (l, failed) = w.await.map_err(|e| e.to_string())?;
        all.merge(l);
        first_error = first_error.or(failed);
    }
    let elapsed = took.elapsed();
    let ok = total - all.errors;
    println!(
        "  appointments: {} booked in {} ({:.0}/s in-process through Booking::book, {tasks} tasks; \
         p50 {} p99 {}), {} failed",
        thousands(ok as u64),
        secs(elapsed),
        ok as f64 / elapsed.as_secs_f64(),
        all.ms(0.50),
        all.ms(0.99),
        all.errors
    );
    if let Some(e) = first_error {
        println!("  ! first failure: {e}");
    }
    if all.errors * 100 > total {
        return Err(format!("{} of {total} seeding bookings failed", all.errors));
    }
    Ok(ok)
}
