//! Rate limiting: the hook every call of the HTTP pipeline passes through before it is sent
//! ([`Limiter::acquire`]) and after Discord answers ([`Limiter::observe`]).
//!
//! [`DiscordLimiter`] (the default) follows Discord's rules
//! ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits)):
//!
//! - **Buckets are learned, not hard-coded** ("Rate limits should not be hard coded"): each
//!   answer's `X-RateLimit-Limit`, `-Remaining`, `-Reset-After` (or `-Reset`) and `-Bucket` are
//!   recorded. Before a route's bucket is known, calls are keyed on `METHOD + route template` with
//!   the major parameter (`guild_id`, `channel_id`, `webhook_id` + token) kept apart and other ids
//!   replaced by placeholders, and only one call of that route is in flight until its first
//!   answer names the bucket; afterwards the key is `bucket hash + major parameter`. Routes that
//!   share a bucket hash share one budget.
//! - **Per identity**: limits apply per bot token and per user for Bearer tokens. Keys include
//!   the [`Identity`], so two users never share a bucket, and [`Identity::User`] (the Discord user
//!   id) keeps what was learned across a token rotation.
//! - **A spent bucket is waited out before sending** (until its reset), never sent into.
//! - **The global limit** (50 requests/s per bot) is held proactively for [`Identity::Bot`] with
//!   a sliding window made slightly longer than a second (clock skew, latency jitter).
//!   Interaction endpoints are exempt.
//! - **A 429** blocks its bucket (`X-RateLimit-Scope: user`), the resource for everyone
//!   (`shared`, which does not count as invalid), or every call of the identity
//!   (`X-RateLimit-Global: true`), for `Retry-After` / `X-RateLimit-Reset-After` seconds.
//! - **Waits never pass the call's deadline**: a wait that does not fit returns
//!   [`LimitError::Limited`] at once.
//! - **Invalid requests are prevented** ("stop using a token once it is invalid"): a Bearer
//!   token answered 401 is marked dead (by fingerprint) and refused locally with
//!   [`LimitError::DeadToken`]; after a 401 to the bot token, bot calls fail locally with
//!   [`LimitError::BotUnauthorized`] for a cool-down. The 401/403/429 answers that still happen
//!   (except `shared` 429s) are counted against the per-IP budget (10,000 per 10 minutes), and
//!   calls fail fast with [`LimitError::Limited`] once 90% of it is spent. Dead tokens are refused
//!   before they count, so a client replaying a dead cookie cannot exhaust the budget. Each user
//!   also has a small share of that budget ([`PER_USER_INVALID_LIMIT`]): one user hammering a
//!   refused route is refused alone.
//!
//! The state lives behind [`RateLimitStore`], shaped for a remote store (one atomic `reserve`
//! and one atomic `observe`, plain data, no wakers). Implementations:
//!
//! - [`MemoryStore`], the default: one process, evicts idle buckets.
//! - `RedisRateLimitStore` (feature `redis`): the same decisions as one Lua script per
//!   operation, shared by every process using one bot token from one egress IP (Discord's
//!   limits belong to the token and the IP, not to a process); it falls back to local limits
//!   while Redis does not answer.
//!
//! [`PassThrough`] does nothing and exists for tests that want Discord's raw answers.
//!
//! Owns: the [`Limiter`] seam, its error type (turned into the crate's [`Error`] by `From`),
//! Discord's limits and their state. Imports the vocabulary, [`Route`], the error type and (feature
//! `redis`) fred only; must not import the pipeline, sessions or stores.

mod actor;
mod limiter;
#[cfg(feature = "redis")]
mod redis;
mod store;

pub use actor::{PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW};
pub use limiter::{DiscordLimiter, DiscordLimiterBuilder};
pub use store::{
    BucketUpdate, Denial, DenyReason, InvalidBudget, MemoryStore, RateLimitStore, Reservation,
    StoreRequest, WindowLimit,
};

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{DEFAULT_COMMAND_TIMEOUT, DEFAULT_RATE_LIMIT_PREFIX, RedisRateLimitStore};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use tokio::time::Instant;

use crate::error::Error;
pub use crate::error::RateLimitScope;
use crate::route::Route;
use crate::vocab::BoxFuture;

/// Why the limiter refused a call. The pipeline turns it into the crate's
/// [`Error`]: `Limited` into `RateLimited` (503), `DeadToken` into
/// `Unauthorized` (401), `BotUnauthorized` into `BotUnauthorized`, `Store` into `Store`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// The call must wait longer than its deadline allows, or a local budget is spent.
    #[error("rate limited (enforced locally): {message}")]
    Limited {
        /// How long until the call could be sent.
        retry_after: Duration,
        /// Whether a global limit (rather than a route bucket) is the reason.
        global: bool,
        /// `Some(User)` when the refusal is this user's own share of a budget.
        scope: Option<RateLimitScope>,
        /// Why, in words.
        message: &'static str,
    },
    /// Discord rejected this Bearer token (401) before: it is not sent again.
    #[error("Discord rejected this token before; it is not sent again")]
    DeadToken,
    /// Discord rejected the bot token (401): bot calls are refused for a cool-down.
    #[error("Discord rejected the bot token; bot calls are paused")]
    BotUnauthorized,
    /// The rate-limit state could not be read or written.
    #[error("rate-limit store failed")]
    Store(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

impl From<LimitError> for Error {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Limited {
                retry_after,
                global,
                scope,
                message,
            } => Self::RateLimited {
                retry_after,
                global,
                scope,
                bucket: None,
                message: message.to_owned(),
                json: None,
                headers: Box::default(),
            },
            LimitError::DeadToken => Self::Unauthorized,
            LimitError::BotUnauthorized => Self::BotUnauthorized,
            LimitError::Store(cause) => Self::Store(cause),
        }
    }
}

/// Who a call is made as: Discord limits per bot token, per user for Bearer tokens, and per IP
/// for unauthenticated calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// The application's bot token.
    Bot,
    /// A user's Bearer token, keyed by the Discord user id once known, so that a token rotation
    /// keeps what was learned and two users never share a bucket.
    User(u64),
    /// A user's Bearer token whose user id is not known yet: a non-reversible
    /// [fingerprint](crate::secret::Fingerprint::short) of the token (never the token itself).
    Token(u64),
    /// No `Authorization` header (the OAuth2 token endpoint, `request(.., oauth = false)`).
    Anonymous,
}

/// What the limiter sees of a call.
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    /// The route: method, template and major parameter, parsed once.
    pub route: &'a Route,
    /// Who the call is made as.
    pub identity: &'a Identity,
    /// The [fingerprint](crate::secret::Fingerprint::short) of the Bearer token, for the
    /// dead-token guard.
    pub token: Option<u64>,
    /// The token was issued by a refresh during this call: a 401 on it does not mean the token
    /// is dead (the grant is alive; the route needs a scope or access the grant lacks).
    pub fresh_token: bool,
    /// The Discord user on whose behalf the call is made (Bearer calls, and bot calls made for
    /// a user such as adding them to a guild), for the per-user share of the invalid-request
    /// budget.
    pub actor: Option<u64>,
}

impl<'a> RequestKey<'a> {
    /// A key without a Bearer token fingerprint or actor.
    #[must_use]
    pub fn new(route: &'a Route, identity: &'a Identity) -> Self {
        Self {
            route,
            identity,
            token: None,
            fresh_token: false,
            actor: None,
        }
    }

    /// Sets the Bearer token fingerprint.
    #[must_use]
    pub fn with_token(mut self, fingerprint: u64) -> Self {
        self.token = Some(fingerprint);
        self
    }

    /// Sets the user on whose behalf the call is made.
    #[must_use]
    pub fn with_actor(mut self, user_id: u64) -> Self {
        self.actor = Some(user_id);
        self
    }
}

/// The pipeline's rate-limit hook.
///
/// `acquire` may wait (never past `deadline`) or refuse with a [`LimitError`]; `observe`
/// learns from every answer's headers.
pub trait Limiter: Send + Sync + fmt::Debug + 'static {
    /// Called before each attempt of a call. Resolve `Ok(())` to send now.
    fn acquire<'a>(
        &'a self,
        key: &'a RequestKey<'a>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), LimitError>>;

    /// Called with every answer of an attempt (any status), before the next `acquire`.
    ///
    /// Asynchronous so that a remote store's update completes before the next call is decided.
    fn observe<'a>(
        &'a self,
        key: &'a RequestKey<'a>,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, ()>;
}

/// A limiter that never waits and learns nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl Limiter for PassThrough {
    fn acquire<'a>(
        &'a self,
        _key: &'a RequestKey<'a>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), LimitError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn observe<'a>(
        &'a self,
        _key: &'a RequestKey<'a>,
        _status: StatusCode,
        _headers: &'a HeaderMap,
    ) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }
}
