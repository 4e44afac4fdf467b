//! One test suite run against every `TokenStore` implementation (`MemoryTokenStore`; with the
//! `redis` feature `RedisTokenStore` against `REDIS_URL`; with the `sqlite` feature
//! `SqliteStore` on a temporary file; with the `postgres` feature `PostgresStore` against
//! `DATABASE_URL` in a schema of its own; the last two skipped loudly when unset):
//! save/load round trip by session id, compare-and-swap, delete, TTL expiry, and a full login +
//! fetch + logout through the store. Sessions without a store (the record sealed in the
//! cookie) are covered by the login, lifecycle and refresh tests.
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use discord_oauth::Fetch;
use discord_oauth::clock::{Clock, ManualClock};
use discord_oauth::store::{MemoryTokenStore, SessionId, SessionRecord, StoreError, TokenStore};
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use discord_oauth_mock::MockDiscord;

struct Harness {
    mock: MockDiscord,
    clock: ManualClock,
    store: Arc<dyn TokenStore>,
    client: DiscordOAuth,
}

async fn harness(make: fn(Arc<dyn Clock>) -> Arc<dyn TokenStore>) -> Harness {
    harness_async(|clock| std::future::ready(Some((make(clock), None))))
        .await
        .unwrap()
        .0
}

/// Removes what a store left behind (its keys in Redis), run after a case that passed.
type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A harness whose store is made asynchronously; `None` when the store is unavailable (the
/// maker has said why, loudly).
async fn harness_async<F, Fut>(make: F) -> Option<(Harness, Option<Cleanup>)>
where
    F: FnOnce(Arc<dyn Clock>) -> Fut,
    Fut: std::future::Future<Output = Option<(Arc<dyn TokenStore>, Option<Cleanup>)>>,
{
    let clock = ManualClock::new();
    let (store, cleanup) = make(Arc::new(clock.clone())).await?;
    let mock = mock().await;
    let config = config_for(&mock)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let client = DiscordOAuth::builder(config)
        .token_store(store.clone())
        // The suite changes records behind the client's back and expects to be seen at once;
        // the recheck interval is covered by tests/several_instances.rs.
        .session_recheck(Duration::ZERO)
        .idle_timeout(Duration::from_secs(3600))
        .session_lifetime(Duration::from_secs(5 * 3600))
        .build()
        .unwrap();
    Some((
        Harness {
            mock,
            clock,
            store,
            client,
        },
        cleanup,
    ))
}

/// Runs one case of the suite on the store `make` builds (nothing when it is unavailable).
async fn run<F, Fut, C, CFut>(make: F, case: C)
where
    F: FnOnce(Arc<dyn Clock>) -> Fut,
    Fut: std::future::Future<Output = Option<(Arc<dyn TokenStore>, Option<Cleanup>)>>,
    C: FnOnce(Harness) -> CFut,
    CFut: std::future::Future<Output = ()>,
{
    let Some((h, cleanup)) = harness_async(make).await else {
        return;
    };
    case(h).await;
    if let Some(cleanup) = cleanup {
        cleanup.await;
    }
}

/// A real record, from a login through the store under test.
async fn record_of(h: &Harness) -> (Browser, SessionRecord) {
    let mut browser = Browser::default();
    login(
        &h.client,
        &mut browser,
        h.mock.users()[0].id,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    let record = browser.session(&h.client).record().await.unwrap().unwrap();
    (browser, record)
}

fn fresh(mut record: SessionRecord) -> SessionRecord {
    record.id = SessionId::random();
    record.version = 1;
    record
}

async fn round_trip(h: Harness) {
    let (_, record) = record_of(&h).await;
    let record = fresh(record);
    h.store.save(&record, None, 3600).await.unwrap();
    let payload = record.id;
    assert_eq!(h.store.load(&payload).await.unwrap(), Some(record.clone()));
    assert!(h.store.load(&SessionId::random()).await.unwrap().is_none());
    // Scopes and ids survive.
    let back = h.store.load(&payload).await.unwrap().unwrap();
    assert!(back.scopes.contains(&Scope::Guilds));
    assert_eq!(back.user_id, record.user_id);
    assert_eq!(back.access_token, record.access_token);
}

async fn compare_and_swap(h: Harness) {
    let (_, record) = record_of(&h).await;
    let v1 = fresh(record);
    h.store.save(&v1, None, 3600).await.unwrap();
    let payload = v1.id;
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.seen_at += 1;
    {
        // A second "new session" with the same id is a conflict.
        assert_eq!(
            h.store.save(&v1, None, 3600).await.unwrap_err(),
            StoreError::Conflict
        );
        // Wrong expected version: conflict, nothing changes.
        assert_eq!(
            h.store.save(&v2, Some(7), 3600).await.unwrap_err(),
            StoreError::Conflict
        );
        assert_eq!(h.store.load(&payload).await.unwrap(), Some(v1.clone()));
        // Right expected version: saved.
        h.store.save(&v2, Some(1), 3600).await.unwrap();
        assert_eq!(h.store.load(&payload).await.unwrap(), Some(v2.clone()));
        // The loser of a race (still expecting 1) gets a conflict.
        let mut loser = v1.clone();
        loser.version = 2;
        assert_eq!(
            h.store.save(&loser, Some(1), 3600).await.unwrap_err(),
            StoreError::Conflict
        );
        assert_eq!(h.store.load(&payload).await.unwrap(), Some(v2));
    }
}

async fn delete(h: Harness) {
    let (browser, record) = record_of(&h).await;
    let other = fresh(record.clone());
    h.store.save(&other, None, 3600).await.unwrap();
    let other_payload = other.id;
    h.store.delete(&record.id).await.unwrap();
    {
        assert!(h.store.load(&record.id).await.unwrap().is_none());
        assert!(!browser.session(&h.client).authorized().await);
    }
    // Deleting one record leaves the others.
    assert_eq!(
        h.store.load(&other_payload).await.unwrap(),
        Some(other.clone())
    );
    // Deleting twice is fine.
    h.store.delete(&record.id).await.unwrap();
    h.store.delete(&other.id).await.unwrap();
}

async fn ttl_expiry(h: Harness) {
    let (browser, record) = record_of(&h).await;
    let stolen = browser.clone();
    // Store-level TTL (server-side stores forget the record).
    let short = fresh(record);
    h.store.save(&short, None, 10).await.unwrap();
    let payload = short.id;
    assert!(h.store.load(&payload).await.unwrap().is_some());
    h.clock.advance(Duration::from_secs(11));
    {
        assert!(h.store.load(&payload).await.unwrap().is_none(), "expired");
    }
    // Session-level idle lifetime (both stores): alive within it...
    h.clock.advance(Duration::from_secs(1800));
    assert!(browser.session(&h.client).authorized().await);
    // ...dead after an idle hour, with no call to Discord.
    h.clock.advance(Duration::from_secs(3601));
    let before = h.mock.stats().total_requests;
    let s = stolen.session(&h.client);
    assert!(!s.authorized().await);
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert_eq!(h.mock.stats().total_requests, before);
}

async fn absolute_lifetime(h: Harness) {
    let (mut browser, _) = record_of(&h).await;
    // Active every 50 minutes (idle never reached), but the 5-hour absolute lifetime ends it.
    for _ in 0..5 {
        h.clock.advance(Duration::from_secs(50 * 60));
        let s = browser.session(&h.client);
        assert!(s.authorized().await);
        browser.absorb(&s);
    }
    h.clock.advance(Duration::from_secs(50 * 60 + 1));
    assert!(!browser.session(&h.client).authorized().await);
}

async fn full_login_fetch_logout(h: Harness) {
    let user = h.mock.users()[0].id;
    let (mut browser, record) = record_of(&h).await;
    assert_eq!(record.user_id, Some(user));
    let s = browser.session(&h.client);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), user);
    assert!(!s.fetch_guilds(Fetch::Cached).await.unwrap().is_empty());
    let stolen = browser.clone();
    assert!(s.revoke().await);
    browser.absorb(&s);
    assert!(!browser.session(&h.client).authorized().await);
    let before = h.mock.stats().total_requests;
    let s = stolen.session(&h.client);
    assert!(!s.authorized().await);
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert_eq!(h.mock.stats().total_requests, before, "no call to Discord");
    assert!(h.store.load(&record.id).await.unwrap().is_none());
}

/// The per-user index: `logout_everywhere` ends every session of one user, and only theirs.
async fn logout_everywhere(h: Harness) {
    let (first, record) = record_of(&h).await;
    let (second, _) = record_of(&h).await;
    let mut other = Browser::default();
    let other_user = h.mock.users()[1].id;
    login(
        &h.client,
        &mut other,
        other_user,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    let user = record.user_id.unwrap();
    let mut listed = h.store.user_sessions(user).await.unwrap();
    listed.sort_by_key(|id| id.0);
    assert_eq!(listed.len(), 2, "two sessions of the user");
    assert_eq!(h.client.logout_everywhere(user).await.unwrap(), 2);
    assert!(!first.session(&h.client).authorized().await);
    assert!(!second.session(&h.client).authorized().await);
    assert!(
        other.session(&h.client).authorized().await,
        "another user keeps theirs"
    );
    assert!(h.store.user_sessions(user).await.unwrap().is_empty());
    assert_eq!(h.client.logout_everywhere(user).await.unwrap(), 0);
}

fn memory_store(clock: Arc<dyn Clock>) -> Arc<dyn TokenStore> {
    Arc::new(MemoryTokenStore::with_clock(clock))
}

macro_rules! store_suite {
    ($module:ident, $make:expr) => {
        store_suite!(@cases $module, |clock| std::future::ready(Some(($make(clock), None))));
    };
    (async $module:ident, $make:expr) => {
        store_suite!(@cases $module, $make);
    };
    (@cases $module:ident, $make:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn round_trip() {
                run($make, super::round_trip).await;
            }
            #[tokio::test]
            async fn compare_and_swap() {
                run($make, super::compare_and_swap).await;
            }
            #[tokio::test]
            async fn delete() {
                run($make, super::delete).await;
            }
            #[tokio::test]
            async fn ttl_expiry() {
                run($make, super::ttl_expiry).await;
            }
            #[tokio::test]
            async fn absolute_lifetime() {
                run($make, super::absolute_lifetime).await;
            }
            #[tokio::test]
            async fn full_login_fetch_logout() {
                run($make, super::full_login_fetch_logout).await;
            }
            #[tokio::test]
            async fn logout_everywhere() {
                run($make, super::logout_everywhere).await;
            }
        }
    };
}

store_suite!(memory, memory_store);
#[cfg(feature = "redis")]
store_suite!(async redis, redis_store);
#[cfg(feature = "sqlite")]
store_suite!(async sqlite, sqlite_store);
#[cfg(feature = "postgres")]
store_suite!(async postgres, postgres_store);

/// A fresh random name part (hex).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn unique() -> String {
    SessionId::random().0[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `SqliteStore` on a fresh temporary file (removed by the cleanup), following the harness
/// clock.
#[cfg(feature = "sqlite")]
async fn sqlite_store(clock: Arc<dyn Clock>) -> Option<(Arc<dyn TokenStore>, Option<Cleanup>)> {
    let path = std::env::temp_dir().join(format!("discord-oauth-suite-{}.db", unique()));
    let path = path.to_str().unwrap().to_owned();
    let store = discord_oauth::store::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_clock(clock);
    let pool = store.pool().clone();
    let cleanup: Cleanup = Box::pin(async move {
        pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    });
    Some((Arc::new(store), Some(cleanup)))
}

/// `PostgresStore` in a fresh schema of `DATABASE_URL` (dropped by the cleanup: the cases run
/// in parallel and CI reuses the database), following the harness clock. `None` (after a loud
/// SKIPPED line) without PostgreSQL.
#[cfg(feature = "postgres")]
async fn postgres_store(clock: Arc<dyn Clock>) -> Option<(Arc<dyn TokenStore>, Option<Cleanup>)> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{ConnectOptions, Connection, Executor};
    use std::io::Write as _;
    use std::str::FromStr;
    let skip = |why: &str| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: DATABASE_URL not set / PostgreSQL unreachable — PostgreSQL store tests did not run ({why}) ***\n"
        );
        None
    };
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return skip("DATABASE_URL not set");
    };
    let Ok(options) = PgConnectOptions::from_str(&url) else {
        return skip("bad DATABASE_URL");
    };
    let Ok(Ok(mut admin)) = tokio::time::timeout(Duration::from_secs(3), options.connect()).await
    else {
        return skip("PostgreSQL unreachable");
    };
    let schema = format!("discord_oauth_suite_{}", unique());
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let store = discord_oauth::store::PostgresStore::from_pool(pool.clone())
        .await
        .unwrap()
        .with_clock(clock);
    let cleanup: Cleanup = Box::pin(async move {
        pool.close().await;
        admin
            .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .unwrap();
        let _ = admin.close().await;
    });
    Some((Arc::new(store), Some(cleanup)))
}

/// `RedisTokenStore` on a fresh random key prefix (so the cases run in parallel without
/// colliding; every key has a TTL, so nothing outlives the session lifetime), following the
/// harness clock for the record expiry. `None` (after a loud SKIPPED line) without Redis.
#[cfg(feature = "redis")]
async fn redis_store(clock: Arc<dyn Clock>) -> Option<(Arc<dyn TokenStore>, Option<Cleanup>)> {
    use fred::prelude::{Builder, ClientLike, Config, LuaInterface};
    use std::io::Write as _;
    let skip = |why: &str| {
        // Straight to stderr: libtest does not capture this, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: REDIS_URL not set / Redis unreachable — Redis store tests did not run ({why}) ***\n"
        );
        None
    };
    let Ok(url) = std::env::var("REDIS_URL") else {
        return skip("REDIS_URL not set");
    };
    let pool = match Config::from_url(&url).and_then(|c| {
        Builder::from_config(c)
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
            .build_pool(2)
    }) {
        Ok(pool) => pool,
        Err(_) => return skip("bad REDIS_URL"),
    };
    match tokio::time::timeout(Duration::from_secs(3), pool.init()).await {
        Ok(Ok(_)) => {}
        _ => return skip("Redis unreachable"),
    }
    let prefix: String = SessionId::random()
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let prefix = format!("discord-oauth-test:{prefix}:");
    let store = discord_oauth::store::RedisTokenStore::new(pool.clone())
        .with_prefix(&prefix)
        .with_clock(clock);
    let cleanup: Cleanup = Box::pin(async move {
        let _: i64 = pool
            .next()
            .eval(
                "local ks = redis.call('KEYS', ARGV[1]) \
                 for _, k in ipairs(ks) do redis.call('DEL', k) end return #ks",
                Vec::<String>::new(),
                vec![format!("{prefix}*")],
            )
            .await
            .unwrap();
    });
    Some((Arc::new(store), Some(cleanup)))
}

#[tokio::test]
async fn memory_store_cookie_carries_only_the_id() {
    let h = harness(memory_store).await;
    let (browser, record) = record_of(&h).await;
    let cookie = &browser.cookies["discord_session"];
    // nonce 12 + id 16 + tag 16, base64url.
    assert_eq!(cookie.len(), (12 + 16 + 16usize).div_ceil(3) * 4 - 1);
    assert!(record.user_id.is_some());
}
