//! The audit sink: `record` hands an entry to a background task that appends batches.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use carefront_store::tables::audit::{self, AuditEntry};
use carefront_store::Store;
use tokio::sync::{mpsc, oneshot};

/// Entries taken from the queue in one call while waiting for the first.
const MAX_BATCH: usize = 500;
/// How long the first entry of a batch waits for company: fewer, larger transactions.
const LINGER: Duration = Duration::from_millis(50);
/// Entries waiting to be written; when full, `record` waits (an interaction is never left
/// unaudited).
const QUEUE: usize = 20_000;
/// Back-off between retries of a failed append.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

enum Command {
    Entry(AuditEntry),
    /// Answered once everything sent before it is in the store.
    Flush(oneshot::Sender<()>),
}

/// What the writer task takes over when it starts.
type Writer = (mpsc::Receiver<Command>, Arc<dyn Store>);

/// A cheap, cloneable handle on the audit writer.
#[derive(Clone)]
pub struct AuditSink {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Command>,
    /// The writer's half until the writer task starts: on first use, so that the sink can
    /// be built outside a Tokio runtime.
    idle: Mutex<Option<Writer>>,
    started: OnceLock<()>,
}

impl AuditSink {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        AuditSink {
            inner: Arc::new(Inner {
                tx,
                idle: Mutex::new(Some((rx, store))),
                started: OnceLock::new(),
            }),
        }
    }

    /// Queue `entry`; waits only when the queue is full (back-pressure, never a drop).
    pub async fn record(&self, entry: AuditEntry) {
        self.start();
        if self.inner.tx.send(Command::Entry(entry)).await.is_err() {
            // Only if the writer task died, which `run` does not do.
            tracing::error!("audit writer is gone; an audit entry was lost");
        }
    }

    /// Wait until every entry recorded so far is in the store.
    pub async fn flush(&self) {
        if self.inner.started.get().is_none() {
            return; // nothing was ever recorded
        }
        let (done, wait) = oneshot::channel();
        if self.inner.tx.send(Command::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    fn start(&self) {
        self.inner.started.get_or_init(|| {
            let idle = self.inner.idle.lock().map(|mut g| g.take());
            if let Ok(Some((rx, store))) = idle {
                tokio::spawn(run(rx, store));
            }
        });
    }
}

/// The writer: wait for a first entry, let more gather for `LINGER` without being woken by
/// each one (a wake-up per entry costs more than writing it), then append all that came.
async fn run(mut rx: mpsc::Receiver<Command>, store: Arc<dyn Store>) {
    let mut batch: Vec<AuditEntry> = Vec::with_capacity(MAX_BATCH);
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    let mut received: Vec<Command> = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut received, MAX_BATCH).await == 0 {
            return; // every sender is gone
        }
        let waiting_flush = received.iter().any(|c| matches!(c, Command::Flush(_)));
        if !waiting_flush {
            tokio::time::sleep(LINGER).await;
        }
        // Everything queued by now, in one transaction.
        while received.len() < QUEUE {
            match rx.try_recv() {
                Ok(command) => received.push(command),
                Err(_) => break,
            }
        }
        for command in received.drain(..) {
            match command {
                Command::Entry(e) => batch.push(e),
                Command::Flush(done) => flushes.push(done),
            }
        }
        append_until_written(store.as_ref(), &batch).await;
        batch.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Append `batch`, retrying with back-off until it is written: audit entries are not
/// dropped. Meanwhile the queue fills and requests wait for room.
async fn append_until_written(store: &dyn Store, batch: &[AuditEntry]) {
    let mut delay = RETRY_FIRST;
    while let Err(e) = audit::append(store, batch).await {
        // The error and a count only: the entries themselves stay out of the logs.
        tracing::error!(entries = batch.len(), error = %e, "audit append failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
}
