//! Logging out: [`revoke`](DiscordSession::revoke) ends the grant at Discord too,
//! [`logout_local`](DiscordSession::logout_local) only this browser's session.

use super::DiscordSession;
use crate::cache::forget_authorization;
use crate::oauth;
use crate::store::SessionRecord;

impl DiscordSession {
    /// Logs out (Flask-Discord's `revoke`): clears the session locally and marks it revoked at
    /// once, then asks Discord to revoke the grant, best effort within a short timeout.
    ///
    /// Discord's revoke ends the user's authorization of this application **on every
    /// device**; use [`logout_local`](Self::logout_local) to end only this browser's session.
    /// Returns whether Discord confirmed the revoke; the local logout happens regardless.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) {
    /// let confirmed = session.revoke().await;
    /// # let _ = confirmed; }
    /// ```
    pub async fn revoke(&self) -> bool {
        use tracing::Instrument as _;
        let span = tracing::info_span!(
            "discord.logout",
            user = tracing::field::Empty,
            revoked = tracing::field::Empty,
        );
        self.revoke_in_span().instrument(span).await
    }

    /// [`revoke`](Self::revoke) inside its span.
    async fn revoke_in_span(&self) -> bool {
        let Some(record) = self.record().await.ok().flatten() else {
            self.clear_cookie(&self.policy().session_cookie);
            return false;
        };
        tracing::Span::current().record("user", record.user_id);
        self.end_locally(&record).await;
        let deadline =
            tokio::time::Instant::now() + self.policy().revoke_timeout.min(super::MAX_LIFETIME);
        let (token, hint) = match &record.refresh_token {
            Some(rt) => (rt.secret(), "refresh_token"),
            None => (record.access_token.secret(), "access_token"),
        };
        match oauth::revoke(self.sessions().http(), token, hint, deadline).await {
            Ok(()) => {
                tracing::Span::current().record("revoked", true);
                tracing::info!(
                    user = record.user_id,
                    "logged out; grant revoked at Discord"
                );
                true
            }
            Err(e) => {
                tracing::Span::current().record("revoked", false);
                tracing::warn!(error = %e, "revoking the grant at Discord failed; the local session is ended anyway");
                false
            }
        }
    }

    /// Ends this browser's session only; the Discord grant stays (other devices keep working).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) {
    /// session.logout_local().await;
    /// # }
    /// ```
    pub async fn logout_local(&self) {
        use tracing::Instrument as _;
        let span = tracing::info_span!("discord.logout", user = tracing::field::Empty);
        self.logout_local_in_span().instrument(span).await;
    }

    /// [`logout_local`](Self::logout_local) inside its span.
    async fn logout_local_in_span(&self) {
        if let Some(record) = self.record().await.ok().flatten() {
            tracing::Span::current().record("user", record.user_id);
            self.end_locally(&record).await;
            tracing::info!(user = record.user_id, "logged out of this browser");
        } else {
            self.clear_cookie(&self.policy().session_cookie);
        }
    }

    /// Clears this request's session cookie only: the session itself (its id, its other
    /// cookies, its cached data) is left alone.
    pub(super) fn drop_cookie(&self) {
        if let Some(raw) = self.session_cookie() {
            self.sessions().opened.remove(raw);
        }
        self.clear_cookie(&self.policy().session_cookie);
        self.set_loaded(None);
    }

    /// Deletes the record, adds its id to the revocation list, clears the cookie and the
    /// cached data of this authorization.
    pub(super) async fn end_locally(&self, record: &SessionRecord) {
        let sessions = self.sessions();
        let until = record
            .created_at
            .saturating_add(self.policy().absolute_lifetime);
        if let Err(e) = sessions
            .revocations
            .revoke_session(&record.id, record.user_id, record.created_at, until)
            .await
        {
            tracing::warn!(error = %e, "could not record the session revocation");
        }
        if let super::Storage::Server(store) = &sessions.storage
            && let Err(e) = store.delete(&record.id).await
        {
            tracing::warn!(error = %e, "could not delete the session record");
        }
        forget_authorization(sessions.cache(), record.id, record.user_id).await;
        sessions.verified.forget(&record.id);
        sessions.announce_ended(&record.id).await;
        if let Some(raw) = self.session_cookie() {
            sessions.opened.remove(raw);
        }
        self.clear_cookie(&self.policy().session_cookie);
        self.set_loaded(None);
    }
}

impl super::Sessions {
    /// Tells the other processes that session `id` ended (best effort: their recheck interval
    /// covers a lost message).
    async fn announce_ended(&self, id: &crate::store::SessionId) {
        if let Some(events) = &self.events
            && let Err(e) = events.publish_ended(id).await
        {
            tracing::warn!(error = %e, "could not announce an ended session; other processes notice it within the recheck interval");
        }
    }

    /// Ends every session of Discord user `user_id` held by the store, on every process that
    /// shares it: each is deleted (the record is what other processes load), then put on the
    /// revocation list, announced and forgotten by the cache. Keeps going past a failure and
    /// reports the first one after trying every session; returns how many sessions ended.
    pub(crate) async fn end_user_sessions(&self, user_id: u64) -> Result<usize, crate::Error> {
        let span = tracing::info_span!(
            "discord.logout_everywhere",
            user = user_id,
            error = tracing::field::Empty,
        );
        super::traced(span, self.end_user_sessions_in_span(user_id)).await
    }

    /// [`end_user_sessions`](Self::end_user_sessions) inside its span.
    async fn end_user_sessions_in_span(&self, user_id: u64) -> Result<usize, crate::Error> {
        let super::Storage::Server(store) = &self.storage else {
            return Err(crate::store::StoreError::Unsupported("user_sessions").into());
        };
        let ids = store.user_sessions(user_id).await?;
        let until = self.now().saturating_add(self.policy.absolute_lifetime);
        let mut first_error = None;
        let mut ended = 0;
        for id in &ids {
            match store.delete(id).await {
                Ok(()) => ended += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
            let now = self.now();
            if let Err(e) = self
                .revocations
                .revoke_session(id, Some(user_id), now, until)
                .await
            {
                first_error.get_or_insert(e);
            }
            self.verified.forget(id);
            self.announce_ended(id).await;
            forget_authorization(self.cache(), *id, Some(user_id)).await;
        }
        tracing::info!(user = user_id, ended, "every session of the user ended");
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(ended),
        }
    }
}
