//! WAL checkpoints in the background.

use std::path::PathBuf;
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

const INTERVAL: Duration = Duration::from_millis(250);
/// Past this size the WAL is restarted: under a steady stream of writes PASSIVE checkpoints
/// never catch up with the writer, and the WAL would grow without bound (gigabytes while
/// seeding a large network).
const WAL_LIMIT: u64 = 64 * 1024 * 1024;

/// Checkpoint the database at `path` every [`INTERVAL`] until `alive` is gone. PASSIVE
/// checkpoints never wait for readers or the writer; they copy what they can. When the WAL
/// is past [`WAL_LIMIT`], a RESTART checkpoint waits (up to the busy timeout) for the writer
/// so that the next write starts the WAL again from its beginning (and `journal_size_limit`
/// truncates the file).
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
            let _ = conn.execute_batch("PRAGMA journal_size_limit = 67108864;");
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            while alive.upgrade().is_some() {
                std::thread::sleep(INTERVAL);
                let large = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_LIMIT);
                let pragma = if large {
                    "PRAGMA wal_checkpoint(RESTART)"
                } else {
                    "PRAGMA wal_checkpoint(PASSIVE)"
                };
                if let Err(e) = conn.query_row(pragma, [], |_| Ok(())) {
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
