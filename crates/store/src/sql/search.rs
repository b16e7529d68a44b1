//! SQL for FHIR search.
//!
//! Every filter becomes `r.rid [NOT] IN (SELECT rid FROM idx_<kind> WHERE res_type = ? AND
//! param = ? AND <value condition>)`, so each one can use its index table's
//! `(res_type, param, value…)` index, and the filters combine with AND. `_id` and
//! `_lastUpdated` are columns of `resources r`. Every value is bound, never interpolated.

mod conditions;
mod order;

use super::{Bind, Dialect, Sql, RESOURCE_COLUMNS};
use carefront_fhir::search::{Include, SearchQuery};

/// The page of matches: `RESOURCE_COLUMNS` of `resources r`, current and not deleted,
/// filtered, sorted (ties broken by `r.rid`), `LIMIT count + 1 OFFSET offset` (the extra row
/// tells whether a next page exists).
pub fn page_sql(dialect: Dialect, query: &SearchQuery) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(RESOURCE_COLUMNS)
        .push(" FROM resources r");
    where_clause(&mut s, query);
    order::order_by(&mut s, query);
    s.push(" LIMIT ")
        .bind_int(query.count as i64 + 1)
        .push(" OFFSET ")
        .bind_int(query.offset as i64);
    s
}

/// `SELECT COUNT(*)` of all matches.
pub fn count_sql(dialect: Dialect, query: &SearchQuery) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT COUNT(*) FROM resources r");
    where_clause(&mut s, query);
    s
}

/// Matches for a conditional operation (no sort, no paging): `RESOURCE_COLUMNS`, `LIMIT limit`.
pub fn matches_sql(dialect: Dialect, query: &SearchQuery, limit: usize) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(RESOURCE_COLUMNS)
        .push(" FROM resources r");
    where_clause(&mut s, query);
    s.push(" LIMIT ").bind_int(limit as i64);
    s
}

/// Resources that the resources `rids` reference through `include` (`RESOURCE_COLUMNS`).
pub fn include_sql(dialect: Dialect, include: &Include, rids: &[i64]) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(RESOURCE_COLUMNS)
        .push(
            " FROM resources r WHERE NOT r.deleted AND r.rid IN (SELECT t.rid FROM idx_reference x",
        )
        .push(" JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id")
        .push(" WHERE x.rid IN ");
    bind_ints(&mut s, rids);
    reference_param(&mut s, include);
    s.push(")");
    s
}

/// Resources of `include.source_type` that reference any of the resources `rids` through
/// `include.param` (`RESOURCE_COLUMNS`).
pub fn revinclude_sql(dialect: Dialect, include: &Include, rids: &[i64]) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(RESOURCE_COLUMNS)
        .push(" FROM resources r WHERE NOT r.deleted AND r.res_type = ")
        .bind_text(&include.source_type)
        .push(" AND r.rid IN (SELECT x.rid FROM idx_reference x")
        .push(" JOIN resources t ON x.target_type = t.res_type AND x.target_id = t.res_id")
        .push(" WHERE t.rid IN ");
    bind_ints(&mut s, rids);
    reference_param(&mut s, include);
    s.push(")");
    s
}

/// ` AND x.res_type = ? AND x.param = ? [AND x.target_type = ?]` for an include.
fn reference_param(s: &mut Sql, include: &Include) {
    s.push(" AND x.res_type = ")
        .bind_text(&include.source_type)
        .push(" AND x.param = ")
        .bind_text(&include.param);
    if let Some(t) = &include.target_type {
        s.push(" AND x.target_type = ").bind_text(t);
    }
}

/// `(?, ?, …)`; `(NULL)` for none, which matches nothing (an empty `IN ()` is not SQL).
fn bind_ints(s: &mut Sql, values: &[i64]) {
    if values.is_empty() {
        s.push("(NULL)");
        return;
    }
    s.push("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(Bind::Int(*v));
    }
    s.push(")");
}

fn where_clause(s: &mut Sql, query: &SearchQuery) {
    s.push(" WHERE NOT r.deleted");
    let resource_type = query.resource_type.as_deref();
    if let Some(t) = resource_type {
        // An index filter already keeps to the type's rows. Repeating the type on `r` would
        // tempt SQLite (without ANALYZE statistics) to scan the type's rows through
        // `resources_type_updated` instead of looking up the few matching rids.
        if !query.filters.iter().any(conditions::selects_typed_rids) {
            s.push(" AND r.res_type = ").bind_text(t);
        }
    }
    for filter in &query.filters {
        s.push(" AND ");
        conditions::filter(s, resource_type, filter);
    }
}

#[cfg(test)]
mod tests;
