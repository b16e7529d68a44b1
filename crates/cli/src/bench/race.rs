//! The conditional-create race: many clients POST the same patient with the same
//! `If-None-Exist` at the same moment. Exactly one resource may come of it, and every
//! client should be answered with it (201 for one, 200 for the others).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::Method;
use serde_json::Value;
use tokio::sync::Barrier;

use super::client::{snippet, Client};
use super::data;

pub const RACERS: usize = 24;

pub struct RaceOutcome {
    /// Answers by status ("201", "200", "500", "no answer").
    pub statuses: BTreeMap<String, usize>,
    /// Distinct ids in the 2xx answers.
    pub ids: BTreeSet<String>,
    /// Patients the identifier search finds afterwards, or why it could not tell.
    pub stored: Result<usize, String>,
    pub first_error: Option<String>,
}

impl RaceOutcome {
    pub fn passed(&self) -> bool {
        let answered_ok: usize = ["200", "201"]
            .iter()
            .filter_map(|s| self.statuses.get(*s))
            .sum();
        self.stored == Ok(1) && self.ids.len() == 1 && answered_ok == RACERS
    }
}

pub async fn run(addr: SocketAddr) -> Result<RaceOutcome, String> {
    let key = uuid::Uuid::new_v4().to_string();
    let criteria = format!(
        "identifier={}",
        data::query_escape(&format!("{}|{key}", data::RACE_SYSTEM))
    );
    let body = Bytes::from(serde_json::to_vec(&data::race_patient(&key)).expect("JSON"));

    // Connect everyone first, then release them together.
    let mut clients = Vec::with_capacity(RACERS);
    for _ in 0..RACERS {
        clients.push(Client::connect(addr).await?);
    }
    let start = Arc::new(Barrier::new(RACERS));
    let handles: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let (start, body, criteria) = (start.clone(), body.clone(), criteria.clone());
            tokio::spawn(async move {
                start.wait().await;
                client
                    .send(
                        Method::POST,
                        "/fhir/Patient",
                        Some(body),
                        Some(("if-none-exist", &criteria)),
                    )
                    .await
            })
        })
        .collect();

    let mut outcome = RaceOutcome {
        statuses: BTreeMap::new(),
        ids: BTreeSet::new(),
        stored: Ok(0),
        first_error: None,
    };
    for handle in handles {
        let answer = handle.await.map_err(|e| format!("a racer failed: {e}"))?;
        let status = match answer {
            Ok(a) => {
                if a.status.is_success() {
                    let resource: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
                    if let Some(id) = resource["id"].as_str() {
                        outcome.ids.insert(id.to_owned());
                    }
                } else if outcome.first_error.is_none() {
                    outcome.first_error = Some(format!("HTTP {}: {}", a.status, snippet(&a.body)));
                }
                a.status.as_u16().to_string()
            }
            Err(e) => {
                outcome.first_error.get_or_insert(e);
                "no answer".to_owned()
            }
        };
        *outcome.statuses.entry(status).or_default() += 1;
    }

    let mut client = Client::connect(addr).await?;
    let answer = client
        .get(&format!("/fhir/Patient?{criteria}&_count=100"))
        .await?;
    outcome.stored = if answer.status.is_success() {
        let bundle: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        match bundle["entry"].as_array() {
            Some(entries) => Ok(entries
                .iter()
                .filter(|e| e["resource"]["resourceType"] == "Patient")
                .filter(|e| e["search"]["mode"].as_str().is_none_or(|m| m == "match"))
                .count()),
            None if bundle["resourceType"] == "Bundle" => Ok(0),
            None => Err(format!("the search answered {}", snippet(&answer.body))),
        }
    } else {
        Err(format!(
            "the identifier search answered HTTP {}: {}",
            answer.status,
            snippet(&answer.body)
        ))
    };
    Ok(outcome)
}
