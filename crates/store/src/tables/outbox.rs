//! Mail waiting to be sent. Writers only enqueue; a sender delivers (SMTP when configured),
//! and in demo mode the operator reads it in the mailbox page. Mail may wait for a time
//! (`send_after`, appointment reminders), carry one attachment (an .ics invitation) and belong
//! to a topic (an appointment) whose unsent mail can be withdrawn.

use crate::sql::{Bind, Dialect};
use crate::{Store, StoreResult, StoreTx};

use super::{int, opt_int, opt_text, statement, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Not sent before this time (microseconds), when set.
    pub send_after: Option<i64>,
    pub topic: Option<String>,
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub body: String,
}

/// A mail to enqueue with more than a text body.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub send_after: Option<i64>,
    pub topic: Option<String>,
    pub attachment: Option<Attachment>,
}

fn insert(dialect: Dialect, mail: &Outgoing, now: i64) -> (String, crate::sql::Sql) {
    let id = uuid::Uuid::new_v4().to_string();
    let (name, content_type, body) = match &mail.attachment {
        Some(a) => (
            Some(a.name.clone()),
            Some(a.content_type.clone()),
            Some(a.body.clone()),
        ),
        None => (None, None, None),
    };
    let s = statement(
        dialect,
        "INSERT INTO mail_outbox (id, to_address, subject, body_text, created_at, send_after, \
         topic, attachment_name, attachment_type, attachment) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        vec![
            Bind::Text(id.clone()),
            Bind::Text(mail.to.clone()),
            Bind::Text(mail.subject.clone()),
            Bind::Text(mail.body_text.clone()),
            Bind::Int(now),
            Bind::OptInt(mail.send_after),
            Bind::OptText(mail.topic.clone()),
            Bind::OptText(name),
            Bind::OptText(content_type),
            Bind::OptText(body),
        ],
    );
    (id, s)
}

/// Enqueue `mail` inside a write transaction: it exists only if the transaction commits.
pub async fn enqueue_in(tx: &mut dyn StoreTx, mail: &Outgoing, now: i64) -> StoreResult<String> {
    let (id, s) = insert(Dialect::of(tx.backend()), mail, now);
    tx.execute(s).await?;
    Ok(id)
}

/// Withdraw the unsent mail of `topic` (the reminders of a cancelled appointment).
pub async fn withdraw_in(tx: &mut dyn StoreTx, topic: &str) -> StoreResult<u64> {
    let s = statement(
        Dialect::of(tx.backend()),
        "DELETE FROM mail_outbox WHERE topic = {} AND sent_at IS NULL",
        vec![Bind::Text(topic.to_owned())],
    );
    tx.execute(s).await
}

/// Mail of `topic`, oldest first (what a patient was or will be sent about an appointment).
pub async fn of_topic(store: &dyn Store, topic: &str) -> StoreResult<Vec<Mail>> {
    let mut s = super::sql(store);
    s.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM mail_outbox WHERE topic = ")
        .bind_text(topic)
        .push(" ORDER BY created_at, send_after");
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}

pub async fn enqueue(
    store: &dyn Store,
    to: &str,
    subject: &str,
    body_text: &str,
    now: i64,
) -> StoreResult<String> {
    let mail = Outgoing {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body_text: body_text.to_owned(),
        ..Outgoing::default()
    };
    let (id, s) = insert(super::dialect(store), &mail, now);
    store.execute(s).await?;
    Ok(id)
}

const COLUMNS: &str = "id, to_address, subject, body_text, created_at, sent_at, attempts, \
    last_error, send_after, topic, attachment_name, attachment_type, attachment";

fn from_row(r: &[crate::Cell]) -> StoreResult<Mail> {
    Ok(Mail {
        id: text(r, 0)?,
        to: text(r, 1)?,
        subject: text(r, 2)?,
        body_text: text(r, 3)?,
        created_at: int(r, 4)?,
        sent_at: opt_int(r, 5),
        attempts: int(r, 6)?,
        last_error: opt_text(r, 7),
        send_after: opt_int(r, 8),
        topic: opt_text(r, 9),
        attachment: match (opt_text(r, 10), opt_text(r, 11), opt_text(r, 12)) {
            (Some(name), Some(content_type), Some(body)) => Some(Attachment {
                name,
                content_type,
                body,
            }),
            _ => None,
        },
    })
}

/// The newest mail first, optionally only to one address.
pub async fn recent(store: &dyn Store, to: Option<&str>, limit: usize) -> StoreResult<Vec<Mail>> {
    let mut s = super::sql(store);
    s.push("SELECT ").push(COLUMNS).push(" FROM mail_outbox");
    if let Some(to) = to {
        s.push(" WHERE to_address = ").bind_text(to);
    }
    s.push(" ORDER BY created_at DESC LIMIT ")
        .bind_int(limit as i64);
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}

/// Mail not sent yet, oldest first.
pub async fn unsent(store: &dyn Store, limit: usize) -> StoreResult<Vec<Mail>> {
    let mut s = super::sql(store);
    s.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM mail_outbox WHERE sent_at IS NULL ORDER BY created_at LIMIT ")
        .bind_int(limit as i64);
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}

/// Mail a sender may try now, oldest first: not sent, fewer than `max_attempts` tries, and
/// neither claimed by a sender nor waiting for its next retry at `now`.
pub async fn due(
    store: &dyn Store,
    now: i64,
    max_attempts: i64,
    limit: usize,
) -> StoreResult<Vec<Mail>> {
    let mut s = super::sql(store);
    s.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM mail_outbox WHERE sent_at IS NULL AND attempts < ")
        .bind_int(max_attempts)
        .push(" AND (claimed_until IS NULL OR claimed_until < ")
        .bind_int(now)
        .push(") AND (send_after IS NULL OR send_after <= ")
        .bind_int(now)
        .push(") ORDER BY created_at LIMIT ")
        .bind_int(limit as i64);
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}

/// Claim mail `id` for sending until `lease_until`: true when this caller got it. One
/// conditional UPDATE, so of several server instances exactly one wins each mail.
pub async fn claim(store: &dyn Store, id: &str, now: i64, lease_until: i64) -> StoreResult<bool> {
    let s = statement(
        super::dialect(store),
        "UPDATE mail_outbox SET claimed_until = {} WHERE id = {} AND sent_at IS NULL \
         AND (claimed_until IS NULL OR claimed_until < {})",
        vec![
            Bind::Int(lease_until),
            Bind::Text(id.to_owned()),
            Bind::Int(now),
        ],
    );
    Ok(store.execute(s).await? == 1)
}

/// A failed attempt: count it, keep the error for the operator, and leave the mail alone
/// until `retry_at` (the claim becomes the backoff).
pub async fn fail(store: &dyn Store, id: &str, error: &str, retry_at: i64) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = {}, claimed_until = {} \
         WHERE id = {}",
        vec![
            Bind::Text(error.to_owned()),
            Bind::Int(retry_at),
            Bind::Text(id.to_owned()),
        ],
    );
    store.execute(s).await.map(|_| ())
}

/// Record a delivery attempt: sent at `now`, or the error.
pub async fn mark(store: &dyn Store, id: &str, now: i64, error: Option<&str>) -> StoreResult<()> {
    let s = match error {
        None => statement(
            super::dialect(store),
            "UPDATE mail_outbox SET sent_at = {}, attempts = attempts + 1, last_error = NULL WHERE id = {}",
            vec![Bind::Int(now), Bind::Text(id.to_owned())],
        ),
        Some(e) => statement(
            super::dialect(store),
            "UPDATE mail_outbox SET attempts = attempts + 1, last_error = {} WHERE id = {}",
            vec![Bind::Text(e.to_owned()), Bind::Text(id.to_owned())],
        ),
    };
    store.execute(s).await.map(|_| ())
}
