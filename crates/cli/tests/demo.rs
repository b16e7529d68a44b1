//! `carefront demo` seeds a fresh SQLite store with the demo network once, then reuses it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{Booking, Settings, SlotQuery};
use carefront_store::repository::{Repository, SearchLimits};

/// Run `carefront demo` on `dir` until it listens, stop it with SIGTERM, and return what it
/// printed.
fn demo_once(dir: &Path) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carefront"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("CAREFRONT_LOG_FORMAT", "json")
        .env_remove("CAREFRONT_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start carefront demo");
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.expect("read stdout");
        let listening = line.starts_with("Carefront listening on http://");
        lines.push(line);
        if listening {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "{lines:#?}");
    lines
}

/// How many resources of each type the store at `db` holds, through Repository search.
fn stored_counts(db: &Path, types: &[&str]) -> (Vec<u64>, i64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let store = carefront_store_sqlite::SqliteStore::open_url(&url, 1)
            .await
            .expect("open the demo store");
        let repo = Repository::new(Arc::new(store), SearchLimits::default());
        let mut counts = Vec::new();
        for t in types {
            let query = repo
                .parse_search(Some(t), &[("_summary".into(), "count".into())], false)
                .unwrap();
            counts.push(repo.search(&query).await.unwrap().total.unwrap());
        }
        let root = repo
            .read("Organization", carefront_demo::NETWORK_ID)
            .await
            .expect("the root is there");
        (counts, root.version)
    })
}

/// What the demo store offers for booking.
#[derive(Debug, PartialEq)]
struct Bookable {
    schedules: u64,
    free_slots: u64,
    /// General practice offers found by a search as a patient would make it.
    offers: usize,
    offered_slots: usize,
    /// Appointments of the sample patient.
    sample_appointments: u64,
}

/// `[type]?params&_summary=count`.
async fn count(repo: &Repository, resource_type: &str, params: &[(&str, &str)]) -> u64 {
    let mut params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    params.push(("_summary".into(), "count".into()));
    let query = repo
        .parse_search(Some(resource_type), &params, false)
        .unwrap();
    repo.search(&query).await.unwrap().total.unwrap()
}

fn bookable(db: &Path, sample_patient: &str) -> Bookable {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let store = carefront_store_sqlite::SqliteStore::open_url(&url, 1)
            .await
            .expect("open the demo store");
        let repo =
            Repository::new(Arc::new(store), SearchLimits::default()).with_hook(Booking::hook());
        let schedules = count(&repo, "Schedule", &[]).await;
        let free_slots = count(&repo, "Slot", &[("status", "free")]).await;
        let patient = format!("Patient/{sample_patient}");
        let sample_appointments = count(&repo, "Appointment", &[("patient", &patient)]).await;
        let booking = Booking::new(repo.clone(), Settings::default());
        let query = SlotQuery {
            specialty: Some("394814009".into()),
            limit: 5,
            slots_per_result: 3,
            ..Default::default()
        };
        let offers = booking.search(&query, Timestamp::now()).await.unwrap();
        Bookable {
            schedules,
            free_slots,
            offers: offers.len(),
            offered_slots: offers.iter().map(|o| o.slots.len()).sum(),
            sample_appointments,
        }
    })
}

#[test]
fn demo_seeds_a_fresh_store_once_then_reuses_it() {
    let dir = std::env::temp_dir().join(format!("carefront-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = demo_once(&dir);
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("Seeded the demo network")),
        "{first:#?}"
    );
    assert!(first
        .iter()
        .any(|l| l.contains("Observation?subject=Patient/demo-pat-")));
    for role in [
        "patient",
        "practitioner",
        "pharmacist",
        "dispatcher",
        "employer-admin",
        "administrator",
    ] {
        assert!(
            first
                .iter()
                .any(|l| l.trim_start().starts_with(role) && l.contains("@demo.carefront.example")),
            "a sign-in for {role}: {first:#?}"
        );
    }

    // The command uses seed 42; what the store holds is exactly that network.
    let expected = carefront_demo::generate(42).summary().by_type;
    let types: Vec<&str> = expected.keys().map(String::as_str).collect();
    let want: Vec<u64> = expected.values().map(|n| *n as u64).collect();
    let db = dir.join("demo.db");
    let (counts, root_version) = stored_counts(&db, &types);
    assert_eq!(counts, want, "{types:?}");
    assert_eq!(
        &counts[types.iter().position(|t| *t == "Patient").unwrap()],
        &200
    );
    assert_eq!(root_version, 1);

    // Every clinician but the pharmacists can be booked, and the sample patient has visits.
    let network = carefront_demo::generate(42);
    let bookable_roles = network
        .directory
        .iter()
        .filter(|r| r["resourceType"] == "PractitionerRole")
        .filter(|r| r["code"][0]["coding"][0]["code"] != "pharmacist")
        .count() as u64;
    let booking = bookable(&db, network.sample_patient());
    assert!(
        first
            .iter()
            .any(|l| l.contains("Booking:") && l.contains("schedules created")),
        "{first:#?}"
    );
    assert!(booking.schedules > bookable_roles, "{booking:?}");
    assert!(booking.free_slots > booking.schedules * 20, "{booking:?}");
    assert_eq!(
        (booking.offers, booking.offered_slots),
        (5, 15),
        "{booking:?}"
    );
    assert_eq!(booking.sample_appointments, 2, "{booking:?}");

    let second = demo_once(&dir);
    assert!(
        second.iter().any(|l| l.starts_with("Demo network found")),
        "{second:#?}"
    );
    let (again, root_version) = stored_counts(&db, &types);
    assert_eq!(again, want);
    assert_eq!(root_version, 1, "not written a second time");
    assert!(
        second
            .iter()
            .any(|l| l.contains("Booking:") && l.contains("schedules found")),
        "{second:#?}"
    );
    let again = bookable(&db, network.sample_patient());
    assert_eq!(
        again.schedules, booking.schedules,
        "no schedule written twice"
    );
    assert_eq!(again.sample_appointments, 2, "booked once");
    let _ = std::fs::remove_dir_all(dir);
}
