//! Rate limiting: the hook every call of the HTTP pipeline passes through before it is sent
//! ([`Limiter::acquire`]) and after Discord answers ([`Limiter::observe`]).
//!
//! [`DiscordLimiter`] (the default) follows Discord's rules (discord-api.md §5, from
//! `developers/topics/rate-limits.mdx`):
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
//!   [`Error::RateLimited`] at once.
//! - **Invalid requests are prevented** ("stop using a token once it is invalid"): a Bearer
//!   token answered 401 is marked dead (by fingerprint) and refused locally with
//!   [`Error::Unauthorized`]; after a 401 to the bot token, bot calls fail locally with
//!   [`Error::BotUnauthorized`] for a cool-down. The 401/403/429 answers that still happen
//!   (except `shared` 429s) are counted against the per-IP budget (10,000 per 10 minutes), and
//!   calls fail fast with [`Error::RateLimited`] once 90% of it is spent. Dead tokens are refused
//!   before they count, so a client replaying a dead cookie cannot exhaust the budget.
//!
//! The state lives behind [`RateLimitStore`], shaped for a remote store (one atomic `reserve`
//! and one atomic `observe`, plain data, no wakers); [`MemoryStore`] is the default and evicts
//! idle buckets. [`PassThrough`] does nothing and exists for tests that want Discord's raw
//! answers.

pub(crate) mod actor;
mod key;
mod limiter;
mod store;

pub use actor::{PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW};
pub(crate) use key::redact_path;
pub use limiter::{DiscordLimiter, DiscordLimiterBuilder};
pub use store::{
    BucketUpdate, Denial, DenyReason, InvalidBudget, MemoryStore, RateLimitStore, Reservation,
    StoreRequest, WindowLimit,
};

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use http::{HeaderMap, Method, StatusCode};
use tokio::time::Instant;

use crate::error::Error;

/// A boxed future, as returned by [`Limiter::acquire`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    /// A user's Bearer token whose user id is not known yet: a non-reversible fingerprint of the
    /// token (never the token itself).
    Token(u64),
    /// No `Authorization` header (the OAuth2 token endpoint, `request(.., oauth = false)`).
    Anonymous,
}

/// What the limiter sees of a call.
#[derive(Debug, Clone)]
pub struct RequestKey<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The path under the API base, without query, e.g. `/users/@me/guilds/123/member`.
    pub path: &'a str,
    /// Who the call is made as.
    pub identity: &'a Identity,
    /// The [fingerprint](token_fingerprint) of the Bearer token, for the dead-token guard.
    pub token: Option<u64>,
    /// The token was issued by a refresh during this call: a 401 on it does not mean the token
    /// is dead (the grant is alive; the route needs a scope or access the grant lacks).
    pub fresh_token: bool,
}

impl<'a> RequestKey<'a> {
    /// A key without a Bearer token fingerprint.
    #[must_use]
    pub fn new(method: &'a Method, path: &'a str, identity: &'a Identity) -> Self {
        Self {
            method,
            path,
            identity,
            token: None,
            fresh_token: false,
        }
    }

    /// Sets the Bearer token fingerprint.
    #[must_use]
    pub fn with_token(mut self, fingerprint: u64) -> Self {
        self.token = Some(fingerprint);
        self
    }
}

/// A stable, non-reversible 64-bit fingerprint of a token (the first 8 bytes of its SHA-256),
/// used in rate-limit keys and the dead-token guard instead of the token itself. Stable across
/// processes, so a shared store recognises the same token everywhere.
#[must_use]
pub fn token_fingerprint(token: &str) -> u64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(token.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The pipeline's rate-limit hook.
///
/// `acquire` may wait (never past `deadline`) or fail with [`Error::RateLimited`]; `observe`
/// learns from every answer's headers.
pub trait Limiter: Send + Sync + fmt::Debug + 'static {
    /// Called before each attempt of a call. Resolve `Ok(())` to send now.
    fn acquire<'a>(
        &'a self,
        key: &'a RequestKey<'a>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), Error>>;

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
    ) -> BoxFuture<'a, Result<(), Error>> {
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
