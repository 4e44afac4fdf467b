//! The shared rate-limit state, behind [`RateLimitStore`], a small trait shaped for a remote
//! store: one atomic decision per call ([`RateLimitStore::reserve`]) and one atomic update per
//! answer ([`RateLimitStore::observe`]), with plain data in and out: no wakers, no callbacks,
//! no shared clocks (the caller passes `now` in Unix milliseconds). A Redis implementation runs
//! each of the two as one Lua script; [`MemoryStore`] (the default) runs them under a mutex.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use super::{LimitError, RateLimitScope};
use crate::vocab::BoxFuture;

/// What a call is, as far as the store is concerned. All strings are non-secret keys (tokens
/// appear only as fingerprints).
#[derive(Debug, Clone, Copy)]
pub struct StoreRequest<'a> {
    /// The route key: identity class, method and template, e.g. `b|PUT /guilds/{guild}/members/{id}`.
    pub route: &'a str,
    /// The identity key: `b` (the bot), `u<id>` (a user), `t<fingerprint>` (a user whose id is
    /// not known yet), `a` (no `Authorization`, limited per IP).
    pub identity: &'a str,
    /// The major parameter (`g<id>`, `c<id>`, `w<id>:<token fingerprint>`), empty if none.
    pub major: &'a str,
    /// The fingerprint of the Bearer token, for the dead-token guard.
    pub token: Option<u64>,
    /// The proactive global limit of this identity (the bot's 50 requests/s), if any.
    pub global: Option<WindowLimit>,
    /// The per-IP invalid-request budget.
    pub invalid_budget: InvalidBudget,
}

/// "At most `limit` calls in any `window_ms`": a sliding window, so that no fixed window of the
/// same length on Discord's side (whatever its phase) sees more than `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// Calls allowed per window.
    pub limit: u32,
    /// The window, safety margin included, in milliseconds.
    pub window_ms: u64,
}

/// The per-IP invalid-request budget: 10,000 invalid requests, i.e. 401, 403 and non-`shared`
/// 429 answers, per 10 minutes per IP
/// ([Discord: Invalid Request Limit](https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBudget {
    /// Calls are refused locally once this many invalid answers were seen in the window.
    pub fail_at: u32,
    /// The window in milliseconds.
    pub window_ms: u64,
}

/// The store's answer to [`RateLimitStore::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Send now; the slot is taken.
    Go,
    /// Nothing was taken; ask again at `at_ms` (Unix milliseconds).
    WaitUntil {
        /// When to ask again.
        at_ms: u64,
        /// Whether a global limit (rather than a route bucket) is the reason.
        global: bool,
    },
    /// Do not send this call.
    Deny(Denial),
}

/// Why a call is refused locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// Discord rejected this Bearer token (401); it is never sent again.
    DeadToken,
    /// Discord rejected the bot token (401); bot calls are refused for a cool-down.
    BotUnauthorized,
    /// The per-IP invalid-request budget is nearly spent.
    InvalidBudget,
}

/// A refusal, with how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    /// Why.
    pub reason: DenyReason,
    /// How long until the call could be allowed, in milliseconds.
    pub retry_after_ms: u64,
}

/// What an answer taught, computed by the limiter from the status and `X-RateLimit-*` headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketUpdate {
    /// The HTTP status.
    pub status: u16,
    /// `X-RateLimit-Bucket`.
    pub bucket: Option<String>,
    /// `X-RateLimit-Limit`.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// When the bucket resets, in Unix milliseconds (from `X-RateLimit-Reset-After`, else
    /// `X-RateLimit-Reset`).
    pub reset_at_ms: Option<u64>,
    /// For a 429: when the limit lifts, in Unix milliseconds.
    pub retry_at_ms: Option<u64>,
    /// For a 429: `X-RateLimit-Global: true` (or scope `global`).
    pub global: bool,
    /// For a 429: `X-RateLimit-Scope`.
    pub scope: Option<RateLimitScope>,
    /// Counts against the per-IP invalid-request budget (401, 403, non-`shared` 429).
    pub invalid: bool,
    /// A Bearer token Discord rejected: mark it dead until this time (Unix ms).
    pub dead_token_until_ms: Option<u64>,
    /// The bot token was rejected: refuse bot calls until this time (Unix ms).
    pub bot_blocked_until_ms: Option<u64>,
}

impl BucketUpdate {
    /// Whether the answer carried route bucket headers.
    #[must_use]
    pub fn has_bucket_info(&self) -> bool {
        self.bucket.is_some() || self.limit.is_some() || self.remaining.is_some()
    }
}

/// The shared rate-limit state.
///
/// Both methods must be atomic with respect to each other (one mutex, one Lua script). `now_ms`
/// is the caller's Unix time in milliseconds.
pub trait RateLimitStore: Send + Sync + fmt::Debug + 'static {
    /// Decides whether a call may be sent now. Takes a slot (route bucket, global window) only
    /// when the answer is [`Reservation::Go`].
    fn reserve<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<Reservation, LimitError>>;

    /// Records what an answer to `req` taught.
    fn observe<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        update: &'a BucketUpdate,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<(), LimitError>>;
}

/// How long a first ("probe") call of a route whose bucket is unknown holds the route before
/// another call may probe (covers a probe that never gets an answer).
pub(super) const PROBE_LEASE_MS: u64 = 1_000;
/// While a probe is in flight, others ask again this often.
pub(super) const PROBE_POLL_MS: u64 = 10;
/// Sub-windows of the invalid-request counter.
const INVALID_SLOTS: usize = 10;

#[derive(Debug, Clone, Default)]
struct Bucket {
    known: bool,
    limit: u32,
    remaining: u32,
    reset_at: u64,
    window_ms: u64,
    probe_until: u64,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Global {
    blocked_until: u64,
    log: VecDeque<u64>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct State {
    /// route key -> bucket hash (`None`: the route sends no rate-limit headers).
    routes: HashMap<String, Option<String>>,
    /// `identity|hash|major` (or `identity|route|major` before the hash is known) -> bucket.
    buckets: HashMap<String, Bucket>,
    /// `hash|major` -> blocked until (429 with scope `shared`: the resource, for everyone).
    shared: HashMap<String, u64>,
    /// identity -> global gate.
    globals: HashMap<String, Global>,
    /// token fingerprint -> dead until.
    dead: HashMap<u64, u64>,
    bot_blocked_until: u64,
    /// (slot start, count) ring of the invalid-request counter.
    invalid: [(u64, u32); INVALID_SLOTS],
    next_sweep: u64,
}

impl State {
    /// Steps 1 and 2 of a reservation: calls refused outright.
    ///
    /// 1. Tokens Discord already rejected never reach it again (stop using a token once it is
    ///    invalid: https://discord.com/developers/docs/topics/rate-limits#invalid-request-limit-aka-cloudflare-bans);
    ///    they do not touch the budget. The same for the bot token during its cool-down.
    /// 2. The per-IP invalid-request budget.
    fn denial(&self, req: &StoreRequest<'_>, now: u64) -> Option<Denial> {
        if let Some(fp) = req.token
            && let Some(&until) = self.dead.get(&fp)
            && until > now
        {
            return Some(Denial {
                reason: DenyReason::DeadToken,
                retry_after_ms: until - now,
            });
        }
        if req.identity == "b" && self.bot_blocked_until > now {
            return Some(Denial {
                reason: DenyReason::BotUnauthorized,
                retry_after_ms: self.bot_blocked_until - now,
            });
        }
        let budget = req.invalid_budget;
        let slot_ms = (budget.window_ms / INVALID_SLOTS as u64).max(1);
        let mut count = 0u32;
        let mut oldest = u64::MAX;
        for &(start, n) in &self.invalid {
            if n > 0 && start.saturating_add(budget.window_ms) > now {
                count = count.saturating_add(n);
                oldest = oldest.min(start);
            }
        }
        (count >= budget.fail_at).then(|| {
            let until = oldest
                .saturating_add(budget.window_ms)
                .max(now + slot_ms.min(1_000));
            Denial {
                reason: DenyReason::InvalidBudget,
                retry_after_ms: until - now,
            }
        })
    }

    /// Step 3: every gate checked without taking anything. Returns the route's bucket key (and
    /// whether it is a probe of an unknown bucket), the time to wait until (`<= now`: none)
    /// and whether a global limit is the reason.
    fn gates(&self, req: &StoreRequest<'_>, now: u64) -> (Option<(String, bool)>, u64, bool) {
        let mut wait = 0u64;
        let mut global = false;
        let mut later = |at: u64, is_global: bool| {
            if at > now && at > wait {
                wait = at;
                global = is_global;
            }
        };
        if let Some(g) = self.globals.get(req.identity) {
            later(g.blocked_until, true);
            if let Some(limit) = req.global
                && g.log.len() >= limit.limit as usize
                && let Some(&front) = g.log.front()
            {
                later(front.saturating_add(limit.window_ms), true);
            }
        }
        let key = match self.routes.get(req.route) {
            None => Some((bucket_key(req.identity, req.route, req.major), true)),
            Some(None) => None,
            Some(Some(h)) => {
                if (!req.major.is_empty() || !h.is_empty())
                    && let Some(&until) = self.shared.get(&format!("{h}|{}", req.major))
                {
                    later(until, false);
                }
                Some((bucket_key(req.identity, h, req.major), false))
            }
        };
        if let Some((k, probing)) = &key
            && let Some(b) = self.buckets.get(k)
        {
            if *probing && !b.known {
                if b.probe_until > now {
                    later(b.probe_until.min(now + PROBE_POLL_MS), false);
                }
            } else if b.known && b.remaining == 0 {
                later(b.reset_at, false);
            }
        }
        (key, wait, global)
    }

    /// What an answer says of the token, the bot and the invalid-request budget.
    fn note_marks(&mut self, req: &StoreRequest<'_>, u: &BucketUpdate, now: u64) {
        if let (Some(fp), Some(until)) = (req.token, u.dead_token_until_ms) {
            self.dead.insert(fp, until);
        }
        if let Some(until) = u.bot_blocked_until_ms {
            self.bot_blocked_until = self.bot_blocked_until.max(until);
        }
        if u.invalid {
            let window = req.invalid_budget.window_ms.max(INVALID_SLOTS as u64);
            let slot_ms = window / INVALID_SLOTS as u64;
            let start = now - now % slot_ms;
            let idx = usize::try_from((now / slot_ms) % INVALID_SLOTS as u64).unwrap_or(0);
            let slot = &mut self.invalid[idx];
            if slot.0 == start {
                slot.1 = slot.1.saturating_add(1);
            } else {
                *slot = (start, 1);
            }
        }
    }

    /// Learns the route's bucket from the answer; returns the bucket's hash (the route key
    /// itself when Discord sent limits but no hash), `None` for a route without limits.
    fn learn_route(&mut self, req: &StoreRequest<'_>, u: &BucketUpdate) -> Option<String> {
        let hash: Option<String> = if let Some(h) = &u.bucket {
            Some(h.clone())
        } else if u.has_bucket_info() {
            Some(req.route.to_owned())
        } else {
            match self.routes.get(req.route) {
                Some(known) => known.clone(),
                None if u.status != 429 => None,
                None => Some(req.route.to_owned()),
            }
        };
        if u.has_bucket_info() || !self.routes.contains_key(req.route) {
            if self.routes.len() >= 4_096 && !self.routes.contains_key(req.route) {
                self.routes.clear(); // templates are bounded; this only guards odd paths
            }
            self.routes.insert(req.route.to_owned(), hash.clone());
        }
        // The probe entry keyed on the route is no longer needed.
        if hash.as_deref() != Some(req.route) {
            self.buckets
                .remove(&bucket_key(req.identity, req.route, req.major));
        }
        hash
    }

    /// A 429's global or shared block. Returns whether it was global (then no bucket learns
    /// from it).
    fn note_429(
        &mut self,
        req: &StoreRequest<'_>,
        u: &BucketUpdate,
        hash: Option<&str>,
        now: u64,
    ) -> bool {
        let until = u.retry_at_ms.unwrap_or(now + 1_000);
        if u.global || u.scope == Some(RateLimitScope::Global) {
            let g = self.globals.entry(req.identity.to_owned()).or_default();
            g.blocked_until = g.blocked_until.max(until);
            g.last_used = now;
            return true;
        }
        if u.scope == Some(RateLimitScope::Shared) {
            let h = hash.unwrap_or(req.route);
            let e = self.shared.entry(format!("{h}|{}", req.major)).or_insert(0);
            *e = (*e).max(until);
        }
        false
    }

    /// The bucket `hash` learns the answer's limits (and, on a non-shared 429, is spent until
    /// the retry time).
    fn update_bucket(&mut self, req: &StoreRequest<'_>, u: &BucketUpdate, hash: &str, now: u64) {
        let b = self
            .buckets
            .entry(bucket_key(req.identity, hash, req.major))
            .or_default();
        b.last_used = now;
        if let (Some(limit), Some(remaining), Some(reset_at)) =
            (u.limit, u.remaining, u.reset_at_ms)
        {
            b.window_ms = b.window_ms.max(reset_at.saturating_sub(now));
            if !b.known || now >= b.reset_at {
                b.remaining = remaining;
                b.reset_at = reset_at;
            } else {
                b.remaining = b.remaining.min(remaining);
                b.reset_at = b.reset_at.max(reset_at);
            }
            b.limit = limit.max(1);
            b.known = true;
        }
        if u.status == 429 && u.scope != Some(RateLimitScope::Shared) {
            let until = u.retry_at_ms.unwrap_or(now + 1_000);
            if !b.known {
                b.known = true;
                b.limit = b.limit.max(1);
            }
            b.remaining = 0;
            b.reset_at = b.reset_at.max(until);
            b.window_ms = b.window_ms.max(until.saturating_sub(now));
        }
    }

    /// Step 4: the slots taken (the route bucket, the global window).
    fn take(&mut self, req: &StoreRequest<'_>, key: Option<(String, bool)>, now: u64) {
        if let Some((k, probing)) = key {
            let b = self.buckets.entry(k).or_default();
            b.last_used = now;
            if b.known {
                if now >= b.reset_at {
                    b.remaining = b.limit;
                    b.reset_at = now.saturating_add(b.window_ms.max(1));
                }
                b.remaining = b.remaining.saturating_sub(1);
            } else if probing {
                b.probe_until = now + PROBE_LEASE_MS;
            }
        }
        if let Some(limit) = req.global {
            let g = self.globals.entry(req.identity.to_owned()).or_default();
            while g.log.len() >= limit.limit.max(1) as usize {
                g.log.pop_front();
            }
            g.log.push_back(now);
            g.last_used = now;
        }
    }
}

/// The in-memory [`RateLimitStore`]: the default, for one process.
///
/// Idle state is evicted: a bucket untouched for [`MemoryStore::with_idle_ttl`] (default 60 s)
/// after its reset, expired blocks and dead-token marks are swept at most every few seconds, so
/// memory is bounded by recent activity, not by the number of users ever seen.
pub struct MemoryStore {
    state: Mutex<State>,
    idle_ttl_ms: u64,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

fn bucket_key(identity: &str, hash: &str, major: &str) -> String {
    let mut k = String::with_capacity(identity.len() + hash.len() + major.len() + 2);
    k.push_str(identity);
    k.push('|');
    k.push_str(hash);
    k.push('|');
    k.push_str(major);
    k
}

impl MemoryStore {
    /// An empty store with the default idle time-to-live (60 s).
    #[must_use]
    pub fn new() -> Self {
        Self::with_idle_ttl(Duration::from_secs(60))
    }

    /// An empty store whose idle buckets are evicted `ttl` after they were last used or reset.
    #[must_use]
    pub fn with_idle_ttl(ttl: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            idle_ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many per-identity entries (buckets, shared blocks, global gates, dead tokens) are held.
    #[must_use]
    pub fn len(&self) -> usize {
        let s = self.lock();
        s.buckets.len() + s.shared.len() + s.globals.len() + s.dead.len()
    }

    /// Whether no entry is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evicts idle and expired entries now (also done automatically every few seconds).
    pub fn sweep(&self, now_ms: u64) {
        let mut s = self.lock();
        self.sweep_locked(&mut s, now_ms);
    }

    fn sweep_locked(&self, s: &mut State, now: u64) {
        let ttl = self.idle_ttl_ms;
        s.buckets.retain(|_, b| {
            b.last_used
                .max(b.reset_at)
                .max(b.probe_until)
                .saturating_add(ttl)
                > now
        });
        s.shared.retain(|_, until| *until > now);
        s.globals.retain(|_, g| {
            let last = g.log.back().copied().unwrap_or(0).max(g.last_used);
            g.blocked_until > now || last.saturating_add(ttl) > now
        });
        s.dead.retain(|_, until| *until > now);
        s.next_sweep = now.saturating_add((ttl / 4).clamp(1, 5_000));
    }

    /// The synchronous decision (see [`RateLimitStore::reserve`]).
    pub fn reserve_now(&self, req: &StoreRequest<'_>, now: u64) -> Reservation {
        let mut guard = self.lock();
        let s = &mut *guard;
        if now >= s.next_sweep {
            self.sweep_locked(s, now);
        }
        if let Some(denial) = s.denial(req, now) {
            return Reservation::Deny(denial);
        }
        let (key, wait, global) = s.gates(req, now);
        if wait > now {
            return Reservation::WaitUntil {
                at_ms: wait,
                global,
            };
        }
        s.take(req, key, now);
        Reservation::Go
    }

    /// The synchronous update (see [`RateLimitStore::observe`]).
    pub fn observe_now(&self, req: &StoreRequest<'_>, u: &BucketUpdate, now: u64) {
        let mut guard = self.lock();
        let s = &mut *guard;
        s.note_marks(req, u, now);
        let hash = s.learn_route(req, u);
        if u.status == 429 && s.note_429(req, u, hash.as_deref(), now) {
            return;
        }
        if let Some(h) = hash {
            s.update_bucket(req, u, &h, now);
        }
    }
}

impl RateLimitStore for MemoryStore {
    fn reserve<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<Reservation, LimitError>> {
        Box::pin(std::future::ready(Ok(self.reserve_now(req, now_ms))))
    }

    fn observe<'a>(
        &'a self,
        req: &'a StoreRequest<'a>,
        update: &'a BucketUpdate,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<(), LimitError>> {
        self.observe_now(req, update, now_ms);
        Box::pin(std::future::ready(Ok(())))
    }
}
