//! [`DiscordOAuth`]: the application-wide client (Flask-Discord's `DiscordOAuth2Session` object
//! and its `DiscordOAuth2HttpClient` base). One per application, cheap to clone, shared by every
//! request. Per-browser work happens on a [`DiscordSession`] obtained from it.
//!
//! Owns: assembling the services (pipeline, limiter, stores, cache, session machinery) from a
//! [`Config`] and the builder's choices. Imports every core module; only the axum layer and the
//! crate root import it.

use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::api::{fetch_metadata, register_metadata};
use crate::app_token::{ActivityToken, AppToken, AppTokens};
use crate::backends::Backends;
use crate::cache::{CacheTtls, MAX_TTL, UserCache, default_cache};
use crate::config::Config;
use crate::error::Error;
use crate::http::Http;
use crate::models::RoleConnectionMetadata;
use crate::ratelimit::{DiscordLimiter, Limiter};
use crate::request::{ApiRequest, Sender};
use crate::scope::Scopes;
use crate::session::{DiscordSession, SessionPolicy, Sessions, SessionsParts, Storage};
use crate::store::{
    ConsumedStates, MemoryConsumedStates, MemoryRevocationList, RefreshCoordination,
    RevocationList, SessionEvents, TokenStore,
};

/// The application-wide Discord client.
///
/// ```no_run
/// # async fn run() -> Result<(), discord_oauth::Error> {
/// use discord_oauth::{Config, DiscordOAuth};
/// let discord = DiscordOAuth::new(Config::from_env()?)?;
/// // A bot-token call (Flask-Discord's `bot_request`):
/// let guild: serde_json::Value = discord.bot_request(http::Method::GET, "/guilds/81384788765712384").send_json().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DiscordOAuth {
    sessions: Arc<Sessions>,
    app_tokens: Arc<AppTokens>,
    #[cfg(feature = "events")]
    events: Arc<crate::events::Events>,
}

/// Builder for [`DiscordOAuth`]: pick the limiter, stores and cache.
#[must_use = "a builder does nothing until `.build()`"]
#[derive(Debug)]
pub struct DiscordOAuthBuilder {
    config: Config,
    limiter: Option<Arc<dyn Limiter>>,
    token_store: Option<Arc<dyn TokenStore>>,
    revocations: Option<Arc<dyn RevocationList>>,
    consumed: Option<Arc<dyn ConsumedStates>>,
    coordination: Option<Arc<dyn RefreshCoordination>>,
    events: Option<Arc<dyn SessionEvents>>,
    recheck: std::time::Duration,
    session_lifetime: Option<std::time::Duration>,
    idle_timeout: Option<std::time::Duration>,
    refresh_margin: Option<std::time::Duration>,
    revoke_timeout: Option<std::time::Duration>,
    users_cache: Option<Arc<dyn UserCache>>,
    cache_ttls: CacheTtls,
    throttle: Option<Arc<dyn crate::session::LoginThrottle>>,
    #[cfg(feature = "events")]
    hooks: crate::events::Hooks,
}

impl DiscordOAuthBuilder {
    /// Replaces the rate limiter (default: [`DiscordLimiter`], Discord's rules in memory, on its
    /// own [`TimerClock`](crate::clock::TimerClock): its waits sleep on Tokio's timer, so its
    /// clock is not the configured one; give it another with
    /// [`DiscordLimiterBuilder::clock`](crate::ratelimit::DiscordLimiterBuilder::clock)). The
    /// per-user share of the invalid-request budget lives inside `DiscordLimiter`: a custom
    /// limiter keeps its own, or none.
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.limiter(Arc::new(discord_oauth::ratelimit::DiscordLimiter::new()))
    /// # }
    /// ```
    pub fn limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Keeps session records in `store`, by id; the session cookie then carries only the
    /// sealed id. Without a store (the default) the whole record travels sealed in the cookie
    /// and the server keeps nothing.
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.token_store(Arc::new(discord_oauth::store::MemoryTokenStore::new()))
    /// # }
    /// ```
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// The list of logged-out sessions (default in memory).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.revocation_list(Arc::new(discord_oauth::store::MemoryRevocationList::new()))
    /// # }
    /// ```
    pub fn revocation_list(mut self, list: Arc<dyn RevocationList>) -> Self {
        self.revocations = Some(list);
        self
    }

    /// The set of used OAuth2 states (default in memory, 100 000 entries).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.consumed_states(Arc::new(discord_oauth::store::MemoryConsumedStates::new(10_000)))
    /// # }
    /// ```
    pub fn consumed_states(mut self, set: Arc<dyn ConsumedStates>) -> Self {
        self.consumed = Some(set);
        self
    }

    /// Installs the server-side state [`Backends::connect`] chose from `SESSION_STORE` and
    /// `REDIS_URL`: the session store, the revocation list, the used-state set, the refresh
    /// coordination and, when Redis is shared, a [`DiscordLimiter`] on Redis and the session
    /// announcements. It replaces whatever of these was set before it; call it first and
    /// override afterwards.
    ///
    /// ```no_run
    /// # async fn f(config: discord_oauth::Config) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::backends::Backends;
    /// let backends = Backends::connect("postgres://app@db/app", Some("redis://cache:6379")).await?;
    /// let discord = discord_oauth::DiscordOAuth::builder(config).backends(backends).build()?;
    /// # let _ = discord; Ok(()) }
    /// ```
    pub fn backends(mut self, backends: Backends) -> Self {
        self.token_store = backends.tokens;
        self.revocations = Some(backends.revocations);
        self.consumed = Some(backends.consumed);
        self.coordination = backends.coordination;
        self.events = backends.events;
        if let Some(store) = backends.rate_limits {
            self.limiter = Some(Arc::new(DiscordLimiter::builder().store(store).build()));
        }
        self
    }

    /// How long a shared store's answer about a session (its record, "not revoked") is reused
    /// before the store is asked again (default 50 ms; zero asks on every request). It bounds how
    /// long a logout made by **another** process can go unnoticed here; this process's own
    /// logouts are refused at once.
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// b.session_recheck(std::time::Duration::from_millis(20))
    /// # }
    /// ```
    pub fn session_recheck(mut self, interval: std::time::Duration) -> Self {
        self.recheck = interval;
        self
    }

    /// Announces ended sessions to the other processes and listens to theirs (default: none),
    /// so that a logout elsewhere is refused here at once rather than within the
    /// [recheck interval](Self::session_recheck).
    ///
    /// ```no_run
    /// # async fn f(b: discord_oauth::DiscordOAuthBuilder, pool: fred::clients::Pool, sub: fred::clients::SubscriberClient) -> Result<discord_oauth::DiscordOAuthBuilder, discord_oauth::store::StoreError> {
    /// # use std::sync::Arc;
    /// let events = discord_oauth::store::RedisSessionEvents::new(pool, sub).await?;
    /// Ok(b.session_events(Arc::new(events)))
    /// # }
    /// ```
    pub fn session_events(mut self, events: Arc<dyn SessionEvents>) -> Self {
        self.events = Some(events);
        self
    }

    /// Coordinates token refreshes with other processes (default: none, refreshes are
    /// coordinated within this process): one refresh per session across all processes, and
    /// the rotated pair shared with them. Needed when several processes serve one app.
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::sync::Arc;
    /// b.refresh_coordination(Arc::new(discord_oauth::store::MemoryRefreshCoordination::new()))
    /// # }
    /// ```
    pub fn refresh_coordination(mut self, coordination: Arc<dyn RefreshCoordination>) -> Self {
        self.coordination = Some(coordination);
        self
    }

    /// Absolute lifetime of a session from login (default 30 days; at least a minute, at most
    /// 400 days, [`MAX_LIFETIME`](crate::session::MAX_LIFETIME): a longer one is clamped).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.session_lifetime(Duration::from_secs(7 * 24 * 3600))
    /// # }
    /// ```
    pub fn session_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.session_lifetime = Some(lifetime);
        self
    }

    /// A session unused this long ends (default 7 days; at least a minute, at most 400 days,
    /// [`MAX_LIFETIME`](crate::session::MAX_LIFETIME): a longer one is clamped).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.idle_timeout(Duration::from_secs(24 * 3600))
    /// # }
    /// ```
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Refresh the access token this long before it expires (default 5 minutes; at most 400
    /// days, [`MAX_LIFETIME`](crate::session::MAX_LIFETIME)).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.refresh_margin(Duration::from_secs(600))
    /// # }
    /// ```
    pub fn refresh_margin(mut self, margin: std::time::Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// How long logout waits for Discord's revoke before answering anyway (default 2 s; at
    /// most 400 days, [`MAX_LIFETIME`](crate::session::MAX_LIFETIME)).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.revoke_timeout(Duration::from_secs(1))
    /// # }
    /// ```
    pub fn revoke_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.revoke_timeout = Some(timeout);
        self
    }

    /// The users cache (Flask-Discord's `users_cache`). Default: [`MokaUserCache`] bounded by
    /// `DISCORD_USERS_CACHE_MAX_LIMIT` entries (feature `cache`), else [`NoUserCache`].
    ///
    /// [`MokaUserCache`]: crate::cache::MokaUserCache
    /// [`NoUserCache`]: crate::cache::NoUserCache
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.users_cache(Arc::new(discord_oauth::cache::NoUserCache))
    /// # }
    /// ```
    pub fn users_cache(mut self, cache: Arc<dyn UserCache>) -> Self {
        self.users_cache = Some(cache);
        self
    }

    /// How long a cached user is served (default 5 minutes, at most a day; zero: never served).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.user_ttl(Duration::from_secs(60))
    /// # }
    /// ```
    pub fn user_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.user = ttl.min(MAX_TTL);
        self
    }

    /// How long cached guilds are served (default 60 s, at most a day).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.guilds_ttl(Duration::from_secs(30))
    /// # }
    /// ```
    pub fn guilds_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.guilds = ttl.min(MAX_TTL);
        self
    }

    /// How long cached connections are served (default 60 s, at most a day).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// # use std::{sync::Arc, time::Duration};
    /// b.connections_ttl(Duration::from_secs(30))
    /// # }
    /// ```
    pub fn connections_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.connections = ttl.min(MAX_TTL);
        self
    }

    /// Throttles the unauthenticated login steps: `throttle` is asked before a login start
    /// mints a state and before a callback uses its state or exchanges a code, with the
    /// request's client key ([`DiscordSession::set_client_key`](crate::DiscordSession::set_client_key));
    /// a refusal is [`Error::Throttled`] (429 with `Retry-After`). Default: none. See
    /// [`LoginThrottle`](crate::session::LoginThrottle) for an example.
    pub fn login_throttle(mut self, throttle: Arc<dyn crate::session::LoginThrottle>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Calls `hook` for every verified `APPLICATION_AUTHORIZED` webhook event (a user
    /// authorized the application), from [`DiscordOAuth::handle_event`]. Keep it quick: it runs
    /// before Discord gets its answer (spawn a task for slow work).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> discord_oauth::DiscordOAuthBuilder {
    /// b.on_application_authorized(|event| println!("user {} authorized the app", event.user_id))
    /// # }
    /// ```
    #[cfg(feature = "events")]
    #[cfg_attr(docsrs, doc(cfg(feature = "events")))]
    pub fn on_application_authorized(
        mut self,
        hook: impl Fn(&crate::events::ApplicationAuthorized) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.on_authorized = Some(Arc::new(hook));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] if the HTTP client cannot be built (e.g. a malformed proxy).
    ///
    /// ```no_run
    /// # fn f(b: discord_oauth::DiscordOAuthBuilder) -> Result<(), discord_oauth::Error> {
    /// let discord = b.build()?;
    /// # let _ = discord; Ok(()) }
    /// ```
    pub fn build(self) -> Result<DiscordOAuth, Error> {
        let limiter = self
            .limiter
            .unwrap_or_else(|| Arc::new(DiscordLimiter::new()));
        let mut policy = SessionPolicy::for_config(&self.config);
        if let Some(d) = self.session_lifetime {
            policy.absolute_lifetime(d);
        }
        if let Some(d) = self.idle_timeout {
            policy.idle_lifetime(d);
        }
        if let Some(d) = self.refresh_margin {
            policy.refresh_margin(d);
        }
        if let Some(d) = self.revoke_timeout {
            policy.revoke_timeout(d);
        }
        let clock = Arc::clone(self.config.clock());
        let revocations = self
            .revocations
            .unwrap_or_else(|| Arc::new(MemoryRevocationList::with_clock(clock.clone())));
        // The sessions' absolute lifetime as `SessionPolicy` sets it (30 days, at least a
        // minute): how long a user-level revocation must be kept.
        #[cfg(feature = "events")]
        let events = Arc::new(crate::events::Events::new(
            Arc::clone(&revocations),
            self.session_lifetime.map_or(30 * 24 * 3600, |d| {
                d.min(crate::session::MAX_LIFETIME).as_secs().max(60)
            }),
            self.hooks,
        ));
        let cache = self
            .users_cache
            .unwrap_or_else(|| default_cache(self.config.users_cache_max_limit(), clock.clone()));
        let http = Http::new(self.config, limiter)?;
        let app_tokens = Arc::new(AppTokens::new(http.clone()));
        let sessions = Sessions::new(SessionsParts {
            http,
            policy,
            storage: self.token_store.map_or(Storage::Cookie, Storage::Server),
            revocations,
            consumed: self
                .consumed
                .unwrap_or_else(|| Arc::new(MemoryConsumedStates::default())),
            coordination: self.coordination,
            recheck: self.recheck,
            events: self.events,
            cache,
            cache_ttls: self.cache_ttls,
            throttle: self.throttle,
        });
        Ok(DiscordOAuth {
            sessions: Arc::new(sessions),
            app_tokens,
            #[cfg(feature = "events")]
            events,
        })
    }
}

impl DiscordOAuth {
    /// A client with the default limiter, stores and cache.
    ///
    /// ```no_run
    /// # fn f() -> Result<(), discord_oauth::Error> {
    /// let discord = discord_oauth::DiscordOAuth::new(discord_oauth::Config::from_env()?)?;
    /// # let _ = discord; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] if the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder, to replace the defaults.
    ///
    /// ```no_run
    /// # fn f(config: discord_oauth::Config) -> Result<(), discord_oauth::Error> {
    /// use std::{sync::Arc, time::Duration};
    /// let discord = discord_oauth::DiscordOAuth::builder(config)
    ///     .token_store(Arc::new(discord_oauth::store::MemoryTokenStore::new()))
    ///     .idle_timeout(Duration::from_secs(24 * 3600))
    ///     .build()?;
    /// # let _ = discord; Ok(()) }
    /// ```
    pub fn builder(config: Config) -> DiscordOAuthBuilder {
        DiscordOAuthBuilder {
            config,
            limiter: None,
            token_store: None,
            revocations: None,
            consumed: None,
            coordination: None,
            events: None,
            recheck: crate::session::DEFAULT_RECHECK,
            session_lifetime: None,
            idle_timeout: None,
            refresh_margin: None,
            revoke_timeout: None,
            users_cache: None,
            cache_ttls: CacheTtls::default(),
            throttle: None,
            #[cfg(feature = "events")]
            hooks: crate::events::Hooks::default(),
        }
    }

    /// The configuration.
    ///
    /// ```no_run
    /// # fn f(discord: discord_oauth::DiscordOAuth) {
    /// println!("redirect URI: {}", discord.config().redirect_uri());
    /// # }
    /// ```
    #[must_use]
    pub fn config(&self) -> &Config {
        self.sessions.config()
    }

    /// Ends every session of Discord user `user_id`, in every process that shares the
    /// [`TokenStore`] (its per-user index, [`TokenStore::user_sessions`]): each session is
    /// revoked, deleted and its cached data forgotten. Returns how many ended.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// let ended = discord.logout_everywhere(80_351_110_224_678_912).await?;
    /// # let _ = ended; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails, or cannot list a user's sessions (sessions kept
    /// in cookies, or a custom store without [`TokenStore::user_sessions`]).
    pub async fn logout_everywhere(&self, user_id: u64) -> Result<usize, Error> {
        self.sessions.end_user_sessions(user_id).await
    }

    /// Handles one of Discord's webhook events (the `POST` to the application's Webhook Events
    /// URL): verifies its Ed25519 signature with [`Config::public_key`] and its timestamp on the
    /// configured clock, parses it and acts (see [`crate::events`]). Give it the request's
    /// headers and its **raw** body; answer Discord with [`EventOutcome::status`] (204) or the
    /// error's [`status`](Error::status).
    ///
    /// `APPLICATION_DEAUTHORIZED` ends every session of the user created until now, wherever
    /// it lives: refused by user through the revocation list (sessions sealed in cookies
    /// included; a login in the very same second is refused too, see
    /// [`RevocationList::revoke_user`]) and, with a server-side store, deleted as
    /// [`logout_everywhere`](Self::logout_everywhere) does. A later login works as usual.
    /// Only sessions that know their user are covered: the login learns the user id with the
    /// `identify` scope (the default); a session logged in without it carries none.
    ///
    /// [`EventOutcome::status`]: crate::events::EventOutcome::status
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth, headers: http::HeaderMap, body: bytes::Bytes) -> http::StatusCode {
    /// match discord.handle_event(&headers, &body).await {
    ///     Ok(outcome) => outcome.status(),
    ///     Err(e) => e.status(),
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] (401) for a missing, malformed, forged or stale signature;
    /// [`Error::NoPublicKey`] (503) without a public key; [`Error::InvalidRequest`] (400) for a
    /// signed body that is not an event; [`Error::Store`] (503) when ending the sessions failed
    /// (Discord sends the event again).
    #[cfg(feature = "events")]
    #[cfg_attr(docsrs, doc(cfg(feature = "events")))]
    pub async fn handle_event(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<crate::events::EventOutcome, Error> {
        self.events.handle(&self.sessions, headers, body).await
    }

    /// The session of a request, from its headers (`Cookie`, `Host`, `Origin`,
    /// `Sec-Fetch-Site`). Nothing is decrypted until a method needs it.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth, headers: http::HeaderMap) {
    /// let session = discord.session(&headers);
    /// let logged_in = session.authorized().await;
    /// # let _ = logged_in; }
    /// ```
    #[must_use]
    pub fn session(&self, headers: &HeaderMap) -> DiscordSession {
        DiscordSession::from_headers(Arc::clone(&self.sessions), headers)
    }

    /// A call with the bot token (`Authorization: Bot ...`), Flask-Discord's `bot_request`.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// let me: serde_json::Value = discord.bot_request(http::Method::GET, "/users/@me").send_json().await?;
    /// # let _ = me; Ok(()) }
    /// ```
    pub fn bot_request(&self, method: Method, route: impl AsRef<str>) -> ApiRequest<'_> {
        ApiRequest::new(Sender::Bot(self.sessions.http()), method, route.as_ref())
    }

    /// Registers the application's linked-roles metadata records with the bot token (`PUT
    /// /applications/{client_id}/role-connections/metadata`), replacing the ones there; returns
    /// Discord's answer. The records are checked first (at most 5, each valid, unique keys):
    /// nothing is sent when one breaks a rule.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::models::{RoleConnectionMetadata, RoleConnectionMetadataType as T};
    /// let level = RoleConnectionMetadata::new(T::IntegerGreaterThanOrEqual, "level", "Level", "Level reached")?;
    /// discord.register_role_connection_metadata(&[level]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::RoleConnection`] (no call), [`Error::NoBotToken`], [`Error::BotUnauthorized`],
    /// upstream errors (Discord's 50035 "Invalid Form Body" as [`Error::Api`]).
    pub async fn register_role_connection_metadata(
        &self,
        records: &[RoleConnectionMetadata],
    ) -> Result<Vec<RoleConnectionMetadata>, Error> {
        register_metadata(self.sessions.http(), records).await
    }

    /// The application's linked-roles metadata records, with the bot token (`GET
    /// /applications/{client_id}/role-connections/metadata`).
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// let records = discord.fetch_role_connection_metadata().await?;
    /// # let _ = records; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NoBotToken`], [`Error::BotUnauthorized`], upstream errors.
    pub async fn fetch_role_connection_metadata(
        &self,
    ) -> Result<Vec<RoleConnectionMetadata>, Error> {
        fetch_metadata(self.sessions.http()).await
    }

    /// An app token with `scopes` from the client-credentials grant: a Bearer token for the
    /// application's owner, no refresh token
    /// ([Discord: Client Credentials Grant](https://discord.com/developers/docs/topics/oauth2#client-credentials-grant)).
    /// One token per scope set (order and repeats do not matter) is kept in memory and reused
    /// until [`APP_TOKEN_MARGIN`](crate::APP_TOKEN_MARGIN) before its expiry on the configured
    /// clock; concurrent callers share one grant; a failed grant is not remembered. Send calls
    /// with [`AppToken::request`].
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::{Scope, Scopes};
    /// let app = discord.app_token(&Scopes::from([Scope::ApplicationsCommandsUpdate])).await?;
    /// let commands = app
    ///     .request(http::Method::GET, format!("/applications/{}/commands", discord.config().client_id()))
    ///     .send_payload()
    ///     .await?;
    /// # let _ = commands; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] without a scope or with `bot` / `webhook.incoming` (no call);
    /// [`Error::OAuth`] when Discord refuses the grant (`invalid_scope`, `invalid_client`),
    /// upstream errors ([`Error::Api`], [`Error::Timeout`], [`Error::RateLimited`], ...).
    pub async fn app_token(&self, scopes: &Scopes) -> Result<AppToken, Error> {
        self.app_tokens.get(scopes).await
    }

    /// Exchanges the code an Activity's frontend got from the Embedded App SDK's `authorize`
    /// command (issued without a redirect, so none is sent) and returns the user's access token,
    /// its lifetime and scopes, for the frontend's `authenticate` command
    /// ([Discord: How Activities Work](https://discord.com/developers/docs/activities/how-activities-work)).
    /// No session and no cookie: the caller decides what to keep.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth, code: &str) -> Result<(), discord_oauth::Error> {
    /// let token = discord.exchange_activity_code(code).await?;
    /// let body = serde_json::json!({ "access_token": token.access_token.secret() });
    /// # let _ = body; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (400) for an empty or malformed code (no call);
    /// [`Error::OAuth`] (400, `invalid_grant`) for an unknown, used or expired code; upstream
    /// errors; [`Error::Decode`] for a malformed answer.
    pub async fn exchange_activity_code(&self, code: &str) -> Result<ActivityToken, Error> {
        self.app_tokens.exchange_activity_code(code).await
    }

    /// A call without `Authorization`, Flask-Discord's `request(..., oauth=False)`.
    ///
    /// ```no_run
    /// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
    /// let answer = discord.request(http::Method::GET, "/gateway").send_payload().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn request(&self, method: Method, route: impl AsRef<str>) -> ApiRequest<'_> {
        ApiRequest::new(
            Sender::Anonymous(self.sessions.http()),
            method,
            route.as_ref(),
        )
    }
}
