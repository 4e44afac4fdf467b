//! Throttling the two routes anyone can call without a session: starting a login (which mints
//! a state) and the callback (which exchanges a code at Discord). The application plugs in a
//! [`LoginThrottle`] on the builder
//! ([`DiscordOAuthBuilder::login_throttle`](crate::DiscordOAuthBuilder::login_throttle)); it
//! is asked before a state is minted and before the callback touches its state or spends a
//! token request, and a refusal is [`Error::Throttled`](crate::Error::Throttled) (HTTP 429 with
//! `Retry-After`).
//!
//! Owns: the hook and the client key of a request. Imports nothing but the standard library;
//! must not import a web framework.

use std::fmt;
use std::time::Duration;

/// Which unauthenticated step is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginStep {
    /// [`create_session`](crate::DiscordSession::create_session) (and the install and linked
    /// role starts): would mint a state and set the pending-login cookie.
    Login,
    /// [`callback`](crate::DiscordSession::callback): would check the state and exchange the
    /// code (one token request to Discord).
    Callback,
}

/// Decides whether an unauthenticated login step may go on. Keep it quick and non-blocking
/// (an in-memory counter, a token bucket): it runs on the request path.
///
/// `client` is the key the application gave the request
/// ([`DiscordSession::set_client_key`](crate::DiscordSession::set_client_key), e.g. the peer
/// address; with axum, [`DiscordLayer::client_key`](crate::axum::DiscordLayer::client_key)),
/// `None` when it gave none.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
/// use discord_oauth::session::{LoginStep, LoginThrottle};
///
/// /// At most `limit` steps per client key and minute (a fixed window).
/// #[derive(Debug)]
/// struct PerMinute {
///     limit: u32,
///     seen: Mutex<HashMap<String, (Instant, u32)>>,
/// }
///
/// impl LoginThrottle for PerMinute {
///     fn check(&self, _step: LoginStep, client: Option<&str>) -> Result<(), Duration> {
///         let now = Instant::now();
///         let mut seen = self.seen.lock().unwrap();
///         if seen.len() > 100_000 {
///             seen.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
///         }
///         let (start, count) = seen.entry(client.unwrap_or("-").to_owned()).or_insert((now, 0));
///         if now.duration_since(*start) >= Duration::from_secs(60) {
///             (*start, *count) = (now, 0);
///         }
///         *count += 1;
///         if *count > self.limit {
///             return Err(Duration::from_secs(60).saturating_sub(now.duration_since(*start)));
///         }
///         Ok(())
///     }
/// }
///
/// # fn f(config: discord_oauth::Config) -> Result<(), discord_oauth::Error> {
/// let discord = discord_oauth::DiscordOAuth::builder(config)
///     .login_throttle(std::sync::Arc::new(PerMinute { limit: 20, seen: Mutex::default() }))
///     .build()?;
/// # let _ = discord; Ok(()) }
/// ```
pub trait LoginThrottle: Send + Sync + fmt::Debug + 'static {
    /// `Ok(())` to go on; `Err(retry_after)` to refuse the step with
    /// [`Error::Throttled`](crate::Error::Throttled).
    ///
    /// # Errors
    /// How long the client should wait before trying again.
    fn check(&self, step: LoginStep, client: Option<&str>) -> Result<(), Duration>;
}
