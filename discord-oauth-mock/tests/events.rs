//! Webhook events from the fake Discord: the body Discord sends, an Ed25519 signature over
//! timestamp + body that verifies with `public_key_hex`, and delivery by `send_event` /
//! `deauthorize_user` (which also revokes the user's grants).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use discord_oauth_mock::{DEFAULT_EVENT_KEY_SEED, MockDiscord, seed};
use ed25519_dalek::{Signature, VerifyingKey};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn verifies(public_hex: &str, signature_hex: &str, timestamp: &str, body: &[u8]) -> bool {
    let key = VerifyingKey::from_bytes(&unhex(public_hex).try_into().unwrap()).unwrap();
    let sig = Signature::from_bytes(&unhex(signature_hex).try_into().unwrap());
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    key.verify_strict(&message, &sig).is_ok()
}

#[tokio::test]
async fn events_are_signed_with_the_applications_key() {
    let mock = MockDiscord::start().await;
    let key = mock.public_key_hex();
    assert_eq!(key.len(), 64);
    let same = MockDiscord::builder()
        .event_key_seed(DEFAULT_EVENT_KEY_SEED)
        .start()
        .await;
    assert_eq!(same.public_key_hex(), key, "the default key is fixed");

    let body = mock.deauthorized_event(seed::ALICE);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], 1);
    assert_eq!(json["version"], 1);
    assert_eq!(json["application_id"], mock.client_id().to_string());
    assert_eq!(json["event"]["type"], "APPLICATION_DEAUTHORIZED");
    assert_eq!(json["event"]["data"]["user"]["id"], seed::ALICE.to_string());
    assert!(json["event"]["timestamp"].is_string());
    let ping: serde_json::Value = serde_json::from_slice(&mock.ping_event()).unwrap();
    assert_eq!(ping["type"], 0);
    let auth: serde_json::Value =
        serde_json::from_slice(&mock.authorized_event(seed::ALICE, &["identify"])).unwrap();
    assert_eq!(auth["event"]["data"]["scopes"][0], "identify");

    let (headers, signed) = mock.signed_event_at(&body, 1_700_000_000);
    assert_eq!(signed, body);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (sig, ts) = (get("X-Signature-Ed25519"), get("X-Signature-Timestamp"));
    assert_eq!(ts, "1700000000");
    assert_eq!(sig.len(), 128);
    assert!(verifies(&key, &sig, &ts, &body));
    assert!(
        !verifies(&key, &sig, "1700000001", &body),
        "the timestamp is signed"
    );
    assert!(!verifies(&key, &sig, &ts, b"{}"), "the body is signed");
}

/// What the app's events URL received: headers and raw body.
type Delivery = (HeaderMap, Vec<u8>);

#[tokio::test]
async fn deauthorize_user_revokes_the_grants_and_posts_the_signed_event() {
    let mock = MockDiscord::start().await;
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push((headers, body.to_vec()));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let status = mock.deauthorize_user(&url, seed::ALICE).await.unwrap();
    assert_eq!(status, 204);
    let (headers, body) = seen.lock().unwrap().pop().unwrap();
    assert!(headers.get("origin").is_none() && headers.get("cookie").is_none());
    assert_eq!(headers["content-type"], "application/json");
    let sig = headers["x-signature-ed25519"].to_str().unwrap();
    let ts = headers["x-signature-timestamp"].to_str().unwrap();
    assert!(verifies(&mock.public_key_hex(), sig, ts, &body));
    assert!(mock.user_access_tokens(seed::ALICE).is_empty());
    assert!(
        mock.send_event("https://127.0.0.1:1/x", b"{}")
            .await
            .is_err()
    );
}
