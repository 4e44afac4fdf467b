//! [`DiscordOAuth`]: the application-wide client (the seed's `DiscordOAuth2Session` object and
//! its `DiscordOAuth2HttpClient` base). One per application, cheap to clone, shared by every
//! request. Per-browser work happens on a [`DiscordSession`](crate::session::DiscordSession)
//! obtained from it.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::Error;
use crate::http::{Auth, Body, Call, Http, Payload, Response};
use crate::ratelimit::{Identity, Limiter};
use crate::session::{
    ConsumedStates, CookieTokenStore, MemoryConsumedStates, MemoryRevocationList, RevocationList,
    TokenStore,
};

/// The application-wide Discord client.
///
/// ```no_run
/// # async fn run() -> Result<(), discord_oauth::Error> {
/// use discord_oauth::{Config, DiscordOAuth};
/// let discord = DiscordOAuth::new(Config::from_env()?)?;
/// // A bot-token call (the seed's `bot_request`):
/// let guild: serde_json::Value = discord.bot_request(http::Method::GET, "/guilds/81384788765712384").send_json().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DiscordOAuth {
    pub(crate) inner: Arc<ClientInner>,
}

#[derive(Debug)]
pub(crate) struct ClientInner {
    pub(crate) http: Http,
    pub(crate) settings: crate::session::SessionSettings,
    pub(crate) keys: crate::session::crypto::CookieKeys,
    pub(crate) token_store: Arc<dyn TokenStore>,
    pub(crate) revocations: Arc<dyn RevocationList>,
    pub(crate) consumed: Arc<dyn ConsumedStates>,
    pub(crate) refresh: crate::session::RefreshCoordinator,
    pub(crate) users_cache: Arc<dyn crate::cache::UserCache>,
    pub(crate) cache_ttls: crate::cache::CacheTtls,
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
    session_lifetime: Option<std::time::Duration>,
    idle_timeout: Option<std::time::Duration>,
    refresh_margin: Option<std::time::Duration>,
    revoke_timeout: Option<std::time::Duration>,
    users_cache: Option<Arc<dyn crate::cache::UserCache>>,
    cache_ttls: crate::cache::CacheTtls,
}

impl DiscordOAuthBuilder {
    /// Replaces the rate limiter (default: Discord's rules, in memory).
    pub fn limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Where session records live (default [`CookieTokenStore`]: in the encrypted cookie).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// The list of logged-out sessions (default in memory).
    pub fn revocation_list(mut self, list: Arc<dyn RevocationList>) -> Self {
        self.revocations = Some(list);
        self
    }

    /// The set of used OAuth2 states (default in memory, 100 000 entries).
    pub fn consumed_states(mut self, set: Arc<dyn ConsumedStates>) -> Self {
        self.consumed = Some(set);
        self
    }

    /// Absolute lifetime of a session from login (default 30 days).
    pub fn session_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.session_lifetime = Some(lifetime);
        self
    }

    /// A session unused this long ends (default 7 days).
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Refresh the access token this long before it expires (default 5 minutes).
    pub fn refresh_margin(mut self, margin: std::time::Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// How long logout waits for Discord's revoke before answering anyway (default 2 s).
    pub fn revoke_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.revoke_timeout = Some(timeout);
        self
    }

    /// The users cache (the seed's `users_cache`). Default: [`MokaUserCache`] bounded by
    /// `DISCORD_USERS_CACHE_MAX_LIMIT` entries (feature `cache`), else [`NoUserCache`].
    ///
    /// [`MokaUserCache`]: crate::cache::MokaUserCache
    /// [`NoUserCache`]: crate::cache::NoUserCache
    pub fn users_cache(mut self, cache: Arc<dyn crate::cache::UserCache>) -> Self {
        self.users_cache = Some(cache);
        self
    }

    /// How long a cached user is served (default 5 minutes, at most a day; zero: never served).
    pub fn user_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.user = ttl.min(crate::cache::MAX_TTL);
        self
    }

    /// How long cached guilds are served (default 60 s, at most a day).
    pub fn guilds_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.guilds = ttl.min(crate::cache::MAX_TTL);
        self
    }

    /// How long cached connections are served (default 60 s, at most a day).
    pub fn connections_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.cache_ttls.connections = ttl.min(crate::cache::MAX_TTL);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] if the HTTP client cannot be built (e.g. a malformed proxy).
    pub fn build(self) -> Result<DiscordOAuth, Error> {
        let limiter = self
            .limiter
            .unwrap_or_else(|| Arc::new(crate::ratelimit::DiscordLimiter::new()));
        let mut settings = crate::session::SessionSettings::for_config(&self.config);
        if let Some(d) = self.session_lifetime {
            settings.absolute_lifetime = d.as_secs().max(60);
        }
        if let Some(d) = self.idle_timeout {
            settings.idle_lifetime = d.as_secs().max(60);
        }
        if let Some(d) = self.refresh_margin {
            settings.refresh_margin = d.as_secs();
        }
        if let Some(d) = self.revoke_timeout {
            settings.revoke_timeout = d;
        }
        let keys = crate::session::crypto::CookieKeys::new(
            self.config.inner.secret_key.as_ref(),
            &self.config.inner.previous_secret_keys,
        );
        let users_cache = self
            .users_cache
            .unwrap_or_else(|| crate::cache::default_cache(self.config.users_cache_max_limit()));
        let http = Http::new(self.config, limiter)?;
        Ok(DiscordOAuth {
            inner: Arc::new(ClientInner {
                http,
                settings,
                keys,
                token_store: self
                    .token_store
                    .unwrap_or_else(|| Arc::new(CookieTokenStore)),
                revocations: self
                    .revocations
                    .unwrap_or_else(|| Arc::new(MemoryRevocationList::new())),
                consumed: self
                    .consumed
                    .unwrap_or_else(|| Arc::new(MemoryConsumedStates::default())),
                refresh: crate::session::RefreshCoordinator::default(),
                users_cache,
                cache_ttls: self.cache_ttls,
            }),
        })
    }
}

impl DiscordOAuth {
    /// A client with the default limiter, stores and cache.
    ///
    /// # Errors
    /// [`Error::Config`] if the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder, to replace the defaults.
    pub fn builder(config: Config) -> DiscordOAuthBuilder {
        DiscordOAuthBuilder {
            config,
            limiter: None,
            token_store: None,
            revocations: None,
            consumed: None,
            session_lifetime: None,
            idle_timeout: None,
            refresh_margin: None,
            revoke_timeout: None,
            users_cache: None,
            cache_ttls: crate::cache::CacheTtls::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        self.inner.http.config()
    }

    /// A call with the bot token (`Authorization: Bot ...`), the seed's `bot_request`.
    pub fn bot_request(&self, method: Method, route: impl Into<String>) -> ApiRequest<'_> {
        let mut call = Call::api(method, route);
        call.identity = Identity::Bot;
        ApiRequest::new(self, call, RequestAuth::Bot)
    }

    /// A call without `Authorization`, the seed's `request(..., oauth=False)`.
    pub fn request(&self, method: Method, route: impl Into<String>) -> ApiRequest<'_> {
        ApiRequest::new(self, Call::api(method, route), RequestAuth::None)
    }

    pub(crate) fn http(&self) -> &Http {
        &self.inner.http
    }
}

/// How an [`ApiRequest`] authenticates.
#[derive(Clone)]
pub(crate) enum RequestAuth<'a> {
    None,
    Bot,
    Session(&'a crate::session::DiscordSession),
}

/// A request under construction: `request`, `bot_request` or a session's `request`.
/// Nothing is sent until [`send`](Self::send).
#[must_use = "a request does nothing until `.send()`"]
pub struct ApiRequest<'a> {
    client: &'a DiscordOAuth,
    call: Call,
    auth: RequestAuth<'a>,
    error: Option<Error>,
}

impl std::fmt::Debug for ApiRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.call.method)
            .field("target", &self.call.target)
            .finish_non_exhaustive()
    }
}

impl<'a> ApiRequest<'a> {
    pub(crate) fn new(client: &'a DiscordOAuth, call: Call, auth: RequestAuth<'a>) -> Self {
        Self {
            client,
            call,
            auth,
            error: None,
        }
    }

    /// A JSON body (the seed's `data`/`json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.call.body = Body::Json(Bytes::from(bytes)),
            Err(e) => {
                self.error = Some(Error::InvalidRequest(format!(
                    "body is not serializable: {e}"
                )))
            }
        }
        self
    }

    /// Query parameters, appended to the route.
    pub fn query<K: Into<String>, V: Into<String>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.call
            .query
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// An extra header (e.g. `X-Audit-Log-Reason`). `Authorization` cannot be set this way.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        match (
            HeaderName::try_from(name),
            HeaderValue::from_str(value.as_ref()),
        ) {
            (Ok(n), _) if n == http::header::AUTHORIZATION || n == http::header::HOST => {
                self.error = Some(Error::InvalidRequest(format!(
                    "the `{n}` header is managed by the client"
                )));
            }
            (Ok(n), Ok(v)) => {
                self.call.headers.append(n, v);
            }
            _ => self.error = Some(Error::InvalidRequest(format!("invalid header `{name}`"))),
        }
        self
    }

    /// Sets `X-Audit-Log-Reason` (URL-encoded, as Discord requires for non-ASCII reasons).
    pub fn audit_log_reason(self, reason: &str) -> Self {
        let encoded: String = url::form_urlencoded::byte_serialize(reason.as_bytes()).collect();
        self.header("x-audit-log-reason", encoded.replace('+', "%20"))
    }

    /// Sends the request.
    ///
    /// # Errors
    /// Every non-2xx answer, transport failure, timeout or rate limit that could not be waited
    /// out, as a typed [`Error`].
    pub async fn send(self) -> Result<Response, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.auth {
            RequestAuth::None => self.client.http().send(self.call, Auth::None).await,
            RequestAuth::Bot => self.client.http().send(self.call, Auth::Bot).await,
            RequestAuth::Session(session) => session.send_call(self.call).await,
        }
    }

    /// Sends the request and decodes the JSON answer into `T`.
    ///
    /// # Errors
    /// As [`send`](Self::send), plus [`Error::Decode`] for an unexpected body.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.send().await?.json()
    }

    /// Sends the request and returns JSON or text by content type, as the seed's `request`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_payload(self) -> Result<Payload, Error> {
        self.send().await?.payload()
    }
}
