//! Extraction of the search index of a resource: every supported parameter of its type is
//! evaluated, and each value found is turned into the index value its parameter kind needs.

use serde_json::{Map, Value};

use super::datetime::{date_range, OPEN_END, OPEN_START};
use super::decimal::{self, Decimal};
use super::fhirpath::{self, Item};
use super::normalize::normalize;
use super::registry::search_params;
use super::{IndexEntry, IndexValue, ParamKind};
use crate::resource_types::is_resource_type;

/// The index entries of `resource` for all search parameters of its type, without duplicates.
/// `_id` and `_lastUpdated` are not included: they are columns of the resource row.
pub fn extract(resource: &Value) -> Vec<IndexEntry> {
    let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut out: Vec<IndexEntry> = Vec::new();
    let mut items = Vec::new();
    for param in search_params(resource_type) {
        let Some(expr) = param.expression() else {
            continue;
        };
        if param.is_resource_column() {
            continue;
        }
        items.clear();
        fhirpath::evaluate(expr, resource, &mut items);
        let first = out.len();
        for item in &items {
            index_values(param.kind, unwrap_extension(*item), &mut |value| {
                if !out[first..].iter().any(|e| e.value == value) {
                    out.push(IndexEntry {
                        param: param.code.clone(),
                        value,
                    });
                }
            });
        }
    }
    out
}

/// An extension stands for its value (`extension('…')` selects Extension elements).
fn unwrap_extension(item: Item) -> Item {
    let Item::Node {
        value: Value::Object(map),
        ..
    } = item
    else {
        return item;
    };
    if !map.contains_key("url") {
        return item;
    }
    for (key, value) in map {
        if let Some(ty) = key.strip_prefix("value") {
            if ty.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Item::Node {
                    value,
                    ty: Some(ty),
                };
            }
        }
    }
    item
}

fn index_values(kind: ParamKind, item: Item, push: &mut dyn FnMut(IndexValue)) {
    match kind {
        ParamKind::String => string_values(item, push),
        ParamKind::Token => token_values(item, push),
        ParamKind::Reference => reference_values(item, push),
        ParamKind::Date => date_values(item, push),
        ParamKind::Number => number_values(item, push),
        ParamKind::Quantity => quantity_values(item, push),
        ParamKind::Uri => {
            if let Some(s) = item_str(&item) {
                push(IndexValue::Uri(s.to_owned()));
            }
        }
        ParamKind::Composite | ParamKind::Special => {}
    }
}

fn item_str<'a>(item: &Item<'a>) -> Option<&'a str> {
    match item {
        Item::Node {
            value: Value::String(s),
            ..
        } => Some(s),
        Item::Str(s) => Some(s),
        _ => None,
    }
}

fn object<'a>(item: &Item<'a>) -> Option<&'a Map<String, Value>> {
    match item {
        Item::Node {
            value: Value::Object(map),
            ..
        } => Some(map),
        _ => None,
    }
}

/// String-valued parts of HumanName (family, given, prefix, suffix, text) and Address (line,
/// city, district, state, postalCode, country, text); their field names do not overlap.
const NAME_AND_ADDRESS_PARTS: [&str; 11] = [
    "family",
    "given",
    "prefix",
    "suffix",
    "text",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
];

fn string_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    let mut push_str = |s: &str| {
        let normalized = normalize(s);
        if !normalized.is_empty() {
            push(IndexValue::String {
                normalized,
                exact: s.to_owned(),
            });
        }
    };
    if let Some(s) = item_str(&item) {
        push_str(s);
    } else if let Some(map) = object(&item) {
        for part in NAME_AND_ADDRESS_PARTS {
            match map.get(part) {
                Some(Value::String(s)) => push_str(s),
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .for_each(&mut push_str),
                _ => {}
            }
        }
    }
}

/// ContactPoint.system codes: an element with one of these as `system` is a ContactPoint,
/// whose token is its value alone; otherwise `system` + `value` is an Identifier.
const CONTACT_SYSTEMS: [&str; 7] = ["phone", "fax", "email", "pager", "url", "sms", "other"];

fn token_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    let mut token = |system: Option<&str>, code: Option<&str>| {
        if system.is_some() || code.is_some() {
            push(IndexValue::Token {
                system: system.map(str::to_owned),
                code: code.map(str::to_owned),
            });
        }
    };
    let Item::Node { value, .. } = item else {
        match item {
            Item::Bool(b) => token(None, Some(if b { "true" } else { "false" })),
            Item::Str(s) => token(None, Some(s)),
            _ => {}
        }
        return;
    };
    match value {
        Value::String(s) => token(None, Some(s)),
        Value::Bool(b) => token(None, Some(if *b { "true" } else { "false" })),
        Value::Number(n) => token(None, Some(&n.to_string())),
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str);
            if let Some(Value::Array(codings)) = map.get("coding") {
                // CodeableConcept: each coding.
                for coding in codings {
                    let field = |key: &str| coding.get(key).and_then(Value::as_str);
                    token(field("system"), field("code"));
                }
            } else if map.contains_key("code") {
                token(text("system"), text("code"));
            } else if let Some(v) = text("value") {
                match text("system") {
                    Some(s) if CONTACT_SYSTEMS.contains(&s) => token(None, Some(v)),
                    system => token(system, Some(v)),
                }
            } else if map.contains_key("system") {
                token(text("system"), None);
            }
        }
        _ => {}
    }
}

fn reference_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    let Item::Node { value, .. } = item else {
        return;
    };
    let found = match value {
        Value::String(s) => parse_reference(s),
        Value::Object(map) => match (map.get("resourceType"), map.get("reference")) {
            // An inline resource (Bundle.entry.resource).
            (Some(Value::String(t)), _) => Some(IndexValue::Reference {
                target_type: Some(t.clone()),
                target_id: map.get("id").and_then(Value::as_str).map(str::to_owned),
                url: None,
            }),
            (_, Some(Value::String(r))) => parse_reference(r),
            _ => None,
        },
        _ => None,
    };
    if let Some(v) = found {
        push(v);
    }
}

/// A reference as an index value: `Type/id` (history dropped), absolute URLs ending in
/// `Type/id` with both the type/id and the URL, any other URL (canonical, `urn:uuid:`) as URL.
/// Local references to contained resources (`#id`) are not searchable.
pub(crate) fn parse_reference(reference: &str) -> Option<IndexValue> {
    if reference.is_empty() || reference.starts_with('#') {
        return None;
    }
    let reference = canonical_url(reference);
    let path = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let absolute = path.contains(':');
    let mut segments = path.rsplit('/');
    let id = segments.next().unwrap_or_default();
    let target_type = segments.next().filter(|t| is_resource_type(t));
    let relative_path = !absolute && segments.next().is_none();
    match target_type {
        Some(t) if !id.is_empty() && (absolute || relative_path) => Some(IndexValue::Reference {
            target_type: Some(t.to_owned()),
            target_id: Some(id.to_owned()),
            url: absolute.then(|| path.to_owned()),
        }),
        _ => Some(IndexValue::Reference {
            target_type: None,
            target_id: None,
            url: Some(reference.to_owned()),
        }),
    }
}

/// A canonical URL without its `|version`.
pub(crate) fn canonical_url(url: &str) -> &str {
    url.split_once('|').map_or(url, |(u, _)| u)
}

fn date_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    if let Some(s) = item_str(&item) {
        if let Some((start, end)) = date_range(s) {
            push(IndexValue::Date { start, end });
        }
        return;
    }
    let Some(map) = object(&item) else { return };
    if let Some(Value::Array(events)) = map.get("event") {
        // Timing: each event, and the bounds of the repetition.
        for e in events.iter().filter_map(Value::as_str) {
            if let Some((start, end)) = date_range(e) {
                push(IndexValue::Date { start, end });
            }
        }
    }
    if let Some(Value::Object(bounds)) = map.get("repeat").and_then(|r| r.get("boundsPeriod")) {
        period(bounds, push);
    }
    period(map, push);
}

/// A Period; either end may be missing (open).
fn period(map: &Map<String, Value>, push: &mut dyn FnMut(IndexValue)) {
    let bound = |key: &str| map.get(key).and_then(Value::as_str).and_then(date_range);
    let (start, end) = (bound("start"), bound("end"));
    if start.is_some() || end.is_some() {
        push(IndexValue::Date {
            start: start.map_or(OPEN_START, |r| r.0),
            end: end.map_or(OPEN_END, |r| r.1),
        });
    }
}

fn number_of(value: Option<&Value>) -> Option<Decimal> {
    value
        .and_then(Value::as_number)
        .and_then(decimal::from_json)
}

fn number_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    let d = match item {
        Item::Node {
            value: Value::Number(n),
            ..
        } => decimal::from_json(n),
        _ => None,
    };
    if let Some(d) = d {
        push(IndexValue::Number {
            low: d.low,
            high: d.high,
        });
    }
}

const CURRENCY_SYSTEM: &str = "urn:iso:std:iso:4217";

fn quantity_values(item: Item, push: &mut dyn FnMut(IndexValue)) {
    let Some(map) = object(&item) else {
        if let Item::Node {
            value: Value::Number(n),
            ..
        } = item
        {
            if let Some(d) = decimal::from_json(n) {
                push(quantity(d.low, d.high, None, None));
            }
        }
        return;
    };
    if let Some(d) = number_of(map.get("value")) {
        let (system, code) = units(map);
        push(quantity(d.low, d.high, system, code));
    } else if map.contains_key("low") || map.contains_key("high") {
        // Range: from the low end of `low` to the high end of `high`.
        let low = map.get("low");
        let high = map.get("high");
        let lo = number_of(low.and_then(|l| l.get("value")));
        let hi = number_of(high.and_then(|h| h.get("value")));
        if lo.is_none() && hi.is_none() {
            return;
        }
        let unit_source = low
            .filter(|_| lo.is_some())
            .or(high)
            .and_then(Value::as_object);
        let (system, code) = unit_source.map_or((None, None), units);
        push(quantity(
            lo.map_or(f64::MIN, |d| d.low),
            hi.map_or(f64::MAX, |d| d.high),
            system,
            code,
        ));
    }
}

/// System and code of a Quantity (code falling back to unit) or Money (currency).
fn units(map: &Map<String, Value>) -> (Option<&str>, Option<&str>) {
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    if let Some(currency) = text("currency") {
        return (Some(CURRENCY_SYSTEM), Some(currency));
    }
    (text("system"), text("code").or_else(|| text("unit")))
}

fn quantity(low: f64, high: f64, system: Option<&str>, code: Option<&str>) -> IndexValue {
    IndexValue::Quantity {
        low,
        high,
        system: system.map(str::to_owned),
        code: code.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests;
