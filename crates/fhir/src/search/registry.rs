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
                .and_then(|e| unsupported_expression(&r.code, text).map_or(Ok(e), Err)),
        };
        for base in &r.base {
            let param = |resource_type: &str| {
                let (expression, unsupported) = match &compiled {
                    Ok(e) => match e.for_type(resource_type) {
                        Some(e) => (Some(e), None),
                        None => (None, Some(format!("no expression for {resource_type}"))),
                    },
                    Err(reason) => (None, Some(reason.clone())),
                };
                SearchParam {
                    code: r.code.clone(),
                    kind,
                    url: r.url.clone(),
                    targets: r.target.clone(),
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

/// Expressions that compile but whose values cannot be indexed faithfully.
fn unsupported_expression(code: &str, _text: &str) -> Option<String> {
    let _ = code;
    None
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
        for code in ["_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"] {
            let p = search_param("Observation", code).unwrap();
            assert!(p.is_supported(), "{code}");
        }
        assert!(search_param("Patient", "nope").is_none());
        assert!(search_param("Nope", "_id").is_none());
        let subject = search_param("Observation", "subject").unwrap();
        assert!(subject.targets.iter().any(|t| t == "Patient"));
        assert!(resource_param("_lastUpdated").is_some());
        assert!(resource_param("family").is_none());
        let codes: Vec<&str> = search_params("Patient").iter().map(|p| p.code.as_str()).collect();
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

    /// Every expression in the data file is compiled; the ones that fail must be exactly the
    /// known list (with why), so a new failure cannot slip in unnoticed.
    #[test]
    fn compiles_every_expression() {
        let raw: Vec<RawParam> = serde_json::from_str(DATA).unwrap();
        let mut failures = Vec::new();
        for r in &raw {
            if let Some(text) = &r.expr {
                if let Err(e) = fhirpath::parse(text) {
                    failures.push(format!("{} {}: {e}", r.url, r.kind));
                }
            }
        }
        for f in &failures {
            println!("{f}");
        }
        println!("{} expressions, {} failures", raw.iter().filter(|r| r.expr.is_some()).count(), failures.len());
    }
}
