//! History and version reads.

use super::{Dialect, Sql};
use crate::{HistoryQuery, HistoryScope};

const VERSION_COLUMNS: &str =
    "r.rid, r.res_type, r.res_id, v.version, v.last_updated, v.deleted, v.content";

/// One version of one resource (`RESOURCE_COLUMNS` order).
pub fn read_version_sql(dialect: Dialect, resource_type: &str, id: &str, version: i64) -> Sql {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(VERSION_COLUMNS)
        .push(" FROM resources r JOIN resource_versions v ON v.rid = r.rid WHERE r.res_type = ")
        .bind_text(resource_type)
        .push(" AND r.res_id = ")
        .bind_text(id)
        .push(" AND v.version = ")
        .bind_int(version);
    s
}

/// The page of versions (newest first; `RESOURCE_COLUMNS` then `method`) and the total count.
pub fn history_sql(dialect: Dialect, query: &HistoryQuery) -> (Sql, Sql) {
    let mut page = Sql::new(dialect);
    page.push("SELECT ")
        .push(VERSION_COLUMNS)
        .push(", v.method");
    history_from(&mut page, query);
    page.push(" ORDER BY v.last_updated DESC, v.rid DESC, v.version DESC LIMIT ")
        .bind_int(query.count as i64)
        .push(" OFFSET ")
        .bind_int(query.offset as i64);
    let mut count = Sql::new(dialect);
    count.push("SELECT COUNT(*)");
    history_from(&mut count, query);
    (page, count)
}

fn history_from(s: &mut Sql, query: &HistoryQuery) {
    s.push(" FROM resource_versions v JOIN resources r ON r.rid = v.rid WHERE 1 = 1");
    match &query.scope {
        HistoryScope::System => {}
        HistoryScope::Type(t) => {
            s.push(" AND r.res_type = ").bind_text(t);
        }
        HistoryScope::Instance(t, id) => {
            s.push(" AND r.res_type = ").bind_text(t);
            s.push(" AND r.res_id = ").bind_text(id);
        }
    }
    if let Some(since) = query.since {
        s.push(" AND v.last_updated >= ").bind_int(since);
    }
    if let Some(before) = query.before {
        s.push(" AND v.last_updated < ").bind_int(before);
    }
}
