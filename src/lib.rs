//! # discord-oauth
//!
//! "Log in with Discord" for async Rust web apps, and Discord's REST API (v10) on the user's
//! behalf — what Flask-Discord is for Flask, rebuilt to be correct and secure by default.
//!
//! - **The OAuth2 flow** with single-use, expiring, browser-bound `state`, PKCE S256, a safe
//!   `next`, and a session replaced on every login.
//! - **Sessions** in an AES-256-GCM encrypted cookie (no server state) or any [`TokenStore`]
//!   (in memory, SQLite, PostgreSQL, Redis, or your own), with real logout: the grant is revoked
//!   at Discord and the old cookie is refused locally.
//! - **Many instances act as one** ([`backends`]): with a shared store and Redis, a logout on
//!   one process is refused by all, a callback is accepted once, a token refresh happens once,
//!   and Discord's rate limits hold for the sum of the processes.
//! - **One HTTP pipeline** for every call: User-Agent, an overall deadline, Discord's rate limits
//!   handled before they are hit, retries only where safe, redirects never followed, and every
//!   non-2xx answer as a typed [`Error`].
//! - **Token lifecycle**: refresh ahead of expiry and once on a 401, one refresh at a time per
//!   authorization, safe with Discord's rotating refresh tokens.
//! - **The user's Discord data** ([`api`]): one method per resource with a [`Fetch`] policy for
//!   the users cache (`Cached`, `Fresh`, `FreshUncached`, `CacheOnly`); the [`Fetched`] handle
//!   derefs to the data and memoizes renderings of it, so a hot page costs one cookie lookup and
//!   one cache hit. Any other route through [`ApiRequest`], parsed into a typed [`route::Route`].
//! - **Typed models** ([`models`]): users, guilds, members, connections, with CDN helpers and
//!   the current default-avatar rule; [`Scope`] and [`permissions::Permissions`] cover every
//!   current value.
//! - **The application's own tokens**: [`DiscordOAuth::app_token`] (the client-credentials
//!   grant, one token per scope set reused until shortly before expiry, one grant for concurrent
//!   callers) and [`DiscordOAuth::exchange_activity_code`] (an Activity's code, exchanged without
//!   `redirect_uri`, its token handed back).
//! - **A thin axum layer** ([`axum`]) and the same for actix-web (`actix`, feature `actix`),
//!   both glue over one framework-neutral [`web`] module; the core imports no web framework.
//! - **A fake Discord** (`discord-oauth-mock`, a separate crate) so that your own tests run the
//!   whole login offline.
//!
//! ## A login in five routes (axum)
//!
//! ```no_run
//! use axum::{Router, routing::{get, post}, response::Redirect, extract::RawQuery, Json};
//! use discord_oauth::{Config, DiscordOAuth, DiscordSession, Error, Fetch, LoginOptions, Scope};
//! use discord_oauth::axum::{Authorized, DiscordLayer, SameOrigin};
//!
//! async fn login(session: DiscordSession) -> Result<Redirect, Error> {
//!     let url = session.create_session(LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]))?;
//!     Ok(Redirect::to(url.as_str()))
//! }
//!
//! async fn callback(session: DiscordSession, RawQuery(q): RawQuery) -> Result<Redirect, Error> {
//!     let done = session.callback(q.as_deref().unwrap_or("")).await?;
//!     Ok(Redirect::to(&done.next))
//! }
//!
//! async fn me(auth: Authorized) -> Result<Json<serde_json::Value>, Error> {
//!     let user = auth.session.fetch_user(Fetch::Cached).await?;
//!     Ok(Json(serde_json::json!({ "id": user.id.to_string(), "name": user.display_name() })))
//! }
//!
//! async fn logout(_: SameOrigin, session: DiscordSession) -> Redirect {
//!     session.revoke().await;
//!     Redirect::to("/")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let discord = DiscordOAuth::new(Config::from_env()?)?;
//! let app: Router = Router::new()
//!     .route("/login", get(login))
//!     .route("/callback", get(callback))
//!     .route("/me", get(me))
//!     .route("/logout", post(logout))
//!     .layer(DiscordLayer::new(discord));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! `examples/demo.rs` is the complete version (pages, guilds, joining a guild with the bot,
//! errors as the right statuses), and runs offline against the fake Discord.
//!
//! ## Architecture (one module per concern, no import cycles)
//!
//! Each module opens with what it owns and what it must not import; `tests/layering.rs`
//! fails if an import crosses the layers below (a module may import only modules of lower
//! layers) or if the core imports a web framework.
//!
//! | layer | module | owns |
//! |---|---|---|
//! | 0 | [`scope`], [`permissions`], [`secret`], [`clock`] (the `vocab` folder) | the vocabulary: scopes, permission bits, secret newtypes and fingerprints, the clock seam |
//! | 1 | [`config`] | configuration, `from_env`, where Discord and its CDN live |
//! | 1 | [`models`] | plain data: users, guilds, members, connections, CDN URLs (no I/O) |
//! | 1 | [`store`] | the session record and the storage seams by session id (memory, SQLite, PostgreSQL, Redis) |
//! | 2 | [`error`] | the one error type and its HTTP statuses |
//! | 3 | [`route`] | typed routes: method, template, scope, rate-limit key, cache kind |
//! | 4 | [`ratelimit`] | Discord's rate-limit buckets, global limit, invalid-request budgets |
//! | 5 | [`http`] | the one HTTP pipeline: deadline, retries, error mapping |
//! | 5 | [`backends`] | `SESSION_STORE` and `REDIS_URL`: which stores, coordination and rate-limit state |
//! | 6 | [`oauth`] | the OAuth2 protocol: authorize URL, callback query, token grants |
//! | 6 | [`cache`] | the users cache (`UserCache`, moka by default) |
//! | 6 | `request` | [`ApiRequest`], a call to any route |
//! | 7 | [`session`] | the per-request handle: load, login, logout, refresh |
//! | 7 | `app_token` | the application's own tokens: [`AppToken`] (client credentials, cached per scope set, one grant at a time) and [`ActivityToken`] (an Activity's code exchange) |
//! | 8 | [`api`] | the resources a session reads: user, guilds, connections, members, joins |
//! | 8 | `events` | Discord's webhook events: Ed25519 signature, typed events, a deauthorization ending the user's sessions (feature `events`) |
//! | 9 | `client` | [`DiscordOAuth`]: assembles the services |
//! | 9 | [`web`] | the framework-neutral half of the integrations: content negotiation, error pages, ready-made login routes, guards (with `axum` or `actix`) |
//! | 10 | [`axum`] | the axum integration (feature `axum`) |
//! | 10 | `actix` | the actix-web integration (feature `actix`), the same surface as `axum` on the same [`web`] core |
//!
//! ## Feature flags
//!
//! | feature | default | what it enables |
//! |---|---|---|
//! | `axum` | yes | extractors, guards and error responses for axum 0.8 (via `axum-core`) |
//! | `actix` | no | the same for actix-web 4 (`discord_oauth::actix`: a middleware, extractors, guards, error responses and the ready-made login routes) |
//! | `rustls` | yes | TLS through rustls |
//! | `native-tls` | no | TLS through the platform's library instead |
//! | `cache` | yes | the moka users cache (without it, no caching) |
//! | `redis` | no | on fred 10: `RedisTokenStore`, `RedisRevocationList`, `RedisConsumedStates`, `RedisRefreshCoordination` (sessions, logouts, used states, one refresh, shared by every process) and `RedisRateLimitStore` (Discord's limits for the sum of the processes) |
//! | `sqlite` | no | `SqliteStore` on sqlx: sessions, logouts, used states and refresh leases in one SQLite file (created with its tables at start) |
//! | `postgres` | no | `PostgresStore` on sqlx: the same in PostgreSQL (tables by embedded migrations) |
//! | `events` | no | Discord's webhook events (`DiscordOAuth::handle_event`): signatures checked with ed25519-dalek, `APPLICATION_DEAUTHORIZED` ends the user's sessions |
//! | `fuzzing` | no | internal: the hidden entry points of the fuzz targets in `fuzz/` (not an API) |
//!
//! ## Coming from Flask-Discord
//!
//! The [Flask-Discord-to-Rust table](docs::flask_discord) maps every class, method, property,
//! model field, exception and config key of Flask-Discord to its counterpart here, with what
//! changed and why.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
pub mod api;
mod app_token;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod backends;
pub mod cache;
mod client;
pub mod config;
pub mod docs;
pub mod error;
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub mod events;
pub mod http;
pub mod models;
pub mod oauth;
pub mod ratelimit;
mod request;
pub mod route;
pub mod session;
pub mod store;
mod vocab;
#[cfg(any(feature = "axum", feature = "actix"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
pub mod web;

pub use vocab::{BoxFuture, clock, permissions, scope, secret};

pub use api::{AddMemberOptions, Fetch, Fetched};
pub use app_token::{APP_TOKEN_MARGIN, ActivityToken, AppToken};
pub use client::{DiscordOAuth, DiscordOAuthBuilder};
pub use config::Config;
pub use error::{Error, Result};
pub use request::ApiRequest;
pub use scope::{Prompt, Scope, Scopes};
pub use session::{Callback, DiscordSession, Flow, InstallOptions, LoginOptions};
pub use store::{SessionId, SessionRecord, TokenStore};
