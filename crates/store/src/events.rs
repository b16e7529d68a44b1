//! Live events between server instances: a new message, a patient waiting, a WebRTC offer.
//! A page or socket subscribes to a topic (`room:<id>`, `user:<account>`, ...); whoever
//! publishes on any instance reaches every subscriber on every instance.
//!
//! On SQLite (one instance by design) events stay in the process ([`LocalBus`]). On
//! PostgreSQL they go through `NOTIFY`/`LISTEN` (see `carefront-store-postgres`), so several
//! stateless instances share them with nothing else to run. Events are for live updates
//! only: what must survive is written to the store first, and a subscriber that misses an
//! event (a dropped connection) reloads from the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::StoreResult;

/// One event: its topic and a JSON payload, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub topic: String,
    pub payload: String,
}

/// Events buffered per topic before the slowest subscriber starts missing some (it is told:
/// `RecvError::Lagged`, and reloads). Allocated up front for every topic, so kept small:
/// a room or a person's stream sees a few events a second at most.
const BUFFER: usize = 64;

/// Subscriptions between sweeps of topics nobody listens to any more.
const SWEEP_EVERY: u64 = 1024;

/// The subscribers of this process, per topic.
#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
    subscriptions: std::sync::atomic::AtomicU64,
}

impl Hub {
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>> {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        let n = self
            .subscriptions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A topic is otherwise forgotten only when an event finds no one: quiet topics
            // of closed pages would pile up.
            topics.retain(|_, sender| sender.receiver_count() > 0);
        }
        topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    /// Hands `event` to this process's subscribers of its topic.
    pub fn deliver(&self, event: Event) {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = topics.get(&event.topic) {
            if sender.receiver_count() == 0 {
                // Nobody listens any more: forget the topic.
                topics.remove(&event.topic);
            } else {
                let _ = sender.send(Arc::new(event));
            }
        }
    }

    /// Topics with at least one subscriber (for tests and metrics).
    pub fn topics(&self) -> usize {
        let topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        topics.values().filter(|s| s.receiver_count() > 0).count()
    }
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes `payload` (JSON text) on `topic` to every instance.
    async fn publish(&self, topic: &str, payload: &str) -> StoreResult<()>;
    /// Events of `topic` from now on.
    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>>;
}

/// Events within this process only (the SQLite store: one instance).
#[derive(Default)]
pub struct LocalBus {
    hub: Hub,
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, topic: &str, payload: &str) -> StoreResult<()> {
        self.hub.deliver(Event {
            topic: topic.to_owned(),
            payload: payload.to_owned(),
        });
        Ok(())
    }

    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<Event>> {
        self.hub.subscribe(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_of_a_topic_get_its_events_only() {
        let bus = LocalBus::default();
        let mut a = bus.subscribe("room:1");
        let mut b = bus.subscribe("room:2");
        bus.publish("room:1", "{\"x\":1}").await.unwrap();
        assert_eq!(a.recv().await.unwrap().payload, "{\"x\":1}");
        assert!(b.try_recv().is_err());
        drop(a);
        bus.publish("room:1", "{}").await.unwrap();
        assert_eq!(
            bus.hub.topics(),
            1,
            "a topic nobody listens to is forgotten"
        );
    }
}
