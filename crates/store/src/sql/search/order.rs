//! `ORDER BY` for `_sort`: each key sorts by the resource's least value of the parameter
//! (greatest when descending), resources without a value last, then by `r.rid` so that pages
//! are stable.

use carefront_fhir::search::{ParamKind, SearchQuery};

use super::conditions::table;
use crate::sql::{Bind, Sql};

pub(super) fn order_by(s: &mut Sql, query: &SearchQuery) {
    s.push(" ORDER BY ");
    for key in &query.sort {
        let direction = if key.descending { " DESC, " } else { ", " };
        match key.param.as_str() {
            "_id" => s.push("r.res_id"),
            "_lastUpdated" => s.push("r.last_updated"),
            param => {
                let Some((column, last)) = sort_column(key.kind, key.descending) else {
                    continue;
                };
                // A correlated subquery per row (via the rid index): cheap on a filtered
                // page, and the same SQL on both databases. COALESCE puts resources without
                // a value last in either direction.
                let aggregate = if key.descending { "MAX" } else { "MIN" };
                s.push("COALESCE((SELECT ")
                    .push(aggregate)
                    .push("(o.")
                    .push(column)
                    .push(") FROM ")
                    .push(table(key.kind))
                    .push(" o WHERE o.rid = r.rid AND o.param = ")
                    .bind_text(param)
                    .push("), ")
                    .bind(last)
                    .push(")")
            }
        };
        s.push(direction);
    }
    s.push("r.rid");
}

/// The column a kind sorts on, and a value that sorts after every real one in that direction.
fn sort_column(kind: ParamKind, descending: bool) -> Option<(&'static str, Bind)> {
    Some(match (kind, descending) {
        (ParamKind::String, false) => ("value", Bind::Text(char::MAX.to_string())),
        (ParamKind::String, true) => ("value", Bind::Text(String::new())),
        (ParamKind::Token, false) => ("code", Bind::Text(char::MAX.to_string())),
        (ParamKind::Token, true) => ("code", Bind::Text(String::new())),
        (ParamKind::Date, false) => ("start_ts", Bind::Int(i64::MAX)),
        (ParamKind::Date, true) => ("start_ts", Bind::Int(i64::MIN)),
        (ParamKind::Number | ParamKind::Quantity, false) => ("low", Bind::Float(f64::MAX)),
        (ParamKind::Number | ParamKind::Quantity, true) => ("low", Bind::Float(f64::MIN)),
        _ => return None,
    })
}
