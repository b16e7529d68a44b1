//! `carefront demo`: `serve` on a store seeded with the demo care network (see the
//! `carefront-demo` crate), with example requests to try.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{Booking, Settings};
use carefront_demo::{DemoNetwork, COMPANY_ID, NETWORK_ID};
use carefront_store::repository::{RepoError, Repository};

use crate::config::{Config, ServeArgs};

mod accounts;
mod schedules;
mod triage;
use crate::serve::Server;

/// The network's seed: fixed, so every demo shows the same clinics and people.
pub const SEED: u64 = 42;
/// Entries per transaction Bundle while seeding: large enough to be quick, small enough not
/// to hold SQLite's single writer for long.
const BUNDLE_ENTRIES: usize = 500;

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let config = demo_config(&args)?;
    let server = Server::start(&config).await?;
    let network = carefront_demo::generate(SEED);
    let summary = network.summary();
    match seed(server.repository(), &network).await? {
        Seeding::AlreadyThere => {
            println!("Demo network found in {}: reusing it", config.db)
        }
        Seeding::Written { took, bundles } => println!(
            "Seeded the demo network into {} in {:.2} s ({bundles} transaction Bundles)",
            config.db,
            took.as_secs_f64()
        ),
    }
    println!("  {summary}");
    // The server's repository runs the booking hook, so this service keeps its guarantees.
    let booking = Booking::new(
        server.repository().clone(),
        Settings {
            public_url: server.base_url(),
            ..Settings::default()
        },
    );
    let booked = schedules::ensure(&booking, &network, Timestamp::now()).await?;
    print_schedules(&booked);
    accounts::ensure(server.repository(), network.sample_patient()).await?;
    let triaged = triage::ensure(server.repository(), network.sample_patient()).await?;
    if triaged > 0 {
        println!("  {triaged} triage interviews for the sample patient (see /triage/queue)");
    }
    print_guide(&server.base_url(), &network);
    server.run().await
}

/// Whether [`seed`] wrote the network.
#[derive(Debug)]
pub enum Seeding {
    AlreadyThere,
    Written { took: Duration, bundles: usize },
}

/// Write `network` unless it is already there. Its root Organization is in the last Bundle,
/// so finding the root means an earlier run wrote everything; a run that was interrupted
/// is completed by writing again (every entry is a `PUT` to a fixed id).
pub async fn seed(repo: &Repository, network: &DemoNetwork) -> Result<Seeding, String> {
    match repo.read("Organization", NETWORK_ID).await {
        Ok(_) => return Ok(Seeding::AlreadyThere),
        Err(RepoError::NotFound(_) | RepoError::Gone(_)) => {}
        Err(e) => return Err(format!("cannot look for the demo network: {e}")),
    }
    let started = Instant::now();
    let bundles = network.transaction_bundles(BUNDLE_ENTRIES);
    let count = bundles.len();
    for bundle in bundles {
        repo.bundle(bundle)
            .await
            .map_err(|e| format!("cannot write the demo network: {e}"))?;
    }
    Ok(Seeding::Written {
        took: started.elapsed(),
        bundles: count,
    })
}

fn print_schedules(o: &schedules::Outcome) {
    let mut line = if o.created == 0 {
        format!("  Booking: {} schedules found", o.schedules)
    } else {
        format!(
            "  Booking: {} of {} schedules created with {} free slots",
            o.created, o.schedules, o.slots
        )
    };
    if o.booked > 0 {
        line.push_str(&format!(
            "; {} appointments booked for the sample patient",
            o.booked
        ));
    }
    println!("{line} ({:.2} s)", o.took.as_secs_f64());
}

/// The settings of `serve`, except that the default database is `demo.db` beside `serve`'s
/// `carefront.db`, so that demo people never land in a real store by accident. A database
/// named by `--db`, `CAREFRONT_DB` or the settings file is used as given.
fn demo_config(args: &ServeArgs) -> Result<Config, String> {
    let mut config = Config::resolve(args)?;
    config.demo = true;
    // The default database is derived from the data directory: if another data directory
    // changes the database, nobody named one.
    let probe = ServeArgs {
        data_dir: Some(PathBuf::from("/carefront-demo-probe")),
        ..args.clone()
    };
    if Config::resolve(&probe)?.db != config.db {
        if let Some(dir) = config.db.strip_suffix("carefront.db") {
            config.db = format!("{dir}demo.db");
        }
    }
    Ok(config)
}

fn print_guide(base: &str, network: &DemoNetwork) {
    let fhir = format!("{base}/fhir");
    let patient = network.sample_patient();
    println!();
    println!("Try (the FHIR API is at {fhir}):");
    let examples = [
        "Practitioner?_count=5".to_owned(),
        "PractitionerRole?specialty=http://snomed.info/sct%7C394537008&_include=PractitionerRole:practitioner".to_owned(),
        "Location?address-city=Paris".to_owned(),
        "Location?address-city=Boston".to_owned(),
        format!("Patient/{patient}"),
        format!("Condition?subject=Patient/{patient}"),
        format!("Observation?subject=Patient/{patient}&code=http://loinc.org%7C4548-4&_sort=-date"),
        format!("Encounter?subject=Patient/{patient}&_sort=-date&_count=5"),
        format!("Coverage?policy-holder=Organization/{COMPANY_ID}&_count=5"),
    ];
    for path in examples {
        println!("  curl '{fhir}/{path}'");
    }
    println!("  (each needs -H \"authorization: Bearer $TOKEN\"; get a token with");
    println!("   `carefront client create --db <this database> --name me --scope 'system/*.*'`");
    println!("   and POST grant_type=client_credentials to {base}/oauth2/token)");
    println!();
    accounts::print(base);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_gets_its_own_database_unless_one_is_named() {
        let c = demo_config(&ServeArgs::default()).unwrap();
        assert_eq!(c.db, "sqlite://carefront-data/demo.db");
        assert!(c.demo, "the demo's mailbox is open to anyone");
        let c = demo_config(&ServeArgs {
            data_dir: Some(PathBuf::from("/tmp/x")),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.db, "sqlite:///tmp/x/demo.db");
        let c = demo_config(&ServeArgs {
            db: Some("sqlite://mine.db".into()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.db, "sqlite://mine.db");
    }
}
