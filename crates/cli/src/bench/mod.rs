//! `carefront bench fhir`: for each store, start a real server (this binary, `serve`, in a
//! child process) over a fresh database, seed it with transaction Bundles, load it over
//! keep-alive HTTP/1.1 connections, race conditional creates, and report throughput,
//! latency, start-up time and memory against the project's targets.
//!
//! `carefront bench booking` (in `booking`) reuses the same server, client and load helpers
//! for slot search and booking.

mod booking;
mod client;
mod data;
mod load;
mod race;
mod report;
mod server;
mod sys;
mod telehealth;
mod triage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use sqlx::Connection;

use load::{PhaseStats, Workload};
use report::StoreReport;
use server::Server;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// FHIR API throughput and latency on SQLite and PostgreSQL.
    Fhir(FhirArgs),
    /// Slot search and booking over HTTP on a large network, with a race for one slot and
    /// a final check that no slot is booked twice, on SQLite and PostgreSQL.
    Booking(booking::BookingArgs),
    /// Triage engine: time per interview step over the case-vignette suite, and accuracy.
    Triage(triage::TriageArgs),
    /// Video-visit signalling: idle WebSocket connections' memory and relay latency.
    Telehealth(telehealth::TelehealthArgs),
}

#[derive(Args, Debug)]
pub struct FhirArgs {
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
    /// Patients to seed, in 100-entry transaction Bundles [default: 100000, or 2000 with --quick]
    #[arg(long)]
    patients: Option<u64>,
    /// Seconds per load phase [default: 10, or 2 with --quick]
    #[arg(long)]
    seconds: Option<u64>,
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Short smoke run (2,000 patients, 2-second phases)
    #[arg(long)]
    quick: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub fn label(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
        }
    }
}

/// The resolved settings.
pub struct Plan {
    stores: Vec<StoreKind>,
    postgres_url: String,
    patients: u64,
    seconds: Duration,
    connections: usize,
}

pub async fn run(cmd: BenchCommand) -> Result<(), String> {
    match cmd {
        BenchCommand::Fhir(args) => fhir(args).await,
        BenchCommand::Booking(args) => booking::run(args).await,
        BenchCommand::Triage(args) => triage::run(args),
        BenchCommand::Telehealth(args) => telehealth::run(args).await,
    }
}

async fn fhir(args: FhirArgs) -> Result<(), String> {
    let plan = Plan {
        stores: args.stores,
        postgres_url: args.postgres_url.trim_end_matches('/').to_owned(),
        patients: args
            .patients
            .unwrap_or(if args.quick { 2_000 } else { 100_000 }),
        seconds: Duration::from_secs(args.seconds.unwrap_or(if args.quick { 2 } else { 10 })),
        connections: args.connections,
    };
    if plan.patients == 0 || plan.connections == 0 || plan.seconds.is_zero() {
        return Err("--patients, --connections and --seconds must be above 0".into());
    }
    report::print_preamble(&plan);
    let mut failures = Vec::new();
    for &kind in &plan.stores {
        match bench_store(&plan, kind).await {
            Err(e) if e == INTERRUPTED => return Err(e),
            Ok(r) => {
                report::print_store(&plan, &r);
                failures.extend(r.failures());
            }
            Err(e) => {
                println!("\n== {} ==\nnot benchmarked: {e}", kind.label());
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

const INTERRUPTED: &str = "interrupted";

/// A fresh database for `kind`, a server on it, the phases, and clean-up.
async fn bench_store(plan: &Plan, kind: StoreKind) -> Result<StoreReport, String> {
    let scratch = Scratch::new()?;
    match kind {
        StoreKind::Sqlite => {
            let file = scratch.0.join("bench.db");
            let url = format!("sqlite://{}", file.display());
            interruptible(exercise(
                plan,
                kind,
                &url,
                file.display().to_string(),
                &scratch,
            ))
            .await
        }
        StoreKind::Postgres => {
            let db = PgDatabase::create(&plan.postgres_url).await?;
            let result =
                interruptible(exercise(plan, kind, &db.url(), db.name.clone(), &scratch)).await;
            // Dropped whatever happened, and after the server has stopped using it.
            if let Err(e) = db.drop_database().await {
                eprintln!("warning: {e}");
            }
            result
        }
    }
}

/// Ctrl-C stops the run but still lets the caller clean up (drop the database, remove the
/// scratch folder); the server child gets the signal too and is killed if it lingers.
async fn interruptible<T>(
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(INTERRUPTED.into()),
    }
}

async fn exercise(
    plan: &Plan,
    kind: StoreKind,
    url: &str,
    db: String,
    scratch: &Scratch,
) -> Result<StoreReport, String> {
    let mut server = Server::start(url, &scratch.0.join("server.log")).await?;
    server.authenticate(url).await?;
    let idle_memory = server.memory();
    let (seeded, phases, race) = match load_phases(plan, &server).await {
        Ok(done) => done,
        Err(e) => {
            return Err(format!(
                "{e}\nthe server log ends with:\n{}",
                server.log_tail(20)
            ))
        }
    };
    let loaded_memory = server.memory();
    let stopped = server.stop().await;
    Ok(StoreReport {
        kind,
        db,
        ready_in: server.ready_in,
        idle_memory,
        loaded_memory,
        seeded,
        phases,
        race,
        stopped,
        log_tail: server.log_tail(15),
    })
}

type Phases = (usize, Vec<PhaseStats>, Result<race::RaceOutcome, String>);

async fn load_phases(plan: &Plan, server: &Server) -> Result<Phases, String> {
    let timed = Some(plan.seconds);
    let mut phases = Vec::new();

    let (seed, ids) = phase(
        plan,
        server,
        load::SEED,
        None,
        load::Seed::new(plan.patients),
    )
    .await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.into_iter().flatten().collect());
    phases.push(seed);

    // Read and search before create, so they run on exactly the seeded data.
    if ids.is_empty() {
        phases.push(PhaseStats::skipped(load::READ, "no patient was seeded"));
    } else {
        let read = load::Read::new(ids.clone());
        phases.push(phase(plan, server, load::READ, timed, read).await?.0);
    }
    let search = load::Search::new(plan.patients);
    phases.push(phase(plan, server, load::SEARCH, timed, search).await?.0);
    let create = load::Create::new(plan.patients);
    phases.push(phase(plan, server, load::CREATE, timed, create).await?.0);

    let race = race::run(server.addr).await;
    Ok((ids.len(), phases, race))
}

/// One load phase, with the CPU it cost.
async fn phase<W: Workload>(
    plan: &Plan,
    server: &Server,
    name: &'static str,
    limit: Option<Duration>,
    work: W,
) -> Result<(PhaseStats, Vec<W::Worker>), String> {
    let probe = sys::CpuProbe::start(server.pid());
    let (mut stats, workers) =
        load::drive(name, server.addr, plan.connections, limit, Arc::new(work)).await?;
    stats.cpu = probe.finish();
    Ok((stats, workers))
}

/// A temporary folder for the SQLite file and the server log, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("carefront-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `carefront_bench_<random>` on the PostgreSQL server, made through the `postgres` database.
struct PgDatabase {
    server: String,
    name: String,
}

impl PgDatabase {
    async fn create(server: &str) -> Result<Self, String> {
        let name = format!(
            "carefront_bench_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut admin = admin_connection(server).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        let _ = admin.close().await;
        Ok(PgDatabase {
            server: server.to_owned(),
            name,
        })
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    async fn drop_database(self) -> Result<(), String> {
        let mut admin = admin_connection(&self.server).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .map_err(|e| format!("cannot drop database {}: {e}", self.name))?;
        let _ = admin.close().await;
        Ok(())
    }
}

async fn admin_connection(server: &str) -> Result<sqlx::PgConnection, String> {
    let url = format!("{server}/postgres");
    sqlx::PgConnection::connect(&url)
        .await
        .map_err(|e| format!("cannot reach PostgreSQL at {url}: {e}"))
}
