//! The shape of the search SQL: which conditions and binds each kind of filter produces.

use carefront_fhir::search::{parse_query, SearchQuery};

use super::conditions::prefix_upper_bound;
use super::*;

fn query(resource_type: Option<&str>, params: &[(&str, &str)]) -> SearchQuery {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse_query(resource_type, &params, false, 10, 100).unwrap()
}

fn page(resource_type: &str, params: &[(&str, &str)]) -> Sql {
    page_sql(Dialect::Sqlite, &query(Some(resource_type), params))
}

fn text(b: &Bind) -> &str {
    match b {
        Bind::Text(t) => t,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn no_filters_pages_by_rid() {
    let s = page("Patient", &[]);
    assert_eq!(
        s.text,
        "SELECT r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.content \
         FROM resources r WHERE NOT r.deleted AND r.res_type = ?1 ORDER BY r.rid LIMIT ?2 OFFSET ?3"
    );
    assert_eq!(
        s.binds,
        vec![Bind::Text("Patient".into()), Bind::Int(11), Bind::Int(0)]
    );
    let s = page_sql(Dialect::Postgres, &query(Some("Patient"), &[]));
    assert!(s
        .text
        .ends_with("r.res_type = $1 ORDER BY r.rid LIMIT $2 OFFSET $3"));
}

#[test]
fn string_prefix_is_an_index_range() {
    let s = page("Patient", &[("family", "Smi")]);
    assert!(
        s.text.contains(
            "r.rid IN (SELECT rid FROM idx_string WHERE res_type = ?1 AND param = ?2 \
             AND ((value >= ?3 AND value < ?4)))"
        ),
        "{}",
        s.text
    );
    assert_eq!(text(&s.binds[2]), "smi");
    assert_eq!(text(&s.binds[3]), "smj");

    let s = page("Patient", &[("family:exact", "Smith")]);
    assert!(
        s.text.contains("((value = ?3 AND exact = ?4))"),
        "{}",
        s.text
    );
    assert_eq!((text(&s.binds[2]), text(&s.binds[3])), ("smith", "Smith"));

    let s = page("Patient", &[("family:contains", "50%_x")]);
    assert!(
        s.text.contains("((value LIKE ?3 ESCAPE '\\'))"),
        "{}",
        s.text
    );
    assert_eq!(text(&s.binds[2]), "%50\\%\\_x%");
}

#[test]
fn upper_bounds_of_prefixes() {
    assert_eq!(prefix_upper_bound("smi").as_deref(), Some("smj"));
    assert_eq!(prefix_upper_bound("az").as_deref(), Some("a{"));
    assert_eq!(prefix_upper_bound("é").as_deref(), Some("ê"));
    assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
    assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
    assert_eq!(prefix_upper_bound(""), None);
}

#[test]
fn alternatives_or_and_repeats_and() {
    let s = page("Patient", &[("gender", "male,female"), ("given", "a")]);
    assert!(
        s.text.contains(
            "r.rid IN (SELECT rid FROM idx_token WHERE res_type = ?1 AND param = ?2 \
             AND ((code = ?3) OR (code = ?4))) AND r.rid IN (SELECT rid FROM idx_string"
        ),
        "{}",
        s.text
    );
}

#[test]
fn token_forms_not_and_missing() {
    let s = page(
        "Observation",
        &[("code", "http://loinc.org|1234,|x,http://s|")],
    );
    assert!(
        s.text.contains(
            "((code = ?3 AND system = ?4) OR (code = ?5 AND system IS NULL) OR (system = ?6))"
        ),
        "{}",
        s.text
    );
    // Negated filters do not keep to the type's rows: the type is checked on `r`.
    let s = page("Patient", &[("gender:not", "male")]);
    assert!(
        s.text
            .contains("r.res_type = ?1 AND r.rid NOT IN (SELECT rid FROM idx_token"),
        "{}",
        s.text
    );
    let s = page("Patient", &[("birthdate:missing", "true")]);
    assert!(
        s.text
            .contains("r.rid NOT IN (SELECT rid FROM idx_date WHERE res_type = ?2 AND param = ?3)"),
        "{}",
        s.text
    );
    let s = page("Patient", &[("birthdate:missing", "false")]);
    assert!(
        s.text
            .contains("NOT r.deleted AND r.rid IN (SELECT rid FROM idx_date WHERE res_type = ?1 AND param = ?2)"),
        "{}",
        s.text
    );
}

#[test]
fn id_and_last_updated_use_the_row() {
    let s = page(
        "Patient",
        &[("_id", "a,b"), ("_lastUpdated", "ge2020-01-01")],
    );
    assert!(
        s.text.contains(
            "AND r.res_id IN (?2, ?3) AND (((r.last_updated >= ?4 OR (r.last_updated + 1) > ?5)))"
        ),
        "{}",
        s.text
    );
    let s = page_sql(Dialect::Sqlite, &query(None, &[("_id", "a")]));
    assert!(
        s.text
            .contains("WHERE NOT r.deleted AND r.res_id IN (?1) ORDER BY"),
        "{}",
        s.text
    );
}

#[test]
fn date_prefixes() {
    let cases = [
        ("2020", "start_ts < ?3 AND start_ts >= ?4 AND end_ts <= ?5"),
        (
            "ne2020",
            "NOT (start_ts < ?3 AND start_ts >= ?4 AND end_ts <= ?5)",
        ),
        ("gt2020", "end_ts > ?3"),
        ("lt2020", "start_ts < ?3"),
        ("ge2020", "(start_ts >= ?3 OR end_ts > ?4)"),
        (
            "le2020",
            "start_ts < ?3 AND (start_ts < ?4 OR end_ts <= ?5)",
        ),
        ("sa2020", "start_ts >= ?3"),
        ("eb2020", "end_ts <= ?3"),
        ("ap2020", "start_ts < ?3 AND end_ts > ?4"),
    ];
    for (value, condition) in cases {
        let s = page("Patient", &[("birthdate", value)]);
        assert!(
            s.text.contains(&format!("AND (({condition})))")),
            "{value}: {}",
            s.text
        );
    }
}

#[test]
fn numbers_and_quantities() {
    let s = page(
        "Observation",
        &[("value-quantity", "5.4|http://unitsofmeasure.org|mg")],
    );
    assert!(
        s.text.contains(
            "idx_quantity WHERE res_type = ?1 AND param = ?2 AND ((low < ?3 AND \
             ((low >= ?4 AND high <= ?5) OR (low <= ?6 AND high > ?7)) AND system = ?8 AND code = ?9))"
        ),
        "{}",
        s.text
    );
    assert_eq!(s.binds[5], Bind::Float(5.4));
    let s = page("RiskAssessment", &[("probability", "gt0.5")]);
    assert!(s
        .text
        .contains("idx_number WHERE res_type = ?1 AND param = ?2 AND ((high > ?3))"));
}

#[test]
fn references_and_uris() {
    let s = page(
        "Observation",
        &[("subject", "Patient/1,2,http://x.org/fhir/Patient/3")],
    );
    assert!(
        s.text
            .contains("((target_id = ?3 AND target_type = ?4) OR (target_id = ?5) OR (url = ?6))"),
        "{}",
        s.text
    );
    let s = page("ValueSet", &[("url:above", "http://a.org/fhir/ValueSet/x")]);
    assert!(s.text.contains("((uri IN (?3, ?4, ?5, ?6)))"), "{}", s.text);
    assert_eq!(text(&s.binds[3]), "http://a.org");
    assert_eq!(text(&s.binds[5]), "http://a.org/fhir/ValueSet");
    let s = page("ValueSet", &[("url:below", "http://a.org/fhir/")]);
    assert!(s.text.contains("((uri >= ?3 AND uri < ?4))"), "{}", s.text);
    let s = page("ValueSet", &[("url", "http://a.org/fhir/ValueSet/x")]);
    assert!(s.text.contains("((uri = ?3))"), "{}", s.text);
}

#[test]
fn chains_join_the_target_index() {
    let s = page("Observation", &[("patient.family", "smith")]);
    assert!(
        s.text.contains(
            "r.rid IN (SELECT x.rid FROM idx_reference x \
             JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id \
             JOIN idx_string c ON c.rid = t.rid \
             WHERE x.res_type = ?1 AND x.param = ?2 AND x.target_type = ?3 AND NOT t.deleted \
             AND c.res_type = ?4 AND c.param = ?5 AND ((c.value >= ?6 AND c.value < ?7)))"
        ),
        "{}",
        s.text
    );
    let s = page("Observation", &[("subject.name", "x")]);
    assert!(
        s.text.contains("AND c.res_type = t.res_type AND"),
        "{}",
        s.text
    );
    let s = page("Observation", &[("subject:Patient._id", "p1")]);
    assert!(
        s.text
            .contains("AND x.target_type = ?3 AND NOT t.deleted AND t.res_id IN (?4))"),
        "{}",
        s.text
    );
}

#[test]
fn sorting() {
    let s = page("Patient", &[("_sort", "-birthdate,family,_id")]);
    assert!(
        s.text.contains(
            " ORDER BY COALESCE((SELECT MAX(o.start_ts) FROM idx_date o WHERE o.rid = r.rid \
             AND o.param = ?2), ?3) DESC, COALESCE((SELECT MIN(o.value) FROM idx_string o \
             WHERE o.rid = r.rid AND o.param = ?4), ?5), r.res_id, r.rid LIMIT"
        ),
        "{}",
        s.text
    );
    assert_eq!(s.binds[2], Bind::Int(i64::MIN));
    let s = page("Patient", &[("_sort", "-_lastUpdated")]);
    assert!(s.text.contains("ORDER BY r.last_updated DESC, r.rid LIMIT"));
}

#[test]
fn count_and_conditional_matches() {
    let q = query(Some("Patient"), &[("family", "x")]);
    let s = count_sql(Dialect::Postgres, &q);
    assert!(s.text.starts_with(
        "SELECT COUNT(*) FROM resources r WHERE NOT r.deleted AND r.rid IN (SELECT rid FROM idx_string WHERE res_type = $1"
    ));
    assert!(!s.text.contains("ORDER BY") && !s.text.contains("LIMIT"));
    let s = matches_sql(Dialect::Sqlite, &q, 2);
    assert!(s.text.ends_with("LIMIT ?5"), "{}", s.text);
    assert_eq!(s.binds.last(), Some(&Bind::Int(2)));
}

#[test]
fn includes_and_revincludes() {
    let q = query(
        Some("Observation"),
        &[
            ("_include", "Observation:subject:Patient"),
            ("_revinclude", "Provenance:target"),
        ],
    );
    let s = include_sql(Dialect::Sqlite, &q.includes[0], &[1, 2]);
    assert!(
        s.text.ends_with(
            "FROM resources r WHERE NOT r.deleted AND r.rid IN (SELECT t.rid FROM idx_reference x \
             JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id \
             WHERE x.rid IN (?1, ?2) AND x.res_type = ?3 AND x.param = ?4 AND x.target_type = ?5)"
        ),
        "{}",
        s.text
    );
    let s = revinclude_sql(Dialect::Postgres, &q.revincludes[0], &[7]);
    assert!(
        s.text.ends_with(
            "FROM resources r WHERE NOT r.deleted AND r.res_type = $1 AND r.rid IN \
             (SELECT x.rid FROM idx_reference x JOIN resources t ON x.target_type = t.res_type \
             AND x.target_id = t.res_id WHERE t.rid IN ($2) AND x.res_type = $3 AND x.param = $4)"
        ),
        "{}",
        s.text
    );
    let s = include_sql(Dialect::Sqlite, &q.includes[0], &[]);
    assert!(s.text.contains("x.rid IN (NULL)"));
}
