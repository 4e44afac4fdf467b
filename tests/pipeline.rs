//! The HTTP pipeline (foundation issue): route guard, no redirects, error mapping, deadline,
//! User-Agent and payload decoding, against tiny local axum servers on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap as AxHeaders, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use discord_oauth::error::RateLimitScope;
use discord_oauth::http::Payload;
use discord_oauth::ratelimit::PassThrough;
use discord_oauth::{Config, DiscordOAuth, Error};
use http::{Method, StatusCode};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    format!("http://{addr}")
}

/// A client with the pass-through limiter, to see Discord's raw answers mapped.
fn client(base: &str, timeout: Duration) -> DiscordOAuth {
    let config = Config::builder()
        .client_id(1)
        .client_secret("s")
        .redirect_uri("http://127.0.0.1/cb")
        .bot_token("t")
        .base_url(base)
        .request_timeout(timeout)
        .build()
        .unwrap();
    DiscordOAuth::builder(config)
        .limiter(Arc::new(PassThrough))
        .build()
        .unwrap()
}

fn answer(status: u16, content_type: &str, body: &str, extra: &[(&'static str, &str)]) -> Response {
    let mut h = AxHeaders::new();
    if !content_type.is_empty() {
        h.insert("content-type", content_type.parse().unwrap());
    }
    for (k, v) in extra {
        h.insert(*k, v.parse().unwrap());
    }
    (AxStatus::from_u16(status).unwrap(), h, body.to_owned()).into_response()
}

/// A server that always gives the same answer and counts hits.
async fn fixed(
    status: u16,
    content_type: &'static str,
    body: &'static str,
    extra: &'static [(&'static str, &'static str)],
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            answer(status, content_type, body, extra)
        }
    });
    (serve(router).await, hits)
}

const JSON: &str = "application/json";

#[tokio::test]
async fn route_guard_rejects_escapes_before_any_request() {
    let (base, hits) = fixed(200, JSON, "{}", &[]).await;
    let discord = client(&base, Duration::from_secs(5));
    for route in [
        format!("{base}/api/v10/users/@me"),
        "https://evil.example/users/@me".to_owned(),
        "//evil.example/users/@me".to_owned(),
        "/users/../../oauth2/token".to_owned(),
        "/users/%2e%2e/x".to_owned(),
    ] {
        let r = discord.bot_request(Method::GET, route.clone()).send().await;
        assert!(matches!(r, Err(Error::InvalidRoute(_))), "{route}: {r:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // A good route does reach the server.
    discord
        .bot_request(Method::GET, "/users/@me")
        .send()
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let (elsewhere, elsewhere_hits) = fixed(200, JSON, "{}", &[]).await;
    let target = format!("{elsewhere}/steal");
    let router = Router::new().fallback(move || {
        let target = target.clone();
        async move { answer(302, "", "", &[("location", &target)]) }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(5));
    let r = discord.bot_request(Method::GET, "/users/@me").send().await;
    match r {
        Err(Error::Api { status, .. }) => assert_eq!(status, StatusCode::FOUND),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the bot token went nowhere else"
    );
}

#[tokio::test]
async fn bot_401_is_bot_unauthorized() {
    let (base, _) = fixed(
        401,
        JSON,
        r#"{"message":"401: Unauthorized","code":0}"#,
        &[],
    )
    .await;
    let r = client(&base, Duration::from_secs(5))
        .bot_request(Method::GET, "/users/@me")
        .send()
        .await;
    assert!(matches!(r, Err(Error::BotUnauthorized)), "{r:?}");
    assert_eq!(r.unwrap_err().status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn forbidden_with_code_50025() {
    let (base, _) = fixed(
        403,
        JSON,
        r#"{"message":"Invalid OAuth2 access token","code":50025}"#,
        &[],
    )
    .await;
    let r = client(&base, Duration::from_secs(5))
        .bot_request(Method::PUT, "/guilds/1/members/2")
        .json(&serde_json::json!({"access_token": "x"}))
        .send()
        .await;
    match r {
        Err(Error::Api {
            status,
            code,
            ref message,
            ..
        }) => {
            assert_eq!((status, code), (StatusCode::FORBIDDEN, 50025));
            assert_eq!(message, "Invalid OAuth2 access token");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn not_found() {
    let (base, _) = fixed(
        404,
        JSON,
        r#"{"message":"Unknown Guild","code":10004}"#,
        &[],
    )
    .await;
    let r = client(&base, Duration::from_secs(5))
        .bot_request(Method::GET, "/guilds/1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(r.api_code(), Some(10004));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rate_limited_per_route_json() {
    let (base, hits) = fixed(
        429,
        JSON,
        r#"{"message":"You are being rate limited.","retry_after":64.57,"global":false}"#,
        &[
            ("retry-after", "65"),
            ("x-ratelimit-limit", "10"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "64.57"),
            ("x-ratelimit-bucket", "abcd1234"),
            ("x-ratelimit-scope", "user"),
        ],
    )
    .await;
    let r = client(&base, Duration::from_secs(2))
        .bot_request(Method::GET, "/guilds/1")
        .send()
        .await;
    match r {
        Err(Error::RateLimited {
            retry_after,
            global,
            scope,
            bucket,
            message,
            json,
            headers,
        }) => {
            assert_eq!(retry_after, Duration::from_secs_f64(64.57), "float seconds");
            assert!(!global);
            assert_eq!(scope, Some(RateLimitScope::User));
            assert_eq!(bucket.as_deref(), Some("abcd1234"));
            assert_eq!(message, "You are being rate limited.");
            assert!(json.is_some());
            assert_eq!(headers.get("retry-after").unwrap(), "65");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a wait beyond the deadline is not attempted"
    );
}

#[tokio::test]
async fn rate_limited_global_json() {
    let (base, _) = fixed(
        429,
        JSON,
        r#"{"message":"You are being rate limited.","retry_after":1336.57,"global":true}"#,
        &[
            ("retry-after", "1337"),
            ("x-ratelimit-global", "true"),
            ("x-ratelimit-scope", "global"),
        ],
    )
    .await;
    let e = client(&base, Duration::from_secs(2))
        .bot_request(Method::GET, "/guilds/1")
        .send()
        .await
        .unwrap_err();
    match e {
        Error::RateLimited {
            retry_after,
            global,
            scope,
            ..
        } => {
            assert_eq!(retry_after, Duration::from_secs_f64(1336.57));
            assert!(global);
            assert_eq!(scope, Some(RateLimitScope::Global));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_non_json_body() {
    // A Cloudflare ban page: HTML, no JSON; still a typed RateLimited from Retry-After.
    let (base, _) = fixed(
        429,
        "text/html",
        "<html><body>Error 1015: You are being rate limited</body></html>",
        &[("retry-after", "120")],
    )
    .await;
    let e = client(&base, Duration::from_secs(2))
        .bot_request(Method::GET, "/guilds/1")
        .send()
        .await
        .unwrap_err();
    match e {
        Error::RateLimited {
            retry_after, json, ..
        } => {
            assert_eq!(retry_after, Duration::from_secs(120));
            assert!(json.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_error_maps_to_upstream_failure() {
    let (base, hits) = fixed(
        500,
        JSON,
        r#"{"message":"Internal Server Error","code":0}"#,
        &[],
    )
    .await;
    let e = client(&base, Duration::from_secs(5))
        .bot_request(Method::POST, "/channels/1/messages")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_upstream_failure(), "{e:?}");
    assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    assert!(matches!(e, Error::Api { status, .. } if status == StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let (base, _) = fixed(200, JSON, r#"{"id": "1", "username": "#, &[]).await;
    let discord = client(&base, Duration::from_secs(5));
    let r: Result<serde_json::Value, _> = discord
        .bot_request(Method::GET, "/users/@me")
        .send_json()
        .await;
    match r {
        Err(Error::Decode { route, .. }) => assert_eq!(route, "/users/@me"),
        other => panic!("{other:?}"),
    }
    let r = discord
        .bot_request(Method::GET, "/users/@me")
        .send_payload()
        .await;
    assert!(matches!(r, Err(Error::Decode { .. })), "{r:?}");
}

#[tokio::test]
async fn deadline_gives_timeout() {
    let router = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        answer(200, JSON, "{}", &[])
    });
    let base = serve(router).await;
    let r = client(&base, Duration::from_millis(400))
        .bot_request(Method::POST, "/channels/1/messages")
        .send()
        .await;
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
}

#[tokio::test]
async fn user_agent_has_the_discordbot_form() {
    let seen = Arc::new(Mutex::new(None::<String>));
    let s = seen.clone();
    let router = Router::new().fallback(move |headers: AxHeaders| {
        let s = s.clone();
        async move {
            *s.lock().unwrap() = headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            answer(200, JSON, "{}", &[])
        }
    });
    let base = serve(router).await;
    client(&base, Duration::from_secs(5))
        .request(Method::GET, "/gateway")
        .send()
        .await
        .unwrap();
    let ua = seen.lock().unwrap().clone().unwrap();
    assert!(ua.starts_with("DiscordBot ("), "{ua}");
    assert!(ua.contains(", ") && ua.contains(')'), "{ua}");
}

#[tokio::test]
async fn payload_json_or_text_by_content_type() {
    let router = Router::new()
        .route(
            "/api/v10/json",
            axum::routing::get(|| async { answer(200, JSON, r#"{"a":1}"#, &[]) }),
        )
        .route(
            "/api/v10/text",
            axum::routing::get(|| async { answer(200, "text/plain; charset=utf-8", "hello", &[]) }),
        )
        .route(
            "/api/v10/empty",
            axum::routing::delete(|| async { answer(204, "", "", &[]) }),
        );
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(5));
    let p = discord
        .request(Method::GET, "/json")
        .send_payload()
        .await
        .unwrap();
    assert_eq!(p, Payload::Json(serde_json::json!({"a": 1})));
    let p = discord
        .request(Method::GET, "/text")
        .send_payload()
        .await
        .unwrap();
    assert_eq!(p, Payload::Text("hello".into()));
    let p = discord
        .request(Method::DELETE, "/empty")
        .send_payload()
        .await
        .unwrap();
    assert_eq!(p, Payload::Empty);
}
