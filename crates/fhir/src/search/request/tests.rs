use super::*;
use crate::search::datetime::date_range;
use crate::search::{Prefix, SearchValue};

fn q(resource_type: &str, params: &[(&str, &str)]) -> Result<SearchQuery, Issue> {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse_query(Some(resource_type), &params, false, 20, 100)
}

fn one(resource_type: &str, key: &str, value: &str) -> Filter {
    let mut query = q(resource_type, &[(key, value)]).unwrap();
    assert_eq!(query.filters.len(), 1, "{key}={value}");
    query.filters.pop().unwrap()
}

fn err(resource_type: &str, key: &str, value: &str) -> Issue {
    q(resource_type, &[(key, value)]).unwrap_err()
}

fn token(system: Option<&str>, code: Option<&str>) -> SearchValue {
    SearchValue::Token {
        system: system.map(Into::into),
        code: code.map(Into::into),
    }
}

#[test]
fn defaults_and_result_parameters() {
    let query = q("Patient", &[]).unwrap();
    assert_eq!(query.resource_type.as_deref(), Some("Patient"));
    assert_eq!((query.count, query.offset), (20, 0));
    assert_eq!(query.total, Total::Accurate);

    let query = q(
        "Patient",
        &[
            ("_count", "500"),
            ("_offset", "40"),
            ("_summary", "count"),
            ("_total", "none"),
            ("_elements", "name, birthDate"),
            ("_format", "json"),
            ("_pretty", "true"),
        ],
    )
    .unwrap();
    assert_eq!((query.count, query.offset), (100, 40));
    assert_eq!(query.summary, Summary::Count);
    assert_eq!(query.total, Total::None);
    assert_eq!(
        query.elements,
        Some(vec!["name".into(), "birthDate".into()])
    );
    assert!(query.filters.is_empty() && query.ignored.is_empty());
    assert_eq!(q("Patient", &[("_count", "0")]).unwrap().count, 0);

    for (k, v) in [
        ("_count", "x"),
        ("_count", "-1"),
        ("_summary", "yes"),
        ("_total", "all"),
    ] {
        assert_eq!(err("Patient", k, v).code, IssueCode::Invalid, "{k}={v}");
    }
}

#[test]
fn strings_are_normalized_unless_exact() {
    let f = one("Patient", "family", "Müller,SMITH");
    assert_eq!((f.kind, f.modifier), (ParamKind::String, Modifier::None));
    assert_eq!(
        f.values,
        vec![
            SearchValue::String("muller".into()),
            SearchValue::String("smith".into())
        ]
    );
    let f = one("Patient", "family:exact", "Müller");
    assert_eq!(f.modifier, Modifier::Exact);
    assert_eq!(f.values, vec![SearchValue::String("Müller".into())]);
    let f = one("Patient", "name:contains", "ALM");
    assert_eq!(f.modifier, Modifier::Contains);
    assert_eq!(f.values, vec![SearchValue::String("alm".into())]);
    // An escaped comma is part of the value.
    let f = one("Patient", "address", "a\\,b");
    assert_eq!(f.values, vec![SearchValue::String("a,b".into())]);
}

#[test]
fn repeated_parameters_are_separate_filters() {
    let query = q("Patient", &[("given", "a"), ("given", "b"), ("family", "")]).unwrap();
    assert_eq!(query.filters.len(), 2);
}

#[test]
fn tokens_in_every_form() {
    let f = one(
        "Observation",
        "code",
        "http://loinc.org|1234-5,|x,y,http://s|",
    );
    assert_eq!(
        f.values,
        vec![
            token(Some("http://loinc.org"), Some("1234-5")),
            token(Some(""), Some("x")),
            token(None, Some("y")),
            token(Some("http://s"), None),
        ]
    );
    let f = one("Patient", "gender:not", "male");
    assert_eq!(f.modifier, Modifier::Not);
    let f = one("Patient", "identifier", "urn:oid:1.2|a\\|b");
    assert_eq!(f.values, vec![token(Some("urn:oid:1.2"), Some("a|b"))]);
    assert_eq!(err("Patient", "gender", "a|b|c").code, IssueCode::Invalid);
    assert_eq!(err("Patient", "gender", "|").code, IssueCode::Invalid);
    assert_eq!(
        err("Patient", "gender:text", "x").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Patient", "gender:exact", "x").code,
        IssueCode::NotSupported
    );
}

#[test]
fn id_and_last_updated() {
    let f = one("Patient", "_id", "a,b");
    assert_eq!(
        f.values,
        vec![SearchValue::Id("a".into()), SearchValue::Id("b".into())]
    );
    let f = one("Patient", "_lastUpdated", "gt2020-01-01");
    let (start, end) = date_range("2020-01-01").unwrap();
    assert_eq!(
        f.values,
        vec![SearchValue::Date {
            prefix: Prefix::Gt,
            start,
            end
        }]
    );
    assert_eq!(
        err("Patient", "_id:missing", "true").code,
        IssueCode::NotSupported
    );
}

#[test]
fn dates_with_prefixes_and_implicit_ranges() {
    let f = one("Patient", "birthdate", "2020-03");
    let (start, end) = date_range("2020-03").unwrap();
    assert_eq!(
        f.values,
        vec![SearchValue::Date {
            prefix: Prefix::Eq,
            start,
            end
        }]
    );
    for (text, prefix) in [
        ("eq2020", Prefix::Eq),
        ("ne2020", Prefix::Ne),
        ("gt2020", Prefix::Gt),
        ("lt2020", Prefix::Lt),
        ("ge2020", Prefix::Ge),
        ("le2020", Prefix::Le),
        ("sa2020", Prefix::Sa),
        ("eb2020", Prefix::Eb),
    ] {
        let f = one("Patient", "birthdate", text);
        let (start, end) = date_range("2020").unwrap();
        assert_eq!(
            f.values,
            vec![SearchValue::Date { prefix, start, end }],
            "{text}"
        );
    }
    // `ap` widens the range.
    let f = one("Patient", "birthdate", "ap2000-01-01");
    let (start, end) = date_range("2000-01-01").unwrap();
    let [SearchValue::Date {
        prefix: Prefix::Ap,
        start: s,
        end: e,
    }] = f.values[..]
    else {
        panic!("{f:?}")
    };
    assert!(s < start - 300 * 86_400_000_000 && e > end + 300 * 86_400_000_000);
    let f = one("Encounter", "date", "ge2013-03-11T10:00:00+01:00");
    assert!(matches!(
        f.values[0],
        SearchValue::Date {
            prefix: Prefix::Ge,
            ..
        }
    ));
    for bad in ["2020-13", "xx2020", "gt", "2020-01-01T10"] {
        assert_eq!(
            err("Patient", "birthdate", bad).code,
            IssueCode::Invalid,
            "{bad}"
        );
    }
}

#[test]
fn numbers_and_quantities() {
    let f = one("RiskAssessment", "probability", "gt0.8");
    let SearchValue::Number {
        prefix,
        value,
        low,
        high,
    } = f.values[0]
    else {
        panic!()
    };
    assert_eq!((prefix, value), (Prefix::Gt, 0.8));
    assert!((low - 0.75).abs() < 1e-12 && (high - 0.85).abs() < 1e-12);

    let f = one(
        "Observation",
        "value-quantity",
        "le5.4|http://unitsofmeasure.org|mg",
    );
    let SearchValue::Quantity {
        prefix,
        value,
        system,
        code,
        ..
    } = &f.values[0]
    else {
        panic!()
    };
    assert_eq!((*prefix, *value), (Prefix::Le, 5.4));
    assert_eq!(system.as_deref(), Some("http://unitsofmeasure.org"));
    assert_eq!(code.as_deref(), Some("mg"));
    let f = one("Observation", "value-quantity", "5.4||mg");
    let SearchValue::Quantity { system, code, .. } = &f.values[0] else {
        panic!()
    };
    assert_eq!((system.as_deref(), code.as_deref()), (None, Some("mg")));
    let f = one("Observation", "value-quantity", "ap100");
    let SearchValue::Quantity { low, high, .. } = f.values[0] else {
        panic!()
    };
    assert_eq!((low, high), (90.0, 110.0));
    for bad in ["abc", "5.4|mg", "gt", "1,,x"] {
        assert_eq!(
            err("Observation", "value-quantity", bad).code,
            IssueCode::Invalid,
            "{bad}"
        );
    }
}

#[test]
fn references_by_type_id_and_url() {
    let reference = |t: Option<&str>, id: Option<&str>, url: Option<&str>| SearchValue::Reference {
        target_type: t.map(Into::into),
        target_id: id.map(Into::into),
        url: url.map(Into::into),
    };
    let f = one(
        "Observation",
        "subject",
        "Patient/1,2,http://x.org/fhir/Patient/3",
    );
    assert_eq!(
        f.values,
        vec![
            reference(Some("Patient"), Some("1"), None),
            reference(None, Some("2"), None),
            reference(None, None, Some("http://x.org/fhir/Patient/3")),
        ]
    );
    // A bare id of a parameter with one target type gets that type.
    let f = one("Observation", "patient", "1");
    assert_eq!(f.values, vec![reference(Some("Patient"), Some("1"), None)]);
    let f = one("Observation", "subject:Patient", "7");
    assert_eq!(f.modifier, Modifier::Type);
    assert_eq!(f.values, vec![reference(Some("Patient"), Some("7"), None)]);
    let f = one("Observation", "subject", "Patient/1/_history/2");
    assert_eq!(f.values, vec![reference(Some("Patient"), Some("1"), None)]);
    assert_eq!(
        err("Observation", "subject:Patient", "Group/1").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "subject:Medication", "1").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "subject", "a/b/c").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "subject:identifier", "x|1").code,
        IssueCode::NotSupported
    );
}

#[test]
fn missing_and_uri_modifiers() {
    let f = one("Patient", "birthdate:missing", "true");
    assert_eq!(f.modifier, Modifier::Missing);
    assert_eq!(f.values, vec![SearchValue::Missing(true)]);
    assert_eq!(
        err("Patient", "birthdate:missing", "yes").code,
        IssueCode::Invalid
    );
    let f = one("ValueSet", "url:below", "http://acme.org/fhir/");
    assert_eq!(f.modifier, Modifier::Below);
    assert_eq!(
        f.values,
        vec![SearchValue::Uri("http://acme.org/fhir/".into())]
    );
    assert_eq!(
        one("ValueSet", "url:above", "http://a/b").modifier,
        Modifier::Above
    );
    assert_eq!(
        err("ValueSet", "url:exact", "x").code,
        IssueCode::NotSupported
    );
}

#[test]
fn chains_one_level() {
    let f = one("Observation", "patient.family", "Chalmers");
    assert_eq!(f.param, "patient");
    assert_eq!(
        f.chain,
        Some(Chain {
            target_type: Some("Patient".into()),
            param: "family".into(),
            kind: ParamKind::String,
            modifier: Modifier::None,
        })
    );
    assert_eq!(f.values, vec![SearchValue::String("chalmers".into())]);
    let f = one("Observation", "subject:Patient.name:exact", "Peter");
    let chain = f.chain.unwrap();
    assert_eq!(chain.target_type.as_deref(), Some("Patient"));
    assert_eq!(chain.modifier, Modifier::Exact);
    // `subject.name`: name exists on several targets, all strings.
    let f = one("Observation", "subject.name", "x");
    assert_eq!(f.chain.unwrap().target_type, None);
    let f = one("Observation", "subject._id", "p1");
    assert_eq!(f.values, vec![SearchValue::Id("p1".into())]);
    assert_eq!(
        err("Observation", "subject.organization.name", "x").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Observation", "code.name", "x").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "patient.nope", "x").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Observation", "patient.family:missing", "true").code,
        IssueCode::NotSupported
    );
}

#[test]
fn sort_and_includes() {
    let query = q(
        "Observation",
        &[
            ("_sort", "-date,code,_id"),
            ("_sort", "_lastUpdated"),
            ("_include", "Observation:subject:Patient"),
            ("_include:iterate", "Patient:organization"),
            ("_revinclude", "Provenance:target"),
        ],
    )
    .unwrap();
    let sort: Vec<(&str, bool)> = query
        .sort
        .iter()
        .map(|s| (s.param.as_str(), s.descending))
        .collect();
    assert_eq!(
        sort,
        [
            ("date", true),
            ("code", false),
            ("_id", false),
            ("_lastUpdated", false)
        ]
    );
    assert_eq!(query.sort[0].kind, ParamKind::Date);
    assert_eq!(
        query.includes,
        vec![
            Include {
                source_type: "Observation".into(),
                param: "subject".into(),
                target_type: Some("Patient".into()),
                iterate: false,
            },
            Include {
                source_type: "Patient".into(),
                param: "organization".into(),
                target_type: None,
                iterate: true,
            }
        ]
    );
    assert_eq!(query.revincludes[0].source_type, "Provenance");
    assert_eq!(
        err("Observation", "_sort", "subject").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Observation", "_sort", "nope").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Observation", "_include", "Observation").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "_include", "Observation:code").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "_include", "Nope:subject").code,
        IssueCode::Invalid
    );
    assert_eq!(
        err("Observation", "_include", "*").code,
        IssueCode::NotSupported
    );
}

#[test]
fn unknown_and_unsupported_parameters() {
    let e = err("Patient", "nope", "x");
    assert_eq!(e.code, IssueCode::NotSupported);
    assert!(e.diagnostics.contains("'nope'"), "{}", e.diagnostics);
    let e = err("Observation", "code-value-quantity", "x$1");
    assert_eq!(e.code, IssueCode::NotSupported);
    assert!(e.diagnostics.contains("composite"), "{}", e.diagnostics);
    assert_eq!(
        err("Patient", "phonetic", "x").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Patient", "_has:Observation:patient:code", "x").code,
        IssueCode::NotSupported
    );
    assert_eq!(
        err("Patient", "_content", "x").code,
        IssueCode::NotSupported
    );
    assert!(q("Nope", &[]).is_err());

    // Lenient: unknown and unsupported parameters are skipped and listed; bad values still fail.
    let params: Vec<(String, String)> = [("nope", "x"), ("family:phonetic", "y"), ("family", "z")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let query = parse_query(Some("Patient"), &params, true, 20, 100).unwrap();
    assert_eq!(
        query.ignored,
        vec!["nope".to_string(), "family:phonetic".to_string()]
    );
    assert_eq!(query.filters.len(), 1);
    let bad = vec![("birthdate".to_string(), "soon".to_string())];
    assert!(parse_query(Some("Patient"), &bad, true, 20, 100).is_err());
}

#[test]
fn system_level_search_takes_only_id_and_last_updated() {
    let params = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let query = parse_query(None, &params("_lastUpdated", "ge2020"), false, 20, 100).unwrap();
    assert_eq!(query.resource_type, None);
    assert_eq!(query.filters.len(), 1);
    assert!(parse_query(None, &params("_id", "a"), false, 20, 100).is_ok());
    assert!(parse_query(None, &params("_sort", "-_lastUpdated"), false, 20, 100).is_ok());
    let e = parse_query(None, &params("_tag", "x"), false, 20, 100).unwrap_err();
    assert_eq!(e.code, IssueCode::NotSupported);
    assert!(parse_query(None, &params("family", "x"), false, 20, 100).is_err());
    let lenient = parse_query(None, &params("family", "x"), true, 20, 100).unwrap();
    assert_eq!(lenient.ignored, vec!["family".to_string()]);
}
