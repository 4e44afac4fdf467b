//! The per-user share of the invalid-request budget.
//!
//! Discord bans an IP for a while after 10 000 invalid requests (401, 403, non-shared 429) in
//! 10 minutes (discord-api.md §5). The process-wide budget in the [`RateLimitStore`] protects
//! the server, but on its own one logged-in user hammering a refused route (say, joining a guild
//! the bot cannot add them to) could spend it for everyone. So each user also gets a small share:
//! past it, that user's calls fail locally until their window ends, and nobody else is affected.
//!
//! [`RateLimitStore`]: super::RateLimitStore

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;

use crate::error::{Error, RateLimitScope};

/// Invalid requests one user may cause per window before their calls are refused locally.
pub const PER_USER_INVALID_LIMIT: u32 = 100;
/// The window of [`PER_USER_INVALID_LIMIT`].
pub const PER_USER_INVALID_WINDOW: Duration = Duration::from_secs(600);

/// Counts invalid answers per user.
#[derive(Debug)]
pub(crate) struct ActorBudget {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl Default for ActorBudget {
    fn default() -> Self {
        Self::new(PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW)
    }
}

impl ActorBudget {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            counts: Mutex::default(),
        }
    }

    /// Fails with [`Error::RateLimited`] when `actor` spent their share.
    pub(crate) fn check(&self, actor: u64) -> Result<(), Error> {
        let now = Instant::now();
        let map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&actor) {
            Some((count, start)) if *count >= self.limit && now < *start + self.window => {
                Err(Error::RateLimited {
                    retry_after: (*start + self.window) - now,
                    global: false,
                    scope: Some(RateLimitScope::User),
                    bucket: None,
                    message: "too many refused requests for this user; refused locally to protect \
                              the server's invalid-request budget"
                        .into(),
                    json: None,
                    headers: Box::default(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Records an answer for `actor`.
    pub(crate) fn observe(&self, actor: u64, status: StatusCode, scope: Option<RateLimitScope>) {
        let invalid = status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || (status == StatusCode::TOO_MANY_REQUESTS && scope != Some(RateLimitScope::Shared));
        if !invalid {
            return;
        }
        let now = Instant::now();
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

    #[tokio::test(start_paused = true)]
    async fn one_user_is_refused_alone_and_recovers() {
        let b = ActorBudget::new(3, Duration::from_secs(600));
        for _ in 0..3 {
            assert!(b.check(1).is_ok());
            b.observe(1, StatusCode::FORBIDDEN, None);
        }
        let err = b.check(1).unwrap_err();
        assert!(err.is_rate_limited());
        assert!(err.retry_after().unwrap() <= Duration::from_secs(600));
        assert!(b.check(2).is_ok(), "another user is not affected");
        b.observe(2, StatusCode::OK, None);
        b.observe(
            2,
            StatusCode::TOO_MANY_REQUESTS,
            Some(RateLimitScope::Shared),
        );
        assert!(b.check(2).is_ok(), "successes and shared 429s do not count");
        tokio::time::advance(Duration::from_secs(601)).await;
        assert!(b.check(1).is_ok(), "the window ended");
    }
}
