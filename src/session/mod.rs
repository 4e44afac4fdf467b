//! Sessions: the per-browser [`DiscordSession`] handle — loading it from its cookie, logging in
//! ([`login`](DiscordSession::create_session) and [`callback`](DiscordSession::callback)),
//! installing the application ([`create_install`](DiscordSession::create_install)),
//! logging out, and refreshing its tokens — and `Sessions`, the application-wide machinery it
//! runs on (cookie keys, lifetimes, stores, refresh coordination).
//!
//! Framework-neutral: a session is built from request headers
//! ([`DiscordOAuth::session`](crate::DiscordOAuth::session)) and hands back `Set-Cookie` values
//! ([`DiscordSession::take_set_cookies`]); the axum layer only glues these to axum types. The
//! Discord resources a session reads (user, guilds, connections...) live in [`crate::api`].
//!
//! Owns: the session and pending-login cookies, the session lifecycle, the one
//! refresh-and-retry path. Imports the pipeline, the OAuth2 protocol, the stores and the cache;
//! must not import the client, the user API or a web framework.
//!
//! # Security by default
//! - `state`: 128 random bits, single use (the [`ConsumedStates`]
//!   set), 10-minute expiry, bound to the browser by the encrypted pending-login cookie, always
//!   required. A missing, forged, expired or reused state is [`Error::InvalidState`] (400) and no
//!   token request is sent.
//! - PKCE S256 on every login, except with `role_connections.write`, which Discord refuses to
//!   combine with PKCE ([Discord: OAuth2](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant)).
//! - The session is replaced on every login: a new id, the old one revoked, so the previous
//!   account can never show after a re-login (a Flask-Discord bug).
//! - Cookies: `HttpOnly`, `SameSite=Lax` (Strict would drop the cookie on the way back from
//!   Discord), `Secure` and the `__Host-` prefix when the redirect URI is https; AES-256-GCM with
//!   per-cookie HKDF keys; absolute and idle lifetimes.

mod cookie;
/// The fuzz targets' way into the cookies (feature `fuzzing`, see `crate::__fuzz`).
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing;
mod install;
mod load;
mod login;
mod logout;
mod opened;
mod origin;
mod pending;
mod refresh;
mod throttle;
mod verified;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderValue};

pub use install::InstallOptions;
pub use login::{Callback, Flow, LoginOptions, PENDING_LIFETIME_SECS};
pub use origin::check_same_origin;
pub use pending::is_local_path;
pub use throttle::{LoginStep, LoginThrottle};
pub(crate) use verified::DEFAULT_RECHECK;

use crate::cache::{CacheTtls, UserCache};
use crate::config::Config;
use crate::error::Error;
use crate::http::Http;
use crate::store::{
    ConsumedStates, RefreshCoordination, RevocationList, SessionEvents, SessionRecord, TokenStore,
};
use crate::vocab::scope::{Scope, Scopes};
use cookie::CookieKeys;
use opened::OpenedCookies;
use refresh::RefreshCoordinator;

/// The longest configurable lifetime or delay: 400 days (browsers cap a cookie's `Max-Age`
/// there too, RFC 6265bis). Longer settings are clamped to it, so no expiry time overflows.
pub const MAX_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);

/// `duration` in whole seconds, clamped to [`MAX_LIFETIME`].
fn clamp_secs(duration: Duration) -> u64 {
    duration.min(MAX_LIFETIME).as_secs()
}

/// Lifetimes and cookie settings of the sessions of one application: every lifetime and
/// delay is clamped to [`MAX_LIFETIME`] (400 days) and all expiry arithmetic saturates.
#[derive(Debug, Clone)]
pub(crate) struct SessionPolicy {
    session_cookie: String,
    pending_cookie: String,
    secure: bool,
    absolute_lifetime: u64,
    idle_lifetime: u64,
    refresh_margin: u64,
    revoke_timeout: Duration,
    app_origins: Vec<String>,
}

impl SessionPolicy {
    /// The defaults for `config`: 30-day sessions, 7 days idle, refresh 5 minutes ahead, 2 s
    /// for logout's revoke; `__Host-` cookies when the redirect URI is https.
    pub(crate) fn for_config(config: &Config) -> Self {
        let redirect = config.redirect_uri();
        let secure = redirect.scheme() == "https";
        let prefix = if secure { "__Host-" } else { "" };
        Self {
            session_cookie: format!("{prefix}discord_session"),
            pending_cookie: format!("{prefix}discord_login"),
            secure,
            absolute_lifetime: 30 * 24 * 3600,
            idle_lifetime: 7 * 24 * 3600,
            refresh_margin: 300,
            revoke_timeout: Duration::from_secs(2),
            app_origins: vec![redirect.origin().ascii_serialization()],
        }
    }

    /// A session ends this long after login (at least a minute, at most [`MAX_LIFETIME`]).
    pub(crate) fn absolute_lifetime(&mut self, lifetime: Duration) {
        self.absolute_lifetime = clamp_secs(lifetime).max(60);
    }

    /// A session unused this long ends (at least a minute, at most [`MAX_LIFETIME`]).
    pub(crate) fn idle_lifetime(&mut self, lifetime: Duration) {
        self.idle_lifetime = clamp_secs(lifetime).max(60);
    }

    /// Tokens are refreshed this long before they expire (at most [`MAX_LIFETIME`]).
    pub(crate) fn refresh_margin(&mut self, margin: Duration) {
        self.refresh_margin = clamp_secs(margin);
    }

    /// Logout waits this long for Discord's revoke (at most [`MAX_LIFETIME`]).
    pub(crate) fn revoke_timeout(&mut self, timeout: Duration) {
        self.revoke_timeout = timeout.min(MAX_LIFETIME);
    }
}

/// Where session records live: in the sealed cookie (no server state, the default) or in a
/// [`TokenStore`] by id (the cookie carries the sealed id).
#[derive(Debug, Clone)]
pub(crate) enum Storage {
    Cookie,
    Server(Arc<dyn TokenStore>),
}

/// The machinery shared by every session of one application: built once by
/// [`DiscordOAuthBuilder`](crate::DiscordOAuthBuilder), read through accessors.
#[derive(Debug)]
pub(crate) struct Sessions {
    http: Http,
    policy: SessionPolicy,
    keys: CookieKeys,
    storage: Storage,
    revocations: Arc<dyn RevocationList>,
    consumed: Arc<dyn ConsumedStates>,
    coordination: Option<Arc<dyn RefreshCoordination>>,
    refresh: RefreshCoordinator,
    opened: OpenedCookies,
    verified: Arc<verified::Verified>,
    events: Option<Arc<dyn SessionEvents>>,
    cache: Arc<dyn UserCache>,
    cache_ttls: CacheTtls,
    /// Whether a login on another host than the redirect URI's was reported (once per client).
    other_host_warned: std::sync::atomic::AtomicBool,
    throttle: Option<Arc<dyn LoginThrottle>>,
}

/// What [`Sessions::new`] is made of.
pub(crate) struct SessionsParts {
    pub(crate) http: Http,
    pub(crate) policy: SessionPolicy,
    pub(crate) storage: Storage,
    pub(crate) revocations: Arc<dyn RevocationList>,
    pub(crate) consumed: Arc<dyn ConsumedStates>,
    pub(crate) coordination: Option<Arc<dyn RefreshCoordination>>,
    /// How long a shared store's verdict on a session is reused.
    pub(crate) recheck: Duration,
    /// Ended sessions announced to and by the other processes.
    pub(crate) events: Option<Arc<dyn SessionEvents>>,
    pub(crate) cache: Arc<dyn UserCache>,
    pub(crate) cache_ttls: CacheTtls,
    /// Asked before the unauthenticated login steps.
    pub(crate) throttle: Option<Arc<dyn LoginThrottle>>,
}

impl Sessions {
    pub(crate) fn new(parts: SessionsParts) -> Self {
        let config = parts.http.config();
        let keys = CookieKeys::new(config.secret_key(), config.previous_secret_keys());
        let verified = Arc::new(verified::Verified::new(parts.recheck));
        if let Some(events) = &parts.events {
            // Another process's logout: forget what was verified about that session at once.
            let verified = Arc::clone(&verified);
            events.listen(Box::new(move |id| verified.forget(&id)));
        }
        Self {
            keys,
            http: parts.http,
            policy: parts.policy,
            storage: parts.storage,
            revocations: parts.revocations,
            consumed: parts.consumed,
            coordination: parts.coordination,
            refresh: RefreshCoordinator::default(),
            opened: OpenedCookies::default(),
            verified,
            events: parts.events,
            cache: parts.cache,
            cache_ttls: parts.cache_ttls,
            other_host_warned: std::sync::atomic::AtomicBool::new(false),
            throttle: parts.throttle,
        }
    }

    /// The HTTP pipeline.
    pub(crate) fn http(&self) -> &Http {
        &self.http
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &Config {
        self.http.config()
    }

    /// The users cache.
    pub(crate) fn cache(&self) -> &dyn UserCache {
        &*self.cache
    }

    /// The cache's time to live per kind.
    pub(crate) fn cache_ttls(&self) -> &CacheTtls {
        &self.cache_ttls
    }

    /// The current time (Unix seconds) on the configured clock.
    pub(crate) fn now(&self) -> u64 {
        self.config().clock().unix_now()
    }
}

#[derive(Debug)]
enum Loaded {
    NotYet,
    Missing,
    Present(Arc<SessionRecord>),
}

/// The session of one request: cheap to create (nothing is decrypted until used), cheap to
/// clone, and the only way to act as the user.
///
/// ```no_run
/// # async fn run(discord: discord_oauth::DiscordOAuth, headers: http::HeaderMap) {
/// let session = discord.session(&headers);
/// if session.authorized().await {
///     println!("user {:?}", session.user_id().await);
/// }
/// let set_cookies = session.take_set_cookies(); // copy them into the response
/// # let _ = set_cookies; }
/// ```
#[derive(Clone)]
pub struct DiscordSession {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    sessions: Arc<Sessions>,
    cookies: cookie::RequestCookies,
    /// `Host`, `Origin` and `Sec-Fetch-Site`, for the same-origin check.
    host: Option<HeaderValue>,
    origin: Option<HeaderValue>,
    fetch_site: Option<HeaderValue>,
    /// The record, once loaded (or known to be missing).
    loaded: Mutex<Loaded>,
    /// Serializes the first full load of a handle shared by concurrent tasks.
    load_gate: tokio::sync::Mutex<()>,
    set_cookies: Mutex<Vec<HeaderValue>>,
    /// The client key for the [`LoginThrottle`].
    client_key: std::sync::OnceLock<Box<str>>,
}

impl std::fmt::Debug for DiscordSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordSession")
            .field("has_cookies", &!self.inner.cookies.is_empty())
            .finish_non_exhaustive()
    }
}

impl DiscordSession {
    /// The session of a request, from its headers (`Cookie`, `Host`, `Origin`,
    /// `Sec-Fetch-Site`). Nothing is decrypted until a method needs it.
    pub(crate) fn from_headers(sessions: Arc<Sessions>, headers: &HeaderMap) -> Self {
        Self {
            inner: Arc::new(SessionInner {
                cookies: cookie::RequestCookies::of(headers),
                sessions,
                host: headers.get(http::header::HOST).cloned(),
                origin: headers.get(http::header::ORIGIN).cloned(),
                fetch_site: headers.get(&SEC_FETCH_SITE).cloned(),
                loaded: Mutex::new(Loaded::NotYet),
                load_gate: tokio::sync::Mutex::new(()),
                set_cookies: Mutex::new(Vec::new()),
                client_key: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Names the client behind this request (e.g. its IP address) for the
    /// [`LoginThrottle`]: the key it is asked about. The first key set stays.
    ///
    /// ```no_run
    /// # fn f(discord: discord_oauth::DiscordOAuth, headers: http::HeaderMap, peer: std::net::SocketAddr) {
    /// let session = discord.session(&headers);
    /// session.set_client_key(peer.ip().to_string());
    /// # }
    /// ```
    pub fn set_client_key(&self, key: impl Into<String>) {
        let _ = self.inner.client_key.set(key.into().into_boxed_str());
    }

    /// Asks the [`LoginThrottle`], if any, whether `step` may go on.
    pub(crate) fn throttle(&self, step: LoginStep) -> Result<(), crate::Error> {
        let Some(throttle) = &self.sessions().throttle else {
            return Ok(());
        };
        let client = self.inner.client_key.get().map(|k| &**k);
        throttle.check(step, client).map_err(|retry_after| {
            tracing::debug!(?step, "login step throttled");
            crate::Error::Throttled { retry_after }
        })
    }

    /// The application-wide machinery.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The sealed session cookie of the request, if any. With several cookies of the
    /// session's name, the first that opens is the one (a garbage or foreign one never hides
    /// nor clears a valid one); when none opens, the first.
    fn session_cookie(&self) -> Option<&str> {
        self.first_opening(&self.policy().session_cookie, |raw| {
            self.open_session_cookie(raw).is_some()
        })
    }

    /// The value of cookie `name`: the only one, or the first of several that `opens`.
    fn first_opening<'a>(&'a self, name: &'a str, opens: impl Fn(&str) -> bool) -> Option<&'a str> {
        let mut all = self.inner.cookies.all(name);
        let first = all.next()?;
        let Some(second) = all.next() else {
            return Some(first);
        };
        [first, second]
            .into_iter()
            .chain(all)
            .find(|raw| opens(raw))
            .or(Some(first))
    }

    /// Whether the request carried a session cookie (valid or not): its answer is about one
    /// user, so no shared cache may keep it (`Cache-Control: no-store`).
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession, response: &mut http::Response<()>) {
    /// if session.carries_session_cookie() {
    ///     response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn carries_session_cookie(&self) -> bool {
        self.session_cookie().is_some()
    }

    /// The sealed pending-login cookie of the request, if any (of several, the first that
    /// opens).
    fn pending_cookie(&self) -> Option<&str> {
        let name = &self.policy().pending_cookie;
        self.first_opening(name, |raw| {
            self.sessions()
                .keys
                .open(cookie::Purpose::Pending, name, raw)
                .is_some()
        })
    }

    fn policy(&self) -> &SessionPolicy {
        &self.inner.sessions.policy
    }

    pub(crate) fn now(&self) -> u64 {
        self.sessions().now()
    }

    /// The `Set-Cookie` values this session produced; the web layer adds them to the response.
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession, response: &mut http::Response<()>) {
    /// for cookie in session.take_set_cookies() {
    ///     response.headers_mut().append(http::header::SET_COOKIE, cookie);
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn take_set_cookies(&self) -> Vec<HeaderValue> {
        std::mem::take(&mut *lock(&self.inner.set_cookies))
    }

    fn push_cookie(&self, name: &str, value: &str, max_age: u64) {
        if let Some(v) = cookie::set_cookie(name, value, max_age, self.policy().secure) {
            let mut list = lock(&self.inner.set_cookies);
            list.retain(|c| !cookie::is_named(c, name));
            list.push(v);
        }
    }

    fn clear_cookie(&self, name: &str) {
        self.push_cookie(name, "", 0);
    }

    /// Refuses a state-changing request from another site (see [`check_same_origin`]).
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// session.check_same_origin()?; // before acting on a POST
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::CrossSite`].
    pub fn check_same_origin(&self) -> Result<(), Error> {
        let inner = &*self.inner;
        origin::check(
            inner.fetch_site.as_ref(),
            inner.origin.as_ref(),
            inner.host.as_ref(),
            &self.policy().app_origins,
        )
    }

    /// The session record, if this request carries a valid, live, non-revoked session cookie.
    /// A garbage, forged, expired or revoked cookie is treated as no session (and cleared).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// if let Some(record) = session.record().await? {
    ///     println!("granted: {}", record.scopes);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Store`] when a server-side store fails.
    pub async fn record(&self) -> Result<Option<SessionRecord>, Error> {
        Ok(self.shared_record().await?.map(|r| (*r).clone()))
    }

    /// [`record`](Self::record) without copying it: loaded once per request, then shared.
    /// A remembered cookie needing nothing done is the hot path; anything else takes the full
    /// load (boxed, so that the futures of callers stay small).
    pub(crate) async fn shared_record(&self) -> Result<Option<Arc<SessionRecord>>, Error> {
        if let Some(known) = self.known_record() {
            return Ok(known);
        }
        if let Some(record) = self.load_remembered().await? {
            return Ok(self.settle(Some(record)));
        }
        Box::pin(self.load_once()).await
    }

    /// The full load, once per handle even when tasks share it.
    async fn load_once(&self) -> Result<Option<Arc<SessionRecord>>, Error> {
        let _gate = self.inner.load_gate.lock().await;
        if let Some(known) = self.known_record() {
            return Ok(known);
        }
        let record = self.load_record().await?;
        Ok(self.settle(record))
    }

    /// Records a loaded record unless the handle's state was decided while it loaded (a
    /// logout, a refresh through a task sharing the handle): the decision wins.
    fn settle(&self, record: Option<Arc<SessionRecord>>) -> Option<Arc<SessionRecord>> {
        let mut loaded = lock(&self.inner.loaded);
        match &*loaded {
            Loaded::NotYet => {
                *loaded = match &record {
                    Some(r) => Loaded::Present(Arc::clone(r)),
                    None => Loaded::Missing,
                };
                record
            }
            Loaded::Missing => None,
            Loaded::Present(r) => Some(Arc::clone(r)),
        }
    }

    /// The record of this handle if already decided: `Some(None)` when known missing.
    fn known_record(&self) -> Option<Option<Arc<SessionRecord>>> {
        match &*lock(&self.inner.loaded) {
            Loaded::NotYet => None,
            Loaded::Missing => Some(None),
            Loaded::Present(r) => Some(Some(Arc::clone(r))),
        }
    }

    fn set_loaded(&self, record: Option<&SessionRecord>) {
        *lock(&self.inner.loaded) = match record {
            Some(r) => Loaded::Present(Arc::new(r.clone())),
            None => Loaded::Missing,
        };
    }

    pub(crate) async fn require_record(&self) -> Result<SessionRecord, Error> {
        self.record().await?.ok_or(Error::Unauthorized)
    }

    /// Whether this request has a live session (Flask-Discord's `authorized`). Unlike
    /// Flask-Discord's, an expired, revoked or forged session is not authorized.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) {
    /// let page = if session.authorized().await { "dashboard" } else { "login" };
    /// # let _ = page; }
    /// ```
    pub async fn authorized(&self) -> bool {
        matches!(self.shared_record().await, Ok(Some(_)))
    }

    /// The Discord user id of the session (Flask-Discord's `user_id`), known from the login on.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) {
    /// let id: Option<u64> = session.user_id().await;
    /// # let _ = id; }
    /// ```
    pub async fn user_id(&self) -> Option<u64> {
        self.shared_record()
            .await
            .ok()
            .flatten()
            .and_then(|r| r.user_id)
    }

    /// The scopes Discord granted to this session.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) {
    /// let can_list_guilds = session.scopes().await.is_some_and(|s| s.contains(&discord_oauth::Scope::Guilds));
    /// # let _ = can_list_guilds; }
    /// ```
    pub async fn scopes(&self) -> Option<Scopes> {
        self.shared_record()
            .await
            .ok()
            .flatten()
            .map(|r| r.scopes.clone())
    }

    /// [`require_scope`](Self::require_scope) without copying the record.
    pub(crate) async fn require_scope_shared(
        &self,
        scope: &Scope,
    ) -> Result<Arc<SessionRecord>, Error> {
        let record = self.shared_record().await?.ok_or(Error::Unauthorized)?;
        if record.scopes.contains(scope) {
            Ok(record)
        } else {
            Err(Error::MissingScope(scope.clone()))
        }
    }

    /// Fails with [`Error::MissingScope`] unless the session was granted `scope`, without
    /// calling Discord; returns the record.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// session.require_scope(&discord_oauth::Scope::GuildsJoin).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`] without a session, [`Error::MissingScope`].
    pub async fn require_scope(&self, scope: &Scope) -> Result<SessionRecord, Error> {
        self.require_scope_shared(scope).await.map(|r| (*r).clone())
    }
}

/// `Sec-Fetch-Site`, parsed once.
static SEC_FETCH_SITE: http::HeaderName = http::HeaderName::from_static("sec-fetch-site");

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `fut` inside `span` (one of the session's own: `discord.callback`, `discord.refresh`,
/// `discord.logout`…), and records the error in the span's `error` field when it fails. Errors
/// carry no secret, so the field never holds one.
pub(crate) async fn traced<T>(
    span: tracing::Span,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    use tracing::Instrument as _;
    let result = fut.instrument(span.clone()).await;
    if let Err(e) = &result {
        span.record("error", tracing::field::display(e));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_clamped_to_400_days() {
        let config = Config::builder()
            .client_id(1)
            .client_secret("s")
            .redirect_uri("http://127.0.0.1:5000/callback")
            .secret_key("k".repeat(48))
            .build()
            .unwrap();
        let mut policy = SessionPolicy::for_config(&config);
        policy.absolute_lifetime(Duration::MAX);
        policy.idle_lifetime(Duration::MAX);
        policy.refresh_margin(Duration::MAX);
        policy.revoke_timeout(Duration::MAX);
        let max = MAX_LIFETIME.as_secs();
        assert_eq!(max, 400 * 24 * 3600);
        assert_eq!(
            (
                policy.absolute_lifetime,
                policy.idle_lifetime,
                policy.refresh_margin
            ),
            (max, max, max)
        );
        assert_eq!(policy.revoke_timeout, MAX_LIFETIME);
        policy.absolute_lifetime(Duration::ZERO);
        assert_eq!(policy.absolute_lifetime, 60);
    }
}
