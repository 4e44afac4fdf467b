//! Token refresh: ahead of expiry and once on a stale-token answer, one refresh at a time per
//! session, safe with Discord's rotating refresh tokens
//! ([Discord: Refresh Token Exchange](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-refresh-token-exchange-example)),
//! and the one refresh-and-retry path every call made with the user's token goes through.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::{DiscordSession, Storage, lock};
use crate::error::Error;
use crate::http::{Auth, Call, Response};
use crate::oauth::{self, TokenResponse};
use crate::ratelimit::Identity;
use crate::store::{SessionId, SessionRecord, StoreError};
use crate::vocab::secret::{Fingerprint, RefreshToken};

mod shared;

/// How long a rotated pair is handed to requests carrying the old cookie.
const ROTATION_GRACE_SECS: u64 = 120;

/// How many times a refreshed pair is re-applied on top of concurrent saves before giving up.
const SAVE_ATTEMPTS: usize = 8;

/// Coordination of refreshes across concurrent requests of one process.
#[derive(Debug, Default)]
pub(super) struct RefreshCoordinator {
    locks: Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<()>>>>,
    /// Old refresh token fingerprint → the record that replaced it, for requests that still
    /// carry the pre-rotation cookie (Discord rotates refresh tokens).
    rotations: Mutex<HashMap<Fingerprint, (SessionRecord, u64)>>,
}

impl RefreshCoordinator {
    fn lock_for(&self, id: SessionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = lock(&self.locks);
        map.retain(|_, l| Arc::strong_count(l) > 1);
        map.entry(id).or_default().clone()
    }

    /// The record that replaced `record`'s refresh token, within the grace period. The map is
    /// empty but right after refreshes, so the common case costs one lock and no hash.
    pub(super) fn rotated(&self, record: &SessionRecord, now: u64) -> Option<SessionRecord> {
        let old = record.refresh_token.as_ref()?;
        let map = lock(&self.rotations);
        if map.is_empty() {
            return None;
        }
        map.get(&Fingerprint::of(old.secret()))
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone())
    }

    fn remember(&self, old: &RefreshToken, new: SessionRecord, now: u64) {
        let mut map = lock(&self.rotations);
        map.retain(|_, (_, exp)| *exp > now);
        map.insert(
            Fingerprint::of(old.secret()),
            (new, now.saturating_add(ROTATION_GRACE_SECS)),
        );
    }
}

/// What [`DiscordSession::newer_than`] found.
enum Newer {
    /// The pair that replaced the stale one.
    Found(SessionRecord),
    /// Nothing: the current record, to refresh.
    Base(SessionRecord),
}

/// A new record from a token grant: a login (`base = None`) or a refresh of `base`.
pub(super) fn record_from_grant(
    token: TokenResponse,
    base: Option<&SessionRecord>,
    now: u64,
) -> SessionRecord {
    let granted = token.scopes();
    let expires_at = token.expires_at(now);
    let scopes = match base {
        Some(b) if granted.is_empty() => b.scopes.clone(),
        _ => granted,
    };
    SessionRecord {
        id: base.map_or_else(SessionId::random, |b| b.id),
        version: base.map_or(1, |b| b.version + 1),
        access_token: token.access_token,
        refresh_token: token
            .refresh_token
            .or_else(|| base.and_then(|b| b.refresh_token.clone())),
        scopes,
        user_id: base.and_then(|b| b.user_id),
        expires_at,
        created_at: base.map_or(now, |b| b.created_at),
        seen_at: now,
    }
}

/// Whether an answer means the user's token went stale: 401 to a Bearer call, or 50025
/// ("Invalid OAuth2 access token") where the token travels in a bot call's body
/// ([Discord: JSON Error Codes](https://discord.com/developers/docs/topics/opcodes-and-status-codes#json)).
fn stale_token(e: &Error) -> bool {
    matches!(e, Error::Unauthorized) || e.api_code() == Some(50025)
}

/// The limiter identity of a session's calls: the user id once known, so a token rotation
/// keeps the learned buckets.
fn identity_of(record: &SessionRecord) -> Identity {
    match record.user_id {
        Some(id) => Identity::User(id),
        None => Identity::Token(Fingerprint::of(record.access_token.secret()).short()),
    }
}

impl DiscordSession {
    /// Sends a call with the user's Bearer token: its scope checked locally first (a call to a
    /// route whose scope was not granted would get a 401 that looks like an expired token and
    /// burn a refresh), then through [`with_user_token`](Self::with_user_token).
    pub(crate) async fn send_as_user(&self, call: Call) -> Result<Response, Error> {
        let record = match call.route.required_scope() {
            Some(scope) => self.require_scope(scope).await?,
            None => self.require_record().await?,
        };
        let http = self.sessions().http();
        self.with_user_token(record, |record, fresh| {
            let mut attempt = call.clone();
            attempt.identity = identity_of(&record);
            attempt.actor = record.user_id;
            attempt.fresh_token = fresh;
            async move { http.send(attempt, Auth::Bearer(&record.access_token)).await }
        })
        .await
    }

    /// Runs `attempt` with the session's token: refreshed first when it is due, refreshed once
    /// more (and `attempt` run again) when the answer says the token went stale. The session
    /// ends only when Discord says the grant is gone. `attempt` gets the record and whether its
    /// token was just issued by a refresh.
    pub(crate) async fn with_user_token<T, F, Fut>(
        &self,
        record: SessionRecord,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(SessionRecord, bool) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let (mut record, mut refreshed) = self.refreshed_if_due(record).await?;
        loop {
            match attempt(record.clone(), refreshed).await {
                Err(e) if stale_token(&e) && !refreshed && record.refresh_token.is_some() => {
                    record = self.refresh(&record).await?;
                    refreshed = true;
                }
                // The refresh just succeeded, so the grant is alive: this route needs a scope
                // or access the authorization does not have. Keep the session.
                Err(Error::Unauthorized) if refreshed => return Err(Error::InsufficientAccess),
                Err(Error::Unauthorized) => {
                    // Rejected and not refreshable: the grant is gone.
                    self.end_locally(&record).await;
                    return Err(Error::Unauthorized);
                }
                other => return other,
            }
        }
    }

    /// Refreshes `record` ahead of its expiry (within the refresh margin); says whether it did.
    pub(crate) async fn refreshed_if_due(
        &self,
        record: SessionRecord,
    ) -> Result<(SessionRecord, bool), Error> {
        if record.expires_at <= self.now().saturating_add(self.policy().refresh_margin) {
            Ok((self.refresh(&record).await?, true))
        } else {
            Ok((record, false))
        }
    }

    /// Refreshes the session's token pair; concurrent requests of one session share one
    /// refresh, and requests carrying the pre-rotation cookie get the new pair.
    async fn refresh(&self, stale: &SessionRecord) -> Result<SessionRecord, Error> {
        let span = tracing::info_span!(
            "discord.refresh",
            user = stale.user_id,
            error = tracing::field::Empty,
        );
        super::traced(span, self.refresh_in_span(stale)).await
    }

    /// [`refresh`](Self::refresh) inside its span.
    async fn refresh_in_span(&self, stale: &SessionRecord) -> Result<SessionRecord, Error> {
        use tracing::Instrument as _;
        let Some(rt) = stale.refresh_token.clone() else {
            self.end_locally(stale).await;
            return Err(Error::Unauthorized);
        };
        let sessions = Arc::clone(&self.inner.sessions);
        let lock = sessions.refresh.lock_for(stale.id);
        let _guard = lock.lock().await;
        if let Some(newer) = sessions.refresh.rotated(stale, self.now()) {
            self.persist_cookie(&newer);
            self.set_loaded(Some(&newer));
            return Ok(newer);
        }
        // Run to completion even when this request is dropped (its client went away): once
        // Discord has rotated the pair, the new pair must reach the store, the cookie and the
        // other processes, and a held lease must be given back.
        let this = self.clone();
        let stale = stale.clone();
        tokio::spawn(
            async move {
                // Other processes: one refresh at a time across all of them, and the pair one of
                // them already obtained.
                let sessions = Arc::clone(&this.inner.sessions);
                let lease = shared::Lease::take(&sessions, &stale.id).await;
                let result = this.refresh_leased(&stale, &rt).await;
                if let Some(lease) = lease {
                    lease.release().await;
                }
                result
            }
            .instrument(tracing::Span::current()),
        )
        .await
        .map_err(|_| Error::Internal("a token refresh task failed"))?
    }

    /// [`refresh`](Self::refresh) once this process (and, when shared, every process) lets
    /// only this request refresh the session.
    async fn refresh_leased(
        &self,
        stale: &SessionRecord,
        rt: &RefreshToken,
    ) -> Result<SessionRecord, Error> {
        let sessions = Arc::clone(&self.inner.sessions);
        let now = self.now();
        // Another request or process may have refreshed while we waited: the stored refresh
        // token tells (not the version: an idle touch bumps the version too), or, with
        // sessions in cookies, the pair it shared.
        let base = match self.newer_than(stale, rt, now).await? {
            Newer::Found(record) => return Ok(record),
            Newer::Base(base) => base,
        };
        match oauth::refresh(sessions.http(), rt).await {
            Ok(token) => {
                let record = record_from_grant(token, Some(&base), now);
                tracing::info!(user = record.user_id, "discord token refreshed");
                sessions.refresh.remember(rt, record.clone(), now);
                shared::remember(
                    &sessions,
                    rt,
                    &record,
                    now.saturating_add(ROTATION_GRACE_SECS),
                )
                .await;
                self.save_rotated(stale, base, record).await
            }
            Err(Error::OAuth { error, .. }) if error == "invalid_grant" => {
                // Another process may have won a race the lease could not prevent (its lease
                // ran out, the shared store failed): its pair is the answer, not a logout.
                if let Newer::Found(record) = self.newer_than(stale, rt, self.now()).await? {
                    return Ok(record);
                }
                match self.sessions().storage {
                    // The stored record still holds this refresh token: the grant is gone.
                    Storage::Server(_) => self.end_locally(stale).await,
                    // A cookie carries its own copy: this one may merely be stale (older than
                    // the rotation grace, or rotated elsewhere) while the browser's current
                    // cookie, with the same session id, holds the live pair. It fails alone;
                    // a grant that is really gone fails every cookie the same way.
                    Storage::Cookie => {
                        self.mark_refresh_token_dead(rt, stale).await;
                        self.drop_cookie();
                    }
                }
                Err(Error::Unauthorized)
            }
            Err(e) => Err(e),
        }
    }

    /// What replaced `stale`'s token pair, if anything did: the stored record with another
    /// refresh token, or the pair another process shared (then saved onto the stored record,
    /// in case that process could not save it). Otherwise the record to refresh.
    async fn newer_than(
        &self,
        stale: &SessionRecord,
        rt: &RefreshToken,
        now: u64,
    ) -> Result<Newer, Error> {
        let sessions = Arc::clone(&self.inner.sessions);
        let base = match self.reload(stale).await? {
            Some(current) if current.refresh_token != stale.refresh_token => {
                self.set_loaded(Some(&current));
                return Ok(Newer::Found(current));
            }
            Some(current) => current,
            None => {
                // Logged out meanwhile.
                self.end_locally(stale).await;
                return Err(Error::Unauthorized);
            }
        };
        match shared::rotated(&sessions, stale, now).await {
            Some(mut newer) => {
                sessions.refresh.remember(rt, newer.clone(), now);
                newer.version = base.version + 1;
                self.save_rotated(stale, base, newer)
                    .await
                    .map(Newer::Found)
            }
            None => Ok(Newer::Base(base)),
        }
    }

    /// Saves a refreshed record. Discord already rotated the pair: it must reach the store
    /// whatever raced us (an idle touch), so it is applied on top of the latest version until
    /// it sticks.
    async fn save_rotated(
        &self,
        stale: &SessionRecord,
        mut base: SessionRecord,
        mut record: SessionRecord,
    ) -> Result<SessionRecord, Error> {
        for _ in 0..SAVE_ATTEMPTS {
            if self.try_save_record(&record, Some(base.version)).await? {
                return Ok(record);
            }
            if matches!(self.sessions().storage, Storage::Cookie) {
                break;
            }
            match self.reload(stale).await? {
                Some(current) if current.refresh_token != stale.refresh_token => {
                    self.set_loaded(Some(&current));
                    return Ok(current);
                }
                Some(current) => {
                    record.version = current.version + 1;
                    base = current;
                }
                None => return Err(Error::Unauthorized),
            }
        }
        Err(StoreError::Conflict.into())
    }
}
