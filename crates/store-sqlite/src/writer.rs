//! The single writer connection, with group commit.
//!
//! Every write transaction runs inside a SAVEPOINT of a shared outer transaction. When a
//! transaction finishes while others are queued for the writer, the outer transaction stays
//! open and the next one continues in it; the last of the group COMMITs for all. One commit then
//! writes the B-tree pages that many small writes share, instead of each write writing its own
//! copy of them to the WAL. No transaction is acknowledged before the COMMIT that holds it: each
//! waits for the group's outcome, and a failed COMMIT fails every member.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use carefront_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

/// A group commits at this size even if more writers are queued, to bound latency.
const MAX_GROUP: usize = 64;

pub struct Writer {
    conn: Connection,
    /// The outer transaction is open.
    in_group: bool,
    /// Members of the open group that finished and wait for its COMMIT.
    pending: Vec<oneshot::Sender<Result<(), String>>>,
}

#[derive(Clone)]
pub struct WriterHandle {
    writer: Arc<Mutex<Writer>>,
    /// Transactions waiting for the writer: while there are some, the group stays open.
    waiting: Arc<AtomicUsize>,
}

impl WriterHandle {
    pub fn new(conn: Connection) -> Self {
        WriterHandle {
            writer: Arc::new(Mutex::new(Writer {
                conn,
                in_group: false,
                pending: Vec::new(),
            })),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let queued = Queued::new(self);
        let mut guard = self.writer.clone().lock_owned().await;
        drop(queued);
        let w = &mut *guard;
        if !w.in_group {
            // IMMEDIATE takes SQLite's write lock now; within this process the mutex above
            // already makes this the only writer.
            w.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
            w.in_group = true;
        }
        if let Err(e) = w.conn.execute_batch("SAVEPOINT tx") {
            finish_group(w, &self.waiting, false);
            return Err(db_err(e));
        }
        Ok(WriteTx {
            guard: Some(guard),
            handle: self.clone(),
        })
    }
}

/// Counts a task as waiting for the writer until it gets it, or gives up (a cancelled
/// request): then, if nobody else will, it commits the group left open for it.
struct Queued<'a>(&'a WriterHandle);

impl<'a> Queued<'a> {
    fn new(handle: &'a WriterHandle) -> Self {
        handle.waiting.fetch_add(1, Ordering::SeqCst);
        Queued(handle)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut w) = self.0.writer.try_lock() {
            finish_group(&mut w, &self.0.waiting, true);
        }
    }
}

/// A write transaction holding the writer.
pub struct WriteTx {
    guard: Option<OwnedMutexGuard<Writer>>,
    handle: WriterHandle,
}

impl WriteTx {
    pub fn conn(&self) -> &Connection {
        &self.guard.as_ref().expect("transaction is open").conn
    }

    /// Make this transaction's work part of the group, then wait until the group commits.
    pub async fn commit(mut self) -> StoreResult<()> {
        let mut guard = self.guard.take().expect("transaction is open");
        if let Err(e) = guard.conn.execute_batch("RELEASE tx") {
            rollback_member(&mut guard, &self.handle.waiting);
            return Err(db_err(e));
        }
        let (done, outcome) = oneshot::channel();
        guard.pending.push(done);
        finish_group(&mut guard, &self.handle.waiting, true);
        drop(guard);
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Database(e)),
            Err(_) => Err(StoreError::Database(
                "the group commit was abandoned".to_owned(),
            )),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Not committed: undo this member's work only.
        if let Some(mut guard) = self.guard.take() {
            rollback_member(&mut guard, &self.handle.waiting);
        }
    }
}

fn rollback_member(w: &mut Writer, waiting: &AtomicUsize) {
    if let Err(e) = w.conn.execute_batch("ROLLBACK TO tx; RELEASE tx") {
        tracing::error!(error = %e, "SQLite rollback to savepoint failed");
    }
    finish_group(w, waiting, true);
}

/// COMMIT the open group unless other writers are queued to join it (and it is not full);
/// with nothing pending, just close the outer transaction.
fn finish_group(w: &mut Writer, waiting: &AtomicUsize, may_wait: bool) {
    if !w.in_group {
        return;
    }
    if may_wait && waiting.load(Ordering::SeqCst) > 0 && w.pending.len() < MAX_GROUP {
        return;
    }
    let outcome = if w.pending.is_empty() {
        w.conn.execute_batch("ROLLBACK").map_err(|e| e.to_string())
    } else {
        w.conn.execute_batch("COMMIT").map_err(|e| e.to_string())
    };
    if outcome.is_err() {
        let _ = w.conn.execute_batch("ROLLBACK");
    }
    w.in_group = false;
    for member in w.pending.drain(..) {
        let _ = member.send(outcome.clone());
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}
