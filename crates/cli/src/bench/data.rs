//! Synthetic patients. Patient `n` is always the same patient, so runs are comparable and
//! the search phase can ask for surnames it knows are stored without keeping them.

use serde_json::{json, Value};

/// Patients per seeding transaction Bundle.
pub const BUNDLE_ENTRIES: u64 = 100;

pub const MRN_SYSTEM: &str = "http://carefront.bench/mrn";
pub const RACE_SYSTEM: &str = "http://carefront.bench/race";

// 25 × 20 × 20 = 10,000 surnames. Every part of a list has the same length, so every surname
// is 7 letters long and none is a prefix of another: `family=` (a prefix match) finds exactly
// the patients of that surname.
const HEADS: [&str; 25] = [
    "Ba", "Be", "Bo", "Da", "De", "Do", "Fa", "Fe", "Ga", "Go", "Ha", "He", "Ka", "Ke", "Ko", "La",
    "Le", "Lo", "Ma", "Me", "Mo", "Na", "Ne", "Ra", "Ro",
];
const MIDDLES: [&str; 20] = [
    "bi", "da", "di", "ga", "ki", "la", "le", "li", "lo", "ma", "mi", "na", "ni", "no", "ra", "re",
    "ri", "sa", "ta", "va",
];
const TAILS: [&str; 20] = [
    "dan", "der", "gan", "ker", "lan", "ley", "man", "mer", "nen", "ner", "nov", "ros", "sen",
    "ski", "son", "ten", "ter", "van", "vic", "wen",
];
pub const SURNAMES: u64 = (HEADS.len() * MIDDLES.len() * TAILS.len()) as u64;

const GIVEN_FEMALE: [&str; 16] = [
    "Ada", "Alma", "Clara", "Edith", "Elena", "Greta", "Hana", "Ines", "Iris", "Lena", "Lucia",
    "Maja", "Nora", "Olga", "Rosa", "Vera",
];
const GIVEN_MALE: [&str; 16] = [
    "Anton", "Bruno", "Carl", "David", "Emil", "Felix", "Hugo", "Ivan", "Jonas", "Karl", "Leon",
    "Marek", "Niko", "Oskar", "Paul", "Tomas",
];

/// SplitMix64's finaliser: spreads consecutive integers over all 64 bits.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tiny deterministic generator for picking ids and surnames; a crate would be overkill.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix(seed))
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0) % n
    }
}

/// The surname of patient `n`: one of [`SURNAMES`], about `patients / 10,000` patients each.
pub fn surname(n: u64) -> String {
    let k = (mix(n) >> 20) % SURNAMES;
    let (head, rest) = (k / 400, k % 400);
    let (middle, tail) = (rest / 20, rest % 20);
    let mut s = String::with_capacity(7);
    s.push_str(HEADS[head as usize]);
    s.push_str(MIDDLES[middle as usize]);
    s.push_str(TAILS[tail as usize]);
    s
}

pub fn patient(n: u64) -> Value {
    let h = mix(n ^ 0x5EED);
    let female = h & 1 == 0;
    let given = if female {
        GIVEN_FEMALE[(h >> 1) as usize % GIVEN_FEMALE.len()]
    } else {
        GIVEN_MALE[(h >> 1) as usize % GIVEN_MALE.len()]
    };
    json!({
        "resourceType": "Patient",
        "identifier": [{ "system": MRN_SYSTEM, "value": format!("MRN{n:09}") }],
        "name": [{ "family": surname(n), "given": [given] }],
        "gender": if female { "female" } else { "male" },
        "birthDate": format!(
            "{:04}-{:02}-{:02}",
            1930 + (h >> 8) % 90,
            1 + (h >> 16) % 12,
            1 + (h >> 24) % 28
        ),
    })
}

/// A transaction Bundle creating patients `first..first + count`.
pub fn transaction(first: u64, count: u64) -> Value {
    let entries: Vec<Value> = (first..first + count)
        .map(|n| {
            json!({
                "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                "resource": patient(n),
                "request": { "method": "POST", "url": "Patient" },
            })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

/// The ids a transaction-response names in its `response.location`s
/// (`Patient/{id}/_history/1`).
pub fn transaction_ids(body: &[u8]) -> Vec<String> {
    // Only the locations are deserialised; serde skips the echoed resources cheaply.
    #[derive(serde::Deserialize)]
    struct Bundle {
        #[serde(default)]
        entry: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        response: Option<Response>,
    }
    #[derive(serde::Deserialize)]
    struct Response {
        location: Option<String>,
    }
    let Ok(bundle) = serde_json::from_slice::<Bundle>(body) else {
        return Vec::new();
    };
    bundle
        .entry
        .into_iter()
        .filter_map(|e| e.response?.location)
        .filter_map(|loc| loc.split('/').nth(1).map(str::to_owned))
        .collect()
}

/// A patient for the conditional-create race, identified by `key`.
pub fn race_patient(key: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{ "system": RACE_SYSTEM, "value": key }],
        "name": [{ "family": "Racer", "given": ["Conditional"] }],
    })
}

/// Percent-encode a query-string value (everything but RFC 3986 unreserved characters).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn surnames_are_distinct_same_length_and_well_spread() {
        let all: HashSet<String> = (0..200_000).map(surname).collect();
        assert!(all.len() > 9_900, "{} distinct surnames", all.len());
        assert!(all.iter().all(|s| s.len() == 7));
    }

    #[test]
    fn ids_come_from_locations() {
        let body = br#"{"entry":[{"resource":{"id":"x"},"response":{"location":"Patient/abc/_history/1"}}]}"#;
        assert_eq!(transaction_ids(body), vec!["abc".to_owned()]);
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("http://a|b-1"), "http%3A%2F%2Fa%7Cb-1");
    }
}
