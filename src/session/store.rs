//! Session storage seams: the [`SessionRecord`], the [`TokenStore`] trait (the seed's
//! `save_authorization_token` / `get_authorization_token` override point) with its two
//! implementations, and the [`RevocationList`] of logged-out sessions.
//!
//! A store turns a record into the bytes the session cookie carries and back:
//! [`CookieTokenStore`] (the default) puts the whole record in the cookie, so the server keeps
//! nothing; [`MemoryTokenStore`] keeps records in memory and puts only the session id in the
//! cookie. Either way the cookie is AEAD-encrypted by the session layer, so no token is ever
//! readable in the browser. Database and Redis stores implement the same trait.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::ratelimit::BoxFuture;
use crate::scope::Scopes;
use crate::secret::{AccessToken, RefreshToken};

/// A random 128-bit session id. Replaced on every login.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// A new random id.
    #[must_use]
    pub fn random() -> Self {
        Self(super::crypto::random_bytes())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only a prefix: enough to correlate logs, useless to an attacker.
        write!(
            f,
            "SessionId({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// What a logged-in session holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The session id (new on every login).
    pub id: SessionId,
    /// Incremented on every save; stores compare it to refuse lost updates.
    pub version: u64,
    /// The user's access token.
    pub access_token: AccessToken,
    /// The user's refresh token (Discord rotates it on every refresh).
    pub refresh_token: Option<RefreshToken>,
    /// The scopes Discord actually granted (from the token response, not the request).
    #[serde(with = "scopes_as_str")]
    pub scopes: Scopes,
    /// The Discord user id, once known.
    pub user_id: Option<u64>,
    /// When the access token expires (Unix seconds).
    pub expires_at: u64,
    /// When the user logged in (Unix seconds): the absolute lifetime counts from here.
    pub created_at: u64,
    /// When the session was last seen (Unix seconds, coarse): the idle lifetime counts from here.
    pub seen_at: u64,
}

/// `Scopes` as one space-separated string, for non-self-describing formats (postcard) whose
/// deserializers cannot "accept a string or an array".
mod scopes_as_str {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::scope::Scopes;

    pub(super) fn serialize<S: Serializer>(scopes: &Scopes, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(scopes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scopes, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record changed since it was loaded (compare-and-swap failed).
    #[error("the session record was changed concurrently")]
    Conflict,
    /// The backend failed.
    #[error("store backend: {0}")]
    Backend(String),
    /// Stored bytes could not be decoded.
    #[error("undecodable session record")]
    Decode,
}

/// Where session records live.
///
/// `save` returns the bytes the session cookie will carry (encrypted by the session layer);
/// `load` gets them back. `expected_version` makes `save` a compare-and-swap: `Some(v)`
/// succeeds only if the stored record's version is still `v` (`None` = a new session).
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Persists `record`, returning the cookie payload that designates it.
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, StoreError>>;

    /// Loads the record designated by a cookie payload (`None`: unknown or expired).
    fn load<'a>(
        &'a self,
        cookie_payload: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>>;

    /// Deletes the record (logout).
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether records travel inside the cookie (no server state). Such a store cannot see
    /// concurrent updates, so the session layer keeps a short-lived rotation map for them.
    fn is_stateless(&self) -> bool {
        false
    }
}

/// The default store: the whole record in the (encrypted) cookie. No server state, no I/O.
#[derive(Debug, Clone, Copy, Default)]
pub struct CookieTokenStore;

impl TokenStore for CookieTokenStore {
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        _expected_version: Option<u64>,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, StoreError>> {
        Box::pin(std::future::ready(encode_record(record)))
    }

    fn load<'a>(
        &'a self,
        cookie_payload: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        Box::pin(std::future::ready(decode_record(cookie_payload).map(Some)))
    }

    fn delete<'a>(&'a self, _id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn is_stateless(&self) -> bool {
        true
    }
}

/// Compact binary encoding of a record (postcard).
pub(crate) fn encode_record(record: &SessionRecord) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(record).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Decodes [`encode_record`]'s output.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<SessionRecord, StoreError> {
    postcard::from_bytes(bytes).map_err(|_| StoreError::Decode)
}

/// Records in process memory; the cookie carries only the session id. Entries expire after
/// their TTL and the map is pruned as it grows.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    records: RwLock<HashMap<SessionId, (SessionRecord, u64)>>,
    clock: Option<std::sync::Arc<dyn crate::clock::Clock>>,
}

impl MemoryTokenStore {
    /// An empty store on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose expiry follows `clock` (for tests).
    #[must_use]
    pub fn with_clock(clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        Self {
            records: RwLock::default(),
            clock: Some(clock),
        }
    }

    fn now(&self) -> u64 {
        use crate::clock::Clock as _;
        self.clock
            .as_ref()
            .map_or_else(|| crate::clock::SystemClock.unix_now(), |c| c.unix_now())
    }

    /// Number of live records.
    #[must_use]
    pub fn len(&self) -> usize {
        let now = self.now();
        read(&self.records)
            .values()
            .filter(|(_, exp)| *exp > now)
            .count()
    }

    /// Whether the store holds no live record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TokenStore for MemoryTokenStore {
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, StoreError>> {
        let now = self.now();
        let mut map = write(&self.records);
        let current = map
            .get(&record.id)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.version);
        let result = if current == expected_version {
            if map.len() > 1024 && map.len().is_power_of_two() {
                map.retain(|_, (_, exp)| *exp > now);
            }
            map.insert(record.id, (record.clone(), now.saturating_add(ttl_secs)));
            Ok(record.id.0.to_vec())
        } else {
            Err(StoreError::Conflict)
        };
        Box::pin(std::future::ready(result))
    }

    fn load<'a>(
        &'a self,
        cookie_payload: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        let result = match <[u8; 16]>::try_from(cookie_payload) {
            Ok(id) => {
                let now = self.now();
                Ok(read(&self.records)
                    .get(&SessionId(id))
                    .filter(|(_, exp)| *exp > now)
                    .map(|(r, _)| r.clone()))
            }
            Err(_) => Err(StoreError::Decode),
        };
        Box::pin(std::future::ready(result))
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        write(&self.records).remove(id);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_the_binary_encoding() {
        let record = SessionRecord {
            id: SessionId::random(),
            version: 3,
            access_token: AccessToken::new("at"),
            refresh_token: Some(RefreshToken::new("rt")),
            scopes: "identify email guilds".parse().unwrap(),
            user_id: Some(80_351_110_224_678_912),
            expires_at: 10,
            created_at: 1,
            seen_at: 2,
        };
        let bytes = encode_record(&record).unwrap();
        assert_eq!(decode_record(&bytes).unwrap(), record);
        assert!(decode_record(&bytes[..bytes.len() - 1]).is_err());
    }
}

/// Sessions that logged out: a cookie naming one gets 401 without asking Discord, even if the
/// browser (or a thief) replays it.
///
/// The default, [`MemoryRevocationList`], lives in one process: with the stateless cookie store
/// and several processes (or after a restart), a cookie ended by
/// [`logout_local`](super::DiscordSession::logout_local) is accepted again elsewhere until it
/// expires. [`revoke`](super::DiscordSession::revoke) also ends the grant at Discord, which
/// bounds that to a cached page; deployments with more than one process should share a
/// `RevocationList` (a database or Redis set with a TTL).
pub trait RevocationList: Send + Sync + fmt::Debug + 'static {
    /// Marks `id` revoked until `until` (Unix seconds; the session's absolute expiry).
    fn revoke<'a>(&'a self, id: &'a SessionId, until: u64)
    -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether `id` is revoked at `now`. Called on every authenticated request: keep it cheap.
    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// In-memory [`RevocationList`], pruned of expired entries as it grows.
#[derive(Debug, Default)]
pub struct MemoryRevocationList {
    revoked: RwLock<HashMap<SessionId, u64>>,
    clock: Option<std::sync::Arc<dyn crate::clock::Clock>>,
}

impl MemoryRevocationList {
    /// An empty list on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list whose pruning follows `clock` (for tests).
    #[must_use]
    pub fn with_clock(clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        Self {
            revoked: RwLock::default(),
            clock: Some(clock),
        }
    }

    /// Number of entries held (live or not yet pruned).
    #[must_use]
    pub fn len(&self) -> usize {
        read(&self.revoked).len()
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RevocationList for MemoryRevocationList {
    fn revoke<'a>(
        &'a self,
        id: &'a SessionId,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut map = write(&self.revoked);
        if map.len() >= 4096 && map.len().is_power_of_two() {
            use crate::clock::Clock as _;
            let now = self
                .clock
                .as_ref()
                .map_or_else(|| crate::clock::SystemClock.unix_now(), |c| c.unix_now());
            map.retain(|_, exp| *exp > now);
        }
        map.insert(*id, until);
        Box::pin(std::future::ready(Ok(())))
    }

    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let hit = read(&self.revoked)
            .get(id)
            .is_some_and(|until| *until > now);
        Box::pin(std::future::ready(Ok(hit)))
    }
}

/// States already accepted at a callback: a state is accepted once, even when the pending-login
/// cookie that carries it is replayed.
pub trait ConsumedStates: Send + Sync + fmt::Debug + 'static {
    /// Records `state_hash` as used until `until`; `Ok(true)` if it was not used before.
    fn consume<'a>(
        &'a self,
        state_hash: &'a [u8; 16],
        until: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// In-memory [`ConsumedStates`], bounded: expired entries are dropped first; when full of live
/// entries the oldest goes (it is the closest to expiry, and its pending cookie too).
#[derive(Debug)]
pub struct MemoryConsumedStates {
    inner: Mutex<ConsumedInner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct ConsumedInner {
    seen: HashMap<[u8; 16], u64>,
    order: std::collections::VecDeque<[u8; 16]>,
}

impl MemoryConsumedStates {
    /// A set holding at most `capacity` live states.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }
}

impl Default for MemoryConsumedStates {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl ConsumedStates for MemoryConsumedStates {
    fn consume<'a>(
        &'a self,
        state_hash: &'a [u8; 16],
        until: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = &mut *g;
        while let Some(front) = inner.order.front().copied() {
            let expired = inner.seen.get(&front).is_none_or(|exp| *exp <= now);
            if expired || inner.seen.len() >= self.capacity {
                inner.order.pop_front();
                inner.seen.remove(&front);
            } else {
                break;
            }
        }
        let fresh = match inner.seen.get(state_hash) {
            Some(exp) if *exp > now => false,
            _ => {
                inner.seen.insert(*state_hash, until);
                inner.order.push_back(*state_hash);
                true
            }
        };
        Box::pin(std::future::ready(Ok(fresh)))
    }
}
