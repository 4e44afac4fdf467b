//! The users cache (Flask-Discord's `users_cache` argument and `DISCORD_USERS_CACHE_MAX_LIMIT`).
//!
//! A small object-safe trait, [`UserCache`], with two implementations:
//! - [`MokaUserCache`] (feature `cache`, the default): `moka`'s async cache, bounded by
//!   `DISCORD_USERS_CACHE_MAX_LIMIT` entries with TinyLFU admission (frequency-aware, like
//!   Flask-Discord's LFU), a per-kind time to live, and concurrent misses of one key coalesced
//!   into one upstream call.
//! - [`NoUserCache`]: caches nothing (the default without the `cache` feature).
//!
//! # Keys: never a stale or foreign user
//! A [`CacheKey`] is (authorization, user id, [`CacheKind`]). The authorization is the session
//! id, which is **regenerated at every login**: it is the generation of the browser's
//! authorization. So a re-login (as the same or another user) starts with a new key space and
//! can never be served the previous account's entries. Logout and a revocation detected by a
//! `401`/`invalid_grant` invalidate the session's three keys (O(1)) and put the session id on the
//! revocation list, so no later request can even reach them.
//!
//! # Time to live
//! Every [`CachedValue`] carries its expiry, judged with the client's
//! [`Clock`](crate::clock::Clock) on every read (whatever the cache implementation does), so an
//! entry is never served past its TTL. Defaults: user 5 minutes, guilds and connections 60 s
//! ([`CacheTtls`]); each is capped at [`MAX_TTL`].
//!
//! Owns: the cache trait, its entries and the moka implementation. Imports models, routes
//! (for [`CacheKind`]), the session id and the clock; must not import sessions or the pipeline.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;
use crate::models::{Guild, User, UserConnection};
pub use crate::route::CacheKind;
use crate::store::SessionId;
use crate::vocab::BoxFuture;

#[cfg(feature = "cache")]
mod moka_cache;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use moka_cache::MokaUserCache;

/// The longest a cache entry may live, whatever is configured (1 day): never unbounded.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// The key of a cache entry: the authorization it belongs to, the user, and the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CacheKey {
    /// The session id (new at every login: the authorization's generation).
    pub authorization: SessionId,
    /// The Discord user id of the session (0 when not known).
    pub user_id: u64,
    /// What the entry holds.
    pub kind: CacheKind,
}

impl CacheKey {
    /// A key.
    #[must_use]
    pub fn new(authorization: SessionId, user_id: u64, kind: CacheKind) -> Self {
        Self {
            authorization,
            user_id,
            kind,
        }
    }
}

/// The decoded data of an entry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CachedData {
    /// A user.
    User(Arc<User>),
    /// A user's guilds.
    Guilds(Arc<Vec<Guild>>),
    /// A user's connections.
    Connections(Arc<Vec<UserConnection>>),
}

/// A cache entry: the decoded data, the JSON bytes (ready to write to a response) and the
/// expiry (Unix seconds on the client's clock). Cheap to clone (reference counted).
#[derive(Debug, Clone)]
pub struct CachedValue {
    pub(crate) data: CachedData,
    pub(crate) json: Bytes,
    pub(crate) expires_at: u64,
    /// Renderings of the data memoized with the entry (see [`CachedValue::rendered`]).
    views: Arc<std::sync::Mutex<Vec<(&'static str, Bytes)>>>,
}

/// Most renderings memoized per entry; beyond it `rendered` still works, without memoizing.
const MAX_VIEWS: usize = 8;

impl CachedValue {
    /// An entry (for cache implementations and tests; the library builds its own).
    #[must_use]
    pub fn new(data: CachedData, json: Bytes, expires_at: u64) -> Self {
        Self {
            data,
            json,
            expires_at,
            views: Arc::default(),
        }
    }

    /// The rendering `view` of the data, computed by `render` the first time and memoized with
    /// the entry (shared by every clone): a response body for a hot route is built once per
    /// fetch from Discord, not once per request. `render` must depend only on the data.
    pub fn rendered(&self, view: &'static str, render: impl FnOnce(&CachedData) -> Bytes) -> Bytes {
        let lock = || {
            self.views
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, bytes)) = lock().iter().find(|(name, _)| *name == view) {
            return bytes.clone();
        }
        let bytes = render(&self.data);
        let mut views = lock();
        if views.len() < MAX_VIEWS && !views.iter().any(|(name, _)| *name == view) {
            views.push((view, bytes.clone()));
        }
        bytes
    }

    /// The decoded data.
    #[must_use]
    pub fn data(&self) -> &CachedData {
        &self.data
    }

    /// The JSON serialization of the data.
    #[must_use]
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// When the entry stops being served (Unix seconds on the client's clock).
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Time left to live at `now` (Unix seconds); zero once expired.
    #[must_use]
    pub fn ttl_at(&self, now: u64) -> Duration {
        Duration::from_secs(self.expires_at.saturating_sub(now)).min(MAX_TTL)
    }
}

/// A cache of users' Discord data, keyed by authorization (see the [module docs](self)).
///
/// Implement it to bring your own cache (Flask-Discord's `users_cache`); pass it with
/// [`DiscordOAuthBuilder::users_cache`](crate::DiscordOAuthBuilder::users_cache). The library
/// checks each value's expiry itself, so an implementation may keep entries longer (but should
/// be bounded in size).
pub trait UserCache: Send + Sync + fmt::Debug + 'static {
    /// The entry of `key`, if any.
    fn get(&self, key: CacheKey) -> BoxFuture<'_, Option<CachedValue>>;

    /// Stores an entry (replacing any).
    fn insert(&self, key: CacheKey, value: CachedValue) -> BoxFuture<'_, ()>;

    /// Removes an entry.
    fn invalidate(&self, key: CacheKey) -> BoxFuture<'_, ()>;

    /// The entry of `key`, or the result of `load` stored under it. Implementations should
    /// coalesce concurrent misses of one key into one `load` (the default does not: it is a
    /// plain get, load, insert).
    fn get_or_load<'a>(
        &'a self,
        key: CacheKey,
        load: BoxFuture<'a, Result<CachedValue, Error>>,
    ) -> BoxFuture<'a, Result<CachedValue, Error>> {
        Box::pin(async move {
            if let Some(v) = self.get(key).await {
                return Ok(v);
            }
            let v = load.await?;
            self.insert(key, v.clone()).await;
            Ok(v)
        })
    }
}

/// A cache that stores nothing: every read goes to Discord.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUserCache;

impl UserCache for NoUserCache {
    fn get(&self, _key: CacheKey) -> BoxFuture<'_, Option<CachedValue>> {
        Box::pin(async { None })
    }

    fn insert(&self, _key: CacheKey, _value: CachedValue) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn invalidate(&self, _key: CacheKey) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn get_or_load<'a>(
        &'a self,
        _key: CacheKey,
        load: BoxFuture<'a, Result<CachedValue, Error>>,
    ) -> BoxFuture<'a, Result<CachedValue, Error>> {
        load
    }
}

/// Times to live of cache entries, per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTtls {
    /// `GET /users/@me` (default 5 minutes).
    pub user: Duration,
    /// `GET /users/@me/guilds` (default 60 s).
    pub guilds: Duration,
    /// `GET /users/@me/connections` (default 60 s).
    pub connections: Duration,
}

impl Default for CacheTtls {
    fn default() -> Self {
        Self {
            user: Duration::from_secs(300),
            guilds: Duration::from_secs(60),
            connections: Duration::from_secs(60),
        }
    }
}

impl CacheTtls {
    /// The TTL of `kind`, capped at [`MAX_TTL`].
    #[must_use]
    pub fn of(&self, kind: CacheKind) -> Duration {
        match kind {
            CacheKind::User => self.user,
            CacheKind::Guilds => self.guilds,
            CacheKind::Connections => self.connections,
        }
        .min(MAX_TTL)
    }
}

/// The default cache for a client: moka with the feature (expiry on `clock`), nothing without.
pub(crate) fn default_cache(
    max_entries: u64,
    clock: Arc<dyn crate::vocab::clock::Clock>,
) -> Arc<dyn UserCache> {
    #[cfg(feature = "cache")]
    {
        Arc::new(MokaUserCache::with_clock(max_entries, clock))
    }
    #[cfg(not(feature = "cache"))]
    {
        let _ = (max_entries, clock);
        Arc::new(NoUserCache)
    }
}

/// Serializes `data` and wraps it into an entry that expires `ttls.of(kind)` after `now`.
///
/// # Errors
/// [`Error::Internal`] if the data cannot be serialized (models always can).
pub(crate) fn entry(data: CachedData, ttls: &CacheTtls, now: u64) -> Result<CachedValue, Error> {
    let (kind, json) = match &data {
        CachedData::User(u) => (CacheKind::User, serde_json::to_vec(&**u)),
        CachedData::Guilds(g) => (CacheKind::Guilds, serde_json::to_vec(&**g)),
        CachedData::Connections(c) => (CacheKind::Connections, serde_json::to_vec(&**c)),
    };
    let json = json.map_err(|_| Error::Internal("a cached model could not be serialized"))?;
    let ttl = ttls.of(kind).as_secs();
    Ok(CachedValue::new(data, Bytes::from(json), now + ttl))
}

/// Seeds the cache with the user fetched at login, so the first page costs no call.
pub(crate) async fn seed_user(
    cache: &dyn UserCache,
    ttls: &CacheTtls,
    authorization: &SessionId,
    user: &User,
    now: u64,
) {
    let key = CacheKey::new(*authorization, user.id.get(), CacheKind::User);
    if let Ok(v) = entry(CachedData::User(Arc::new(user.clone())), ttls, now) {
        cache.insert(key, v).await;
    }
}

/// Drops the cached data of an authorization that ended (logout, revocation, re-login): its
/// three keys, O(1).
pub(crate) async fn forget_authorization(
    cache: &dyn UserCache,
    authorization: SessionId,
    user_id: Option<u64>,
) {
    for kind in CacheKind::ALL {
        cache
            .invalidate(CacheKey::new(authorization, user_id.unwrap_or(0), kind))
            .await;
    }
}
