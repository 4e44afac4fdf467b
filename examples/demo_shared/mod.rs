//! What the two demo apps share, framework-neutral: the environment and the client
//! ([`prepare`]), the page and its templates, the JSON views, the request log with `code` and
//! `state` redacted, the security headers, and every handler's body as a function of (site,
//! session, input) giving a neutral [`Reply`]. `examples/demo.rs` (axum) and
//! `examples/demo_actix.rs` (actix-web) include this file and differ only in the wiring.
#![allow(dead_code)] // each demo and the tests use part of it

use std::net::SocketAddr;

use askama::Template;
use base64::Engine as _;
use bytes::Bytes;
use discord_oauth::backends::Backends;
use discord_oauth::models::{Cdn, Guild, GuildId, Install, RoleConnection, RoleConnectionValue};
use discord_oauth::permissions::Permissions;
use discord_oauth::{
    AddMemberOptions, Callback, DiscordOAuth, DiscordSession, Error, Fetch, Flow, InstallOptions,
    LoginOptions, Scope,
};
use discord_oauth_mock::MockDiscord;
use serde::Serialize;
use sha2::Digest as _;

/// Default listen address (README.md, "Use a real Discord application").
pub const DEFAULT_BIND: &str = "127.0.0.1:5000";

/// The scopes the demo asks for (README.md, "Use a real Discord application"; `GET /login`).
pub const SCOPES: [Scope; 5] = [
    Scope::Identify,
    Scope::Email,
    Scope::Guilds,
    Scope::Connections,
    Scope::GuildsJoin,
];

/// The page's only style sheet, inline, allowed by its hash in the CSP.
pub const STYLE: &str = "\
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

/// The bot's permissions asked for by `GET /install`: see channels and send messages.
pub const INSTALL_PERMISSIONS: Permissions =
    Permissions::VIEW_CHANNEL.union(Permissions::SEND_MESSAGES);

/// The demo's error type for start-up.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// The address to show for `addr` (loopback for an unspecified address).
pub fn display_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// The client, and the fake Discord when running offline.
pub struct Prepared {
    /// The library client.
    pub client: DiscordOAuth,
    /// The fake Discord, when running offline.
    pub fake: Option<MockDiscord>,
}

/// Builds the configuration and client from `lookup` (the environment in `main`), starting the
/// fake Discord when no `DISCORD_CLIENT_ID` is set; `addr` is where the demo listens.
///
/// # Errors
/// A configuration error naming the variable, or a failure to start the fake Discord or to
/// reach `SESSION_STORE` / `REDIS_URL`.
pub async fn prepare(
    lookup: impl Fn(&str) -> Option<String>,
    addr: SocketAddr,
) -> Result<Prepared, StartError> {
    use discord_oauth::Config;
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
    // A redirect URI that cannot bring users back here is said at start, not after consent (a
    // warning: a port forwarded in front of the demo makes a different port right).
    if let Err(e) = config.check_listener(addr) {
        tracing::warn!("{e}");
    }
    // SESSION_STORE and REDIS_URL: where sessions live and what several instances share.
    let store = get("SESSION_STORE").unwrap_or_else(|| "cookie".to_owned());
    let backends = Backends::connect(&store, get("REDIS_URL").as_deref()).await?;
    tracing::info!(store = backends.kind.name(), "{backends}");
    let mut builder = DiscordOAuth::builder(config).backends(backends);
    // Not in the contract: how long a shared store's answer is reused (benchmarks set 0).
    if let Some(ms) = get("SESSION_RECHECK_MS").and_then(|v| v.trim().parse().ok()) {
        builder = builder.session_recheck(std::time::Duration::from_millis(ms));
    }
    Ok(Prepared {
        client: builder.build()?,
        fake,
    })
}

/// What every handler shares: the CDN, whether offline, the security headers.
pub struct Site {
    cdn: Cdn,
    offline: bool,
    csp: String,
}

impl Site {
    /// The site of `client`.
    ///
    /// # Errors
    /// When the configured CDN URL cannot be used as a CDN base.
    pub fn new(client: &DiscordOAuth, offline: bool) -> Result<Self, StartError> {
        let config = client.config();
        let cdn = Cdn::new(config.cdn_url().as_str())?;
        let style_hash =
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        let csp = format!(
            "default-src 'none'; img-src 'self' {cdn}; style-src 'sha256-{style_hash}'; \
             form-action 'self' {base}; base-uri 'none'; frame-ancestors 'none'",
            cdn = origin_of(config.cdn_url()),
            base = origin_of(config.base_url()),
        );
        Ok(Self { cdn, offline, csp })
    }

    /// The headers of every response: the CSP, `nosniff`, and the referrer policy.
    pub fn security_headers(&self) -> [(&'static str, &str); 3] {
        [
            ("content-security-policy", &self.csp),
            ("x-content-type-options", "nosniff"),
            // Not `no-referrer`: with it, browsers send `Origin: null` on the page's own form
            // POSTs, which the same-origin check must refuse. `same-origin` keeps the referrer
            // from leaving the site (Discord included) and the Origin of same-site forms intact.
            ("referrer-policy", "same-origin"),
        ]
    }
}

// ----- the request log ------------------------------------------------------------------------

/// The request log's line: method, path and query with `code` and `state` redacted, escaped
/// (the path and query come from the client: never a raw CR, LF or ESC). `None` when the log
/// is off.
pub fn log_line(method: &str, path: &str, query: Option<&str>) -> Option<String> {
    tracing::enabled!(tracing::Level::INFO).then(|| {
        let mut line = format!("{method} {path}");
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            line.push('?');
            line.push_str(&redact_query(q));
        }
        line.escape_debug().to_string()
    })
}

/// Logs a served request.
pub fn log_served(line: Option<String>, status: u16, started: std::time::Instant) {
    if let Some(line) = line {
        tracing::info!(
            status,
            micros = started.elapsed().as_micros() as u64,
            "{line}"
        );
    }
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

// ----- the neutral answer ---------------------------------------------------------------------

/// A handler's answer, turned into a response by each demo's wiring.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<&'static str>,
    /// `Location`, for a redirect.
    pub location: Option<String>,
    /// `Retry-After` in seconds.
    pub retry_after: Option<u64>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    fn new(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            location: None,
            retry_after: None,
            body: Bytes::new(),
        }
    }

    /// `200` with ready JSON bytes.
    pub fn json_bytes(body: Bytes) -> Self {
        Self {
            content_type: Some("application/json"),
            body,
            ..Self::new(200)
        }
    }

    /// `status` with `value` as JSON (500 if it does not serialize).
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                ..Self::json_bytes(body.into())
            },
            Err(_) => Self::new(500),
        }
    }

    /// `status` with an HTML page.
    pub fn html(status: u16, html: String) -> Self {
        Self {
            content_type: Some("text/html; charset=utf-8"),
            body: html.into(),
            ..Self::new(status)
        }
    }

    /// `200` with plain text.
    pub fn text(text: &'static str) -> Self {
        Self {
            content_type: Some("text/plain; charset=utf-8"),
            body: Bytes::from_static(text.as_bytes()),
            ..Self::new(200)
        }
    }

    /// `302` to `location` (to `/` when it is not a valid header value).
    pub fn redirect(location: &str) -> Self {
        let valid = location
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
        Self {
            location: Some(if valid { location } else { "/" }.to_owned()),
            ..Self::new(302)
        }
    }

    /// An empty answer with `status`.
    pub fn empty(status: u16) -> Self {
        Self::new(status)
    }
}

// ----- JSON views -----------------------------------------------------------------------------

/// Serializes a view; the views are plain structs of strings and numbers, which always
/// serialize.
fn to_json_bytes<T: Serialize>(value: &T) -> Bytes {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_default()
}

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
pub fn health() -> Reply {
    Reply::text("ok")
}

/// `GET /me`: one session decrypt, a cache hit, a JSON write.
pub async fn me(site: &Site, session: &DiscordSession) -> Result<Reply, Error> {
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
                avatar_url: user.avatar_url_or_default(&site.cdn).into(),
                email: user.email.as_deref(),
            })
        });
    Ok(Reply::json_bytes(body))
}

/// `GET /guilds`.
pub async fn guilds(site: &Site, session: &DiscordSession) -> Result<Reply, Error> {
    let body = session
        .fetch_guilds(Fetch::Cached)
        .await?
        .memo("demo/guilds", |guilds| {
            let views: Vec<GuildView<'_>> = guilds
                .iter()
                .map(|g| GuildView::new(g, &site.cdn))
                .collect();
            to_json_bytes(&views)
        });
    Ok(Reply::json_bytes(body))
}

/// `GET /connections`.
pub async fn connections(session: &DiscordSession) -> Result<Reply, Error> {
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
    Ok(Reply::json_bytes(body))
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// `GET /login[?next=/local/path]`: 302 to Discord's authorize page.
pub fn login(session: &DiscordSession, query: Option<&str>) -> Result<Reply, Error> {
    let mut options = LoginOptions::new().scopes(SCOPES);
    if let Some(next) = query_param(query, "next") {
        // The library keeps local paths only and drops anything else.
        options = options.next(next);
    }
    let url = session.create_session(options)?;
    Ok(Reply::redirect(url.as_str()))
}

/// `GET /callback?code&state`: 302 to `next` or `/`; 400 bad state, 403 access denied, 502
/// upstream failure. An install lands on a page naming the guild; a linked-roles login sets
/// the user's role connection, then 302 to `/`.
pub async fn callback(session: &DiscordSession, query: Option<&str>) -> Result<Reply, Error> {
    let done = session.callback(query.unwrap_or("")).await?;
    match &done.flow {
        Flow::Install(install) => Ok(installed_page(install)),
        Flow::LinkedRole => {
            set_role_connection(session, &done).await?;
            Ok(Reply::redirect("/"))
        }
        _ => Ok(Reply::redirect(&done.next)),
    }
}

/// `POST /logout` (after the wiring's same-origin check): revokes at Discord (best effort),
/// ends the session, 302 to `/`.
pub async fn logout(session: &DiscordSession) -> Reply {
    let confirmed = session.revoke().await;
    if !confirmed {
        tracing::debug!("logout: Discord did not confirm the revoke (the session is ended anyway)");
    }
    Reply::redirect("/")
}

/// `POST /guilds/{guild_id}/join` (after the wiring's same-origin check): 201 with the member,
/// 200 `{}` when already a member.
pub async fn join(session: &DiscordSession, guild_id: &str) -> Result<Reply, Error> {
    let guild_id: GuildId = guild_id
        .parse()
        .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))?;
    match session
        .add_to_guild(guild_id, AddMemberOptions::new())
        .await?
    {
        Some(member) => Ok(Reply::json(201, member.to_json())),
        None => Ok(Reply::json(200, &serde_json::json!({}))),
    }
}

// ----- installs and linked roles --------------------------------------------------------------

/// `GET /install[?guild_id=ID]`: 302 to Discord's authorize page for a guild install of the
/// bot and its commands, pinned to `guild_id` when given (400 when it is not a snowflake).
pub fn install(session: &DiscordSession, query: Option<&str>) -> Result<Reply, Error> {
    let mut options = InstallOptions::new().permissions(INSTALL_PERMISSIONS);
    if let Some(guild) = query_param(query, "guild_id") {
        let guild: GuildId = guild
            .parse()
            .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))?;
        options = options.guild(guild);
    }
    Ok(Reply::redirect(session.create_install(options)?.as_str()))
}

/// `GET /linked-role`: 302 to Discord's authorize page with `role_connections.write identify`
/// (no PKCE: Discord refuses it with this scope).
pub fn linked_role(session: &DiscordSession) -> Result<Reply, Error> {
    Ok(Reply::redirect(
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

fn installed_page(install: &Install) -> Reply {
    let page = InstalledPage {
        style: STYLE,
        guild: install.guild_name().unwrap_or("your account"),
    };
    match page.render() {
        Ok(html) => Reply::html(200, html),
        Err(_) => Reply::empty(500),
    }
}

/// `GET /guilds/{guild_id}/manage` once the wiring's guard let the user through (owner,
/// ADMINISTRATOR or MANAGE_GUILD; 403 otherwise, also when not a member; 400 for an id that is
/// not a snowflake; 401 without a session; answered from the users cache): 200 `{id, name,
/// permissions, owner, effective_permissions}` (`permissions` as Discord lists them, like
/// `GET /guilds`; the effective ones count the owner and ADMINISTRATOR as every permission).
pub fn manage(access: &discord_oauth::api::GuildAccess) -> Reply {
    #[derive(Serialize)]
    struct ManageView<'a> {
        id: String,
        name: &'a str,
        permissions: String,
        owner: bool,
        effective_permissions: String,
    }
    Reply::json(
        200,
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
pub async fn discord_events(
    client: &DiscordOAuth,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Reply, Error> {
    let outcome = client.handle_event(headers, body).await?;
    Ok(Reply::empty(outcome.status().as_u16()))
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

fn page(site: &Site, status: u16, mut page: IndexPage<'_>) -> Reply {
    page.style = STYLE;
    page.offline = site.offline;
    match page.render() {
        Ok(html) => Reply::html(status, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering the page failed");
            Reply::empty(500)
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
pub async fn index(site: &Site, session: &DiscordSession) -> Reply {
    match session.record().await {
        Ok(Some(_)) => {}
        Ok(None) => return page(site, 200, empty_page(None)),
        Err(e) => return error_page(site, e),
    }
    let (user, guilds) = tokio::join!(
        session.fetch_user(Fetch::Cached),
        session.fetch_guilds(Fetch::Cached)
    );
    let user = match user {
        Ok(u) => u,
        Err(Error::Unauthorized) => return page(site, 200, empty_page(None)),
        Err(e) => return error_page(site, e),
    };
    let guilds = match guilds {
        Ok(g) => Some(g),
        Err(Error::Unauthorized) => return page(site, 200, empty_page(None)),
        // A linked-roles login grants no `guilds`: no list.
        Err(Error::MissingScope(_)) => None,
        Err(e) => return error_page(site, e),
    };
    let cdn = &site.cdn;
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
            manage: discord_oauth::api::GuildAccess::allows(g, Permissions::MANAGE_GUILD),
        })
        .collect();
    page(
        site,
        200,
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
fn error_page(site: &Site, e: Error) -> Reply {
    let status = e.status();
    let retry = e.retry_after();
    tracing::warn!(error = %e, status = status.as_u16(), "page: Discord call failed");
    let message = if e.is_rate_limited() {
        "Discord is rate limiting this app; try again in a moment.".to_owned()
    } else {
        format!("Discord could not be reached or answered badly ({status}); try again.")
    };
    let mut reply = page(site, status.as_u16(), empty_page(Some(message)));
    reply.retry_after =
        retry.map(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
    reply
}

// ----- main -----------------------------------------------------------------------------------

/// The demo's `main`: logging, a runtime of [`worker_threads`] threads, then `run` to the end;
/// a start-up error is printed and fails the process.
pub fn main_with<F>(run: impl FnOnce() -> F) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), StartError>>,
{
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
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

/// The log subscriber (`RUST_LOG`, default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
}

/// `TOKIO_WORKER_THREADS` (default 2).
pub fn worker_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// The listener on `BIND` (default [`DEFAULT_BIND`]).
///
/// # Errors
/// When the address cannot be listened on.
pub async fn bind() -> Result<tokio::net::TcpListener, StartError> {
    let bind = std::env::var("BIND")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    Ok(tokio::net::TcpListener::bind(bind.trim())
        .await
        .map_err(|e| format!("cannot listen on BIND={bind}: {e}"))?)
}

/// Prints where the demo is.
pub fn announce(fake: Option<&MockDiscord>, url: &str) {
    match fake {
        Some(fake) => println!(
            "discord-oauth demo (offline, fake Discord at {}): open {url}",
            fake.base_url(),
        ),
        None => println!("discord-oauth demo: open {url}"),
    }
}
