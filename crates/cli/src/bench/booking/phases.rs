//! The measured phases over HTTP (slot search, booking, the race for one slot) and the raw
//! insert rate of the store, for comparison.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use carefront_store::sql::{statement, Bind};
use hyper::Method;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use super::network::{self, SPECIALTIES};
use super::seed::Local;
use super::Latencies;
use crate::bench::client::{snippet, Client};
use crate::bench::data::Rng;
use crate::bench::load::{self, PhaseStats, Req, Workload};

pub const SEARCH_NEAREST: &str = "search specialty near";
pub const SEARCH_EARLIEST: &str = "search first available";
pub const BOOK: &str = "book distinct slots";

/// `GET /api/booking/slots` with a random specialty near a random clinic (`nearest`), or
/// with no filter at all (`earliest`: first available anywhere).
pub struct Search {
    requests: usize,
    sent: AtomicUsize,
    clinics: usize,
    nearest: bool,
}

impl Search {
    pub fn nearest(requests: usize, clinics: usize) -> Self {
        Search {
            requests,
            sent: AtomicUsize::new(0),
            clinics,
            nearest: true,
        }
    }

    pub fn earliest(requests: usize) -> Self {
        Search {
            requests,
            sent: AtomicUsize::new(0),
            clinics: 1,
            nearest: false,
        }
    }
}

impl Workload for Search {
    type Worker = Rng;

    fn worker(&self, index: usize) -> Rng {
        Rng::new(50_000 + index as u64)
    }

    fn next(&self, rng: &mut Rng) -> Option<Req> {
        if self.sent.fetch_add(1, Ordering::Relaxed) >= self.requests {
            return None;
        }
        if !self.nearest {
            return Some(Req::get("/api/booking/slots?sort=earliest&limit=10".into()));
        }
        let specialty = SPECIALTIES[rng.below(SPECIALTIES.len() as u64) as usize].search;
        let (lat, lon) = network::clinic(rng.below(self.clinics as u64) as usize).position;
        Some(Req::get(format!(
            "/api/booking/slots?specialty={specialty}&near={lat},{lon}&sort=nearest&limit=10&per=3"
        )))
    }

    /// Every specialty has free times for weeks: an answer without any is wrong.
    fn answered(&self, _rng: &mut Rng, body: &[u8]) -> Result<(), String> {
        if body.windows(9).any(|w| w == b"\"slot_id\"") {
            Ok(())
        } else {
            Err(format!("no free slot offered: {}", snippet(body)))
        }
    }
}

/// `POST /api/booking/appointments`, each request a different free slot.
pub struct Book {
    jobs: Arc<Vec<(String, String)>>,
    next: AtomicUsize,
}

impl Book {
    pub fn new(slots: &[String], patients: usize) -> Self {
        let jobs = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| (slot.clone(), network::patient_id((i * 7) % patients)))
            .collect();
        Book {
            jobs: Arc::new(jobs),
            next: AtomicUsize::new(0),
        }
    }
}

impl Workload for Book {
    type Worker = ();

    fn worker(&self, _index: usize) {}

    fn next(&self, _: &mut ()) -> Option<Req> {
        let (slot_id, patient_id) = self.jobs.get(self.next.fetch_add(1, Ordering::Relaxed))?;
        Some(Req::post(
            "/api/booking/appointments",
            &json!({ "slot_id": slot_id, "patient_id": patient_id }),
        ))
    }

    fn answered(&self, _: &mut (), body: &[u8]) -> Result<(), String> {
        if body.windows(16).any(|w| w == b"\"appointment_id\"") {
            Ok(())
        } else {
            Err(format!("no appointment_id in {}", snippet(body)))
        }
    }
}

/// Run a workload to its end over `connections` connections, with the server's CPU.
pub async fn run<W: Workload>(
    name: &'static str,
    addr: SocketAddr,
    server_pid: u32,
    connections: usize,
    work: W,
) -> Result<PhaseStats, String> {
    let probe = crate::bench::sys::CpuProbe::start(server_pid);
    let (mut stats, _) = load::drive(name, addr, connections, None, Arc::new(work)).await?;
    stats.cpu = probe.finish();
    Ok(stats)
}

/// `rows` single-row INSERTs into a plain scratch table by `tasks` concurrent tasks, each
/// its own transaction: the floor under any write the store does.
pub async fn raw_inserts(local: &Local, rows: usize, tasks: usize) -> Result<Latencies, String> {
    let create = statement(
        local.dialect(),
        "CREATE TABLE IF NOT EXISTS bench_scratch (id TEXT PRIMARY KEY, v BIGINT)",
        vec![],
    );
    local
        .store
        .execute(create)
        .await
        .map_err(|e| format!("cannot create bench_scratch: {e}"))?;
    let next = Arc::new(AtomicUsize::new(0));
    let run = uuid::Uuid::new_v4().simple().to_string();
    let took = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, next, run) = (local.store.clone(), next.clone(), run.clone());
            let dialect = local.dialect();
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut failed = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= rows {
                        break;
                    }
                    let insert = statement(
                        dialect,
                        "INSERT INTO bench_scratch (id, v) VALUES ({}, {})",
                        vec![Bind::Text(format!("{run}-{i}")), Bind::Int(i as i64)],
                    );
                    let sent = Instant::now();
                    let result = store.execute(insert).await;
                    latencies.record(sent.elapsed());
                    if let Err(e) = result {
                        latencies.errors += 1;
                        failed.get_or_insert(e.to_string());
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut all = Latencies::default();
    let mut first = None;
    for w in workers {
        let (l, failed) = w.await.map_err(|e| e.to_string())?;
        all.merge(l);
        first = first.or(failed);
    }
    all.elapsed = took.elapsed();
    if let Some(e) = first {
        println!("  ! first insert error: {e}");
    }
    Ok(all)
}

/// The race for one slot.
pub struct Race {
    pub racers: usize,
    /// Answers by status ("201", "409", "no answer", ...).
    pub statuses: BTreeMap<String, usize>,
    /// 409 answers that offered alternatives.
    pub with_alternatives: usize,
    /// The appointment of the 201 answers.
    pub winners: Vec<String>,
    pub first_error: Option<String>,
}

impl Race {
    pub fn count(&self, status: &str) -> usize {
        self.statuses.get(status).copied().unwrap_or(0)
    }

    pub fn passed(&self) -> bool {
        self.count("201") == 1 && self.count("409") == self.racers - 1 && self.winners.len() == 1
    }
}

/// `racers` clients, each for a different patient, POST the same slot at the same moment.
pub async fn race(
    addr: SocketAddr,
    slot_id: &str,
    racers: usize,
    patients: usize,
) -> Result<Race, String> {
    let mut clients = Vec::with_capacity(racers);
    for _ in 0..racers {
        clients.push(Client::connect(addr).await?);
    }
    let start = Arc::new(Barrier::new(racers));
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            let body =
                json!({ "slot_id": slot_id, "patient_id": network::patient_id(i % patients) });
            let body = Bytes::from(serde_json::to_vec(&body).expect("JSON"));
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                client
                    .send(Method::POST, "/api/booking/appointments", Some(body), None)
                    .await
            })
        })
        .collect();
    let mut race = Race {
        racers,
        statuses: BTreeMap::new(),
        with_alternatives: 0,
        winners: Vec::new(),
        first_error: None,
    };
    for handle in handles {
        let answer = handle.await.map_err(|e| format!("a racer failed: {e}"))?;
        let status = match answer {
            Ok(a) => {
                let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
                match a.status.as_u16() {
                    201 => race
                        .winners
                        .extend(body["appointment_id"].as_str().map(str::to_owned)),
                    409 if body["alternatives"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()) =>
                    {
                        race.with_alternatives += 1
                    }
                    409 => {}
                    _ => {
                        race.first_error.get_or_insert_with(|| {
                            format!("HTTP {}: {}", a.status, snippet(&a.body))
                        });
                    }
                }
                a.status.as_u16().to_string()
            }
            Err(e) => {
                race.first_error.get_or_insert(e);
                "no answer".to_owned()
            }
        };
        *race.statuses.entry(status).or_default() += 1;
    }
    Ok(race)
}
