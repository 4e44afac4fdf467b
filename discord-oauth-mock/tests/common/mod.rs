//! Helpers shared by the integration tests.
#![allow(dead_code)]

use base64::Engine;
use discord_oauth_mock::{MockDiscord, RateLimitConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://127.0.0.1:1/callback";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A mock with one redirect URI and no rate limits (unless a test wants them).
pub async fn mock() -> MockDiscord {
    MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(RateLimitConfig::disabled())
        .start()
        .await
}

/// Query parameters of a URL.
pub fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

pub fn param(url: &str, k: &str) -> Option<String> {
    query(url).into_iter().find(|(a, _)| a == k).map(|(_, v)| v)
}

pub fn authorize_url(m: &MockDiscord, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.append_pair("client_id", &m.client_id().to_string())
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st4te");
    for (k, v) in extra {
        ser.append_pair(k, v);
    }
    format!("{}/oauth2/authorize?{}", m.base_url(), ser.finish())
}

/// GET authorize and return the Location header (panics if not a redirect).
pub async fn location(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(url).send().await.expect("authorize");
    assert_eq!(r.status(), 302, "expected a redirect from {url}");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Auto-approves as `user` and returns the code.
pub async fn code_for(
    c: &reqwest::Client,
    m: &MockDiscord,
    user: u64,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut e: Vec<(&str, &str)> = extra.to_vec();
    let u = user.to_string();
    e.push(("mock_user", &u));
    let loc = location(c, &authorize_url(m, scope, &e)).await;
    param(&loc, "code").expect("code in redirect")
}

pub async fn exchange(
    c: &reqwest::Client,
    m: &MockDiscord,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(m.token_url())
        .basic_auth(m.client_id(), Some(m.client_secret()))
        .form(form)
        .send()
        .await
        .expect("token request")
}

/// Full login: code + exchange; returns the token JSON.
pub async fn login(c: &reqwest::Client, m: &MockDiscord, user: u64, scope: &str) -> Value {
    let code = code_for(c, m, user, scope, &[]).await;
    let r = exchange(
        c,
        m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub fn access(t: &Value) -> String {
    t["access_token"].as_str().unwrap().to_owned()
}

pub async fn get_bearer(
    c: &reqwest::Client,
    m: &MockDiscord,
    path: &str,
    token: &str,
) -> reqwest::Response {
    c.get(format!("{}{}", m.api_url(), path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub fn pkce_pair(verifier: &str) -> (String, String) {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier.to_owned(), challenge)
}

pub async fn body_json(r: reqwest::Response) -> Value {
    let bytes = r.bytes().await.unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

pub fn unauthorized_body() -> Value {
    serde_json::json!({"message": "401: Unauthorized", "code": 0})
}
