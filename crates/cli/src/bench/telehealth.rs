//! `carefront bench telehealth`: the video-visit signalling server under load. For each
//! store it seeds a clinic, a patient, a clinician, their sessions and `--idle` video
//! appointments in process, starts `carefront serve`, then
//!
//! 1. opens `--idle` WebSocket connections (one patient waiting in each visit's room) and
//!    reads the server's resident memory before and after;
//! 2. in `--rooms` more visits, the clinician admits the patient, and the patients send
//!    signalling and chat messages, `--rate` per second in all, for `--seconds`; the time
//!    from send to arrival at the clinician's socket is the relay latency (p50/p99/max).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carefront_store::repository::{Repository, SearchLimits};
use carefront_store::tables::{accounts, sessions};
use carefront_store::Store;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::server::Server;
use super::{interruptible, PgDatabase, Scratch, StoreKind};

#[derive(Args, Debug)]
pub struct TelehealthArgs {
    /// Stores to benchmark, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    stores: Vec<StoreKind>,
    /// Idle WebSocket connections to hold (one waiting patient per visit).
    #[arg(long, default_value_t = 2000)]
    idle: usize,
    /// Messages per second relayed in the measured visit.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Visits the relayed messages are spread over (each connection may send 20 a second).
    #[arg(long, default_value_t = 20)]
    rooms: usize,
    /// How long the relay phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// PostgreSQL server (a database is created and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres_url: String,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Fixture {
    patient_session: String,
    clinician_session: String,
    /// Visits for idle connections, then one for the relay phase.
    appointments: Vec<String>,
}

pub async fn run(args: TelehealthArgs) -> Result<(), String> {
    let mut failed = Vec::new();
    for kind in &args.stores {
        println!("\n=== {} ===", kind.label());
        let scratch = Scratch::new()?;
        let result = match kind {
            StoreKind::Sqlite => {
                let url = format!("sqlite://{}", scratch.0.join("bench.db").display());
                interruptible(exercise(&args, *kind, &url, &scratch)).await
            }
            StoreKind::Postgres => {
                let db = PgDatabase::create(args.postgres_url.trim_end_matches('/')).await?;
                let r = interruptible(exercise(&args, *kind, &db.url(), &scratch)).await;
                if let Err(e) = db.drop_database().await {
                    eprintln!("warning: {e}");
                }
                r
            }
        };
        match result {
            Ok(mut missed) => failed.append(&mut missed),
            Err(e) => return Err(format!("{}: {e}", kind.label())),
        }
    }
    // Missed targets are reported, not fatal: they depend on the machine (as `bench fhir`).
    if !failed.is_empty() {
        println!("\ntargets missed:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

async fn open_store(kind: StoreKind, url: &str) -> Result<Arc<dyn Store>, String> {
    Ok(match kind {
        StoreKind::Sqlite => Arc::new(
            carefront_store_sqlite::SqliteStore::open_url(url, 4)
                .await
                .map_err(|e| format!("cannot open {url}: {e}"))?,
        ),
        StoreKind::Postgres => Arc::new(
            carefront_store_postgres::PostgresStore::connect(url, 8)
                .await
                .map_err(|e| format!("cannot open {url}: {e}"))?,
        ),
    })
}

async fn account(store: &dyn Store, role: &str, fhir_ref: &str) -> Result<String, String> {
    let id = uuid::Uuid::new_v4().to_string();
    let fail = |e: carefront_store::StoreError| format!("cannot seed accounts: {e}");
    accounts::insert(
        store,
        &accounts::Account {
            id: id.clone(),
            email: format!("{id}@bench.example"),
            role: role.into(),
            display_name: format!("Bench {role}"),
            // Never used: the bench signs in with a session made here.
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            email_confirmed: true,
            disabled: false,
            fhir_ref: Some(fhir_ref.into()),
            totp_secret: None,
            totp_last_step: None,
            locale: "en".into(),
            created_at: 1,
            updated_at: 1,
        },
    )
    .await
    .map_err(fail)?;
    sessions::create(
        store,
        &sessions::Session {
            account_id: id,
            csrf_token: "bench".into(),
            second_factor_pending: false,
            created_at: 1,
            expires_at: i64::MAX / 2,
        },
    )
    .await
    .map_err(fail)
}

async fn seed(kind: StoreKind, url: &str, visits: usize) -> Result<Fixture, String> {
    let store = open_store(kind, url).await?;
    let repo = Repository::new(store.clone(), SearchLimits::default());
    let put = |resource: Value| {
        let repo = repo.clone();
        async move {
            let rt = resource["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let id = resource["id"].as_str().unwrap_or_default().to_owned();
            repo.update(&rt, &id, resource, &Default::default())
                .await
                .map_err(|e| format!("cannot seed {rt}/{id}: {e:?}"))
        }
    };
    put(json!({"resourceType": "Organization", "id": "bench-clinic", "name": "Bench clinic"}))
        .await?;
    put(json!({"resourceType": "Practitioner", "id": "bench-dr", "name": [{"family": "Bench", "prefix": ["Dr"]}]}))
        .await?;
    put(
        json!({"resourceType": "PractitionerRole", "id": "bench-dr-role",
        "practitioner": {"reference": "Practitioner/bench-dr"},
        "organization": {"reference": "Organization/bench-clinic"}}),
    )
    .await?;
    put(json!({"resourceType": "Patient", "id": "bench-patient", "name": [{"family": "Patient", "given": ["Bench"]}],
        "managingOrganization": {"reference": "Organization/bench-clinic"}}))
    .await?;
    let now = jiff::Timestamp::now();
    let mut appointments = Vec::with_capacity(visits);
    let started = Instant::now();
    for n in 0..visits {
        let id = format!("bench-visit-{n}");
        put(json!({"resourceType": "Appointment", "id": id, "status": "booked",
            "serviceCategory": [{"coding": [{"system": carefront_booking::schedule::MODALITY_SYSTEM, "code": "video"}]}],
            "start": now.to_string(), "end": (now + jiff::SignedDuration::from_mins(20)).to_string(),
            "participant": [
                {"actor": {"reference": "Patient/bench-patient"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/bench-dr"}, "status": "accepted"}]}))
        .await?;
        appointments.push(id);
    }
    println!(
        "seeded {visits} video visits in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Fixture {
        patient_session: account(store.as_ref(), "patient", "Patient/bench-patient").await?,
        clinician_session: account(store.as_ref(), "practitioner", "Practitioner/bench-dr").await?,
        appointments,
    })
}

async fn connect(server: &Server, appointment: &str, session: &str) -> Result<Socket, String> {
    let mut request = format!("ws://{}/visits/{appointment}/ws", server.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "cookie",
        format!("{}={session}", carefront_http::web::session::SESSION_COOKIE)
            .parse()
            .map_err(|_| "bad cookie")?,
    );
    // TCP_NODELAY, as browsers set it: a small frame goes out at once.
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .map_err(|e| format!("cannot open the visit socket: {e}"))?;
    Ok(socket)
}

/// The next JSON frame of `kind` (others are skipped), within `wait`.
async fn next_of(socket: &mut Socket, kind: &str, wait: Duration) -> Result<Value, String> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, socket.next())
            .await
            .map_err(|_| format!("no \"{kind}\" within {wait:?}"))?
            .ok_or("the socket closed")?
            .map_err(|e| e.to_string())?;
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if value["type"] == kind {
                return Ok(value);
            }
        }
    }
}

/// A clinician and an admitted patient in `visit`, and the clinician's peer id.
async fn admitted_pair(
    server: &Server,
    visit: &str,
    fixture: &Fixture,
) -> Result<(Socket, Socket, String), String> {
    let wait = Duration::from_secs(10);
    let mut clinician = connect(server, visit, &fixture.clinician_session).await?;
    let clinician_id = next_of(&mut clinician, "welcome", wait).await?["peer"]
        .as_str()
        .ok_or("welcome without a peer id")?
        .to_owned();
    let mut patient = connect(server, visit, &fixture.patient_session).await?;
    let me = next_of(&mut patient, "welcome", wait).await?;
    let patient_peer = me["peer"]
        .as_str()
        .ok_or("welcome without a peer id")?
        .to_owned();
    while next_of(&mut clinician, "presence", wait).await?["peer"] != patient_peer.as_str() {}
    clinician
        .send(Message::Text(
            json!({"type": "admit", "peer": patient_peer})
                .to_string()
                .into(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    next_of(&mut patient, "admitted", wait).await?;
    Ok((clinician, patient, clinician_id))
}

/// The patient sends `total` messages at `rate` a second; the clinician's socket times
/// their arrival. Latencies in ms, and how many never arrived.
async fn relay(
    mut clinician: Socket,
    patient: Socket,
    clinician_id: String,
    rate: f64,
    total: u64,
    seconds: u64,
) -> Result<(Vec<f64>, usize), String> {
    let (mut sink, _patient_stream) = patient.split();
    let sent: Arc<std::sync::Mutex<HashMap<u64, Instant>>> = Default::default();
    let sender = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            for seq in 0..total {
                tick.tick().await;
                // Every fourth message is chat (broadcast to the room), the rest signalling.
                let frame = if seq % 4 == 3 {
                    json!({"type": "chat", "text": format!("#{seq}")})
                } else {
                    json!({"type": "signal", "to": clinician_id, "data": {"seq": seq,
                        "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}})
                };
                sent.lock().unwrap().insert(seq, Instant::now());
                if sink
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            sink
        })
    };
    let mut latencies = Vec::with_capacity(total as usize);
    let deadline = Instant::now() + Duration::from_secs(seconds + 10);
    while (latencies.len() as u64) < total && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(left, clinician.next()).await
        else {
            continue;
        };
        let arrived = Instant::now();
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let seq = match value["type"].as_str() {
            Some("signal") => value["data"]["seq"].as_u64(),
            Some("chat") => value["text"]
                .as_str()
                .and_then(|t| t.strip_prefix('#'))
                .and_then(|n| n.parse().ok()),
            _ => None,
        };
        if let Some(at) = seq.and_then(|s| sent.lock().unwrap().remove(&s)) {
            latencies.push(arrived.duration_since(at).as_secs_f64() * 1000.0);
        }
    }
    let _ = sender.await;
    let lost = total as usize - latencies.len();
    Ok((latencies, lost))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

async fn exercise(
    args: &TelehealthArgs,
    kind: StoreKind,
    url: &str,
    scratch: &Scratch,
) -> Result<Vec<String>, String> {
    let fixture = seed(kind, url, args.idle + args.rooms.max(1)).await?;
    let mut server = Server::start(url, &scratch.0.join("server.log")).await?;
    let result = measure(args, kind, &server, &fixture).await;
    let _ = server.stop().await;
    if result.is_err() {
        eprintln!("server log:\n{}", server.log_tail(20));
    }
    result
}

async fn measure(
    args: &TelehealthArgs,
    kind: StoreKind,
    server: &Server,
    fixture: &Fixture,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let before = server.memory().map(|m| m.rss).unwrap_or(0);
    let opening = Instant::now();
    let mut idle = Vec::with_capacity(args.idle);
    for appointment in &fixture.appointments[..args.idle] {
        let mut socket = connect(server, appointment, &fixture.patient_session).await?;
        next_of(&mut socket, "welcome", Duration::from_secs(10)).await?;
        idle.push(socket);
    }
    let opened = opening.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.memory().map(|m| m.rss).unwrap_or(0);
    println!(
        "idle: {} WebSocket connections opened in {:.1} s; server RSS {:.1} MB before, {:.1} MB with them ({:.1} KB each)",
        idle.len(),
        opened.as_secs_f64(),
        mb(before),
        mb(after),
        after.saturating_sub(before) as f64 / 1024.0 / idle.len().max(1) as f64
    );
    let rss_ok = after < 100 * 1_048_576;
    println!(
        "target: {} idle connections under 100 MB resident: {}",
        args.idle,
        if rss_ok { "PASS" } else { "FAIL" }
    );
    if !rss_ok {
        problems.push(format!(
            "{} idle connections: RSS {:.1} MB",
            kind.label(),
            mb(after)
        ));
    }

    // The measured visits: in each, the clinician admits the patient, then the patient
    // talks. The load is spread over `--rooms` visits because the server holds each
    // connection to 20 messages a second (a flood guard), as real visits would be.
    let rooms = args.rooms.max(1);
    let per_room = (f64::from(args.rate) / rooms as f64).max(0.1);
    let per_room_total = (per_room * args.seconds as f64).round() as u64;
    let mut tasks = Vec::new();
    for visit in &fixture.appointments[args.idle..args.idle + rooms] {
        let (clinician, patient, clinician_id) = admitted_pair(server, visit, fixture).await?;
        tasks.push(tokio::spawn(relay(
            clinician,
            patient,
            clinician_id,
            per_room,
            per_room_total,
            args.seconds,
        )));
    }
    let mut latencies = Vec::new();
    let mut lost = 0;
    for task in tasks {
        let (mut l, missing) = task.await.map_err(|e| e.to_string())??;
        latencies.append(&mut l);
        lost += missing;
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "relay: {} messages at {}/s over {rooms} visits (3 signalling : 1 chat) patient -> clinician: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, lost {lost}",
        latencies.len(),
        args.rate,
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    let relay_ok = pick(0.99) < 5.0 && lost == 0;
    println!(
        "target: relay p99 < 5 ms at {} messages/s with {} idle connections open: {}",
        args.rate,
        idle.len(),
        if relay_ok { "PASS" } else { "FAIL" }
    );
    if !relay_ok {
        problems.push(format!(
            "{} relay p99 {:.2} ms, {lost} lost",
            kind.label(),
            pick(0.99)
        ));
    }
    let after_relay = server.memory().map(|m| m.rss).unwrap_or(0);
    println!(
        "server RSS after the relay phase: {:.1} MB",
        mb(after_relay)
    );
    drop(idle);
    Ok(problems)
}
