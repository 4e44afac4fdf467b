//! SQL implementations of the storage seams on [sqlx] 0.8: [`SqliteStore`] (feature `sqlite`)
//! and [`PostgresStore`] (feature `postgres`), each one handle implementing all four seams
//! ([`TokenStore`], [`RevocationList`], [`ConsumedStates`], [`RefreshCoordination`]) on one
//! connection pool.
//!
//! Owns: the table layout (the embedded migrations in `migrations/sqlite` and
//! `migrations/postgres`), the statements shared by both databases, the mapping of sqlx errors
//! to [`StoreError`] and the bounded background sweeper of expired rows. Imports the store
//! seams and the vocabulary (`crate::vocab`) only; must not import sessions, the HTTP pipeline
//! or a web framework.
//!
//! The table layout and what the rows contain are documented on both stores (`layout.md`).

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use tokio::sync::Notify;

use super::{SessionId, SessionRecord, StoreError, decode_record, encode_record};
use crate::vocab::clock::{self, Clock};

/// How often the background sweeper runs unless `with_sweep_interval` says otherwise.
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Most rows one sweeper statement deletes.
const SWEEP_BATCH: u64 = 1000;

/// Most sweeper statements per table and tick: a backlog is worked off over several ticks
/// instead of holding the database for long.
const SWEEP_BATCHES: u64 = 4;

/// What differs between the databases, beyond the migrations (the name in error messages is
/// [`Database::NAME`]).
pub(super) trait Dialect: Database {
    /// Rows changed by a statement.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

// ----- Statements (numbered parameters: both SQLite and PostgreSQL accept `$n`) ----------------

const SAVE_EXPECTED: &str = "UPDATE discord_oauth_sessions SET version = $1, user_id = $2, expires_at = $3, \
     record = $4 WHERE id = $5 AND version = $6 AND expires_at > $7";
const SAVE_NEW: &str = "INSERT INTO discord_oauth_sessions (id, version, user_id, expires_at, record) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET version = excluded.version, \
     user_id = excluded.user_id, expires_at = excluded.expires_at, record = excluded.record \
     WHERE discord_oauth_sessions.expires_at <= $6";
const LOAD: &str = "SELECT record FROM discord_oauth_sessions WHERE id = $1 AND expires_at > $2";
const DELETE: &str = "DELETE FROM discord_oauth_sessions WHERE id = $1";
const USER_SESSIONS: &str =
    "SELECT id FROM discord_oauth_sessions WHERE user_id = $1 AND expires_at > $2";
const REVOKE: &str = "INSERT INTO discord_oauth_revoked (id, until) VALUES ($1, $2) \
     ON CONFLICT (id) DO UPDATE SET until = excluded.until";
const IS_REVOKED: &str = "SELECT id FROM discord_oauth_revoked WHERE id = $1 AND until > $2";
/// A user's revocation keeps the later `at` and the later `until` (CASE: SQLite's `MAX` and
/// PostgreSQL's `GREATEST` differ).
const REVOKE_USER: &str = "INSERT INTO discord_oauth_revoked_users (user_id, at, until) VALUES ($1, $2, $3)      ON CONFLICT (user_id) DO UPDATE SET      at = CASE WHEN excluded.at > discord_oauth_revoked_users.at THEN excluded.at ELSE discord_oauth_revoked_users.at END,      until = CASE WHEN excluded.until > discord_oauth_revoked_users.until THEN excluded.until ELSE discord_oauth_revoked_users.until END";
const IS_USER_REVOKED: &str =
    "SELECT 1 FROM discord_oauth_revoked_users WHERE user_id = $1 AND at >= $2 AND until > $3";
const CONSUME: &str = "INSERT INTO discord_oauth_used_states (hash, until) VALUES ($1, $2) \
     ON CONFLICT (hash) DO UPDATE SET until = excluded.until WHERE discord_oauth_used_states.until <= $3";
const TRY_LOCK: &str = "INSERT INTO discord_oauth_refresh_leases (key, owner, until_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms \
     WHERE discord_oauth_refresh_leases.until_ms <= $4 OR discord_oauth_refresh_leases.owner = excluded.owner";
const UNLOCK: &str = "DELETE FROM discord_oauth_refresh_leases WHERE key = $1 AND owner = $2";
const PUT_ROTATION: &str = "INSERT INTO discord_oauth_rotations (key, sealed, until) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, until = excluded.until";
const ROTATION: &str = "SELECT sealed FROM discord_oauth_rotations WHERE key = $1 AND until > $2";

/// One sweeper statement per table: deletes at most [`SWEEP_BATCH`] dead rows (`$1` = now in
/// the table's unit), by primary key so that both databases accept the `LIMIT`.
const SWEEPS: [(&str, Unit); 6] = [
    (
        "DELETE FROM discord_oauth_sessions WHERE id IN \
         (SELECT id FROM discord_oauth_sessions WHERE expires_at <= $1 LIMIT 1000)",
        Unit::Secs,
    ),
    (
        "DELETE FROM discord_oauth_revoked WHERE id IN (SELECT id FROM discord_oauth_revoked WHERE until <= $1 LIMIT 1000)",
        Unit::Secs,
    ),
    (
        "DELETE FROM discord_oauth_revoked_users WHERE user_id IN \
         (SELECT user_id FROM discord_oauth_revoked_users WHERE until <= $1 LIMIT 1000)",
        Unit::Secs,
    ),
    (
        "DELETE FROM discord_oauth_used_states WHERE hash IN \
         (SELECT hash FROM discord_oauth_used_states WHERE until <= $1 LIMIT 1000)",
        Unit::Secs,
    ),
    (
        "DELETE FROM discord_oauth_refresh_leases WHERE key IN \
         (SELECT key FROM discord_oauth_refresh_leases WHERE until_ms <= $1 LIMIT 1000)",
        Unit::Millis,
    ),
    (
        "DELETE FROM discord_oauth_rotations WHERE key IN \
         (SELECT key FROM discord_oauth_rotations WHERE until <= $1 LIMIT 1000)",
        Unit::Secs,
    ),
];

/// The time unit of a table's expiry column.
#[derive(Clone, Copy)]
enum Unit {
    Secs,
    Millis,
}

/// A time or count as `BIGINT`, saturating (times past year 292 billion stay in the future).
fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A 16-byte id as read back: anything else is corruption.
fn id16(bytes: &[u8]) -> Result<[u8; 16], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Decode)
}

// ----- Errors -----------------------------------------------------------------------------------

/// A database failure, described without any id, value, URL or password.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SqlFailure(String);

/// Maps a sqlx error to a [`StoreError::Backend`] naming the database, the operation and the
/// kind of failure only (a database error's message can quote values: only its code is kept).
/// How long one statement may take, connection wait included: a database that went away
/// without closing its connections (a failover, a partition) answers the request with an error
/// (503) instead of holding it until TCP gives up.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `query` within [`QUERY_TIMEOUT`], its error mapped.
async fn bounded<T>(
    db: &str,
    op: &str,
    query: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(result) => result.map_err(|e| backend(db, op, &e)),
        Err(_) => Err(StoreError::backend(SqlFailure(format!(
            "{db} {op}: no answer within {} s",
            QUERY_TIMEOUT.as_secs()
        )))),
    }
}

pub(super) fn backend(db: &str, op: &str, e: &sqlx::Error) -> StoreError {
    StoreError::backend(SqlFailure(format!("{db} {op}: {}", describe(e))))
}

fn describe(e: &sqlx::Error) -> String {
    use sqlx::Error as E;
    match e {
        E::Configuration(_) => "invalid connection settings".to_owned(),
        E::Database(d) => match d.code() {
            Some(code) => format!("database error (code {code})"),
            None => "database error".to_owned(),
        },
        E::Io(io) => format!("I/O error ({:?})", io.kind()),
        E::Tls(_) => "TLS error".to_owned(),
        E::Protocol(_) => "protocol error".to_owned(),
        E::PoolTimedOut => "timed out waiting for a connection (is the database up?)".to_owned(),
        E::PoolClosed => "the connection pool is closed".to_owned(),
        E::WorkerCrashed => "the database worker thread stopped".to_owned(),
        E::ColumnDecode { .. } | E::Decode(_) | E::ColumnNotFound(_) | E::TypeNotFound { .. } => {
            "unexpected column type".to_owned()
        }
        _ => "backend error".to_owned(),
    }
}

// ----- The shared store -------------------------------------------------------------------------

/// What every clone of a store shares: the pool, the clock and the sweeper's settings. The
/// sweeper task holds only a [`Weak`] to it, so dropping the last clone ends the task.
pub(super) struct Shared<DB: Database> {
    pool: Pool<DB>,
    clock: RwLock<Arc<dyn Clock>>,
    sweep_every: Mutex<Duration>,
    /// Wakes the sweeper: the interval changed, or the store is gone.
    wake: Arc<Notify>,
    /// The user revocations made through this store, answered without a query.
    local_users: super::UserRevocations,
}

impl<DB: Database> Drop for Shared<DB> {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl<DB: Database> Shared<DB> {
    pub(super) fn new(pool: Pool<DB>) -> Arc<Self> {
        Arc::new(Self {
            pool,
            clock: RwLock::new(clock::system()),
            sweep_every: Mutex::new(DEFAULT_SWEEP_INTERVAL),
            wake: Arc::new(Notify::new()),
            local_users: super::UserRevocations::default(),
        })
    }

    pub(super) fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.clock
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_clock(&self, clock: Arc<dyn Clock>) {
        *self.clock.write().unwrap_or_else(PoisonError::into_inner) = clock;
    }

    fn sweep_every(&self) -> Duration {
        *self
            .sweep_every
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn set_sweep_every(&self, every: Duration) {
        *self
            .sweep_every
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = every;
        self.wake.notify_one();
    }

    fn now(&self) -> i64 {
        big(self.clock().unix_now())
    }

    /// Whether this store revoked `user_id`'s sessions created at `created_at` itself.
    pub(super) fn locally_user_revoked(&self, user_id: u64, created_at: u64, now: u64) -> bool {
        self.local_users.is_revoked(user_id, created_at, now)
    }
}

impl<DB> Shared<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Runs a statement; the number of rows it changed.
    async fn execute<'q>(
        &self,
        op: &str,
        query: Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<u64, StoreError> {
        bounded(DB::NAME, op, query.execute(&self.pool))
            .await
            .map(|done| DB::rows_affected(&done))
    }

    /// Whether a query returns a row.
    async fn exists<'q>(
        &self,
        op: &str,
        query: Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<bool, StoreError> {
        bounded(DB::NAME, op, query.fetch_optional(&self.pool))
            .await
            .map(|row| row.is_some())
    }

    /// The first column of every row a query returns, as bytes.
    async fn bytes<'q>(
        &self,
        op: &str,
        query: Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = bounded(DB::NAME, op, query.fetch_all(&self.pool)).await?;
        rows.iter()
            .map(|row| row.try_get::<Vec<u8>, _>(0usize))
            .collect::<Result<_, _>>()
            .map_err(|e| backend(DB::NAME, op, &e))
    }

    pub(super) async fn save(
        &self,
        record: &SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        let now = self.clock().unix_now();
        let expires_at = big(now.saturating_add(ttl_secs));
        // Versions and user ids are compared for equality only: stored bit for bit.
        let version = record.version.cast_signed();
        let user_id = record.user_id.map(u64::cast_signed);
        let bytes = encode_record(record);
        let id = record.id.0.to_vec();
        let query = match expected_version {
            Some(expected) => sqlx::query(SAVE_EXPECTED)
                .bind(version)
                .bind(user_id)
                .bind(expires_at)
                .bind(bytes)
                .bind(id)
                .bind(expected.cast_signed())
                .bind(big(now)),
            None => sqlx::query(SAVE_NEW)
                .bind(id)
                .bind(version)
                .bind(user_id)
                .bind(expires_at)
                .bind(bytes)
                .bind(big(now)),
        };
        match self.execute("save", query).await? {
            0 => Err(StoreError::Conflict),
            _ => Ok(()),
        }
    }

    pub(super) async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let query = sqlx::query(LOAD).bind(id.0.to_vec()).bind(self.now());
        let Some(bytes) = self.bytes("load", query).await?.into_iter().next() else {
            return Ok(None);
        };
        let record = decode_record(&bytes)?;
        // The row's key names the record: anything else is corruption, not a session.
        if record.id != *id {
            return Err(StoreError::Decode);
        }
        Ok(Some(record))
    }

    pub(super) async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let query = sqlx::query(DELETE).bind(id.0.to_vec());
        self.execute("delete", query).await.map(drop)
    }

    pub(super) async fn user_sessions(&self, user_id: u64) -> Result<Vec<SessionId>, StoreError> {
        let query = sqlx::query(USER_SESSIONS)
            .bind(user_id.cast_signed())
            .bind(self.now());
        let ids = self.bytes("user_sessions", query).await?;
        ids.iter().map(|id| id16(id).map(SessionId)).collect()
    }

    pub(super) async fn revoke(&self, id: &SessionId, until: u64) -> Result<(), StoreError> {
        let query = sqlx::query(REVOKE).bind(id.0.to_vec()).bind(big(until));
        self.execute("revoke", query).await.map(drop)
    }

    pub(super) async fn is_revoked(&self, id: &SessionId, now: u64) -> Result<bool, StoreError> {
        let query = sqlx::query(IS_REVOKED).bind(id.0.to_vec()).bind(big(now));
        Ok(!self.bytes("is_revoked", query).await?.is_empty())
    }

    pub(super) async fn revoke_user(
        &self,
        user_id: u64,
        at: u64,
        until: u64,
    ) -> Result<(), StoreError> {
        self.local_users
            .revoke(user_id, at, until, self.clock().unix_now());
        let query = sqlx::query(REVOKE_USER)
            .bind(user_id.cast_signed())
            .bind(big(at))
            .bind(big(until));
        self.execute("revoke_user", query).await.map(drop)
    }

    pub(super) async fn is_user_revoked(
        &self,
        user_id: u64,
        created_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        if self.locally_user_revoked(user_id, created_at, now) {
            return Ok(true);
        }
        let query = sqlx::query(IS_USER_REVOKED)
            .bind(user_id.cast_signed())
            .bind(big(created_at))
            .bind(big(now));
        self.exists("is_user_revoked", query).await
    }

    pub(super) async fn consume(
        &self,
        state_hash: &[u8; 16],
        until: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(CONSUME)
            .bind(state_hash.to_vec())
            .bind(big(until))
            .bind(big(now));
        Ok(self.execute("consume", query).await? == 1)
    }

    pub(super) async fn try_lock(
        &self,
        key: &[u8; 16],
        owner: &[u8; 16],
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(TRY_LOCK)
            .bind(key.to_vec())
            .bind(owner.to_vec())
            .bind(big(now_ms.saturating_add(lease_ms)))
            .bind(big(now_ms));
        Ok(self.execute("try_lock", query).await? == 1)
    }

    pub(super) async fn unlock(&self, key: &[u8; 16], owner: &[u8; 16]) -> Result<(), StoreError> {
        let query = sqlx::query(UNLOCK).bind(key.to_vec()).bind(owner.to_vec());
        self.execute("unlock", query).await.map(drop)
    }

    pub(super) async fn put_rotation(
        &self,
        key: &[u8; 16],
        sealed: &[u8],
        until: u64,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(PUT_ROTATION)
            .bind(key.to_vec())
            .bind(sealed.to_vec())
            .bind(big(until));
        self.execute("put_rotation", query).await.map(drop)
    }

    pub(super) async fn rotation(
        &self,
        key: &[u8; 16],
        now: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let query = sqlx::query(ROTATION).bind(key.to_vec()).bind(big(now));
        Ok(self.bytes("rotation", query).await?.into_iter().next())
    }

    /// One sweep: at most [`SWEEP_BATCHES`] statements of at most [`SWEEP_BATCH`] rows per
    /// table, on the store's clock; the number of rows deleted.
    pub(super) async fn sweep(&self) -> Result<u64, StoreError> {
        let clock = self.clock();
        let (secs, millis) = (big(clock.unix_now()), big(clock.unix_millis()));
        let mut deleted = 0;
        for (sql, unit) in SWEEPS {
            let now = match unit {
                Unit::Secs => secs,
                Unit::Millis => millis,
            };
            for _ in 0..SWEEP_BATCHES {
                let gone = self.execute("sweep", sqlx::query(sql).bind(now)).await?;
                deleted += gone;
                if gone < SWEEP_BATCH {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

/// The sweeper loop: sweeps every interval until the store is dropped. Failures are logged
/// (operation and kind only) and the sweep is tried again at the next tick.
pub(super) async fn sweep_loop<DB>(shared: Weak<Shared<DB>>, wake: Arc<Notify>)
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB>,
    usize: ColumnIndex<DB::Row>,
{
    loop {
        let Some(every) = shared.upgrade().map(|s| s.sweep_every()) else {
            return;
        };
        if every.is_zero() {
            // Sweeping is off until the interval changes (or the store is dropped).
            wake.notified().await;
            continue;
        }
        if tokio::time::timeout(every, wake.notified()).await.is_ok() {
            // Woken early: the interval changed or the store is gone.
            continue;
        }
        let Some(store) = shared.upgrade() else {
            return;
        };
        match store.sweep().await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, db = DB::NAME, "swept expired session-store rows"),
            Err(e) => {
                let cause = match &e {
                    StoreError::Backend(cause) => cause.to_string(),
                    other => other.to_string(),
                };
                tracing::warn!(db = DB::NAME, %cause, "session-store sweep failed; retrying next tick");
            }
        }
    }
}

/// Starts the sweeper of `shared` on the current Tokio runtime, if there is one.
pub(super) fn spawn_sweeper<DB, F>(
    shared: &Arc<Shared<DB>>,
    sweep: impl FnOnce(Weak<Shared<DB>>, Arc<Notify>) -> F,
) where
    DB: Database,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(sweep(Arc::downgrade(shared), shared.wake.clone()));
    }
}

/// The parts of [`SqliteStore`] and [`PostgresStore`] that do not depend on the database: the
/// settings, the sweeper handle, and the four seams forwarded to [`Shared`].
macro_rules! sql_store {
    ($store:ident, $db:ty, $pool:ty) => {
        impl ::std::fmt::Debug for $store {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                // Never the URL or path: a URL may hold a password.
                f.debug_struct(stringify!($store)).finish_non_exhaustive()
            }
        }

        impl $store {
            fn with_shared(shared: Arc<Shared<$db>>) -> Self {
                $crate::store::sql::spawn_sweeper(&shared, $crate::store::sql::sweep_loop::<$db>);
                Self { shared }
            }

            /// Judges expiry on `clock` (for tests with a
            /// [`ManualClock`](crate::clock::ManualClock)): the TTL of saved records, the live
            /// records loaded, and the rows the sweeper deletes. Applies to every clone.
            #[must_use]
            pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
                self.shared.set_clock(clock);
                self
            }

            /// Runs the background sweeper every `every` instead of every minute;
            /// `Duration::ZERO` turns it off (rows
            /// past their expiry are still never answered). Applies to every clone.
            #[must_use]
            pub fn with_sweep_interval(self, every: Duration) -> Self {
                self.shared.set_sweep_every(every);
                self
            }

            /// The connection pool (shared with every clone of the store).
            #[must_use]
            pub fn pool(&self) -> &$pool {
                self.shared.pool()
            }

            /// Runs one sweep now, as the background sweeper does every interval: deletes at
            /// most 4 batches of 1,000 expired rows per table; the number of rows deleted.
            ///
            /// # Errors
            ///
            /// [`StoreError::Backend`] when the database fails.
            pub async fn sweep_now(&self) -> Result<u64, StoreError> {
                self.shared.sweep().await
            }
        }

        impl TokenStore for $store {
            fn save<'a>(
                &'a self,
                record: &'a SessionRecord,
                expected_version: Option<u64>,
                ttl_secs: u64,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.save(record, expected_version, ttl_secs))
            }

            fn load<'a>(
                &'a self,
                id: &'a SessionId,
            ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
                Box::pin(self.shared.load(id))
            }

            fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.delete(id))
            }

            /// The live sessions of `user_id`, through the `discord_oauth_sessions.user_id` index.
            fn user_sessions<'a>(
                &'a self,
                user_id: u64,
            ) -> BoxFuture<'a, Result<Vec<SessionId>, StoreError>> {
                Box::pin(self.shared.user_sessions(user_id))
            }
        }

        impl RevocationList for $store {
            fn revoke<'a>(
                &'a self,
                id: &'a SessionId,
                until: u64,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.revoke(id, until))
            }

            fn is_revoked<'a>(
                &'a self,
                id: &'a SessionId,
                now: u64,
            ) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.shared.is_revoked(id, now))
            }

            /// One upsert into `discord_oauth_revoked_users` (keeping the later time).
            fn revoke_user<'a>(
                &'a self,
                user_id: u64,
                at: u64,
                until: u64,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.revoke_user(user_id, at, until))
            }

            /// This process's own revocations first, then one primary-key lookup.
            fn is_user_revoked<'a>(
                &'a self,
                user_id: u64,
                created_at: u64,
                now: u64,
            ) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.shared.is_user_revoked(user_id, created_at, now))
            }

            /// `Some(true)` for this process's own revocations; otherwise the database is asked.
            fn is_user_revoked_now(&self, user_id: u64, created_at: u64, now: u64) -> Option<bool> {
                self.shared
                    .locally_user_revoked(user_id, created_at, now)
                    .then_some(true)
            }
        }

        impl ConsumedStates for $store {
            fn consume<'a>(
                &'a self,
                state_hash: &'a [u8; 16],
                until: u64,
                now: u64,
            ) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.shared.consume(state_hash, until, now))
            }
        }

        impl RefreshCoordination for $store {
            fn try_lock<'a>(
                &'a self,
                key: &'a [u8; 16],
                owner: &'a [u8; 16],
                now_ms: u64,
                lease_ms: u64,
            ) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.shared.try_lock(key, owner, now_ms, lease_ms))
            }

            fn unlock<'a>(
                &'a self,
                key: &'a [u8; 16],
                owner: &'a [u8; 16],
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.unlock(key, owner))
            }

            fn put_rotation<'a>(
                &'a self,
                key: &'a [u8; 16],
                sealed: &'a [u8],
                until: u64,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(self.shared.put_rotation(key, sealed, until))
            }

            fn rotation<'a>(
                &'a self,
                key: &'a [u8; 16],
                now: u64,
            ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
                Box::pin(self.shared.rotation(key, now))
            }
        }
    };
}
use sql_store;
