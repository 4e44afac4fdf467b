//! [`RedisRateLimitStore`] (feature `redis`): the [`RateLimitStore`] shared by every process
//! that sends with one bot token from one egress IP. Discord's limits belong to the token and the
//! IP ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits)), not to
//! a process, so several instances of one app must share one budget.
//!
//! Owns: the Redis key layout of the rate-limit state, the two Lua scripts (one per store
//! operation, the same decisions as [`MemoryStore`]) and the fall-back to local limits while
//! Redis does not answer. Imports the rate-limit store vocabulary, the boxed-future alias and
//! fred; must not import sessions, the token stores (`crate::store`) or the HTTP pipeline.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fred::clients::{Client, Pool};
use fred::interfaces::ClientLike;
use fred::types::config::Options;
use fred::types::scripts::Script;
use fred::types::{CustomCommand, Value};

use super::store::{
    BucketUpdate, Denial, DenyReason, MemoryStore, RateLimitStore, Reservation, StoreRequest,
};
use super::{LimitError, RateLimitScope};
use crate::vocab::BoxFuture;

/// The key prefix used unless [`RedisRateLimitStore::with_prefix`] says otherwise.
pub const DEFAULT_RATE_LIMIT_PREFIX: &str = "discord-oauth:rl:";

/// The per-command bound used unless [`RedisRateLimitStore::with_command_timeout`] says
/// otherwise.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

/// While Redis is down, it is tried again at most this often (other calls use local limits).
const PROBE_INTERVAL_MS: u64 = 1_000;

/// Times handed to Lua are capped to 2^53 - 1 ms (Lua numbers are doubles; every integer up
/// to this one is exact).
const MAX_LUA_INT: u64 = (1 << 53) - 1;

/// Lua shared by both scripts. ARGV[1] is the key prefix; `now` is set by each script.
/// `fmt` writes an integer without exponent (Redis' own number-to-string conversion may use
/// one), `opt` reads an optional argument (`-1` = none), `num` reads a stored number (anything unreadable, negative, fractional part aside, or
/// past 2^53 counts as 0, i.e. "nothing", so bad data never makes a script fail).
macro_rules! lua_common {
    () => {
        r"
local P = ARGV[1]
local now = 0
local function num(v)
  local n = tonumber(v)
  if n == nil or n ~= n or n < 0 or n > 9007199254740991 then return 0 end
  return math.floor(n)
end
local function opt(v)
  if v == '-1' then return -1 end
  return num(v)
end
local function fmt(n) return string.format('%d', n) end
local function expire_at(k, at)
  local ttl = at - now
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', k, fmt(ttl))
end
local function bkey(ident, h, major) return P .. 'b:' .. ident .. '|' .. h .. '|' .. major end
"
    };
}

/// `reserve`: `MemoryStore::reserve_now` (denial, gates, take) as one script.
///
/// ARGV: 1 prefix, 2 route, 3 identity, 4 major, 5 token fingerprint (hex, '' = none),
/// 6 global limit (0 = none), 7 global window ms, 8 invalid fail-at, 9 invalid window ms,
/// 10 now, 11 idle TTL ms, 12 probe lease ms, 13 probe poll ms.
/// Returns `{0,0,0}` (go), `{1, at, global}` (wait) or `{2, reason, retry_after}` (deny:
/// 1 dead token, 2 bot cool-down, 3 invalid budget).
const RESERVE_LUA: &str = concat!(
    lua_common!(),
    r"
local route, ident, major, tok = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local glimit, gwin = num(ARGV[6]), num(ARGV[7])
local fail_at, iwin = num(ARGV[8]), num(ARGV[9])
now = num(ARGV[10])
local idle, lease, poll = num(ARGV[11]), num(ARGV[12]), num(ARGV[13])

-- 1. Tokens Discord rejected, the bot's cool-down.
if tok ~= '' then
  local dead = num(redis.call('GET', P .. 'd:' .. tok))
  if dead > now then return {2, 1, dead - now} end
end
if ident == 'b' then
  local bb = num(redis.call('GET', P .. 'bot'))
  if bb > now then return {2, 2, bb - now} end
end

-- 2. The per-IP invalid-request budget (ten sub-window slots 'start:count').
local slot_ms = math.max(math.floor(iwin / 10), 1)
local slots = redis.call('HMGET', P .. 'inv', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
local count, oldest = 0, nil
for i = 1, 10 do
  local v = slots[i]
  if v then
    local s, n = string.match(v, '^(%d+):(%d+)$')
    s, n = tonumber(s), tonumber(n)
    if s and n and n > 0 and s + iwin > now then
      count = count + n
      if oldest == nil or s < oldest then oldest = s end
    end
  end
end
if count >= fail_at then
  local untl = math.max((oldest or now) + iwin, now + math.min(slot_ms, 1000))
  return {2, 3, untl - now}
end

-- 3. Every gate, nothing taken.
local wait, wglobal = 0, 0
local function later(at, g)
  if at > now and at > wait then wait = at; wglobal = g end
end
later(num(redis.call('GET', P .. 'gb:' .. ident)), 1)
local lk = P .. 'gl:' .. ident
if glimit > 0 and redis.call('LLEN', lk) >= glimit then
  local front = tonumber(redis.call('LINDEX', lk, 0))
  if front then later(front + gwin, 1) end
end
local rv = redis.call('GET', P .. 'r:' .. route)
local key, probing = nil, false
if not rv then
  key, probing = bkey(ident, route, major), true
elseif rv ~= 'n' then
  local h = string.sub(rv, 3)
  if major ~= '' or h ~= '' then
    later(num(redis.call('GET', P .. 's:' .. h .. '|' .. major)), 0)
  end
  key = bkey(ident, h, major)
end
local known, limit, rem, reset, win, probe = false, 0, 0, 0, 0, 0
if key then
  local b = redis.call('HMGET', key, 'k', 'l', 'r', 't', 'w', 'p')
  known = b[1] == '1'
  limit, rem, reset, win, probe = num(b[2]), num(b[3]), num(b[4]), num(b[5]), num(b[6])
  if probing and not known then
    if probe > now then later(math.min(probe, now + poll), 0) end
  elseif known and rem == 0 then
    later(reset, 0)
  end
end
if wait > now then return {1, wait, wglobal} end

-- 4. Take the slots.
if key then
  if known then
    if now >= reset then
      rem = limit
      reset = now + math.max(win, 1)
    end
    rem = math.max(rem - 1, 0)
    redis.call('HSET', key, 'u', fmt(now), 'r', fmt(rem), 't', fmt(reset))
  elseif probing then
    probe = now + lease
    redis.call('HSET', key, 'u', fmt(now), 'p', fmt(probe))
  else
    redis.call('HSET', key, 'u', fmt(now))
  end
  expire_at(key, math.max(now, reset, probe) + idle)
end
if glimit > 0 then
  redis.call('RPUSH', lk, fmt(now))
  redis.call('LTRIM', lk, -glimit, -1)
  redis.call('PEXPIRE', lk, fmt(gwin + 2000))
end
return {0, 0, 0}
"
);

/// `observe`: `MemoryStore::observe_now` (marks, route learning, 429 blocks, bucket update)
/// as one script.
///
/// ARGV: 1 prefix, 2 route, 3 identity, 4 major, 5 token fingerprint (hex, '' = none),
/// 6 invalid window ms, 7 now, 8 status, 9 bucket ('-' = none, else '+' .. hash), 10 limit,
/// 11 remaining, 12 reset at, 13 retry at (-1 = none for 10 to 13), 14 global (0/1),
/// 15 scope ('', 'user', 'shared', 'global'), 16 invalid (0/1), 17 dead token until,
/// 18 bot blocked until (-1 = none), 19 idle TTL ms, 20 route TTL ms. Returns 1.
const OBSERVE_LUA: &str = concat!(
    lua_common!(),
    r"
local route, ident, major, tok = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local iwin = num(ARGV[6])
now = num(ARGV[7])
local status = num(ARGV[8])
local bucket_given = string.sub(ARGV[9], 1, 1) == '+'
local bucket = string.sub(ARGV[9], 2)
local limit_in, rem_in, reset_in, retry_in = opt(ARGV[10]), opt(ARGV[11]), opt(ARGV[12]), opt(ARGV[13])
local global, scope, invalid = ARGV[14] == '1', ARGV[15], ARGV[16] == '1'
local dead_until, bot_until = opt(ARGV[17]), opt(ARGV[18])
local idle, route_ttl = num(ARGV[19]), num(ARGV[20])

local function raise(k, untl)
  local v = math.max(num(redis.call('GET', k)), untl)
  if v > now then
    redis.call('SET', k, fmt(v))
    expire_at(k, v)
  end
end

-- Marks: the token, the bot, the invalid-request budget.
if tok ~= '' and dead_until >= 0 then
  local dk = P .. 'd:' .. tok
  if dead_until > now then
    redis.call('SET', dk, fmt(dead_until))
    expire_at(dk, dead_until)
  else
    redis.call('DEL', dk)
  end
end
if bot_until >= 0 then raise(P .. 'bot', bot_until) end
if invalid then
  local window = math.max(iwin, 10)
  local slot_ms = math.floor(window / 10)
  local start = now - (now % slot_ms)
  local idx = fmt(math.floor(now / slot_ms) % 10)
  local ik = P .. 'inv'
  local s, n = string.match(redis.call('HGET', ik, idx) or '', '^(%d+):(%d+)$')
  if tonumber(s) == start then n = (tonumber(n) or 0) + 1 else n = 1 end
  redis.call('HSET', ik, idx, fmt(start) .. ':' .. fmt(n))
  redis.call('PEXPIRE', ik, fmt(window))
end

-- The route's bucket hash (nil: the route sends no limits).
local has_info = bucket_given or limit_in >= 0 or rem_in >= 0
local rk = P .. 'r:' .. route
local rv = redis.call('GET', rk)
local hash = nil
if bucket_given then
  hash = bucket
elseif has_info then
  hash = route
elseif rv then
  if rv ~= 'n' then hash = string.sub(rv, 3) end
elseif status == 429 then
  hash = route
end
if has_info or not rv then
  local v = 'n'
  if hash then v = 'h:' .. hash end
  redis.call('SET', rk, v, 'PX', fmt(route_ttl))
end
if hash ~= route then redis.call('DEL', bkey(ident, route, major)) end

-- A 429's global or shared block.
local retry_at = now + 1000
if retry_in >= 0 then retry_at = retry_in end
if status == 429 then
  if global or scope == 'global' then
    raise(P .. 'gb:' .. ident, retry_at)
    return 1
  end
  if scope == 'shared' then
    raise(P .. 's:' .. (hash or route) .. '|' .. major, retry_at)
  end
end
if not hash then return 1 end

-- The bucket learns the answer's limits.
local key = bkey(ident, hash, major)
local b = redis.call('HMGET', key, 'k', 'l', 'r', 't', 'w', 'p')
local known = b[1] == '1'
local limit, rem, reset, win, probe = num(b[2]), num(b[3]), num(b[4]), num(b[5]), num(b[6])
if limit_in >= 0 and rem_in >= 0 and reset_in >= 0 then
  win = math.max(win, math.max(reset_in - now, 0))
  if not known or now >= reset then
    rem, reset = rem_in, reset_in
  else
    rem, reset = math.min(rem, rem_in), math.max(reset, reset_in)
  end
  limit = math.max(limit_in, 1)
  known = true
end
if status == 429 and scope ~= 'shared' then
  if not known then
    known = true
    limit = math.max(limit, 1)
  end
  rem = 0
  reset = math.max(reset, retry_at)
  win = math.max(win, math.max(retry_at - now, 0))
end
local k = '0'
if known then k = '1' end
redis.call('HSET', key, 'k', k, 'l', fmt(limit), 'r', fmt(rem), 't', fmt(reset), 'w', fmt(win), 'u', fmt(now))
expire_at(key, math.max(now, reset, probe) + idle)
return 1
"
);

/// How long a route's learned bucket hash is kept after it was last written (routes are
/// learned again by a probe when it expires).
const ROUTE_TTL_MS: u64 = 24 * 3600 * 1000;

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

/// One Lua script: its source and SHA-1.
struct Lua {
    source: &'static str,
    sha: String,
}

impl Lua {
    fn new(source: &'static str) -> Self {
        let sha = Script::from_lua(source).sha1().to_string();
        Self { source, sha }
    }
}

/// Why Redis gave no usable answer: the error kind only (never a key, value or URL).
#[derive(Debug)]
enum Failure {
    Timeout,
    Redis(fred::error::ErrorKind),
    Decode,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timeout"),
            Self::Redis(kind) => write!(f, "redis error ({kind:?})"),
            Self::Decode => f.write_str("unreadable answer"),
        }
    }
}

/// Whether Redis answers, and when to try it again. Times are milliseconds since `epoch`
/// (monotonic, this process only).
struct Health {
    epoch: Instant,
    /// 0 while Redis answers; otherwise 1 + when the outage was noticed.
    down_since: AtomicU64,
    /// While down: the earliest time of the next attempt.
    next_probe: AtomicU64,
}

impl Health {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            down_since: AtomicU64::new(0),
            next_probe: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_down(&self) -> bool {
        self.down_since.load(Ordering::Acquire) != 0
    }

    /// Whether this call should ask Redis: always while it answers; while it is down, one call
    /// per [`PROBE_INTERVAL_MS`].
    fn should_try(&self, now: u64) -> bool {
        if !self.is_down() {
            return true;
        }
        let next = self.next_probe.load(Ordering::Acquire);
        now >= next
            && self
                .next_probe
                .compare_exchange(
                    next,
                    now + PROBE_INTERVAL_MS,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
    }

    /// A call started at `started` got an answer: Redis is back if it was down before the call
    /// started (an answer to a call sent before the outage proves nothing).
    fn answered(&self, started: u64) {
        let since = self.down_since.load(Ordering::Acquire);
        if since != 0
            && started + 1 >= since
            && self
                .down_since
                .compare_exchange(since, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            tracing::info!("rate-limit Redis store answers again; limits are shared again");
        }
    }

    /// A call failed: the first failure of an outage logs one warning.
    fn failed(&self, failure: &Failure) {
        let now = self.now();
        self.next_probe
            .fetch_max(now + PROBE_INTERVAL_MS, Ordering::AcqRel);
        if self
            .down_since
            .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tracing::warn!(
                failure = %failure,
                "rate-limit Redis store unavailable; this process holds Discord's limits \
                 alone (local limits) until Redis answers again"
            );
        }
    }
}

/// The rate-limit state in Redis, shared by every process (feature `redis`).
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use fred::prelude::*;
/// use discord_oauth::DiscordOAuth;
/// use discord_oauth::ratelimit::{DiscordLimiter, RedisRateLimitStore};
///
/// let mut builder = Builder::from_config(Config::from_url("redis://127.0.0.1:6379")?);
/// // Reconnect on its own after an outage: the store falls back to local limits meanwhile.
/// builder.set_policy(ReconnectPolicy::new_constant(0, 500));
/// let pool = builder.build_pool(4)?;
/// pool.init().await?;
/// let store = RedisRateLimitStore::new(pool).with_command_timeout(Duration::from_millis(250));
/// let limiter = DiscordLimiter::builder().store(Arc::new(store)).build();
/// let client = DiscordOAuth::builder(config).limiter(Arc::new(limiter)).build()?;
/// # Ok(()) }
/// ```
///
/// # Semantics
///
/// [`reserve`](RateLimitStore::reserve) and [`observe`](RateLimitStore::observe) make exactly
/// the decisions of [`MemoryStore`], each as one Lua script run atomically by Redis (`EVALSHA`,
/// loaded again with `SCRIPT LOAD` after a `NOSCRIPT`, e.g. after a Redis restart). Times are
/// the caller's `now_ms` (not Redis' `TIME`), so every process must keep its clock in sync (NTP)
/// and a test clock works; Redis' own clock only drives key expiry, set relative to `now_ms`
/// (`PEXPIRE`). Two differences with [`MemoryStore`]: entries disappear by TTL rather than by a
/// sweep, and learned routes expire a day after they were last learned instead of being
/// cleared past 4,096 routes.
///
/// # Keys
///
/// Every key starts with the prefix (default [`DEFAULT_RATE_LIMIT_PREFIX`]); identities,
/// routes and major parameters are the non-secret keys of [`StoreRequest`] (tokens appear only
/// as fingerprints), and every key has a TTL:
///
/// | key | type | content | expiry |
/// |---|---|---|---|
/// | `{prefix}r:{route}` | string | `h:{bucket hash}`, or `n` (the route sends no limits) | 1 day after it was last learned |
/// | `{prefix}b:{identity}\|{hash or route}\|{major}` | hash | `k` known, `l` limit, `r` remaining, `t` reset at, `w` window, `p` probe lease until, `u` last used | idle TTL (default 60 s) after its reset, last use or lease |
/// | `{prefix}s:{hash}\|{major}` | string | blocked until (429 with scope `shared`) | then |
/// | `{prefix}gb:{identity}` | string | blocked until (global 429) | then |
/// | `{prefix}gl:{identity}` | list | send times of the last `limit` calls (the bot's 50/s sliding window) | window + 2 s after the last call |
/// | `{prefix}d:{fingerprint}` | string | token refused until | then |
/// | `{prefix}bot` | string | bot calls refused until (bot token rejected) | then |
/// | `{prefix}inv` | hash | slot `0`–`9` = `{slot start}:{count}` of the invalid-request budget | its window after the last invalid answer |
///
/// The scripts compute keys from the prefix, so on Redis Cluster give the prefix a hash tag
/// (e.g. `{discord-oauth-rl}:`) to keep every key in one slot.
///
/// # When Redis does not answer
///
/// Each command is bounded by [`with_command_timeout`](Self::with_command_timeout) (default
/// 250 ms) and fails at once when fred has no healthy connection, so a call never waits on a
/// dead Redis. Any failure (unreachable, timeout, error reply, unreadable answer) makes the
/// store answer from an internal [`MemoryStore`]: this process then holds the limits alone
/// (processes no longer share them, so N processes may together send up to N times a limit;
/// Discord's 429s are still honoured). The first failure of an outage logs one
/// `tracing::warn!` (the failure kind only: no URL, key or token); while Redis is down one
/// call per second tries it again, and the first answer switches back (one `tracing::info!`).
/// No call fails because of Redis. Every answer is also recorded locally, so the fall-back
/// starts with the routes, buckets, blocks and dead tokens this process learned. Reconnecting
/// is fred's job: build the pool with a [`ReconnectPolicy`](fred::types::config::ReconnectPolicy).
pub struct RedisRateLimitStore {
    conn: Conn,
    prefix: String,
    command_timeout: Duration,
    idle_ttl_ms: u64,
    reserve: Lua,
    observe: Lua,
    fallback: MemoryStore,
    health: Health,
}

impl fmt::Debug for RedisRateLimitStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimitStore")
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .field("redis_down", &self.health.is_down())
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A time or count for Lua (decimal, capped to an exact double).
fn int(n: u64) -> Value {
    Value::from(n.min(MAX_LUA_INT).to_string())
}

/// An optional time or count for Lua (`-1` = none).
fn opt(n: Option<u64>) -> Value {
    n.map_or_else(|| Value::from("-1"), int)
}

/// A duration or time read back from Lua.
fn back(n: i64) -> Option<u64> {
    u64::try_from(n).ok()
}

impl RedisRateLimitStore {
    /// A store on a connected pool, with the [default prefix](DEFAULT_RATE_LIMIT_PREFIX) and
    /// the [default command timeout](DEFAULT_COMMAND_TIMEOUT).
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        Self::with_conn(Conn::Pool(pool))
    }

    /// A store on one connected client, with the [default prefix](DEFAULT_RATE_LIMIT_PREFIX)
    /// and the [default command timeout](DEFAULT_COMMAND_TIMEOUT).
    #[must_use]
    pub fn from_client(client: Client) -> Self {
        Self::with_conn(Conn::Client(client))
    }

    fn with_conn(conn: Conn) -> Self {
        Self {
            conn,
            prefix: DEFAULT_RATE_LIMIT_PREFIX.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            idle_ttl_ms: 60_000,
            reserve: Lua::new(RESERVE_LUA),
            observe: Lua::new(OBSERVE_LUA),
            fallback: MemoryStore::new(),
            health: Health::new(),
        }
    }

    /// Uses `prefix` before every key (e.g. `myapp:rl:`), to share a Redis database.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds each Redis command (script load included) to `timeout` (default 250 ms); past
    /// it, the call is answered from local limits.
    #[must_use]
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Keeps an idle bucket `ttl` after its reset or last use (default 60 s, as
    /// [`MemoryStore::new`]); the local fall-back uses the same.
    #[must_use]
    pub fn with_idle_ttl(mut self, ttl: Duration) -> Self {
        self.idle_ttl_ms = ms(ttl);
        self.fallback = MemoryStore::with_idle_ttl(ttl);
        self
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the store currently answers from local limits because Redis did not answer.
    #[must_use]
    pub fn is_degraded(&self) -> bool {
        self.health.is_down()
    }

    /// The local store used while Redis does not answer.
    #[must_use]
    pub fn fallback(&self) -> &MemoryStore {
        &self.fallback
    }

    /// Runs `lua` with `argv` (after the prefix), within the command timeout; `None` when
    /// Redis was not asked (down, not this call's turn to probe) or gave no usable answer.
    async fn run(&self, lua: &Lua, argv: Vec<Value>) -> Option<Vec<i64>> {
        let started = self.health.now();
        if !self.health.should_try(started) {
            return None;
        }
        let outcome = match tokio::time::timeout(self.command_timeout, self.eval(lua, argv)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Failure::Timeout),
        };
        match outcome {
            Ok(v) => {
                self.health.answered(started);
                Some(v)
            }
            Err(e) => {
                self.health.failed(&e);
                None
            }
        }
    }

    /// `EVALSHA`, and on `NOSCRIPT` `SCRIPT LOAD` then `EVALSHA` again. Commands fail fast when
    /// fred has no healthy connection, so nothing is queued for a later reconnection.
    async fn eval(&self, lua: &Lua, argv: Vec<Value>) -> Result<Vec<i64>, Failure> {
        // KEYS[1]: a key of the prefix, so that Redis Cluster routes by the prefix's slot.
        let key = format!("{}bot", self.prefix);
        let slot = fred::util::redis_keyslot(key.as_bytes());
        let options = Options {
            fail_fast: true,
            timeout: Some(self.command_timeout),
            max_attempts: Some(1),
            ..Options::default()
        };
        let client = self.conn.client().with_options(&options);
        let mut args = Vec::with_capacity(4 + argv.len());
        args.push(Value::from(lua.sha.as_str()));
        args.push(Value::Integer(1));
        args.push(Value::from(key));
        args.push(Value::from(self.prefix.as_str()));
        args.extend(argv);
        let evalsha = || CustomCommand::new_static("EVALSHA", Some(slot), false);
        let answer: Value = match client.custom(evalsha(), args.clone()).await {
            Err(e) if e.details().starts_with("NOSCRIPT") => {
                let load = CustomCommand::new_static("SCRIPT", Some(slot), false);
                client
                    .custom::<Value, Value>(load, vec![Value::from("LOAD"), lua.source.into()])
                    .await
                    .map_err(|e| Failure::Redis(e.kind().clone()))?;
                client
                    .custom(evalsha(), args)
                    .await
                    .map_err(|e| Failure::Redis(e.kind().clone()))?
            }
            Err(e) => return Err(Failure::Redis(e.kind().clone())),
            Ok(v) => v,
        };
        answer.convert::<Vec<i64>>().map_err(|_| Failure::Decode)
    }

    /// The script arguments every operation starts with (after the prefix).
    fn common(req: &StoreRequest<'_>) -> Vec<Value> {
        vec![
            Value::from(req.route),
            Value::from(req.identity),
            Value::from(req.major),
            Value::from(req.token.map(|t| format!("{t:016x}")).unwrap_or_default()),
        ]
    }

    async fn reserve_inner(&self, req: &StoreRequest<'_>, now: u64) -> Reservation {
        let mut argv = Self::common(req);
        argv.extend([
            int(req.global.map_or(0, |g| u64::from(g.limit.max(1)))),
            int(req.global.map_or(0, |g| g.window_ms)),
            int(u64::from(req.invalid_budget.fail_at)),
            int(req.invalid_budget.window_ms),
            int(now),
            int(self.idle_ttl_ms),
            int(super::store::PROBE_LEASE_MS),
            int(super::store::PROBE_POLL_MS),
        ]);
        self.run(&self.reserve, argv)
            .await
            .and_then(|v| decode_reservation(&v))
            .unwrap_or_else(|| self.fallback.reserve_now(req, now))
    }

    async fn observe_inner(&self, req: &StoreRequest<'_>, u: &BucketUpdate, now: u64) {
        // Recorded locally too, so that a fall-back starts with what this process learned.
        self.fallback.observe_now(req, u, now);
        let scope = match u.scope {
            Some(RateLimitScope::User) => "user",
            Some(RateLimitScope::Shared) => "shared",
            Some(RateLimitScope::Global) => "global",
            None => "",
        };
        let flag = |b: bool| Value::from(if b { "1" } else { "0" });
        let mut argv = Self::common(req);
        argv.extend([
            int(req.invalid_budget.window_ms),
            int(now),
            int(u64::from(u.status)),
            Value::from(
                u.bucket
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |b| format!("+{b}")),
            ),
            opt(u.limit.map(u64::from)),
            opt(u.remaining.map(u64::from)),
            opt(u.reset_at_ms),
            opt(u.retry_at_ms),
            flag(u.global),
            Value::from(scope),
            flag(u.invalid),
            opt(u.dead_token_until_ms),
            opt(u.bot_blocked_until_ms),
            int(self.idle_ttl_ms),
            int(ROUTE_TTL_MS),
        ]);
        let _ = self.run(&self.observe, argv).await;
    }
}

/// The script's `{kind, a, b}`; `None` for anything else (then the local store answers).
fn decode_reservation(v: &[i64]) -> Option<Reservation> {
    let &[kind, a, b] = v else { return None };
    match kind {
        0 => Some(Reservation::Go),
        1 => Some(Reservation::WaitUntil {
            at_ms: back(a)?,
            global: b != 0,
        }),
        2 => {
            let reason = match a {
                1 => DenyReason::DeadToken,
                2 => DenyReason::BotUnauthorized,
                3 => DenyReason::InvalidBudget,
                _ => return None,
            };
            Some(Reservation::Deny(Denial {
                reason,
                retry_after_ms: back(b)?,
            }))
        }
        _ => None,
    }
}

impl RateLimitStore for RedisRateLimitStore {
    fn reserve<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<Reservation, LimitError>> {
        Box::pin(async move { Ok(self.reserve_inner(req, now_ms).await) })
    }

    fn observe<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        update: &'a BucketUpdate,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<(), LimitError>> {
        Box::pin(async move {
            self.observe_inner(req, update, now_ms).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_only_well_formed_answers() {
        assert_eq!(decode_reservation(&[0, 0, 0]), Some(Reservation::Go));
        assert_eq!(
            decode_reservation(&[1, 5, 1]),
            Some(Reservation::WaitUntil {
                at_ms: 5,
                global: true
            })
        );
        assert_eq!(
            decode_reservation(&[2, 3, 7]),
            Some(Reservation::Deny(Denial {
                reason: DenyReason::InvalidBudget,
                retry_after_ms: 7
            }))
        );
        assert_eq!(decode_reservation(&[]), None);
        assert_eq!(decode_reservation(&[0, 0]), None);
        assert_eq!(decode_reservation(&[1, -5, 0]), None);
        assert_eq!(decode_reservation(&[2, 9, 1]), None);
        assert_eq!(decode_reservation(&[7, 0, 0]), None);
    }

    #[test]
    fn lua_numbers_are_exact_and_capped() {
        assert_eq!(int(1_700_000_000_123), Value::from("1700000000123"));
        assert_eq!(int(u64::MAX), Value::from(MAX_LUA_INT.to_string()));
        assert_eq!(opt(None), Value::from("-1"));
    }

    #[test]
    fn health_warns_once_and_probes_once_per_interval() {
        let h = Health::new();
        assert!(h.should_try(0));
        h.failed(&Failure::Timeout);
        h.failed(&Failure::Decode);
        assert!(h.is_down());
        // Pretend the outage was noticed at t = 1000.
        h.down_since.store(1_001, Ordering::Release);
        h.next_probe
            .store(1_000 + PROBE_INTERVAL_MS, Ordering::Release);
        assert!(!h.should_try(1_500), "not the probe's turn yet");
        // An answer to a call sent before the outage proves nothing.
        h.answered(900);
        assert!(h.is_down());
        // After the interval, exactly one call probes.
        let later = 1_000 + PROBE_INTERVAL_MS;
        assert!(h.should_try(later));
        assert!(!h.should_try(later));
        h.answered(later);
        assert!(!h.is_down());
    }

    #[test]
    fn debug_shows_no_connection_details() {
        let s = RedisRateLimitStore::from_client(Client::default()).with_prefix("p:");
        let d = format!("{s:?}");
        assert!(d.contains("p:") && !d.contains("redis://"), "{d}");
    }
}
