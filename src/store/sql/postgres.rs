//! [`PostgresStore`]: the four seams in PostgreSQL (feature `postgres`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{ConnectOptions, Connection, Database, Postgres};

use super::{Dialect, Shared, backend, sql_store};
use crate::store::{
    ConsumedStates, RefreshCoordination, RevocationList, SessionId, SessionRecord, StoreError,
    TokenStore,
};
use crate::vocab::BoxFuture;
use crate::vocab::clock::Clock;

/// The tables, created (or completed) when a store connects.
/// The tables, embedded: every statement idempotent, run at every start.
const SCHEMA: &str = include_str!("../../../migrations/postgres/20250101000000_session_stores.sql");

/// The advisory lock held while the tables are created ("discord-oauth schema"), so that
/// processes starting at once create them one after the other.
const SCHEMA_LOCK: i64 = 0x6469_7363_6f72_6431;

/// How long [`PostgresStore::connect`] waits for the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for a pooled connection: short, so that a database that went
/// away answers a request with an error (503) quickly instead of holding it.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections [`PostgresStore::connect`] keeps at most.
const MAX_CONNECTIONS: u32 = 10;

impl Dialect for Postgres {
    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Sessions, revocations, used login states and refresh leases in PostgreSQL, shared by every
/// process behind a load balancer.
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use discord_oauth::DiscordOAuth;
/// use discord_oauth::store::PostgresStore;
///
/// let url = std::env::var("DATABASE_URL")?;
/// let store = Arc::new(PostgresStore::connect(&url).await?);
/// let client = DiscordOAuth::builder(config)
///     .token_store(store.clone())
///     .revocation_list(store.clone())
///     .consumed_states(store.clone())
///     .refresh_coordination(store) // one refresh across processes
///     .build()?;
/// # Ok(()) }
/// ```
///
/// The tables live in the connection's `search_path` (normally `public`), named
/// `discord_oauth_*`; to keep them in a schema of their own, use a URL option
/// (`?options=-c%20search_path%3Ddiscord_oauth`) or a pool whose connections set it. They are
/// created in a transaction holding an advisory lock, so processes starting at once create them
/// one after the other.
///
/// Cloning is cheap: every clone shares the pool.
///
#[doc = include_str!("layout.md")]
#[derive(Clone)]
pub struct PostgresStore {
    shared: Arc<Shared<Postgres>>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host/database?...`), creates the tables
    /// and starts the sweeper when called inside a Tokio runtime. The pool keeps at most 10
    /// connections and waits at most 2 seconds for one (then the request gets a 503); use [`from_pool`](Self::from_pool) to
    /// choose otherwise.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid, the database cannot be reached within
    /// 5 seconds or refuses the login, or the tables cannot be created. The message names the
    /// kind of failure only, never the URL or the password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| backend(Postgres::NAME, "connect", &e))?;
        // One direct connection first: a refused connection or a bad password is reported at
        // once, where the pool would retry it until its timeout.
        let first = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
            .map_err(|e| backend(Postgres::NAME, "connect", &e))?;
        let _ = first.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Self::from_pool(pool).await
    }

    /// A store on `pool`, creating the tables. Starts the sweeper when called inside a Tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database cannot be reached or the tables cannot be
    /// created.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        create_tables(&pool)
            .await
            .map_err(|e| backend(Postgres::NAME, "create tables", &e))?;
        Ok(Self::with_shared(Shared::new(pool)))
    }
}

/// Creates the tables (if missing) holding [`SCHEMA_LOCK`]. One simple-protocol query: its
/// statements run as one transaction, which the lock lasts for (and which rolls back whole on an
/// error). Not sqlx's migrator: its `_sqlx_migrations` table would collide with the
/// application's own migrations.
async fn create_tables(pool: &PgPool) -> Result<(), sqlx::Error> {
    let script = format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK});\n{SCHEMA}");
    sqlx::raw_sql(&script).execute(pool).await.map(drop)
}

sql_store!(PostgresStore, Postgres, PgPool);
