//! Parsing parameter values for each kind of parameter: `\`-escapes, comma alternatives,
//! prefixes, `system|code`, `Type/id`, implicit ranges.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{invalid, Parsed};
use crate::resource_types::is_resource_type;
use crate::search::datetime::date_range;
use crate::search::decimal::parse_decimal;
use crate::search::extract::canonical_url;
use crate::search::normalize::normalize;
use crate::search::registry::SearchParam;
use crate::search::{Modifier, ParamKind, Prefix, SearchValue};

/// The alternatives of `raw` (comma-separated) as values of `param`.
pub(super) fn parse_values(
    param: &SearchParam,
    modifier: Modifier,
    type_name: Option<&str>,
    raw: &str,
) -> Parsed<Vec<SearchValue>> {
    let code = param.code.as_str();
    if modifier == Modifier::Missing {
        return match raw {
            "true" => Ok(vec![SearchValue::Missing(true)]),
            "false" => Ok(vec![SearchValue::Missing(false)]),
            _ => Err(invalid(format!(
                "{code}:missing must be true or false, not '{raw}'"
            ))),
        };
    }
    let mut out = Vec::new();
    for part in split_unescaped(raw, ',') {
        if part.is_empty() {
            continue;
        }
        let value = match param.kind {
            ParamKind::Token if code == "_id" => SearchValue::Id(unescape(part)),
            ParamKind::String => {
                let s = unescape(part);
                if modifier == Modifier::Exact {
                    SearchValue::String(s)
                } else {
                    SearchValue::String(normalize(&s))
                }
            }
            ParamKind::Token => token(code, part)?,
            ParamKind::Reference => reference(param, type_name, part)?,
            ParamKind::Date => date(code, part)?,
            ParamKind::Number => number(code, part)?,
            ParamKind::Quantity => quantity(code, part)?,
            ParamKind::Uri => SearchValue::Uri(unescape(part)),
            ParamKind::Composite | ParamKind::Special => {
                return Err(invalid(format!("{code} cannot be searched")))
            }
        };
        out.push(value);
    }
    if out.is_empty() {
        return Err(invalid(format!("{code} has no value")));
    }
    Ok(out)
}

/// Split on `sep` where it is not escaped with `\`; the parts keep their escapes.
pub(super) fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Drop the `\` of `\,` `\|` `\$` `\\`.
pub(super) fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `code`, `system|code`, `|code` (no system), `system|` (any code of the system).
fn token(code: &str, part: &str) -> Parsed<SearchValue> {
    let pieces = split_unescaped(part, '|');
    let (system, value) = match pieces[..] {
        [value] => (None, Some(unescape(value))),
        [system, value] => (
            Some(unescape(system)),
            (!value.is_empty()).then(|| unescape(value)),
        ),
        _ => {
            return Err(invalid(format!(
                "{code}: '{part}' is not a token (system|code)"
            )))
        }
    };
    if value.is_none() && system.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "{code}: '{part}' has neither system nor code"
        )));
    }
    Ok(SearchValue::Token {
        system,
        code: value,
    })
}

/// `Type/id`, `id` (typed by `:Type` or by a single target type), or an absolute URL.
fn reference(param: &SearchParam, type_name: Option<&str>, part: &str) -> Parsed<SearchValue> {
    let s = unescape(part);
    let code = &param.code;
    let segments: Vec<&str> = s.split('/').collect();
    let (target_type, target_id) = match segments[..] {
        [t, id] | [t, id, "_history", _] if is_resource_type(t) => {
            (Some(t.to_owned()), id.to_owned())
        }
        _ if s.contains(':') => {
            return Ok(SearchValue::Reference {
                target_type: None,
                target_id: None,
                url: Some(canonical_url(&s).to_owned()),
            })
        }
        [id] => {
            // A bare id: the type is whatever `:Type` or the only possible target says.
            let only_target = match &param.targets[..] {
                [t] => Some(t.clone()),
                _ => None,
            };
            (type_name.map(str::to_owned).or(only_target), id.to_owned())
        }
        _ => {
            return Err(invalid(format!(
                "{code}: '{s}' is not a reference (Type/id, id or URL)"
            )))
        }
    };
    if let (Some(wanted), Some(t)) = (type_name, &target_type) {
        if wanted != t {
            return Err(invalid(format!(
                "{code}:{wanted}: '{part}' refers to a {t}"
            )));
        }
    }
    if target_id.is_empty() {
        return Err(invalid(format!("{code}: '{part}' has no id")));
    }
    Ok(SearchValue::Reference {
        target_type,
        target_id: Some(target_id),
        url: None,
    })
}

/// A leading comparison prefix (`ge2020`, `lt5.4`), only when a digit or sign follows it.
fn prefix(part: &str) -> (Prefix, &str) {
    let starts_value = |rest: &str| rest.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    if part.len() > 2 && part.is_char_boundary(2) && starts_value(&part[2..]) {
        let p = match &part[..2] {
            "eq" => Some(Prefix::Eq),
            "ne" => Some(Prefix::Ne),
            "gt" => Some(Prefix::Gt),
            "lt" => Some(Prefix::Lt),
            "ge" => Some(Prefix::Ge),
            "le" => Some(Prefix::Le),
            "sa" => Some(Prefix::Sa),
            "eb" => Some(Prefix::Eb),
            "ap" => Some(Prefix::Ap),
            _ => None,
        };
        if let Some(p) = p {
            return (p, &part[2..]);
        }
    }
    (Prefix::Eq, part)
}

fn date(code: &str, part: &str) -> Parsed<SearchValue> {
    let (prefix, text) = prefix(part);
    let Some((mut start, mut end)) = date_range(text) else {
        return Err(invalid(format!(
            "{code}: '{text}' is not a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][zone])"
        )));
    };
    if prefix == Prefix::Ap {
        // Approximately: 10% of the distance from now, at least the value's own precision.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        let slack = (now.abs_diff(start) / 10).max(end.abs_diff(start)) as i64;
        start = start.saturating_sub(slack);
        end = end.saturating_add(slack);
    }
    Ok(SearchValue::Date { prefix, start, end })
}

fn decimal(code: &str, prefix: Prefix, text: &str) -> Parsed<(f64, f64, f64)> {
    let Some(d) = parse_decimal(text) else {
        return Err(invalid(format!("{code}: '{text}' is not a number")));
    };
    if prefix == Prefix::Ap {
        // Approximately: within 10% of the value (and at least its precision).
        let slack = (d.value.abs() * 0.1).max(d.high - d.value);
        return Ok((d.value, d.value - slack, d.value + slack));
    }
    Ok((d.value, d.low, d.high))
}

fn number(code: &str, part: &str) -> Parsed<SearchValue> {
    let (prefix, text) = prefix(part);
    let (value, low, high) = decimal(code, prefix, &unescape(text))?;
    Ok(SearchValue::Number {
        prefix,
        value,
        low,
        high,
    })
}

/// `[prefix]number[|system|code]`, where `||code` matches the code (or unit) in any system.
fn quantity(code: &str, part: &str) -> Parsed<SearchValue> {
    let (prefix, text) = prefix(part);
    let pieces = split_unescaped(text, '|');
    let (number_text, system, unit) = match pieces[..] {
        [n] => (n, None, None),
        [n, s, u] => {
            let opt = |x: &str| (!x.is_empty()).then(|| unescape(x));
            (n, opt(s), opt(u))
        }
        _ => {
            return Err(invalid(format!(
                "{code}: '{part}' is not a quantity (number|system|code)"
            )))
        }
    };
    let (value, low, high) = decimal(code, prefix, &unescape(number_text))?;
    Ok(SearchValue::Quantity {
        prefix,
        value,
        low,
        high,
        system,
        code: unit,
    })
}
