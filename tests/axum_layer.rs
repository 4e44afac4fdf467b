//! The axum layer: extractors, guards, error rendering, cookies, cross-site refusal, and bad
//! cookies answered with 401 (never 500).
mod common;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use common::*;
use discord_oauth::Fetch;
use discord_oauth::axum::{
    Authorized, DiscordLayer, RequireAuthorizationLayer, SameOrigin, UnauthorizedBehavior,
};
use discord_oauth::{DiscordOAuth, DiscordSession, Error, LoginOptions, Scope};
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

fn app(client: DiscordOAuth, layer: Option<DiscordLayer>) -> Router {
    let guarded = Router::new()
        .route(
            "/guilds",
            get(|s: DiscordSession| async move {
                s.fetch_guilds(Fetch::Cached)
                    .await
                    .map(|g| g.len().to_string())
                    .map_err(IntoResponse::into_response)
            }),
        )
        .route_layer(RequireAuthorizationLayer::new().scope(Scope::Guilds));
    let plain = Router::new()
        .route("/private", get(|| async { "private" }))
        .route_layer(RequireAuthorizationLayer::new());
    Router::new()
        .route(
            "/me",
            get(|auth: Authorized| async move { auth.user_id.unwrap_or(0).to_string() }),
        )
        .route(
            "/login",
            get(|s: DiscordSession| async move {
                match s.create_session(LoginOptions::new()) {
                    Ok(url) => Redirect::to(url.as_str()).into_response(),
                    Err(e) => e.into_response(),
                }
            }),
        )
        .route(
            "/logout",
            post(|_: SameOrigin, s: DiscordSession| async move {
                s.logout_local().await;
                "bye"
            }),
        )
        .route(
            "/limited",
            get(|| async {
                Err::<(), Error>(Error::RateLimited {
                    retry_after: std::time::Duration::from_millis(2500),
                    global: false,
                    scope: None,
                    bucket: None,
                    message: "You are being rate limited.".into(),
                    json: None,
                    headers: Box::default(),
                })
            }),
        )
        .merge(guarded)
        .merge(plain)
        .layer(layer.unwrap_or_else(|| DiscordLayer::new(client)))
}

async fn call(app: &Router, req: Request<Body>) -> Response {
    app.clone().oneshot(req).await.unwrap()
}

fn get_with(path: &str, headers: &HeaderMap) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    *req.headers_mut() = headers.clone();
    req
}

async fn body_json(resp: Response) -> serde_json::Value {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn authorized_extractor_answers_401_json() {
    let mock = mock().await;
    let client = client_for(&mock);
    let app = app(client.clone(), None);
    let resp = call(&app, get_with("/me", &HeaderMap::new())).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    let body = body_json(resp).await;
    assert!(body.get("error").is_some(), "{body}");

    // With a session: the user id.
    let mut browser = Browser::default();
    let user = mock.users()[0].id;
    login(&client, &mut browser, user, LoginOptions::new()).await;
    let resp = call(&app, get_with("/me", &browser.headers())).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes, user.to_string());
}

#[tokio::test]
async fn redirect_to_login_carries_next() {
    let mock = mock().await;
    let client = client_for(&mock);
    let layer = DiscordLayer::new(client.clone())
        .unauthorized(UnauthorizedBehavior::RedirectToLogin("/login".into()));
    let app = app(client, Some(layer));
    let resp = call(&app, get_with("/me?tab=2", &HeaderMap::new())).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location, "/login?next=%2Fme%3Ftab%3D2");
    let resp = call(&app, get_with("/private", &HeaderMap::new())).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()[header::LOCATION], "/login?next=%2Fprivate");
}

#[tokio::test]
async fn missing_scope_is_403_without_calling_discord() {
    let mock = mock().await;
    let client = client_for(&mock);
    let app = app(client.clone(), None);
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    let before = mock.stats().total_requests;
    let resp = call(&app, get_with("/guilds", &browser.headers())).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body = body_json(resp).await;
    assert!(
        body["message"].as_str().unwrap().contains("guilds"),
        "{body}"
    );
    assert_eq!(mock.stats().total_requests, before, "no call to Discord");

    // Without a session: 401 from the layer.
    let resp = call(&app, get_with("/guilds", &HeaderMap::new())).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // With the scope: the handler runs.
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    let resp = call(&app, get_with("/guilds", &browser.headers())).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn set_cookie_is_added_to_responses() {
    let mock = mock().await;
    let client = client_for(&mock);
    let app = app(client, None);
    let resp = call(&app, get_with("/login", &HeaderMap::new())).await;
    assert!(resp.status().is_redirection());
    let cookies: Vec<&str> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let c = cookies[0];
    assert!(c.starts_with("discord_login="), "{c}");
    assert!(c.contains("HttpOnly"), "{c}");
    assert!(c.contains("SameSite=Lax"), "{c}");
    assert!(c.contains("Path=/"), "{c}");
    assert!(!c.contains("Secure"), "http redirect URI: no Secure");
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn https_redirect_uri_uses_host_prefix_and_secure() {
    let mock = discord_oauth_mock::MockDiscord::builder()
        .redirect_uri("https://app.example/callback")
        .start()
        .await;
    let config = config_for(&mock)
        .redirect_uri("https://app.example/callback")
        .build()
        .unwrap();
    let app = app(DiscordOAuth::new(config).unwrap(), None);
    let resp = call(&app, get_with("/login", &HeaderMap::new())).await;
    let c = resp.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(c.starts_with("__Host-discord_login="), "{c}");
    assert!(c.contains("; Secure"), "{c}");
    assert!(c.contains("Path=/"), "{c}");
    assert!(!c.contains("Domain"), "{c}");
}

#[tokio::test]
async fn rate_limited_renders_503_with_retry_after() {
    let mock = mock().await;
    let app = app(client_for(&mock), None);
    let resp = call(&app, get_with("/limited", &HeaderMap::new())).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
}

fn post_with(path: &str, pairs: &[(&'static str, &str)]) -> Request<Body> {
    let mut req = Request::post(path).body(Body::empty()).unwrap();
    for (k, v) in pairs {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn cross_site_post_is_refused() {
    let mock = mock().await;
    let app = app(client_for(&mock), None);
    let host = ("host", "127.0.0.1:5000");
    for (headers, want) in [
        (vec![host, ("origin", "http://evil.example")], 403),
        (vec![host, ("sec-fetch-site", "cross-site")], 403),
        (vec![host, ("origin", "null")], 403),
        (vec![host], 200),
        (vec![], 200),
        (
            vec![
                host,
                ("origin", "http://127.0.0.1:5000"),
                ("sec-fetch-site", "same-origin"),
            ],
            200,
        ),
    ] {
        let resp = call(&app, post_with("/logout", &headers)).await;
        assert_eq!(resp.status().as_u16(), want, "{headers:?}");
    }
}

#[tokio::test]
async fn garbage_or_oversized_cookies_get_401_never_500() {
    let mock = mock().await;
    let client = client_for(&mock);
    let app = app(client.clone(), None);
    let valid_looking = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        [7u8; 200],
    );
    let values = [
        "garbage!!!".to_owned(),
        String::new(),
        "\"\"".to_owned(),
        "A".repeat(5000),
        "A".repeat(64 * 1024),
        valid_looking,
        "%00%ff".to_owned(),
    ];
    for v in &values {
        for name in ["discord_session", "discord_login"] {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                format!("{name}={v}; other=1").parse().unwrap(),
            );
            for path in ["/me", "/private", "/guilds"] {
                let resp = call(&app, get_with(path, &h)).await;
                assert_eq!(
                    resp.status(),
                    StatusCode::UNAUTHORIZED,
                    "{name} len {} on {path}",
                    v.len()
                );
            }
            // The callback with a garbage pending cookie: 400.
            let s = client.session(&h);
            let err = s.callback("code=x&state=y").await.unwrap_err();
            assert_eq!(err.status(), 400, "{err:?}");
        }
    }
    // Non-UTF-8 cookie bytes.
    let mut h = HeaderMap::new();
    h.insert(
        header::COOKIE,
        http::HeaderValue::from_bytes(b"discord_session=\xff\xfe").unwrap(),
    );
    let resp = call(&app, get_with("/me", &h)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // A bad cookie is cleared.
    let mut h = HeaderMap::new();
    h.insert(header::COOKIE, "discord_session=garbage".parse().unwrap());
    let resp = call(&app, get_with("/me", &h)).await;
    let cleared = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("discord_session=;"));
    assert!(cleared);
}

#[tokio::test]
async fn missing_layer_is_a_clear_500() {
    let app: Router = Router::new().route(
        "/me",
        get(|a: Authorized| async move { a.user_id.is_some().to_string() }),
    );
    let resp = app
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
