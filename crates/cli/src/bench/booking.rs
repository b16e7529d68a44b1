//! `carefront bench booking`: for each store, seed a large care network in this process
//! (clinics, practitioners with schedules and slots weeks ahead, patients, existing
//! appointments), start a real server on it (`carefront serve`, a child process, as `bench
//! fhir` does), then measure over HTTP the slot search and concurrent booking of distinct
//! slots, set the raw single-row insert rate of the same store beside it, race many clients
//! for one slot, and finally check in the store that no slot holds two appointments.

mod network;
mod phases;
mod seed;
mod verify;

use std::time::Duration;

use clap::Args;

use super::load::PhaseStats;
use super::report::thousands;
use super::server::Server;
use super::{interruptible, PgDatabase, Scratch, StoreKind, INTERRUPTED};
use network::Size;
use seed::{secs, Local};

#[derive(Args, Debug)]
pub struct BookingArgs {
    /// Stores to benchmark, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    stores: Vec<StoreKind>,
    /// PostgreSQL server URL without a database name; the benchmark creates its own
    /// database there (through the `postgres` database) and drops it at the end
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres_url: String,
    /// Practitioners, each with an in-clinic schedule (some with a video one too)
    #[arg(long, default_value_t = 500)]
    practitioners: usize,
    /// Clinics, half around Paris and half around Boston [default: practitioners / 10]
    #[arg(long)]
    clinics: Option<usize>,
    /// Patients to book for (each with an email address, so every booking writes its mail)
    #[arg(long, default_value_t = 5_000)]
    patients: usize,
    /// Weeks of availability ahead (the schedules' booking horizon)
    #[arg(long, default_value_t = 8)]
    weeks: u32,
    /// Appointments booked while seeding, before the server starts
    #[arg(long, default_value_t = 50_000)]
    appointments: usize,
    /// Slot searches of each kind over HTTP
    #[arg(long, default_value_t = 2_000)]
    searches: usize,
    /// Concurrent connections for the searches
    #[arg(long, default_value_t = 16)]
    search_clients: usize,
    /// Distinct slots booked over HTTP (and rows inserted for the raw insert rate)
    #[arg(long, default_value_t = 10_000)]
    bookings: usize,
    /// Concurrent clients booking (and tasks inserting)
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Clients racing for one slot
    #[arg(long, default_value_t = 200)]
    racers: usize,
    /// Concurrent tasks while seeding schedules and appointments
    #[arg(long, default_value_t = 8)]
    seed_tasks: usize,
}

/// Latencies of in-process calls (seeding bookings, raw inserts).
#[derive(Default)]
pub struct Latencies {
    micros: Vec<u32>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        self.micros
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }

    pub fn count(&self) -> usize {
        self.micros.len()
    }

    pub fn per_second(&self) -> f64 {
        (self.count() - self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Nearest-rank percentile (`p` in 0..=1), as milliseconds.
    pub fn ms(&self, p: f64) -> String {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return "-".into();
        }
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        format!("{:.2} ms", f64::from(sorted[rank - 1]) / 1000.0)
    }
}

/// Targets of issue 4.
const SEARCH_P99_MS: f64 = 20.0;
const BOOKINGS_PER_SECOND: f64 = 1_000.0;

pub async fn run(args: BookingArgs) -> Result<(), String> {
    let size = Size {
        clinics: args
            .clinics
            .unwrap_or(args.practitioners / 10)
            .clamp(2, args.practitioners.max(2)),
        practitioners: args.practitioners,
        patients: args.patients,
        weeks: args.weeks,
    };
    if size.practitioners == 0 || size.patients == 0 || size.weeks == 0 {
        return Err("--practitioners, --patients and --weeks must be above 0".into());
    }
    if args.clients == 0 || args.search_clients == 0 || args.seed_tasks == 0 || args.racers < 2 {
        return Err(
            "--clients, --search-clients and --seed-tasks must be above 0, --racers above 1".into(),
        );
    }
    println!(
        "Carefront booking benchmark: {} practitioners at {} clinics (Paris and Boston), {} weeks \
         of 20-minute slots, {} patients, {} existing appointments; {} searches of each kind over \
         {} connections, {} bookings over {} clients, a race of {} clients for one slot",
        thousands(size.practitioners as u64),
        size.clinics,
        size.weeks,
        thousands(size.patients as u64),
        thousands(args.appointments as u64),
        thousands(args.searches as u64),
        args.search_clients,
        thousands(args.bookings as u64),
        args.clients,
        args.racers
    );
    println!(
        "Note: the load generator and the server share this machine's {} core(s) (and \
         PostgreSQL's); figures are lower bounds for a dedicated server.",
        super::sys::cores()
    );
    let mut failures = Vec::new();
    for &kind in &args.stores {
        println!("\n== {} ==", kind.label());
        match bench_store(&args, &size, kind).await {
            Err(e) if e == INTERRUPTED => return Err(e),
            Ok(summary) => failures.extend(summary.failures(kind)),
            Err(e) => {
                println!("not benchmarked: {e}");
                failures.push(format!("{}: {e}", kind.label()));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("benchmark failed: {}", failures.join("; ")))
    }
}

/// A fresh database for `kind`, the phases, and clean-up (as `bench fhir`).
async fn bench_store(args: &BookingArgs, size: &Size, kind: StoreKind) -> Result<Summary, String> {
    let scratch = Scratch::new()?;
    match kind {
        StoreKind::Sqlite => {
            let file = scratch.0.join("bench.db");
            let url = format!("sqlite://{}", file.display());
            println!("database: {}", file.display());
            interruptible(exercise(args, size, kind, &url, &scratch)).await
        }
        StoreKind::Postgres => {
            let db = PgDatabase::create(args.postgres_url.trim_end_matches('/')).await?;
            println!("database: {}", db.name);
            let result = interruptible(exercise(args, size, kind, &db.url(), &scratch)).await;
            if let Err(e) = db.drop_database().await {
                eprintln!("warning: {e}");
            }
            result
        }
    }
}

/// What decides the verdict of one store.
struct Summary {
    phase_errors: Vec<String>,
    search_p99: Option<f64>,
    clients: usize,
    bookings_per_second: f64,
    race_passed: bool,
    verified: bool,
    stopped_cleanly: bool,
}

impl Summary {
    fn failures(&self, kind: StoreKind) -> Vec<String> {
        let store = kind.label();
        let mut out: Vec<String> = self
            .phase_errors
            .iter()
            .map(|e| format!("{store} {e}"))
            .collect();
        if !self.race_passed {
            out.push(format!("{store} race for one slot: FAIL"));
        }
        if !self.verified {
            out.push(format!("{store} double-booking check: FAIL"));
        }
        if !self.stopped_cleanly {
            out.push(format!("{store} server did not stop cleanly"));
        }
        out
    }
}

async fn exercise(
    args: &BookingArgs,
    size: &Size,
    kind: StoreKind,
    url: &str,
    scratch: &Scratch,
) -> Result<Summary, String> {
    println!("1. seeding in-process (store, hooked repository, Booking):");
    let local = Local::open(kind, url).await?;
    let spare = args.bookings + 1;
    let seeded = seed::seed(&local, size, args.appointments, spare, args.seed_tasks).await?;
    seed::settle(local, url).await?;
    let mut book_slots = seeded.spare_slots;
    let race_slot = book_slots.pop().ok_or("no slot left for the race")?;
    let prepared = Prepared {
        url,
        book_slots,
        race_slot,
        seeded_appointments: seeded.appointments,
    };

    let mut server = Server::start(url, &scratch.0.join("server.log")).await?;
    let result = measure(args, size, kind, &server, &prepared).await;
    let stopped = server.stop().await;
    let stopped_cleanly = matches!(&stopped, Ok(s) if !s.killed && s.status.success());
    match &stopped {
        Ok(s) => println!(
            "server stopped {} after SIGTERM ({})",
            secs(s.after),
            s.status
        ),
        Err(e) => println!("server stop failed: {e}"),
    }
    match result {
        Ok(mut summary) => {
            summary.stopped_cleanly = stopped_cleanly;
            print_targets(&summary);
            Ok(summary)
        }
        Err(e) => Err(format!(
            "{e}\nthe server log ends with:\n{}",
            server.log_tail(20)
        )),
    }
}

/// What the seeding left for the measured phases.
struct Prepared<'a> {
    url: &'a str,
    /// Free slots for the booking phase, one per booking.
    book_slots: Vec<String>,
    /// A free slot for the race.
    race_slot: String,
    seeded_appointments: usize,
}

/// Steps 2 to 7, with the server running.
async fn measure(
    args: &BookingArgs,
    size: &Size,
    kind: StoreKind,
    server: &Server,
    prepared: &Prepared<'_>,
) -> Result<Summary, String> {
    println!(
        "2. server: ready in {} ms (pid {}); a system/*.* client token for every request",
        server.ready_in.as_millis(),
        server.pid()
    );
    server.authenticate(prepared.url).await?;

    println!("3. search over HTTP:");
    print_header();
    let pid = server.pid();
    let nearest = phases::Search::nearest(args.searches, size.clinics);
    let nearest = phases::run(
        phases::SEARCH_NEAREST,
        server.addr,
        pid,
        args.search_clients,
        nearest,
    )
    .await?;
    print_phase(&nearest);
    let earliest = phases::Search::earliest(args.searches);
    let earliest = phases::run(
        phases::SEARCH_EARLIEST,
        server.addr,
        pid,
        args.search_clients,
        earliest,
    )
    .await?;
    print_phase(&earliest);

    println!(
        "4. booking over HTTP ({} clients, distinct slots and patients in turn):",
        args.clients
    );
    print_header();
    let book = phases::Book::new(&prepared.book_slots, size.patients);
    let booked = phases::run(phases::BOOK, server.addr, pid, args.clients, book).await?;
    print_phase(&booked);
    let http_booked = (booked.requests - booked.errors) as usize;
    println!(
        "  {} bookings/s; {} of {} answered other than 201",
        thousands(booked.per_second().round() as u64),
        booked.errors,
        booked.requests
    );

    if let Some(wal) = seed::wal_bytes(prepared.url) {
        println!(
            "  (the server's SQLite WAL is now {:.0} MB)",
            wal as f64 / 1e6
        );
    }

    println!(
        "5. raw single-row INSERTs into a plain table, same store, {} tasks:",
        args.clients
    );
    // Opened now, beside the server, as a second instance would be.
    let local = Local::open(kind, prepared.url).await?;
    let inserts = phases::raw_inserts(&local, args.bookings, args.clients).await?;
    let ratio = booked.per_second() / inserts.per_second().max(1e-9);
    println!(
        "  {} rows in {}: {} rows/s (p50 {}, p99 {}), {} errors",
        thousands(inserts.count() as u64),
        secs(inserts.elapsed),
        thousands(inserts.per_second().round() as u64),
        inserts.ms(0.50),
        inserts.ms(0.99),
        inserts.errors
    );
    println!(
        "  bookings/s ÷ inserts/s = {ratio:.3} (one booking costs about {:.0} raw inserts)",
        1.0 / ratio.max(1e-9)
    );

    println!(
        "6. race: {} clients book the same free slot at once:",
        args.racers
    );
    let race = phases::race(server.addr, &prepared.race_slot, args.racers, size.patients).await?;
    println!(
        "  {}: {} success(es), {} conflicts (409), {} with alternatives; all answers: {:?}",
        if race.passed() { "PASS" } else { "FAIL" },
        race.count("201"),
        race.count("409"),
        race.with_alternatives,
        race.statuses
    );
    if let Some(e) = &race.first_error {
        println!("  ! unexpected answer: {e}");
    }

    println!("7. verify in the store:");
    let expected = prepared.seeded_appointments + http_booked + race.count("201");
    let verdict = verify::check(&local).await?;
    let verified = verdict.passed(expected);
    println!(
        "  {}: {} holding appointments (expected {}), {} slots held twice, {} slots indexed as \
         taken, {} disagreements between index and appointments, {} Slot resources busy",
        if verified { "PASS" } else { "FAIL" },
        thousands(verdict.holding as u64),
        thousands(expected as u64),
        verdict.double_booked,
        thousands(verdict.indexed as u64),
        verdict.mismatched,
        thousands(verdict.busy_slots)
    );
    if let Some(e) = &verdict.example {
        println!("  ! {e}");
    }

    let mut phase_errors = Vec::new();
    for p in [&nearest, &earliest, &booked] {
        if p.error_ratio() > super::report::MAX_ERROR_RATIO {
            phase_errors.push(format!(
                "{}: {:.1}% errors",
                p.name,
                p.error_ratio() * 100.0
            ));
        }
    }
    Ok(Summary {
        phase_errors,
        search_p99: nearest.percentile_ms(0.99),
        clients: args.clients,
        bookings_per_second: booked.per_second(),
        race_passed: race.passed(),
        verified,
        stopped_cleanly: false,
    })
}

fn print_header() {
    println!(
        "  {:<24} {:>8} {:>9} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9}",
        "phase",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "server cpu",
        "bench cpu"
    );
}

fn print_phase(p: &PhaseStats) {
    let ms = |q: f64| p.percentile_ms(q).map_or("-".into(), |v| format!("{v:.2}"));
    let cpu = |f: fn(&super::sys::CpuUse) -> f64| {
        p.cpu
            .as_ref()
            .map_or("n/a".to_owned(), |c| format!("{:.0}%", f(c)))
    };
    println!(
        "  {:<24} {:>8} {:>9.1} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9}",
        p.name,
        p.requests,
        p.per_second(),
        ms(0.50),
        ms(0.95),
        ms(0.99),
        p.errors,
        cpu(|c| c.server),
        cpu(|c| c.bench),
        cpu(|c| c.host_busy)
    );
    if let Some(e) = &p.first_error {
        println!("  ! first error: {e}");
    }
}

fn print_targets(s: &Summary) {
    println!("targets:");
    let verdict = |met: bool| if met { "met" } else { "NOT MET" };
    match s.search_p99 {
        Some(p99) => println!(
            "  search specialty near a place p99 < {SEARCH_P99_MS} ms   {p99:>8.2} ms  {}",
            verdict(p99 < SEARCH_P99_MS)
        ),
        None => println!("  search specialty near a place p99 < {SEARCH_P99_MS} ms   not measured"),
    }
    println!(
        "  {} clients booking >= {} bookings/s    {:>8} /s   {}",
        s.clients,
        thousands(BOOKINGS_PER_SECOND as u64),
        thousands(s.bookings_per_second.round() as u64),
        verdict(s.bookings_per_second >= BOOKINGS_PER_SECOND)
    );
    println!(
        "  one success and clean conflicts in the race           {}",
        if s.race_passed { "PASS" } else { "FAIL" }
    );
    println!(
        "  zero double bookings                                  {}",
        if s.verified { "PASS" } else { "FAIL" }
    );
}
