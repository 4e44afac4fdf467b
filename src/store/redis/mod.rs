//! Redis implementations of the storage seams (feature `redis`): [`RedisTokenStore`],
//! [`RedisRevocationList`] and [`RedisConsumedStates`], on [fred] 10 — the client
//! `tower-sessions-redis-store` uses, so an app can hand both the same [`Pool`].
//!
//! With these three, every process behind a load balancer sees the same sessions, the same
//! logouts and the same used login states: a cookie logged out in one process is refused by all
//! of them, and a replayed callback is refused wherever it lands.
//!
//! The key layout, the TTLs, what the stored bytes contain (the tokens) and how to protect them
//! are documented on [`RedisTokenStore`], the public face of this module.

/// The constructors and `Debug` every Redis handle here shares: `new` (a pool), `from_client`,
/// `with_prefix`; the type supplies `with_conn` (its scripts) and has `conn` and `prefix` fields.
/// `Debug` shows the prefix only.
macro_rules! redis_handle {
    ($ty:ident) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("prefix", &self.prefix)
                    .finish_non_exhaustive()
            }
        }

        impl $ty {
            /// On a connected pool (commands round-robin over its clients), with the
            /// [default prefix](crate::store::DEFAULT_REDIS_PREFIX).
            #[must_use]
            pub fn new(pool: fred::clients::Pool) -> Self {
                Self::with_conn(crate::store::redis::Conn::Pool(pool))
            }

            /// On one connected client, with the
            /// [default prefix](crate::store::DEFAULT_REDIS_PREFIX).
            #[must_use]
            pub fn from_client(client: fred::clients::Client) -> Self {
                Self::with_conn(crate::store::redis::Conn::Client(client))
            }

            /// Uses `prefix` before every key (e.g. `myapp:`), to share a Redis database.
            #[must_use]
            pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
                self.prefix = prefix.into();
                self
            }
        }
    };
}

mod coordination;
mod events;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use fred::clients::{Client, Pool};
use fred::interfaces::{HashesInterface, KeysInterface};
use fred::types::scripts::Script;
use fred::types::{Expiration, Value};

use super::{ConsumedStates, RevocationList, SessionId, SessionRecord, StoreError, TokenStore};
use super::{decode_record, encode_record};
use crate::vocab::BoxFuture;
use crate::vocab::clock::{self, Clock};

pub use coordination::RedisRefreshCoordination;
pub use events::RedisSessionEvents;

/// The key prefix used unless `with_prefix` says otherwise.
pub const DEFAULT_REDIS_PREFIX: &str = "discord-oauth:";

/// Longest TTL handed to Redis (100 years); longer TTLs are capped to it, which Redis accepts.
const MAX_TTL_SECS: u64 = 100 * 365 * 24 * 3600;

/// Compare-and-swap save. KEYS[1] = session key, KEYS[2] = the user's index set (or the
/// session key again when the user is not known). ARGV: 1 expected version ('' = a new
/// session), 2 now, 3 new version, 4 expiry (Unix s), 5 record bytes, 6 TTL in ms (0 = dead),
/// 7 the session id (hex), 8 the user id ('' = not known).
/// Returns 1 when saved, 0 on a conflict. A record whose expiry has passed counts as absent,
/// as in `MemoryTokenStore`. The index set lives as long as its longest-lived session.
const SAVE_LUA: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 'e')
local current = false
if cur[1] and cur[2] and tonumber(cur[2]) > tonumber(ARGV[2]) then current = cur[1] end
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('HSET', KEYS[1], 'v', ARGV[3], 'e', ARGV[4], 'r', ARGV[5], 'u', ARGV[8])
  redis.call('PEXPIRE', KEYS[1], ttl)
  if ARGV[8] ~= '' then
    redis.call('SADD', KEYS[2], ARGV[7])
    if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
end
return 1
";

/// Delete. KEYS[1] = session key. ARGV: 1 the user index key prefix (`{prefix}user:`), 2 the
/// session id (hex). Removes the record and its entry in the user's index.
const DELETE_LUA: &str = r"
local uid = redis.call('HGET', KEYS[1], 'u')
redis.call('DEL', KEYS[1])
if uid and uid ~= '' then redis.call('SREM', ARGV[1] .. uid, ARGV[2]) end
return 1
";

/// A user's live sessions. KEYS[1] = the user's index set. ARGV: 1 the session key prefix
/// (`{prefix}session:`), 2 now (Unix s). Returns the live ids (hex) and drops the others.
const USER_SESSIONS_LUA: &str = r"
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local e = redis.call('HGET', ARGV[1] .. id, 'e')
  if e and tonumber(e) > tonumber(ARGV[2]) then
    table.insert(live, id)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return live
";

/// First use of a state. KEYS[1] = state key. ARGV: 1 until, 2 now, 3 TTL in seconds (>= 1).
/// Returns 1 if the state was not used (or its entry has expired at `now`), 0 otherwise.
const CONSUME_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
";

/// A connected fred handle: a pool (commands round-robin over its clients) or one client.
#[derive(Clone)]
enum Conn {
    Pool(Pool),
    Client(Client),
}

impl Conn {
    fn client(&self) -> &Client {
        match self {
            Self::Pool(p) => p.next(),
            Self::Client(c) => c,
        }
    }
}

/// Maps a fred error to a [`StoreError::Backend`] naming the operation, the error kind and the
/// Redis error code (`NOSCRIPT`, `WRONGTYPE`, `NOPERM`…) only: never a key, value or URL.
fn backend(op: &str, e: &fred::error::Error) -> StoreError {
    let code = e
        .details()
        .split_whitespace()
        .next()
        .filter(|w| w.len() <= 16 && w.bytes().all(|b| b.is_ascii_uppercase()))
        .map(|w| format!(" {w}"))
        .unwrap_or_default();
    StoreError::backend(RedisFailure(format!("redis {op}: {:?}{code}", e.kind())))
}

/// A Redis failure, described without any key, value or URL.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedisFailure(String);

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Runs a script by `EVALSHA`, loading it (`SCRIPT LOAD`) and retrying once on `NOSCRIPT`.
async fn run_script(
    conn: &Conn,
    script: &Script,
    op: &str,
    keys: Vec<String>,
    args: Vec<Value>,
) -> Result<i64, StoreError> {
    script
        .evalsha_with_reload::<i64, _, _>(conn.client(), keys, args)
        .await
        .map_err(|e| backend(op, &e))
}

/// The 16 bytes written by [`hex`]; `None` for anything else.
fn unhex(s: &str) -> Option<[u8; 16]> {
    let bytes = s.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn ttl_value(secs: u64) -> Value {
    Value::Integer(i64::try_from(secs.min(MAX_TTL_SECS)).unwrap_or(i64::MAX))
}

// ----- TokenStore -------------------------------------------------------------------------------

/// Session records in Redis; the cookie carries only the 16-byte session id.
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use fred::prelude::*;
/// use discord_oauth::DiscordOAuth;
/// use discord_oauth::store::{RedisConsumedStates, RedisRevocationList, RedisTokenStore};
///
/// let pool = Builder::from_config(Config::from_url("redis://127.0.0.1:6379")?).build_pool(4)?;
/// pool.init().await?;
/// let client = DiscordOAuth::builder(config)
///     .token_store(Arc::new(RedisTokenStore::new(pool.clone())))
///     .revocation_list(Arc::new(RedisRevocationList::new(pool.clone())))
///     .consumed_states(Arc::new(RedisConsumedStates::new(pool)))
///     .build()?;
/// # Ok(()) }
/// ```
///
/// # What is stored, and where
///
/// Every key starts with a prefix (default `discord-oauth:`, see `with_prefix`); ids are
/// lowercase hex.
///
/// | key | type | content | expiry |
/// |---|---|---|---|
/// | `{prefix}session:{session id}` | hash | `v` = record version, `e` = expiry (Unix seconds), `r` = the [`SessionRecord`] (postcard bytes), `u` = the Discord user id | the `ttl_secs` of the last save (`PEXPIRE`) |
/// | `{prefix}user:{user id}` | set | the ids of the user's sessions (the per-user index of [`TokenStore::user_sessions`]; dead ids are dropped as it is read) | its longest-lived session's |
/// | `{prefix}revoked:{session id}` | string | the Unix second until which the session is revoked | at that second |
/// | `{prefix}revoked-user:{user id}` | string | the Unix second up to which the user's sessions are revoked (a deauthorization) | when every such session has passed its absolute lifetime |
/// | `{prefix}state:{state hash}` | string | the Unix second until which the state counts as used | at that second |
///
/// The session cookie then carries only the 16-byte session id (AEAD-encrypted by the session
/// layer), as with [`MemoryTokenStore`](super::MemoryTokenStore). A save is a compare-and-swap
/// done atomically by a Lua script (`EVALSHA`, loaded again after a `NOSCRIPT`, e.g. after a
/// Redis restart): it succeeds only if the stored, unexpired record still has the expected
/// version, exactly like the in-memory store. The expiry is enforced twice: Redis drops the key
/// after the TTL, and `load` ignores a record whose `e` has passed on the store's clock (so the
/// [`Clock`](crate::clock::Clock) seam works in tests).
///
/// One Redis server (or a Sentinel-managed primary): on Redis Cluster the scripts would touch
/// keys they do not declare (a user's index, the session keys it lists).
///
/// # Security
///
/// **The record bytes contain the user's access and refresh tokens** in the clear (postcard is
/// an encoding, not encryption). Anyone who can read these keys can call Discord as your users.
/// Protect the Redis server accordingly: an ACL user restricted to the prefix (`~discord-oauth:*`,
/// and `&discord-oauth:*` for the pub/sub channel of [`RedisSessionEvents`]) and to the
/// commands used here and inside the scripts (ACLs apply to them too): `+@read +@write
/// +@scripting +publish +subscribe`, or exactly `HMGET HGET HSET DEL PEXPIRE PTTL GET SET SADD
/// SREM SMEMBERS RPUSH LTRIM LLEN LINDEX EVALSHA SCRIPT|LOAD PUBLISH SUBSCRIBE`; Redis on a
/// private network or behind a TLS tunnel (TLS to Redis, `rediss://`, is not built in, and
/// [`Backends`](crate::backends::Backends) refuses it rather than send a password in clear);
/// and no persistence snapshots left readable. Encrypting the records at rest
/// (wrapping this store) is the operator's choice. Error messages never include keys, values or
/// connection strings: failures become [`StoreError::Backend`] naming the operation and the
/// Redis error code only.
#[derive(Clone)]
pub struct RedisTokenStore {
    conn: Conn,
    prefix: String,
    clock: Arc<dyn Clock>,
    save: Script,
    delete: Script,
    user_sessions: Script,
}

redis_handle!(RedisTokenStore);

impl RedisTokenStore {
    fn with_conn(conn: Conn) -> Self {
        Self {
            conn,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            clock: clock::system(),
            save: Script::from_lua(SAVE_LUA),
            delete: Script::from_lua(DELETE_LUA),
            user_sessions: Script::from_lua(USER_SESSIONS_LUA),
        }
    }

    /// Follows `clock` for the record expiry checked on load and save (for tests); Redis
    /// still drops keys on its own clock after the TTL.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The Redis key of a session record: `{prefix}session:{hex id}`.
    #[must_use]
    pub fn key(&self, id: &SessionId) -> String {
        format!("{}session:{}", self.prefix, hex(&id.0))
    }

    /// The Redis key of a user's index set: `{prefix}user:{user id}`.
    #[must_use]
    pub fn user_key(&self, user_id: u64) -> String {
        format!("{}user:{user_id}", self.prefix)
    }
}

impl TokenStore for RedisTokenStore {
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let bytes = encode_record(record);
            let now = self.clock.unix_now();
            let ttl_ms = ttl_secs.min(MAX_TTL_SECS) * 1000;
            let args = vec![
                Value::from(expected_version.map(|v| v.to_string()).unwrap_or_default()),
                Value::from(now.to_string()),
                Value::from(record.version.to_string()),
                Value::from(now.saturating_add(ttl_secs).to_string()),
                Value::Bytes(Bytes::from(bytes)),
                ttl_value(ttl_ms),
                Value::from(hex(&record.id.0)),
                Value::from(record.user_id.map(|u| u.to_string()).unwrap_or_default()),
            ];
            let key = self.key(&record.id);
            let index = record
                .user_id
                .map_or_else(|| key.clone(), |u| self.user_key(u));
            match run_script(&self.conn, &self.save, "save", vec![key, index], args).await? {
                1 => Ok(()),
                _ => Err(StoreError::Conflict),
            }
        })
    }

    fn load<'a>(
        &'a self,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        Box::pin(async move {
            let (expiry, bytes): (Option<String>, Option<Bytes>) = self
                .conn
                .client()
                .hmget(self.key(id), vec!["e", "r"])
                .await
                .map_err(|e| backend("load", &e))?;
            let (Some(expiry), Some(bytes)) = (expiry, bytes) else {
                return Ok(None);
            };
            let expiry: u64 = expiry.parse().map_err(|_| StoreError::Decode)?;
            if expiry <= self.clock.unix_now() {
                return Ok(None);
            }
            let record = decode_record(&bytes)?;
            // The key names the record: anything else is corruption, not a session.
            if record.id != *id {
                return Err(StoreError::Decode);
            }
            Ok(Some(record))
        })
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let args = vec![
                Value::from(format!("{}user:", self.prefix)),
                Value::from(hex(&id.0)),
            ];
            run_script(&self.conn, &self.delete, "delete", vec![self.key(id)], args)
                .await
                .map(drop)
        })
    }

    fn user_sessions<'a>(
        &'a self,
        user_id: u64,
    ) -> BoxFuture<'a, Result<Vec<SessionId>, StoreError>> {
        Box::pin(async move {
            let args = vec![
                Value::from(format!("{}session:", self.prefix)),
                Value::from(self.clock.unix_now().to_string()),
            ];
            let ids: Vec<String> = self
                .user_sessions
                .evalsha_with_reload(self.conn.client(), vec![self.user_key(user_id)], args)
                .await
                .map_err(|e| backend("user_sessions", &e))?;
            ids.iter()
                .map(|h| unhex(h).map(SessionId).ok_or(StoreError::Decode))
                .collect()
        })
    }
}

// ----- RevocationList ---------------------------------------------------------------------------

/// Logged-out session ids in Redis, shared by every process: `SET` with an expiry at the
/// session's absolute end, so the list never outgrows the live sessions. Users who
/// deauthorized the application ([`RevocationList::revoke_user`]) are one key each,
/// `{prefix}revoked-user:{user id}`, holding the Unix second up to which their sessions are
/// revoked and expiring when those sessions would have; this process also remembers its own
/// user revocations, so that it refuses such a session at once, before any recheck interval.
#[derive(Clone)]
pub struct RedisRevocationList {
    conn: Conn,
    prefix: String,
    clock: Arc<dyn Clock>,
    /// The user revocations made through this handle (and its clones).
    local: Arc<super::UserRevocations>,
    revoke_user: Script,
}

redis_handle!(RedisRevocationList);

impl RedisRevocationList {
    fn with_conn(conn: Conn) -> Self {
        Self {
            conn,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            clock: clock::system(),
            local: Arc::default(),
            revoke_user: Script::from_lua(REVOKE_USER_LUA),
        }
    }

    /// Computes the key's TTL (`until - now`) on `clock` (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The Redis key of a revoked session: `{prefix}revoked:{hex id}`.
    #[must_use]
    pub fn key(&self, id: &SessionId) -> String {
        format!("{}revoked:{}", self.prefix, hex(&id.0))
    }

    /// The Redis key of a user whose sessions are revoked: `{prefix}revoked-user:{user id}`.
    #[must_use]
    pub fn user_key(&self, user_id: u64) -> String {
        format!("{}revoked-user:{user_id}", self.prefix)
    }
}

/// Sets KEYS[1] to ARGV[1] (a Unix second) unless it holds a later one, with a TTL of ARGV[2]
/// milliseconds (never shortened).
const REVOKE_USER_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) and tonumber(v) >= tonumber(ARGV[1]) then
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

impl RevocationList for RedisRevocationList {
    fn revoke<'a>(
        &'a self,
        id: &'a SessionId,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let ttl = until
                .saturating_sub(self.clock.unix_now())
                .clamp(1, MAX_TTL_SECS);
            let ttl = i64::try_from(ttl).unwrap_or(i64::MAX);
            self.conn
                .client()
                .set::<(), _, _>(
                    self.key(id),
                    until.to_string(),
                    Some(Expiration::EX(ttl)),
                    None,
                    false,
                )
                .await
                .map_err(|e| backend("revoke", &e))
        })
    }

    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            // One round trip, like EXISTS, but compared with the caller's `now` so the result
            // matches `MemoryRevocationList` exactly (Redis also drops the key at `until`).
            let until: Option<String> = self
                .conn
                .client()
                .get(self.key(id))
                .await
                .map_err(|e| backend("is_revoked", &e))?;
            match until {
                None => Ok(false),
                Some(u) => Ok(u.parse::<u64>().map_err(|_| StoreError::Decode)? > now),
            }
        })
    }

    /// One script (`GET`, then `SET ... EX` unless a later revocation is stored), and the
    /// local record of this process.
    fn revoke_user<'a>(
        &'a self,
        user_id: u64,
        at: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let now = self.clock.unix_now();
            self.local.revoke(user_id, at, until, now);
            let ttl_ms = until.saturating_sub(now).clamp(1, MAX_TTL_SECS) * 1000;
            run_script(
                &self.conn,
                &self.revoke_user,
                "revoke_user",
                vec![self.user_key(user_id)],
                vec![
                    Value::from(at.to_string()),
                    Value::Integer(i64::try_from(ttl_ms).unwrap_or(i64::MAX)),
                ],
            )
            .await
            .map(drop)
        })
    }

    /// This process's own revocations first, then one `GET`. Once the key has expired, every
    /// session it covered has passed its absolute lifetime, so no `until` is compared.
    fn is_user_revoked<'a>(
        &'a self,
        user_id: u64,
        created_at: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            if self.local.is_revoked(user_id, created_at, now) {
                return Ok(true);
            }
            let at: Option<String> = self
                .conn
                .client()
                .get(self.user_key(user_id))
                .await
                .map_err(|e| backend("is_user_revoked", &e))?;
            match at {
                None => Ok(false),
                Some(at) => Ok(created_at <= at.parse::<u64>().map_err(|_| StoreError::Decode)?),
            }
        })
    }

    /// `Some(true)` for this process's own revocations; otherwise Redis must be asked.
    fn is_user_revoked_now(&self, user_id: u64, created_at: u64, now: u64) -> Option<bool> {
        self.local
            .is_revoked(user_id, created_at, now)
            .then_some(true)
    }
}

// ----- ConsumedStates ---------------------------------------------------------------------------

/// Login states already used, in Redis, shared by every process: a callback replayed against
/// another process is refused too. Each entry expires with its pending login (10 minutes).
#[derive(Clone)]
pub struct RedisConsumedStates {
    conn: Conn,
    prefix: String,
    consume: Script,
}

redis_handle!(RedisConsumedStates);

impl RedisConsumedStates {
    fn with_conn(conn: Conn) -> Self {
        Self {
            conn,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            consume: Script::from_lua(CONSUME_LUA),
        }
    }

    /// The Redis key of a used state: `{prefix}state:{hex hash}`.
    #[must_use]
    pub fn key(&self, state_hash: &[u8; 16]) -> String {
        format!("{}state:{}", self.prefix, hex(state_hash))
    }
}

impl ConsumedStates for RedisConsumedStates {
    fn consume<'a>(
        &'a self,
        state_hash: &'a [u8; 16],
        until: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let args = vec![
                Value::from(until.to_string()),
                Value::from(now.to_string()),
                ttl_value(until.saturating_sub(now).max(1)),
            ];
            let fresh = run_script(
                &self.conn,
                &self.consume,
                "consume",
                vec![self.key(state_hash)],
                args,
            )
            .await?;
            Ok(fresh == 1)
        })
    }
}
