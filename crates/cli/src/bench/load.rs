//! Load phases: `connections` worker tasks, each with its own keep-alive connection, send
//! requests one after another until the work or the time runs out. Latencies are kept per
//! worker (no shared lock on the hot path) and merged at the end.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use tokio::sync::Barrier;

use super::client::{snippet, Client};
use super::data;
use super::sys::CpuUse;

pub const SEED: &str = "transaction Bundle (100)";
pub const READ: &str = "read Patient";
pub const SEARCH: &str = "search Patient?family=";
pub const CREATE: &str = "create Patient";

/// One request to send.
pub struct Req {
    method: Method,
    path: String,
    body: Option<Bytes>,
}

impl Req {
    pub fn get(path: String) -> Req {
        Req {
            method: Method::GET,
            path,
            body: None,
        }
    }

    pub fn post(path: &str, body: &serde_json::Value) -> Req {
        Req {
            method: Method::POST,
            path: path.to_owned(),
            body: Some(Bytes::from(serde_json::to_vec(body).expect("JSON"))),
        }
    }
}

/// What a phase sends. Shared by all workers; `Worker` is each worker's own state.
pub trait Workload: Send + Sync + 'static {
    type Worker: Send + 'static;
    fn worker(&self, index: usize) -> Self::Worker;
    /// The next request, or `None` when the work is done.
    fn next(&self, worker: &mut Self::Worker) -> Option<Req>;
    /// Check the body of a 2xx answer: a wrong answer counts as an error too.
    fn answered(&self, _worker: &mut Self::Worker, _body: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// The figures of one phase.
pub struct PhaseStats {
    pub name: &'static str,
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Every request's latency in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    pub first_error: Option<String>,
    pub cpu: Option<CpuUse>,
    /// Why the phase did not run, if it did not.
    pub skipped: Option<String>,
}

impl PhaseStats {
    pub fn skipped(name: &'static str, why: &str) -> Self {
        PhaseStats {
            name,
            requests: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies_us: Vec::new(),
            first_error: None,
            cpu: None,
            skipped: Some(why.to_owned()),
        }
    }

    pub fn per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }

    /// Nearest-rank percentile (`p` in 0..=1), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let n = self.latencies_us.len();
        if n == 0 {
            return None;
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        Some(f64::from(self.latencies_us[rank - 1]) / 1000.0)
    }

    pub fn error_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

#[derive(Default)]
struct Tally {
    requests: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

impl Tally {
    fn fail(&mut self, detail: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(detail());
        }
    }
}

/// Run `work` over `connections` connections, for `limit` or until it has no more requests.
pub async fn drive<W: Workload>(
    name: &'static str,
    addr: SocketAddr,
    connections: usize,
    limit: Option<Duration>,
    work: Arc<W>,
) -> Result<(PhaseStats, Vec<W::Worker>), String> {
    // Workers connect first and start together, so connecting is not part of the figures.
    let start = Arc::new(Barrier::new(connections + 1));
    let handles: Vec<_> = (0..connections)
        .map(|i| tokio::spawn(worker(i, addr, limit, work.clone(), start.clone())))
        .collect();
    start.wait().await;
    let began = Instant::now();
    let mut total = Tally::default();
    let mut states = Vec::with_capacity(connections);
    for handle in handles {
        let (tally, state) = handle
            .await
            .map_err(|e| format!("a load worker failed: {e}"))?;
        total.requests += tally.requests;
        total.errors += tally.errors;
        total.latencies_us.extend(tally.latencies_us);
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
        states.push(state);
    }
    let elapsed = began.elapsed();
    total.latencies_us.sort_unstable();
    let stats = PhaseStats {
        name,
        requests: total.requests,
        errors: total.errors,
        elapsed,
        latencies_us: total.latencies_us,
        first_error: total.first_error,
        cpu: None,
        skipped: None,
    };
    Ok((stats, states))
}

async fn worker<W: Workload>(
    index: usize,
    addr: SocketAddr,
    limit: Option<Duration>,
    work: Arc<W>,
    start: Arc<Barrier>,
) -> (Tally, W::Worker) {
    let mut state = work.worker(index);
    let mut tally = Tally::default();
    let connected = Client::connect(addr).await;
    start.wait().await;
    let mut client = match connected {
        Ok(c) => c,
        Err(e) => {
            tally.fail(|| e);
            return (tally, state);
        }
    };
    let deadline = limit.map(|d| Instant::now() + d);
    tally.latencies_us.reserve(16 * 1024);
    while deadline.is_none_or(|d| Instant::now() < d) {
        let Some(req) = work.next(&mut state) else {
            break;
        };
        let sent = Instant::now();
        let answer = client
            .send(req.method.clone(), &req.path, req.body, None)
            .await;
        let micros = sent.elapsed().as_micros();
        tally.requests += 1;
        tally
            .latencies_us
            .push(u32::try_from(micros).unwrap_or(u32::MAX));
        match answer {
            Ok(a) if a.status.is_success() => {
                if let Err(e) = work.answered(&mut state, &a.body) {
                    tally.fail(|| format!("{} {}: {e}", req.method, req.path));
                }
            }
            Ok(a) => tally.fail(|| {
                format!(
                    "{} {}: HTTP {}: {}",
                    req.method,
                    req.path,
                    a.status,
                    snippet(&a.body)
                )
            }),
            Err(e) => {
                tally.fail(|| format!("{} {}: {e}", req.method, req.path));
                // The connection is gone: carry on with a new one if the server is still there.
                match Client::connect(addr).await {
                    Ok(c) => client = c,
                    Err(_) => break,
                }
            }
        }
    }
    (tally, state)
}

/// Seeding: all patients in 100-entry transaction Bundles; keeps the ids the server gave.
pub struct Seed {
    patients: u64,
    next_bundle: AtomicU64,
}

impl Seed {
    pub fn new(patients: u64) -> Self {
        Seed {
            patients,
            next_bundle: AtomicU64::new(0),
        }
    }
}

impl Workload for Seed {
    type Worker = Vec<String>;

    fn worker(&self, _index: usize) -> Vec<String> {
        Vec::new()
    }

    fn next(&self, _ids: &mut Vec<String>) -> Option<Req> {
        let first = self.next_bundle.fetch_add(1, Ordering::Relaxed) * data::BUNDLE_ENTRIES;
        if first >= self.patients {
            return None;
        }
        let count = data::BUNDLE_ENTRIES.min(self.patients - first);
        Some(Req::post("/fhir", &data::transaction(first, count)))
    }

    fn answered(&self, ids: &mut Vec<String>, body: &[u8]) -> Result<(), String> {
        let found = data::transaction_ids(body);
        if found.is_empty() {
            return Err("the transaction-response names no created resource".into());
        }
        ids.extend(found);
        Ok(())
    }
}

/// `POST /fhir/Patient` with new patients, numbered on from the seeded ones.
pub struct Create {
    next: AtomicU64,
}

impl Create {
    pub fn new(first: u64) -> Self {
        Create {
            next: AtomicU64::new(first),
        }
    }
}

impl Workload for Create {
    type Worker = ();

    fn worker(&self, _index: usize) {}

    fn next(&self, _: &mut ()) -> Option<Req> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Some(Req::post("/fhir/Patient", &data::patient(n)))
    }
}

/// `GET /fhir/Patient/{id}` for random seeded ids.
pub struct Read {
    ids: Arc<Vec<String>>,
}

impl Read {
    pub fn new(ids: Arc<Vec<String>>) -> Self {
        Read { ids }
    }
}

impl Workload for Read {
    type Worker = data::Rng;

    fn worker(&self, index: usize) -> data::Rng {
        data::Rng::new(index as u64)
    }

    fn next(&self, rng: &mut data::Rng) -> Option<Req> {
        let id = &self.ids[rng.below(self.ids.len() as u64) as usize];
        Some(Req::get(format!("/fhir/Patient/{id}")))
    }
}

/// `GET /fhir/Patient?family=<surname>&_count=10` for surnames of random seeded patients.
pub struct Search {
    patients: u64,
}

impl Search {
    pub fn new(patients: u64) -> Self {
        Search { patients }
    }
}

impl Workload for Search {
    type Worker = data::Rng;

    fn worker(&self, index: usize) -> data::Rng {
        data::Rng::new(1_000 + index as u64)
    }

    fn next(&self, rng: &mut data::Rng) -> Option<Req> {
        let family = data::surname(rng.below(self.patients));
        Some(Req::get(format!("/fhir/Patient?family={family}&_count=10")))
    }

    /// Every surname asked for is stored, so an empty searchset is a wrong answer (a cheap
    /// byte scan; parsing every Bundle would load the shared CPU).
    fn answered(&self, _rng: &mut data::Rng, body: &[u8]) -> Result<(), String> {
        if body.windows(7).any(|w| w == b"\"match\"") {
            Ok(())
        } else {
            Err("a seeded surname found no patient".into())
        }
    }
}
