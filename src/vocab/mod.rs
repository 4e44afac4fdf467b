//! The vocabulary every other module speaks: OAuth2 [`scope`]s, [`permissions`] bits,
//! [`secret`] newtypes (tokens, state, PKCE verifier, fingerprints), the [`clock`] seam and the
//! one boxed-future alias of the crate's object-safe traits.
//!
//! Owns plain values with no I/O. Must not import any other module of the crate: everything
//! else builds on it.

pub mod clock;
pub mod permissions;
pub mod scope;
pub mod secret;

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: what the crate's object-safe traits return ([`TokenStore`],
/// [`Limiter`], [`UserCache`], ...), so that they can be used as `Arc<dyn Trait>`.
///
/// [`TokenStore`]: crate::store::TokenStore
/// [`Limiter`]: crate::ratelimit::Limiter
/// [`UserCache`]: crate::cache::UserCache
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
