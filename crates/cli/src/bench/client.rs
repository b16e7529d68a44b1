//! A deliberately thin HTTP/1.1 client: one keep-alive connection, one request at a time.
//! It shares the CPU with the server under test, so it does no pooling, redirects or
//! retries; every cycle it spends is one the server cannot use.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION as AUTHORIZATION_HEADER, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The `Authorization` header every request carries: the bearer token of the server under
/// test, set once it is started (see `server::Server::authenticate`).
static AUTHORIZATION: std::sync::RwLock<Option<HeaderValue>> = std::sync::RwLock::new(None);

/// Send `Authorization: Bearer <token>` from now on.
pub fn set_bearer(token: &str) -> Result<(), String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    value.set_sensitive(true);
    *AUTHORIZATION.write().unwrap_or_else(|e| e.into_inner()) = Some(value);
    Ok(())
}

pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

/// A response read whole (reading the body is part of the measured latency, as for any
/// real client, and lets the connection carry the next request).
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        // Requests are small and sent whole: without this, Nagle delays them by up to 40 ms.
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection.
            let _ = connection.await;
        });
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        Ok(Client { sender, host })
    }

    /// A client-credentials token from `/oauth2/token`.
    pub async fn token(&mut self, client_id: &str, secret: &str) -> Result<String, String> {
        let form =
            format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
        let request = Request::builder()
            .method(Method::POST)
            .uri("/oauth2/token")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("token request failed: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("token response: {e}"))?
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match json["access_token"].as_str() {
            Some(token) if status.is_success() => Ok(token.to_owned()),
            _ => Err(format!("no token from /oauth2/token: HTTP {status}")),
        }
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, String> {
        self.send(Method::GET, path, None, None).await
    }

    /// Send one request and read its response; `Err` only when the connection failed.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        header: Option<(&'static str, &str)>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/fhir+json");
        }
        if let Some(auth) = AUTHORIZATION
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            request = request.header(AUTHORIZATION_HEADER, auth.clone());
        }
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| format!("bad request {path}: {e}"))?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        Ok(Answer { status, body })
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(240) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
