//! The background task that empties the outbox: claim, send, mark; failures back off.

use std::sync::Arc;
use std::time::Duration;

use carefront_store::repository::now_micros;
use carefront_store::tables::outbox::{self, Mail};
use carefront_store::Store;
use tokio::sync::Notify;

use super::Smtp;

/// Tries before a mail is left in the outbox for the operator (about a day of backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a claim keeps other instances off a mail: longer than an SMTP exchange may take.
pub const LEASE: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_secs(5);
const BATCH: usize = 20;

/// The wait before the next try after `attempts` failures: 30 s, doubling, at most 4 h.
pub fn backoff(attempts: i64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    Duration::from_secs(30u64.saturating_mul(1 << doublings).min(4 * 3600))
}

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

/// Delivers the outbox through one SMTP server. Any number of server instances may run one
/// each: a mail is claimed in the store before it is sent.
pub struct Sender {
    store: Arc<dyn Store>,
    smtp: Smtp,
    wake: Arc<Notify>,
    poll: Duration,
}

impl Sender {
    /// `wake` is notified when mail is enqueued, so it goes out without waiting for the poll.
    pub fn new(store: Arc<dyn Store>, smtp: Smtp, wake: Arc<Notify>) -> Sender {
        Sender {
            store,
            smtp,
            wake,
            poll: POLL,
        }
    }

    /// Try each mail that is due once; returns how many were sent.
    pub async fn run_once(&self) -> usize {
        let store = self.store.as_ref();
        let due = match outbox::due(store, now_micros(), MAX_ATTEMPTS, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading the mail outbox failed");
                return 0;
            }
        };
        let mut sent = 0;
        for mail in due {
            let now = now_micros();
            match outbox::claim(store, &mail.id, now, now + micros(LEASE)).await {
                Ok(true) => {}
                // Another instance has it.
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(mail = %mail.id, error = %e, "claiming a mail failed");
                    continue;
                }
            }
            if self.deliver(&mail).await {
                sent += 1;
            }
        }
        sent
    }

    async fn deliver(&self, mail: &Mail) -> bool {
        let store = self.store.as_ref();
        match self.smtp.send(mail).await {
            Ok(()) => match outbox::mark(store, &mail.id, now_micros(), None).await {
                Ok(()) => {
                    tracing::info!(mail = %mail.id, "mail sent");
                    true
                }
                Err(e) => {
                    // The claim expires and the mail goes out again: a duplicate beats a loss.
                    tracing::error!(mail = %mail.id, error = %e, "mail sent but not marked sent");
                    true
                }
            },
            Err(e) => {
                let attempts = mail.attempts + 1;
                let wait = backoff(attempts);
                let retry_at = now_micros() + micros(wait);
                if let Err(se) = outbox::fail(store, &mail.id, &e.detail, retry_at).await {
                    tracing::error!(mail = %mail.id, error = %se, "recording a mail failure failed");
                }
                if attempts >= MAX_ATTEMPTS {
                    tracing::error!(mail = %mail.id, attempts, kind = e.kind,
                        "mail not delivered; giving up (it stays in the outbox)");
                } else {
                    tracing::warn!(mail = %mail.id, attempts, kind = e.kind,
                        retry_in_s = wait.as_secs(), "mail not delivered; will retry");
                }
                false
            }
        }
    }

    /// Deliver until the task is dropped: every few seconds, and at once when woken.
    pub async fn run(self) {
        loop {
            self.run_once().await;
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    /// Run in the background; abort the handle to stop.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tracing::info!(server = self.smtp.shown(), "delivering mail over SMTP");
        tokio::spawn(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(5), Duration::from_secs(480));
        assert_eq!(backoff(MAX_ATTEMPTS), Duration::from_secs(4 * 3600));
        assert_eq!(backoff(1000), Duration::from_secs(4 * 3600));
    }
}
