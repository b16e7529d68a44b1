//! One browser's connection to a visit's room. The room itself exists only as the event-bus
//! topic `room:<appointment>`: every connection subscribes to it and publishes what its
//! browser does, so peers on different instances (one PostgreSQL) meet as if on one. Nothing
//! here is shared between connections: who is present is learnt from the topic (a newcomer
//! says `hello`, everyone answers with their presence), and is forgotten with the connection.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_store::events::{Event, EventBus};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::access::{Visit, VisitRole};
use super::protocol::{
    check_chat, Chat, ClientMessage, Envelope, Image, PeerState, Presence, RateLimit, RoomEvent,
    MAX_SIGNAL_BYTES,
};
use super::{audit, encounter};
use crate::AppState;

/// How often the server pings an idle browser, and how long silence lasts before it gives up.
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// Per connection: bursts of 60 messages (ICE candidates come in bursts), 20 a second on
/// average.
const RATE_BURST: u32 = 60;
const RATE_PER_SECOND: u32 = 20;

/// Who is on this connection.
#[derive(Debug, Clone)]
pub struct Member {
    pub peer: String,
    pub role: VisitRole,
    pub name: String,
    /// `account:<id>` or `guest:<id>`: the same across reconnections, for the audit chain and
    /// for re-admitting someone whose network dropped.
    pub identity: String,
    pub audit_role: String,
    pub source: String,
    /// A clinician's Practitioner id (the `operator` of images they share).
    pub practitioner_id: Option<String>,
}

/// The connection's view of the room.
struct Conn {
    state: AppState,
    bus: Arc<dyn EventBus>,
    topic: String,
    visit: Visit,
    me: Member,
    my_state: PeerState,
    /// Everyone else, as last announced.
    known: HashMap<String, Presence>,
    /// (Clinicians) identities they admitted, re-admitted at once when they come back.
    admitted: HashSet<String>,
    limit: RateLimit,
}

/// What to do after handling a frame or an event.
enum Next {
    Continue,
    /// The visit ended (or the browser left): close the socket.
    Close,
}

/// Runs the connection until the browser leaves or the visit ends. `welcome_extra` adds to
/// the welcome frame (ICE servers, a guest's reconnection token).
pub async fn run(
    state: AppState,
    visit: Visit,
    me: Member,
    mut socket: WebSocket,
    welcome_extra: Value,
) {
    let bus = state.repo.store().events();
    let topic = format!("room:{}", visit.appointment_id);
    // Subscribe before saying hello, so that no answer is missed.
    let mut events = bus.subscribe(&topic);
    let my_state = if me.role == VisitRole::Clinician {
        PeerState::InCall
    } else {
        PeerState::Waiting
    };
    let mut conn = Conn {
        state,
        bus,
        topic,
        visit,
        me,
        my_state,
        known: HashMap::new(),
        admitted: HashSet::new(),
        limit: RateLimit::new(RATE_BURST, RATE_PER_SECOND),
    };
    let mut welcome = json!({
        "type": "welcome",
        "peer": conn.me.peer,
        "role": conn.me.role.as_str(),
        "admitted": conn.my_state == PeerState::InCall,
        "name": conn.me.name,
    });
    if let (Value::Object(w), Value::Object(extra)) = (&mut welcome, welcome_extra) {
        w.extend(extra);
    }
    if send(&mut socket, &welcome).await.is_err() {
        return;
    }
    audit::record(
        &conn.state,
        &conn.me,
        "visit-join",
        &conn.visit.appointment_id,
    )
    .await;
    if conn.visit.is_ended() {
        let _ = send(&mut socket, &json!({"type": "ended"})).await;
        close(socket, "ended").await;
        return;
    }
    conn.hello().await;

    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    loop {
        let next = tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(frame)) => {
                    last_heard = Instant::now();
                    conn.on_frame(&mut socket, frame).await
                }
                // Gone without a word (a network drop, a closed tab).
                _ => Next::Close,
            },
            event = events.recv() => match event {
                Ok(event) => conn.on_event(&mut socket, &event).await,
                // Fell behind: ask everyone to announce themselves again.
                Err(RecvError::Lagged(_)) => { conn.hello().await; Next::Continue }
                Err(RecvError::Closed) => Next::Close,
            },
            _ = ping.tick() => {
                let silent = last_heard.elapsed() > SILENCE_LIMIT;
                if silent || socket.send(Message::Ping(Default::default())).await.is_err() {
                    Next::Close
                } else {
                    Next::Continue
                }
            }
        };
        if let Next::Close = next {
            break;
        }
    }
    if conn.my_state != PeerState::Left {
        conn.my_state = PeerState::Left;
        conn.publish(
            None,
            RoomEvent::Presence {
                presence: conn.presence(),
            },
        )
        .await;
    }
    close(socket, "bye").await;
}

async fn send(socket: &mut WebSocket, value: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(value.to_string().into())).await
}

async fn close(mut socket: WebSocket, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: reason.into(),
        })))
        .await;
}

fn error(message: &str) -> Value {
    json!({ "type": "error", "message": message })
}

impl Conn {
    fn presence(&self) -> Presence {
        Presence {
            peer: self.me.peer.clone(),
            identity: self.me.identity.clone(),
            name: self.me.name.clone(),
            role: self.me.role.as_str().to_owned(),
            state: self.my_state,
        }
    }

    async fn publish(&self, to: Option<&str>, event: RoomEvent) {
        let envelope = Envelope {
            from: self.me.peer.clone(),
            to: to.map(str::to_owned),
            event,
        };
        let text = serde_json::to_string(&envelope).unwrap_or_default();
        if let Err(e) = self.bus.publish(&self.topic, &text).await {
            tracing::warn!(error = %e, "a room event was not published");
        }
    }

    async fn hello(&self) {
        self.publish(
            None,
            RoomEvent::Hello {
                presence: self.presence(),
            },
        )
        .await;
    }

    fn admitted(&self) -> bool {
        self.my_state == PeerState::InCall
    }

    fn is_clinician(&self) -> bool {
        self.me.role == VisitRole::Clinician
    }

    /// A frame from the browser.
    async fn on_frame(&mut self, socket: &mut WebSocket, frame: Message) -> Next {
        let text = match frame {
            Message::Text(text) => text,
            Message::Close(_) => return Next::Close,
            // Pings are answered by axum; pongs only prove the browser is alive.
            Message::Ping(_) | Message::Pong(_) => return Next::Continue,
            Message::Binary(_) => {
                let _ = send(socket, &error("send JSON text frames")).await;
                return Next::Continue;
            }
        };
        if !self.limit.allow(Instant::now()) {
            let _ = send(socket, &error("too many messages; slow down")).await;
            return Next::Continue;
        }
        let message: ClientMessage = match serde_json::from_str(text.as_str()) {
            Ok(m) => m,
            Err(_) => {
                let _ = send(socket, &error("not a message this room understands")).await;
                return Next::Continue;
            }
        };
        let answer = match message {
            ClientMessage::Ping => Ok(json!({"type": "pong"})),
            ClientMessage::Signal { to, data } => self.signal(&to, data).await,
            ClientMessage::Chat { text, image } => self.chat(text, image).await,
            ClientMessage::Admit { peer } => self.admit(&peer).await,
            ClientMessage::End => {
                if self.is_clinician() {
                    self.end().await;
                    let _ = send(socket, &json!({"type": "ended"})).await;
                    return Next::Close;
                }
                Err("only the clinician ends the visit; close the page to leave")
            }
        };
        match answer {
            Ok(Value::Null) => {}
            Ok(reply) => {
                let _ = send(socket, &reply).await;
            }
            Err(message) => {
                let _ = send(socket, &error(message)).await;
            }
        }
        Next::Continue
    }

    async fn signal(&mut self, to: &str, data: Value) -> Result<Value, &'static str> {
        if !self.admitted() {
            return Err("you are in the waiting room until the clinician admits you");
        }
        match self.known.get(to) {
            Some(p) if p.state == PeerState::InCall => {}
            Some(_) => return Err("that person is not in the call"),
            None => return Err("no one with that peer id is in this visit"),
        }
        if data.to_string().len() > MAX_SIGNAL_BYTES {
            return Err("signal too large");
        }
        self.publish(Some(to), RoomEvent::Signal { data }).await;
        Ok(Value::Null)
    }

    async fn chat(&mut self, text: String, image: Option<String>) -> Result<Value, &'static str> {
        if !self.admitted() {
            return Err("chat opens once you are admitted");
        }
        let checked = check_chat(&text, image.as_deref()).map_err(|p| p.message())?;
        if let Some(img) = checked {
            self.keep_image(&text, &img).await?;
        }
        let chat = Chat {
            from: self.me.name.clone(),
            role: self.me.role.as_str().to_owned(),
            text,
            image: image.filter(|i| !i.is_empty()),
            at: Timestamp::now().to_string(),
        };
        self.publish(None, RoomEvent::Chat { chat }).await;
        Ok(Value::Null)
    }

    /// A shared image goes into the record as a FHIR `Media` of the visit's Encounter (the
    /// picture of a rash is clinical information; the chat text is not kept).
    async fn keep_image(&self, caption: &str, image: &Image) -> Result<(), &'static str> {
        let encounter = encounter::ensure(&self.state, &self.visit.appointment_id)
            .await
            .map_err(|_| "the image could not be kept; try again")?;
        let media = super::media::chat_image(
            &self.visit,
            &encounter.0,
            &self.me,
            caption,
            image,
            &Timestamp::now().to_string(),
        );
        self.state
            .repo
            .create("Media", media, None)
            .await
            .map(|_| ())
            .map_err(|_| "the image could not be kept; try again")
    }

    async fn admit(&mut self, peer: &str) -> Result<Value, &'static str> {
        if !self.is_clinician() {
            return Err("only the clinician admits people");
        }
        let guest = match self.known.get(peer) {
            Some(p) if p.state == PeerState::Waiting => {
                (p.role == VisitRole::Guest.as_str()).then(|| p.name.clone())
            }
            Some(_) => return Err("that person is not waiting"),
            None => return Err("no one with that peer id is waiting"),
        };
        // The visit starts for the record with the first admission; a guest joins its
        // participants.
        let recorded = match &guest {
            Some(name) => encounter::add_guest(&self.state, &self.visit.appointment_id, name).await,
            None => encounter::ensure(&self.state, &self.visit.appointment_id)
                .await
                .map(|_| ()),
        };
        if recorded.is_err() {
            tracing::error!("the encounter of a video visit could not be opened");
        }
        audit::record(
            &self.state,
            &self.me,
            "visit-admit",
            &self.visit.appointment_id,
        )
        .await;
        self.publish(Some(peer), RoomEvent::Admit).await;
        Ok(Value::Null)
    }

    async fn end(&mut self) {
        if encounter::finish(&self.state, &self.visit.appointment_id)
            .await
            .is_err()
        {
            tracing::error!("the encounter of a video visit could not be finished");
        }
        audit::record(
            &self.state,
            &self.me,
            "visit-end",
            &self.visit.appointment_id,
        )
        .await;
        self.my_state = PeerState::Left;
        self.publish(None, RoomEvent::Ended).await;
    }

    /// An event of the room's topic.
    async fn on_event(&mut self, socket: &mut WebSocket, event: &Event) -> Next {
        let Ok(envelope) = serde_json::from_str::<Envelope>(&event.payload) else {
            return Next::Continue;
        };
        let mine = envelope.from == self.me.peer;
        let for_me = envelope.to.as_deref().is_none_or(|to| to == self.me.peer);
        // Our own chat comes back to us, so every browser shows the same order.
        if !for_me || (mine && !matches!(envelope.event, RoomEvent::Chat { .. })) {
            return Next::Continue;
        }
        let out = match envelope.event {
            RoomEvent::Hello { presence } => {
                self.publish(
                    Some(&presence.peer),
                    RoomEvent::Presence {
                        presence: self.presence(),
                    },
                )
                .await;
                if self.is_clinician()
                    && presence.state == PeerState::Waiting
                    && self.admitted.contains(&presence.identity)
                {
                    // Back after a drop: let them in again without a click.
                    self.publish(Some(&presence.peer), RoomEvent::Admit).await;
                }
                self.seen(presence)
            }
            RoomEvent::Presence { presence } => self.seen(presence),
            RoomEvent::Admit => {
                if self.my_state != PeerState::Waiting {
                    return Next::Continue;
                }
                self.my_state = PeerState::InCall;
                self.publish(
                    None,
                    RoomEvent::Presence {
                        presence: self.presence(),
                    },
                )
                .await;
                Some(json!({"type": "admitted"}))
            }
            RoomEvent::Signal { data } => {
                let sender_in_call = self
                    .known
                    .get(&envelope.from)
                    .is_some_and(|p| p.state == PeerState::InCall);
                (self.admitted() && sender_in_call)
                    .then(|| json!({"type": "signal", "from": envelope.from, "data": data}))
            }
            RoomEvent::Chat { chat } => self.admitted().then(|| {
                let mut v = serde_json::to_value(&chat).unwrap_or_default();
                v["type"] = json!("chat");
                v
            }),
            RoomEvent::Ended => {
                self.my_state = PeerState::Left;
                let _ = send(socket, &json!({"type": "ended"})).await;
                return Next::Close;
            }
        };
        match out {
            Some(v) if send(socket, &v).await.is_err() => Next::Close,
            _ => Next::Continue,
        }
    }

    /// Someone announced themselves: remember them and tell the browser.
    fn seen(&mut self, presence: Presence) -> Option<Value> {
        if self.is_clinician() && presence.state == PeerState::InCall {
            // Whoever is in the call now was admitted (by us or by a colleague).
            self.admitted.insert(presence.identity.clone());
        }
        let out = json!({
            "type": "presence",
            "peer": presence.peer,
            "name": presence.name,
            "role": presence.role,
            "state": presence.state,
        });
        if presence.state == PeerState::Left {
            self.known.remove(&presence.peer);
        } else {
            self.known.insert(presence.peer.clone(), presence);
        }
        Some(out)
    }
}
