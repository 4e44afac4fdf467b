//! Where an application keeps its server-side state, chosen by two URLs: the session store
//! (`SESSION_STORE`: `cookie`, `memory`, `sqlite:PATH`, `postgres://…`, `redis://…`) and an
//! optional Redis shared by every process (`REDIS_URL`). [`Backends::connect`] turns them into
//! the stores, the refresh coordination and the rate-limit state that
//! [`DiscordOAuthBuilder::backends`](crate::DiscordOAuthBuilder::backends) installs.
//!
//! | what | `REDIS_URL` set | server-side `SESSION_STORE`, no `REDIS_URL` | `cookie` or `memory`, no `REDIS_URL` |
//! |---|---|---|---|
//! | session records | the `SESSION_STORE` | the `SESSION_STORE` | the cookie / this process |
//! | logouts, used login states | Redis | the `SESSION_STORE` | this process |
//! | one refresh across processes | Redis (`SET NX PX`) | the `SESSION_STORE` (a lease) | this process |
//! | Discord's rate limits | Redis (Lua) | this process (Redis with `SESSION_STORE=redis://…`) | this process |
//! | ended sessions announced | Redis pub/sub | no: noticed within the recheck interval | no |
//!
//! Owns: parsing those URLs, connecting, and saying (without secrets) what was chosen. Imports
//! the stores, the rate limiter, the configuration error and the error type; must not import
//! sessions, the pipeline or a web framework.

use std::fmt;
use std::sync::Arc;

use crate::config::ConfigError;
use crate::error::Error;
use crate::ratelimit::RateLimitStore;
#[cfg(feature = "redis")]
use crate::ratelimit::RedisRateLimitStore;
use crate::store::{
    ConsumedStates, MemoryConsumedStates, MemoryRevocationList, MemoryTokenStore,
    RefreshCoordination, RevocationList, SessionEvents, StoreError, TokenStore,
};

/// What `SESSION_STORE` names. `Debug` shows no database or Redis URL (they may carry a
/// password).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStoreKind {
    /// The whole record sealed in the cookie; no server state.
    Cookie,
    /// This process's memory (lost on restart, not shared).
    Memory,
    /// A SQLite file at this path (created with its tables at start).
    Sqlite(String),
    /// A PostgreSQL database at this URL.
    Postgres(String),
    /// A Redis at this URL.
    Redis(String),
}

impl SessionStoreKind {
    /// Parses a `SESSION_STORE` value.
    ///
    /// ```
    /// use discord_oauth::backends::SessionStoreKind;
    /// assert_eq!(SessionStoreKind::parse("sqlite:/tmp/s.db")?, SessionStoreKind::Sqlite("/tmp/s.db".into()));
    /// assert!(SessionStoreKind::parse("mysql://db").is_err());
    /// # Ok::<(), discord_oauth::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming `SESSION_STORE` for anything else.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let kind = match value {
            "" | "cookie" => Self::Cookie,
            "memory" => Self::Memory,
            v if v.starts_with("postgres://") || v.starts_with("postgresql://") => {
                Self::Postgres(v.to_owned())
            }
            v if v.starts_with("redis://") || v.starts_with("rediss://") => {
                Self::Redis(v.to_owned())
            }
            v => match v.strip_prefix("sqlite:") {
                Some(path) => {
                    let path = path.strip_prefix("//").unwrap_or(path);
                    if path.is_empty() {
                        return Err(invalid(
                            "`sqlite:` needs a file path, e.g. sqlite:sessions.db",
                        ));
                    }
                    Self::Sqlite(path.to_owned())
                }
                None => {
                    return Err(invalid(
                        "must be `cookie`, `memory`, `sqlite:PATH`, `postgres://…` or `redis://…`",
                    ));
                }
            },
        };
        Ok(kind)
    }

    /// The kind's name, without its URL (safe to log).
    ///
    /// ```
    /// use discord_oauth::backends::SessionStoreKind;
    /// let kind = SessionStoreKind::parse("postgres://app:hunter2@db/app")?;
    /// assert_eq!(kind.name(), "postgres");
    /// assert!(!format!("{kind:?}").contains("hunter2"));
    /// # Ok::<(), discord_oauth::Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Memory => "memory",
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::Redis(_) => "redis",
        }
    }
}

impl fmt::Debug for SessionStoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) | Self::Redis(_) => write!(f, "{}(<url>)", self.name()),
            Self::Cookie | Self::Memory => f.write_str(self.name()),
        }
    }
}

fn invalid(reason: &str) -> Error {
    Error::Config(ConfigError::new("SESSION_STORE", reason))
}

/// The server-side state of an application: install with
/// [`DiscordOAuthBuilder::backends`](crate::DiscordOAuthBuilder::backends).
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), discord_oauth::Error> {
/// use discord_oauth::backends::Backends;
/// let backends = Backends::connect("sqlite:sessions.db", None).await?;
/// tracing::info!("{backends}"); // e.g. "sessions in sqlite; logouts, login states and refresh coordination in sqlite; rate limits in this process"
/// let discord = discord_oauth::DiscordOAuth::builder(config).backends(backends).build()?;
/// # let _ = discord; Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Backends {
    /// Where session records live (`None`: in the cookie).
    pub tokens: Option<Arc<dyn TokenStore>>,
    /// Logged-out sessions.
    pub revocations: Arc<dyn RevocationList>,
    /// Used login states.
    pub consumed: Arc<dyn ConsumedStates>,
    /// One refresh across processes (`None`: within this process).
    pub coordination: Option<Arc<dyn RefreshCoordination>>,
    /// Discord's rate-limit state (`None`: in this process).
    pub rate_limits: Option<Arc<dyn RateLimitStore>>,
    /// Ended sessions announced across processes (`None`: noticed within the recheck interval).
    pub events: Option<Arc<dyn SessionEvents>>,
    /// What `SESSION_STORE` named.
    pub kind: SessionStoreKind,
    shared: &'static str,
    limits: &'static str,
}

/// One line for the start-up log: which store and which coordination, never a URL.
impl fmt::Display for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions = match self.kind {
            SessionStoreKind::Cookie => "the encrypted cookie",
            SessionStoreKind::Memory => "this process's memory",
            _ => self.kind.name(),
        };
        write!(
            f,
            "sessions in {sessions}; logouts, login states and refresh coordination in {}; rate limits in {}",
            self.shared, self.limits
        )
    }
}

impl Backends {
    /// Everything in this process: sessions in the cookie (the default of
    /// [`DiscordOAuth::new`](crate::DiscordOAuth::new)).
    #[must_use]
    pub fn local() -> Self {
        Self {
            tokens: None,
            revocations: Arc::new(MemoryRevocationList::new()),
            consumed: Arc::new(MemoryConsumedStates::default()),
            coordination: None,
            rate_limits: None,
            events: None,
            kind: SessionStoreKind::Cookie,
            shared: "this process",
            limits: "this process",
        }
    }

    /// Connects what `session_store` (a `SESSION_STORE` value) and `redis_url` (`REDIS_URL`)
    /// name; creates SQL tables (embedded migrations). See the [module](self) table for what
    /// goes where.
    ///
    /// # Errors
    /// [`Error::Config`] naming `SESSION_STORE` or `REDIS_URL` when a value is malformed, needs
    /// a cargo feature that is off, or its server cannot be reached (the message names the
    /// failure, never the URL).
    pub async fn connect(session_store: &str, redis_url: Option<&str>) -> Result<Self, Error> {
        let kind = SessionStoreKind::parse(session_store)?;
        let mut backends = Self::local();
        backends.kind = kind.clone();
        match &kind {
            SessionStoreKind::Cookie => {}
            SessionStoreKind::Memory => backends.tokens = Some(Arc::new(MemoryTokenStore::new())),
            SessionStoreKind::Sqlite(path) => sql::sqlite(&mut backends, path).await?,
            SessionStoreKind::Postgres(url) => sql::postgres(&mut backends, url).await?,
            SessionStoreKind::Redis(url) => {
                if redis_url.is_none_or(|u| u.trim().is_empty()) {
                    redis::install(&mut backends, url, "SESSION_STORE", true).await?;
                }
            }
        }
        if let Some(url) = redis_url.map(str::trim).filter(|u| !u.is_empty()) {
            let records = matches!(kind, SessionStoreKind::Redis(_));
            if records && !matches!(&kind, SessionStoreKind::Redis(own) if own.trim() == url) {
                // Records in one Redis, coordination in another.
                let SessionStoreKind::Redis(own) = &kind else {
                    unreachable!()
                };
                redis::install(&mut backends, own, "SESSION_STORE", true).await?;
                let tokens = backends.tokens.take();
                redis::install(&mut backends, url, "REDIS_URL", false).await?;
                backends.tokens = tokens;
            } else {
                redis::install(&mut backends, url, "REDIS_URL", records).await?;
            }
        }
        Ok(backends)
    }
}

/// A connection failure at start, for the variable `key`: the store's message, never the URL.
#[allow(dead_code)] // used by the optional SQL and Redis features
fn unreachable(key: &'static str, e: &StoreError) -> Error {
    let cause = std::error::Error::source(e).map_or_else(|| e.to_string(), ToString::to_string);
    Error::Config(ConfigError::new(key, format!("cannot connect: {cause}")))
}

/// A `SESSION_STORE` or `REDIS_URL` that needs a cargo feature that is off.
#[allow(dead_code)] // unused when every feature is on
fn needs_feature(key: &'static str, feature: &str) -> Error {
    Error::Config(ConfigError::new(
        key,
        format!("needs the `{feature}` feature of discord-oauth"),
    ))
}

mod sql {
    #[allow(unused_imports)] // unused when both SQL features are on
    use super::needs_feature;
    use super::{Backends, Error};

    #[cfg(feature = "sqlite")]
    pub(super) async fn sqlite(backends: &mut Backends, path: &str) -> Result<(), Error> {
        let store = crate::store::SqliteStore::open(path)
            .await
            .map_err(|e| super::unreachable("SESSION_STORE", &e))?;
        install(backends, std::sync::Arc::new(store), "sqlite");
        Ok(())
    }

    #[cfg(not(feature = "sqlite"))]
    pub(super) async fn sqlite(_: &mut Backends, _: &str) -> Result<(), Error> {
        Err(needs_feature("SESSION_STORE", "sqlite"))
    }

    #[cfg(feature = "postgres")]
    pub(super) async fn postgres(backends: &mut Backends, url: &str) -> Result<(), Error> {
        let store = crate::store::PostgresStore::connect(url)
            .await
            .map_err(|e| super::unreachable("SESSION_STORE", &e))?;
        install(backends, std::sync::Arc::new(store), "postgres");
        Ok(())
    }

    #[cfg(not(feature = "postgres"))]
    pub(super) async fn postgres(_: &mut Backends, _: &str) -> Result<(), Error> {
        Err(needs_feature("SESSION_STORE", "postgres"))
    }

    /// One SQL store holds the records, the logouts, the used states and the leases.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn install<S>(backends: &mut Backends, store: std::sync::Arc<S>, name: &'static str)
    where
        S: crate::store::TokenStore
            + crate::store::RevocationList
            + crate::store::ConsumedStates
            + crate::store::RefreshCoordination,
    {
        backends.tokens = Some(store.clone());
        backends.revocations = store.clone();
        backends.consumed = store.clone();
        backends.coordination = Some(store);
        backends.shared = name;
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::sync::Arc;
    use std::time::Duration;

    use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};

    use super::{Backends, ConfigError, Error, RedisRateLimitStore};
    use crate::store::{
        RedisConsumedStates, RedisRefreshCoordination, RedisRevocationList, RedisSessionEvents,
        RedisTokenStore,
    };

    /// How long one Redis command may take before it fails (and the request gets its 503 or
    /// falls back), so a Redis outage never stalls a request.
    const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

    /// A builder on `url` that reconnects forever (every 250 ms) after an outage and bounds
    /// every command.
    fn builder(url: &str, key: &'static str) -> Result<Builder, Error> {
        if url.starts_with("rediss:") {
            // Without a TLS feature fred would connect in plain text, password included.
            return Err(Error::Config(ConfigError::new(
                key,
                "TLS to Redis (`rediss://`) is not built in: use `redis://` on a private network \
                 or through a TLS tunnel",
            )));
        }
        let config = Config::from_url(url)
            .map_err(|_| Error::Config(ConfigError::new(key, "is not a valid Redis URL")))?;
        let mut builder = Builder::from_config(config);
        builder
            .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                c.internal_command_timeout = COMMAND_TIMEOUT;
                c.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_constant(0, 250));
        Ok(builder)
    }

    /// Waits for `init` (a pool's or a client's first connection), at most 5 s.
    async fn connected<T>(
        init: impl std::future::Future<Output = Result<T, fred::error::Error>>,
        key: &'static str,
    ) -> Result<(), Error> {
        match tokio::time::timeout(Duration::from_secs(5), init).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::Config(ConfigError::new(
                key,
                format!("cannot connect: {:?}", e.kind()),
            ))),
            Err(_) => Err(Error::Config(ConfigError::new(
                key,
                "cannot connect: no answer within 5 s",
            ))),
        }
    }

    fn failed(key: &'static str, e: &fred::error::Error) -> Error {
        Error::Config(ConfigError::new(key, format!("{:?}", e.kind())))
    }

    /// Connects to `url` and shares through it what must be shared; `records` also puts session
    /// records there (`SESSION_STORE=redis://…`).
    pub(super) async fn install(
        backends: &mut Backends,
        url: &str,
        key: &'static str,
        records: bool,
    ) -> Result<(), Error> {
        let builder = builder(url, key)?;
        let pool = builder.build_pool(4).map_err(|e| failed(key, &e))?;
        connected(pool.init(), key).await?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(|e| failed(key, &e))?;
        connected(subscriber.init(), key).await?;
        let events = RedisSessionEvents::new(pool.clone(), subscriber)
            .await
            .map_err(|e| super::unreachable(key, &e))?;
        backends.events = Some(Arc::new(events));
        let pool = &pool;
        if records {
            backends.tokens = Some(Arc::new(RedisTokenStore::new(pool.clone())));
        }
        backends.revocations = Arc::new(RedisRevocationList::new(pool.clone()));
        backends.consumed = Arc::new(RedisConsumedStates::new(pool.clone()));
        backends.coordination = Some(Arc::new(RedisRefreshCoordination::new(pool.clone())));
        backends.rate_limits = Some(Arc::new(RedisRateLimitStore::new(pool.clone())));
        backends.shared = "redis";
        backends.limits = "redis";
        Ok(())
    }
}

#[cfg(not(feature = "redis"))]
mod redis {
    use super::{Backends, Error, needs_feature};

    pub(super) async fn install(
        _: &mut Backends,
        _: &str,
        key: &'static str,
        _: bool,
    ) -> Result<(), Error> {
        Err(needs_feature(key, "redis"))
    }
}
