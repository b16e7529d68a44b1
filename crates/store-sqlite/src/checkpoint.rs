//! WAL checkpoints in the background.

use std::path::PathBuf;
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

const INTERVAL: Duration = Duration::from_millis(250);

/// Checkpoint the database at `path` every [`INTERVAL`] until `alive` is gone. PASSIVE
/// checkpoints never wait for readers or the writer; they copy what they can.
pub fn start(path: PathBuf, alive: Weak<()>) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&path) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "cannot open SQLite for checkpoints");
                    return;
                }
            };
            let _ = conn.busy_timeout(Duration::from_secs(1));
            while alive.upgrade().is_some() {
                std::thread::sleep(INTERVAL);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "SQLite checkpoint failed");
                }
            }
            // Leave a small WAL behind when the store closes.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the SQLite checkpoint thread");
    }
}
