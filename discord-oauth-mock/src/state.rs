//! Shared state: configuration, grants, tokens, codes, faults, windows and statistics, behind
//! one mutex, with the token rules (issue, rotate, revoke, expire, sweep).
//!
//! Must not import the HTTP side of the crate (`routes`, `mount`, `gate`, `api`, `oauth`, `rest`,
//! `cdn`, `control`, `server`); only `seed` and `util`.

use crate::seed::{SeedGuild, SeedUser};
use crate::util::{MAX_LIFETIME, random_token};
use crate::{Fault, RateLimitConfig, Stats};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Immutable configuration plus the mutable [`State`] behind one mutex.
pub(crate) struct Shared {
    pub client_id: u64,
    pub client_secret: String,
    pub bot_token: String,
    pub base_url: String,
    pub app_name: String,
    pub bot: SeedUser,
    pub seed_users: Vec<SeedUser>,
    pub seed_guilds: Vec<SeedGuild>,
    /// The application's Ed25519 key, signing webhook events.
    pub event_key: ed25519_dalek::SigningKey,
    pub state: Mutex<State>,
}

impl Shared {
    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A user by id: the bot, a seeded user, or the user generated from a snowflake
    /// ([`crate::seed::generated_user`], made on demand, never stored).
    pub fn user(&self, id: u64) -> Option<Cow<'_, SeedUser>> {
        if id == self.bot.id {
            return Some(Cow::Borrowed(&self.bot));
        }
        if let Some(u) = self.seed_users.iter().find(|u| u.id == id) {
            return Some(Cow::Borrowed(u));
        }
        crate::seed::is_generated_id(id).then(|| Cow::Owned(crate::seed::generated_user(id)))
    }

    /// Whether `id` may log in: a seeded or a generated user (not the bot).
    pub fn can_log_in(&self, id: u64) -> bool {
        id != self.bot.id && self.user(id).is_some()
    }
}

/// An authorization code waiting to be exchanged.
pub(crate) struct Code {
    pub user_id: u64,
    pub scopes: Vec<String>,
    /// The redirect URI the code was issued for (the token exchange must repeat it).
    pub redirect_uri: String,
    pub challenge: Option<String>,
    pub created: Instant,
    /// Bot flow: (guild, permissions).
    pub bot_guild: Option<(u64, u64)>,
    /// `webhook.incoming`: (guild, channel).
    pub webhook: Option<(u64, u64)>,
}

/// One authorization: what a user granted, and its live tokens.
pub(crate) struct Grant {
    pub user_id: u64,
    pub scopes: Vec<String>,
    pub access: Vec<String>,
    pub refresh: Option<String>,
}

/// A live access token.
#[derive(Clone)]
pub(crate) struct Access {
    pub grant: u64,
    pub user_id: u64,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
    pub expires_unix_ms: i64,
}

impl Access {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.expires_at
    }
}

/// A fixed rate-limit window.
#[derive(Clone, Copy)]
pub(crate) struct Window {
    /// When the window ends (its start plus its length, capped so it cannot overflow).
    pub end: Instant,
    pub count: u32,
}

impl Window {
    /// A window opening at `now`, lasting `len`.
    pub fn open(now: Instant, len: Duration) -> Window {
        Window {
            end: crate::util::deadline(now, len),
            count: 0,
        }
    }
}

/// Maps swept by an amortized pass never sweep below this many entries.
pub(crate) const SWEEP_MIN: usize = 1024;

/// Whether a map of `len` entries is due for a sweep: it has reached [`SWEEP_MIN`] and doubled
/// since the last sweep left `last` entries. Each sweep is O(len), so the cost per insert stays
/// O(1) amortized.
pub(crate) fn sweep_due(len: usize, last: usize) -> bool {
    len >= SWEEP_MIN.max(last.saturating_mul(2))
}

/// All mutable state.
pub(crate) struct State {
    pub redirect_uris: Vec<String>,
    pub auto_approve: Option<u64>,
    pub token_lifetime: Duration,
    pub code_lifetime: Duration,
    /// Public client: the secret may be omitted with PKCE and on refresh
    /// (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>).
    pub public_client: bool,
    /// At most this many authorizations are kept; the oldest are dropped beyond it.
    pub max_grants: usize,
    pub rate: RateLimitConfig,
    pub stats: Stats,
    pub codes: HashMap<String, Code>,
    /// `codes.len()` after the last sweep of expired codes.
    pub codes_swept_len: usize,
    pub access: HashMap<String, Access>,
    /// `access.len()` after the last sweep of expired access tokens.
    pub access_swept_len: usize,
    pub refresh: HashMap<String, u64>,
    pub grants: HashMap<u64, Grant>,
    pub next_grant: u64,
    pub faults: HashMap<String, VecDeque<(Fault, usize)>>,
    pub windows: HashMap<(String, String, u64), Window>,
    pub global_windows: HashMap<String, Window>,
    /// `global_windows.len()` after the last sweep.
    pub global_windows_swept_len: usize,
    /// `windows.len()` after the last sweep.
    pub windows_swept_len: usize,
    /// Amortized cleanup passes run (windows, codes, tokens), for [`crate::StoreSizes`].
    pub sweeps: u64,
    pub guilds: Vec<SeedGuild>,
    pub role_connections: HashMap<u64, Value>,
    pub role_metadata: Vec<Value>,
}

impl State {
    pub fn new(
        redirect_uris: Vec<String>,
        auto_approve: Option<u64>,
        token_lifetime: Duration,
        code_lifetime: Duration,
        rate: RateLimitConfig,
        guilds: Vec<SeedGuild>,
    ) -> State {
        State {
            redirect_uris,
            auto_approve,
            token_lifetime: token_lifetime.min(MAX_LIFETIME),
            code_lifetime: code_lifetime.min(MAX_LIFETIME),
            public_client: false,
            max_grants: crate::DEFAULT_MAX_AUTHORIZATIONS,
            rate,
            stats: Stats::default(),
            codes: HashMap::new(),
            codes_swept_len: 0,
            access: HashMap::new(),
            access_swept_len: 0,
            refresh: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            faults: HashMap::new(),
            windows: HashMap::new(),
            global_windows: HashMap::new(),
            global_windows_swept_len: 0,
            windows_swept_len: 0,
            sweeps: 0,
            guilds,
            role_connections: HashMap::new(),
            role_metadata: Vec::new(),
        }
    }

    /// Restores everything mutable except the configuration (redirect URIs, lifetimes, limits).
    pub fn reset(&mut self, seed_guilds: &[SeedGuild]) {
        self.stats = Stats::default();
        self.codes.clear();
        self.codes_swept_len = 0;
        self.access.clear();
        self.access_swept_len = 0;
        self.refresh.clear();
        self.grants.clear();
        self.faults.clear();
        self.windows.clear();
        self.global_windows.clear();
        self.global_windows_swept_len = 0;
        self.windows_swept_len = 0;
        self.guilds = seed_guilds.to_vec();
        self.role_connections.clear();
        self.role_metadata.clear();
    }

    /// Creates a grant and issues its first token pair. Returns (access, refresh).
    pub fn new_grant(
        &mut self,
        user_id: u64,
        scopes: Vec<String>,
        with_refresh: bool,
    ) -> (String, Option<String>) {
        if self.grants.len() >= self.max_grants.max(1) {
            self.evict_oldest_grants();
        }
        let id = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            id,
            Grant {
                user_id,
                scopes,
                access: vec![],
                refresh: None,
            },
        );
        self.issue(id, with_refresh)
    }

    /// Issues a fresh token pair for grant `id`, killing its previous tokens (rotation).
    pub fn issue(&mut self, id: u64, with_refresh: bool) -> (String, Option<String>) {
        let now = Instant::now();
        if sweep_due(self.access.len(), self.access_swept_len) {
            self.sweep_tokens(now, id);
        }
        let lifetime = self.token_lifetime.min(MAX_LIFETIME);
        let unix_ms = (crate::util::now_unix_f64() * 1000.0) as i64 + lifetime.as_millis() as i64;
        let Some(grant) = self.grants.get_mut(&id) else {
            return (String::new(), None);
        };
        for old in grant.access.drain(..) {
            self.access.remove(&old);
        }
        if let Some(old) = grant.refresh.take() {
            self.refresh.remove(&old);
        }
        let access = random_token(30);
        let refresh = with_refresh.then(|| random_token(30));
        grant.access.push(access.clone());
        grant.refresh = refresh.clone();
        self.access.insert(
            access.clone(),
            Access {
                grant: id,
                user_id: grant.user_id,
                scopes: grant.scopes.clone(),
                expires_at: crate::util::deadline(now, lifetime),
                expires_unix_ms: unix_ms,
            },
        );
        if let Some(r) = &refresh {
            self.refresh.insert(r.clone(), id);
        }
        self.stats.tokens_issued += 1;
        (access, refresh)
    }

    /// Drops expired access tokens, and the authorizations left with no live access token and no
    /// refresh token (implicit and client-credentials grants, whose tokens cannot come back).
    /// Called when the token map has doubled since the last sweep (amortized O(1) per token).
    /// Grant `keep` (the one being issued for) stays whatever its state.
    pub fn sweep_tokens(&mut self, now: Instant, keep: u64) {
        self.access.retain(|_, a| !a.expired(now));
        let access = &self.access;
        self.grants.retain(|id, g| {
            g.access.retain(|t| access.contains_key(t));
            *id == keep || g.refresh.is_some() || !g.access.is_empty()
        });
        self.access_swept_len = self.access.len();
        self.sweeps += 1;
    }

    /// Drops expired authorization codes when the code map has doubled since the last sweep.
    pub fn sweep_codes_if_due(&mut self) {
        if sweep_due(self.codes.len(), self.codes_swept_len) {
            let life = self.code_lifetime;
            self.codes.retain(|_, c| c.created.elapsed() < life);
            self.codes_swept_len = self.codes.len();
            self.sweeps += 1;
        }
    }

    /// At the authorization cap: drops the oldest authorizations (lowest ids) with their tokens,
    /// down to 7/8 of the cap, so that this O(n) pass runs once per cap/8 new authorizations.
    fn evict_oldest_grants(&mut self) {
        let cap = self.max_grants.max(1);
        let keep = cap - (cap / 8).max(1);
        let mut ids: Vec<u64> = self.grants.keys().copied().collect();
        if ids.len() <= keep {
            return;
        }
        let cut = ids.len() - keep;
        ids.select_nth_unstable(cut - 1);
        for id in &ids[..cut] {
            if let Some(g) = self.grants.remove(id) {
                for a in g.access {
                    self.access.remove(&a);
                }
                if let Some(r) = g.refresh {
                    self.refresh.remove(&r);
                }
            }
        }
        self.sweeps += 1;
    }

    /// Revokes every grant of `user_id` (Discord: revoking one token kills every access and
    /// refresh token of the app's authorization for that user,
    /// <https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example>).
    /// Returns the number of tokens killed.
    pub fn revoke_user(&mut self, user_id: u64) -> u64 {
        let ids: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.user_id == user_id)
            .map(|(id, _)| *id)
            .collect();
        let mut killed = 0;
        for id in ids {
            if let Some(g) = self.grants.remove(&id) {
                for a in g.access {
                    if self.access.remove(&a).is_some() {
                        killed += 1;
                    }
                }
                if let Some(r) = g.refresh
                    && self.refresh.remove(&r).is_some()
                {
                    killed += 1;
                }
            }
        }
        // Codes not yet exchanged die too.
        self.codes.retain(|_, c| c.user_id != user_id);
        if killed > 0 {
            self.stats.revocations += 1;
            self.stats.tokens_revoked += killed;
        }
        killed
    }

    /// Makes every access token of `user` (or of everyone) expired now; refresh tokens stay valid.
    pub fn expire_access(&mut self, user: Option<u64>) -> usize {
        let now = Instant::now();
        let unix_ms = (crate::util::now_unix_f64() * 1000.0) as i64;
        let mut n = 0;
        for a in self.access.values_mut() {
            if user.is_none_or(|u| u == a.user_id) {
                a.expires_at = now;
                a.expires_unix_ms = unix_ms;
                n += 1;
            }
        }
        n
    }

    /// Takes one use of a fault registered for `route` (or for `*`).
    pub fn take_fault(&mut self, route: &str) -> Option<Fault> {
        for key in [route, "*"] {
            if let Some(q) = self.faults.get_mut(key) {
                while let Some((fault, left)) = q.front_mut() {
                    if *left == 0 {
                        q.pop_front();
                        continue;
                    }
                    *left -= 1;
                    let f = fault.clone();
                    if *left == 0 {
                        q.pop_front();
                    }
                    if q.is_empty() {
                        self.faults.remove(key);
                    }
                    return Some(f);
                }
            }
        }
        None
    }

    /// Entry counts of the stores.
    pub fn store_sizes(&self) -> crate::StoreSizes {
        crate::StoreSizes {
            codes: self.codes.len(),
            access_tokens: self.access.len(),
            refresh_tokens: self.refresh.len(),
            authorizations: self.grants.len(),
            rate_limit_windows: self.windows.len(),
            sweeps: self.sweeps,
        }
    }

    /// A guild by id.
    pub fn guild(&self, id: u64) -> Option<&SeedGuild> {
        self.guilds.iter().find(|g| g.id == id)
    }
}
