//! The axum layer: an arbitrary request (method, path and query, headers including `Cookie`,
//! `Origin`, `Sec-Fetch-Site`, `Host`, `Accept`) through a `Router` with `DiscordLayer`, its
//! ready-made login, callback and logout routes, and a few routes of the app (`/me` behind
//! `Authorized` with the login redirect, `/guilds` behind `RequireAuthorizationLayer`,
//! `/change` behind `SameOrigin`, `/` open).
//!
//! The harness can add what a fuzzer cannot forge: a live session cookie, and the
//! pending-login cookie of a login in progress (`STATE` in the query is then its state).
//!
//! Never a panic, never a 500, and every `Location` either goes to Discord's authorize URL or
//! stays on the app's origin. Offline: the two requests that would call Discord (a logout with
//! a live session, a callback with the real state and a plausible code) are not sent, and no
//! answer is a 502 (Discord unreachable), except a callback carrying Discord's own error.
#![no_main]

#[path = "../common.rs"]
mod common;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use discord_oauth::__fuzz::{self, CookieKind, Sealer};
use discord_oauth::axum::{
    Authorized, DiscordLayer, LoginRoutes, RequireAuthorizationLayer, SameOrigin,
    UnauthorizedBehavior,
};
use discord_oauth::oauth::CallbackQuery;
use discord_oauth::{DiscordSession, LoginOptions, Scope, SessionRecord};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;
use url::Url;

const METHODS: &[&str] = &["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"];
const PATHS: &[&str] = &[
    "/login",
    "/callback",
    "/logout",
    "/me",
    "/guilds",
    "/change",
    "/",
];
const NAMES: &[&str] = &[
    "cookie",
    "origin",
    "sec-fetch-site",
    "host",
    "accept",
    "referer",
    "content-type",
];

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    /// A known path, or `path` as is.
    known_path: Option<u8>,
    path: String,
    query: Option<String>,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
    /// Add a live session cookie.
    with_session: bool,
    /// Add the pending-login cookie of a login in progress.
    with_login: bool,
}

struct Env {
    app: Router,
    authorize: Url,
    origin: Url,
    /// `name=value` of a live session cookie.
    session: String,
    /// `name=value` of a pending-login cookie, and its state.
    login: String,
    state: String,
    rt: tokio::runtime::Runtime,
}

async fn me(auth: Authorized) -> String {
    format!("{:?}", auth.user_id)
}

async fn change(_: SameOrigin, session: DiscordSession) -> &'static str {
    session.logout_local().await;
    "done"
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let client = common::client();
        let record: SessionRecord = serde_json::from_value(serde_json::json!({
            "id": [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
            "version": 1,
            "access_token": "fuzz-access-token",
            "refresh_token": "fuzz-refresh-token",
            "scopes": "identify",
            "user_id": 80_351_110_224_678_912u64,
            "expires_at": common::NOW + 3600,
            "created_at": common::NOW - 60,
            "seen_at": common::NOW - 60,
        }))
        .expect("a record");
        let sealer = Sealer::new(client.config());
        let session = format!(
            "{}={}",
            sealer.name(CookieKind::Session),
            sealer.seal(CookieKind::Session, &__fuzz::encode_record(&record))
        );
        let starting = client.session(&http::HeaderMap::new());
        let url = starting
            .create_session(LoginOptions::new().next("/me"))
            .expect("login");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("a state");
        let login = starting.take_set_cookies()[0]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let authorize = client.config().authorize_url().clone();
        let layer = DiscordLayer::new(client)
            .routes(LoginRoutes::new().scopes([Scope::Identify, Scope::Guilds]))
            .unauthorized(UnauthorizedBehavior::RedirectToLogin("/login".to_owned()));
        let guilds = Router::new()
            .route("/guilds", get(|| async { "guilds" }))
            .layer(RequireAuthorizationLayer::new().scope(Scope::Guilds));
        let app = Router::new()
            .route("/", get(|| async { "home" }))
            .route("/me", get(me))
            .route("/change", post(change))
            .merge(guilds)
            .layer(layer);
        Env {
            app,
            authorize,
            origin: Url::parse(common::ORIGIN).unwrap(),
            session,
            login,
            state,
            rt: common::runtime(),
        }
    })
}

fuzz_target!(|input: Input| {
    let env = env();
    let method =
        Method::from_bytes(METHODS[usize::from(input.method) % METHODS.len()].as_bytes()).unwrap();
    let mut target = match input.known_path {
        Some(i) => PATHS[usize::from(i) % PATHS.len()].to_owned(),
        None => input.path.clone(),
    };
    if let Some(q) = &input.query {
        target.push('?');
        target.push_str(&q.replace("STATE", &env.state));
    }
    let Ok(uri) = target.parse::<http::Uri>() else {
        return;
    };
    // The two requests that would call Discord.
    let query = CallbackQuery::parse(uri.query().unwrap_or(""));
    let exchange = input.with_login
        && query.state() == Some(env.state.as_str())
        && query.error.is_none()
        && query.code().is_some_and(__fuzz::is_plausible_code);
    let callback = uri.path() == "/callback";
    if (callback && exchange) || (uri.path() == "/logout" && input.with_session) {
        return;
    }
    let mut request = Request::builder().method(method).uri(uri);
    if input.with_session {
        request = request.header(header::COOKIE, &env.session);
    }
    if input.with_login {
        request = request.header(header::COOKIE, &env.login);
    }
    for (name, value) in input.headers.iter().take(8) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            let name = HeaderName::from_static(NAMES[usize::from(*name) % NAMES.len()]);
            request = request.header(name, v);
        }
    }
    let Ok(request) = request.body(Body::from(input.body.clone())) else {
        return;
    };
    let response = env
        .rt
        .block_on(env.app.clone().oneshot(request))
        .expect("infallible");
    let status = response.status();
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "500 for {input:?}"
    );
    assert!(
        !matches!(
            status,
            StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
        ) || (callback && query.error.is_some()),
        "{status} (Discord reached?) for {input:?}"
    );
    if let Some(location) = response.headers().get(header::LOCATION) {
        let location = location.to_str().expect("an ASCII Location");
        let joined = env
            .origin
            .join(location)
            .unwrap_or_else(|e| panic!("{location:?}: {e}"));
        let to_discord = joined.as_str().starts_with(env.authorize.as_str());
        assert!(
            to_discord || joined.origin() == env.origin.origin(),
            "{location:?} leaves the app"
        );
    }
});
