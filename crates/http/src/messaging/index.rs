//! The messaging index: one row per thread and per message, kept by a write hook in the same
//! transaction as every Communication write (whoever writes it: this service or FHIR REST),
//! so that lists, unread counts and response times are plain queries. Read markers
//! (`thread_reads`) are the accounts' own state, written when a thread is opened.
//!
//! The index holds ids, sides and times only: topics and texts stay in the resources.

use async_trait::async_trait;
use carefront_store::repository::{now_micros, RepoError, Repository, WriteHook};
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::{Cell, NewVersion, Store, StoreTx};
use serde_json::Value;

use super::model::{self, Side};

/// The hook to register on the repository (`Repository::with_hook`).
pub struct MessageIndex;

#[async_trait]
impl WriteHook for MessageIndex {
    async fn after_write(
        &self,
        _repo: &Repository,
        tx: &mut dyn StoreTx,
        version: &NewVersion,
    ) -> Result<(), RepoError> {
        if version.resource_type != "Communication" {
            return Ok(());
        }
        let dialect = Dialect::of(tx.backend());
        // The thread the message was in before this write (an update may move it).
        let before = tx
            .query(statement(
                dialect,
                "SELECT thread_id FROM thread_messages WHERE message_id = {}",
                vec![Bind::Text(version.id.clone())],
            ))
            .await?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next()?.into_text());
        tx.execute(statement(
            dialect,
            "DELETE FROM thread_messages WHERE message_id = {}",
            vec![Bind::Text(version.id.clone())],
        ))
        .await?;
        let indexed = if version.deleted {
            None
        } else {
            serde_json::from_slice::<Value>(&version.content)
                .ok()
                .and_then(|json| model::Indexed::of(&version.id, &json, version.last_updated))
        };
        if let Some(m) = &indexed {
            tx.execute(statement(
                dialect,
                "INSERT INTO thread_messages (message_id, thread_id, side, sent_at) VALUES ({}, {}, {}, {})",
                vec![
                    Bind::Text(version.id.clone()),
                    Bind::Text(m.thread_id.clone()),
                    Bind::Text(m.side.code().into()),
                    Bind::Int(m.sent_at),
                ],
            ))
            .await?;
            if let Some(team) = &m.starts_thread_for {
                tx.execute(statement(
                    dialect,
                    "INSERT INTO message_threads (thread_id, patient_id, organization_id, started_at, last_at, last_side, messages) \
                     VALUES ({}, {}, {}, {}, {}, {}, 0) \
                     ON CONFLICT (thread_id) DO UPDATE SET patient_id = excluded.patient_id, organization_id = excluded.organization_id",
                    vec![
                        Bind::Text(m.thread_id.clone()),
                        Bind::Text(m.patient_id.clone()),
                        Bind::Text(team.clone()),
                        Bind::Int(m.sent_at),
                        Bind::Int(m.sent_at),
                        Bind::Text(m.side.code().into()),
                    ],
                ))
                .await?;
            }
        }
        let mut threads: Vec<String> = before.into_iter().collect();
        if let Some(m) = indexed {
            if !threads.contains(&m.thread_id) {
                threads.push(m.thread_id);
            }
        }
        for thread in threads {
            summarise(tx, dialect, &thread).await?;
        }
        Ok(())
    }
}

/// What a thread's row says about its messages, from the messages alone.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub started_at: i64,
    pub last_at: i64,
    pub last_side: Option<Side>,
    pub first_response_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub messages: i64,
}

impl Summary {
    /// `messages`: (side, sent time), oldest first.
    pub fn of(messages: &[(Side, i64)]) -> Summary {
        let mut s = Summary {
            started_at: messages.first().map_or(0, |m| m.1),
            messages: messages.len() as i64,
            ..Summary::default()
        };
        let first_patient = messages.iter().find(|m| m.0 == Side::Patient).map(|m| m.1);
        for &(side, at) in messages {
            s.last_at = at;
            s.last_side = Some(side);
            match side {
                Side::Patient => {
                    s.waiting_since.get_or_insert(at);
                }
                Side::Team => {
                    s.waiting_since = None;
                    if s.first_response_at.is_none() && first_patient.is_some_and(|p| p <= at) {
                        s.first_response_at = Some(at);
                    }
                }
            }
        }
        s
    }
}

/// Recompute `thread`'s row from its messages (none left: the row goes).
async fn summarise(tx: &mut dyn StoreTx, dialect: Dialect, thread: &str) -> Result<(), RepoError> {
    let rows = tx
        .query(statement(
            dialect,
            "SELECT side, sent_at FROM thread_messages WHERE thread_id = {} ORDER BY sent_at, message_id",
            vec![Bind::Text(thread.to_owned())],
        ))
        .await?;
    let messages: Vec<(Side, i64)> = rows
        .iter()
        .map(|r| {
            (
                Side::parse(r[0].text().unwrap_or("")),
                r[1].int().unwrap_or(0),
            )
        })
        .collect();
    if messages.is_empty() {
        tx.execute(statement(
            dialect,
            "DELETE FROM message_threads WHERE thread_id = {}",
            vec![Bind::Text(thread.to_owned())],
        ))
        .await?;
        return Ok(());
    }
    let s = Summary::of(&messages);
    tx.execute(statement(
        dialect,
        "UPDATE message_threads SET started_at = {}, last_at = {}, last_side = {}, first_response_at = {}, \
         waiting_since = {}, messages = {} WHERE thread_id = {}",
        vec![
            Bind::Int(s.started_at),
            Bind::Int(s.last_at),
            Bind::Text(s.last_side.unwrap_or(Side::Patient).code().into()),
            Bind::OptInt(s.first_response_at),
            Bind::OptInt(s.waiting_since),
            Bind::Int(s.messages),
            Bind::Text(thread.to_owned()),
        ],
    ))
    .await?;
    Ok(())
}

/// One thread as the index knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadRow {
    pub thread_id: String,
    pub patient_id: String,
    pub organization_id: String,
    pub started_at: i64,
    pub last_at: i64,
    pub last_side: Side,
    pub first_response_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub messages: i64,
}

const THREAD_COLUMNS: &str =
    "thread_id, patient_id, organization_id, started_at, last_at, last_side, \
     first_response_at, waiting_since, messages";

fn thread_of(row: &[Cell]) -> ThreadRow {
    let text = |i: usize| row[i].text().unwrap_or_default().to_owned();
    ThreadRow {
        thread_id: text(0),
        patient_id: text(1),
        organization_id: text(2),
        started_at: row[3].int().unwrap_or(0),
        last_at: row[4].int().unwrap_or(0),
        last_side: Side::parse(row[5].text().unwrap_or("")),
        first_response_at: row[6].int(),
        waiting_since: row[7].int(),
        messages: row[8].int().unwrap_or(0),
    }
}

/// Whose threads a query is about.
#[derive(Debug, Clone)]
pub enum Scope<'a> {
    Patient(&'a str),
    Teams(&'a [String]),
}

impl Scope<'_> {
    /// The `WHERE` condition on `message_threads` (aliased `t`), with its values.
    fn condition(&self) -> (String, Vec<Bind>) {
        match self {
            Scope::Patient(p) => ("t.patient_id = {}".into(), vec![Bind::Text((*p).into())]),
            Scope::Teams([]) => ("1 = 0".into(), Vec::new()),
            Scope::Teams(orgs) => (
                format!(
                    "t.organization_id IN ({})",
                    vec!["{}"; orgs.len()].join(", ")
                ),
                orgs.iter().map(|o| Bind::Text(o.clone())).collect(),
            ),
        }
    }
}

/// The thread `id`, if indexed.
pub async fn thread(store: &dyn Store, id: &str) -> Result<Option<ThreadRow>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            &format!("SELECT {THREAD_COLUMNS} FROM message_threads WHERE thread_id = {{}}"),
            vec![Bind::Text(id.to_owned())],
        ))
        .await?;
    Ok(rows.first().map(|r| thread_of(r)))
}

/// The newest message of `thread` (what a reply answers).
pub async fn latest_message(store: &dyn Store, thread: &str) -> Result<Option<String>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT message_id FROM thread_messages WHERE thread_id = {} ORDER BY sent_at DESC, message_id DESC LIMIT 1",
            vec![Bind::Text(thread.to_owned())],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next()?.into_text()))
}

/// Threads in `scope`: unanswered first when `unanswered_first` (the team inbox), then the
/// newest message first.
pub async fn threads(
    store: &dyn Store,
    scope: &Scope<'_>,
    unanswered_first: bool,
    limit: usize,
) -> Result<Vec<ThreadRow>, RepoError> {
    let (condition, mut binds) = scope.condition();
    let order = if unanswered_first {
        "CASE WHEN t.waiting_since IS NULL THEN 1 ELSE 0 END, t.last_at DESC"
    } else {
        "t.last_at DESC"
    };
    binds.push(Bind::Int(limit as i64));
    let columns = THREAD_COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            &format!("SELECT {columns} FROM message_threads t WHERE {condition} ORDER BY {order}, t.thread_id LIMIT {{}}"),
            binds,
        ))
        .await?;
    Ok(rows.iter().map(|r| thread_of(r)).collect())
}

/// Unread messages per thread in `scope` for `account_id` reading as `side`: the other
/// side's messages sent after the account last opened the thread.
pub async fn unread(
    store: &dyn Store,
    scope: &Scope<'_>,
    account_id: &str,
    side: Side,
) -> Result<Vec<(String, i64)>, RepoError> {
    let (condition, scope_binds) = scope.condition();
    let mut binds = vec![
        Bind::Text(account_id.to_owned()),
        Bind::Text(side.code().into()),
    ];
    binds.extend(scope_binds);
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            &format!(
                "SELECT t.thread_id, COUNT(m.message_id) FROM message_threads t \
                 JOIN thread_messages m ON m.thread_id = t.thread_id \
                 LEFT JOIN thread_reads r ON r.thread_id = t.thread_id AND r.account_id = {{}} \
                 WHERE m.side <> {{}} AND (r.read_at IS NULL OR m.sent_at > r.read_at) AND {condition} \
                 GROUP BY t.thread_id"
            ),
            binds,
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r[0].text().unwrap_or_default().to_owned(),
                r[1].int().unwrap_or(0),
            )
        })
        .collect())
}

/// `account_id` has read `thread` up to now. `in_tx`: with the message it just sent.
pub async fn mark_read_in(
    tx: &mut dyn StoreTx,
    thread: &str,
    account_id: &str,
    at: i64,
) -> Result<(), RepoError> {
    tx.execute(mark_read_sql(
        Dialect::of(tx.backend()),
        thread,
        account_id,
        at,
    ))
    .await?;
    Ok(())
}

pub async fn mark_read(store: &dyn Store, thread: &str, account_id: &str) -> Result<(), RepoError> {
    store
        .execute(mark_read_sql(
            Dialect::of(store.backend()),
            thread,
            account_id,
            now_micros(),
        ))
        .await?;
    Ok(())
}

fn mark_read_sql(
    dialect: Dialect,
    thread: &str,
    account_id: &str,
    at: i64,
) -> carefront_store::sql::Sql {
    statement(
        dialect,
        "INSERT INTO thread_reads (thread_id, account_id, read_at) VALUES ({}, {}, {}) \
         ON CONFLICT (thread_id, account_id) DO UPDATE SET read_at = excluded.read_at",
        vec![
            Bind::Text(thread.to_owned()),
            Bind::Text(account_id.to_owned()),
            Bind::Int(at),
        ],
    )
}

/// Threads of `organization` started since `since`, with or without an answer, and those
/// waiting now (for response times).
pub async fn team_threads_since(
    store: &dyn Store,
    organization: &str,
    since: i64,
) -> Result<Vec<ThreadRow>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            &format!(
                "SELECT {THREAD_COLUMNS} FROM message_threads \
                 WHERE organization_id = {{}} AND (started_at >= {{}} OR waiting_since IS NOT NULL) \
                 ORDER BY started_at"
            ),
            vec![Bind::Text(organization.to_owned()), Bind::Int(since)],
        ))
        .await?;
    Ok(rows.iter().map(|r| thread_of(r)).collect())
}

/// Every organisation that has threads (administrators not tied to one see them all).
pub async fn teams(store: &dyn Store) -> Result<Vec<String>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT DISTINCT organization_id FROM message_threads ORDER BY organization_id",
            Vec::new(),
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next()?.into_text())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Side::*;

    #[test]
    fn a_thread_waits_until_the_team_answers() {
        let s = Summary::of(&[(Patient, 10), (Patient, 20)]);
        assert_eq!(s.waiting_since, Some(10));
        assert_eq!(s.first_response_at, None);
        let s = Summary::of(&[(Patient, 10), (Team, 30), (Patient, 40), (Team, 50)]);
        assert_eq!(s.first_response_at, Some(30));
        assert_eq!(s.waiting_since, None);
        assert_eq!((s.started_at, s.last_at, s.messages), (10, 50, 4));
        let s = Summary::of(&[(Patient, 10), (Team, 30), (Patient, 40)]);
        assert_eq!(s.waiting_since, Some(40));
        assert_eq!(s.last_side, Some(Patient));
    }
}
