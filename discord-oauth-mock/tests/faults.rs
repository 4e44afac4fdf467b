//! Faults on demand (status, 429, delay, malformed body, dropped connection) and the HTTP control API.

mod common;
use common::*;
use discord_oauth_mock::{Fault, seed};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ME: &str = "GET /api/v10/users/@me";

#[tokio::test]
async fn status_fault_for_the_next_n_requests() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    m.inject_fault(ME, Fault::Status(500), 2);
    for _ in 0..2 {
        let r = get_bearer(&c, &m, "/users/@me", &t).await;
        assert_eq!(r.status(), 500);
        assert_eq!(
            body_json(r).await,
            json!({"message": "500: Internal Server Error", "code": 0})
        );
    }
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 200);
    // Other routes are not affected; faults queue in order.
    m.inject_fault(ME, Fault::Status(502), 1);
    m.inject_fault(ME, Fault::Status(503), 1);
    assert_eq!(get_bearer(&c, &m, "/oauth2/@me", &t).await.status(), 200);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 502);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 503);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 200);
    assert_eq!(m.stats().faults_served, 4);
}

#[tokio::test]
async fn token_endpoint_fault() {
    let m = mock().await;
    let c = client();
    m.inject_fault("POST /api/v10/oauth2/token", Fault::Status(503), 1);
    let code = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    assert_eq!(exchange(&c, &m, &form).await.status(), 503);
    // The fault did not consume the code.
    assert_eq!(exchange(&c, &m, &form).await.status(), 200);
}

#[tokio::test]
async fn rate_limited_fault() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    m.inject_fault(
        ME,
        Fault::RateLimited {
            retry_after: 1.5,
            global: false,
            scope: "shared".into(),
        },
        1,
    );
    m.inject_fault(
        ME,
        Fault::RateLimited {
            retry_after: 64.57,
            global: true,
            scope: "global".into(),
        },
        1,
    );
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["x-ratelimit-scope"], "shared");
    // The route's headers, as a real per-route or shared 429 carries them.
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(r.headers()["x-ratelimit-reset-after"], "1.500");
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-reset",
        "x-ratelimit-bucket",
    ] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    assert_eq!(
        body_json(r).await,
        json!({"message": "The resource is being rate limited.", "retry_after": 1.5, "global": false, "code": 0})
    );
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.headers()["retry-after"], "65");
    assert_eq!(r.headers()["x-ratelimit-global"], "true");
    // A global 429 carries no route headers (Discord's example).
    assert!(!r.headers().contains_key("x-ratelimit-bucket"));
    assert_eq!(
        body_json(r).await,
        json!({"message": "You are being rate limited.", "retry_after": 64.57, "global": true, "code": 0})
    );
    assert_eq!(m.stats().rate_limited_on(ME), 2);
}

#[tokio::test]
async fn delay_fault_then_normal_answer() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    m.inject_fault(ME, Fault::Delay(Duration::from_millis(150)), 1);
    let start = Instant::now();
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status(), 200);
    assert_eq!(body_json(r).await["id"], seed::ALICE.to_string());
}

#[tokio::test]
async fn malformed_body_fault() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    m.inject_fault(ME, Fault::MalformedBody, 1);
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let bytes = r.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
}

#[tokio::test]
async fn drop_connection_fault() {
    let m = mock().await;
    m.inject_fault("*", Fault::DropConnection, 1);
    // Raw TCP: the server closes without writing a single byte.
    let addr = m.base_url().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /api/v10/users/@me HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("closed in time");
    assert!(
        n.is_err() || buf.is_empty(),
        "got an answer: {:?}",
        String::from_utf8_lossy(&buf)
    );
    // reqwest sees a transport error; the next request is normal.
    let c = client();
    m.inject_fault(ME, Fault::DropConnection, 1);
    let e = c
        .get(format!("{}/users/@me", m.api_url()))
        .send()
        .await
        .unwrap_err();
    assert!(!e.is_status());
    assert_eq!(
        c.get(format!("{}/users/@me", m.api_url()))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn http_control_api() {
    let m = mock().await;
    let c = client();
    let base = m.base_url();
    let cfg: Value = c
        .get(format!("{base}/_mock/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["client_id"], m.client_id().to_string());
    // Auto-approve over HTTP.
    let r = c
        .post(format!("{base}/_mock/auto-approve"))
        .json(&json!({"user_id": seed::NELLY.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let loc = location(&c, &authorize_url(&m, "identify", &[])).await;
    assert!(param(&loc, "code").is_some());
    c.post(format!("{base}/_mock/auto-approve"))
        .json(&json!({"user_id": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get(authorize_url(&m, "identify", &[]))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Faults over HTTP.
    for fault in [
        json!({"status": 418}),
        json!("malformed_body"),
        json!({"rate_limited": {"retry_after": 0.5, "global": false, "scope": "user"}}),
    ] {
        let r = c
            .post(format!("{base}/_mock/faults"))
            .json(&json!({"route": ME, "fault": fault, "times": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{fault}");
    }
    let r = c
        .post(format!("{base}/_mock/faults"))
        .json(&json!({"route": ME, "fault": "nonsense"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        c.get(format!("{}/users/@me", m.api_url()))
            .send()
            .await
            .unwrap()
            .status(),
        418
    );
    c.delete(format!("{base}/_mock/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get(format!("{}/users/@me", m.api_url()))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // Token lifetime, tokens, expire, revoke.
    c.post(format!("{base}/_mock/token-lifetime"))
        .json(&json!({"seconds": 120}))
        .send()
        .await
        .unwrap();
    let t = login(&c, &m, seed::ALICE, "identify").await;
    assert_eq!(t["expires_in"], 120);
    let toks: Value = c
        .get(format!("{base}/_mock/tokens/{}", seed::ALICE))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(toks[0]["access_token"], t["access_token"]);
    c.post(format!("{base}/_mock/expire/{}", seed::ALICE))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t)).await.status(),
        401
    );
    let t = login(&c, &m, seed::ALICE, "identify").await;
    let r: Value = c
        .post(format!("{base}/_mock/revoke/{}", seed::ALICE))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["tokens_revoked"].as_u64().unwrap() >= 2);
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t)).await.status(),
        401
    );
    // Redirect URIs.
    c.post(format!("{base}/_mock/redirect-uris"))
        .json(&json!({"uri": "http://127.0.0.1:7/cb"}))
        .send()
        .await
        .unwrap();
    assert!(
        m.redirect_uris()
            .contains(&"http://127.0.0.1:7/cb".to_owned())
    );
    // Seed data and stats.
    let users: Value = c
        .get(format!("{base}/_mock/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), m.users().len());
    let guilds: Value = c
        .get(format!("{base}/_mock/guilds"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(guilds.as_array().unwrap().len(), m.guilds().len());
    let stats: Value = c
        .get(format!("{base}/_mock/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["total_requests"].as_u64().unwrap() > 0);
    assert_eq!(stats["grants"]["authorization_code"], 2);
    // Rate limits on/off.
    c.post(format!("{base}/_mock/rate-limits"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    let r = c
        .get(format!("{}/users/@me", m.api_url()))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("x-ratelimit-limit").is_some());
    // Reset.
    c.post(format!("{base}/_mock/reset")).send().await.unwrap();
    let stats: Value = c
        .get(format!("{base}/_mock/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total_requests"], 0);
    assert_eq!(m.stats(), Default::default());
}
