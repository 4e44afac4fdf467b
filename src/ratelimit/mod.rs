//! Rate limiting: the hook every call of the HTTP pipeline passes through before it is sent
//! ([`Limiter::acquire`]) and after Discord answers ([`Limiter::observe`]).
//!
//! This module owns Discord's rate-limit rules (discord-api.md §5). [`PassThrough`] does nothing
//! and exists for tests that want to see Discord's raw answers.

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

    /// Called with every answer of an attempt (any status).
    fn observe(&self, key: &RequestKey<'_>, status: StatusCode, headers: &HeaderMap);
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

    fn observe(&self, _key: &RequestKey<'_>, _status: StatusCode, _headers: &HeaderMap) {}
}
