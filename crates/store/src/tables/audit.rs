//! The audit chain: every read and write of a resource, who did it, from where, with what
//! outcome. Each entry stores the hash of the one before it, so changing or deleting any
//! entry breaks the chain from there on, and [`verify`] finds where.

use sha2::{Digest, Sha256};

use crate::sql::Bind;
use crate::{Cell, Store, StoreResult, StoreTx};

use super::{int, opt_text, statement, text};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Microseconds since the epoch.
    pub at: i64,
    /// `account:<id>`, `client:<id>` or `anonymous`.
    pub actor: String,
    pub actor_role: String,
    /// `read`, `vread`, `search`, `history`, `create`, `update`, `patch`, `delete`, ...
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `success`, `denied`, `not-found`, `error`.
    pub outcome: String,
    /// The client's address.
    pub source: String,
    /// Short, PHI-free detail (e.g. the HTTP status).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry given its place in the chain. Every field goes in with its length
/// first, so no field can run into the next; absent fields differ from empty ones.
pub fn entry_hash(prev_hash: &str, seq: i64, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(b) => {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
        None => h.update(u64::MAX.to_le_bytes()),
    };
    field(Some(prev_hash.as_bytes()));
    field(Some(&seq.to_le_bytes()));
    field(Some(&e.at.to_le_bytes()));
    field(Some(e.actor.as_bytes()));
    field(Some(e.actor_role.as_bytes()));
    field(Some(e.action.as_bytes()));
    field(e.resource_type.as_deref().map(str::as_bytes));
    field(e.resource_id.as_deref().map(str::as_bytes));
    field(Some(e.outcome.as_bytes()));
    field(Some(e.source.as_bytes()));
    field(Some(e.detail.as_bytes()));
    super::hex(&h.finalize())
}

/// Append `entries` to the chain in one transaction.
pub async fn append(store: &dyn Store, entries: &[AuditEntry]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let d = super::dialect(store);
    let mut tx = store.begin().await?;
    // Appenders on other instances wait here, so the chain never forks.
    tx.lock("audit-chain").await?;
    let (mut seq, mut prev) = last_link(tx.as_mut(), d).await?;
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let mut s = crate::sql::Sql::new(d);
        s.push(
            "INSERT INTO audit_log (seq, at, actor, actor_role, action, resource_type, resource_id, \
             outcome, source, detail, prev_hash, hash) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            seq += 1;
            let hash = entry_hash(&prev, seq, e);
            if i > 0 {
                s.push(", ");
            }
            s.push("(").bind_int(seq);
            for value in [
                Bind::Int(e.at),
                Bind::Text(e.actor.clone()),
                Bind::Text(e.actor_role.clone()),
                Bind::Text(e.action.clone()),
                Bind::OptText(e.resource_type.clone()),
                Bind::OptText(e.resource_id.clone()),
                Bind::Text(e.outcome.clone()),
                Bind::Text(e.source.clone()),
                Bind::Text(e.detail.clone()),
                Bind::Text(prev.clone()),
                Bind::Text(hash.clone()),
            ] {
                s.push(", ").bind(value);
            }
            s.push(")");
            prev = hash;
        }
        tx.execute(s).await?;
    }
    tx.commit().await
}

async fn last_link(tx: &mut dyn StoreTx, d: crate::sql::Dialect) -> StoreResult<(i64, String)> {
    let rows = tx
        .query(statement(
            d,
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            vec![],
        ))
        .await?;
    match rows.first() {
        Some(r) => Ok((int(r, 0)?, text(r, 1)?)),
        None => Ok((0, GENESIS.to_owned())),
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

const COLUMNS: &str = "seq, at, actor, actor_role, action, resource_type, resource_id, outcome, \
     source, detail, prev_hash, hash";

fn from_row(r: &[Cell]) -> StoreResult<ChainedEntry> {
    Ok(ChainedEntry {
        seq: int(r, 0)?,
        entry: AuditEntry {
            at: int(r, 1)?,
            actor: text(r, 2)?,
            actor_role: text(r, 3)?,
            action: text(r, 4)?,
            resource_type: opt_text(r, 5),
            resource_id: opt_text(r, 6),
            outcome: text(r, 7)?,
            source: text(r, 8)?,
            detail: text(r, 9)?,
        },
        prev_hash: text(r, 10)?,
        hash: text(r, 11)?,
    })
}

/// Entries matching `filter`, newest first.
pub async fn list(
    store: &dyn Store,
    filter: &AuditFilter,
    limit: usize,
    offset: usize,
) -> StoreResult<Vec<ChainedEntry>> {
    let mut s = super::sql(store);
    s.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM audit_log WHERE 1 = 1");
    for (column, value) in [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("resource_type", &filter.resource_type),
        ("resource_id", &filter.resource_id),
        ("outcome", &filter.outcome),
    ] {
        if let Some(v) = value {
            s.push(" AND ").push(column).push(" = ").bind_text(v);
        }
    }
    if let Some(since) = filter.since {
        s.push(" AND at >= ").bind_int(since);
    }
    if let Some(until) = filter.until {
        s.push(" AND at < ").bind_int(until);
    }
    s.push(" ORDER BY seq DESC LIMIT ")
        .bind_int(limit as i64)
        .push(" OFFSET ")
        .bind_int(offset as i64);
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    /// The first entry whose hash or link does not match, if any.
    pub first_broken: Option<i64>,
}

/// Recompute every hash from the start.
pub async fn verify(store: &dyn Store) -> StoreResult<Verification> {
    const PAGE: i64 = 1000;
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut entries = 0;
    loop {
        let s = statement(
            super::dialect(store),
            &format!("SELECT {COLUMNS} FROM audit_log WHERE seq >= {{}} ORDER BY seq LIMIT {{}}"),
            vec![Bind::Int(expected_seq), Bind::Int(PAGE)],
        );
        let rows = store.query(s).await?;
        if rows.is_empty() {
            return Ok(Verification {
                entries,
                first_broken: None,
            });
        }
        for row in &rows {
            let c = from_row(row)?;
            let intact = c.seq == expected_seq
                && c.prev_hash == prev
                && c.hash == entry_hash(&prev, c.seq, &c.entry);
            if !intact {
                return Ok(Verification {
                    entries,
                    first_broken: Some(expected_seq),
                });
            }
            prev = c.hash;
            expected_seq += 1;
            entries += 1;
        }
    }
}
