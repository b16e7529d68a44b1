//! The room's wire protocol (JSON text frames) and its limits, without I/O.
//!
//! Browser → server: `signal` (to a peer: an SDP description or ICE candidate, relayed
//! verbatim), `chat` (text and an optional PNG/JPEG data URL), `admit` and `end` (clinician),
//! `ping`. Server → browser: `welcome`, `presence`, `admitted`, `signal`, `chat`, `ended`,
//! `pong`, `error`. Between instances the room's events travel on the event bus as an
//! [`Envelope`].

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest frame a browser may send (a chat image of 2 MB as a data URL is ~2.7 MB).
/// A socket's initial read buffer (grows as a large frame needs).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
pub const MAX_MESSAGE_BYTES: usize = 3 * 1024 * 1024;
/// The longest chat text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The largest chat image, decoded.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The largest signal payload (an SDP with many candidates stays far below).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// What a browser sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    Signal {
        to: String,
        data: Value,
    },
    Chat {
        #[serde(default)]
        text: String,
        #[serde(default)]
        image: Option<String>,
    },
    Admit {
        peer: String,
    },
    End,
    Ping,
}

/// Where someone is in the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerState {
    Waiting,
    InCall,
    Left,
}

/// One room event on the bus: who sent it, to whom (`None`: everyone), and what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub event: RoomEvent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RoomEvent {
    /// A peer joined (or came back): everyone answers with their own presence.
    Hello {
        presence: Presence,
    },
    Presence {
        presence: Presence,
    },
    Admit,
    Signal {
        data: Value,
    },
    Chat {
        chat: Chat,
    },
    Ended,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Presence {
    pub peer: String,
    /// `account:<id>` or `guest:<id>`, between servers only (browsers see peer ids): lets a
    /// clinician re-admit someone who reconnects.
    pub identity: String,
    pub name: String,
    pub role: String,
    pub state: PeerState,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chat {
    pub from: String,
    pub role: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub at: String,
}

/// A chat image, checked: its type and decoded bytes.
#[derive(Debug)]
pub struct Image {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Why a chat message is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ChatProblem {
    Empty,
    TooLong,
    NotAnImage,
    ImageTooLarge,
}

impl ChatProblem {
    pub fn message(&self) -> &'static str {
        match self {
            ChatProblem::Empty => "a chat message needs text or an image",
            ChatProblem::TooLong => "chat text is limited to 4000 characters",
            ChatProblem::NotAnImage => "images must be PNG or JPEG data URLs",
            ChatProblem::ImageTooLarge => "images are limited to 2 MB",
        }
    }
}

/// Checks a chat message: bounded text, and an image that is really a PNG or JPEG (its
/// declared type and its first bytes agree) of at most [`MAX_IMAGE_BYTES`].
pub fn check_chat(text: &str, image: Option<&str>) -> Result<Option<Image>, ChatProblem> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ChatProblem::TooLong);
    }
    let Some(url) = image.filter(|i| !i.is_empty()) else {
        return if text.trim().is_empty() {
            Err(ChatProblem::Empty)
        } else {
            Ok(None)
        };
    };
    let (content_type, data) = if let Some(d) = url.strip_prefix("data:image/png;base64,") {
        ("image/png", d)
    } else if let Some(d) = url.strip_prefix("data:image/jpeg;base64,") {
        ("image/jpeg", d)
    } else {
        return Err(ChatProblem::NotAnImage);
    };
    // Base64 is 4 characters per 3 bytes: refuse before decoding what is obviously too big.
    if data.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        return Err(ChatProblem::ImageTooLarge);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| ChatProblem::NotAnImage)?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ChatProblem::ImageTooLarge);
    }
    let magic_ok = match content_type {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    };
    if !magic_ok {
        return Err(ChatProblem::NotAnImage);
    }
    Ok(Some(Image {
        content_type,
        bytes,
    }))
}

/// A token bucket per connection: `burst` messages at once, `per_second` on average (a burst
/// of ICE candidates passes; a flood does not).
#[derive(Debug)]
pub struct RateLimit {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last: std::time::Instant,
}

impl RateLimit {
    pub fn new(burst: u32, per_second: u32) -> Self {
        RateLimit {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_second: f64::from(per_second),
            last: std::time::Instant::now(),
        }
    }

    /// Whether one more message may pass at `now`.
    pub fn allow(&mut self, now: std::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const PNG_1PX: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

    #[test]
    fn client_messages_parse_by_type() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"signal","to":"p2","data":{"sdp":"x"}}"#).unwrap();
        assert!(matches!(m, ClientMessage::Signal { to, .. } if to == "p2"));
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"end"}"#).unwrap(),
            ClientMessage::End
        ));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"shout"}"#).is_err());
    }

    #[test]
    fn chat_images_are_png_or_jpeg_and_bounded() {
        assert!(check_chat("hello", None).unwrap().is_none());
        assert_eq!(check_chat("  ", None).unwrap_err(), ChatProblem::Empty);
        assert_eq!(
            check_chat(&"x".repeat(4001), None).unwrap_err(),
            ChatProblem::TooLong
        );
        let png = format!("data:image/png;base64,{PNG_1PX}");
        let image = check_chat("", Some(&png)).unwrap().unwrap();
        assert_eq!(image.content_type, "image/png");
        // A PNG declared as JPEG, or another type, is refused.
        let lying = format!("data:image/jpeg;base64,{PNG_1PX}");
        assert_eq!(
            check_chat("", Some(&lying)).unwrap_err(),
            ChatProblem::NotAnImage
        );
        assert_eq!(
            check_chat("", Some("data:image/svg+xml;base64,PHN2Zz4=")).unwrap_err(),
            ChatProblem::NotAnImage
        );
        let big = format!("data:image/png;base64,{}", "A".repeat(3 * 1024 * 1024));
        assert_eq!(
            check_chat("", Some(&big)).unwrap_err(),
            ChatProblem::ImageTooLarge
        );
    }

    #[test]
    fn the_rate_limit_allows_bursts_then_refills() {
        let start = Instant::now();
        let mut limit = RateLimit::new(3, 1);
        assert!((0..3).all(|_| limit.allow(start)));
        assert!(!limit.allow(start));
        assert!(limit.allow(start + Duration::from_secs(1)));
    }

    #[test]
    fn envelopes_round_trip() {
        let e = Envelope {
            from: "a".into(),
            to: None,
            event: RoomEvent::Presence {
                presence: Presence {
                    peer: "a".into(),
                    identity: "account:1".into(),
                    name: "Ana".into(),
                    role: "patient".into(),
                    state: PeerState::InCall,
                },
            },
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains(r#""state":"in-call""#), "{text}");
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert!(matches!(back.event, RoomEvent::Presence { .. }));
    }
}
