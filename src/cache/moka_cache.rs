//! [`MokaUserCache`]: the default [`UserCache`](super::UserCache), on `moka::future::Cache`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;

use super::{CacheKey, CachedValue, MAX_TTL, UserCache};
use crate::error::Error;
use crate::vocab::BoxFuture;
use crate::vocab::clock::{self, Clock};

/// The default users cache: bounded (`DISCORD_USERS_CACHE_MAX_LIMIT` entries, TinyLFU
/// admission and eviction, frequency-aware like Flask-Discord's LFU), each entry dropped at its own
/// expiry, concurrent misses of one key coalesced into a single load.
///
/// Keys are hashed with FxHash: they are the library's own random session ids (an attacker
/// cannot choose them), so a keyed hash would buy nothing on the hot path.
#[derive(Clone)]
pub struct MokaUserCache {
    cache: moka::future::Cache<CacheKey, CachedValue, rustc_hash::FxBuildHasher>,
}

impl std::fmt::Debug for MokaUserCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MokaUserCache")
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

/// Expires each entry at its own `expires_at`, measured on the cache's clock when inserted.
struct ByValue(Arc<dyn Clock>);

impl Expiry<CacheKey, CachedValue> for ByValue {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &CachedValue,
        _created_at: Instant,
    ) -> Option<Duration> {
        let now = self.0.unix_now();
        // At least the remaining TTL on the cache's clock, never more than MAX_TTL; the library
        // also checks `expires_at` on its own clock at every read.
        Some(value.ttl_at(now).max(Duration::from_secs(1)).min(MAX_TTL))
    }

    fn expire_after_update(
        &self,
        key: &CacheKey,
        value: &CachedValue,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(key, value, updated_at)
    }
}

impl MokaUserCache {
    /// A cache of at most `max_entries` entries (each user has up to three: user, guilds,
    /// connections).
    #[must_use]
    pub fn new(max_entries: u64) -> Self {
        Self::with_clock(max_entries, clock::system())
    }

    /// A cache of at most `max_entries` entries whose entries' remaining TTL is measured on
    /// `clock` (the client passes its configured clock).
    #[must_use]
    pub fn with_clock(max_entries: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(ByValue(clock))
                .build_with_hasher(rustc_hash::FxBuildHasher),
        }
    }

    /// Entries currently held (approximate until [`run_pending_tasks`](Self::run_pending_tasks)).
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Applies pending evictions and expirations now (moka does it lazily).
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }
}

impl UserCache for MokaUserCache {
    fn get(&self, key: CacheKey) -> BoxFuture<'_, Option<CachedValue>> {
        Box::pin(async move { self.cache.get(&key).await })
    }

    fn insert(&self, key: CacheKey, value: CachedValue) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.cache.insert(key, value).await })
    }

    fn invalidate(&self, key: CacheKey) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.cache.invalidate(&key).await })
    }

    fn get_or_load<'a>(
        &'a self,
        key: CacheKey,
        load: BoxFuture<'a, Result<CachedValue, Error>>,
    ) -> BoxFuture<'a, Result<CachedValue, Error>> {
        Box::pin(async move {
            // Concurrent callers of one key wait for the first one's load (moka's single
            // flight); a failed load is not cached, and every waiter gets its typed error.
            self.cache
                .try_get_with(key, load)
                .await
                .map_err(|shared: Arc<Error>| (*shared).clone())
        })
    }
}
