//! The SQL condition of one filter, and of each kind of value.
//!
//! Value conditions are written against an index table's columns with an optional alias
//! (`c.` in chains), and shaped so that the `(res_type, param, value…)` index narrows them:
//! string prefixes become ranges, dates and numbers bound their first column.

use carefront_fhir::search::{normalize, Chain, Filter, Modifier, ParamKind, Prefix, SearchValue};

use crate::sql::{Bind, Sql};

/// The index table of a parameter kind.
pub(super) fn table(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::String => "idx_string",
        ParamKind::Token => "idx_token",
        ParamKind::Reference => "idx_reference",
        ParamKind::Date => "idx_date",
        ParamKind::Number => "idx_number",
        ParamKind::Quantity => "idx_quantity",
        ParamKind::Uri => "idx_uri",
        // The parser refuses these; an impossible table makes a mistake loud.
        ParamKind::Composite | ParamKind::Special => "idx_unsupported",
    }
}

/// Whether the filter is `r.rid IN (rids of index rows of the searched type)`.
pub(super) fn selects_typed_rids(f: &Filter) -> bool {
    let negated =
        f.modifier == Modifier::Not || f.values.first() == Some(&SearchValue::Missing(true));
    f.chain.is_some() || !(negated || matches!(f.param.as_str(), "_id" | "_lastUpdated"))
}

/// The condition on `resources r` for one filter.
pub(super) fn filter(s: &mut Sql, resource_type: Option<&str>, f: &Filter) {
    if let Some(chain) = &f.chain {
        return chained(s, resource_type, f, chain);
    }
    match f.param.as_str() {
        "_id" => return ids(s, "r.res_id", &f.values),
        "_lastUpdated" => {
            let lu = Columns::last_updated("r.");
            return any_of(s, &f.values, |s, v| value(s, f.modifier, &lu, v));
        }
        _ => {}
    }
    let missing = f.values.first() == Some(&SearchValue::Missing(true));
    let negate = f.modifier == Modifier::Not || (f.modifier == Modifier::Missing && missing);
    s.push(if negate { "r.rid NOT IN" } else { "r.rid IN" })
        .push(" (SELECT rid FROM ")
        .push(table(f.kind))
        .push(" WHERE ");
    if let Some(t) = resource_type {
        s.push("res_type = ").bind_text(t).push(" AND ");
    }
    s.push("param = ").bind_text(&f.param);
    if f.modifier != Modifier::Missing {
        let columns = Columns::of(f.kind, "");
        s.push(" AND ");
        any_of(s, &f.values, |s, v| value(s, f.modifier, &columns, v));
    }
    s.push(")");
}

/// `patient.family=x`: resources whose reference points to a current resource `t` that
/// matches the chained parameter.
fn chained(s: &mut Sql, resource_type: Option<&str>, f: &Filter, chain: &Chain) {
    s.push("r.rid IN (SELECT x.rid FROM idx_reference x")
        .push(" JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id");
    let on_row = matches!(chain.param.as_str(), "_id" | "_lastUpdated");
    if !on_row {
        s.push(" JOIN ")
            .push(table(chain.kind))
            .push(" c ON c.rid = t.rid");
    }
    s.push(" WHERE ");
    if let Some(t) = resource_type {
        s.push("x.res_type = ").bind_text(t).push(" AND ");
    }
    s.push("x.param = ").bind_text(&f.param);
    if let Some(t) = &chain.target_type {
        s.push(" AND x.target_type = ").bind_text(t);
    }
    s.push(" AND NOT t.deleted AND ");
    match chain.param.as_str() {
        "_id" => ids(s, "t.res_id", &f.values),
        "_lastUpdated" => {
            let lu = Columns::last_updated("t.");
            any_of(s, &f.values, |s, v| value(s, chain.modifier, &lu, v));
        }
        _ => {
            match &chain.target_type {
                Some(t) => s.push("c.res_type = ").bind_text(t),
                None => s.push("c.res_type = t.res_type"),
            };
            s.push(" AND c.param = ")
                .bind_text(&chain.param)
                .push(" AND ");
            let columns = Columns::of(chain.kind, "c.");
            any_of(s, &f.values, |s, v| value(s, chain.modifier, &columns, v));
        }
    }
    s.push(")");
}

/// `column IN (?, …)` for `_id` values.
fn ids(s: &mut Sql, column: &str, values: &[SearchValue]) {
    s.push(column).push(" IN (");
    let mut first = true;
    for v in values {
        if let SearchValue::Id(id) = v {
            if !first {
                s.push(", ");
            }
            first = false;
            s.bind_text(id);
        }
    }
    if first {
        s.push("NULL");
    }
    s.push(")");
}

/// `(a OR b OR …)` over the alternatives of a filter.
fn any_of(s: &mut Sql, values: &[SearchValue], mut each: impl FnMut(&mut Sql, &SearchValue)) {
    if values.is_empty() {
        // The parser never produces this; match nothing rather than everything.
        s.push("1 = 0");
        return;
    }
    s.push("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(" OR ");
        }
        s.push("(");
        each(s, v);
        s.push(")");
    }
    s.push(")");
}

/// Column names of an index table, with the alias they are used under.
pub(super) struct Columns {
    /// The first column (value, code, target_id, start_ts, low, uri).
    first: String,
    /// The second (exact, system, target_type, end_ts, high).
    second: String,
    /// url (reference), system (quantity).
    third: String,
    /// code (quantity).
    fourth: String,
}

impl Columns {
    pub(super) fn of(kind: ParamKind, alias: &str) -> Columns {
        let names: [&str; 4] = match kind {
            ParamKind::String => ["value", "exact", "", ""],
            ParamKind::Token => ["code", "system", "", ""],
            ParamKind::Reference => ["target_id", "target_type", "url", ""],
            ParamKind::Date => ["start_ts", "end_ts", "", ""],
            ParamKind::Number => ["low", "high", "", ""],
            ParamKind::Quantity => ["low", "high", "system", "code"],
            _ => ["uri", "", "", ""],
        };
        let col = |n: &str| format!("{alias}{n}");
        Columns {
            first: col(names[0]),
            second: col(names[1]),
            third: col(names[2]),
            fourth: col(names[3]),
        }
    }

    /// `last_updated` of a resource row as an instant: [t, t + 1 µs).
    fn last_updated(alias: &str) -> Columns {
        Columns {
            first: format!("{alias}last_updated"),
            second: format!("({alias}last_updated + 1)"),
            third: String::new(),
            fourth: String::new(),
        }
    }
}

/// The condition for one value.
fn value(s: &mut Sql, modifier: Modifier, c: &Columns, v: &SearchValue) {
    match v {
        SearchValue::String(text) => string(s, modifier, c, text),
        SearchValue::Token { system, code } => token(s, c, system.as_deref(), code.as_deref()),
        SearchValue::Reference {
            target_type,
            target_id,
            url,
        } => reference(s, c, target_type, target_id, url),
        SearchValue::Date { prefix, start, end } => range(
            s,
            &c.first,
            &c.second,
            *prefix,
            Bind::Int(*start),
            Bind::Int(*end),
            None,
        ),
        SearchValue::Number {
            prefix,
            value,
            low,
            high,
        } => range(
            s,
            &c.first,
            &c.second,
            *prefix,
            Bind::Float(*low),
            Bind::Float(*high),
            Some(Bind::Float(*value)),
        ),
        SearchValue::Quantity {
            prefix,
            value,
            low,
            high,
            system,
            code,
        } => {
            range(
                s,
                &c.first,
                &c.second,
                *prefix,
                Bind::Float(*low),
                Bind::Float(*high),
                Some(Bind::Float(*value)),
            );
            if let Some(system) = system {
                s.push(" AND ").push(&c.third).push(" = ").bind_text(system);
            }
            if let Some(code) = code {
                s.push(" AND ").push(&c.fourth).push(" = ").bind_text(code);
            }
        }
        SearchValue::Uri(uri) => self::uri(s, modifier, c, uri),
        // `_id` is matched on the resource row (see `ids`); as a token it would be a code.
        SearchValue::Id(id) => {
            s.push(&c.first).push(" = ").bind_text(id);
        }
        SearchValue::Missing(_) => {
            s.push("1 = 1");
        }
    }
}

fn string(s: &mut Sql, modifier: Modifier, c: &Columns, text: &str) {
    match modifier {
        // The normalized column is indexed: compare it first, then the exact text.
        Modifier::Exact => {
            s.push(&c.first)
                .push(" = ")
                .bind_text(&normalize(text))
                .push(" AND ")
                .push(&c.second)
                .push(" = ")
                .bind_text(text);
        }
        Modifier::Contains => contains(s, &c.first, text),
        _ => starts_with(s, &c.first, text),
    }
}

/// `column >= 'smi' AND column < 'smj'`: a prefix match that an index can answer.
fn starts_with(s: &mut Sql, column: &str, prefix: &str) {
    s.push(column).push(" >= ").bind_text(prefix);
    if let Some(upper) = prefix_upper_bound(prefix) {
        s.push(" AND ").push(column).push(" < ").bind_text(&upper);
    }
}

/// The least string greater than every string starting with `prefix` (UTF-8 byte order, which
/// is code point order): the last character that can be incremented is, and what follows it
/// is dropped. `None` when there is no such string (empty prefix, or only U+10FFFF).
pub(super) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `column LIKE '%text%' ESCAPE '\'`, with `%`, `_` and `\` in the text matched literally.
fn contains(s: &mut Sql, column: &str, text: &str) {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    s.push(column)
        .push(" LIKE ")
        .bind(Bind::Text(pattern))
        .push(" ESCAPE '\\'");
}

fn token(s: &mut Sql, c: &Columns, system: Option<&str>, code: Option<&str>) {
    let (code_col, system_col) = (&c.first, &c.second);
    match (system, code) {
        (None, Some(code)) => {
            s.push(code_col).push(" = ").bind_text(code);
        }
        (Some(""), Some(code)) => {
            s.push(code_col)
                .push(" = ")
                .bind_text(code)
                .push(" AND ")
                .push(system_col)
                .push(" IS NULL");
        }
        (Some(system), Some(code)) => {
            s.push(code_col)
                .push(" = ")
                .bind_text(code)
                .push(" AND ")
                .push(system_col)
                .push(" = ")
                .bind_text(system);
        }
        (Some(system), None) => {
            s.push(system_col).push(" = ").bind_text(system);
        }
        (None, None) => {
            s.push("1 = 0");
        }
    }
}

fn reference(
    s: &mut Sql,
    c: &Columns,
    target_type: &Option<String>,
    target_id: &Option<String>,
    url: &Option<String>,
) {
    let (id_col, type_col, url_col) = (&c.first, &c.second, &c.third);
    match (target_id, url) {
        (Some(id), _) => {
            s.push(id_col).push(" = ").bind_text(id);
            if let Some(t) = target_type {
                s.push(" AND ").push(type_col).push(" = ").bind_text(t);
            }
        }
        (None, Some(url)) => {
            s.push(url_col).push(" = ").bind_text(url);
        }
        (None, None) => {
            s.push("1 = 0");
        }
    }
}

fn uri(s: &mut Sql, modifier: Modifier, c: &Columns, uri: &str) {
    let column = &c.first;
    match modifier {
        Modifier::Below => starts_with(s, column, uri),
        Modifier::Contains => contains(s, column, uri),
        Modifier::Above => {
            // The stored URI is the searched one or one of its parents, cut at a '/'.
            s.push(column).push(" IN (").bind_text(uri);
            for (i, _) in uri.match_indices('/') {
                let parent = &uri[..i];
                if !parent.ends_with('/') && !parent.ends_with(':') && !parent.is_empty() {
                    s.push(", ").bind_text(parent);
                }
            }
            s.push(")");
        }
        _ => {
            s.push(column).push(" = ").bind_text(uri);
        }
    }
}

/// A comparison between the stored range `[lo, hi)` and the searched range `[a, b)` (dates:
/// their implicit precision; numbers: the same, `value` being the number itself), following
/// the FHIR rules for ranges:
///
/// - `eq`: the searched range contains the stored one (numbers: or the stored range contains
///   the searched value, so `6.30` finds `6.3`)
/// - `ne`: not `eq`
/// - `gt` / `lt`: the stored range reaches above `b` / below `a`
/// - `ge` / `le`: `gt` / `lt` or `eq`
/// - `sa` / `eb`: the stored range starts at or after `b` / ends at or before `a`
/// - `ap`: the ranges overlap (the parser already widened the searched range)
///
/// Each condition that can bounds `lo`, the indexed column.
fn range(s: &mut Sql, lo: &str, hi: &str, prefix: Prefix, a: Bind, b: Bind, value: Option<Bind>) {
    match prefix {
        Prefix::Eq => eq(s, lo, hi, a, b, value),
        Prefix::Ne => {
            s.push("NOT (");
            eq(s, lo, hi, a, b, value);
            s.push(")");
        }
        Prefix::Gt => {
            s.push(hi).push(" > ").bind(b);
        }
        Prefix::Lt => {
            s.push(lo).push(" < ").bind(a);
        }
        Prefix::Ge => {
            s.push("(").push(lo).push(" >= ").bind(a);
            s.push(" OR ").push(hi).push(" > ").bind(b).push(")");
        }
        Prefix::Le => {
            s.push(lo).push(" < ").bind(b.clone());
            s.push(" AND (").push(lo).push(" < ").bind(a);
            s.push(" OR ").push(hi).push(" <= ").bind(b).push(")");
        }
        Prefix::Sa => {
            s.push(lo).push(" >= ").bind(b);
        }
        Prefix::Eb => {
            s.push(hi).push(" <= ").bind(a);
        }
        Prefix::Ap => {
            s.push(lo).push(" < ").bind(b);
            s.push(" AND ").push(hi).push(" > ").bind(a);
        }
    }
}

fn eq(s: &mut Sql, lo: &str, hi: &str, a: Bind, b: Bind, value: Option<Bind>) {
    // lo >= a AND hi <= b implies lo < b: the redundant bound lets the index stop early.
    s.push(lo).push(" < ").bind(b.clone()).push(" AND ");
    match value {
        None => {
            s.push(lo).push(" >= ").bind(a);
            s.push(" AND ").push(hi).push(" <= ").bind(b);
        }
        Some(v) => {
            s.push("((").push(lo).push(" >= ").bind(a);
            s.push(" AND ").push(hi).push(" <= ").bind(b).push(")");
            s.push(" OR (").push(lo).push(" <= ").bind(v.clone());
            s.push(" AND ").push(hi).push(" > ").bind(v).push("))");
        }
    }
}
