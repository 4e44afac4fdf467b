//! Loading a session from its cookie, keeping it alive (idle touch) and saving it: the only
//! place that decides what the session cookie carries — the sealed record when sessions live in
//! the cookie, the sealed session id with a [`TokenStore`](crate::store::TokenStore).

use super::cookie::Purpose;
use super::{DiscordSession, Storage};
use crate::error::Error;
use crate::store::{SessionId, SessionRecord, StoreError, decode_record, encode_record};

impl DiscordSession {
    /// Opens the session cookie and loads its live, non-revoked record.
    pub(super) async fn load_record(&self) -> Result<Option<SessionRecord>, Error> {
        let Some(raw) = self.inner.session_cookie.as_deref() else {
            return Ok(None);
        };
        let sessions = self.sessions();
        let name = &sessions.policy.session_cookie;
        let Some((payload, old_key)) = sessions.keys.open(Purpose::Session, name, raw) else {
            tracing::debug!("ignoring an undecryptable session cookie");
            self.clear_cookie(name);
            return Ok(None);
        };
        let Some(record) = self.record_of_payload(&payload).await? else {
            self.clear_cookie(name);
            return Ok(None);
        };
        let now = self.now();
        if self.expired(&record, now) || sessions.revocations.is_revoked(&record.id, now).await? {
            self.clear_cookie(name);
            return Ok(None);
        }
        // A request that still carries the pre-rotation cookie gets the rotated pair.
        if let Some(newer) = sessions.refresh.rotated(&record, now) {
            self.persist_cookie(&newer);
            return Ok(Some(newer));
        }
        self.touch_if_due(record, old_key, now).await
    }

    /// The record a cookie payload designates: the record itself, or the stored record of the
    /// id it carries. `None` for anything undecodable or unknown.
    async fn record_of_payload(&self, payload: &[u8]) -> Result<Option<SessionRecord>, Error> {
        match &self.sessions().storage {
            Storage::Cookie => Ok(decode_record(payload).ok()),
            Storage::Server(store) => {
                let Ok(id) = <[u8; 16]>::try_from(payload) else {
                    return Ok(None);
                };
                match store.load(&SessionId(id)).await {
                    Ok(found) => Ok(found),
                    Err(StoreError::Decode) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Whether the session passed its absolute or idle lifetime at `now`.
    fn expired(&self, record: &SessionRecord, now: u64) -> bool {
        let policy = self.policy();
        record.created_at + policy.absolute_lifetime <= now
            || record.seen_at + policy.idle_lifetime <= now
    }

    /// Moves `seen_at` forward when it is old enough (or the cookie was sealed with a previous
    /// key). Coarse, so the hot path does not re-encrypt on every request, but fine enough for a
    /// short idle lifetime: a session used more often than its idle lifetime never lapses.
    async fn touch_if_due(
        &self,
        record: SessionRecord,
        old_key: bool,
        now: u64,
    ) -> Result<Option<SessionRecord>, Error> {
        let touch_every = (self.policy().idle_lifetime / 4).min(3600);
        if !old_key && now.saturating_sub(record.seen_at) <= touch_every {
            return Ok(Some(record));
        }
        let mut touched = record.clone();
        touched.seen_at = now;
        // Called while the handle's record is being loaded: save directly, not through
        // `try_save_record`, which would update the handle.
        if let Storage::Server(store) = &self.sessions().storage {
            touched.version += 1;
            match store
                .save(&touched, Some(record.version), self.ttl(&touched))
                .await
            {
                Ok(()) => {}
                // Someone else saved meanwhile (a refresh): keep what we loaded.
                Err(StoreError::Conflict) => return Ok(Some(record)),
                Err(e) => return Err(e.into()),
            }
        }
        self.persist_cookie(&touched);
        Ok(Some(touched))
    }

    /// Seconds the record may still live: the sooner of its absolute and idle expiry.
    pub(super) fn ttl(&self, record: &SessionRecord) -> u64 {
        let policy = self.policy();
        (record.created_at + policy.absolute_lifetime)
            .min(record.seen_at + policy.idle_lifetime)
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
        self.set_loaded(Some(record)).await;
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
