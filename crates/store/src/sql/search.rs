//! SQL for FHIR search. (Being written: see the task description.)

use super::{Dialect, Sql};
use carefront_fhir::search::{Include, SearchQuery};

/// The page of matches: `RESOURCE_COLUMNS` of `resources r`, current and not deleted,
/// filtered, sorted (ties broken by `r.rid`), `LIMIT count + 1 OFFSET offset` (the extra row
/// tells whether a next page exists).
pub fn page_sql(dialect: Dialect, query: &SearchQuery) -> Sql {
    let _ = (dialect, query);
    unimplemented!("search SQL")
}

/// `SELECT COUNT(*)` of all matches.
pub fn count_sql(dialect: Dialect, query: &SearchQuery) -> Sql {
    let _ = (dialect, query);
    unimplemented!("search SQL")
}

/// Matches for a conditional operation (no sort, no paging): `RESOURCE_COLUMNS`, `LIMIT limit`.
pub fn matches_sql(dialect: Dialect, query: &SearchQuery, limit: usize) -> Sql {
    let _ = (dialect, query, limit);
    unimplemented!("search SQL")
}

/// Resources that the resources `rids` reference through `include` (`RESOURCE_COLUMNS`).
pub fn include_sql(dialect: Dialect, include: &Include, rids: &[i64]) -> Sql {
    let _ = (dialect, include, rids);
    unimplemented!("search SQL")
}

/// Resources of `include.source_type` that reference any of the resources `rids` through
/// `include.param` (`RESOURCE_COLUMNS`).
pub fn revinclude_sql(dialect: Dialect, include: &Include, rids: &[i64]) -> Sql {
    let _ = (dialect, include, rids);
    unimplemented!("search SQL")
}
