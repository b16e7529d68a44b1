//! Live events across instances through PostgreSQL `NOTIFY`/`LISTEN`.
//!
//! Publishing sends a notification on one channel; every instance keeps one listening
//! connection that hands what arrives to its local subscribers. A notification carries at
//! most 8,000 bytes, so a larger payload (a WebRTC offer with many candidates) is written to
//! `event_spool` and the notification carries its row id; rows older than a minute are
//! cleared as new ones are written.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use carefront_store::events::{Event, EventBus, Hub};
use carefront_store::{StoreError, StoreResult};
use serde_json::{json, Value};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;

const CHANNEL: &str = "carefront_events";
/// Below PostgreSQL's 8,000-byte limit, with room for the envelope.
const INLINE_MAX: usize = 7_000;

pub struct PgBus {
    pool: PgPool,
    hub: Arc<Hub>,
}

impl PgBus {
    /// Starts the listening task; it reconnects by itself after a lost connection (events
    /// published meanwhile are missed, as the module says subscribers must tolerate).
    pub fn start(pool: PgPool) -> Arc<PgBus> {
        let hub = Arc::new(Hub::default());
        let bus = Arc::new(PgBus {
            pool: pool.clone(),
            hub: hub.clone(),
        });
        tokio::spawn(listen(pool, hub));
        bus
    }
}

async fn listen(pool: PgPool, hub: Arc<Hub>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if listener.listen(CHANNEL).await.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // An error means the connection is gone: connect again.
        while let Ok(n) = listener.recv().await {
            if let Some(event) = decode(&pool, n.payload()).await {
                hub.deliver(event);
            }
        }
    }
}

async fn decode(pool: &PgPool, text: &str) -> Option<Event> {
    let envelope: Value = serde_json::from_str(text).ok()?;
    let topic = envelope["t"].as_str()?.to_owned();
    let payload = match envelope["s"].as_i64() {
        Some(id) => {
            sqlx::query_scalar::<_, String>("SELECT payload FROM event_spool WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .ok()??
        }
        None => envelope["p"].as_str()?.to_owned(),
    };
    Some(Event { topic, payload })
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

#[async_trait]
impl EventBus for PgBus {
    async fn publish(&self, topic: &str, payload: &str) -> StoreResult<()> {
        let inline = json!({ "t": topic, "p": payload }).to_string();
        let envelope = if inline.len() <= INLINE_MAX {
            inline
        } else {
            let id: i64 = sqlx::query_scalar(
                "WITH old AS (DELETE FROM event_spool WHERE created_at < now() - interval '1 minute') \
                 INSERT INTO event_spool (topic, payload) VALUES ($1, $2) RETURNING id",
            )
            .bind(topic)
            .bind(payload)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
            json!({ "t": topic, "s": id }).to_string()
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(envelope)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>> {
        self.hub.subscribe(topic)
    }
}
