//! `RedisRateLimitStore` (feature `redis`): the same decisions as `MemoryStore` (driven side by
//! side, call by call), the fall-back to local limits while Redis is hung or dead (against a
//! redis-server this test starts on a free loopback port, stops and restarts), bad data in
//! Redis, and the multi-instance property: two clients sharing one Redis keep the bot's global
//! 50/s against the fake Discord together.
//!
//! The tests that use the shared Redis read `REDIS_URL`; without it (or when Redis does not
//! answer) they print a loud SKIPPED line and return. The outage test needs `redis-server` on the
//! `PATH` (else SKIPPED) and never touches any other Redis. Each test uses its own key prefix
//! and removes its keys at the end (every key also has a TTL).
#![cfg(feature = "redis")]

mod common;

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use discord_oauth::ratelimit::{
    BucketUpdate, DenyReason, DiscordLimiter, InvalidBudget, MemoryStore, RateLimitScope,
    RateLimitStore, RedisRateLimitStore, Reservation, StoreRequest, WindowLimit,
};
use discord_oauth::{DiscordOAuth, Error};
use discord_oauth_mock::{MockDiscord, RateLimitConfig};
use fred::prelude::*;
use http::Method;
use tracing_subscriber::fmt::MakeWriter;

// ----- harness ---------------------------------------------------------------------------------

fn skip(why: &str) {
    // Straight to the process's stderr: libtest does not capture this, so the skip shows.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {why} — Redis rate-limit store test did not run ***\n"
    );
}

/// A fresh key prefix per test (and per run).
fn prefix(test: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "discord-oauth-test:rl:{test}:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn pool_for(url: &str) -> Option<Pool> {
    let config = Config::from_url(url).ok()?;
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
        .set_policy(ReconnectPolicy::new_constant(0, 100));
    let pool = builder.build_pool(2).ok()?;
    match tokio::time::timeout(Duration::from_secs(3), pool.init()).await {
        Ok(Ok(_)) => Some(pool),
        _ => None,
    }
}

/// A connected pool on `REDIS_URL`, or `None` (after a loud SKIPPED line).
async fn redis() -> Option<Pool> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        skip("REDIS_URL not set");
        return None;
    };
    let pool = pool_for(&url).await;
    if pool.is_none() {
        skip("Redis at REDIS_URL unreachable");
    }
    pool
}

/// Deletes every key under `prefix`; returns how many there were.
async fn cleanup(client: &Client, prefix: &str) -> i64 {
    client
        .eval(
            "local ks = redis.call('KEYS', ARGV[1]) \
             for _, k in ipairs(ks) do redis.call('DEL', k) end return #ks",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await
        .unwrap()
}

/// Keys under `prefix` without a TTL.
async fn keys_without_ttl(client: &Client, prefix: &str) -> Vec<String> {
    client
        .eval(
            "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do \
             if redis.call('PTTL', k) < 0 then table.insert(out, k) end end return out",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await
        .unwrap()
}

async fn key_count(client: &Client, prefix: &str) -> i64 {
    client
        .eval(
            "return #redis.call('KEYS', ARGV[1])",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await
        .unwrap()
}

const T0: u64 = 1_700_000_000_000;

const BUDGET: InvalidBudget = InvalidBudget {
    fail_at: 9_000,
    window_ms: 600_000,
};

const BOT_GLOBAL: WindowLimit = WindowLimit {
    limit: 50,
    window_ms: 1_100,
};

fn req<'a>(route: &'a str, identity: &'a str, major: &'a str) -> StoreRequest<'a> {
    StoreRequest {
        route,
        identity,
        major,
        token: None,
        global: (identity == "b").then_some(BOT_GLOBAL),
        invalid_budget: BUDGET,
    }
}

fn ok_bucket(hash: &str, limit: u32, remaining: u32, reset_at_ms: u64) -> BucketUpdate {
    BucketUpdate {
        status: 200,
        bucket: Some(hash.to_owned()),
        limit: Some(limit),
        remaining: Some(remaining),
        reset_at_ms: Some(reset_at_ms),
        ..BucketUpdate::default()
    }
}

fn status(code: u16) -> BucketUpdate {
    BucketUpdate {
        status: code,
        invalid: matches!(code, 401 | 403),
        ..BucketUpdate::default()
    }
}

fn too_many(scope: RateLimitScope, retry_at_ms: u64) -> BucketUpdate {
    BucketUpdate {
        status: 429,
        retry_at_ms: Some(retry_at_ms),
        global: scope == RateLimitScope::Global,
        scope: Some(scope),
        invalid: scope != RateLimitScope::Shared,
        ..BucketUpdate::default()
    }
}

/// A `MemoryStore` and a `RedisRateLimitStore` driven with the same calls.
struct Pair {
    mem: MemoryStore,
    redis: RedisRateLimitStore,
    calls: usize,
}

impl Pair {
    async fn reserve(&mut self, r: &StoreRequest<'_>, now: u64) -> Reservation {
        let a = self.mem.reserve(r, now).await.unwrap();
        let b = self.redis.reserve(r, now).await.unwrap();
        assert!(!self.redis.is_degraded(), "Redis did not answer");
        assert_eq!(
            a,
            b,
            "reserve {} {} at T0+{}",
            r.identity,
            r.route,
            now - T0
        );
        self.calls += 1;
        a
    }

    async fn observe(&mut self, r: &StoreRequest<'_>, u: &BucketUpdate, now: u64) {
        self.mem.observe(r, u, now).await.unwrap();
        self.redis.observe(r, u, now).await.unwrap();
        assert!(!self.redis.is_degraded(), "Redis did not answer");
        self.calls += 1;
    }
}

fn is_wait(r: Reservation, global: bool) -> bool {
    matches!(r, Reservation::WaitUntil { global: g, .. } if g == global)
}

// ----- 1. the same decisions as MemoryStore ------------------------------------------------------

#[tokio::test]
async fn redis_store_decides_exactly_like_memory_store() {
    let Some(pool) = redis().await else { return };
    let prefix = prefix("equiv");
    let mut p = Pair {
        mem: MemoryStore::new(),
        redis: RedisRateLimitStore::new(pool.clone()).with_prefix(&prefix),
        calls: 0,
    };
    let mut t = T0;

    // A. The bot's global window (50 per 1.1 s, sliding) on a route without limits; the first
    // call probes the unknown route, a second one waits for the probe.
    let users = req("b|GET /users/{id}", "b", "");
    assert_eq!(p.reserve(&users, t).await, Reservation::Go);
    assert!(
        is_wait(p.reserve(&users, t).await, false),
        "probe in flight"
    );
    p.observe(&users, &status(200), t).await;
    for i in 1..50 {
        assert_eq!(p.reserve(&users, t + i).await, Reservation::Go);
    }
    assert_eq!(
        p.reserve(&users, t + 60).await,
        Reservation::WaitUntil {
            at_ms: T0 + 1_100,
            global: true
        }
    );
    t = T0 + 1_100;
    assert_eq!(p.reserve(&users, t).await, Reservation::Go);

    // B. A learned bucket (3 per second) running out and resetting; a second route naming the
    // same bucket hash shares it.
    let me = req("u|GET /users/@me", "u42", "");
    assert_eq!(p.reserve(&me, t).await, Reservation::Go);
    p.observe(&me, &ok_bucket("abc", 3, 2, t + 1_000), t).await;
    assert_eq!(p.reserve(&me, t + 1).await, Reservation::Go);
    assert_eq!(p.reserve(&me, t + 2).await, Reservation::Go);
    assert_eq!(
        p.reserve(&me, t + 3).await,
        Reservation::WaitUntil {
            at_ms: t + 1_000,
            global: false
        }
    );
    t += 1_000;
    assert_eq!(p.reserve(&me, t).await, Reservation::Go);
    let guilds = req("u|GET /users/@me/guilds", "u42", "");
    assert_eq!(p.reserve(&guilds, t).await, Reservation::Go);
    p.observe(&guilds, &ok_bucket("abc", 3, 1, t + 1_000), t)
        .await;
    for i in 1..4 {
        p.reserve(&guilds, t + i).await;
        p.reserve(&me, t + i).await;
    }

    // C. A probe whose answer never comes: the lease lapses after a second.
    let conns = req("u|GET /users/@me/connections", "u42", "");
    assert_eq!(p.reserve(&conns, t).await, Reservation::Go);
    assert!(is_wait(p.reserve(&conns, t + 5).await, false));
    t += 1_000;
    assert_eq!(p.reserve(&conns, t).await, Reservation::Go);
    p.observe(&conns, &status(200), t).await;
    assert_eq!(p.reserve(&conns, t + 1).await, Reservation::Go);

    // D. A 429 with scope `user` spends the bucket until the retry time.
    p.observe(&me, &too_many(RateLimitScope::User, t + 500), t)
        .await;
    assert_eq!(
        p.reserve(&me, t + 1).await,
        Reservation::WaitUntil {
            at_ms: t + 500,
            global: false
        }
    );

    // E. A 429 with scope `shared` blocks the resource (hash + major) for everyone.
    let add7 = req("b|PUT /guilds/{guild}/members/{id}", "b", "g7");
    let add8 = req("b|PUT /guilds/{guild}/members/{id}", "b", "g8");
    assert_eq!(p.reserve(&add7, t).await, Reservation::Go);
    let mut shared = too_many(RateLimitScope::Shared, t + 700);
    shared.bucket = Some("sh".into());
    shared.limit = Some(5);
    shared.remaining = Some(4);
    shared.reset_at_ms = Some(t + 2_000);
    p.observe(&add7, &shared, t).await;
    assert_eq!(
        p.reserve(&add7, t + 1).await,
        Reservation::WaitUntil {
            at_ms: t + 700,
            global: false
        }
    );
    assert_eq!(p.reserve(&add8, t + 2).await, Reservation::Go);
    t += 700;
    assert_eq!(p.reserve(&add7, t).await, Reservation::Go);

    // F. A global 429 blocks every call of the identity.
    p.observe(&users, &too_many(RateLimitScope::Global, t + 300), t)
        .await;
    assert_eq!(
        p.reserve(&add8, t + 1).await,
        Reservation::WaitUntil {
            at_ms: t + 300,
            global: true
        }
    );
    assert_eq!(
        p.reserve(&conns, t + 1).await,
        Reservation::Go,
        "users apart"
    );
    t += 300;
    assert_eq!(p.reserve(&add8, t).await, Reservation::Go);

    // G. A dead token is refused, another token is not.
    let mut dead = req("u|GET /users/@me", "t000000000000dead", "");
    dead.token = Some(0xdead);
    let mut u401 = status(401);
    u401.dead_token_until_ms = Some(t + 7 * 24 * 3600 * 1000);
    p.observe(&dead, &u401, t).await;
    assert!(matches!(
        p.reserve(&dead, t + 1).await,
        Reservation::Deny(d) if d.reason == DenyReason::DeadToken
    ));
    let mut alive = req("u|GET /users/@me", "t000000000000beef", "");
    alive.token = Some(0xbeef);
    assert_eq!(p.reserve(&alive, t + 1).await, Reservation::Go);

    // H. The bot token rejected: a cool-down for bot calls only.
    let mut b401 = status(401);
    b401.bot_blocked_until_ms = Some(t + 60_000);
    p.observe(&users, &b401, t).await;
    assert!(matches!(
        p.reserve(&add8, t + 1).await,
        Reservation::Deny(d) if d.reason == DenyReason::BotUnauthorized
    ));
    assert_eq!(p.reserve(&conns, t + 1).await, Reservation::Go);

    // I. The invalid-request budget nearly spent: 4 invalid answers so far (D, F, G, H; the
    // shared 429 does not count), 4 more 403s.
    for i in 0..4 {
        p.observe(&conns, &status(403), t + 10 + i).await;
    }
    let mut tight = req("u|GET /users/@me/connections", "u42", "");
    tight.invalid_budget = InvalidBudget {
        fail_at: 8,
        window_ms: 600_000,
    };
    assert!(matches!(
        p.reserve(&tight, t + 20).await,
        Reservation::Deny(d) if d.reason == DenyReason::InvalidBudget
    ));
    tight.invalid_budget.fail_at = 9;
    assert_eq!(p.reserve(&tight, t + 21).await, Reservation::Go);
    tight.invalid_budget.fail_at = 8;
    // The window passes: the budget is back (a fresh identity and route: MemoryStore has swept
    // its idle buckets by then, Redis keeps them until their TTL).
    t = T0 + 600_000 + 60_000;
    let fresh = StoreRequest {
        identity: "u777",
        route: "u|GET /oauth2/@me",
        ..tight
    };
    assert_eq!(p.reserve(&fresh, t).await, Reservation::Go);

    eprintln!("{} calls, identical answers", p.calls);
    let client = pool.next().clone();
    assert_eq!(
        keys_without_ttl(&client, &prefix).await,
        Vec::<String>::new()
    );
    assert!(cleanup(&client, &prefix).await > 5);
}

// ----- 2. bad data in Redis ----------------------------------------------------------------------

#[tokio::test]
async fn bad_data_in_redis_never_panics_and_falls_back() {
    let Some(pool) = redis().await else { return };
    let prefix = prefix("bad");
    let client = pool.next().clone();
    let store = RedisRateLimitStore::new(pool.clone()).with_prefix(&prefix);
    let set = |k: &str, v: &str| {
        let (c, k, v) = (client.clone(), format!("{prefix}{k}"), v.to_owned());
        async move {
            let _: () = c.set(k, v, None, None, false).await.unwrap();
        }
    };
    // Unreadable numbers count as "nothing".
    set("r:u|GET /x", "h:h").await;
    set("d:000000000000beef", "not-a-number").await;
    set("bot", "1e999").await;
    let _: () = client
        .hset(
            format!("{prefix}b:u1|h|"),
            [("k", "1"), ("l", "abc"), ("r", "-5"), ("t", "xyz")],
        )
        .await
        .unwrap();
    let _: () = client
        .hset(format!("{prefix}inv"), [("0", "x:y"), ("1", "::")])
        .await
        .unwrap();
    let mut r = req("u|GET /x", "u1", "");
    r.token = Some(0xbeef);
    let got = store.reserve(&r, T0).await.unwrap();
    assert!(!store.is_degraded());
    assert!(!matches!(got, Reservation::Deny(_)), "{got:?}");
    let bot = req("b|GET /x", "b", "");
    let got = store.reserve(&bot, T0).await.unwrap();
    assert!(!store.is_degraded());
    assert!(!matches!(got, Reservation::Deny(_)), "{got:?}");
    store.observe(&r, &status(200), T0).await.unwrap();

    // A key of the wrong type makes the script fail: answered locally, never an error.
    let _: () = client.del(format!("{prefix}b:u1|h|")).await.unwrap();
    set("b:u1|h|", "a string, not a hash").await;
    let got = store.reserve(&r, T0 + 1).await;
    assert!(got.is_ok(), "{got:?}");
    assert!(store.is_degraded(), "a script error falls back");
    // Repaired: Redis is tried again within about a second.
    let _: () = client.del(format!("{prefix}b:u1|h|")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    store.reserve(&r, T0 + 2).await.unwrap();
    assert!(!store.is_degraded(), "back on Redis");
    cleanup(&client, &prefix).await;
}

// ----- 3. hung and dead Redis --------------------------------------------------------------------

/// A redis-server child on a loopback port; killed when dropped.
struct OwnRedis {
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let me = Self { child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(me);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} on our own redis-server");
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The binary's log capture: one global subscriber (a thread-local one can miss events when
/// other tests hit the same call sites first), lines tagged with the thread name.
fn global_logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::INFO)
            .with_thread_names(true)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        logs
    })
}

/// Calls both stores `rounds` times, `every` apart; every call must be answered (the bound is
/// generous: the command timeout is 250 ms). Returns the slowest call.
async fn keep_calling(stores: &[&RedisRateLimitStore], rounds: u32, every: Duration) -> Duration {
    let r = req("u|GET /users/@me", "u5", "");
    let mut slowest = Duration::ZERO;
    for i in 0..rounds {
        for s in stores {
            let t = std::time::Instant::now();
            let now = T0 + 10_000 + u64::from(i);
            let got = s.reserve(&r, now).await;
            assert!(got.is_ok(), "{got:?}");
            let u = ok_bucket("me", 1_000, 999, now + 1_000);
            assert!(s.observe(&r, &u, now).await.is_ok());
            slowest = slowest.max(t.elapsed());
        }
        tokio::time::sleep(every).await;
    }
    assert!(slowest < Duration::from_millis(900), "slowest {slowest:?}");
    slowest
}

/// The bot's global window (limit 3 per minute here) is shared: two calls on A and one on B
/// spend it for both.
async fn assert_shared(a: &RedisRateLimitStore, b: &RedisRateLimitStore, t: u64) {
    let mut r = req("b|GET /users/{id}", "b", "");
    r.global = Some(WindowLimit {
        limit: 3,
        window_ms: 60_000,
    });
    let mut probe = r;
    probe.route = "b|GET /applications/@me";
    assert_eq!(a.reserve(&probe, t).await.unwrap(), Reservation::Go);
    a.observe(&probe, &status(200), t).await.unwrap();
    assert_eq!(a.reserve(&probe, t + 1).await.unwrap(), Reservation::Go);
    assert_eq!(b.reserve(&probe, t + 2).await.unwrap(), Reservation::Go);
    assert!(
        is_wait(b.reserve(&r, t + 3).await.unwrap(), true),
        "B sees A's calls"
    );
    assert!(is_wait(a.reserve(&r, t + 3).await.unwrap(), true));
    assert!(!a.is_degraded() && !b.is_degraded());
}

#[tokio::test(flavor = "current_thread")]
async fn falls_back_while_redis_is_hung_or_dead_and_shares_again_after_restart() {
    let port = free_port();
    let Some(server) = OwnRedis::start(port) else {
        skip("redis-server not found or did not start");
        return;
    };
    let logs = global_logs();

    let url = format!("redis://127.0.0.1:{port}");
    let (pa, pb) = (pool_for(&url).await.unwrap(), pool_for(&url).await.unwrap());
    let prefix = prefix("outage");
    let a = RedisRateLimitStore::new(pa.clone())
        .with_prefix(&prefix)
        .with_command_timeout(Duration::from_millis(250));
    let b = RedisRateLimitStore::new(pb.clone())
        .with_prefix(&prefix)
        .with_command_timeout(Duration::from_millis(250));
    assert_shared(&a, &b, T0).await;

    // Hung (SIGSTOP): every command times out; calls are answered locally.
    server.signal("-STOP");
    let slowest = keep_calling(&[&a, &b], 15, Duration::from_millis(100)).await;
    assert!(a.is_degraded() && b.is_degraded());
    eprintln!("hung Redis: slowest call {slowest:?}");
    server.signal("-CONT");
    for _ in 0..50 {
        if !a.is_degraded() && !b.is_degraded() {
            break;
        }
        keep_calling(&[&a, &b], 1, Duration::from_millis(100)).await;
    }
    assert!(!a.is_degraded() && !b.is_degraded(), "back after SIGCONT");

    // Dead (killed), then restarted empty on the same port.
    server.stop();
    let slowest = keep_calling(&[&a, &b], 15, Duration::from_millis(100)).await;
    assert!(a.is_degraded() && b.is_degraded());
    eprintln!("dead Redis: slowest call {slowest:?}");
    let server = OwnRedis::start(port).expect("restart on the same port");
    let t = std::time::Instant::now();
    for _ in 0..100 {
        if !a.is_degraded() && !b.is_degraded() {
            break;
        }
        keep_calling(&[&a, &b], 1, Duration::from_millis(100)).await;
    }
    assert!(!a.is_degraded() && !b.is_degraded(), "back after restart");
    eprintln!("shared again {:?} after the restart", t.elapsed());
    assert_shared(&a, &b, T0 + 100_000).await;

    // This test's lines only: its store calls run on its own thread (a current-thread runtime).
    let thread = std::thread::current().name().unwrap_or_default().to_owned();
    let text: String = logs
        .text()
        .lines()
        .filter(|l| l.contains(&thread))
        .map(|l| format!("{l}\n"))
        .collect();
    let count = |level: &str, words: &str| {
        text.lines()
            .filter(|l| l.contains(level) && l.contains(words))
            .count()
    };
    let warned = count(" WARN ", "rate-limit Redis store unavailable");
    let back = count(" INFO ", "limits are shared again");
    eprintln!("{warned} warnings, {back} recoveries logged");
    eprintln!("{text}");
    assert_eq!(warned, 4, "one warning per store per outage:\n{text}");
    assert_eq!(back, 4, "{text}");
    assert!(!text.contains(&port.to_string()) && !text.contains("redis://"));
    assert!(!text.contains(&prefix), "no key in the logs");
    cleanup(pa.next(), &prefix).await;
    drop(server);
}

// ----- 4. two instances against the fake Discord -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_redis_keep_the_global_limit_together() {
    let Some(pool_a) = redis().await else { return };
    let pool_b = pool_for(&std::env::var("REDIS_URL").unwrap())
        .await
        .unwrap();
    let prefix = prefix("multi");
    // The fake Discord: global 50 per 1 s for the bot (Discord's), and a roomy per-route limit
    // so that only the global limit binds.
    let mock = MockDiscord::builder()
        .redirect_uri(common::REDIRECT)
        .rate_limits(RateLimitConfig::default().route(
            "GET /users/{user_id}",
            1_000,
            Duration::from_secs(10),
        ))
        .start()
        .await;
    let user = mock.users()[0].id;
    let client = |pool: Pool| {
        let store = RedisRateLimitStore::new(pool).with_prefix(&prefix);
        let limiter = DiscordLimiter::builder().store(Arc::new(store)).build();
        let config = common::config_for(&mock)
            .request_timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        DiscordOAuth::builder(config)
            .limiter(Arc::new(limiter))
            .build()
            .unwrap()
    };
    let (a, b) = (client(pool_a.clone()), client(pool_b));
    let t = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let d = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            d.bot_request(Method::GET, format!("/users/{user}"))
                .send()
                .await
                .map(|_| ())
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let r: Result<_, Error> = task.await.unwrap();
        assert!(r.is_ok(), "{r:?}");
        ok += 1;
    }
    let wall = t.elapsed();
    let stats = mock.stats();
    eprintln!(
        "two clients, one Redis: {ok} bot calls in {wall:?}, {} x 429 at the fake Discord",
        stats.total_rate_limited
    );
    assert_eq!(ok, 100);
    assert_eq!(stats.total_rate_limited, 0, "{stats:?}");
    assert_eq!(stats.total_requests, 100);
    let c = pool_a.next().clone();
    assert_eq!(keys_without_ttl(&c, &prefix).await, Vec::<String>::new());
    assert!(key_count(&c, &prefix).await > 0);
    cleanup(&c, &prefix).await;
}

/// The control: the same burst with a `MemoryStore` per client collects 429s (each process
/// holds 50/s alone, together they send twice that).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_without_a_shared_store_collect_429s() {
    let mock = MockDiscord::builder()
        .redirect_uri(common::REDIRECT)
        .rate_limits(RateLimitConfig::default().route(
            "GET /users/{user_id}",
            1_000,
            Duration::from_secs(10),
        ))
        .start()
        .await;
    let user = mock.users()[0].id;
    let client = || {
        let config = common::config_for(&mock)
            .request_timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        DiscordOAuth::builder(config)
            .limiter(Arc::new(DiscordLimiter::new()))
            .build()
            .unwrap()
    };
    let (a, b) = (client(), client());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let d = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            d.bot_request(Method::GET, format!("/users/{user}"))
                .send()
                .await
                .map(|_| ())
        }));
    }
    for task in tasks {
        let _ = task.await.unwrap();
    }
    let limited = mock.stats().total_rate_limited;
    eprintln!("two clients, no shared store: {limited} x 429 at the fake Discord");
    assert!(limited > 0);
}

// ----- 5. cost ------------------------------------------------------------------------------------

/// `cargo test --release --all-features --test redis_ratelimit -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn cost_of_a_reserve_observe_pair() {
    let Some(pool) = redis().await else { return };
    let prefix = prefix("cost");
    let redis = RedisRateLimitStore::new(pool.clone()).with_prefix(&prefix);
    let mem = MemoryStore::new();
    let stores: [(&str, &dyn RateLimitStore); 2] = [("MemoryStore", &mem), ("Redis", &redis)];
    const N: u64 = 10_000;
    for (name, store) in stores {
        for (label, identity) in [("user route", "u1"), ("bot route (+global window)", "b")] {
            let r = StoreRequest {
                global: (identity == "b").then_some(WindowLimit {
                    limit: 1_000_000,
                    window_ms: 1_100,
                }),
                ..req("x|GET /users/@me", identity, "")
            };
            let t = std::time::Instant::now();
            for i in 0..N {
                let now = T0 + i;
                let got = store.reserve(&r, now).await.unwrap();
                assert_eq!(got, Reservation::Go);
                let u = ok_bucket("cost", 1_000_000, 999_999, now + 1_000);
                store.observe(&r, &u, now).await.unwrap();
            }
            let per = t.elapsed() / u32::try_from(N).unwrap();
            eprintln!("{name:12} {label:28} {per:?} per reserve+observe pair ({N} pairs)");
        }
    }
    assert!(!redis.is_degraded());
    cleanup(pool.next(), &prefix).await;
}
