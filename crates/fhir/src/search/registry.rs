//! The R4 search parameters of each resource type, from the official SearchParameter
//! definitions (`data/search-parameters.json`, made by `tools/gen_search_params.py`).
//!
//! The whole registry is built once, on first use: every expression is compiled, and a
//! definition shared by several types (`Patient.name.family | Practitioner.name.family`) is
//! cut down to the branches of each type.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::fhirpath::{self, Expr};
use super::ParamKind;
use crate::resource_types;

const DATA: &str = include_str!("../../data/search-parameters.json");

/// One search parameter as it applies to one resource type.
#[derive(Debug, Clone)]
pub struct SearchParam {
    /// The code used in URLs, e.g. `family`.
    pub code: String,
    pub kind: ParamKind,
    /// The canonical URL of the definition (for the CapabilityStatement).
    pub url: String,
    /// Resource types a reference parameter may point to.
    pub targets: Vec<String>,
    expression: Option<Expr>,
    unsupported: Option<String>,
}

impl SearchParam {
    pub fn is_supported(&self) -> bool {
        self.unsupported.is_none()
    }

    /// Why searching with this parameter is refused, when it is.
    pub fn unsupported_reason(&self) -> Option<&str> {
        self.unsupported.as_deref()
    }

    /// `_id` and `_lastUpdated` are columns of the resource row, not index entries.
    pub fn is_resource_column(&self) -> bool {
        self.code == "_id" || self.code == "_lastUpdated"
    }

    /// The compiled expression selecting the values to index (`None` when unsupported).
    pub(crate) fn expression(&self) -> Option<&Expr> {
        self.expression.as_ref()
    }
}

/// What the CapabilityStatement says about a supported parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub code: &'static str,
    /// The canonical URL of the definition.
    pub url: &'static str,
    pub kind: ParamKind,
}

impl ParamInfo {
    /// The R4 `search-param-type` code (`string`, `token`, ...).
    pub fn kind_code(&self) -> &'static str {
        self.kind.code()
    }
}

impl ParamKind {
    /// The R4 `search-param-type` code.
    pub fn code(self) -> &'static str {
        match self {
            ParamKind::Number => "number",
            ParamKind::Date => "date",
            ParamKind::String => "string",
            ParamKind::Token => "token",
            ParamKind::Reference => "reference",
            ParamKind::Composite => "composite",
            ParamKind::Quantity => "quantity",
            ParamKind::Uri => "uri",
            ParamKind::Special => "special",
        }
    }
}

/// The parameters of `resource_type` that searches accept, sorted by code.
pub fn supported_params(resource_type: &str) -> impl Iterator<Item = ParamInfo> {
    search_params(resource_type)
        .iter()
        .filter(|p| p.is_supported())
        .map(|p| ParamInfo {
            code: &p.code,
            url: &p.url,
            kind: p.kind,
        })
}

/// Build the registry now (compiling every expression) rather than on the first request.
pub fn preload() {
    registry();
}

/// The parameter `code` of `resource_type` (Resource-level ones such as `_id` included).
pub fn search_param(resource_type: &str, code: &str) -> Option<&'static SearchParam> {
    let params = registry().by_type.get(resource_type)?;
    params
        .binary_search_by(|p| p.code.as_str().cmp(code))
        .ok()
        .map(|i| &params[i])
}

/// Every parameter of `resource_type`, sorted by code (empty for an unknown type).
pub fn search_params(resource_type: &str) -> &'static [SearchParam] {
    registry()
        .by_type
        .get(resource_type)
        .map_or(&[], Vec::as_slice)
}

/// A parameter that every resource type has (`_id`, `_lastUpdated`, `_tag`, ...).
pub fn resource_param(code: &str) -> Option<&'static SearchParam> {
    registry().resource_level.iter().find(|p| p.code == code)
}

struct Registry {
    by_type: HashMap<String, Vec<SearchParam>>,
    resource_level: Vec<SearchParam>,
}

#[derive(Deserialize)]
struct RawParam {
    url: String,
    code: String,
    #[serde(rename = "type")]
    kind: String,
    base: Vec<String>,
    expr: Option<String>,
    #[serde(default)]
    target: Vec<String>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(build)
}

fn build() -> Registry {
    let raw: Vec<RawParam> = serde_json::from_str(DATA).expect("embedded search-parameters.json");
    let mut by_type: HashMap<String, Vec<SearchParam>> = resource_types::all()
        .map(|t| (t.to_owned(), Vec::new()))
        .collect();
    let mut resource_level = Vec::new();
    for r in &raw {
        let kind = kind_of(&r.kind);
        let compiled = match (&r.expr, kind) {
            (_, ParamKind::Composite) => Err("composite parameters are not supported".to_owned()),
            (_, ParamKind::Special) => Err("special parameters are not supported".to_owned()),
            (None, _) => Err("the definition has no expression".to_owned()),
            (Some(text), _) => fhirpath::parse(text)
                .map_err(|e| format!("expression not supported: {e}"))
                .and_then(|e| unsupported_code(&r.code).map_or(Ok(e), Err)),
        };
        for base in &r.base {
            let param = |resource_type: &str| {
                let (expression, unsupported): (Option<Expr>, _) = match &compiled {
                    Ok(e) => match e.for_type(resource_type) {
                        Some(e) => (Some(e), None),
                        None => (None, Some(format!("no expression for {resource_type}"))),
                    },
                    Err(reason) => (None, Some(reason.clone())),
                };
                // `subject.where(resolve() is Patient)` can only point to a Patient.
                let targets = match expression.as_ref().and_then(Expr::resolved_types) {
                    Some(types) => r
                        .target
                        .iter()
                        .filter(|t| types.contains(&t.as_str()))
                        .cloned()
                        .collect(),
                    None => r.target.clone(),
                };
                SearchParam {
                    code: r.code.clone(),
                    kind,
                    url: r.url.clone(),
                    targets,
                    expression,
                    unsupported,
                }
            };
            if base == "Resource" || base == "DomainResource" {
                resource_level.push(param(base));
            } else if let Some(list) = by_type.get_mut(base.as_str()) {
                list.push(param(base));
            }
        }
    }
    for params in by_type.values_mut() {
        params.extend(resource_level.iter().cloned());
        params.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Registry {
        by_type,
        resource_level,
    }
}

/// Parameters whose expression compiles but whose matching rules this index cannot follow.
fn unsupported_code(code: &str) -> Option<String> {
    match code {
        // Sound-alike matching needs a phonetic index; prefix matching on the name would
        // silently answer something else.
        "phonetic" => Some("phonetic matching is not implemented".to_owned()),
        _ => None,
    }
}

fn kind_of(name: &str) -> ParamKind {
    match name {
        "number" => ParamKind::Number,
        "date" => ParamKind::Date,
        "string" => ParamKind::String,
        "token" => ParamKind::Token,
        "reference" => ParamKind::Reference,
        "composite" => ParamKind::Composite,
        "quantity" => ParamKind::Quantity,
        "uri" => ParamKind::Uri,
        _ => ParamKind::Special,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_type_and_resource_level_parameters() {
        let family = search_param("Patient", "family").unwrap();
        assert_eq!(family.kind, ParamKind::String);
        assert_eq!(
            family.url,
            "http://hl7.org/fhir/SearchParameter/individual-family"
        );
        assert!(family.is_supported());
        for code in [
            "_id",
            "_lastUpdated",
            "_tag",
            "_profile",
            "_security",
            "_source",
        ] {
            let p = search_param("Observation", code).unwrap();
            assert!(p.is_supported(), "{code}");
        }
        assert!(search_param("Patient", "nope").is_none());
        assert!(search_param("Nope", "_id").is_none());
        let subject = search_param("Observation", "subject").unwrap();
        assert!(subject.targets.iter().any(|t| t == "Patient"));
        assert!(resource_param("_lastUpdated").is_some());
        assert!(resource_param("family").is_none());
        let codes: Vec<&str> = search_params("Patient")
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.contains(&"birthdate") && codes.contains(&"_id"));
    }

    #[test]
    fn composite_and_special_parameters_are_unsupported() {
        let p = search_param("Observation", "code-value-quantity").unwrap();
        assert_eq!(p.kind, ParamKind::Composite);
        assert!(!p.is_supported());
        assert!(!search_param("Location", "near").unwrap().is_supported());
        assert!(!search_param("Patient", "_content").unwrap().is_supported());
    }
}

#[cfg(test)]
mod coverage {
    use super::*;
    use std::collections::BTreeMap;

    /// Definitions whose expression the FHIRPath subset cannot compile, with why. Empty: every
    /// R4 expression compiles (composite, special and expression-less definitions are refused
    /// for those reasons instead; see `build`).
    const NOT_COMPILED: &[(&str, &str)] = &[];

    /// Every expression in the data file is compiled; the ones that fail must be exactly the
    /// known list, so a new failure cannot slip in unnoticed.
    #[test]
    fn compiles_every_expression() {
        let raw: Vec<RawParam> = serde_json::from_str(DATA).unwrap();
        let mut failures = Vec::new();
        for r in &raw {
            if let Some(text) = &r.expr {
                if fhirpath::parse(text).is_err() {
                    failures.push(r.url.as_str());
                }
            }
        }
        let expected: Vec<&str> = NOT_COMPILED.iter().map(|(url, _)| *url).collect();
        assert_eq!(failures, expected);
        assert!(raw.iter().filter(|r| r.expr.is_some()).count() > 1300);
    }

    /// Counts of supported and unsupported definitions and their reasons:
    /// `cargo test -p carefront-fhir support_report -- --nocapture`.
    #[test]
    fn support_report() {
        let raw: Vec<RawParam> = serde_json::from_str(DATA).unwrap();
        let mut reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut supported = 0;
        for r in &raw {
            let base = r.base[0].as_str();
            let param = if base == "Resource" || base == "DomainResource" {
                resource_param(&r.code)
            } else {
                search_param(base, &r.code)
            };
            match param.unwrap().unsupported_reason() {
                None => supported += 1,
                Some(reason) => reasons.entry(reason.to_owned()).or_default().push(&r.url),
            }
        }
        let unsupported: usize = reasons.values().map(Vec::len).sum();
        println!(
            "{} definitions: {supported} supported, {unsupported} unsupported",
            raw.len()
        );
        for (reason, urls) in &reasons {
            println!("  {} x {reason}", urls.len());
            if urls.len() < 20 {
                for url in urls {
                    println!("      {url}");
                }
            }
        }
        let per_type: usize = crate::resource_types::all()
            .map(|t| search_params(t).iter().filter(|p| p.is_supported()).count())
            .sum();
        println!("(type, code) pairs supported: {per_type}");
        assert_eq!(supported + unsupported, raw.len());
        assert!(supported > 1250, "{supported}");
    }
}
