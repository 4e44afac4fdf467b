//! Sessions: the per-browser [`DiscordSession`] handle with the seed's methods
//! (`create_session`, `callback`, `authorized`, `user_id`, `fetch_*`, `add_to_guild`,
//! `revoke`, `request`, `bot_request`), its two encrypted cookies, and the storage seams
//! ([`TokenStore`], [`RevocationList`], [`ConsumedStates`]).
//!
//! Framework-neutral: a session is built from request headers
//! ([`DiscordOAuth::session`](crate::DiscordOAuth::session)) and hands back `Set-Cookie` values
//! ([`DiscordSession::take_set_cookies`]); the axum layer only glues these to axum types.
//!
//! # Security by default
//! - `state`: 128 random bits, single use (the [`ConsumedStates`] set), 10-minute expiry, bound
//!   to the browser by the encrypted pending-login cookie, always required. A missing, forged,
//!   expired or reused state is [`Error::InvalidState`] (400) and no token request is sent.
//! - PKCE S256 on every login, except with `role_connections.write`, which Discord refuses to
//!   combine with PKCE (discord-api.md §1.6).
//! - The session is replaced on every login: a new id, the old one revoked, so the previous
//!   account can never show after a re-login (Flask-Discord's bug B2).
//! - Cookies: `HttpOnly`, `SameSite=Lax` (Strict would drop the cookie on the way back from
//!   Discord), `Secure` and the `__Host-` prefix when the redirect URI is https; AES-256-GCM with
//!   per-cookie HKDF keys; absolute and idle lifetimes.

pub(crate) mod crypto;
mod fetch;
mod origin;
mod pending;
#[cfg(feature = "redis")]
mod redis;
mod store;

use std::sync::{Arc, Mutex};

use http::{HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};

pub use fetch::{AddMemberOptions, FetchedUser};
pub use origin::check_same_origin;
pub use pending::is_local_path;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{DEFAULT_REDIS_PREFIX, RedisConsumedStates, RedisRevocationList, RedisTokenStore};
pub use store::{
    ConsumedStates, CookieTokenStore, MemoryConsumedStates, MemoryRevocationList, MemoryTokenStore,
    RevocationList, SessionId, SessionRecord, StoreError, TokenStore,
};

use crate::client::{ApiRequest, DiscordOAuth, RequestAuth};
use crate::error::{Error, StateError};
use crate::http::{Auth, Call, Response};
use crate::models::{IncomingWebhook, TokenGuild, User};
use crate::oauth;
use crate::permissions::Permissions;
use crate::ratelimit::Identity;
use crate::scope::{Prompt, Scope, Scopes};
use crypto::Purpose;
use pending::{PendingLogin, PendingSlots};

/// How long a login may stay pending (Discord codes live ~100 s; users are slower).
pub const PENDING_LIFETIME_SECS: u64 = 600;

/// Options of one login (the seed's `create_session(scopes, data, prompt, permissions, **params)`).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct LoginOptions {
    scopes: Option<Scopes>,
    data: Option<serde_json::Value>,
    prompt: Prompt,
    permissions: Option<Permissions>,
    params: Vec<(String, String)>,
    next: Option<String>,
}

impl LoginOptions {
    /// Default options: scope `identify`, [`Prompt::None`], no data.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scopes to request (default: `identify`). Scopes never come from the request's query
    /// string (Flask-Discord's bug B16).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = Some(scopes.into_iter().collect());
        self
    }

    /// Data carried through the login in the encrypted pending cookie and returned by
    /// [`DiscordSession::callback`] (at most 1 KiB of JSON). Never in the URL.
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The consent prompt (default [`Prompt::None`]; passthrough scopes always prompt).
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = prompt;
        self
    }

    /// Bot permissions for the `bot` scope (the authorize URL's `permissions`).
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// An extra authorize parameter (`guild_id`, `disable_guild_select`, `integration_type`...).
    /// Reserved keys ([`oauth::RESERVED_PARAMS`]) are refused by `create_session`.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Where to send the user after the callback. Local paths only; anything else is ignored.
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }
}

/// What a successful callback returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Callback {
    /// The `data` given to `create_session`, and nothing else.
    pub data: Option<serde_json::Value>,
    /// The local path to continue to (`/` when none was given).
    pub next: String,
    /// The logged-in user, when the `identify` scope was granted.
    pub user: Option<User>,
    /// The guild the bot was added to (bot flow). Returned, never stored.
    pub guild: Option<TokenGuild>,
    /// The incoming webhook created (`webhook.incoming`), with its token. Returned, never stored.
    pub webhook: Option<IncomingWebhook>,
    /// The scopes Discord granted.
    pub scopes: Scopes,
}

/// Session lifetimes and cookie settings.
#[derive(Debug, Clone)]
pub(crate) struct SessionSettings {
    pub(crate) session_cookie: String,
    pub(crate) pending_cookie: String,
    pub(crate) secure: bool,
    pub(crate) absolute_lifetime: u64,
    pub(crate) idle_lifetime: u64,
    pub(crate) refresh_margin: u64,
    pub(crate) revoke_timeout: std::time::Duration,
    pub(crate) app_origins: Vec<String>,
}

impl SessionSettings {
    pub(crate) fn for_config(config: &crate::Config) -> Self {
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
            revoke_timeout: std::time::Duration::from_secs(2),
            app_origins: vec![redirect.origin().ascii_serialization()],
        }
    }
}

/// Coordination of refreshes across concurrent requests of one authorization.
#[derive(Debug, Default)]
pub(crate) struct RefreshCoordinator {
    locks: Mutex<std::collections::HashMap<SessionId, Arc<tokio::sync::Mutex<()>>>>,
    /// Old refresh token fingerprint → the record that replaced it, for requests that still
    /// carry the pre-rotation cookie (Discord rotates refresh tokens; discord-api.md §1.4).
    rotations: Mutex<std::collections::HashMap<[u8; 16], (SessionRecord, u64)>>,
}

/// How long a rotated pair is handed to requests carrying the old cookie.
const ROTATION_GRACE_SECS: u64 = 120;

impl RefreshCoordinator {
    fn lock_for(&self, id: SessionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, l| Arc::strong_count(l) > 1);
        map.entry(id).or_default().clone()
    }

    /// The record that replaced the refresh token `old_refresh`, within the grace period.
    /// The map is empty but right after refreshes, so the common case costs one lock and no hash.
    fn rotated(&self, old_refresh: &str, now: u64) -> Option<SessionRecord> {
        let map = self
            .rotations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.is_empty() {
            return None;
        }
        map.get(&fingerprint(old_refresh))
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone())
    }

    fn remember(&self, old_refresh: [u8; 16], new: SessionRecord, now: u64) {
        let mut map = self
            .rotations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, (_, exp)| *exp > now);
        map.insert(old_refresh, (new, now + ROTATION_GRACE_SECS));
    }
}

pub(crate) fn fingerprint(secret: &str) -> [u8; 16] {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// The limiter's fingerprint of a token (the same one the pipeline uses for dead-token marks).
fn fingerprint_u64(secret: &str) -> u64 {
    crate::ratelimit::token_fingerprint(secret)
}

#[derive(Debug)]
enum Loaded {
    NotYet,
    Missing,
    Present(Arc<SessionRecord>),
}

/// The session of one request: cheap to create (nothing is decrypted until used), cheap to
/// clone, and the only way to act as the user.
#[derive(Clone)]
pub struct DiscordSession {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    client: DiscordOAuth,
    session_cookie: Option<String>,
    pending_cookie: Option<String>,
    host_headers: HeaderMap,
    loaded: tokio::sync::Mutex<Loaded>,
    set_cookies: Mutex<Vec<HeaderValue>>,
}

impl std::fmt::Debug for DiscordSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordSession")
            .field("has_cookie", &self.inner.session_cookie.is_some())
            .finish_non_exhaustive()
    }
}

/// Finds cookie `name` in the request's `Cookie` headers.
fn find_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl DiscordOAuth {
    /// The session of a request, from its headers (`Cookie`, `Host`, `Origin`,
    /// `Sec-Fetch-Site`). Nothing is decrypted until a method needs it.
    #[must_use]
    pub fn session(&self, headers: &HeaderMap) -> DiscordSession {
        let settings = &self.inner.settings;
        let mut host_headers = HeaderMap::new();
        for name in [http::header::HOST, http::header::ORIGIN] {
            if let Some(v) = headers.get(&name) {
                host_headers.insert(name, v.clone());
            }
        }
        if let Some(v) = headers.get("sec-fetch-site") {
            host_headers.insert("sec-fetch-site", v.clone());
        }
        DiscordSession {
            inner: Arc::new(SessionInner {
                client: self.clone(),
                session_cookie: find_cookie(headers, &settings.session_cookie),
                pending_cookie: find_cookie(headers, &settings.pending_cookie),
                host_headers,
                loaded: tokio::sync::Mutex::new(Loaded::NotYet),
                set_cookies: Mutex::new(Vec::new()),
            }),
        }
    }
}

impl DiscordSession {
    fn client(&self) -> &DiscordOAuth {
        &self.inner.client
    }

    fn now(&self) -> u64 {
        self.client().config().clock().unix_now()
    }

    /// The `Set-Cookie` values this session produced; the web layer adds them to the response.
    #[must_use]
    pub fn take_set_cookies(&self) -> Vec<HeaderValue> {
        std::mem::take(
            &mut *self
                .inner
                .set_cookies
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn push_cookie(&self, name: &str, value: &str, max_age: u64) {
        let settings = &self.client().inner.settings;
        let secure = if settings.secure { "; Secure" } else { "" };
        let cookie =
            format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            let mut list = self
                .inner
                .set_cookies
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            list.retain(|c| !c.as_bytes().starts_with(format!("{name}=").as_bytes()));
            list.push(v);
        }
    }

    fn clear_cookie(&self, name: &str) {
        self.push_cookie(name, "", 0);
    }

    /// Refuses a state-changing request from another site (see [`check_same_origin`]).
    ///
    /// # Errors
    /// [`Error::CrossSite`].
    pub fn check_same_origin(&self) -> Result<(), Error> {
        check_same_origin(
            &self.inner.host_headers,
            &self.client().inner.settings.app_origins,
        )
    }

    // ----- loading -------------------------------------------------------------------------

    /// The session record, if this request carries a valid, live, non-revoked session cookie.
    ///
    /// A garbage, forged, expired or revoked cookie is treated as no session (and cleared).
    ///
    /// # Errors
    /// [`Error::Store`] when a server-side store fails.
    pub async fn record(&self) -> Result<Option<SessionRecord>, Error> {
        Ok(self.shared_record().await?.map(|r| (*r).clone()))
    }

    /// [`record`](Self::record) without copying it: loaded once per request, then shared.
    pub(crate) async fn shared_record(&self) -> Result<Option<Arc<SessionRecord>>, Error> {
        let mut loaded = self.inner.loaded.lock().await;
        if let Loaded::NotYet = *loaded {
            *loaded = match self.load_record().await? {
                Some(r) => Loaded::Present(Arc::new(r)),
                None => Loaded::Missing,
            };
        }
        Ok(match &*loaded {
            Loaded::Present(r) => Some(Arc::clone(r)),
            _ => None,
        })
    }

    async fn load_record(&self) -> Result<Option<SessionRecord>, Error> {
        let Some(raw) = self.inner.session_cookie.as_deref() else {
            return Ok(None);
        };
        let client = &self.client().inner;
        let name = &client.settings.session_cookie;
        let Some((payload, old_key)) = client.keys.open(Purpose::Session, name, raw) else {
            tracing::debug!("ignoring an undecryptable session cookie");
            self.clear_cookie(name);
            return Ok(None);
        };
        let record = match client.token_store.load(&payload).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(StoreError::Decode) => {
                self.clear_cookie(name);
                return Ok(None);
            }
            Err(e) => return Err(Error::Store(e.to_string())),
        };
        let now = self.now();
        let settings = &client.settings;
        if record.created_at + settings.absolute_lifetime <= now
            || record.seen_at + settings.idle_lifetime <= now
        {
            self.clear_cookie(name);
            return Ok(None);
        }
        if client
            .revocations
            .is_revoked(&record.id, now)
            .await
            .map_err(|e| Error::Store(e.to_string()))?
        {
            self.clear_cookie(name);
            return Ok(None);
        }
        // A request that still carries the pre-rotation cookie gets the rotated pair.
        if let Some(rt) = &record.refresh_token
            && let Some(newer) = client.refresh.rotated(rt.secret(), now)
        {
            self.persist_cookie(&newer).await?;
            return Ok(Some(newer));
        }
        // Keep the idle clock coarse so the hot path does not re-encrypt on every request, but
        // fine enough for a short idle lifetime: a session used more often than its idle
        // lifetime must never lapse.
        let touch_every = (settings.idle_lifetime / 4).min(3600);
        if old_key || now.saturating_sub(record.seen_at) > touch_every {
            let mut touched = record.clone();
            touched.seen_at = now;
            if !client.token_store.is_stateless() {
                touched.version += 1;
                match client
                    .token_store
                    .save(&touched, Some(record.version), self.ttl(&touched))
                    .await
                {
                    Ok(_) => {}
                    Err(StoreError::Conflict) => return Ok(Some(record)),
                    Err(e) => return Err(Error::Store(e.to_string())),
                }
            }
            self.persist_cookie(&touched).await?;
            return Ok(Some(touched));
        }
        Ok(Some(record))
    }

    fn ttl(&self, record: &SessionRecord) -> u64 {
        let s = &self.client().inner.settings;
        let now = self.now();
        (record.created_at + s.absolute_lifetime)
            .min(record.seen_at + s.idle_lifetime)
            .saturating_sub(now)
    }

    /// Seals a record into the session cookie (stateless store) or its id (server store).
    async fn persist_cookie(&self, record: &SessionRecord) -> Result<(), Error> {
        let client = &self.client().inner;
        let payload = if client.token_store.is_stateless() {
            store::encode_record(record).map_err(|e| Error::Store(e.to_string()))?
        } else {
            record.id.0.to_vec()
        };
        let sealed = client
            .keys
            .seal(Purpose::Session, &client.settings.session_cookie, &payload);
        self.push_cookie(&client.settings.session_cookie, &sealed, self.ttl(record));
        Ok(())
    }

    /// Saves a record through the [`TokenStore`] (compare-and-swap on `expected`), then
    /// updates the cookie and this handle.
    async fn save_record(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> Result<(), Error> {
        if self.try_save_record(record, expected).await? {
            Ok(())
        } else {
            Err(Error::Store(
                "the session record was changed concurrently".into(),
            ))
        }
    }

    /// Saves through the [`TokenStore`] with compare-and-swap on `expected`; `Ok(false)` when
    /// the stored version moved on. On success the cookie and this handle are updated.
    async fn try_save_record(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> Result<bool, Error> {
        let client = &self.client().inner;
        let payload = match client
            .token_store
            .save(record, expected, self.ttl(record))
            .await
        {
            Ok(payload) => payload,
            Err(StoreError::Conflict) => return Ok(false),
            Err(other) => return Err(Error::Store(other.to_string())),
        };
        let sealed = client
            .keys
            .seal(Purpose::Session, &client.settings.session_cookie, &payload);
        self.push_cookie(&client.settings.session_cookie, &sealed, self.ttl(record));
        *self.inner.loaded.lock().await = Loaded::Present(Arc::new(record.clone()));
        Ok(true)
    }

    async fn require_record(&self) -> Result<SessionRecord, Error> {
        self.record().await?.ok_or(Error::Unauthorized)
    }

    /// Whether this request has a live session (the seed's `authorized`). Unlike the seed's,
    /// an expired, revoked or forged session is not authorized.
    pub async fn authorized(&self) -> bool {
        matches!(self.shared_record().await, Ok(Some(_)))
    }

    /// The Discord user id of the session (the seed's `user_id`), known from the login on.
    pub async fn user_id(&self) -> Option<u64> {
        self.shared_record()
            .await
            .ok()
            .flatten()
            .and_then(|r| r.user_id)
    }

    /// The scopes Discord granted to this session.
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
    /// # Errors
    /// [`Error::Unauthorized`] without a session, [`Error::MissingScope`].
    pub async fn require_scope(&self, scope: &Scope) -> Result<SessionRecord, Error> {
        self.require_scope_shared(scope).await.map(|r| (*r).clone())
    }

    // ----- login ---------------------------------------------------------------------------

    /// The pending logins of this browser (none for a missing, forged or undecodable cookie).
    fn read_pending(&self) -> PendingSlots {
        let client = &self.client().inner;
        self.inner
            .pending_cookie
            .as_deref()
            .and_then(|raw| {
                client
                    .keys
                    .open(Purpose::Pending, &client.settings.pending_cookie, raw)
            })
            .and_then(|(bytes, _)| PendingSlots::decode(&bytes))
            .unwrap_or_default()
    }

    /// Writes the pending-login cookie (cleared when no login is pending). Browsers drop a
    /// cookie over 4 KiB (and `open` refuses one): the oldest logins give way until it fits.
    fn write_pending(&self, mut slots: PendingSlots) {
        let client = &self.client().inner;
        let name = &client.settings.pending_cookie;
        if slots.slots.is_empty() {
            self.clear_cookie(name);
            return;
        }
        loop {
            let sealed = client.keys.seal(Purpose::Pending, name, &slots.encode());
            if sealed.len() + name.len() <= pending::MAX_COOKIE_BYTES || slots.slots.len() <= 1 {
                self.push_cookie(name, &sealed, PENDING_LIFETIME_SECS);
                return;
            }
            slots.slots.remove(0);
        }
    }

    /// Starts a login (the seed's `create_session`): remembers state, PKCE verifier, `next` and
    /// `data` in the encrypted pending-login cookie and returns the Discord authorize URL to
    /// redirect to (302).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a reserved `param` or oversized `data`.
    pub fn create_session(&self, options: LoginOptions) -> Result<url::Url, Error> {
        for (k, _) in &options.params {
            if oauth::RESERVED_PARAMS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(k))
                || k.starts_with("code_challenge")
            {
                return Err(Error::InvalidRequest(format!(
                    "`{k}` is set by the library and cannot be overridden"
                )));
            }
        }
        let scopes = options
            .scopes
            .unwrap_or_else(|| Scopes::from(Scope::Identify));
        if scopes.is_empty() {
            return Err(Error::InvalidRequest(
                "at least one scope is required".into(),
            ));
        }
        let data = match &options.data {
            Some(v) => {
                let s =
                    serde_json::to_string(v).map_err(|e| Error::InvalidRequest(e.to_string()))?;
                if s.len() > pending::MAX_DATA_LEN {
                    return Err(Error::InvalidRequest(format!(
                        "login data must be at most {} bytes of JSON",
                        pending::MAX_DATA_LEN
                    )));
                }
                Some(s)
            }
            None => None,
        };
        let pkce = !scopes.iter().any(Scope::forbids_pkce);
        let (verifier, challenge) = if pkce {
            let (v, c) = oauth::pkce_pair();
            (Some(v), Some(c))
        } else {
            (None, None)
        };
        let state = crypto::random_token::<16>();
        let now = self.now();
        let client = &self.client().inner;
        let mut slots = self.read_pending();
        slots.push(
            PendingLogin {
                state: state.clone(),
                verifier,
                next: options.next.filter(|n| is_local_path(n)),
                data,
                scopes: scopes.to_string(),
                created_at: now,
            },
            now,
            PENDING_LIFETIME_SECS,
        );
        self.write_pending(slots);
        Ok(oauth::authorize_url(
            &client.http,
            &oauth::AuthorizeParams {
                scopes: &scopes,
                state: &state,
                code_challenge: challenge.as_deref(),
                prompt: options.prompt,
                permissions: options.permissions,
                extra: &options.params,
            },
        ))
    }

    /// Completes a login (the seed's `callback`) from the callback's query string: checks the
    /// state, exchanges the code (with the PKCE verifier), replaces the session and returns
    /// the caller's `data`.
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the user pressed Cancel; [`Error::InvalidState`] (no token
    /// request is sent); [`Error::OAuth`] for a bad code; upstream failures.
    pub async fn callback(&self, query: &str) -> Result<Callback, Error> {
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "code" => code = Some(v.into_owned()),
                "state" => state = Some(v.into_owned()),
                "error" => error = Some(v.into_owned()),
                "error_description" => description = Some(v.into_owned()),
                _ => {}
            }
        }
        let client = self.client().inner.clone();
        let now = self.now();
        let mut slots = self.read_pending();
        let taken = state.as_deref().and_then(|s| slots.take(s));
        if taken.is_some() {
            // The slot is used up whatever happens next.
            self.write_pending(slots);
        }
        if let Some(error) = error {
            return Err(if error == "access_denied" {
                Error::AccessDenied { description }
            } else {
                Error::OAuth {
                    status: http::StatusCode::BAD_REQUEST,
                    error,
                    description,
                }
            });
        }
        let Some(state) = state.filter(|s| !s.is_empty()) else {
            return Err(Error::InvalidState(StateError::Missing));
        };
        let Some(pending) = taken else {
            return Err(Error::InvalidState(StateError::Mismatch));
        };
        if pending.created_at + PENDING_LIFETIME_SECS <= now || pending.created_at > now + 60 {
            return Err(Error::InvalidState(StateError::Expired));
        }
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            return Err(Error::InvalidRequest("the callback has no code".into()));
        };
        let fresh = client
            .consumed
            .consume(
                &fingerprint(&state),
                pending.created_at + PENDING_LIFETIME_SECS,
                now,
            )
            .await
            .map_err(|e| Error::Store(e.to_string()))?;
        if !fresh {
            return Err(Error::InvalidState(StateError::Reused));
        }

        let token = oauth::exchange_code(&client.http, &code, pending.verifier.as_deref()).await?;
        let scopes = token.scopes();
        let granted = if scopes.is_empty() {
            pending.scopes.parse().unwrap_or_default()
        } else {
            scopes
        };
        let mut record = SessionRecord {
            id: SessionId::random(),
            version: 1,
            access_token: token.access_token.clone(),
            refresh_token: token.refresh_token.clone(),
            scopes: granted.clone(),
            user_id: None,
            expires_at: now + token.expires_in.unwrap_or(604_800),
            created_at: now,
            seen_at: now,
        };
        let user = if granted.contains(&Scope::Identify) {
            let call = Call::api(Method::GET, "/users/@me");
            let mut call = call;
            call.identity = Identity::Token(fingerprint_u64(record.access_token.secret()));
            match client
                .http
                .send_json::<User>(call, Auth::Bearer(&record.access_token))
                .await
            {
                Ok(user) => {
                    record.user_id = Some(user.id.get());
                    Some(user)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not fetch the user after login; continuing without");
                    None
                }
            }
        } else {
            None
        };
        // Replace any previous session of this browser: new id, old one ended.
        if let Some(old) = self.record().await.ok().flatten() {
            self.end_locally(&old).await;
        }
        self.save_record(&record, None).await?;
        if let Some(u) = &user {
            self.cache_fresh_user(&record, u).await;
        }
        let data = pending.data.and_then(|s| serde_json::from_str(&s).ok());
        Ok(Callback {
            data,
            next: pending.next.unwrap_or_else(|| "/".to_owned()),
            user,
            guild: token.guild,
            webhook: token.webhook,
            scopes: granted,
        })
    }

    // ----- logout --------------------------------------------------------------------------

    /// Logs out (the seed's `revoke`): clears the session locally and marks it revoked at
    /// once, then asks Discord to revoke the grant, best effort within a short timeout.
    ///
    /// Discord's revoke ends the user's authorization of this application **on every
    /// device**; use [`logout_local`](Self::logout_local) to end only this browser's session.
    /// Returns whether Discord confirmed the revoke; the local logout happens regardless.
    pub async fn revoke(&self) -> bool {
        let Some(record) = self.record().await.ok().flatten() else {
            self.clear_cookie(&self.client().inner.settings.session_cookie.clone());
            return false;
        };
        self.end_locally(&record).await;
        let client = &self.client().inner;
        let deadline = tokio::time::Instant::now() + client.settings.revoke_timeout;
        let (token, hint) = match &record.refresh_token {
            Some(rt) => (rt.secret(), "refresh_token"),
            None => (record.access_token.secret(), "access_token"),
        };
        match oauth::revoke(&client.http, token, hint, deadline).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "revoking the grant at Discord failed; the local session is ended anyway");
                false
            }
        }
    }

    /// Ends this browser's session only; the Discord grant stays (other devices keep working).
    pub async fn logout_local(&self) {
        if let Some(record) = self.record().await.ok().flatten() {
            self.end_locally(&record).await;
        } else {
            self.clear_cookie(&self.client().inner.settings.session_cookie.clone());
        }
    }

    /// Deletes the record, adds its id to the revocation list, clears the cookie and the
    /// cached data of this authorization.
    async fn end_locally(&self, record: &SessionRecord) {
        let client = self.client().inner.clone();
        let until = record.created_at + client.settings.absolute_lifetime;
        if let Err(e) = client.revocations.revoke(&record.id, until).await {
            tracing::warn!(error = %e, "could not record the session revocation");
        }
        if let Err(e) = client.token_store.delete(&record.id).await {
            tracing::warn!(error = %e, "could not delete the session record");
        }
        self.forget_cached(record).await;
        self.clear_cookie(&client.settings.session_cookie);
        *self.inner.loaded.lock().await = Loaded::Missing;
    }

    // ----- calls as the user ----------------------------------------------------------------

    /// A call with the user's Bearer token (the seed's `request(route, method)`); refreshes the
    /// token when needed.
    pub fn request(&self, method: Method, route: impl Into<String>) -> ApiRequest<'_> {
        ApiRequest::new(
            self.client(),
            Call::api(method, route),
            RequestAuth::Session(self),
        )
    }

    /// A call with the bot token (the seed's `bot_request`).
    pub fn bot_request(&self, method: Method, route: impl Into<String>) -> ApiRequest<'_> {
        self.client().bot_request(method, route)
    }

    /// Sends a Bearer call: refresh ahead of expiry, once more on a 401, and the session ends
    /// only when Discord says the grant is gone (`invalid_grant`).
    pub(crate) async fn send_call(&self, call: Call) -> Result<Response, Error> {
        // Scopes first: a Bearer call to a route whose scope was not granted would get a 401
        // that looks like an expired token (discord-api.md §6.3) and burn a refresh.
        if let crate::http::Target::Api(route) = &call.target
            && let Some(scope) = required_scope(route)
        {
            self.require_scope(&scope).await?;
        }
        let record = self.require_record().await?;
        let (mut record, mut refreshed) = self.refreshed_if_due(record).await?;
        loop {
            let mut attempt = call.clone();
            attempt.identity = identity_of(&record);
            attempt.actor = record.user_id;
            attempt.fresh_token = refreshed;
            let result = self
                .client()
                .inner
                .http
                .send(attempt, Auth::Bearer(&record.access_token))
                .await;
            match result {
                // A 401 on a token that was not just refreshed: refresh once and try again.
                Err(Error::Unauthorized) if !refreshed && record.refresh_token.is_some() => {
                    record = self.refresh(&record).await?;
                    refreshed = true;
                }
                Err(Error::Unauthorized) if refreshed => {
                    // The refresh just succeeded, so the grant is alive: this route needs a
                    // scope or access the authorization does not have. Keep the session.
                    return Err(Error::Api {
                        status: http::StatusCode::UNAUTHORIZED,
                        code: 0,
                        message: "Discord refused the call with a freshly refreshed token: \
                                  the authorization lacks a scope or access this route needs"
                            .into(),
                        errors: None,
                    });
                }
                Err(Error::Unauthorized) => {
                    // Rejected and not refreshable: the grant is gone.
                    self.end_locally(&record).await;
                    return Err(Error::Unauthorized);
                }
                other => return other,
            }
        }
    }

    /// Refreshes `record` ahead of its expiry (within the refresh margin); says whether it did.
    pub(crate) async fn refreshed_if_due(
        &self,
        record: SessionRecord,
    ) -> Result<(SessionRecord, bool), Error> {
        if record.expires_at <= self.now() + self.client().inner.settings.refresh_margin {
            Ok((self.refresh(&record).await?, true))
        } else {
            Ok((record, false))
        }
    }

    /// Refreshes the session's token pair; concurrent requests of one session share one
    /// refresh, and requests carrying the pre-rotation cookie get the new pair.
    async fn refresh(&self, stale: &SessionRecord) -> Result<SessionRecord, Error> {
        let client = self.client().inner.clone();
        let Some(rt) = stale.refresh_token.clone() else {
            self.end_locally(stale).await;
            return Err(Error::Unauthorized);
        };
        let lock = client.refresh.lock_for(stale.id);
        let _guard = lock.lock().await;
        let now = self.now();
        let fp = fingerprint(rt.secret());
        if let Some(newer) = client.refresh.rotated(rt.secret(), now) {
            self.persist_cookie(&newer).await?;
            *self.inner.loaded.lock().await = Loaded::Present(Arc::new(newer.clone()));
            return Ok(newer);
        }
        // With a server-side store another request (or process) may have refreshed while we
        // waited. The refresh token tells, not the version: an idle touch bumps the version too.
        let mut base = stale.clone();
        if !client.token_store.is_stateless() {
            match self.reload_by_id(stale).await? {
                Some(current) if current.refresh_token != stale.refresh_token => {
                    *self.inner.loaded.lock().await = Loaded::Present(Arc::new(current.clone()));
                    return Ok(current);
                }
                Some(current) => base = current,
                None => {
                    // Logged out meanwhile.
                    self.end_locally(stale).await;
                    return Err(Error::Unauthorized);
                }
            }
        }
        match oauth::refresh(&client.http, &rt).await {
            Ok(token) => {
                let scopes = token.scopes();
                let mut record = SessionRecord {
                    id: base.id,
                    version: base.version + 1,
                    access_token: token.access_token,
                    refresh_token: token.refresh_token.or(Some(rt)),
                    scopes: if scopes.is_empty() {
                        base.scopes.clone()
                    } else {
                        scopes
                    },
                    user_id: base.user_id,
                    expires_at: now + token.expires_in.unwrap_or(604_800),
                    created_at: base.created_at,
                    seen_at: now,
                };
                client.refresh.remember(fp, record.clone(), now);
                // Discord already rotated the pair: it must reach the store whatever raced us
                // (an idle touch), so apply it on top of the latest version until it sticks.
                for _ in 0..8 {
                    if self.try_save_record(&record, Some(base.version)).await? {
                        return Ok(record);
                    }
                    match self.reload_by_id(stale).await? {
                        Some(current) if current.refresh_token != stale.refresh_token => {
                            *self.inner.loaded.lock().await =
                                Loaded::Present(Arc::new(current.clone()));
                            return Ok(current);
                        }
                        Some(current) => {
                            record.version = current.version + 1;
                            base = current;
                        }
                        None => return Err(Error::Unauthorized),
                    }
                }
                Err(Error::Store(
                    "could not save the refreshed session (too much contention)".into(),
                ))
            }
            Err(Error::OAuth { error, .. }) if error == "invalid_grant" => {
                // The only answer that ends the session: the grant is gone.
                self.end_locally(stale).await;
                Err(Error::Unauthorized)
            }
            Err(e) => Err(e),
        }
    }

    async fn reload_by_id(&self, stale: &SessionRecord) -> Result<Option<SessionRecord>, Error> {
        self.client()
            .inner
            .token_store
            .load(&stale.id.0)
            .await
            .map_err(|e| Error::Store(e.to_string()))
    }
}

/// The scope a Bearer route needs (discord-api.md §2), so that it is checked locally.
fn required_scope(route: &str) -> Option<Scope> {
    let path = route.split('?').next().unwrap_or(route);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["users", "@me"] => Some(Scope::Identify),
        ["users", "@me", "guilds"] => Some(Scope::Guilds),
        ["users", "@me", "connections"] => Some(Scope::Connections),
        ["users", "@me", "guilds", _, "member"] => Some(Scope::GuildsMembersRead),
        ["users", "@me", "applications", _, "role-connection"] => Some(Scope::RoleConnectionsWrite),
        _ => None,
    }
}

/// The limiter identity of a session's calls: the user id once known, so a token rotation
/// keeps the learned buckets.
fn identity_of(record: &SessionRecord) -> Identity {
    match record.user_id {
        Some(id) => Identity::User(id),
        None => Identity::Token(fingerprint_u64(record.access_token.secret())),
    }
}
