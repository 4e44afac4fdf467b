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
//! The integration tests include this file (`#[path = "../examples/demo.rs"] mod demo;`) and
//! drive [`start`] on a loopback port.
#![forbid(unsafe_code)]
#![allow(dead_code)] // the tests include this file and use only part of it

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use discord_oauth::axum::{DiscordLayer, ErrorPages, SameOrigin};
use discord_oauth::backends::Backends;
use discord_oauth::models::{Cdn, Guild, GuildId, Install, RoleConnection, RoleConnectionValue};
use discord_oauth::permissions::Permissions;
use discord_oauth::{
    AddMemberOptions, Callback, Config, DiscordOAuth, DiscordSession, Error, Fetch, Flow,
    InstallOptions, LoginOptions, Scope,
};
use discord_oauth_mock::MockDiscord;
use serde::Serialize;
use sha2::Digest as _;

/// Default listen address (README.md, "Use a real Discord application").
pub const DEFAULT_BIND: &str = "127.0.0.1:5000";

/// The scopes the demo asks for (README.md, "Use a real Discord application"; `GET /login`).
const SCOPES: [Scope; 5] = [
    Scope::Identify,
    Scope::Email,
    Scope::Guilds,
    Scope::Connections,
    Scope::GuildsJoin,
];

/// The page's only style sheet, inline, allowed by its hash in the CSP.
const STYLE: &str = "\
:root{color-scheme:light dark;font-family:system-ui,sans-serif}\
body{max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.4}\
h1{font-size:1.4rem;margin:0 0 .3rem}\
.note{background:#eef;color:#224;padding:.4rem .7rem;border-radius:6px;font-size:.9rem}\
.error{background:#fee;color:#611;padding:.5rem .8rem;border-radius:6px}\
.profile{display:flex;align-items:center;gap:1rem;margin:1.2rem 0}\
.profile .who{flex:1;min-width:0}\
.profile h2{margin:0;font-size:1.3rem;overflow-wrap:anywhere}\
.avatar{border-radius:50%;background:#5865f2}\
.muted{color:#777;margin:.2rem 0;overflow-wrap:anywhere}\
.guilds{list-style:none;padding:0;display:grid;gap:.4rem}\
.guild{display:flex;align-items:center;gap:.6rem;overflow-wrap:anywhere}\
.icon{border-radius:30%;flex:none;width:40px;height:40px}\
.noicon{display:inline-flex;align-items:center;justify-content:center;background:#99a;color:#fff;font-weight:bold}\
.badge{font-size:.75rem;background:#fc3;color:#000;border-radius:4px;padding:0 .3rem}\
.login,button{display:inline-block;background:#5865f2;color:#fff;border:0;border-radius:6px;\
padding:.6rem 1.1rem;font-size:1rem;text-decoration:none;cursor:pointer}";

/// The demo's error type for start-up.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// The application state shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    cdn: Cdn,
    offline: bool,
    csp: HeaderValue,
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
        format!("http://{}", display_addr(self.addr))
    }
}

fn display_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
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
    let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let (config, fake) = if get("DISCORD_CLIENT_ID").is_none() {
        let redirect = get("DISCORD_REDIRECT_URI")
            .unwrap_or_else(|| format!("http://{}/callback", display_addr(addr)));
        let fake = MockDiscord::builder()
            .redirect_uri(&redirect)
            .try_start()
            .await?;
        let overlay = |k: &str| -> Option<String> {
            match k {
                "DISCORD_CLIENT_ID" => Some(fake.client_id().to_string()),
                "DISCORD_CLIENT_SECRET" => Some(fake.client_secret()),
                "DISCORD_REDIRECT_URI" => Some(redirect.clone()),
                "DISCORD_BOT_TOKEN" => Some(fake.bot_token()),
                "DISCORD_BASE_URL" => Some(fake.base_url()),
                "DISCORD_CDN_URL" => Some(fake.cdn_url()),
                "DISCORD_PUBLIC_KEY" => lookup(k).or_else(|| Some(fake.public_key_hex())),
                _ => lookup(k),
            }
        };
        (Config::from_lookup(overlay)?, Some(fake))
    } else {
        (Config::from_lookup(&lookup)?, None)
    };
    // SESSION_STORE and REDIS_URL: where sessions live and what several instances share.
    let store = get("SESSION_STORE").unwrap_or_else(|| "cookie".to_owned());
    let backends = Backends::connect(&store, get("REDIS_URL").as_deref()).await?;
    tracing::info!(store = backends.kind.name(), "{backends}");
    let mut builder = DiscordOAuth::builder(config).backends(backends);
    // Not in the contract: how long a shared store's answer is reused (benchmarks set 0).
    if let Some(ms) = get("SESSION_RECHECK_MS").and_then(|v| v.trim().parse().ok()) {
        builder = builder.session_recheck(std::time::Duration::from_millis(ms));
    }
    let client = builder.build()?;
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
    let config = client.config();
    let cdn = Cdn::new(config.cdn_url().as_str())?;
    let style_hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
    let csp = format!(
        "default-src 'none'; img-src 'self' {cdn}; style-src 'sha256-{style_hash}'; \
         form-action 'self' {base}; base-uri 'none'; frame-ancestors 'none'",
        cdn = origin_of(config.cdn_url()),
        base = origin_of(config.base_url()),
    );
    let state = AppState {
        inner: Arc::new(Inner {
            cdn,
            offline,
            csp: HeaderValue::from_str(&csp)?,
        }),
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

// ----- middleware -----------------------------------------------------------------------------

/// Request log (with `code` and `state` redacted) and security headers, for every route.
async fn frame(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let log = tracing::enabled!(tracing::Level::INFO);
    let started = Instant::now();
    let line = log.then(|| {
        let uri = req.uri();
        let mut line = format!("{} {}", req.method(), uri.path());
        if let Some(q) = uri.query() {
            line.push('?');
            line.push_str(&redact_query(q));
        }
        line
    });
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, state.inner.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: with it, browsers send `Origin: null` on the page's own form
        // POSTs, which the same-origin check must refuse. `same-origin` keeps the referrer
        // from leaving the site (Discord included) and the Origin of same-site forms intact.
        HeaderValue::from_static("same-origin"),
    );
    if let Some(line) = line {
        tracing::info!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            // The path and query come from the client: escaped, never a raw CR, LF or ESC.
            "{}",
            line.escape_debug()
        );
    }
    response
}

/// The query string with the values of `code` and `state` replaced (they are credentials).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            let decoded: String = url::form_urlencoded::parse(key.as_bytes())
                .map(|(k, _)| k.into_owned())
                .next()
                .unwrap_or_default();
            if matches!(decoded.as_str(), "code" | "state") {
                format!("{key}=[redacted]")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

// ----- helpers --------------------------------------------------------------------------------

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = json_bytes_response(body.into());
            *r.status_mut() = status;
            r
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serializes a view; the views are plain structs of strings and numbers, which always
/// serialize.
fn to_json_bytes<T: Serialize>(value: &T) -> bytes::Bytes {
    serde_json::to_vec(value)
        .map(bytes::Bytes::from)
        .unwrap_or_default()
}

/// `200` with ready JSON bytes.
fn json_bytes_response(body: bytes::Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn redirect(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => {
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    r
}

// ----- JSON views -----------------------------------------------------------------------------

#[derive(Serialize)]
struct MeView<'a> {
    id: String,
    username: &'a str,
    discriminator: &'a str,
    global_name: Option<&'a str>,
    avatar_url: String,
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct GuildView<'a> {
    id: String,
    name: &'a str,
    icon_url: Option<String>,
    owner: bool,
    permissions: String,
}

impl<'a> GuildView<'a> {
    fn new(g: &'a Guild, cdn: &Cdn) -> Self {
        Self {
            id: g.id.get().to_string(),
            name: &g.name,
            icon_url: g.icon_url(cdn).map(String::from),
            owner: g.owner,
            permissions: g.permissions.bits().to_string(),
        }
    }
}

#[derive(Serialize)]
struct ConnectionView<'a> {
    id: &'a str,
    /// `null` when Discord sends none.
    name: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
    verified: bool,
    visibility: u8,
}

// ----- handlers -------------------------------------------------------------------------------

/// `GET /health`: the baseline; goes through every layer but does no session work.
async fn health() -> &'static str {
    "ok"
}

/// `GET /me`: one session decrypt, a cache hit, a JSON write.
async fn me(State(state): State<AppState>, session: DiscordSession) -> Result<Response, Error> {
    // Rendered once per fetch from Discord and memoized with the cached user: the hot path is
    // one cookie decrypt, one cache hit and a write of ready bytes.
    let body = session
        .fetch_user(Fetch::Cached)
        .await?
        .memo("demo/me", |user| {
            to_json_bytes(&MeView {
                id: user.id.get().to_string(),
                username: &user.username,
                discriminator: &user.discriminator,
                global_name: user.global_name.as_deref(),
                avatar_url: user.avatar_url_or_default(&state.inner.cdn).into(),
                email: user.email.as_deref(),
            })
        });
    Ok(json_bytes_response(body))
}

/// `GET /guilds`.
async fn guilds(State(state): State<AppState>, session: DiscordSession) -> Result<Response, Error> {
    let body = session
        .fetch_guilds(Fetch::Cached)
        .await?
        .memo("demo/guilds", |guilds| {
            let views: Vec<GuildView<'_>> = guilds
                .iter()
                .map(|g| GuildView::new(g, &state.inner.cdn))
                .collect();
            to_json_bytes(&views)
        });
    Ok(json_bytes_response(body))
}

/// `GET /connections`.
async fn connections(session: DiscordSession) -> Result<Response, Error> {
    let body =
        session
            .fetch_connections(Fetch::Cached)
            .await?
            .memo("demo/connections", |connections| {
                let views: Vec<ConnectionView<'_>> = connections
                    .iter()
                    .map(|c| ConnectionView {
                        id: &c.id,
                        name: c.name.as_deref(),
                        kind: &c.kind,
                        verified: c.verified,
                        visibility: c.visibility.value(),
                    })
                    .collect();
                to_json_bytes(&views)
            });
    Ok(json_bytes_response(body))
}

/// `GET /login[?next=/local/path]`: 302 to Discord's authorize page.
async fn login(session: DiscordSession, RawQuery(query): RawQuery) -> Result<Response, Error> {
    let next = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned())
    });
    let mut options = LoginOptions::new().scopes(SCOPES);
    if let Some(next) = next {
        // The library keeps local paths only and drops anything else.
        options = options.next(next);
    }
    let url = session.create_session(options)?;
    Ok(redirect(url.as_str()))
}

/// `GET /callback?code&state`: 302 to `next` or `/`; 400 bad state, 403 access denied, 502
/// upstream failure. An install lands on a page naming the guild; a linked-roles login sets
/// the user's role connection, then 302 to `/`.
async fn callback(session: DiscordSession, RawQuery(query): RawQuery) -> Result<Response, Error> {
    let done = session.callback(query.as_deref().unwrap_or("")).await?;
    match &done.flow {
        Flow::Install(install) => Ok(installed_page(install)),
        Flow::LinkedRole => {
            set_role_connection(&session, &done).await?;
            Ok(redirect("/"))
        }
        _ => Ok(redirect(&done.next)),
    }
}

/// `POST /logout`: revokes at Discord (best effort), ends the session, 302 to `/`.
async fn logout(_same_origin: SameOrigin, session: DiscordSession) -> Response {
    let confirmed = session.revoke().await;
    if !confirmed {
        tracing::debug!("logout: Discord did not confirm the revoke (the session is ended anyway)");
    }
    redirect("/")
}

/// `POST /guilds/{guild_id}/join`: 201 with the member, 200 `{}` when already a member.
async fn join(
    _same_origin: SameOrigin,
    session: DiscordSession,
    Path(guild_id): Path<String>,
) -> Result<Response, Error> {
    let guild_id: GuildId = guild_id
        .parse()
        .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))?;
    match session
        .add_to_guild(guild_id, AddMemberOptions::new())
        .await?
    {
        Some(member) => Ok(json_response(StatusCode::CREATED, member.to_json())),
        None => Ok(json_response(StatusCode::OK, &serde_json::json!({}))),
    }
}

// ----- installs and linked roles --------------------------------------------------------------

/// The bot's permissions asked for by `GET /install`: see channels and send messages.
const INSTALL_PERMISSIONS: Permissions =
    Permissions::VIEW_CHANNEL.union(Permissions::SEND_MESSAGES);

/// `GET /install[?guild_id=ID]`: 302 to Discord's authorize page for a guild install of the
/// bot and its commands, pinned to `guild_id` when given (400 when it is not a snowflake).
async fn install(session: DiscordSession, RawQuery(query): RawQuery) -> Result<Response, Error> {
    let mut options = InstallOptions::new().permissions(INSTALL_PERMISSIONS);
    let guild = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "guild_id")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(guild) = guild {
        let guild: GuildId = guild
            .parse()
            .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))?;
        options = options.guild(guild);
    }
    Ok(redirect(session.create_install(options)?.as_str()))
}

/// `GET /linked-role`: 302 to Discord's authorize page with `role_connections.write identify`
/// (no PKCE: Discord refuses it with this scope).
async fn linked_role(session: DiscordSession) -> Result<Response, Error> {
    Ok(redirect(
        session
            .create_session(LoginOptions::linked_role())?
            .as_str(),
    ))
}

/// The user's role connection set by a linked-roles callback: the demo's platform name, the
/// user's name, and one boolean value (`demo_member`).
async fn set_role_connection(session: &DiscordSession, done: &Callback) -> Result<(), Error> {
    let username = done.user.as_ref().map(|u| u.username.clone());
    let connection = RoleConnection::new(
        Some("discord-oauth demo".to_owned()),
        username,
        [("demo_member", RoleConnectionValue::Boolean(true))],
    )?;
    session.update_role_connection(&connection).await?;
    Ok(())
}

/// The page an install lands on, naming the guild (escaped by askama).
#[derive(Template)]
#[template(
    source = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Installed</title>\
<style>{{ style|safe }}</style></head><body><h1>Added to {{ guild }}</h1>\
<p><a class=\"login\" href=\"/\">Back</a></p></body></html>",
    ext = "html"
)]
struct InstalledPage<'a> {
    style: &'a str,
    guild: &'a str,
}

fn installed_page(install: &Install) -> Response {
    let page = InstalledPage {
        style: STYLE,
        guild: install.guild_name().unwrap_or("your account"),
    };
    match page.render() {
        Ok(html) => {
            let mut r = Response::new(Body::from(html));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /guilds/{guild_id}/manage`: 200 `{id, name, permissions, owner,
/// effective_permissions}` when the user owns the guild or has ADMINISTRATOR or MANAGE_GUILD
/// there (`permissions` as Discord lists them, like `GET /guilds`; the effective ones count the
/// owner and ADMINISTRATOR as every permission); 403 otherwise, also when not a member; 400 for
/// an id that is not a snowflake; 401 without a session. Answered from the users cache.
async fn manage(
    guard: discord_oauth::axum::RequireGuildPermission<discord_oauth::axum::ManageGuild>,
) -> Response {
    #[derive(Serialize)]
    struct ManageView<'a> {
        id: String,
        name: &'a str,
        permissions: String,
        owner: bool,
        effective_permissions: String,
    }
    let access = &guard.guild;
    json_response(
        StatusCode::OK,
        &ManageView {
            id: access.id().get().to_string(),
            name: access.name(),
            permissions: access.guild.permissions.to_string(),
            owner: access.is_owner(),
            effective_permissions: access.permissions.to_string(),
        },
    )
}

/// `POST /discord/events`: Discord's webhook events, from Discord's servers (no same-origin
/// check: they carry no `Origin`). 204 for a signed event (a `PING`; `APPLICATION_DEAUTHORIZED`
/// ends every session of the user), 401 for a missing or bad signature, 503 without
/// `DISCORD_PUBLIC_KEY`. The signature covers the raw body bytes, taken as they came.
async fn discord_events(
    axum::Extension(client): axum::Extension<DiscordOAuth>,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> Result<StatusCode, Error> {
    Ok(client.handle_event(&headers, &body).await?.status())
}

// ----- the page -------------------------------------------------------------------------------

struct UserCard {
    display_name: String,
    username: String,
    email: Option<String>,
    avatar_url: String,
}

struct GuildCard {
    id: String,
    name: String,
    icon_url: Option<String>,
    initial: String,
    owner: bool,
    /// Whether `GET /guilds/{id}/manage` lets the user through (owner, ADMINISTRATOR, MANAGE_GUILD).
    manage: bool,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    style: &'a str,
    offline: bool,
    error: Option<String>,
    user: Option<UserCard>,
    guilds: Vec<GuildCard>,
}

fn page(state: &AppState, status: StatusCode, mut page: IndexPage<'_>) -> Response {
    page.style = STYLE;
    page.offline = state.inner.offline;
    match page.render() {
        Ok(html) => {
            let mut r = Response::new(Body::from(html));
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn empty_page(error: Option<String>) -> IndexPage<'static> {
    IndexPage {
        style: STYLE,
        offline: false,
        error,
        user: None,
        guilds: Vec::new(),
    }
}

/// `GET /`: the login link, or the user's avatar, name and guilds.
async fn index(State(state): State<AppState>, session: DiscordSession) -> Response {
    match session.record().await {
        Ok(Some(_)) => {}
        Ok(None) => return page(&state, StatusCode::OK, empty_page(None)),
        Err(e) => return error_page(&state, e),
    }
    let (user, guilds) = tokio::join!(
        session.fetch_user(Fetch::Cached),
        session.fetch_guilds(Fetch::Cached)
    );
    let user = match user {
        Ok(u) => u,
        Err(Error::Unauthorized) => return page(&state, StatusCode::OK, empty_page(None)),
        Err(e) => return error_page(&state, e),
    };
    let guilds = match guilds {
        Ok(g) => Some(g),
        Err(Error::Unauthorized) => return page(&state, StatusCode::OK, empty_page(None)),
        // A linked-roles login grants no `guilds`: no list.
        Err(Error::MissingScope(_)) => None,
        Err(e) => return error_page(&state, e),
    };
    let cdn = &state.inner.cdn;
    let card = UserCard {
        display_name: user.display_name().to_owned(),
        username: user.username.clone(),
        email: user.email.clone(),
        avatar_url: user.avatar_url_or_default(cdn).into(),
    };
    let guilds = guilds
        .iter()
        .flat_map(|g| g.iter())
        .map(|g| GuildCard {
            id: g.id.get().to_string(),
            name: g.name.clone(),
            icon_url: g.icon_url(cdn).map(String::from),
            initial: g.name.chars().next().map(String::from).unwrap_or_default(),
            owner: g.owner,
            manage: discord_oauth::api::GuildAccess::allows(
                g,
                discord_oauth::permissions::Permissions::MANAGE_GUILD,
            ),
        })
        .collect();
    page(
        &state,
        StatusCode::OK,
        IndexPage {
            style: STYLE,
            offline: false,
            error: None,
            user: Some(card),
            guilds,
        },
    )
}

/// The page with an error notice, the error's status and its `Retry-After`; the session is
/// kept (a Discord outage never logs anyone out).
fn error_page(state: &AppState, e: Error) -> Response {
    let status = e.status();
    let retry = e.retry_after();
    tracing::warn!(error = %e, status = status.as_u16(), "page: Discord call failed");
    let message = if e.is_rate_limited() {
        "Discord is rate limiting this app; try again in a moment.".to_owned()
    } else {
        format!("Discord could not be reached or answered badly ({status}); try again.")
    };
    let mut r = page(state, status, empty_page(Some(message)));
    if let Some(wait) = retry {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

// ----- main -----------------------------------------------------------------------------------

fn main() -> std::process::ExitCode {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let threads = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), StartError> {
    let bind = std::env::var("BIND")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let listener = tokio::net::TcpListener::bind(bind.trim())
        .await
        .map_err(|e| format!("cannot listen on BIND={bind}: {e}"))?;
    let running = start(|k| std::env::var(k).ok(), listener).await?;
    match &running.fake {
        Some(fake) => println!(
            "discord-oauth demo (offline, fake Discord at {}): open {}",
            fake.base_url(),
            running.url()
        ),
        None => println!("discord-oauth demo: open {}", running.url()),
    }
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
