//! [`DiscordLimiter`]: Discord's rate-limit rules
//! ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits)) on top of a
//! [`RateLimitStore`], with the per-user share of the invalid-request budget.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use tokio::time::Instant;

use super::actor::{ActorBudget, PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW};
use super::store::{
    BucketUpdate, DenyReason, InvalidBudget, MemoryStore, RateLimitStore, Reservation,
    StoreRequest, WindowLimit,
};
use super::{Identity, LimitError, Limiter, RateLimitScope, RequestKey};
use crate::vocab::BoxFuture;
use crate::vocab::clock::{Clock, TimerClock};

/// The default limiter: learns buckets from `X-RateLimit-*` headers, waits before sending into a
/// spent bucket, holds the bot's global 50 requests/s, honours 429s, refuses tokens Discord
/// rejected and keeps the per-IP invalid-request budget. All state lives in a
/// [`RateLimitStore`] ([`MemoryStore`] by default).
///
/// ```
/// use std::sync::Arc;
/// use discord_oauth::ratelimit::{DiscordLimiter, MemoryStore};
/// let limiter = DiscordLimiter::builder()
///     .store(Arc::new(MemoryStore::new()))
///     .build();
/// # let _ = limiter;
/// ```
#[derive(Debug, Clone)]
pub struct DiscordLimiter {
    store: Arc<dyn RateLimitStore>,
    global: WindowLimit,
    budget: InvalidBudget,
    bot_cooldown_ms: u64,
    dead_token_ttl_ms: u64,
    /// The per-user share of the invalid-request budget.
    actors: Arc<ActorBudget>,
    /// The limiter's time, in Unix milliseconds comparable across processes. Waits sleep on
    /// Tokio's timer, so the clock must advance with it: [`TimerClock`] by default.
    clock: Arc<dyn Clock>,
}

/// Builder for [`DiscordLimiter`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct DiscordLimiterBuilder {
    store: Option<Arc<dyn RateLimitStore>>,
    global_limit: u32,
    global_window: Duration,
    global_margin: Duration,
    invalid_limit: u32,
    invalid_window: Duration,
    invalid_fail_fraction: f64,
    bot_cooldown: Duration,
    dead_token_ttl: Duration,
    per_user_invalid: (u32, Duration),
    clock: Option<Arc<dyn Clock>>,
}

impl Default for DiscordLimiterBuilder {
    fn default() -> Self {
        Self {
            store: None,
            // 50 requests/second per bot:
            // https://discord.com/developers/docs/topics/rate-limits#global-rate-limit
            global_limit: 50,
            global_window: Duration::from_secs(1),
            global_margin: Duration::from_millis(100),
            // 10,000 per 10 minutes per IP:
            // https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans
            invalid_limit: 10_000,
            invalid_window: Duration::from_secs(600),
            invalid_fail_fraction: 0.9,
            bot_cooldown: Duration::from_secs(60),
            // Access tokens live 7 days (`expires_in: 604800` in
            // https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-response);
            // a dead mark need not outlive that.
            dead_token_ttl: Duration::from_secs(7 * 24 * 3600),
            per_user_invalid: (PER_USER_INVALID_LIMIT, PER_USER_INVALID_WINDOW),
            clock: None,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl DiscordLimiterBuilder {
    /// The shared state (default: a fresh [`MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn RateLimitStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The bot's global limit (default 50 per 1 s).
    pub fn global_limit(mut self, limit: u32, window: Duration) -> Self {
        self.global_limit = limit.max(1);
        self.global_window = window;
        self
    }

    /// Added to the global window to absorb clock skew and latency jitter between here and
    /// Discord (default 100 ms: at most 50 calls in any 1.1 s).
    pub fn global_margin(mut self, margin: Duration) -> Self {
        self.global_margin = margin;
        self
    }

    /// The per-IP invalid-request budget (default 10,000 per 10 minutes) and the fraction of it
    /// after which calls are refused locally (default 0.9).
    pub fn invalid_budget(mut self, limit: u32, window: Duration, fail_fraction: f64) -> Self {
        self.invalid_limit = limit.max(1);
        self.invalid_window = window;
        self.invalid_fail_fraction = if fail_fraction.is_finite() {
            fail_fraction.clamp(0.0, 1.0)
        } else {
            0.9
        };
        self
    }

    /// How long bot calls are refused locally after Discord rejected the bot token (default 60 s).
    pub fn bot_cooldown(mut self, cooldown: Duration) -> Self {
        self.bot_cooldown = cooldown;
        self
    }

    /// Each user's share of the invalid-request budget (default [`PER_USER_INVALID_LIMIT`] per
    /// [`PER_USER_INVALID_WINDOW`]): past it, that user's calls are refused locally.
    pub fn per_user_invalid_limit(mut self, limit: u32, window: Duration) -> Self {
        self.per_user_invalid = (limit, window);
        self
    }

    /// The limiter's clock (default [`TimerClock`]). Waits sleep on Tokio's timer until the
    /// times this clock gives, so it must advance with that timer.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the limiter. Call it inside a Tokio runtime when using a paused test clock.
    #[must_use]
    pub fn build(self) -> DiscordLimiter {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let fail_at = ((f64::from(self.invalid_limit) * self.invalid_fail_fraction).floor() as u32)
            .clamp(1, self.invalid_limit);
        DiscordLimiter {
            store: self
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn RateLimitStore>),
            global: WindowLimit {
                limit: self.global_limit,
                window_ms: ms(self.global_window + self.global_margin),
            },
            budget: InvalidBudget {
                fail_at,
                window_ms: ms(self.invalid_window).max(1),
            },
            bot_cooldown_ms: ms(self.bot_cooldown),
            dead_token_ttl_ms: ms(self.dead_token_ttl),
            actors: Arc::new(ActorBudget::new(
                self.per_user_invalid.0,
                self.per_user_invalid.1,
            )),
            clock: self
                .clock
                .unwrap_or_else(|| Arc::new(TimerClock::new()) as Arc<dyn Clock>),
        }
    }
}

impl Default for DiscordLimiter {
    fn default() -> Self {
        Self::new()
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn secs_to_ms(s: f64) -> Option<u64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (s.is_finite() && s >= 0.0).then(|| (s.min(86_400.0) * 1000.0).ceil() as u64)
}

/// `X-RateLimit-Reset` is an absolute epoch time in seconds (with millisecond decimals), so it
/// must not be capped like a duration.
fn epoch_secs_to_ms(s: f64) -> Option<u64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (0.0..1.0e11)
        .contains(&s)
        .then(|| (s * 1000.0).ceil() as u64)
}

impl DiscordLimiter {
    /// A limiter with Discord's documented limits and an in-memory store.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to share a store or change the limits.
    pub fn builder() -> DiscordLimiterBuilder {
        DiscordLimiterBuilder::default()
    }

    /// The store holding the state.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn RateLimitStore> {
        &self.store
    }

    /// The limiter's clock, in Unix milliseconds.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.clock.unix_millis()
    }

    /// The timer instant of `at_ms` on the limiter's clock, seen at `now` (both Unix ms).
    fn instant_at(at_ms: u64, now: u64) -> Instant {
        Instant::now() + Duration::from_millis(at_ms.saturating_sub(now))
    }

    fn request_parts(&self, key: &RequestKey<'_>) -> Parts {
        let route = key.route;
        let mut identity = String::with_capacity(20);
        let class = match key.identity {
            Identity::Bot => {
                identity.push('b');
                'b'
            }
            Identity::User(id) => {
                let _ = write!(identity, "u{id}");
                'u'
            }
            Identity::Token(fp) => {
                let _ = write!(identity, "t{fp:016x}");
                'u'
            }
            Identity::Anonymous => {
                identity.push('a');
                'a'
            }
        };
        let mut template = String::with_capacity(route.template().len() + 2);
        template.push(class);
        template.push('|');
        template.push_str(route.template());
        let global = (matches!(key.identity, Identity::Bot) && !route.is_global_exempt())
            .then_some(self.global);
        Parts {
            route: template,
            identity,
            major: route.major().to_owned(),
            token: key.token,
            global,
            budget: self.budget,
        }
    }

    /// Reads an answer's status and headers
    /// ([Discord: Header Format](https://discord.com/developers/docs/topics/rate-limits#header-format)).
    fn update_for(
        &self,
        key: &RequestKey<'_>,
        status: StatusCode,
        headers: &HeaderMap,
        now: u64,
    ) -> BucketUpdate {
        let f = |n| header(headers, n).and_then(|v| v.parse::<f64>().ok());
        let u32h = |n| header(headers, n).and_then(|v| v.parse::<u32>().ok());
        // Reset-After is relative, so it does not depend on our clock agreeing with Discord's;
        // Reset (epoch seconds) is the fallback.
        let reset_at_ms = f("x-ratelimit-reset-after")
            .and_then(secs_to_ms)
            .map(|d| now + d)
            .or_else(|| f("x-ratelimit-reset").and_then(epoch_secs_to_ms));
        let scope = header(headers, "x-ratelimit-scope").and_then(RateLimitScope::parse);
        let is_429 = status == StatusCode::TOO_MANY_REQUESTS;
        let global = is_429
            && header(headers, "x-ratelimit-global")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        // On a 429 the body's `retry_after` is not visible here; `Retry-After` is the same value
        // rounded up, and Reset-After the route's exact value.
        let retry_at_ms = is_429.then(|| {
            let secs = f("retry-after")
                .into_iter()
                .chain(f("x-ratelimit-reset-after"))
                .fold(None::<f64>, |a, b| Some(a.map_or(b, |a| a.max(b))));
            now + secs.and_then(secs_to_ms).unwrap_or(1_000)
        });
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        // 401, 403 and 429 count against the invalid-request limit, except a 429 with scope
        // `shared` (https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans).
        let invalid = unauthorized
            || status == StatusCode::FORBIDDEN
            || (is_429 && scope != Some(RateLimitScope::Shared));
        BucketUpdate {
            status: status.as_u16(),
            bucket: header(headers, "x-ratelimit-bucket")
                .filter(|b| !b.is_empty() && b.len() <= 128)
                .map(str::to_owned),
            limit: u32h("x-ratelimit-limit"),
            remaining: u32h("x-ratelimit-remaining"),
            reset_at_ms,
            retry_at_ms,
            global,
            scope,
            invalid,
            dead_token_until_ms: (unauthorized && key.token.is_some() && !key.fresh_token)
                .then(|| now.saturating_add(self.dead_token_ttl_ms)),
            bot_blocked_until_ms: (unauthorized && matches!(key.identity, Identity::Bot))
                .then(|| now.saturating_add(self.bot_cooldown_ms)),
        }
    }

    async fn acquire_inner(
        &self,
        key: &RequestKey<'_>,
        deadline: Instant,
    ) -> Result<(), LimitError> {
        if let Some(actor) = key.actor {
            self.actors.check(actor, self.now_ms())?;
        }
        let parts = self.request_parts(key);
        let req = parts.request();
        loop {
            let now = self.now_ms();
            let reservation = self.store.reserve(&req, now).await?;
            match reservation {
                Reservation::Go => return Ok(()),
                Reservation::Deny(d) => {
                    return Err(match d.reason {
                        DenyReason::DeadToken => LimitError::DeadToken,
                        DenyReason::BotUnauthorized => LimitError::BotUnauthorized,
                        _ => local_limit(
                            Duration::from_millis(d.retry_after_ms),
                            true,
                            "refused locally: the per-IP invalid-request budget is nearly spent",
                        ),
                    });
                }
                Reservation::WaitUntil { at_ms, global } => {
                    let until = Self::instant_at(at_ms.max(now), now);
                    if until >= deadline {
                        // Never sleep past the deadline, never send into an exhausted bucket:
                        // fail now.
                        return Err(local_limit(
                            Duration::from_millis(at_ms.saturating_sub(now)),
                            global,
                            "rate limited (enforced locally); the wait does not fit in the deadline",
                        ));
                    }
                    tokio::time::sleep_until(until).await;
                }
            }
        }
    }
}

/// The owned strings behind a [`StoreRequest`].
struct Parts {
    route: String,
    identity: String,
    major: String,
    token: Option<u64>,
    global: Option<WindowLimit>,
    budget: InvalidBudget,
}

impl Parts {
    fn request(&self) -> StoreRequest<'_> {
        StoreRequest {
            route: &self.route,
            identity: &self.identity,
            major: &self.major,
            token: self.token,
            global: self.global,
            invalid_budget: self.budget,
        }
    }
}

fn local_limit(retry_after: Duration, global: bool, message: &'static str) -> LimitError {
    LimitError::Limited {
        retry_after,
        global,
        scope: None,
        message,
    }
}

impl Limiter for DiscordLimiter {
    fn acquire<'a>(
        &'a self,
        key: &'a RequestKey<'a>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), LimitError>> {
        Box::pin(self.acquire_inner(key, deadline))
    }

    fn observe<'a>(
        &'a self,
        key: &'a RequestKey<'a>,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let now = self.now_ms();
            let update = self.update_for(key, status, headers, now);
            if let Some(actor) = key.actor {
                self.actors.observe(actor, status, update.scope, now);
            }
            let parts = self.request_parts(key);
            let req = parts.request();
            if let Err(e) = self.store.observe(&req, &update, now).await {
                tracing::warn!(error = %e, "rate-limit store update failed");
            }
        })
    }
}
