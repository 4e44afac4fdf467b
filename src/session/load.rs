//! Loading a session from its cookie, keeping it alive (idle touch) and saving it: the only
//! place that decides what the session cookie carries — the sealed record when sessions live in
//! the cookie, the sealed session id with a [`TokenStore`](crate::store::TokenStore).

use std::sync::Arc;

use super::cookie::Purpose;
use super::opened::Payload;
use super::{DiscordSession, Storage};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord, StoreError, decode_record, encode_record};

impl DiscordSession {
    /// The hot path: a remembered cookie whose record needs nothing done (no expiry, no
    /// revocation, no rotation, no idle touch, no key rotation). `None` when the full
    /// [`load_record`](Self::load_record) must decide.
    pub(super) async fn load_remembered(&self) -> Result<Option<Arc<SessionRecord>>, Error> {
        let Some(raw) = self.session_cookie() else {
            return Ok(None);
        };
        let sessions = self.sessions();
        let record = match sessions.opened.get(raw) {
            Some((Payload::Record(record), false)) => record,
            // A store's record, verified moments ago (see `verified`).
            Some((Payload::Id(id), false)) => match sessions.verified.record(&id) {
                Some(record) => record,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let now = self.now();
        if self.expired(&record, now)
            || self.touch_due(&record, now)
            || sessions.refresh.rotated(&record, now).is_some()
        {
            return Ok(None);
        }
        let list = &sessions.revocations;
        let by_id = list.is_revoked_now(&record.id, now);
        let by_user = match record.user_id {
            Some(user) => list.is_user_revoked_now(user, record.created_at, now),
            None => Some(false),
        };
        let revoked = match (by_id, by_user) {
            (Some(true), _) | (_, Some(true)) => true,
            (Some(false), Some(false)) => false,
            _ if sessions.verified.fresh(&record.id) => false,
            _ => {
                let started = std::time::Instant::now();
                let revoked = self.is_ended(&record, now).await?;
                if !revoked {
                    sessions.verified.note(record.id, None, started);
                }
                revoked
            }
        };
        Ok((!revoked).then_some(record))
    }

    /// Whether Discord refused this cookie's refresh token (`invalid_grant`): with sessions in
    /// cookies, each cookie carries its own pair, so a stale copy is refused alone (by its
    /// refresh token) while the session id, and the browser's current cookie, stay valid.
    async fn refresh_token_dead(&self, record: &SessionRecord, now: u64) -> Result<bool, Error> {
        let sessions = self.sessions();
        match (&sessions.storage, &record.refresh_token) {
            (Storage::Cookie, Some(rt)) => {
                let id = dead_token_id(rt);
                Ok(sessions.revocations.is_revoked(&id, now).await?)
            }
            _ => Ok(false),
        }
    }

    /// Records that Discord refused `rt` (see [`refresh_token_dead`](Self::refresh_token_dead)),
    /// until the session's absolute end.
    pub(super) async fn mark_refresh_token_dead(
        &self,
        rt: &crate::vocab::secret::RefreshToken,
        record: &SessionRecord,
    ) {
        let until = record
            .created_at
            .saturating_add(self.policy().absolute_lifetime);
        if let Err(e) = self
            .sessions()
            .revocations
            .revoke(&dead_token_id(rt), until)
            .await
        {
            tracing::warn!(error = %e, "could not record a refused refresh token");
        }
    }

    /// Whether the session was revoked: by its id (a logout), or by its user (a
    /// deauthorization of the application, which covers every session created until then).
    /// Answers without waiting when the revocation list can.
    async fn is_ended(&self, record: &SessionRecord, now: u64) -> Result<bool, Error> {
        let list = &self.sessions().revocations;
        let by_id = match list.is_revoked_now(&record.id, now) {
            Some(known) => known,
            None => list.is_revoked(&record.id, now).await?,
        };
        if by_id {
            return Ok(true);
        }
        let Some(user) = record.user_id else {
            return Ok(false);
        };
        Ok(
            match list.is_user_revoked_now(user, record.created_at, now) {
                Some(known) => known,
                None => list.is_user_revoked(user, record.created_at, now).await?,
            },
        )
    }

    /// Opens the session cookie (or finds it remembered) and loads its live, non-revoked record.
    pub(super) async fn load_record(&self) -> Result<Option<Arc<SessionRecord>>, Error> {
        let Some(raw) = self.session_cookie() else {
            return Ok(None);
        };
        let sessions = self.sessions();
        let name = &sessions.policy.session_cookie;
        // The recheck interval counts from here, before the store is asked.
        let started = std::time::Instant::now();
        let Some((payload, old_key)) = self.open_session_cookie(raw) else {
            tracing::debug!("ignoring an undecryptable session cookie");
            self.clear_cookie(name);
            return Ok(None);
        };
        let record = match payload {
            Payload::Record(record) => record,
            Payload::Id(id) => match self.stored(&id).await? {
                Some(record) => Arc::new(record),
                None => {
                    self.clear_cookie(name);
                    return Ok(None);
                }
            },
        };
        let now = self.now();
        if self.expired(&record, now)
            || self.is_ended(&record, now).await?
            || self.refresh_token_dead(&record, now).await?
        {
            self.clear_cookie(name);
            return Ok(None);
        }
        match &sessions.storage {
            Storage::Server(store) if store.is_shared() => {
                let found = Some(Arc::clone(&record));
                sessions.verified.note(record.id, found, started);
            }
            Storage::Server(_) => {}
            Storage::Cookie => sessions.verified.note(record.id, None, started),
        }
        // A request that still carries the pre-rotation cookie gets the rotated pair.
        if let Some(newer) = sessions.refresh.rotated(&record, now) {
            self.persist_cookie(&newer);
            return Ok(Some(Arc::new(newer)));
        }
        if old_key || self.touch_due(&record, now) {
            return self.touch(record, now).await.map(Some);
        }
        Ok(Some(record))
    }

    /// What the session cookie carries, from the remembered cookies or by opening it (then
    /// remembered). `None` for anything forged, undecodable or sealed with an unknown key.
    pub(super) fn open_session_cookie(&self, raw: &str) -> Option<(Payload, bool)> {
        let sessions = self.sessions();
        if let Some(found) = sessions.opened.get(raw) {
            return Some(found);
        }
        let name = &sessions.policy.session_cookie;
        let (bytes, old_key) = sessions.keys.open(Purpose::Session, name, raw)?;
        let payload = match &sessions.storage {
            Storage::Cookie => Payload::Record(Arc::new(decode_record(&bytes).ok()?)),
            Storage::Server(_) => Payload::Id(SessionId(<[u8; 16]>::try_from(&bytes[..]).ok()?)),
        };
        sessions.opened.insert(raw, payload.clone(), old_key);
        Some((payload, old_key))
    }

    /// The stored record of `id`; an undecodable one counts as absent.
    async fn stored(&self, id: &SessionId) -> Result<Option<SessionRecord>, Error> {
        let Storage::Server(store) = &self.sessions().storage else {
            return Ok(None);
        };
        match store.load(id).await {
            Ok(found) => Ok(found),
            Err(StoreError::Decode) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `seen_at` is old enough to be moved forward: coarse, so the hot path does not
    /// re-encrypt on every request, but fine enough for a short idle lifetime (a session used
    /// more often than its idle lifetime never lapses).
    fn touch_due(&self, record: &SessionRecord, now: u64) -> bool {
        let touch_every = (self.policy().idle_lifetime / 4).min(3600);
        now.saturating_sub(record.seen_at) > touch_every
    }

    /// Whether the session passed its absolute or idle lifetime at `now`.
    fn expired(&self, record: &SessionRecord, now: u64) -> bool {
        let policy = self.policy();
        record.created_at.saturating_add(policy.absolute_lifetime) <= now
            || record.seen_at.saturating_add(policy.idle_lifetime) <= now
    }

    /// Moves `seen_at` forward (and re-seals the cookie with the current key).
    async fn touch(
        &self,
        record: Arc<SessionRecord>,
        now: u64,
    ) -> Result<Arc<SessionRecord>, Error> {
        let mut touched = (*record).clone();
        touched.seen_at = now;
        // Called while the handle's record is being loaded: save directly, not through
        // `try_save_record`, which would update the handle.
        if let Storage::Server(store) = &self.sessions().storage {
            touched.version += 1;
            match store
                .save(&touched, Some(record.version), self.ttl(&touched))
                .await
            {
                Ok(()) => self.sessions().verified.forget(&touched.id),
                // Someone else saved meanwhile (a refresh): keep what we loaded.
                Err(StoreError::Conflict) => return Ok(record),
                Err(e) => return Err(e.into()),
            }
        }
        self.persist_cookie(&touched);
        Ok(Arc::new(touched))
    }

    /// Seconds the record may still live: the sooner of its absolute and idle expiry.
    pub(super) fn ttl(&self, record: &SessionRecord) -> u64 {
        let policy = self.policy();
        (record.created_at.saturating_add(policy.absolute_lifetime))
            .min(record.seen_at.saturating_add(policy.idle_lifetime))
            .saturating_sub(self.now())
    }

    /// Writes the session cookie for `record`: the sealed record itself, or its sealed id.
    pub(super) fn persist_cookie(&self, record: &SessionRecord) {
        let sessions = self.sessions();
        let payload = match &sessions.storage {
            Storage::Cookie => encode_record(record),
            Storage::Server(_) => record.id.0.to_vec(),
        };
        let name = &sessions.policy.session_cookie;
        let sealed = sessions.keys.seal(Purpose::Session, name, &payload);
        self.push_cookie(name, &sealed, self.ttl(record));
    }

    /// Saves a new or changed record (compare-and-swap on `expected` with a store), then writes
    /// the cookie and updates this handle.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails or the record changed concurrently.
    pub(super) async fn save_record(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> Result<(), Error> {
        if self.try_save_record(record, expected).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict.into())
        }
    }

    /// [`save_record`](Self::save_record), with `Ok(false)` when the stored version moved on.
    pub(super) async fn try_save_record(
        &self,
        record: &SessionRecord,
        expected: Option<u64>,
    ) -> Result<bool, Error> {
        if let Storage::Server(store) = &self.sessions().storage {
            match store.save(record, expected, self.ttl(record)).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => return Ok(false),
                Err(other) => return Err(other.into()),
            }
        }
        self.persist_cookie(record);
        self.set_loaded(Some(record));
        self.sessions().verified.forget(&record.id);
        Ok(true)
    }

    /// The stored version of this session (a store), or `stale` itself (the cookie).
    pub(super) async fn reload(
        &self,
        stale: &SessionRecord,
    ) -> Result<Option<SessionRecord>, Error> {
        match &self.sessions().storage {
            Storage::Cookie => Ok(Some(stale.clone())),
            Storage::Server(store) => Ok(store.load(&stale.id).await?),
        }
    }
}

/// The revocation-list entry of a refused refresh token: its fingerprint, in the id space of the
/// list (random session ids and SHA-256 fingerprints do not collide in practice).
fn dead_token_id(rt: &crate::vocab::secret::RefreshToken) -> SessionId {
    SessionId(*crate::vocab::secret::Fingerprint::of(rt.secret()).as_bytes())
}
