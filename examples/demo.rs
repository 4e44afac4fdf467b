//! The discord-oauth demo app: "Log in with Discord" with an axum server, following
//! the demo's HTTP contract (every variable, route and status; see README.md, "Use a real Discord application").
//!
//! ```sh
//! cargo run --example demo --all-features   # offline: starts the built-in fake Discord
//! DISCORD_CLIENT_ID=... DISCORD_CLIENT_SECRET=... \
//!   DISCORD_REDIRECT_URI=http://127.0.0.1:5000/callback cargo run --example demo --all-features   # real Discord
//! ```
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DISCORD_CLIENT_ID` | application id | unset: start the fake Discord in-process and use it |
//! | `DISCORD_CLIENT_SECRET`, `DISCORD_REDIRECT_URI` | application secret, redirect URI | required with a client id |
//! | `DISCORD_BOT_TOKEN` | bot token for `POST /guilds/{id}/join` | none (the route answers 503) |
//! | `DISCORD_PUBLIC_KEY` | the application's Ed25519 public key (hex), to verify webhook events | with the fake Discord: the fake's key; otherwise none (`POST /discord/events` answers 503) |
//! | `DISCORD_BASE_URL`, `DISCORD_CDN_URL` | roots of Discord and its CDN | `https://discord.com`, `https://cdn.discordapp.com` |
//! | `DISCORD_USERS_CACHE_MAX_LIMIT` | users kept in the cache | 100 |
//! | `SECRET_KEY` | session cookie key (at least 32 bytes) | random per start |
//! | `BIND` | listen address | `127.0.0.1:5000` |
//! | `SESSION_STORE` | where session records live: `cookie`, `memory`, `sqlite:PATH`, `postgres://…`, `redis://…` | `cookie` |
//! | `REDIS_URL` | a Redis every instance shares: rate limits, one refresh, logouts, used login states | unset: all of that in this process (or in a server-side `SESSION_STORE`) |
//! | `RUST_LOG` | log filter | `info` |
//! | `SESSION_RECHECK_MS` | how long a shared store's answer about a session is reused (not in the contract; benchmarks set 0) | 50 |
//! | `TOKIO_WORKER_THREADS` | runtime worker threads | 2 |
//!
//! Routes: `GET /` (page), `GET /health`, `GET /login[?next=]`, `GET /callback`, `GET /me`,
//! `GET /guilds`, `GET /connections`, `POST /guilds/{guild_id}/join`, `POST /logout`,
//! `GET /install[?guild_id=]`, `GET /linked-role`, `POST /discord/events` (Discord's webhook
//! events).
//!
//! The pages, views and handlers' bodies are shared with the actix-web demo
//! (`examples/demo_actix.rs`) in `examples/demo_shared/`; this file is only the axum wiring.
//! The integration tests include this file (`#[path = "../examples/demo.rs"] mod demo;`) and
//! drive [`start`] on a loopback port, the same tests as the actix-web demo.
#![forbid(unsafe_code)]
#![allow(dead_code)] // the tests include this file and use only part of it

#[path = "demo_shared/mod.rs"]
mod shared;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use discord_oauth::axum::{
    DiscordLayer, ErrorPages, ManageGuild, RequireGuildPermission, SameOrigin,
};
use discord_oauth::{DiscordOAuth, DiscordSession, Error};
use discord_oauth_mock::MockDiscord;

use shared::{Reply, Site};
#[allow(unused_imports)] // `redact_query`: for the tests
pub use shared::{StartError, redact_query};

/// The application state shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    site: Arc<Site>,
}

/// A running demo.
pub struct Running {
    /// The address the demo listens on.
    pub addr: SocketAddr,
    /// The fake Discord, when running offline.
    pub fake: Option<MockDiscord>,
    /// The library client the demo uses.
    pub client: DiscordOAuth,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The demo's root URL, e.g. `http://127.0.0.1:5000`.
    pub fn url(&self) -> String {
        format!("http://{}", shared::display_addr(self.addr))
    }
}

/// Builds the configuration and client from `lookup` (the environment in `main`), starting
/// the fake Discord when no `DISCORD_CLIENT_ID` is set, and serves the app on `listener`.
///
/// # Errors
/// A configuration error naming the variable, or a failure to start the fake Discord.
pub async fn start(
    lookup: impl Fn(&str) -> Option<String>,
    listener: tokio::net::TcpListener,
) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let shared::Prepared { client, fake } = shared::prepare(lookup, addr).await?;
    let app = app(client.clone(), fake.is_some())?;
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        addr,
        fake,
        client,
        task,
    })
}

/// The demo's router: every route of the contract behind the request logger, the security
/// headers and the [`DiscordLayer`].
///
/// # Errors
/// When the configured CDN URL cannot be used as a CDN base.
pub fn app(client: DiscordOAuth, offline: bool) -> Result<Router, StartError> {
    let state = AppState {
        site: Arc::new(Site::new(&client, offline)?),
    };
    Ok(Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/login", get(login))
        .route("/callback", get(callback).layer(ErrorPages::html())) // a page for a cancel
        .route("/me", get(me))
        .route("/guilds", get(guilds))
        .route("/connections", get(connections))
        .route("/guilds/{guild_id}/join", post(join))
        .route("/guilds/{guild_id}/manage", get(manage))
        .route("/logout", post(logout))
        .route("/install", get(install))
        .route("/linked-role", get(linked_role))
        .route(
            "/discord/events",
            post(discord_events).layer(axum::Extension(client.clone())),
        )
        .layer(DiscordLayer::new(client))
        .layer(middleware::from_fn_with_state(state.clone(), frame))
        .with_state(state))
}

/// Request log (with `code` and `state` redacted) and security headers, for every route.
async fn frame(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = shared::log_line(req.method().as_str(), req.uri().path(), req.uri().query());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in state.site.security_headers() {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    shared::log_served(line, response.status().as_u16(), started);
    response
}

/// The response of a shared handler's [`Reply`].
fn respond(reply: Reply) -> Response {
    let mut r = Response::new(Body::from(reply.body));
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = r.headers_mut();
    if let Some(ct) = reply.content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if let Some(location) = reply.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(secs) = reply.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

fn done(reply: Result<Reply, Error>) -> Response {
    match reply {
        Ok(reply) => respond(reply),
        Err(e) => e.into_response(),
    }
}

// ----- handlers: the wiring of the shared bodies ----------------------------------------------

async fn health() -> Response {
    respond(shared::health())
}

async fn index(State(state): State<AppState>, session: DiscordSession) -> Response {
    respond(shared::index(&state.site, &session).await)
}

async fn me(State(state): State<AppState>, session: DiscordSession) -> Response {
    done(shared::me(&state.site, &session).await)
}

async fn guilds(State(state): State<AppState>, session: DiscordSession) -> Response {
    done(shared::guilds(&state.site, &session).await)
}

async fn connections(session: DiscordSession) -> Response {
    done(shared::connections(&session).await)
}

async fn login(session: DiscordSession, RawQuery(query): RawQuery) -> Response {
    done(shared::login(&session, query.as_deref()))
}

async fn callback(session: DiscordSession, RawQuery(query): RawQuery) -> Response {
    done(shared::callback(&session, query.as_deref()).await)
}

async fn logout(_same_origin: SameOrigin, session: DiscordSession) -> Response {
    respond(shared::logout(&session).await)
}

async fn join(
    _same_origin: SameOrigin,
    session: DiscordSession,
    Path(guild_id): Path<String>,
) -> Response {
    done(shared::join(&session, &guild_id).await)
}

async fn install(session: DiscordSession, RawQuery(query): RawQuery) -> Response {
    done(shared::install(&session, query.as_deref()))
}

async fn linked_role(session: DiscordSession) -> Response {
    done(shared::linked_role(&session))
}

async fn manage(guard: RequireGuildPermission<ManageGuild>) -> Response {
    respond(shared::manage(&guard.guild))
}

async fn discord_events(
    axum::Extension(client): axum::Extension<DiscordOAuth>,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> Response {
    done(shared::discord_events(&client, &headers, &body).await)
}

// ----- main -----------------------------------------------------------------------------------

fn main() -> std::process::ExitCode {
    shared::main_with(run)
}

async fn run() -> Result<(), StartError> {
    let running = start(|k| std::env::var(k).ok(), shared::bind().await?).await?;
    shared::announce(running.fake.as_ref(), &running.url());
    let Running { task, fake, .. } = running;
    tokio::select! {
        result = task => { result??; }
        _ = tokio::signal::ctrl_c() => { println!("demo: shutting down"); }
    }
    if let Some(fake) = fake {
        fake.shutdown().await;
    }
    Ok(())
}
