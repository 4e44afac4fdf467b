//! The ready-made routes of `DiscordLayer::routes` end to end against the fake Discord (login
//! with `next`, callback, a protected route, logout with and without a cross-site Origin), the
//! minimal example's app, and error pages that fit the request (HTML for a browser, JSON for
//! API clients and requests without `Accept`).
mod common;

#[path = "../examples/minimal.rs"]
mod minimal;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Browser, REDIRECT, client_for, mock};
use discord_oauth::axum::{
    Authorized, DiscordLayer, ErrorPages, LoginRoutes, UnauthorizedBehavior,
};
use discord_oauth::{DiscordOAuth, Error, Prompt, Scope};
use discord_oauth_mock::seed;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Sends `method path` with the browser's cookies and `extra` headers; absorbs its cookies.
async fn send(
    app: &Router,
    browser: &mut Browser,
    method: Method,
    path: &str,
    extra: &[(header::HeaderName, &str)],
) -> Response {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    *req.headers_mut() = browser.headers();
    for (k, v) in extra {
        req.headers_mut()
            .insert(k.clone(), HeaderValue::from_str(v).unwrap());
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    for c in resp.headers().get_all(header::SET_COOKIE) {
        browser.absorb_header(c.to_str().unwrap());
    }
    resp
}

async fn get_(app: &Router, b: &mut Browser, path: &str) -> Response {
    send(app, b, Method::GET, path, &[]).await
}

fn location(resp: &Response) -> String {
    resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn body(resp: Response) -> String {
    String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

fn content_type(resp: &Response) -> String {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `GET /login[?next]` then approval at the fake as `user`: the callback query string.
async fn authorize(app: &Router, b: &mut Browser, login: &str, user: u64) -> String {
    let resp = get_(app, b, login).await;
    assert_eq!(
        resp.status(),
        StatusCode::FOUND,
        "login redirects to Discord"
    );
    let url = url::Url::parse(&location(&resp)).unwrap();
    common::authorize(&url, user).await
}

/// The `state` of a login just started (for a cancelled-login callback).
async fn pending_state(app: &Router, b: &mut Browser) -> String {
    let resp = get_(app, b, "/login").await;
    let url = url::Url::parse(&location(&resp)).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn the_minimal_example_logs_in_serves_me_and_logs_out() {
    let fake = mock().await;
    let app = minimal::app(client_for(&fake));
    let mut b = Browser::default();

    // Logged out: the protected route is 401 JSON.
    let resp = get_(&app, &mut b, "/me").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(content_type(&resp).starts_with("application/json"));

    // Login with next, callback at the redirect URI's path, back to next.
    let login = get_(&app, &mut b, "/login?next=%2Fme").await;
    assert_eq!(login.status(), StatusCode::FOUND);
    let authorize_url = url::Url::parse(&location(&login)).unwrap();
    assert!(authorize_url.path().ends_with("/oauth2/authorize"));
    let scope = authorize_url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(scope, "identify");
    let query = common::authorize(&authorize_url, seed::ALICE).await;
    let back = get_(&app, &mut b, &format!("/callback?{query}")).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    assert_eq!(location(&back), "/me");
    assert_eq!(back.headers()[header::CACHE_CONTROL], "no-store");

    let me = get_(&app, &mut b, "/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = serde_json::from_str(&body(me).await).unwrap();
    assert_eq!(me["id"], seed::ALICE.to_string());

    // A cross-site logout is refused and the session lives on.
    let cross = send(
        &app,
        &mut b,
        Method::POST,
        "/logout",
        &[(header::ORIGIN, "https://evil.example")],
    )
    .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(get_(&app, &mut b, "/me").await.status(), StatusCode::OK);
    assert_eq!(fake.stats().revocations, 0);

    // A same-origin logout (here: no Origin at all) revokes at Discord and ends the session.
    let old = b.clone();
    let out = send(&app, &mut b, Method::POST, "/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), "/");
    assert_eq!(fake.stats().revocations, 1);
    assert_eq!(
        get_(&app, &mut b, "/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut old = old;
    assert_eq!(
        get_(&app, &mut old, "/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the old cookie is dead too"
    );

    // Another method on a ready-made path goes on to the app (here: no such route).
    assert_eq!(
        get_(&app, &mut b, "/logout").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A page app: the guard redirects to the login with `next`, the routes honour it; custom
/// paths, scopes, prompt and landing page after logout.
#[tokio::test]
async fn the_guard_redirect_next_and_the_route_options_are_honoured() {
    let fake = mock().await;
    let client = client_for(&fake);
    let routes = LoginRoutes::new()
        .scopes([Scope::Identify, Scope::Guilds])
        .prompt(Prompt::Consent)
        .login_path("/auth/login")
        .logout_path("/auth/logout")
        .after_logout("/bye");
    let app = Router::new()
        .route(
            "/settings",
            get(|a: Authorized| async move { a.user_id.unwrap_or(0).to_string() }),
        )
        .layer(
            DiscordLayer::new(client)
                .unauthorized(UnauthorizedBehavior::RedirectToLogin("/auth/login".into()))
                .routes(routes),
        );
    let mut b = Browser::default();
    let guarded = get_(&app, &mut b, "/settings?tab=2").await;
    assert_eq!(guarded.status(), StatusCode::FOUND);
    let to_login = location(&guarded);
    assert_eq!(to_login, "/auth/login?next=%2Fsettings%3Ftab%3D2");

    let resp = get_(&app, &mut b, &to_login).await;
    let url = url::Url::parse(&location(&resp)).unwrap();
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(params["scope"], "identify guilds");
    assert_eq!(params["prompt"], "consent");
    let query = common::authorize(&url, seed::ALICE).await;
    let back = get_(&app, &mut b, &format!("/callback?{query}")).await;
    assert_eq!(location(&back), "/settings?tab=2");
    let page = get_(&app, &mut b, "/settings").await;
    assert_eq!(body(page).await, seed::ALICE.to_string());

    // The default /logout is not mounted any more; the configured one lands on /bye.
    assert_eq!(
        send(&app, &mut b, Method::POST, "/logout", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let out = send(
        &app,
        &mut b,
        Method::POST,
        "/auth/logout",
        &[(header::ORIGIN, "http://127.0.0.1:5000")],
    )
    .await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), "/bye");
    // An off-site next is dropped.
    let q = authorize(
        &app,
        &mut b,
        "/auth/login?next=https%3A%2F%2Fevil.example",
        seed::ALICE,
    )
    .await;
    let back = get_(&app, &mut b, &format!("/callback?{q}")).await;
    assert_eq!(location(&back), "/");
}

#[tokio::test]
async fn a_cancelled_login_is_a_page_for_a_browser_and_json_for_an_api() {
    let fake = mock().await;
    let app = minimal::app(client_for(&fake));

    // A browser: 403 with an HTML page naming the cancel and linking to the login and home.
    let mut b = Browser::default();
    let state = pending_state(&app, &mut b).await;
    let page = send(
        &app,
        &mut b,
        Method::GET,
        &format!("/callback?error=access_denied&state={state}"),
        &[(header::ACCEPT, BROWSER_ACCEPT)],
    )
    .await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert_eq!(content_type(&page), "text/html; charset=utf-8");
    let html = body(page).await;
    assert!(html.contains("403 Forbidden"), "{html}");
    assert!(html.contains("You cancelled the login"), "{html}");
    assert!(html.contains("href=\"/login\""), "{html}");
    assert!(html.contains("href=\"/\""), "{html}");

    // An API client asking for JSON, and one sending no Accept: JSON.
    for accept in [
        Some("application/json"),
        Some("application/json, text/html"),
        None,
    ] {
        let mut b = Browser::default();
        let state = pending_state(&app, &mut b).await;
        let extra: Vec<_> = accept.map(|a| (header::ACCEPT, a)).into_iter().collect();
        let resp = send(
            &app,
            &mut b,
            Method::GET,
            &format!("/callback?error=access_denied&state={state}"),
            &extra,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(
            content_type(&resp).starts_with("application/json"),
            "{accept:?}"
        );
        let json: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
        assert_eq!(json["error"], "access_denied");
    }

    // A forged state is a page too (400), with the login link.
    let mut b = Browser::default();
    let resp = send(
        &app,
        &mut b,
        Method::GET,
        "/callback?code=x&state=forged",
        &[(header::ACCEPT, BROWSER_ACCEPT)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body(resp).await.contains("expired or was already used"));
}

fn layered(client: DiscordOAuth, pages: Option<ErrorPages>) -> Router {
    let layer = DiscordLayer::new(client);
    let layer = match pages {
        Some(p) => layer.error_pages(p),
        None => layer,
    };
    Router::new()
        .route(
            "/me",
            get(|a: Authorized| async move { a.user_id.unwrap_or(0).to_string() }),
        )
        .route(
            "/boom",
            get(|| async { Err::<(), Error>(Error::InvalidRequest("<b>\"bad\"</b>".into())) }),
        )
        .route(
            "/own",
            get(|| async { (StatusCode::BAD_REQUEST, "the app's own answer").into_response() }),
        )
        .layer(layer)
}

async fn get_accept(app: &Router, path: &str, accept: Option<&str>) -> Response {
    let mut h = HeaderMap::new();
    if let Some(a) = accept {
        h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
    }
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    *req.headers_mut() = h;
    app.clone().oneshot(req).await.unwrap()
}

#[tokio::test]
async fn the_layer_renders_errors_by_accept_only_when_asked() {
    let fake = mock().await;

    // Default: JSON whatever the request accepts (the API contract).
    let json_app = layered(client_for(&fake), None);
    let resp = get_accept(&json_app, "/me", Some(BROWSER_ACCEPT)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(content_type(&resp).starts_with("application/json"));

    // Built-in pages: HTML for a browser (escaped), JSON otherwise, the app's answers untouched.
    let html_app = layered(client_for(&fake), Some(ErrorPages::html()));
    let resp = get_accept(&html_app, "/me", Some(BROWSER_ACCEPT)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&resp), "text/html; charset=utf-8");
    assert!(body(resp).await.contains("You need to log in"));
    let resp = get_accept(&html_app, "/me", None).await;
    assert!(content_type(&resp).starts_with("application/json"));
    let resp = get_accept(&html_app, "/boom", Some(BROWSER_ACCEPT)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = body(resp).await;
    assert!(
        html.contains("&lt;b&gt;&quot;bad&quot;&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    let resp = get_accept(&html_app, "/own", Some(BROWSER_ACCEPT)).await;
    assert_eq!(body(resp).await, "the app's own answer");

    // The app's template: its body and headers, the error's status.
    let custom = ErrorPages::custom(|e| {
        (
            [(header::CONTENT_TYPE, "text/html")],
            format!("<p>custom {}</p>", e.kind()),
        )
            .into_response()
    });
    let custom_app = layered(client_for(&fake), Some(custom));
    let resp = get_accept(&custom_app, "/me", Some("text/html")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&resp), "text/html");
    assert_eq!(body(resp).await, "<p>custom unauthorized</p>");
    let resp = get_accept(&custom_app, "/me", Some("application/json")).await;
    assert!(content_type(&resp).starts_with("application/json"));
}

/// The routes' callback follows the redirect URI's path; JSON error pages are available to
/// API-only apps.
#[tokio::test]
async fn the_callback_is_at_the_redirect_uri_path() {
    let fake = mock().await;
    assert!(REDIRECT.ends_with("/callback"));
    let app = Router::new().layer(
        DiscordLayer::new(client_for(&fake))
            .routes(LoginRoutes::new().error_pages(ErrorPages::json())),
    );
    let mut b = Browser::default();
    let state = pending_state(&app, &mut b).await;
    let resp = send(
        &app,
        &mut b,
        Method::GET,
        &format!("/callback?error=access_denied&state={state}"),
        &[(header::ACCEPT, BROWSER_ACCEPT)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(content_type(&resp).starts_with("application/json"));
}

#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Mounting the callback elsewhere than the redirect URI's path is reported at mount time;
/// the default (the redirect URI's path) is not.
#[tokio::test]
async fn a_callback_path_other_than_the_redirect_uri_is_reported_when_mounted() {
    let fake = mock().await;
    let client = client_for(&fake);
    let logs = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let _ = DiscordLayer::new(client.clone()).routes(LoginRoutes::new());
        let _ =
            DiscordLayer::new(client.clone()).routes(LoginRoutes::new().callback_path("/callback"));
    });
    let quiet = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!quiet.contains("WARN"), "{quiet}");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let _ = DiscordLayer::new(client).routes(LoginRoutes::new().callback_path("/auth/cb"));
    });
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("WARN"), "{text}");
    assert!(
        text.contains("not the path of DISCORD_REDIRECT_URI"),
        "{text}"
    );
    assert!(
        text.contains("/auth/cb") && text.contains("/callback"),
        "{text}"
    );
}
