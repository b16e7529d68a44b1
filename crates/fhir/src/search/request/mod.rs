//! Parsing a search request (the URL query or form body, already percent-decoded) into a
//! [`SearchQuery`].
//!
//! Problems come back as an [`Issue`]: `not-supported` for unknown or unsupported parameters
//! and modifiers (ignored instead under `handling=lenient`), `invalid` for bad values.

mod values;

use super::registry::{resource_param, search_param, SearchParam};
use super::{Chain, Filter, Include, Modifier, ParamKind, SearchQuery, SortKey, Summary, Total};
use crate::resource_types::is_resource_type;
use crate::{Issue, IssueCode};

/// Parse the parameters of a search on `resource_type` (`None`: a search of all types, where
/// only `_id`, `_lastUpdated` and the result parameters apply).
///
/// Repeated parameters are ANDed, comma-separated values ORed. `_count` is clamped to
/// `max_count`. With `lenient`, unknown or unsupported parameters are listed in
/// `query.ignored` instead of failing the request; bad values of known parameters still fail.
pub fn parse_query(
    resource_type: Option<&str>,
    params: &[(String, String)],
    lenient: bool,
    default_count: usize,
    max_count: usize,
) -> Result<SearchQuery, Issue> {
    if let Some(t) = resource_type {
        if !is_resource_type(t) {
            return Err(Issue::error(
                IssueCode::NotSupported,
                format!("Unknown resource type '{t}'"),
            ));
        }
    }
    let mut query = SearchQuery {
        resource_type: resource_type.map(str::to_owned),
        count: default_count.min(max_count),
        ..SearchQuery::default()
    };
    for (key, value) in params {
        // An empty value does not ask for anything (`name=`, `_count=`).
        if value.is_empty() {
            continue;
        }
        let outcome = match key.as_str() {
            "_count" => number(key, value).map(|n| query.count = n.min(max_count)),
            "_offset" => number(key, value).map(|n| query.offset = n),
            "_sort" => sort_keys(resource_type, value).map(|keys| query.sort.extend(keys)),
            "_summary" => summary(value).map(|s| query.summary = s),
            "_total" => total(value).map(|t| query.total = t),
            "_elements" => {
                let names = value.split(',').map(str::trim).filter(|n| !n.is_empty());
                query
                    .elements
                    .get_or_insert_with(Vec::new)
                    .extend(names.map(str::to_owned));
                Ok(())
            }
            // Output format is the HTTP layer's business.
            "_format" | "_pretty" => Ok(()),
            _ if key.starts_with("_include") => include(key, value).map(|i| query.includes.push(i)),
            _ if key.starts_with("_revinclude") => {
                include(key, value).map(|i| query.revincludes.push(i))
            }
            _ => filter(resource_type, key, value).map(|f| query.filters.push(f)),
        };
        match outcome {
            Ok(()) => {}
            Err(Problem::Unsupported(_)) if lenient => query.ignored.push(key.clone()),
            Err(Problem::Unsupported(issue) | Problem::Invalid(issue)) => return Err(issue),
        }
    }
    Ok(query)
}

/// Why a parameter could not be used: lenient handling skips only the first kind.
enum Problem {
    Unsupported(Issue),
    Invalid(Issue),
}

type Parsed<T> = Result<T, Problem>;

fn unsupported(message: String) -> Problem {
    Problem::Unsupported(Issue::error(IssueCode::NotSupported, message))
}

fn invalid(message: String) -> Problem {
    Problem::Invalid(Issue::error(IssueCode::Invalid, message))
}

fn number(key: &str, value: &str) -> Parsed<usize> {
    value.trim().parse().map_err(|_| {
        invalid(format!(
            "{key} must be a non-negative integer, not '{value}'"
        ))
    })
}

fn summary(value: &str) -> Parsed<Summary> {
    Ok(match value {
        "true" => Summary::True,
        "false" => Summary::False,
        "count" => Summary::Count,
        "text" => Summary::Text,
        "data" => Summary::Data,
        _ => {
            return Err(invalid(format!(
                "_summary must be true, false, count, text or data, not '{value}'"
            )))
        }
    })
}

fn total(value: &str) -> Parsed<Total> {
    Ok(match value {
        "none" => Total::None,
        "estimate" => Total::Estimate,
        "accurate" => Total::Accurate,
        _ => {
            return Err(invalid(format!(
                "_total must be none, estimate or accurate, not '{value}'"
            )))
        }
    })
}

/// The supported parameter `code` of `resource_type` (or of every type, for a system search).
fn lookup(resource_type: Option<&str>, code: &str) -> Parsed<&'static SearchParam> {
    let found = match resource_type {
        Some(t) => search_param(t, code),
        None => resource_param(code),
    };
    let Some(param) = found else {
        let on = resource_type.unwrap_or("a search of all resource types");
        return Err(unsupported(format!(
            "Unknown search parameter '{code}' for {on}"
        )));
    };
    if let Some(reason) = param.unsupported_reason() {
        return Err(unsupported(format!(
            "Search parameter '{code}' is not supported: {reason}"
        )));
    }
    if resource_type.is_none() && !param.is_resource_column() {
        return Err(unsupported(format!(
            "Search parameter '{code}' is not supported in a search of all resource types \
             (only _id and _lastUpdated are)"
        )));
    }
    Ok(param)
}

fn sort_keys(resource_type: Option<&str>, value: &str) -> Parsed<Vec<SortKey>> {
    let mut keys = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (descending, code) = match item.strip_prefix('-') {
            Some(code) => (true, code),
            None => (false, item),
        };
        let param = lookup(resource_type, code)?;
        let sortable = matches!(
            param.kind,
            ParamKind::String
                | ParamKind::Date
                | ParamKind::Token
                | ParamKind::Number
                | ParamKind::Quantity
        );
        if !sortable {
            return Err(unsupported(format!(
                "Sorting by '{code}' is not supported: {} parameters cannot be sorted on",
                param.kind.code()
            )));
        }
        keys.push(SortKey {
            param: code.to_owned(),
            kind: param.kind,
            descending,
        });
    }
    Ok(keys)
}

/// `_include=Source:param[:Target]`, `_include:iterate=...` (one level here).
fn include(key: &str, value: &str) -> Parsed<Include> {
    let (name, modifier) = key.split_once(':').unwrap_or((key, ""));
    if name != "_include" && name != "_revinclude" {
        return Err(unsupported(format!("Unknown search parameter '{key}'")));
    }
    let iterate = match modifier {
        "" => false,
        // `recurse` is the R3 name of `iterate`.
        "iterate" | "recurse" => true,
        other => {
            return Err(unsupported(format!(
                "Modifier ':{other}' of {name} is not supported"
            )))
        }
    };
    if value == "*" {
        return Err(unsupported(format!("{name}=* is not supported")));
    }
    let mut parts = value.split(':');
    let (Some(source), Some(code)) = (parts.next(), parts.next()) else {
        return Err(invalid(format!(
            "{name} must be of the form Type:parameter[:TargetType], not '{value}'"
        )));
    };
    let target = parts.next();
    if parts.next().is_some() {
        return Err(invalid(format!(
            "{name} must be of the form Type:parameter[:TargetType], not '{value}'"
        )));
    }
    if !is_resource_type(source) {
        return Err(invalid(format!(
            "Unknown resource type '{source}' in {name}"
        )));
    }
    let param = lookup(Some(source), code)?;
    if param.kind != ParamKind::Reference {
        return Err(invalid(format!(
            "{name} needs a reference parameter, and {source}:{code} is a {} parameter",
            param.kind.code()
        )));
    }
    if let Some(t) = target {
        if !is_resource_type(t) {
            return Err(invalid(format!("Unknown resource type '{t}' in {name}")));
        }
    }
    Ok(Include {
        source_type: source.to_owned(),
        param: code.to_owned(),
        target_type: target.map(str::to_owned),
        iterate,
    })
}

/// A parameter `code[:modifier][.chained[:modifier]]=value[,value...]`.
fn filter(resource_type: Option<&str>, key: &str, value: &str) -> Parsed<Filter> {
    let (head, chained) = match key.split_once('.') {
        Some((head, chained)) => (head, Some(chained)),
        None => (key, None),
    };
    let (code, modifier) = match head.split_once(':') {
        Some((code, modifier)) => (code, Some(modifier)),
        None => (head, None),
    };
    let param = lookup(resource_type, code)?;
    if let Some(chained) = chained {
        return chain(param, modifier, chained, value);
    }
    let (modifier, type_name) = parse_modifier(param, modifier)?;
    let values = values::parse_values(param, modifier, type_name, value)?;
    Ok(Filter {
        param: code.to_owned(),
        kind: param.kind,
        modifier,
        values,
        chain: None,
    })
}

/// The modifier of `param`, and for `:Type` the type it names.
fn parse_modifier<'t>(
    param: &SearchParam,
    text: Option<&'t str>,
) -> Parsed<(Modifier, Option<&'t str>)> {
    let Some(text) = text else {
        return Ok((Modifier::None, None));
    };
    let kind = param.kind;
    let column = param.is_resource_column();
    let modifier = match text {
        "missing" if !column => Modifier::Missing,
        "exact" if kind == ParamKind::String => Modifier::Exact,
        "contains" if matches!(kind, ParamKind::String | ParamKind::Uri) => Modifier::Contains,
        "not" if kind == ParamKind::Token && !column => Modifier::Not,
        "above" if kind == ParamKind::Uri => Modifier::Above,
        "below" if kind == ParamKind::Uri => Modifier::Below,
        t if kind == ParamKind::Reference && is_resource_type(t) => {
            if !param.targets.is_empty() && !param.targets.iter().any(|x| x == t) {
                return Err(invalid(format!(
                    "Search parameter '{}' cannot refer to a {t}",
                    param.code
                )));
            }
            return Ok((Modifier::Type, Some(t)));
        }
        other => {
            return Err(unsupported(format!(
                "Modifier ':{other}' is not supported for {} parameter '{}'",
                kind.code(),
                param.code
            )))
        }
    };
    Ok((modifier, None))
}

/// `subject:Patient.name=x` / `patient.family=x`: one level of chaining.
fn chain(
    param: &SearchParam,
    modifier: Option<&str>,
    chained: &str,
    value: &str,
) -> Parsed<Filter> {
    if param.kind != ParamKind::Reference {
        return Err(invalid(format!(
            "Search parameter '{}' is not a reference and cannot be chained",
            param.code
        )));
    }
    if chained.contains('.') {
        return Err(unsupported(format!(
            "Chains of more than one level ('{}.{chained}') are not supported",
            param.code
        )));
    }
    let (chained_code, chained_modifier) = match chained.split_once(':') {
        Some((c, m)) => (c, Some(m)),
        None => (chained, None),
    };
    let candidates: Vec<&str> = match parse_modifier(param, modifier)? {
        (Modifier::Type, Some(t)) => vec![t],
        (Modifier::None, _) => param.targets.iter().map(String::as_str).collect(),
        _ => {
            return Err(unsupported(format!(
                "Only a resource type can qualify a chained parameter, not ':{}'",
                modifier.unwrap_or_default()
            )))
        }
    };
    // The target types on which the chained parameter exists and is supported.
    let mut found: Vec<(&str, &'static SearchParam)> = Vec::new();
    let mut last_problem = None;
    for t in candidates {
        match lookup(Some(t), chained_code) {
            Ok(p) => found.push((t, p)),
            Err(problem) => last_problem = Some(problem),
        }
    }
    let Some(&(first_type, target_param)) = found.first() else {
        return Err(last_problem.unwrap_or_else(|| {
            unsupported(format!(
                "Cannot chain '{chained_code}' from '{}': its target types are unknown",
                param.code
            ))
        }));
    };
    if found.iter().any(|(_, p)| p.kind != target_param.kind) {
        return Err(invalid(format!(
            "'{}.{chained_code}' is ambiguous: name the target type, e.g. '{}:{first_type}.{chained_code}'",
            param.code, param.code
        )));
    }
    let (chained_mod, type_name) = parse_modifier(target_param, chained_modifier)?;
    if matches!(
        chained_mod,
        Modifier::Missing | Modifier::Not | Modifier::Type
    ) {
        return Err(unsupported(format!(
            "Modifier ':{}' is not supported in a chain",
            chained_modifier.unwrap_or_default()
        )));
    }
    let values = values::parse_values(target_param, chained_mod, type_name, value)?;
    Ok(Filter {
        param: param.code.clone(),
        kind: ParamKind::Reference,
        modifier: Modifier::None,
        values,
        chain: Some(Chain {
            target_type: (found.len() == 1).then(|| first_type.to_owned()),
            param: chained_code.to_owned(),
            kind: target_param.kind,
            modifier: chained_mod,
        }),
    })
}

#[cfg(test)]
mod tests;
