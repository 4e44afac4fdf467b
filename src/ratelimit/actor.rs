//! The per-user share of the invalid-request budget.
//!
//! Discord bans an IP for a while after 10 000 invalid requests (401, 403, non-shared 429) in
//! 10 minutes ([Discord: Invalid Request Limit](https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans)). The process-wide budget in the [`RateLimitStore`] protects
//! the server, but on its own one logged-in user hammering a refused route (say, joining a guild
//! the bot cannot add them to) could spend it for everyone. So each user also gets a small share:
//! past it, that user's calls fail locally until their window ends, and nobody else is affected.
//! The budget lives inside [`DiscordLimiter`](super::DiscordLimiter), on the limiter's clock, so
//! a custom [`Limiter`](super::Limiter) replaces it too.
//!
//! [`RateLimitStore`]: super::RateLimitStore

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;

use super::{LimitError, RateLimitScope};

/// Invalid requests one user may cause per window before their calls are refused locally.
pub const PER_USER_INVALID_LIMIT: u32 = 100;
/// The window of [`PER_USER_INVALID_LIMIT`].
pub const PER_USER_INVALID_WINDOW: Duration = Duration::from_secs(600);

/// Counts invalid answers per user.
#[derive(Debug)]
pub(crate) struct ActorBudget {
    limit: u32,
    window: u64,
    /// user -> (invalid answers, window start in Unix ms).
    counts: Mutex<HashMap<u64, (u32, u64)>>,
}

impl Default for ActorBudget {
    fn default() -> Self {
        Self::new(PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW)
    }
}

impl ActorBudget {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        Self {
            limit: limit.max(1),
            window,
            counts: Mutex::default(),
        }
    }

    /// Fails with [`LimitError::Limited`] when `actor` spent their share at `now` (Unix ms).
    pub(crate) fn check(&self, actor: u64, now: u64) -> Result<(), LimitError> {
        let map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&actor) {
            Some((count, start)) if *count >= self.limit && now < *start + self.window => {
                Err(LimitError::Limited {
                    retry_after: Duration::from_millis(*start + self.window - now),
                    global: false,
                    scope: Some(RateLimitScope::User),
                    message: "too many refused requests for this user; refused locally to protect \
                              the server's invalid-request budget",
                })
            }
            _ => Ok(()),
        }
    }

    /// Records an answer for `actor` at `now` (Unix ms).
    pub(crate) fn observe(
        &self,
        actor: u64,
        status: StatusCode,
        scope: Option<RateLimitScope>,
        now: u64,
    ) {
        let invalid = status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || (status == StatusCode::TOO_MANY_REQUESTS && scope != Some(RateLimitScope::Shared));
        if !invalid {
            return;
        }
        let mut map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= 10_000 {
            let window = self.window;
            map.retain(|_, (_, start)| now < *start + window);
        }
        let entry = map.entry(actor).or_insert((0, now));
        if now >= entry.1 + self.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_user_is_refused_alone_and_recovers() {
        let b = ActorBudget::new(3, Duration::from_secs(600));
        let t0 = 1_000_000;
        for _ in 0..3 {
            assert!(b.check(1, t0).is_ok());
            b.observe(1, StatusCode::FORBIDDEN, None, t0);
        }
        let Err(LimitError::Limited { retry_after, .. }) = b.check(1, t0 + 10) else {
            panic!("the fourth call is refused");
        };
        assert!(retry_after <= Duration::from_secs(600));
        assert!(b.check(2, t0).is_ok(), "another user is not affected");
        b.observe(2, StatusCode::OK, None, t0);
        b.observe(
            2,
            StatusCode::TOO_MANY_REQUESTS,
            Some(RateLimitScope::Shared),
            t0,
        );
        assert!(
            b.check(2, t0).is_ok(),
            "successes and shared 429s do not count"
        );
        assert!(b.check(1, t0 + 601_000).is_ok(), "the window ended");
    }
}
