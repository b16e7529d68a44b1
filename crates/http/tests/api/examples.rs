//! The official R4 examples round-trip: each is stored with `PUT [type]/[id]` and reads back
//! with the same content (the server may only change `meta.versionId` and
//! `meta.lastUpdated`).
//!
//! The examples come from `CAREFRONT_FHIR_EXAMPLES` (set by scripts/test.sh), else
//! `/work/shared/data/fhir-r4/examples`; without either the test is skipped, unless `CI` is
//! set, where a missing example set is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use crate::both_stores;
use crate::helpers::TestApp;

/// Definitional resources that are not examples of clinical content (thousands of them).
const SKIPPED_PREFIXES: [&str; 2] = ["SearchParameter-", "OperationDefinition-"];

/// Official examples that themselves break the R4 structure rules, with the element at
/// fault: the server must refuse them with 422 and an issue naming that element.
const KNOWN_INVALID: [(&str, &str); 1] = [
    // Questionnaire.item.linkId is 1..1, but the `display` items of qs1 have none.
    ("Questionnaire-qs1.json", "linkId"),
];

fn examples_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CAREFRONT_FHIR_EXAMPLES") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "CAREFRONT_FHIR_EXAMPLES={} is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let fallback =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fhir-r4/examples");
    if fallback.is_dir() {
        return Some(fallback);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the R4 examples are missing: set CAREFRONT_FHIR_EXAMPLES or provide {}",
            fallback.display()
        );
    }
    println!(
        "note: skipping the R4 examples round trip: set CAREFRONT_FHIR_EXAMPLES or provide {}",
        fallback.display()
    );
    None
}

/// Every example resource: (file name, resource).
fn load_examples(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the examples directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            if name.starts_with('.')
                || name == "package.json"
                || SKIPPED_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                return None;
            }
            let text = std::fs::read(&path).expect("read an example");
            let value: Value =
                serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            (value["resourceType"].is_string() && value["id"].is_string()).then_some((name, value))
        })
        .collect()
}

/// `resource` without what the server stamps on every version.
fn without_server_meta(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if meta.is_empty() {
            r.as_object_mut()
                .expect("a resource is an object")
                .remove("meta");
        }
    }
    r
}

/// The first place where `a` and `b` differ, as a path with both values.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &here) {
                            return Some(d);
                        }
                    }
                    (Some(u), None) => return Some(format!("{here} was {u}, now missing")),
                    (None, Some(v)) => return Some(format!("{here} is new: {v}")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => {
            let show = |v: &Value| v.to_string().chars().take(120).collect::<String>();
            Some(format!("{path} was {} , now {}", show(a), show(b)))
        }
    }
}

/// PUT one example and read it back; `Err` says what went wrong.
async fn round_trip(app: &TestApp, file: &str, resource: &Value) -> Result<(), String> {
    let rt = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    let path = format!("{rt}/{id}");
    let put = app.put(&path, resource).await;
    if let Some((_, element)) = KNOWN_INVALID.iter().find(|(f, _)| *f == file) {
        let named = put.expressions().iter().any(|e| e.contains(element));
        return match (put.status, named) {
            (422, true) => Ok(()),
            (422, false) => Err(format!(
                "PUT {path}: 422 as expected, but no issue.expression names {element}: {:?}",
                put.expressions()
            )),
            _ => Err(format!(
                "PUT {path}: breaks R4 ({element}), so 422 was expected: {}",
                put.describe()
            )),
        };
    }
    if put.status != 201 && put.status != 200 {
        return Err(format!("PUT {path}: {}", put.describe()));
    }
    let read = app.get(&path).await;
    if read.status != 200 {
        return Err(format!("GET {path}: {}", read.describe()));
    }
    if read.body["meta"]["versionId"].as_str().is_none() {
        return Err(format!("GET {path}: no meta.versionId"));
    }
    let (sent, got) = (
        without_server_meta(resource),
        without_server_meta(&read.body),
    );
    match first_difference(&sent, &got, rt) {
        None => Ok(()),
        Some(d) => Err(format!("{path} changed: {d}")),
    }
}

both_stores! {
    async fn official_r4_examples_round_trip(app) {
        let Some(dir) = examples_dir() else { return };
        let examples = load_examples(&dir);
        assert!(
            examples.len() > 100,
            "only {} examples in {}",
            examples.len(),
            dir.display()
        );
        let results: Vec<(String, String, Result<(), String>)> = stream::iter(examples.iter())
            .map(|(file, resource)| {
                let app = &app;
                async move {
                    let rt = resource["resourceType"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    (rt, file.clone(), round_trip(app, file, resource).await)
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;

        let mut per_type: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut failures = Vec::new();
        for (rt, file, result) in &results {
            let counts = per_type.entry(rt.as_str()).or_default();
            counts.1 += 1;
            match result {
                Ok(()) => counts.0 += 1,
                Err(why) => failures.push(format!("{file}: {why}")),
            }
        }
        failures.sort();
        let table: Vec<String> = per_type
            .iter()
            .map(|(rt, (ok, all))| format!("{rt} {ok}/{all}"))
            .collect();
        println!(
            "R4 examples on {:?}: {} of {} round-trip, {} types: {}",
            app.backend,
            results.len() - failures.len(),
            results.len(),
            per_type.len(),
            table.join(", ")
        );
        let broken_types: Vec<&str> = per_type
            .iter()
            .filter(|(_, (ok, all))| ok != all)
            .map(|(rt, _)| *rt)
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} examples do not round-trip; types affected: {broken_types:?}\n{}",
            failures.len(),
            results.len(),
            failures
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
