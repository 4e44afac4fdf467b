//! The SQL stores (features `sqlite` and `postgres`): compare-and-swap, expiry on the store's
//! clock, the per-user index, revocations, used states, refresh leases and rotations with the
//! same answers as the memory implementations, concurrency, the sweeper, restarts, and
//! failures that must be `StoreError::Backend` (never a hang, a panic or a secret in the
//! message).
//!
//! SQLite cases run on a temporary file each. PostgreSQL cases run against `DATABASE_URL`, each
//! in a schema of its own dropped afterwards (the cases run in parallel and CI reuses the
//! database), and are skipped loudly when it is unset or unreachable.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use discord_oauth::clock::{Clock, ManualClock};
use discord_oauth::store::{
    ConsumedStates, MemoryConsumedStates, MemoryRefreshCoordination, MemoryRevocationList,
    RefreshCoordination, RevocationList, SessionId, SessionRecord, StoreError, TokenStore,
};

/// Everything one SQL store is.
trait AllSeams: TokenStore + RevocationList + ConsumedStates + RefreshCoordination + Clone {}
impl<T: TokenStore + RevocationList + ConsumedStates + RefreshCoordination + Clone> AllSeams for T {}

fn unique() -> String {
    SessionId::random().0[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A distinct version-1 record of `user_id` (SessionRecord is non_exhaustive: built through
/// its serde form).
fn record(user_id: Option<u64>) -> SessionRecord {
    let id = SessionId::random();
    serde_json::from_value(serde_json::json!({
        "id": id.0,
        "version": 1,
        "access_token": format!("at-{}", unique()),
        "refresh_token": format!("rt-{}", unique()),
        "scopes": "identify guilds",
        "user_id": user_id,
        "expires_at": 4_000_000_000u64,
        "created_at": 1_700_000_000u64,
        "seen_at": 1_700_000_000u64,
    }))
    .unwrap()
}

fn next(record: &SessionRecord) -> SessionRecord {
    let mut r = record.clone();
    r.version += 1;
    r.seen_at += 1;
    r
}

/// The error and its causes, as one line.
fn chain(e: &StoreError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_backend(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(e @ StoreError::Backend(_)) => chain(&e),
        other => panic!("expected StoreError::Backend, got {other:?}"),
    }
}

// ----- harness ---------------------------------------------------------------------------------

/// A store on a manual clock, and what removes its database afterwards.
struct Case<S> {
    store: S,
    clock: ManualClock,
    cleanup: Cleanup,
}

enum Cleanup {
    #[cfg(feature = "sqlite")]
    File(TempFile),
    #[cfg(feature = "postgres")]
    Schema(sqlx::PgConnection, String),
}

impl Cleanup {
    async fn run(self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::File(file) => drop(file),
            #[cfg(feature = "postgres")]
            Self::Schema(mut admin, schema) => {
                use sqlx::{Connection, Executor};
                admin
                    .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
                    .await
                    .unwrap();
                let _ = admin.close().await;
            }
        }
    }
}

/// A temporary SQLite file name, removed (with its WAL files) on drop, even after a panic.
#[cfg(feature = "sqlite")]
struct TempFile(String);

#[cfg(feature = "sqlite")]
impl TempFile {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("discord-oauth-sql-{}.db", unique()));
        Self(path.to_str().unwrap().to_owned())
    }
}

#[cfg(feature = "sqlite")]
impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0));
        }
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite() -> Option<Case<discord_oauth::store::SqliteStore>> {
    let file = TempFile::new();
    let clock = ManualClock::new();
    let store = discord_oauth::store::SqliteStore::open(&file.0)
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    Some(Case {
        store,
        clock,
        cleanup: Cleanup::File(file),
    })
}

#[cfg(feature = "postgres")]
fn pg_skip<T>(why: &str) -> Option<T> {
    use std::io::Write as _;
    // Straight to stderr: libtest does not capture this, so the skip shows.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: DATABASE_URL not set / PostgreSQL unreachable — PostgreSQL store tests did not run ({why}) ***\n"
    );
    None
}

/// A pool whose connections live in a fresh schema, and the connection that will drop it.
#[cfg(feature = "postgres")]
async fn pg_schema() -> Option<(sqlx::PgPool, Cleanup)> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{ConnectOptions, Executor};
    use std::str::FromStr;
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return pg_skip("DATABASE_URL not set");
    };
    let Ok(options) = PgConnectOptions::from_str(&url) else {
        return pg_skip("bad DATABASE_URL");
    };
    let Ok(Ok(mut admin)) = tokio::time::timeout(Duration::from_secs(3), options.connect()).await
    else {
        return pg_skip("PostgreSQL unreachable");
    };
    let schema = format!("discord_oauth_sql_{}", unique());
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    Some((pool, Cleanup::Schema(admin, schema)))
}

#[cfg(feature = "postgres")]
async fn postgres() -> Option<Case<discord_oauth::store::PostgresStore>> {
    let (pool, cleanup) = pg_schema().await?;
    let clock = ManualClock::new();
    let store = discord_oauth::store::PostgresStore::from_pool(pool)
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    Some(Case {
        store,
        clock,
        cleanup,
    })
}

// ----- cases run on both databases ----------------------------------------------------------

async fn cas_conflict<S: AllSeams>(c: &Case<S>) {
    let v1 = record(Some(7));
    c.store.save(&v1, None, 3600).await.unwrap();
    // A second new session with the same live id: conflict.
    assert_eq!(
        c.store.save(&v1, None, 3600).await,
        Err(StoreError::Conflict)
    );
    let v2 = next(&v1);
    assert_eq!(
        c.store.save(&v2, Some(5), 3600).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(c.store.load(&v1.id).await.unwrap(), Some(v1.clone()));
    c.store.save(&v2, Some(1), 3600).await.unwrap();
    // The loser of the race still expects 1.
    assert_eq!(
        c.store.save(&v2, Some(1), 3600).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(c.store.load(&v1.id).await.unwrap(), Some(v2));
}

async fn delete_then_stale_save_refused<S: AllSeams>(c: &Case<S>) {
    let v1 = record(Some(7));
    c.store.save(&v1, None, 3600).await.unwrap();
    c.store.delete(&v1.id).await.unwrap();
    // A request that loaded v1 before the logout cannot bring the session back.
    assert_eq!(
        c.store.save(&next(&v1), Some(1), 3600).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(c.store.load(&v1.id).await.unwrap(), None);
    assert!(c.store.user_sessions(7).await.unwrap().is_empty());
    c.store.delete(&v1.id).await.unwrap();
}

async fn ttl_expiry_on_the_store_clock<S: AllSeams>(c: &Case<S>) {
    let v1 = record(Some(9));
    c.store.save(&v1, None, 10).await.unwrap();
    c.clock.advance(Duration::from_secs(9));
    assert!(c.store.load(&v1.id).await.unwrap().is_some());
    c.clock.advance(Duration::from_secs(1));
    assert_eq!(
        c.store.load(&v1.id).await.unwrap(),
        None,
        "expired at its TTL"
    );
    assert!(c.store.user_sessions(9).await.unwrap().is_empty());
    // An expired record cannot be updated, but its id may be taken again.
    assert_eq!(
        c.store.save(&next(&v1), Some(1), 10).await,
        Err(StoreError::Conflict)
    );
    c.store.save(&v1, None, 10).await.unwrap();
    assert_eq!(c.store.load(&v1.id).await.unwrap(), Some(v1.clone()));
    // A zero TTL is dead at once, as in the memory store.
    let dead = record(None);
    c.store.save(&dead, None, 0).await.unwrap();
    assert_eq!(c.store.load(&dead.id).await.unwrap(), None);
}

async fn user_sessions_index<S: AllSeams>(c: &Case<S>) {
    let (a1, a2, a_short) = (record(Some(1)), record(Some(1)), record(Some(1)));
    let b = record(Some(2));
    let anonymous = record(None);
    // User ids up to u64::MAX round-trip through BIGINT.
    let huge = record(Some(u64::MAX));
    for (r, ttl) in [
        (&a1, 100),
        (&a2, 100),
        (&a_short, 5),
        (&b, 100),
        (&anonymous, 100),
        (&huge, 100),
    ] {
        c.store.save(r, None, ttl).await.unwrap();
    }
    c.clock.advance(Duration::from_secs(6));
    let mut got = c.store.user_sessions(1).await.unwrap();
    let mut want = vec![a1.id, a2.id];
    got.sort_by_key(|id| id.0);
    want.sort_by_key(|id| id.0);
    assert_eq!(got, want, "live sessions of user 1 only");
    assert_eq!(c.store.user_sessions(2).await.unwrap(), vec![b.id]);
    assert_eq!(
        c.store.user_sessions(u64::MAX).await.unwrap(),
        vec![huge.id]
    );
    assert_eq!(
        c.store.load(&huge.id).await.unwrap().unwrap().user_id,
        Some(u64::MAX)
    );
    assert!(c.store.user_sessions(3).await.unwrap().is_empty());
    // A save that learns the user id moves the session into the index.
    let mut named = next(&anonymous);
    named.user_id = Some(3);
    c.store.save(&named, Some(1), 100).await.unwrap();
    assert_eq!(c.store.user_sessions(3).await.unwrap(), vec![anonymous.id]);
}

/// Every step against `MemoryRevocationList` and the SQL store gives the same answer.
async fn revocation_matches_memory<S: AllSeams>(c: &Case<S>) {
    let memory = MemoryRevocationList::new();
    let lists: [&dyn RevocationList; 2] = [&memory, &c.store];
    let (a, b) = (SessionId::random(), SessionId::random());
    let mut answers: [Vec<bool>; 2] = Default::default();
    for (list, out) in lists.into_iter().zip(&mut answers) {
        out.push(list.is_revoked(&a, 100).await.unwrap());
        list.revoke(&a, 200).await.unwrap();
        for now in [100, 199, 200, 300] {
            out.push(list.is_revoked(&a, now).await.unwrap());
        }
        out.push(list.is_revoked(&b, 100).await.unwrap());
        // Revoking again replaces the end.
        list.revoke(&a, 400).await.unwrap();
        out.push(list.is_revoked(&a, 300).await.unwrap());
        list.revoke(&a, 150).await.unwrap();
        out.push(list.is_revoked(&a, 300).await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        answers[1],
        [false, true, true, false, false, false, true, false]
    );
}

/// Every step against `MemoryConsumedStates` and the SQL store gives the same answer.
async fn consumed_states_match_memory<S: AllSeams>(c: &Case<S>) {
    let memory = MemoryConsumedStates::default();
    let sets: [&dyn ConsumedStates; 2] = [&memory, &c.store];
    let (h, other) = (SessionId::random().0, SessionId::random().0);
    let mut answers: [Vec<bool>; 2] = Default::default();
    for (set, out) in sets.into_iter().zip(&mut answers) {
        for (hash, until, now) in [
            (&h, 100, 0),
            (&h, 100, 50),
            (&h, 100, 99),
            (&other, 100, 50),
            (&h, 200, 100), // expired at its `until`: fresh again
            (&h, 200, 150),
            (&h, 300, 200),
        ] {
            out.push(set.consume(hash, until, now).await.unwrap());
        }
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], [true, false, false, true, true, false, true]);
}

/// Every step against `MemoryRefreshCoordination` and the SQL store gives the same answer.
async fn leases_and_rotations_match_memory<S: AllSeams>(c: &Case<S>) {
    let memory = MemoryRefreshCoordination::new();
    let coordinators: [&dyn RefreshCoordination; 2] = [&memory, &c.store];
    let (k, k2, r) = (
        SessionId::random().0,
        SessionId::random().0,
        SessionId::random().0,
    );
    let (a, b) = ([1u8; 16], [2u8; 16]);
    let t = 1_700_000_000_000u64;
    let mut leases: [Vec<bool>; 2] = Default::default();
    let mut rotations: [Vec<Option<Vec<u8>>>; 2] = Default::default();
    for ((co, locks), rots) in coordinators
        .into_iter()
        .zip(&mut leases)
        .zip(&mut rotations)
    {
        locks.push(co.try_lock(&k, &a, t, 1000).await.unwrap());
        locks.push(co.try_lock(&k, &b, t + 500, 1000).await.unwrap());
        locks.push(co.try_lock(&k, &a, t + 600, 1000).await.unwrap()); // renewed to t+1600
        locks.push(co.try_lock(&k, &b, t + 1200, 1000).await.unwrap());
        co.unlock(&k, &b).await.unwrap(); // not the owner: nothing happens
        locks.push(co.try_lock(&k, &b, t + 1300, 1000).await.unwrap());
        co.unlock(&k, &a).await.unwrap();
        locks.push(co.try_lock(&k, &b, t + 1300, 1000).await.unwrap());
        locks.push(co.try_lock(&k2, &a, t + 1300, 1000).await.unwrap());
        locks.push(co.try_lock(&k, &a, t + 2299, 1000).await.unwrap());
        locks.push(co.try_lock(&k, &a, t + 2300, 1000).await.unwrap()); // b's lease ended
        rots.push(co.rotation(&r, 100).await.unwrap());
        co.put_rotation(&r, b"sealed-1", 200).await.unwrap();
        for now in [150, 199, 200] {
            rots.push(co.rotation(&r, now).await.unwrap());
        }
        co.put_rotation(&r, b"sealed-2", 300).await.unwrap();
        rots.push(co.rotation(&r, 250).await.unwrap());
        rots.push(co.rotation(&k, 250).await.unwrap());
    }
    assert_eq!(leases[0], leases[1]);
    assert_eq!(
        leases[1],
        [true, false, true, false, false, true, true, false, true]
    );
    assert_eq!(rotations[0], rotations[1]);
    let s1 = Some(b"sealed-1".to_vec());
    assert_eq!(
        rotations[1],
        [None, s1.clone(), s1, None, Some(b"sealed-2".to_vec()), None]
    );
}

/// 16 tasks save the next version of one record at once: exactly one wins.
async fn concurrent_saves_one_winner<S: AllSeams>(c: &Case<S>) {
    let v1 = record(Some(5));
    c.store.save(&v1, None, 3600).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = c.store.clone();
            let mut mine = next(&v1);
            mine.seen_at += i;
            tokio::spawn(async move { store.save(&mine, Some(1), 3600).await.map(|()| mine) })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(mine) => winners.push(mine),
            Err(e) => assert_eq!(e, StoreError::Conflict),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one save wins");
    assert_eq!(c.store.load(&v1.id).await.unwrap(), winners.pop());
}

/// What the cases need beyond the seams: the store's own methods and raw table access.
trait SqlStore: AllSeams {
    async fn sweep_now(&self) -> Result<u64, StoreError>;
    async fn rows(&self, table: &str) -> i64;
    /// Inserts `n` revocations that ended long ago.
    async fn dead_revocations(&self, n: u32);
    async fn close(&self);
    fn sweep_every(self, every: Duration) -> Self;
}

macro_rules! sql_store {
    ($store:ty, $bulk:literal) => {
        impl SqlStore for $store {
            async fn sweep_now(&self) -> Result<u64, StoreError> {
                <$store>::sweep_now(self).await
            }
            async fn rows(&self, table: &str) -> i64 {
                // Test only: `table` is one of the literals below.
                sqlx::query_scalar(&format!("SELECT COUNT(*) FROM discord_oauth_{table}"))
                    .fetch_one(self.pool())
                    .await
                    .unwrap()
            }
            async fn dead_revocations(&self, n: u32) {
                sqlx::query($bulk)
                    .bind(i64::from(n))
                    .execute(self.pool())
                    .await
                    .unwrap();
            }
            async fn close(&self) {
                self.pool().close().await;
            }
            fn sweep_every(self, every: Duration) -> Self {
                self.with_sweep_interval(every)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sql_store!(
    discord_oauth::store::SqliteStore,
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO discord_oauth_revoked (id, until) SELECT randomblob(16), 1 FROM n"
);
#[cfg(feature = "postgres")]
sql_store!(
    discord_oauth::store::PostgresStore,
    "INSERT INTO discord_oauth_revoked (id, until) \
     SELECT decode(md5(random()::text || i::text), 'hex'), 1 FROM generate_series(1, $1) i"
);

const TABLES: [&str; 5] = [
    "sessions",
    "revoked",
    "used_states",
    "refresh_leases",
    "rotations",
];

/// The sweeper deletes the dead rows of every table, leaves the live ones, works a backlog off
/// in bounded batches, and runs in the background at its interval.
async fn sweeper<S: SqlStore>(c: &Case<S>) {
    let now = || (c.clock.unix_now(), c.clock.unix_millis());
    let (secs, millis) = now();
    let (live, dead) = (record(Some(1)), record(Some(1)));
    c.store.save(&live, None, 1000).await.unwrap();
    c.store.save(&dead, None, 10).await.unwrap();
    let (x, y) = (SessionId::random(), SessionId::random());
    c.store.revoke(&x, secs + 1000).await.unwrap();
    c.store.revoke(&y, secs + 10).await.unwrap();
    assert!(c.store.consume(&x.0, secs + 1000, secs).await.unwrap());
    assert!(c.store.consume(&y.0, secs + 10, secs).await.unwrap());
    assert!(
        c.store
            .try_lock(&x.0, &[1; 16], millis, 1_000_000)
            .await
            .unwrap()
    );
    assert!(
        c.store
            .try_lock(&y.0, &[1; 16], millis, 10_000)
            .await
            .unwrap()
    );
    c.store
        .put_rotation(&x.0, b"live", secs + 1000)
        .await
        .unwrap();
    c.store
        .put_rotation(&y.0, b"dead", secs + 10)
        .await
        .unwrap();
    for table in TABLES {
        assert_eq!(c.store.rows(table).await, 2, "{table}");
    }
    assert_eq!(
        c.store.sweep_now().await.unwrap(),
        0,
        "nothing has expired yet"
    );
    c.clock.advance(Duration::from_secs(20));
    assert_eq!(
        c.store.sweep_now().await.unwrap(),
        5,
        "one dead row per table"
    );
    for table in TABLES {
        assert_eq!(c.store.rows(table).await, 1, "{table}");
    }
    let (secs, millis) = now();
    assert_eq!(c.store.load(&live.id).await.unwrap(), Some(live.clone()));
    assert!(c.store.is_revoked(&x, secs).await.unwrap());
    assert!(!c.store.consume(&x.0, secs + 1000, secs).await.unwrap());
    assert!(
        !c.store
            .try_lock(&x.0, &[2; 16], millis, 1000)
            .await
            .unwrap()
    );
    assert_eq!(
        c.store.rotation(&x.0, secs).await.unwrap(),
        Some(b"live".to_vec())
    );

    // A backlog goes in batches: at most 4 × 1,000 rows per table and sweep.
    c.store.dead_revocations(4500).await;
    assert_eq!(c.store.sweep_now().await.unwrap(), 4000);
    assert_eq!(c.store.sweep_now().await.unwrap(), 500);
    assert_eq!(c.store.sweep_now().await.unwrap(), 0);
    assert_eq!(c.store.rows("revoked").await, 1);

    // In the background, at its interval.
    let store = c.store.clone().sweep_every(Duration::from_millis(50));
    store.save(&dead, None, 10).await.unwrap();
    c.clock.advance(Duration::from_secs(20));
    let started = Instant::now();
    while store.rows("sessions").await > 1 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the sweeper did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.load(&live.id).await.unwrap(),
        Some(live),
        "the live one stays"
    );
}

/// A database that goes away mid-run: every call is `StoreError::Backend`, at once.
async fn closed_pool_is_a_backend_error<S: SqlStore>(c: &Case<S>) {
    let v1 = record(Some(1));
    c.store.save(&v1, None, 100).await.unwrap();
    c.store.close().await;
    let id = v1.id;
    macro_rules! within {
        ($call:expr) => {
            tokio::time::timeout(Duration::from_secs(5), $call)
                .await
                .expect("no hang")
        };
    }
    let messages = [
        is_backend(within!(c.store.save(&next(&v1), Some(1), 100))),
        is_backend(within!(c.store.load(&id))),
        is_backend(within!(c.store.delete(&id))),
        is_backend(within!(c.store.user_sessions(1))),
        is_backend(within!(c.store.is_revoked(&id, 1))),
        is_backend(within!(c.store.consume(&id.0, 2, 1))),
        is_backend(within!(c.store.try_lock(&id.0, &id.0, 1, 1))),
        is_backend(within!(c.store.rotation(&id.0, 1))),
        is_backend(within!(c.store.sweep_now())),
    ];
    for message in messages {
        assert!(message.contains("pool is closed"), "{message}");
    }
}

macro_rules! cases {
    ($db:ident, $make:ident: $($case:ident),* $(,)?) => {
        mod $db {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(c) = super::$make().await else { return };
                    super::$case(&c).await;
                    c.cleanup.run().await;
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($db:ident, $make:ident) => {
        cases!($db, $make:
            cas_conflict,
            delete_then_stale_save_refused,
            ttl_expiry_on_the_store_clock,
            user_sessions_index,
            revocation_matches_memory,
            consumed_states_match_memory,
            leases_and_rotations_match_memory,
            concurrent_saves_one_winner,
            sweeper,
            closed_pool_is_a_backend_error,
        );
    };
}

#[cfg(feature = "sqlite")]
all_cases!(sqlite_store, sqlite);
#[cfg(feature = "postgres")]
all_cases!(postgres_store, postgres);

// ----- SQLite only ------------------------------------------------------------------------------

#[cfg(feature = "sqlite")]
mod sqlite_only {
    use super::*;
    use discord_oauth::store::SqliteStore;

    /// A session survives closing the store and opening the file again (a restart).
    #[tokio::test]
    async fn session_survives_reopening_the_file() {
        let file = TempFile::new();
        let v1 = record(Some(4));
        {
            let store = SqliteStore::open(&format!("sqlite://{}", file.0))
                .await
                .unwrap();
            store.save(&v1, None, 3600).await.unwrap();
            store.revoke(&v1.id, u64::MAX).await.unwrap();
            store.pool().close().await;
        }
        let store = SqliteStore::open(&format!("sqlite:{}", file.0))
            .await
            .unwrap();
        assert_eq!(store.load(&v1.id).await.unwrap(), Some(v1.clone()));
        assert!(store.is_revoked(&v1.id, 1).await.unwrap());
        assert_eq!(store.user_sessions(4).await.unwrap(), vec![v1.id]);
    }

    /// Two stores on one file (two processes on one host) see each other's writes, and the
    /// compare-and-swap holds across them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_on_one_file_share_everything() {
        let file = TempFile::new();
        let a = SqliteStore::open(&file.0).await.unwrap();
        let b = SqliteStore::open(&file.0).await.unwrap();
        let v1 = record(Some(4));
        a.save(&v1, None, 3600).await.unwrap();
        assert_eq!(b.load(&v1.id).await.unwrap(), Some(v1.clone()));
        b.save(&next(&v1), Some(1), 3600).await.unwrap();
        assert_eq!(
            a.save(&next(&v1), Some(1), 3600).await,
            Err(StoreError::Conflict)
        );
        assert!(a.consume(&v1.id.0, 200, 100).await.unwrap());
        assert!(!b.consume(&v1.id.0, 200, 100).await.unwrap());
        assert!(b.try_lock(&v1.id.0, &[1; 16], 10, 100).await.unwrap());
        assert!(!a.try_lock(&v1.id.0, &[2; 16], 20, 100).await.unwrap());
        b.delete(&v1.id).await.unwrap();
        assert_eq!(a.load(&v1.id).await.unwrap(), None);
    }

    /// Several processes creating the tables of a new file at once all succeed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_opens_of_a_new_file() {
        let file = TempFile::new();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let path = file.0.clone();
                tokio::spawn(async move { SqliteStore::open(&path).await })
            })
            .collect();
        let mut stores = Vec::new();
        for open in opens {
            stores.push(open.await.unwrap().unwrap());
        }
        let v1 = record(None);
        stores[0].save(&v1, None, 60).await.unwrap();
        assert_eq!(stores[3].load(&v1.id).await.unwrap(), Some(v1));
    }

    /// A file that cannot be created is a `StoreError::Backend` without the path in it.
    #[tokio::test]
    async fn unopenable_file_is_a_backend_error_without_the_path() {
        let path = format!("/nonexistent-dir-{}/sessions.db", unique());
        let message = is_backend(SqliteStore::open(&path).await);
        assert!(!message.contains("nonexistent"), "{message}");
        assert!(message.contains("SQLite open"), "{message}");
    }
}

// ----- PostgreSQL only --------------------------------------------------------------------------

#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;
    use discord_oauth::store::PostgresStore;

    /// A closed port: `StoreError::Backend` quickly, no panic, no URL or password in the
    /// message. Needs no database.
    #[tokio::test]
    async fn closed_port_is_a_quick_backend_error_without_the_url() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("postgres://app:hunter2secret@127.0.0.1:{port}/sessions");
        let started = Instant::now();
        let message = is_backend(PostgresStore::connect(&url).await);
        let took = started.elapsed();
        eprintln!("closed port: {message} after {took:?}");
        assert!(took < Duration::from_secs(2), "took {took:?}");
        for secret in [
            "hunter2secret",
            "app",
            "127.0.0.1",
            &port.to_string(),
            "sessions",
        ] {
            assert!(!message.contains(secret), "{secret:?} in {message}");
        }
        // A malformed URL is a Backend error too, without the URL.
        let message = is_backend(PostgresStore::connect("postgres://u:hunter2secret@[::1").await);
        assert!(!message.contains("hunter2secret"), "{message}");
    }

    /// Processes starting at once on one fresh database create the tables one after the other
    /// (an advisory lock): every start succeeds, and no `_sqlx_migrations` table is made (the
    /// application's own migrations may use that name).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_starts_migrate_once() {
        let Some((pool, cleanup)) = pg_schema().await else {
            return;
        };
        let starts: Vec<_> = (0..4)
            .map(|_| tokio::spawn(PostgresStore::from_pool(pool.clone())))
            .collect();
        for start in starts {
            start.await.unwrap().unwrap();
        }
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            tables,
            [
                "discord_oauth_refresh_leases",
                "discord_oauth_revoked",
                "discord_oauth_revoked_users",
                "discord_oauth_rotations",
                "discord_oauth_sessions",
                "discord_oauth_used_states"
            ]
        );
        pool.close().await;
        cleanup.run().await;
    }

    /// The database goes away mid-run (a TCP relay to it is shut): every call is
    /// `StoreError::Backend` within the pool's acquire timeout, no hang, no panic.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn database_going_away_is_a_backend_error() {
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        use std::str::FromStr;
        let Some((direct, cleanup)) = pg_schema().await else {
            return;
        };
        let Cleanup::Schema(_, schema) = &cleanup else {
            unreachable!()
        };
        let target = PgConnectOptions::from_str(&std::env::var("DATABASE_URL").unwrap()).unwrap();
        let upstream = format!("{}:{}", target.get_host(), target.get_port());
        // The relay: every accepted connection is copied both ways to the database.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let relays = Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new()));
        let accept = tokio::spawn({
            let relays = relays.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let upstream = upstream.clone();
                    relays.lock().unwrap().spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }
        });
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_millis(500))
            .connect_with(
                target
                    .host("127.0.0.1")
                    .port(port)
                    .options([("search_path", schema.as_str())]),
            )
            .await
            .unwrap();
        let store = PostgresStore::from_pool(pool).await.unwrap();
        let v1 = record(Some(1));
        store.save(&v1, None, 100).await.unwrap();
        // The database goes away: no listener, every relayed connection cut.
        accept.abort();
        let _ = accept.await;
        relays.lock().unwrap().abort_all();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        for _ in 0..3 {
            let message = is_backend(
                tokio::time::timeout(Duration::from_secs(5), store.load(&v1.id))
                    .await
                    .expect("no hang"),
            );
            assert!(!message.contains(&port.to_string()), "{message}");
            let message = is_backend(
                tokio::time::timeout(Duration::from_secs(5), store.save(&next(&v1), Some(1), 100))
                    .await
                    .expect("no hang"),
            );
            eprintln!("database gone: {message}");
        }
        eprintln!("6 failed calls in {:?}", started.elapsed());
        drop(store);
        direct.close().await;
        cleanup.run().await;
    }
}
