//! Two `carefront serve` processes on one PostgreSQL database: 200 clients racing for one
//! slot through both get exactly one booking and 199 clean conflicts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::scheduling::Modality;
use carefront_booking::{Booking, ScheduleSpec, Settings, SlotQuery};
use carefront_store::repository::{Repository, SearchLimits};
use serde_json::{json, Value};

const RACERS: usize = 200;

fn pg_root() -> String {
    std::env::var("CAREFRONT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn start(db: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carefront"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .env("CAREFRONT_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start carefront");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .strip_prefix("Carefront listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, addr)
}

/// One HTTP/1.1 request; the status and the body.
fn request(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let status = answer[9..12].parse().expect("a status code");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn token(addr: &str, id: &str, secret: &str) -> String {
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let (status, body) = request(
        addr,
        "POST",
        "/oauth2/token",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &form,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// A clinic, a GP open all day every day, the racing patients, and a system client.
async fn seed(url: &str) -> (String, String, String) {
    let store = Arc::new(
        carefront_store_postgres::PostgresStore::connect(url, 4)
            .await
            .expect("open the store"),
    );
    let repo = Repository::new(store.clone(), SearchLimits::default()).with_hook(Booking::hook());
    let booking = Booking::new(repo.clone(), Settings::default());
    let resources = vec![
        json!({"resourceType": "Organization", "id": "org", "name": "Clinic"}),
        json!({"resourceType": "Location", "id": "loc", "name": "Clinic",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "Europe/Paris"}],
            "position": {"latitude": 48.85, "longitude": 2.35}}),
        json!({"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Doc"}]}),
        json!({"resourceType": "PractitionerRole", "id": "role",
            "practitioner": {"reference": "Practitioner/dr"},
            "organization": {"reference": "Organization/org"},
            "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": "394814009"}]}]}),
    ];
    for r in resources.into_iter().chain((0..RACERS).map(|i| {
        json!({"resourceType": "Patient", "id": format!("racer{i}"), "name": [{"family": "Racer"}]})
    })) {
        let id = r["id"].as_str().unwrap().to_owned();
        let rt = r["resourceType"].as_str().unwrap().to_owned();
        repo.update(&rt, &id, r, &Default::default()).await.unwrap();
    }
    let mut spec =
        ScheduleSpec::new("role", "loc", Modality::InClinic, "Europe/Paris").open_all_week();
    spec.slot_minutes = 30;
    spec.notice_minutes = 60;
    spec.horizon_days = 2;
    booking
        .save_schedule(&spec, Timestamp::now())
        .await
        .unwrap();
    let offers = booking
        .search(
            &SlotQuery {
                limit: 1,
                slots_per_result: 1,
                ..Default::default()
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let slot = offers[0].slots[0].slot_id.clone();
    let secret = carefront_store::tables::clients::register(
        store.as_ref(),
        "racer",
        "racer",
        "system/*.*",
        0,
    )
    .await
    .unwrap();
    (slot, "racer".into(), secret)
}

#[test]
fn two_instances_on_one_postgresql_never_double_book() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = format!("cf_instances_{}", std::process::id());
    let url = format!("{}/{name}", pg_root());
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", pg_root()))
            .await
            .unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (slot, client, secret) = runtime.block_on(seed(&url));
    let servers = [start(&url), start(&url)];
    let tokens: Vec<String> = servers
        .iter()
        .map(|(_, addr)| token(addr, &client, &secret))
        .collect();
    let threads: Vec<_> = (0..RACERS)
        .map(|i| {
            let addr = servers[i % 2].1.clone();
            let auth = format!(
                "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
                tokens[i % 2]
            );
            let body = json!({"slot_id": slot, "patient_id": format!("racer{i}")}).to_string();
            std::thread::spawn(move || {
                request(&addr, "POST", "/api/booking/appointments", &auth, &body)
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won = answers.iter().filter(|(s, _)| *s == 201).count();
    let lost: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    for (child, _) in servers {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let mut child = child;
        let _ = child.wait();
    }
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", pg_root()))
            .await
            .unwrap();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    });
    let sample: Vec<_> = answers.iter().take(3).collect();
    assert_eq!(won, 1, "{sample:?}");
    assert_eq!(lost.len(), RACERS - 1, "{sample:?}");
    assert!(lost.iter().all(|b| b.contains("taken")), "{lost:?}");
}
