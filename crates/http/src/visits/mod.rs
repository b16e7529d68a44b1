//! Video visits: the patient and the clinician meet by WebRTC, peer to peer, with this server
//! relaying only the signalling (SDP and ICE candidates), presence and chat over a WebSocket.
//!
//! - `GET /visits/{appointment}`: the visit page (pre-call check, waiting room, call), for the
//!   appointment's patient and practitioner(s) ([`pages`], `assets/visit.js`);
//! - `GET /visits/{appointment}/ws`: the room's WebSocket ([`room`], protocol in [`protocol`]);
//!   signed in as a participant, or `?invite=<token>` for a guest;
//! - `GET /visits/{appointment}/ice`: the ICE servers and TURN credentials ([`ice`]);
//! - `GET|POST /visits/{appointment}/invite`: the clinician makes a one-time link;
//!   `GET /visits/join/{token}`: the guest's page.
//!
//! The room is a topic of the store's event bus, so instances sharing one PostgreSQL relay to
//! each other and none keeps state another would need. The visit's record is its Encounter
//! ([`encounter`]): opened at the first admission, finished when the clinician ends the visit.

mod access;
mod audit;
pub mod encounter;
mod ice;
mod media;
mod pages;
mod protocol;
mod room;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use carefront_store::repository::now_micros;
use serde::Deserialize;
use serde_json::{json, Value};

pub use access::VisitRole;
pub use ice::{turn_credential, IceConfig};

use access::{invite, Closed, Visit};
use room::Member;

use crate::web::session::{ClientAddress, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits/{appointment_id}", get(pages::visit))
        .route("/visits/{appointment_id}/ws", get(socket))
        .route("/visits/{appointment_id}/ice", get(ice_servers))
        .route(
            "/visits/{appointment_id}/invite",
            get(pages::invite_show).post(pages::invite_create),
        )
        .route("/visits/join/{token}", get(pages::join))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SocketQuery {
    invite: Option<String>,
    /// A guest's name, as they typed it on the join page.
    name: Option<String>,
}

/// A refusal before any upgrade, as plain JSON.
fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn closed(c: Closed) -> Response {
    match c {
        Closed::NotFound => refuse(StatusCode::NOT_FOUND, "no such visit"),
        Closed::NotVideo => refuse(StatusCode::FORBIDDEN, "this visit is not by video"),
        Closed::Cancelled => refuse(StatusCode::FORBIDDEN, "this visit was cancelled"),
    }
}

/// A signed-in account (both factors), or none.
fn signed_in(who: Option<SignedIn>) -> Option<SignedIn> {
    who.filter(|w| !w.needs_second_factor())
}

/// A browser page of another site may not open a room with the visitor's cookie: when the
/// browser names the page's origin, it must be this server.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_some() && origin_host == host
}

/// `GET /visits/{id}/ws`: who may enter is decided here, before the upgrade (401 with no
/// credential, 403 for anyone else); then the room takes over.
async fn socket(
    State(state): State<AppState>,
    Path(appointment_id): Path<String>,
    Query(q): Query<SocketQuery>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    who: Option<SignedIn>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !same_origin(&headers) {
        return refuse(StatusCode::FORBIDDEN, "this room opens from this site only");
    }
    let who = signed_in(who);
    let invite = q.invite.as_deref().filter(|t| !t.is_empty());
    if who.is_none() && invite.is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign in, or use your invitation link",
        );
    }
    let visit = match Visit::load(&state, &appointment_id).await {
        Ok(v) => v,
        Err(c) => return closed(c),
    };
    let entered = match (&who, invite) {
        (Some(w), _) if visit.role_of(&w.account).is_some() => Ok(as_account(&visit, w, source)),
        (_, Some(token)) => as_guest(&state, &visit, token, q.name.as_deref(), source).await,
        _ => Err(refuse(
            StatusCode::FORBIDDEN,
            "you are not part of this visit",
        )),
    };
    let (member, extra) = match entered {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    // TURN usernames name the account (as `/ice` does), or `guest-<id>`.
    let who_for_turn = match member.identity.strip_prefix("account:") {
        Some(account) => account.to_owned(),
        None => member.identity.replace(':', "-"),
    };
    let mut extra = extra;
    extra["iceServers"] = state.config.ice.servers_for(&who_for_turn, unix_now());
    upgrade
        .max_message_size(protocol::MAX_MESSAGE_BYTES)
        .max_frame_size(protocol::MAX_MESSAGE_BYTES)
        // Most frames are small (signalling, chat): start with small buffers, which grow
        // for the rare image, so that thousands of waiting sockets stay cheap (the 128 KiB
        // default read buffer alone was most of the 147 KB each idle connection cost).
        .read_buffer_size(protocol::READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| room::run(state, visit, member, socket, extra))
}

fn new_peer_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

fn as_account(visit: &Visit, who: &SignedIn, source: String) -> (Member, Value) {
    let role = visit.role_of(&who.account).unwrap_or(VisitRole::Guest);
    let practitioner_id = who
        .account
        .fhir_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("Practitioner/"))
        .map(str::to_owned);
    // The names the appointment gives (the record's), else the account's.
    let practitioner_name = visit
        .practitioners
        .iter()
        .find(|(id, _)| Some(id) == practitioner_id.as_ref())
        .map(|(_, name)| name.clone());
    let name = match role {
        VisitRole::Patient if !visit.patient_name.is_empty() => visit.patient_name.clone(),
        VisitRole::Clinician => practitioner_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| who.account.display_name.clone()),
        _ => who.account.display_name.clone(),
    };
    let member = Member {
        peer: new_peer_id(),
        role,
        name,
        identity: format!("account:{}", who.account.id),
        audit_role: who.account.role.clone(),
        source,
        practitioner_id,
    };
    (member, json!({}))
}

/// A guest spends their invite and gets, in the welcome, a fresh one-time token to come
/// back with after a network drop (the spent one is dead, as a one-time link should be).
async fn as_guest(
    state: &AppState,
    visit: &Visit,
    token: &str,
    name: Option<&str>,
    source: String,
) -> Result<(Member, Value), Response> {
    let now = now_micros();
    let unavailable = |_| refuse(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
    let Some((guest, inviter)) = invite::redeem(state, &visit.appointment_id, token, now)
        .await
        .map_err(unavailable)?
    else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "this invitation is used or has expired; ask the clinician for a new one",
        ));
    };
    let rejoin = invite::issue(state, &inviter, &visit.appointment_id, Some(&guest), now)
        .await
        .map_err(unavailable)?;
    let member = Member {
        peer: new_peer_id(),
        role: VisitRole::Guest,
        name: guest_name(name),
        identity: format!("guest:{guest}"),
        audit_role: "guest".into(),
        source,
        practitioner_id: None,
    };
    Ok((member, json!({ "rejoin": rejoin })))
}

/// What a guest typed as their name: trimmed, without control characters, at most 60
/// characters; "Guest" when empty.
fn guest_name(name: Option<&str>) -> String {
    let clean: String = name
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "Guest".into()
    } else {
        clean.to_owned()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `GET /visits/{id}/ice`: `{"iceServers": [...]}` for a participant (the pre-call check
/// tests the connection with them; the room's welcome carries them too, for guests).
async fn ice_servers(
    State(state): State<AppState>,
    Path(appointment_id): Path<String>,
    who: Option<SignedIn>,
) -> Response {
    let Some(who) = signed_in(who) else {
        return refuse(StatusCode::UNAUTHORIZED, "sign in first");
    };
    let visit = match Visit::load(&state, &appointment_id).await {
        Ok(v) => v,
        Err(c) => return closed(c),
    };
    if visit.role_of(&who.account).is_none() {
        return refuse(StatusCode::FORBIDDEN, "you are not part of this visit");
    }
    let servers = state.config.ice.servers_for(&who.account.id, unix_now());
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "iceServers": servers })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_names_are_cleaned() {
        assert_eq!(
            guest_name(Some("  Marie (interpreter) ")),
            "Marie (interpreter)"
        );
        assert_eq!(guest_name(Some("\u{7}")), "Guest");
        assert_eq!(guest_name(None), "Guest");
        assert_eq!(guest_name(Some(&"x".repeat(100))).len(), 60);
    }

    #[test]
    fn rooms_open_from_this_site_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "care.example.org".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://care.example.org".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
