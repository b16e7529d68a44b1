//! The demo network is valid FHIR, self-contained, deterministic and of the promised size.

use std::collections::{HashMap, HashSet};

use carefront_demo::{generate, DemoNetwork, NETWORK_ID};
use serde_json::Value;

fn network() -> &'static DemoNetwork {
    static NETWORK: std::sync::OnceLock<DemoNetwork> = std::sync::OnceLock::new();
    NETWORK.get_or_init(|| generate(42))
}

fn key(r: &Value) -> String {
    format!(
        "{}/{}",
        r["resourceType"].as_str().unwrap(),
        r["id"].as_str().unwrap()
    )
}

/// Every `reference` string anywhere in `v`.
fn references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("reference", Value::String(s)) => out.push(s),
                    _ => references(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, out)),
        _ => {}
    }
}

#[test]
fn every_resource_is_valid_r4() {
    let mut failures = Vec::new();
    for r in network().resources() {
        if let Err(issues) = carefront_fhir::validate(r) {
            let issues: Vec<String> = issues
                .iter()
                .map(|i| format!("{:?}: {}", i.expression, i.diagnostics))
                .collect();
            failures.push(format!("{}: {}", key(r), issues.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} invalid, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

#[test]
fn ids_are_unique_and_every_reference_resolves_inside_the_network() {
    let mut ids = HashSet::new();
    for r in network().resources() {
        assert!(ids.insert(key(r)), "{} twice", key(r));
        assert!(r["id"].as_str().unwrap().len() <= 64);
    }
    let mut unresolved = Vec::new();
    for r in network().resources() {
        let mut refs = Vec::new();
        references(r, &mut refs);
        for reference in refs {
            if !ids.contains(reference) {
                unresolved.push(format!("{} -> {reference}", key(r)));
            }
        }
    }
    assert!(unresolved.is_empty(), "{unresolved:?}");
}

#[test]
fn the_same_seed_gives_the_same_network_and_another_seed_another() {
    let again = generate(42);
    assert!(&again == network(), "seed 42 twice differs");
    let text = |n: &DemoNetwork| serde_json::to_string(&n.resources().collect::<Vec<_>>()).unwrap();
    assert_eq!(text(&again), text(network()));
    let other = generate(7);
    assert_ne!(text(&other), text(network()));
    // The shape is the seed's to vary, not the directory's size.
    assert_eq!(other.summary().clinics, 12);
    assert_eq!(other.summary().patients, 200);
}

#[test]
fn counts_match_the_promise() {
    let s = network().summary();
    println!("{s}\n{:#?}", s.by_type);
    assert_eq!(s.regions, 2);
    assert_eq!(s.clinics, 12);
    assert_eq!(s.practitioners, 40);
    assert_eq!(s.by_type["PractitionerRole"], 40);
    assert_eq!(s.patients, 200);
    assert_eq!(s.employees, 30);
    let businesses = network()
        .resources()
        .filter(|r| {
            r["resourceType"] == "Organization" && r["type"][0]["coding"][0]["code"] == "bus"
        })
        .count();
    assert_eq!(businesses, 1, "one client company");
    for t in [
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Encounter",
        "Observation",
    ] {
        assert!(s.by_type[t] >= 40, "{t}: {}", s.by_type[t]);
    }
    // Every specialty the network promises is staffed, in both regions.
    let mut specialties: HashMap<String, usize> = HashMap::new();
    for r in network()
        .resources()
        .filter(|r| r["resourceType"] == "PractitionerRole")
    {
        let s = &r["specialty"][0];
        let name = s["coding"][0]["code"]
            .as_str()
            .or(s["text"].as_str())
            .unwrap();
        *specialties.entry(name.to_owned()).or_default() += 1;
    }
    for code in ["394814009", "394537008", "394582007", "394587001"] {
        assert!(
            specialties.get(code).copied().unwrap_or(0) >= 2,
            "{specialties:?}"
        );
    }
}

#[test]
fn records_are_clinically_consistent() {
    for record in &network().records {
        let patient = &record[0];
        let has_condition = |code: &str| {
            record
                .iter()
                .any(|r| r["resourceType"] == "Condition" && r["code"]["coding"][0]["code"] == code)
        };
        let prescribed = |rxnorm: &str| {
            record.iter().any(|r| {
                r["resourceType"] == "MedicationRequest"
                    && r["medicationCodeableConcept"]["coding"][0]["code"] == rxnorm
            })
        };
        let diabetic = has_condition("44054006");
        if diabetic {
            assert!(
                prescribed("860975"),
                "{}: diabetic without metformin",
                patient["id"]
            );
        }
        for obs in record.iter().filter(|r| r["resourceType"] == "Observation") {
            let code = obs["code"]["coding"][0]["code"].as_str().unwrap();
            let value = obs["valueQuantity"]["value"].to_string().parse::<f64>();
            match code {
                "4548-4" => {
                    let v = value.unwrap();
                    assert!((4.5..10.0).contains(&v));
                    // Only a known diabetic has an HbA1c of 6.5 % or more.
                    assert_eq!(v >= 6.5, diabetic, "{}", obs["id"]);
                }
                "39156-5" => assert!((11.0..50.0).contains(&value.unwrap()), "{}", obs["id"]),
                "85354-9" => {
                    let sys = obs["component"][0]["valueQuantity"]["value"]
                        .as_i64()
                        .unwrap();
                    let dia = obs["component"][1]["valueQuantity"]["value"]
                        .as_i64()
                        .unwrap();
                    assert!(sys > dia && (70..200).contains(&sys), "{}", obs["id"]);
                }
                _ => {}
            }
        }
        // No amoxicillin for those allergic to penicillin.
        let allergic = record.iter().any(|r| {
            r["resourceType"] == "AllergyIntolerance"
                && r["code"]["coding"][0]["code"] == "91936005"
        });
        assert!(!(allergic && prescribed("308182")), "{}", patient["id"]);
    }
}

#[test]
fn bundles_are_idempotent_transactions_ending_with_the_root() {
    let bundles = network().transaction_bundles(100);
    let mut seen = 0;
    for b in &bundles {
        assert_eq!(b["type"], "transaction");
        let entries = b["entry"].as_array().unwrap();
        assert!(!entries.is_empty() && entries.len() <= 100);
        for e in entries {
            assert_eq!(e["request"]["method"], "PUT");
            assert_eq!(e["request"]["url"], key(&e["resource"]));
        }
        seen += entries.len();
    }
    assert_eq!(seen, network().resources().count());
    let last = bundles.last().unwrap()["entry"].as_array().unwrap();
    assert_eq!(
        last.last().unwrap()["request"]["url"],
        format!("Organization/{NETWORK_ID}")
    );
    carefront_fhir::validate(&bundles[0]).expect("a valid Bundle");
    // A tiny limit still writes everything, one resource a Bundle.
    let single = network().transaction_bundles(1);
    assert_eq!(single.len(), network().resources().count());
}
