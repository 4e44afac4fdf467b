//! Session storage seams, all keyed by [`SessionId`]: the [`SessionRecord`], the
//! [`TokenStore`] trait (Flask-Discord's `save_authorization_token` /
//! `get_authorization_token` override point), the [`RevocationList`] of logged-out sessions and
//! the [`ConsumedStates`] set of used login states, with in-memory implementations and, with the
//! `redis` feature, Redis ones; with the `sqlite` and `postgres` features, one SQL store
//! (`SqliteStore`, `PostgresStore`) implements all four seams, [`RefreshCoordination`] included.
//!
//! A store only keeps records by id. What the session cookie carries is the session layer's
//! decision alone: by default (no store configured) the whole record, sealed with AES-256-GCM,
//! so the server keeps nothing; with a store, only the sealed session id. Either way no token is
//! ever readable in the browser.
//!
//! Owns: the record, its binary encoding, the store traits and their memory, Redis and SQL
//! implementations. Imports the vocabulary only; must not import sessions, the pipeline or a web
//! framework.

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[cfg(any(feature = "redis", feature = "sqlite", feature = "postgres"))]
pub(crate) use memory::UserRevocations;
pub use memory::{
    MAX_REVOKED_IDS, MAX_REVOKED_PER_USER, MemoryConsumedStates, MemoryRefreshCoordination,
    MemoryRevocationList, MemoryTokenStore,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{
    DEFAULT_REDIS_PREFIX, RedisConsumedStates, RedisRefreshCoordination, RedisRevocationList,
    RedisSessionEvents, RedisTokenStore,
};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sql::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sql::SqliteStore;

use crate::vocab::BoxFuture;
use crate::vocab::scope::Scopes;
use crate::vocab::secret::{AccessToken, RefreshToken};

/// A random 128-bit session id. Replaced on every login.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// A new random id.
    #[must_use]
    pub fn random() -> Self {
        Self(crate::vocab::secret::random_bytes())
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

    use crate::vocab::scope::Scopes;

    pub(super) fn serialize<S: Serializer>(scopes: &Scopes, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(scopes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scopes, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A store failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record changed since it was loaded (compare-and-swap failed).
    #[error("the session record was changed concurrently")]
    Conflict,
    /// The backend failed; the cause is the backend's own error.
    #[error("the session store backend failed")]
    Backend(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// Stored bytes could not be decoded.
    #[error("undecodable session record")]
    Decode,
    /// The store cannot do this (a custom store that does not implement an optional method).
    #[error("the session store does not support {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// A backend failure caused by `cause`.
    pub fn backend(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Arc::new(cause))
    }
}

/// Compares kinds, and backend failures by their message.
impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Conflict, Self::Conflict) | (Self::Decode, Self::Decode) => true,
            (Self::Unsupported(a), Self::Unsupported(b)) => a == b,
            (Self::Backend(a), Self::Backend(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Eq for StoreError {}

/// Where session records live, by [`SessionId`]: a database, Redis, memory.
///
/// `expected_version` makes `save` a compare-and-swap: `Some(v)` succeeds only if the stored
/// record's version is still `v`; `None` creates a new session and fails if the id is taken.
/// A failed swap is [`StoreError::Conflict`]. A record past its TTL counts as absent.
///
/// # A complete custom store
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use discord_oauth::BoxFuture;
/// use discord_oauth::store::{SessionId, SessionRecord, StoreError, TokenStore};
///
/// /// Records in a map, as a database table `sessions(id, version, record, expires_at)` would be.
/// #[derive(Debug, Default)]
/// struct MapStore {
///     rows: Mutex<HashMap<SessionId, SessionRecord>>,
/// }
///
/// impl TokenStore for MapStore {
///     fn save<'a>(
///         &'a self,
///         record: &'a SessionRecord,
///         expected_version: Option<u64>,
///         _ttl_secs: u64, // a database would store `now + ttl_secs` and ignore expired rows
///     ) -> BoxFuture<'a, Result<(), StoreError>> {
///         let mut rows = self.rows.lock().unwrap();
///         let current = rows.get(&record.id).map(|r| r.version);
///         let result = if current == expected_version {
///             rows.insert(record.id, record.clone());
///             Ok(())
///         } else {
///             Err(StoreError::Conflict)
///         };
///         Box::pin(std::future::ready(result))
///     }
///
///     fn load<'a>(
///         &'a self,
///         id: &'a SessionId,
///     ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
///         let found = self.rows.lock().unwrap().get(id).cloned();
///         Box::pin(std::future::ready(Ok(found)))
///     }
///
///     fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
///         self.rows.lock().unwrap().remove(id);
///         Box::pin(std::future::ready(Ok(())))
///     }
/// }
///
/// # fn main() -> Result<(), discord_oauth::Error> {
/// # let config = discord_oauth::Config::builder().client_id(1).client_secret("s")
/// #     .redirect_uri("http://127.0.0.1:5000/callback").build()?;
/// let discord = discord_oauth::DiscordOAuth::builder(config)
///     .token_store(std::sync::Arc::new(MapStore::default()))
///     .build()?;
/// # let _ = discord; Ok(()) }
/// ```
///
/// A real database store runs the compare-and-swap as one statement
/// (`UPDATE ... SET record = $1, version = $2 WHERE id = $3 AND version = $4`, and an
/// `INSERT` that fails on a taken id for `None`), and maps driver errors with
/// [`StoreError::backend`].
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Persists `record` under `record.id` for `ttl_secs`, if the stored version is still
    /// `expected_version` (`None`: no live record has this id).
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Loads the live record of `id` (`None`: unknown or expired).
    fn load<'a>(
        &'a self,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>>;

    /// Deletes the record (logout).
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether other processes may change this store's records behind this one's back (a
    /// database, Redis: the default). Sessions then reuse a record verified moments ago for a
    /// short recheck interval instead of loading it on every request; a store in this process's
    /// memory answers `false` and is asked every time.
    fn is_shared(&self) -> bool {
        true
    }

    /// The ids of the live sessions of Discord user `user_id` (the per-user index behind
    /// [`DiscordOAuth::logout_everywhere`](crate::DiscordOAuth::logout_everywhere)).
    ///
    /// The default answers [`StoreError::Unsupported`]: a custom store without a per-user index
    /// cannot end a user's sessions everywhere.
    fn user_sessions<'a>(
        &'a self,
        user_id: u64,
    ) -> BoxFuture<'a, Result<Vec<SessionId>, StoreError>> {
        let _ = user_id;
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "user_sessions",
        ))))
    }
}

/// Compact binary encoding of a record (postcard): the sealed cookie's content when no store
/// is configured, and the stored bytes of the Redis store.
pub(crate) fn encode_record(record: &SessionRecord) -> Vec<u8> {
    // A record is plain data (strings, numbers, fixed arrays): postcard cannot fail on it.
    postcard::to_allocvec(record).unwrap_or_default()
}

/// Decodes [`encode_record`]'s output.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<SessionRecord, StoreError> {
    postcard::from_bytes(bytes).map_err(|_| StoreError::Decode)
}

/// Sessions that logged out: a cookie naming one gets 401 without asking Discord, even if the
/// browser (or a thief) replays it; and users who deauthorized the application
/// ([`revoke_user`](Self::revoke_user)): every session of theirs created until then gets 401,
/// even a session sealed in a cookie that no server keeps a record of.
///
/// The default, [`MemoryRevocationList`], lives in one process: with sessions in the cookie
/// (no store) and several processes (or after a restart), a cookie ended by
/// [`logout_local`](crate::DiscordSession::logout_local) is accepted again elsewhere until it
/// expires. [`revoke`](crate::DiscordSession::revoke) also ends the grant at Discord, which
/// bounds that to a cached page; deployments with more than one process should share a
/// `RevocationList` (a database or Redis set with a TTL).
///
/// A complete custom list (a database would `INSERT ... ON CONFLICT DO UPDATE` and select
/// `until > now`; rows past `until` can be deleted):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use discord_oauth::BoxFuture;
/// use discord_oauth::store::{RevocationList, SessionId, StoreError};
///
/// #[derive(Debug, Default)]
/// struct Revoked(Mutex<HashMap<SessionId, u64>>);
///
/// impl RevocationList for Revoked {
///     fn revoke<'a>(&'a self, id: &'a SessionId, until: u64) -> BoxFuture<'a, Result<(), StoreError>> {
///         self.0.lock().unwrap().insert(*id, until);
///         Box::pin(std::future::ready(Ok(())))
///     }
///
///     fn is_revoked<'a>(&'a self, id: &'a SessionId, now: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
///         let hit = self.0.lock().unwrap().get(id).is_some_and(|until| *until > now);
///         Box::pin(std::future::ready(Ok(hit)))
///     }
/// }
/// # let _ = Revoked::default();
/// ```
pub trait RevocationList: Send + Sync + fmt::Debug + 'static {
    /// Marks `id` revoked until `until` (Unix seconds; the session's absolute expiry).
    fn revoke<'a>(&'a self, id: &'a SessionId, until: u64)
    -> BoxFuture<'a, Result<(), StoreError>>;

    /// Marks session `id` revoked until `until`, knowing its Discord user (when the session
    /// knows it) and when it was created: what a logout calls. A list may use them to bound
    /// itself per user (see [`MemoryRevocationList`]): a user-level revocation
    /// ([`revoke_user`](Self::revoke_user)) of everything created up to `created_at` covers the
    /// session too. The default ignores them and calls [`revoke`](Self::revoke).
    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        user_id: Option<u64>,
        created_at: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (user_id, created_at);
        self.revoke(id, until)
    }

    /// Whether `id` is revoked at `now`. Called on every authenticated request: keep it cheap.
    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The answer of [`is_revoked`](Self::is_revoked) when it is known without waiting (an
    /// in-memory list), so the hot path needs no future; `None` (the default) to be asked
    /// through `is_revoked`.
    fn is_revoked_now(&self, _id: &SessionId, _now: u64) -> Option<bool> {
        None
    }

    /// Revokes every session of Discord user `user_id` created at or before `at` (Unix
    /// seconds), whatever its id and wherever its record lives (the sealed cookie included):
    /// what a deauthorization of the application does. `until` is when every such session has
    /// passed its absolute lifetime (`at` plus that lifetime): the entry may be dropped then.
    ///
    /// Sessions created after `at` (a later login) are not affected. `created_at` has a
    /// one-second resolution, so a login in the very second of the revocation is refused too
    /// (the user logs in again a second later); a session that already existed is never let
    /// through. A second revocation of the same user keeps the later `at`.
    ///
    /// The default answers [`StoreError::Unsupported`]: a custom list that does not override
    /// it (and [`is_user_revoked`](Self::is_user_revoked)) cannot end a user's sessions kept
    /// in cookies.
    fn revoke_user<'a>(
        &'a self,
        user_id: u64,
        at: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (user_id, at, until);
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "revoke_user",
        ))))
    }

    /// Whether a session of `user_id` created at `created_at` was revoked by
    /// [`revoke_user`](Self::revoke_user), at `now`. Called on every authenticated request
    /// whose session knows its user (with [`is_revoked`](Self::is_revoked)): keep it cheap.
    ///
    /// The default answers `false` (nothing was revoked by user: the default `revoke_user`
    /// refuses to).
    fn is_user_revoked<'a>(
        &'a self,
        user_id: u64,
        created_at: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (user_id, created_at, now);
        Box::pin(std::future::ready(Ok(false)))
    }

    /// The answer of [`is_user_revoked`](Self::is_user_revoked) when it is known without
    /// waiting, as [`is_revoked_now`](Self::is_revoked_now) is for ids. A shared list may answer
    /// `Some(true)` for the revocations this process made and `None` otherwise. The default,
    /// `None`, makes the session layer ask `is_user_revoked` whenever it asks `is_revoked` (one
    /// ready future per check for a list that keeps the default methods).
    fn is_user_revoked_now(&self, _user_id: u64, _created_at: u64, _now: u64) -> Option<bool> {
        None
    }
}

/// States already accepted at a callback: a state is accepted once, even when the pending-login
/// cookie that carries it is replayed.
///
/// A complete custom set (a database would `INSERT` and treat a unique-key violation on a live
/// row as "used before"):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use discord_oauth::BoxFuture;
/// use discord_oauth::store::{ConsumedStates, StoreError};
///
/// #[derive(Debug, Default)]
/// struct Used(Mutex<HashMap<[u8; 16], u64>>);
///
/// impl ConsumedStates for Used {
///     fn consume<'a>(
///         &'a self,
///         state_hash: &'a [u8; 16],
///         until: u64,
///         now: u64,
///     ) -> BoxFuture<'a, Result<bool, StoreError>> {
///         let mut used = self.0.lock().unwrap();
///         let fresh = used.get(state_hash).is_none_or(|until| *until <= now);
///         if fresh {
///             used.insert(*state_hash, until);
///         }
///         Box::pin(std::future::ready(Ok(fresh)))
///     }
/// }
/// # let _ = Used::default();
/// ```
pub trait ConsumedStates: Send + Sync + fmt::Debug + 'static {
    /// Records `state_hash` as used until `until`; `Ok(true)` if it was not used before.
    fn consume<'a>(
        &'a self,
        state_hash: &'a [u8; 16],
        until: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// What lets several processes refresh one session's tokens exactly once: a short exclusive
/// lease per session, and the pair that replaced a rotated refresh token, kept for a short
/// grace so that every process (and every request still carrying the old cookie) uses it.
///
/// Discord rotates the refresh token on every refresh
/// ([Discord: Refresh Token Exchange](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-refresh-token-exchange-example)):
/// two processes refreshing one session with the same refresh token make one of them fail with
/// `invalid_grant`. Holding the lease around the token request prevents that.
///
/// Lease keys are session ids and rotation keys 16-byte fingerprints of refresh tokens (never a
/// token); rotation values are opaque bytes the session
/// layer has already sealed (AES-256-GCM), so a store never sees a token in them.
///
/// Implementations: in one process nothing is needed (sessions coordinate in memory); the
/// Redis implementation sets a key with `PX` (a Lua script: taken only if free or already
/// ours), the SQL ones a lease row. Leases compare the callers' clocks in the SQL stores: keep
/// the hosts' clocks in sync (NTP), as the lease is long (two request deadlines and 5 s).
pub trait RefreshCoordination: Send + Sync + fmt::Debug + 'static {
    /// Takes the lease `key` for `owner` until `now_ms + lease_ms` unless another owner holds
    /// an unexpired lease; `Ok(true)` when taken.
    fn try_lock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
        now_ms: u64,
        lease_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Releases the lease `key` if `owner` still holds it.
    fn unlock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Keeps `sealed` (the record that replaced a refresh token) under `key` (that refresh
    /// token's fingerprint) until `until` (Unix seconds).
    fn put_rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        sealed: &'a [u8],
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The bytes kept by [`put_rotation`](Self::put_rotation) under `key`, unless expired at
    /// `now` (Unix seconds).
    fn rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
}

/// Announces ended sessions (logouts, `logout_everywhere`) to every process at once, so that
/// none keeps using an answer about that session it verified moments ago (see
/// [`DiscordOAuthBuilder::session_recheck`](crate::DiscordOAuthBuilder::session_recheck)).
///
/// Delivery is best effort (a message published while a process is disconnected is lost): the
/// recheck interval still bounds how long such a process can trust its last answer.
/// [`RedisSessionEvents`] uses Redis pub/sub.
pub trait SessionEvents: Send + Sync + fmt::Debug + 'static {
    /// Announces that session `id` ended.
    fn publish_ended<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>>;

    /// From now on, calls `on_ended` with every session id any process (this one included)
    /// announces.
    fn listen(&self, on_ended: Box<dyn Fn(SessionId) + Send + Sync>);
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
        let bytes = encode_record(&record);
        assert_eq!(decode_record(&bytes).unwrap(), record);
        assert!(decode_record(&bytes[..bytes.len() - 1]).is_err());
    }
}
