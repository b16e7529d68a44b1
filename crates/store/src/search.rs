//! Running a search: the page of matches, the total and the included resources, with the
//! same queries on every backend.

use std::collections::HashSet;

use async_trait::async_trait;
use carefront_fhir::search::{SearchQuery, Summary, Total};

use crate::sql::{self, Dialect, Sql};
use crate::{SearchPage, StoreResult, StoredResource};

/// What a backend provides to run search statements inside one read transaction.
#[async_trait]
pub trait Reader: Send {
    async fn resources(&mut self, statement: Sql) -> StoreResult<Vec<StoredResource>>;
    async fn count(&mut self, statement: Sql) -> StoreResult<u64>;
}

pub async fn run(
    reader: &mut dyn Reader,
    dialect: Dialect,
    query: &SearchQuery,
) -> StoreResult<SearchPage> {
    if query.summary == Summary::Count || query.count == 0 {
        let total = reader.count(sql::count_sql(dialect, query)).await?;
        return Ok(SearchPage {
            total: Some(total),
            ..SearchPage::default()
        });
    }
    let mut matches = reader.resources(sql::page_sql(dialect, query)).await?;
    let has_more = matches.len() > query.count;
    matches.truncate(query.count);
    let total = match query.total {
        Total::None => None,
        // The whole result fits on this page: no need to count it again.
        _ if !has_more => Some((query.offset + matches.len()) as u64),
        _ => Some(reader.count(sql::count_sql(dialect, query)).await?),
    };
    let included = included(reader, dialect, query, &matches).await?;
    Ok(SearchPage {
        matches,
        included,
        total,
        has_more,
    })
}

async fn included(
    reader: &mut dyn Reader,
    dialect: Dialect,
    query: &SearchQuery,
    matches: &[StoredResource],
) -> StoreResult<Vec<StoredResource>> {
    if matches.is_empty() || (query.includes.is_empty() && query.revincludes.is_empty()) {
        return Ok(Vec::new());
    }
    let rids: Vec<i64> = matches.iter().map(|r| r.rid).collect();
    let mut seen: HashSet<i64> = rids.iter().copied().collect();
    let mut out = Vec::new();
    let statements = query
        .includes
        .iter()
        .map(|i| sql::include_sql(dialect, i, &rids))
        .chain(
            query
                .revincludes
                .iter()
                .map(|i| sql::revinclude_sql(dialect, i, &rids)),
        );
    for statement in statements {
        for r in reader.resources(statement).await? {
            if seen.insert(r.rid) {
                out.push(r);
            }
        }
    }
    Ok(out)
}
