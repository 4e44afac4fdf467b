//! Webhook events, as Discord sends them to an application's Webhook Events URL
//! (<https://discord.com/developers/docs/events/webhook-events>): a JSON body
//! `{"version": 1, "application_id", "type": 0 | 1, "event": {"type", "timestamp", "data"}}`,
//! signed with the application's Ed25519 key over `X-Signature-Timestamp` (Unix seconds)
//! followed by the raw body, the signature in `X-Signature-Ed25519` (hex).
//!
//! Owns: the mock's signing key, the event bodies, the signing and the one-request HTTP/1.1
//! client that delivers an event. Imports `objects`, `seed` and `util` only (plus `state`'s
//! `Shared` for the key and the users); must not import the server side.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, Uri, header};
use ed25519_dalek::{Signer, SigningKey};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::state::Shared;

/// The seed of the mock's default signing key: fixed, so that a test (or the demo) can know the
/// public key before the mock starts. Never use it for anything real.
pub const DEFAULT_EVENT_KEY_SEED: [u8; 32] = *b"discord-oauth-mock event key 01!";

/// The signing key of `seed`.
pub(crate) fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The current Unix time, seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `(X-Signature-Ed25519, X-Signature-Timestamp)` for `body` signed at `timestamp`.
pub(crate) fn sign(key: &SigningKey, body: &[u8], timestamp: u64) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(body);
    let signature = key.sign(&message);
    vec![
        ("X-Signature-Ed25519".to_owned(), hex(&signature.to_bytes())),
        ("X-Signature-Timestamp".to_owned(), ts),
    ]
}

/// `{"version": 1, "application_id", "type": 0}`.
pub(crate) fn ping_body(shared: &Shared) -> Vec<u8> {
    json!({
        "version": 1,
        "application_id": shared.client_id.to_string(),
        "type": 0,
    })
    .to_string()
    .into_bytes()
}

/// A type-1 event of `kind` with `data`, timestamped now.
pub(crate) fn event_body(shared: &Shared, kind: &str, data: Value) -> Vec<u8> {
    let now_ms = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(0);
    json!({
        "version": 1,
        "application_id": shared.client_id.to_string(),
        "type": 1,
        "event": {
            "type": kind,
            "timestamp": crate::util::iso8601(now_ms),
            "data": data,
        },
    })
    .to_string()
    .into_bytes()
}

/// The user object of an event: the seeded user's, or just the id for an unknown user.
pub(crate) fn user_object(shared: &Shared, user_id: u64) -> Value {
    match shared.user(user_id) {
        Some(u) => crate::objects::user_json(&u, false, false),
        None => json!({ "id": user_id.to_string() }),
    }
}

/// POSTs `body` with `headers` to `url` (plain `http://`, as a test's loopback app is), as
/// Discord's servers do: no cookies, no `Origin`. The answer's status.
pub(crate) async fn post(
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> std::io::Result<u16> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_owned());
    let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(invalid("only http:// URLs are supported"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| invalid("no host"))?
        .to_string();
    let path = uri
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let send = async {
        let stream = tokio::net::TcpStream::connect(&authority).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let mut request = Request::post(path)
            .header(header::HOST, authority.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                "Discord-Webhook/1.0 (+https://discord.com)",
            );
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Body::from(body))
            .map_err(std::io::Error::other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?;
        Ok(response.status().as_u16())
    };
    tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 10 s"))?
}
