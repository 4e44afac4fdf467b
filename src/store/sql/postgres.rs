//! [`PostgresStore`]: the four seams in PostgreSQL (feature `postgres`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
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
static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

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
///     .consumed_states(store)
///     .build()?;
/// # Ok(()) }
/// ```
///
/// The tables live in the connection's `search_path` (normally `public`): to keep them apart
/// from the application's, give the store a schema of its own with a URL option
/// (`?options=-c%20search_path%3Ddiscord_oauth`) or a pool whose connections set it. The
/// migrations run under sqlx's advisory lock, so processes starting at once create the tables
/// once.
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
    /// connections and waits at most 5 seconds for one; use [`from_pool`](Self::from_pool) to
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
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| backend(Postgres::NAME, "migrate", &e.into()))?;
        Ok(Self::with_shared(Shared::new(pool)))
    }
}

sql_store!(PostgresStore, Postgres, PgPool);
