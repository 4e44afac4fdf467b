//! [`RedisRefreshCoordination`]: refresh leases and rotated pairs shared by every process on
//! one Redis.

use std::sync::Arc;

use bytes::Bytes;
use fred::interfaces::KeysInterface;
use fred::types::scripts::Script;
use fred::types::{Expiration, Value};

use super::{Conn, DEFAULT_REDIS_PREFIX, backend, hex, run_script};
use crate::store::{RefreshCoordination, StoreError};
use crate::vocab::BoxFuture;
use crate::vocab::clock::{self, Clock};

/// Takes a lease. KEYS[1] = lease key. ARGV: 1 owner (hex), 2 lease in ms. Returns 1 when the
/// lease is free or already ours (then renewed), 0 while another owner holds it.
const LOCK_LUA: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Releases a lease. KEYS[1] = lease key. ARGV: 1 owner (hex). Only its owner releases it.
const UNLOCK_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// One refresh per session across every process on one Redis: the lease is a key set with
/// `PX` (expiring on its own if its holder dies), taken and released by its owner only (Lua);
/// a rotated pair is a key holding the sealed record for the rotation grace.
///
/// | key | type | content | expiry |
/// |---|---|---|---|
/// | `{prefix}lease:{session id}` | string | the holder's random owner id | the lease (10 s) |
/// | `{prefix}rotation:{fingerprint of the old refresh token}` | string | the new record, sealed with the app's `SECRET_KEY` (AES-256-GCM): no token is readable in Redis | the rotation grace (2 minutes) |
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config, pool: fred::clients::Pool) -> Result<(), discord_oauth::Error> {
/// use std::sync::Arc;
/// use discord_oauth::store::RedisRefreshCoordination;
/// let discord = discord_oauth::DiscordOAuth::builder(config)
///     .refresh_coordination(Arc::new(RedisRefreshCoordination::new(pool)))
///     .build()?;
/// # let _ = discord; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRefreshCoordination {
    conn: Conn,
    prefix: String,
    clock: Arc<dyn Clock>,
    lock: Script,
    unlock: Script,
}

redis_handle!(RedisRefreshCoordination);

impl RedisRefreshCoordination {
    fn with_conn(conn: Conn) -> Self {
        Self {
            conn,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            clock: clock::system(),
            lock: Script::from_lua(LOCK_LUA),
            unlock: Script::from_lua(UNLOCK_LUA),
        }
    }

    /// Computes rotation TTLs (`until - now`) on `clock` (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn lease_key(&self, key: &[u8; 16]) -> String {
        format!("{}lease:{}", self.prefix, hex(key))
    }

    fn rotation_key(&self, key: &[u8; 16]) -> String {
        format!("{}rotation:{}", self.prefix, hex(key))
    }
}

impl RefreshCoordination for RedisRefreshCoordination {
    fn try_lock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
        _now_ms: u64,
        lease_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let args = vec![
                Value::from(hex(owner)),
                Value::Integer(i64::try_from(lease_ms.max(1)).unwrap_or(i64::MAX)),
            ];
            let keys = vec![self.lease_key(key)];
            Ok(run_script(&self.conn, &self.lock, "try_lock", keys, args).await? == 1)
        })
    }

    fn unlock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let args = vec![Value::from(hex(owner))];
            let keys = vec![self.lease_key(key)];
            run_script(&self.conn, &self.unlock, "unlock", keys, args)
                .await
                .map(drop)
        })
    }

    fn put_rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        sealed: &'a [u8],
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let ttl = until.saturating_sub(self.clock.unix_now());
            if ttl == 0 {
                // Already expired (as the memory and SQL stores would answer): nothing to keep.
                return Ok(());
            }
            self.conn
                .client()
                .set::<(), _, _>(
                    self.rotation_key(key),
                    Value::Bytes(Bytes::copy_from_slice(sealed)),
                    Some(Expiration::EX(i64::try_from(ttl).unwrap_or(i64::MAX))),
                    None,
                    false,
                )
                .await
                .map_err(|e| backend("put_rotation", &e))
        })
    }

    fn rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        _now: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            // Redis drops the key at its expiry: what is there is live.
            let found: Option<Bytes> = self
                .conn
                .client()
                .get(self.rotation_key(key))
                .await
                .map_err(|e| backend("rotation", &e))?;
            Ok(found.map(|b| b.to_vec()))
        })
    }
}
