//! # discord-oauth-mock: a faithful fake Discord on loopback
//!
//! A small HTTP server (axum/hyper, `127.0.0.1` only) that behaves like the parts of Discord a
//! "log in with Discord" web app talks to, so that a whole login flow can be tested offline, in
//! CI, without a Discord application. It is written from Discord's documentation
//! (<https://discord.com/developers/docs/topics/oauth2>,
//! <https://discord.com/developers/docs/reference>, and the pages cited below) and observed
//! behaviour, and depends on nothing of the `discord-oauth` library, so a misreading of Discord in
//! one is caught by the other.
//!
//! ## What it mimics
//!
//! | Discord | Mock |
//! |---|---|
//! | `https://discord.com/oauth2/authorize` | `{base}/oauth2/authorize`: a real HTML consent page (pick a seeded user or type any user id, see the scopes, Authorize / Cancel) or, in auto-approve mode, an immediate `302` |
//! | `https://discord.com/api/v10/oauth2/token` (and `/api/oauth2/token`) | the same paths: `authorization_code` (single use, expires after 100 s, `redirect_uri` must match, PKCE S256), `refresh_token` (rotating), `client_credentials`; form-encoded only; Basic (scheme case-insensitive, id and secret form-urlencoded as RFC 6749 §2.3.1 says) or body client authentication; RFC 6749 error bodies; optional public-client mode ([`MockBuilder::public_client`]) |
//! | `.../oauth2/token/revoke` | revokes the whole authorization of the user (every access and refresh token), `200 {}` |
//! | REST `https://discord.com/api/v10` | `{base}/api/v10`: `GET /users/@me`, `/users/@me/guilds`, `/users/@me/connections`, `/users/@me/guilds/{guild}/member`, `GET /oauth2/@me`, `PUT /guilds/{guild}/members/{user}`, `GET/PUT/DELETE /users/@me/applications/{app}/role-connection`, `GET/PUT /applications/{app}/role-connections/metadata`, `GET /applications/@me`, `GET /oauth2/applications/@me`, `GET /users/{user}` |
//! | Webhook events (Discord → the app's Webhook Events URL) | [`MockDiscord::send_event`], [`MockDiscord::deauthorize_user`]: signed with the mock's Ed25519 key ([`MockDiscord::public_key_hex`]); [`MockDiscord::signed_event`] for tests that tamper |
//! | `https://cdn.discordapp.com` | `{base}/cdn`: `avatars/`, `icons/`, `banners/`, `embed/avatars/{0..5}.png`, `guilds/{g}/users/{u}/avatars/`, `avatar-decoration-presets/` (tiny generated images, `?size=` checked) |
//!
//! Every id is a string, nullable fields are sent as `null`, permissions are decimal strings.
//! REST request bodies must be JSON with `Content-Type: application/json` (parameters such as
//! `; charset=utf-8` allowed); a non-empty body without it is refused with `400` code `50035` and a
//! whole-body error `{"errors": {"_errors": [{"code": "CONTENT_TYPE_INVALID", ...}]}}`
//! (<https://discord.com/developers/docs/reference#content-type>). Form and multipart REST bodies,
//! which Discord also takes, are not modelled.
//! Invalid Form Body errors mirror the JSON path as Discord does
//! (<https://discord.com/developers/docs/reference#error-messages>): `errors.<field>._errors`
//! for a field, `errors._errors` for the whole body, `errors.<index>.<field>._errors` and
//! `errors.<index>._errors` for items of an array body.
//! Errors have Discord's exact statuses and bodies, e.g. `401 {"message": "401: Unauthorized",
//! "code": 0}` for a wrong, expired or revoked token or a missing scope, `404 {"message": "404: Not
//! Found", "code": 0}` for an unknown route.
//!
//! Token rules, as decided from the reference:
//! * An authorization code is single use: any exchange attempt consumes it, even a failed one.
//! * A refresh rotates the pair: the old refresh token **and the old access token** die (Add Guild
//!   Member rejects "refreshed/stale" tokens,
//!   <https://discord.com/developers/docs/resources/guild#add-guild-member>).
//! * Revoking any token (or [`MockDiscord::revoke_user_grants`]) kills every token of every
//!   authorization the user gave to the app
//!   (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example>),
//!   and codes not yet exchanged.
//! * Re-authorizing creates a new authorization; tokens of an earlier one stay valid.
//! * Scopes repeated in the authorize request are granted (and echoed) once, in first-seen order.
//! * Public-client mode ([`MockBuilder::public_client`], off by default): `client_secret` may be
//!   left out when exchanging a code issued with PKCE, when refreshing and when revoking
//!   (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>); everything
//!   else still needs it.
//! * Lifetimes are capped at [`MAX_LIFETIME`] (10 years).
//!
//! ## Testing an app
//!
//! [`MockDiscord::start`] binds a free loopback port. [`MockDiscord::app_env`] gives the variables
//! that point an app at the fake (and registers its redirect URI); [`MockDiscord::login_through`]
//! logs a user in through the app's own login route and callback in one call and returns a
//! [`TestBrowser`] holding the app's cookies; [`MockDiscord::inject_fault`] makes Discord fail on
//! demand. See [`testing`].
//!
//! ## Memory over long runs
//!
//! Every store is cleaned in amortized passes, each run when the store has doubled since the
//! previous pass (so one request never pays for a full scan twice in a row): expired codes,
//! expired access tokens (with the implicit and client-credentials authorizations they leave
//! dead), and ended rate-limit windows. At most [`DEFAULT_MAX_AUTHORIZATIONS`] authorizations are
//! kept ([`MockBuilder::max_authorizations`]); beyond that the oldest are dropped with their tokens.
//! Statistics keys are route templates only: unknown routes count under `UNMATCHED`, unknown CDN
//! paths under `GET /cdn/UNMATCHED`. [`MockDiscord::store_sizes`] reports the store sizes.
//!
//! ## Rate limits (window semantics)
//!
//! Modelled on <https://discord.com/developers/docs/topics/rate-limits>.
//!
//! Every `/api` answer carries `X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds with
//! millisecond decimals), `-Reset-After` (float seconds) and `-Bucket` (an opaque hash shared by
//! routes with the same limit), unless limits are disabled.
//!
//! * Windows are **fixed**: a window opens at the first request made when no window is open for the
//!   key, lasts exactly `window`, and the count resets when a request arrives after it ended. It is
//!   not sliding.
//! * Per-route windows are keyed by (bucket, identity, major parameter): identity is the user of a
//!   Bearer token, the bot for `Bot` tokens, or the peer IP otherwise (invalid tokens included);
//!   the major parameter is the `guild_id` of the path (0 when none).
//! * The global window (default 50 requests per 1 s) applies per bot token, per user of a Bearer
//!   token, and per peer IP for requests without a valid token, as Discord's does per bot or user
//!   and per IP without authentication
//!   (<https://discord.com/developers/docs/topics/rate-limits#global-rate-limit>). The OAuth2 token
//!   endpoints (client credentials, no token) have only their per-route limit.
//! * A refused request does not use up a slot: the global and the per-route limits are both
//!   checked before either counts the request. A `429` carries the JSON body `{"message",
//!   "retry_after" (float seconds), "global", "code"}` (`code` 0), `Retry-After` (integer seconds, rounded up),
//!   `X-RateLimit-Scope` (`user` or `global`) and, for the global limit, `X-RateLimit-Global: true`.
//!
//! Defaults ([`RateLimitConfig::default`]): 50 requests per 5 s per route and identity; 500 per 10 s
//! for `PUT /guilds/{guild_id}/members/{user_id}` (so that only the global limit bites when a bot
//! adds many members to one guild) and for the token and revoke endpoints (keyed by IP, as they
//! carry no Bearer token). Benchmarks that hammer one route may use [`RateLimitConfig::disabled`].
//!
//! ## Use it in your own tests
//!
//! Add it as a dev-dependency (`discord-oauth-mock = "0.1"`) and point your app at it:
//!
//! ```no_run
//! use discord_oauth_mock::{MockDiscord, seed};
//!
//! # async fn run() {
//! let discord = MockDiscord::builder()
//!     .redirect_uri("http://127.0.0.1:3000/callback")
//!     .auto_approve(Some(seed::ALICE)) // authorize answers 302 at once, as Alice
//!     .start()
//!     .await;
//! // Configure your app with:
//! let authorize_url = format!("{}/oauth2/authorize", discord.base_url());
//! let api_base = format!("{}/api/v10", discord.base_url());
//! let cdn_base = discord.cdn_url();
//! let (client_id, client_secret) = (discord.client_id(), discord.client_secret());
//! # let _ = (authorize_url, api_base, cdn_base, client_id, client_secret);
//! // ... drive your login flow, then assert on what Discord saw:
//! let stats = discord.stats();
//! assert_eq!(stats.grants_of("authorization_code"), 1);
//! assert_eq!(stats.requests_to("GET /api/v10/users/@me"), 1);
//! discord.shutdown().await;
//! # }
//! ```
//!
//! Without auto-approve, `GET /oauth2/authorize` renders the consent page: radio inputs
//! `name="user_id"` with `id="user-<id>"`, buttons `id="authorize"` and `id="cancel"`. A query
//! parameter `mock_user=<id>` approves at once as that user, whatever the setting.
//!
//! ## Log in as any user id
//!
//! Besides the six seeded users ([`seed`]), **any snowflake from `1 << 22` to `i64::MAX` is a
//! user**: `mock_user=<id>`, [`MockBuilder::auto_approve`], `POST /_mock/auto-approve` and the
//! consent page's "any user id" field (`name="other_user_id"`, `id="other-user"`) all take it.
//! Its username (`<adjective>.<noun>.<id in base 36>`), display name, avatar, e-mail
//! (`<username>@example.com`), locale, connections and memberships of the seeded guilds
//! [`seed::GUILD_WORKSHOP`], [`seed::GUILD_KREW`] and [`seed::GUILD_XSS`] are derived from the id
//! ([`seed::generated_user`], [`seed::generated_member`]): the same id is always the same user, in
//! every run. Nothing is stored per generated user (only its tokens, like anyone's, under the
//! [`DEFAULT_MAX_AUTHORIZATIONS`] cap), so a load test can log in as many distinct users as it
//! likes; [`MockDiscord::users`] and `GET /_mock/users` list the seeded ones only. Smaller ids
//! (`1`, `42`) stay unknown users.
//!
//! ```no_run
//! # async fn run(discord: discord_oauth_mock::MockDiscord) {
//! // User number n of a benchmark logs in as Discord user 200000000000000000 + n.
//! let url = format!(
//!     "{}?client_id={}&response_type=code&scope=identify&mock_user={}",
//!     discord.authorize_url(),
//!     discord.client_id(),
//!     200_000_000_000_000_000u64 + 7,
//! );
//! # let _ = url;
//! # }
//! ```
//!
//! ## Speed
//!
//! One `std::sync::Mutex` around plain `HashMap`s, no per-request heavy work. Measured on the
//! 2-core development machine: about 99 000 `GET /api/v10/users/@me` per second with the server
//! on one runtime thread (`cargo run --release -p discord-oauth-mock --example loadtest -- 5 32`),
//! and about 24 000 per second with the release binary pinned to one core while `wrk` runs on the
//! other (`taskset -c 0 discord-oauth-mock --no-rate-limits`, then
//! `taskset -c 1 wrk -t1 -c32 -d5s -H "Authorization: Bearer <token>" <base>/api/v10/users/@me`).
//!
//! ## HTTP control API (for the binary, `cargo run -p discord-oauth-mock -- --port N`)
//!
//! | Request | Effect |
//! |---|---|
//! | `GET /_mock/stats` | [`Stats`] as JSON |
//! | `POST /_mock/reset` / `POST /_mock/reset-stats` | [`MockDiscord::reset`] / [`MockDiscord::reset_stats`] |
//! | `POST /_mock/faults` `{"route": "GET /api/v10/users/@me", "times": 2, "fault": {...}}` | [`MockDiscord::inject_fault`]; `fault` is `{"status": 500}`, `{"rate_limited": {"retry_after": 1.5, "global": false, "scope": "user"}}`, `{"delay_ms": 200}`, `"malformed_body"` or `"drop_connection"` |
//! | `DELETE /_mock/faults` | clears all faults |
//! | `POST /_mock/revoke/{user_id}` | [`MockDiscord::revoke_user_grants`] |
//! | `POST /_mock/expire/{user_id}` (or `/_mock/expire` for all) | [`MockDiscord::expire_access_tokens`] |
//! | `POST /_mock/token-lifetime` `{"seconds": 60}` | [`MockDiscord::set_token_lifetime`] (capped at 10 years) |
//! | `POST /_mock/public-client` `{"enabled": true}` | [`MockDiscord::set_public_client`] |
//! | `GET /_mock/store-sizes` | [`MockDiscord::store_sizes`] as JSON |
//! | `POST /_mock/auto-approve` `{"user_id": "459873214563123201"}` or `{"user_id": null}` | [`MockDiscord::set_auto_approve`] |
//! | `POST /_mock/redirect-uris` `{"uri": "http://127.0.0.1:3000/callback"}` | [`MockDiscord::add_redirect_uri`] |
//! | `POST /_mock/rate-limits` `{"enabled": false}` | enables or disables rate limiting |
//! | `GET /_mock/users`, `GET /_mock/guilds` | the seeded users and guilds (Discord-shaped JSON, plus `members` for guilds) |
//! | `GET /_mock/tokens/{user_id}` | the user's live tokens |
//! | `GET /_mock/config` | base URL, client id and secret, bot token, redirect URIs |
//!
//! The control API is not rate limited, not counted in the statistics, and not subject to faults.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Handlers return ready HTTP answers as their error type on purpose (built once per request).
#![allow(clippy::result_large_err)]

// Layout, from the socket down (each module's docs say what it owns and must not import; no
// module imports one above it, so there is no import cycle):
// server (accept loop) -> routes (route table) -> mount (one route) -> gate (statistics, faults)
// and api (/api pipeline: auth, rate limits) -> endpoint groups: oauth/, rest/, cdn/, control/
// -> objects (JSON shapes), ratelimit -> state -> seed, util.
mod api;
mod cdn;
mod control;
mod events;
mod gate;
mod mount;
mod oauth;
mod objects;
mod ratelimit;
mod rest;
mod routes;
pub mod seed;
mod server;
mod state;
pub mod testing;
mod util;

pub use events::DEFAULT_EVENT_KEY_SEED;
pub use seed::{SeedConnection, SeedGuild, SeedMember, SeedRole, SeedUser};
pub use testing::{LoginError, TEST_SECRET_KEY, TestBrowser};

use serde::Serialize;
use state::{Shared, State};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Default application (client) id.
pub const DEFAULT_CLIENT_ID: u64 = 1_187_425_347_091_005_450;
/// Default client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "mock-client-secret-7Qk2vX9pL4sN8dR3";
/// Default bot token (Discord's three-part shape).
pub const DEFAULT_BOT_TOKEN: &str =
    "MTE4NzQyNTM0NzA5MTAwNTQ1MA.GmOcKb.mock-bot-token-signature-0123456789";
/// Default access-token lifetime: 7 days, as in every official example
/// (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(604_800);
/// Authorization codes expire 100 s after creation, as a Discord engineer stated
/// (<https://github.com/discord/discord-api-docs/issues/2526>).
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(100);
/// The longest token or code lifetime accepted (10 years); longer values are capped to it.
pub const MAX_LIFETIME: Duration = util::MAX_LIFETIME;
/// Default cap on kept authorizations (see [`MockBuilder::max_authorizations`]).
pub const DEFAULT_MAX_AUTHORIZATIONS: usize = 100_000;

/// A fault to serve instead of the normal answer (see [`MockDiscord::inject_fault`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and Discord's generic body `{"message": "<status>: <reason>", "code": 0}`
    /// (empty for 204/304).
    Status(u16),
    /// Answer `429` as Discord does (JSON body with `code` 0, `Retry-After`, `X-RateLimit-Scope`;
    /// the route's `X-RateLimit-Limit`, `-Remaining` (0), `-Reset`, `-Reset-After` and `-Bucket`
    /// unless `global`; `X-RateLimit-Global` when `global`). `scope` is `user`, `global` or
    /// `shared`.
    RateLimited {
        /// Seconds (float) in the body; `Retry-After` is this rounded up.
        retry_after: f64,
        /// The `global` flag.
        global: bool,
        /// `X-RateLimit-Scope`.
        scope: String,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// `200` with `Content-Type: application/json` and a body that is not valid JSON.
    MalformedBody,
    /// Close the TCP connection without sending any HTTP answer.
    DropConnection,
}

/// A rate limit for one route template (see [`RateLimitConfig`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RouteLimit {
    /// `METHOD /path-template`, either full (`PUT /api/v10/guilds/{guild_id}/members/{user_id}`) or
    /// without the `/api/v10` (or `/api`) prefix (`PUT /guilds/{guild_id}/members/{user_id}`).
    pub route: String,
    /// Requests per window.
    pub limit: u32,
    /// Window length.
    pub window: Duration,
}

/// Rate-limit configuration (window semantics in the crate docs).
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimitConfig {
    /// `false` disables every limit and the `X-RateLimit-*` headers.
    pub enabled: bool,
    /// Global requests per window per bot, per user and per IP without a token (Discord: 50);
    /// 0 disables the global limit.
    pub global_limit: u32,
    /// Global window (Discord: 1 s).
    pub global_window: Duration,
    /// Default per-route limit.
    pub route_limit: u32,
    /// Default per-route window.
    pub route_window: Duration,
    /// Per-route overrides (the first match wins).
    pub routes: Vec<RouteLimit>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let r = |route: &str, limit: u32, secs: u64| RouteLimit {
            route: route.to_owned(),
            limit,
            window: Duration::from_secs(secs),
        };
        RateLimitConfig {
            enabled: true,
            global_limit: 50,
            global_window: Duration::from_secs(1),
            route_limit: 50,
            route_window: Duration::from_secs(5),
            routes: vec![
                r("PUT /guilds/{guild_id}/members/{user_id}", 500, 10),
                r("POST /oauth2/token", 500, 10),
                r("POST /oauth2/token/revoke", 500, 10),
            ],
        }
    }
}

impl RateLimitConfig {
    /// No limits, no rate-limit headers.
    pub fn disabled() -> Self {
        RateLimitConfig {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the default per-route limit.
    pub fn per_route(mut self, limit: u32, window: Duration) -> Self {
        self.route_limit = limit;
        self.route_window = window;
        self
    }

    /// Sets the global per-bot limit (0 = none).
    pub fn global(mut self, limit: u32, window: Duration) -> Self {
        self.global_limit = limit;
        self.global_window = window;
        self
    }

    /// Adds (in front, so it wins) a limit for one route template.
    pub fn route(mut self, route: &str, limit: u32, window: Duration) -> Self {
        self.routes.insert(
            0,
            RouteLimit {
                route: route.to_owned(),
                limit,
                window,
            },
        );
        self
    }

    /// The (limit, window) for a full route template.
    pub(crate) fn limit_for(&self, route: &str) -> (u32, Duration) {
        let short = ratelimit::short_template(route);
        self.routes
            .iter()
            .find(|r| r.route == route || r.route == short)
            .map(|r| (r.limit.max(1), r.window))
            .unwrap_or((self.route_limit.max(1), self.route_window))
    }
}

/// What the mock has seen and done (see [`MockDiscord::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// All requests (control API excluded).
    pub total_requests: u64,
    /// Requests per route template, e.g. `"GET /api/v10/users/@me"` (`"UNMATCHED"` for unknown
    /// routes and unknown methods, `"GET /cdn/UNMATCHED"` for unknown CDN paths).
    pub requests: BTreeMap<String, u64>,
    /// 429 answers (rate limits and injected 429s).
    pub total_rate_limited: u64,
    /// 429 answers per route template.
    pub rate_limited: BTreeMap<String, u64>,
    /// Successful token grants per `grant_type` (`authorization_code`, `refresh_token`, `client_credentials`).
    pub grants: BTreeMap<String, u64>,
    /// Authorization codes issued (consent approved or auto-approved).
    pub codes_issued: u64,
    /// Consent screens cancelled (redirects with `error=access_denied`).
    pub consents_denied: u64,
    /// Access tokens issued by any grant.
    pub tokens_issued: u64,
    /// Successful refreshes.
    pub tokens_refreshed: u64,
    /// Access and refresh tokens killed by revocation.
    pub tokens_revoked: u64,
    /// Revocations that killed at least one token.
    pub revocations: u64,
    /// Token-endpoint errors (any 4xx from `/oauth2/token`).
    pub token_errors: u64,
    /// Members added by `PUT /guilds/{guild}/members/{user}` (201 answers).
    pub members_added: u64,
    /// Injected faults served.
    pub faults_served: u64,
}

impl Stats {
    /// Requests seen for a route template (e.g. `"GET /api/v10/users/@me"`).
    pub fn requests_to(&self, route: &str) -> u64 {
        self.requests.get(route).copied().unwrap_or(0)
    }
    /// 429s served for a route template.
    pub fn rate_limited_on(&self, route: &str) -> u64 {
        self.rate_limited.get(route).copied().unwrap_or(0)
    }
    /// Successful grants of one `grant_type`.
    pub fn grants_of(&self, grant_type: &str) -> u64 {
        self.grants.get(grant_type).copied().unwrap_or(0)
    }
}

/// How many entries the mock's internal stores hold (see [`MockDiscord::store_sizes`]): a way to
/// check that long runs do not grow memory without bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreSizes {
    /// Authorization codes not yet exchanged (expired ones included until the next sweep).
    pub codes: usize,
    /// Access tokens (expired ones included until the next sweep).
    pub access_tokens: usize,
    /// Refresh tokens.
    pub refresh_tokens: usize,
    /// Authorizations (grants).
    pub authorizations: usize,
    /// Per-route rate-limit windows.
    pub rate_limit_windows: usize,
    /// Cleanup passes run so far (expired codes, expired tokens, ended windows, evicted
    /// authorizations). Each runs only when its store has doubled since the previous pass (or at
    /// the authorization cap), so this grows logarithmically with the store size.
    pub sweeps: u64,
}

/// A live access token of a user (see [`MockDiscord::user_access_tokens`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveToken {
    /// The access token.
    pub access_token: String,
    /// The refresh token of the same authorization, if any.
    pub refresh_token: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Whether the access token has expired (it is kept until revoked or refreshed, or until a
    /// cleanup pass drops expired tokens; see [`StoreSizes::sweeps`]).
    pub expired: bool,
    /// Expiry, Unix milliseconds.
    pub expires_at_unix_ms: i64,
}

/// Builder for [`MockDiscord`] (see [`MockDiscord::builder`]).
#[derive(Clone, Debug)]
pub struct MockBuilder {
    port: u16,
    client_id: u64,
    client_secret: String,
    bot_token: String,
    redirect_uris: Vec<String>,
    auto_approve: Option<u64>,
    token_lifetime: Duration,
    code_lifetime: Duration,
    rate_limits: RateLimitConfig,
    app_name: String,
    public_client: bool,
    max_authorizations: usize,
    event_key_seed: [u8; 32],
}

impl Default for MockBuilder {
    fn default() -> Self {
        MockBuilder {
            port: 0,
            client_id: DEFAULT_CLIENT_ID,
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            bot_token: DEFAULT_BOT_TOKEN.to_owned(),
            redirect_uris: Vec::new(),
            auto_approve: None,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            code_lifetime: DEFAULT_CODE_LIFETIME,
            rate_limits: RateLimitConfig::default(),
            app_name: "Mock App".to_owned(),
            public_client: false,
            max_authorizations: DEFAULT_MAX_AUTHORIZATIONS,
            event_key_seed: DEFAULT_EVENT_KEY_SEED,
        }
    }
}

impl MockBuilder {
    /// Port on 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Application (client) id.
    pub fn client_id(mut self, id: u64) -> Self {
        self.client_id = id;
        self
    }
    /// Client secret.
    pub fn client_secret(mut self, secret: &str) -> Self {
        self.client_secret = secret.to_owned();
        self
    }
    /// Bot token (`Authorization: Bot <token>`).
    pub fn bot_token(mut self, token: &str) -> Self {
        self.bot_token = token.to_owned();
        self
    }
    /// Registers a redirect URI (repeatable; matched exactly).
    pub fn redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uris.push(uri.to_owned());
        self
    }
    /// Auto-approve as this user (authorize answers 302 at once); `None` shows the consent page.
    pub fn auto_approve(mut self, user: Option<u64>) -> Self {
        self.auto_approve = user;
        self
    }
    /// Access-token lifetime (`expires_in`), capped at [`MAX_LIFETIME`].
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.token_lifetime = d.min(MAX_LIFETIME);
        self
    }
    /// Authorization-code lifetime (default 100 s), capped at [`MAX_LIFETIME`].
    pub fn code_lifetime(mut self, d: Duration) -> Self {
        self.code_lifetime = d.min(MAX_LIFETIME);
        self
    }
    /// Public-client mode (Discord's "Public Client" toggle; default `false`, confidential).
    /// A public client may omit `client_secret` when it exchanges a code issued with PKCE, when
    /// it refreshes, and when it revokes
    /// (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>). A secret, when sent, must
    /// still be right; a code without PKCE and `client_credentials` still need the secret.
    pub fn public_client(mut self, public: bool) -> Self {
        self.public_client = public;
        self
    }
    /// The most authorizations kept at once (default [`DEFAULT_MAX_AUTHORIZATIONS`]). Beyond
    /// it, the oldest ones (and their tokens) are dropped, as if the users had removed the app, so
    /// that a long load test cannot grow memory without bound. Minimum 1.
    pub fn max_authorizations(mut self, n: usize) -> Self {
        self.max_authorizations = n.max(1);
        self
    }
    /// The seed of the application's Ed25519 key pair, which signs webhook events (default
    /// [`DEFAULT_EVENT_KEY_SEED`], so the public key is known in advance).
    pub fn event_key_seed(mut self, seed: [u8; 32]) -> Self {
        self.event_key_seed = seed;
        self
    }
    /// Rate limits.
    pub fn rate_limits(mut self, cfg: RateLimitConfig) -> Self {
        self.rate_limits = cfg;
        self
    }
    /// Application name shown on the consent page and in `GET /oauth2/@me`.
    pub fn app_name(mut self, name: &str) -> Self {
        self.app_name = name.to_owned();
        self
    }

    /// Binds 127.0.0.1 and starts serving on the current tokio runtime.
    ///
    /// # Panics
    /// If the port cannot be bound (use [`MockBuilder::try_start`] to get the error instead).
    pub async fn start(self) -> MockDiscord {
        match self.try_start().await {
            Ok(m) => m,
            Err(e) => panic!("discord-oauth-mock: cannot bind 127.0.0.1: {e}"),
        }
    }

    /// Like [`MockBuilder::start`], returning the bind error.
    pub async fn try_start(self) -> std::io::Result<MockDiscord> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await?;
        let port = listener.local_addr()?.port();
        let shared = self.into_shared(format!("http://127.0.0.1:{port}"));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        Ok(MockDiscord {
            inner: Arc::new(Handle {
                shared,
                shutdown: tx,
                task: Mutex::new(Some(task)),
                port,
            }),
        })
    }

    /// The configuration and the fresh state of a mock served at `base_url`.
    fn into_shared(self, base_url: String) -> Arc<Shared> {
        let guilds = seed::guilds();
        let shared = Arc::new(Shared {
            client_id: self.client_id,
            client_secret: self.client_secret,
            bot_token: self.bot_token,
            base_url,
            app_name: self.app_name,
            bot: seed::bot_user(self.client_id),
            seed_users: seed::users(),
            seed_guilds: guilds.clone(),
            event_key: events::signing_key(&self.event_key_seed),
            state: Mutex::new(State::new(
                self.redirect_uris,
                self.auto_approve,
                self.token_lifetime,
                self.code_lifetime,
                self.rate_limits,
                guilds,
            )),
        });
        {
            let mut st = shared.lock();
            st.public_client = self.public_client;
            st.max_grants = self.max_authorizations;
        }
        shared
    }
}

struct Handle {
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    port: u16,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A running fake Discord. Cheap to clone; the server stops when the last clone is dropped or on
/// [`MockDiscord::shutdown`].
#[derive(Clone)]
pub struct MockDiscord {
    inner: Arc<Handle>,
}

impl std::fmt::Debug for MockDiscord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are left out on purpose.
        f.debug_struct("MockDiscord")
            .field("base_url", &self.inner.shared.base_url)
            .field("client_id", &self.inner.shared.client_id)
            .finish_non_exhaustive()
    }
}

impl MockDiscord {
    /// Starts with the defaults on a random port of 127.0.0.1 (consent page, no redirect URI
    /// registered: add one with [`MockDiscord::add_redirect_uri`]).
    pub async fn start() -> MockDiscord {
        MockBuilder::default().start().await
    }

    /// A builder.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT` (authorize at `{base}/oauth2/authorize`, REST at `{base}/api/v10`).
    pub fn base_url(&self) -> String {
        self.shared().base_url.clone()
    }
    /// `{base}/api/v10`.
    pub fn api_url(&self) -> String {
        format!("{}/api/v10", self.shared().base_url)
    }
    /// `{base}/oauth2/authorize`.
    pub fn authorize_url(&self) -> String {
        format!("{}/oauth2/authorize", self.shared().base_url)
    }
    /// `{base}/api/v10/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/api/v10/oauth2/token", self.shared().base_url)
    }
    /// `{base}/api/v10/oauth2/token/revoke`.
    pub fn revoke_url(&self) -> String {
        format!("{}/api/v10/oauth2/token/revoke", self.shared().base_url)
    }
    /// `{base}/cdn`, the CDN root (like `https://cdn.discordapp.com`).
    pub fn cdn_url(&self) -> String {
        format!("{}/cdn", self.shared().base_url)
    }
    /// The port.
    pub fn port(&self) -> u16 {
        self.inner.port
    }
    /// Application (client) id.
    pub fn client_id(&self) -> u64 {
        self.shared().client_id
    }
    /// Client secret.
    pub fn client_secret(&self) -> String {
        self.shared().client_secret.clone()
    }
    /// Bot token.
    pub fn bot_token(&self) -> String {
        self.shared().bot_token.clone()
    }
    /// The bot user (id = application id).
    pub fn bot_user(&self) -> SeedUser {
        self.shared().bot.clone()
    }
    /// Registers another redirect URI (matched exactly).
    pub fn add_redirect_uri(&self, uri: &str) {
        let mut st = self.shared().lock();
        if !st.redirect_uris.iter().any(|u| u == uri) {
            st.redirect_uris.push(uri.to_owned());
        }
    }
    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> Vec<String> {
        self.shared().lock().redirect_uris.clone()
    }
    /// Auto-approve as `user` (authorize answers 302 at once), or show the consent page (`None`).
    /// A `mock_user=<id>` query parameter on the authorize URL overrides this per request. Any
    /// snowflake is a user (see "Log in as any user id" in the crate docs).
    pub fn set_auto_approve(&self, user: Option<u64>) {
        self.shared().lock().auto_approve = user;
    }
    /// Lifetime of access tokens issued from now on (`expires_in`), capped at [`MAX_LIFETIME`].
    /// Zero issues expired tokens.
    pub fn set_token_lifetime(&self, d: Duration) {
        self.shared().lock().token_lifetime = d.min(MAX_LIFETIME);
    }
    /// Lifetime of authorization codes issued from now on, capped at [`MAX_LIFETIME`].
    pub fn set_code_lifetime(&self, d: Duration) {
        self.shared().lock().code_lifetime = d.min(MAX_LIFETIME);
    }
    /// Switches public-client mode (see [`MockBuilder::public_client`]).
    pub fn set_public_client(&self, public: bool) {
        self.shared().lock().public_client = public;
    }
    /// How many codes, tokens, authorizations and rate-limit windows the mock holds now.
    pub fn store_sizes(&self) -> StoreSizes {
        self.shared().lock().store_sizes()
    }
    /// Replaces the rate-limit configuration (and clears the open windows).
    pub fn set_rate_limits(&self, cfg: RateLimitConfig) {
        let mut st = self.shared().lock();
        st.rate = cfg;
        st.windows.clear();
        st.windows_swept_len = 0;
        st.global_windows.clear();
        st.global_windows_swept_len = 0;
    }
    /// A snapshot of the statistics.
    pub fn stats(&self) -> Stats {
        self.shared().lock().stats.clone()
    }
    /// Zeroes the statistics.
    pub fn reset_stats(&self) {
        self.shared().lock().stats = Stats::default();
    }
    /// Statistics, grants, tokens, codes, faults, rate-limit windows, guild memberships and role
    /// connections back to the seeded data. Configuration (redirect URIs, auto-approve, lifetimes,
    /// limits) is kept.
    pub fn reset(&self) {
        let shared = self.shared();
        shared.lock().reset(&shared.seed_guilds);
    }
    /// Revokes every authorization of `user_id`, as if the user removed the app: all its access
    /// and refresh tokens stop working.
    pub fn revoke_user_grants(&self, user_id: u64) {
        self.shared().lock().revoke_user(user_id);
    }
    /// Makes the user's current access tokens expired (their refresh tokens keep working).
    /// `None` expires everybody's.
    pub fn expire_access_tokens(&self, user_id: Option<u64>) {
        self.shared().lock().expire_access(user_id);
    }
    /// Serves `fault` for the next `times` requests to `route` (`"METHOD /path-template"`, e.g.
    /// `"GET /api/v10/users/@me"`, `"POST /api/v10/oauth2/token"`,
    /// `"PUT /api/v10/guilds/{guild_id}/members/{user_id}"`, or `"*"` for any route). Faults
    /// queue up per route in order.
    pub fn inject_fault(&self, route: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.shared()
            .lock()
            .faults
            .entry(route.to_owned())
            .or_default()
            .push_back((fault, times));
    }
    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.shared().lock().faults.clear();
    }
    /// The seeded users (first = the default user); generated users are not listed.
    pub fn users(&self) -> Vec<SeedUser> {
        self.shared().seed_users.clone()
    }
    /// The guilds with their current members (seed plus members added since).
    pub fn guilds(&self) -> Vec<SeedGuild> {
        self.shared().lock().guilds.clone()
    }
    /// The user's access tokens (live and expired, not revoked or rotated away; expired ones
    /// disappear at the next cleanup pass, see [`StoreSizes::sweeps`]).
    pub fn user_access_tokens(&self, user_id: u64) -> Vec<LiveToken> {
        let st = self.shared().lock();
        let now = std::time::Instant::now();
        let mut out: Vec<LiveToken> = st
            .access
            .iter()
            .filter(|(_, a)| a.user_id == user_id)
            .map(|(tok, a)| LiveToken {
                access_token: tok.clone(),
                refresh_token: st.grants.get(&a.grant).and_then(|g| g.refresh.clone()),
                scopes: a.scopes.clone(),
                expired: a.expired(now),
                expires_at_unix_ms: a.expires_unix_ms,
            })
            .collect();
        out.sort_by_key(|t| t.expires_at_unix_ms);
        out
    }
    /// An authorization code for `user_id` with `scopes`, issued without a redirect as the
    /// Embedded App SDK's `authorize` command does for an Activity: it must be exchanged
    /// without `redirect_uri` (with one, `invalid_request`), once, within the code lifetime.
    pub fn activity_code(&self, user_id: u64, scopes: &[&str]) -> String {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        oauth::authorize::activity_code(&mut self.shared().lock(), user_id, scopes)
    }
    /// The user's current role connection for this app, if one was PUT.
    pub fn role_connection(&self, user_id: u64) -> Option<serde_json::Value> {
        self.shared().lock().role_connections.get(&user_id).cloned()
    }
    /// The application's Ed25519 public key, as the 64 hex digits Discord's developer portal
    /// shows (an app's `DISCORD_PUBLIC_KEY`).
    pub fn public_key_hex(&self) -> String {
        events::hex(self.shared().event_key.verifying_key().as_bytes())
    }
    /// A `PING` webhook event body (`type` 0), as Discord sends to check the URL.
    pub fn ping_event(&self) -> Vec<u8> {
        events::ping_body(self.shared())
    }
    /// An `APPLICATION_DEAUTHORIZED` event body for `user_id` (`data.user`).
    pub fn deauthorized_event(&self, user_id: u64) -> Vec<u8> {
        let data = serde_json::json!({ "user": events::user_object(self.shared(), user_id) });
        events::event_body(self.shared(), "APPLICATION_DEAUTHORIZED", data)
    }
    /// An `APPLICATION_AUTHORIZED` event body: `user_id` authorized the app to their account
    /// (`integration_type` 1) with `scopes`.
    pub fn authorized_event(&self, user_id: u64, scopes: &[&str]) -> Vec<u8> {
        let data = serde_json::json!({
            "integration_type": 1,
            "scopes": scopes,
            "user": events::user_object(self.shared(), user_id),
        });
        events::event_body(self.shared(), "APPLICATION_AUTHORIZED", data)
    }
    /// Signs `body` now with the application's key: the headers
    /// (`X-Signature-Ed25519`, `X-Signature-Timestamp`) and the body, to send (or tamper with)
    /// by hand.
    pub fn signed_event(&self, body: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
        self.signed_event_at(body, events::unix_now())
    }
    /// [`MockDiscord::signed_event`] with the timestamp `unix_secs` (a stale or future one).
    pub fn signed_event_at(&self, body: &[u8], unix_secs: u64) -> (Vec<(String, String)>, Vec<u8>) {
        (
            events::sign(&self.shared().event_key, body, unix_secs),
            body.to_vec(),
        )
    }
    /// Sends a signed webhook event `body` to `url` (an `http://` Webhook Events URL) as
    /// Discord does (`POST`, JSON, signature headers, no cookie and no `Origin`); the status
    /// the app answered.
    ///
    /// # Errors
    /// When `url` is not an `http://` URL, or the app cannot be reached or does not answer
    /// within 10 s.
    pub async fn send_event(&self, url: &str, body: &[u8]) -> std::io::Result<u16> {
        let (headers, body) = self.signed_event(body);
        events::post(url, &headers, body).await
    }
    /// What Discord does when `user_id` removes the app: every grant of the user is revoked
    /// ([`MockDiscord::revoke_user_grants`]), then a signed `APPLICATION_DEAUTHORIZED` event is
    /// sent to `url`. The status the app answered.
    ///
    /// # Errors
    /// As [`MockDiscord::send_event`].
    pub async fn deauthorize_user(&self, url: &str, user_id: u64) -> std::io::Result<u16> {
        self.revoke_user_grants(user_id);
        let body = self.deauthorized_event(user_id);
        self.send_event(url, &body).await
    }
    /// Stops the server (for every clone) and waits for it to finish.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}
