//! SCRATCH (not to be committed): writes a SQLite script with N patients + observations and
//! a list of queries with binds inlined, for end-to-end checks with the sqlite3 CLI.
use super::*;
use crate::sql::index_inserts;
use carefront_fhir::search::{extract, parse_query};
use serde_json::json;
use std::io::Write;

pub fn render(s: &Sql) -> String {
    let mut out = String::new();
    let b = s.text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if (b[i] == b'?' || b[i] == b'$') && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = s.text[i + 1..j].parse().unwrap();
            out.push_str(&lit(&s.binds[n - 1]));
            i = j;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn lit(b: &Bind) -> String {
    match b {
        Bind::Text(t) => format!("'{}'", t.replace('\'', "''")),
        Bind::OptText(None) => "NULL".into(),
        Bind::OptText(Some(t)) => format!("'{}'", t.replace('\'', "''")),
        Bind::Int(i) => i.to_string(),
        Bind::Float(f) => format!("{f:e}"),
    }
}

const FAMILIES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
];
const GIVENS: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Chloé",
    "Zoë",
    "André",
    "Renée",
];

#[test]
#[ignore]
fn write_scratch_db() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(if pg() {
            "/tmp/scratch_data_pg.sql"
        } else {
            "/tmp/scratch_data.sql"
        })
        .unwrap(),
    );
    writeln!(f, "BEGIN;").unwrap();
    let mut seed: u64 = 42;
    let mut rnd = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % m
    };
    let mut rid = 0i64;
    for i in 0..n {
        let fam = FAMILIES[rnd(FAMILIES.len())];
        let fam = if rnd(10) == 0 {
            format!("{fam}{}", rnd(1000))
        } else {
            fam.to_string()
        };
        let g1 = GIVENS[rnd(GIVENS.len())];
        let g2 = GIVENS[rnd(GIVENS.len())];
        let year = 1930 + rnd(90);
        let p = json!({"resourceType": "Patient", "id": format!("p{i}"),
            "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
            "identifier": [{"system": "http://hospital.example/mrn", "value": format!("MRN{i:07}")}],
            "active": true,
            "name": [{"family": fam, "given": [g1, g2]}],
            "telecom": [{"system": "phone", "value": format!("555-{:04}", i % 10000)}],
            "gender": if rnd(2) == 0 { "male" } else { "female" },
            "birthDate": format!("{year}-{:02}-{:02}", 1 + rnd(12), 1 + rnd(28)),
            "address": [{"line": [format!("{} Main St", rnd(999))], "city": (["Springfield", "Shelbyville", "Ogdenville"][rnd(3)]), "postalCode": format!("{:05}", rnd(99999)), "country": "US"}],
            "managingOrganization": {"reference": "Organization/org1"}});
        rid += 1;
        write_resource(&mut f, rid, &p, 1_700_000_000_000_000 + i as i64);
        let o = json!({"resourceType": "Observation", "id": format!("o{i}"), "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": (["29463-7", "8867-4", "8310-5"][rnd(3)])}]},
            "subject": {"reference": format!("Patient/p{i}")},
            "effectiveDateTime": format!("20{:02}-{:02}-{:02}T10:{:02}:00Z", 10 + rnd(14), 1 + rnd(12), 1 + rnd(28), rnd(60)),
            "valueQuantity": {"value": (rnd(2000) as f64) / 10.0, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
        rid += 1;
        write_resource(&mut f, rid, &o, 1_700_000_000_000_000 + i as i64);
    }
    let org = json!({"resourceType": "Organization", "id": "org1", "name": "Acme"});
    rid += 1;
    write_resource(&mut f, rid, &org, 1_700_000_000_000_000);
    writeln!(f, "COMMIT;").unwrap();
}

fn pg() -> bool {
    std::env::var("PG").is_ok()
}
fn dialect() -> Dialect {
    if pg() {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    }
}

fn write_resource(f: &mut impl Write, rid: i64, r: &serde_json::Value, lu: i64) {
    let rt = r["resourceType"].as_str().unwrap();
    let id = r["id"].as_str().unwrap();
    let content = r.to_string().replace('\'', "''");
    if pg() {
        writeln!(f, "INSERT INTO resources (rid, res_type, res_id, version, last_updated, deleted, content) OVERRIDING SYSTEM VALUE VALUES ({rid}, '{rt}', '{id}', 1, {lu}, false, convert_to('{content}', 'UTF8'));").unwrap();
    } else {
        writeln!(f, "INSERT INTO resources (rid, res_type, res_id, version, last_updated, deleted, content) VALUES ({rid}, '{rt}', '{id}', 1, {lu}, 0, '{content}');").unwrap();
    }
    for s in index_inserts(dialect(), rid, true, rt, &extract(r)) {
        if s.text.starts_with("DELETE") {
            continue;
        }
        writeln!(f, "{};", render(&s)).unwrap();
    }
}

/// Reads /tmp/scratch_queries.txt lines "Type?query" and writes page + count SQL for each.
#[test]
#[ignore]
fn write_scratch_queries() {
    let text = std::fs::read_to_string("/tmp/scratch_queries.txt").unwrap();
    let mut f = std::fs::File::create(if pg() {
        "/tmp/scratch_queries_pg.sql"
    } else {
        "/tmp/scratch_queries.sql"
    })
    .unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (rt, qs) = line.split_once('?').unwrap_or((line, ""));
        let params: Vec<(String, String)> = qs
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        let rt = if rt.is_empty() { None } else { Some(rt) };
        let q = parse_query(rt, &params, false, 10, 1000).unwrap();
        let d = dialect();
        let gc = if pg() {
            "string_agg(res_id, ' ' ORDER BY n)"
        } else {
            "group_concat(res_id, ' ')"
        };
        let rn = if pg() {
            ", row_number() OVER () AS n"
        } else {
            ""
        };
        let echo = if pg() { "\\echo" } else { ".print" };
        writeln!(f, "{echo} '### {}'", line.replace('\'', "")).unwrap();
        writeln!(f, "SELECT 'count', ({});", render(&count_sql(d, &q))).unwrap();
        writeln!(
            f,
            "SELECT {gc} FROM (SELECT res_id{rn} FROM ({}) AS p) AS q;",
            render(&page_sql(d, &q))
        )
        .unwrap();
        for inc in &q.includes {
            writeln!(
                f,
                "SELECT 'include', {gc} FROM (SELECT res_id{rn} FROM ({}) AS p) AS q;",
                render(&include_sql(d, inc, &[1, 2, 3, 4]))
            )
            .unwrap();
        }
        for inc in &q.revincludes {
            writeln!(
                f,
                "SELECT 'revinclude', {gc} FROM (SELECT res_id{rn} FROM ({}) AS p) AS q;",
                render(&revinclude_sql(d, inc, &[1, 3]))
            )
            .unwrap();
        }
    }
}
