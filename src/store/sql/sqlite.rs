//! [`SqliteStore`]: the four seams in one SQLite file (feature `sqlite`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Database, Sqlite};

use super::{Dialect, Shared, backend, sql_store};
use crate::store::{
    ConsumedStates, RefreshCoordination, RevocationList, SessionId, SessionRecord, StoreError,
    TokenStore,
};
use crate::vocab::BoxFuture;
use crate::vocab::clock::Clock;

/// The tables, created (or completed) when a store opens.
/// The tables, embedded: every statement idempotent, run at every start.
const SCHEMA: &str = include_str!("../../../migrations/sqlite/20250101000000_session_stores.sql");

/// How long a statement waits for another connection's (or process's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections [`SqliteStore::open`] keeps (SQLite runs one writer at a time anyway).
const MAX_CONNECTIONS: u32 = 8;

impl Dialect for Sqlite {
    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Sessions, revocations, used login states and refresh leases in one SQLite file: for one
/// server, or several processes on one host sharing the file (WAL mode, a busy timeout).
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use discord_oauth::DiscordOAuth;
/// use discord_oauth::store::SqliteStore;
///
/// let store = Arc::new(SqliteStore::open("sqlite:/var/lib/myapp/sessions.db").await?);
/// let client = DiscordOAuth::builder(config)
///     .token_store(store.clone())
///     .revocation_list(store.clone())
///     .consumed_states(store.clone())
///     .refresh_coordination(store) // one refresh across processes
///     .build()?;
/// # Ok(()) }
/// ```
///
/// A session survives a restart of the process. Cloning is cheap: every clone shares the pool.
///
#[doc = include_str!("layout.md")]
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared<Sqlite>>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path_or_url` — `sqlite:PATH`,
    /// `sqlite://PATH` or a plain path — in WAL mode with a 5-second busy timeout, and creates
    /// the tables. Starts the sweeper when called inside a Tokio runtime.
    ///
    /// `sqlite::memory:` works for one connection's lifetime only: use a file.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the file cannot be opened or created, or the tables cannot
    /// be created (the message never contains the path).
    pub async fn open(path_or_url: &str) -> Result<Self, StoreError> {
        let options = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url)
                .map_err(|e| backend(Sqlite::NAME, "open", &e))?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a commit survives a crash of the process; a power loss may lose the
            // last commits (sessions to log in again), never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = connect(options).await?;
        Self::from_pool(pool).await
    }

    /// A store on `pool`, creating the tables. The pool's connections should have a busy
    /// timeout (and WAL mode when several processes share the file), as [`open`](Self::open)
    /// sets. Starts the sweeper when called inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the tables cannot be created.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        migrate(&pool).await?;
        Ok(Self::with_shared(Shared::new(pool)))
    }
}

/// Opens the pool. Switching a new file to WAL takes an exclusive lock that the busy timeout
/// does not always wait for: when processes open a new file at once, the losers get
/// `SQLITE_BUSY` and try again.
async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    let mut attempt = 0;
    loop {
        let result = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await;
        match result {
            Ok(pool) => return Ok(pool),
            Err(sqlx::Error::Database(e)) if attempt < 10 && is_busy(e.code().as_deref()) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => return Err(backend(Sqlite::NAME, "open", &e)),
        }
    }
}

/// `SQLITE_BUSY` or `SQLITE_LOCKED` (and their extended codes).
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Creates the tables (if missing; not sqlx's migrator, whose `_sqlx_migrations` table would
/// collide with the application's own). When two processes create them at once, the loser may
/// find the file busy; its retry finds the tables there.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut attempt = 0;
    loop {
        match sqlx::raw_sql(SCHEMA).execute(pool).await {
            Ok(_) => return Ok(()),
            Err(_) if attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(backend(Sqlite::NAME, "create tables", &e)),
        }
    }
}

sql_store!(SqliteStore, Sqlite, SqlitePool);
