//! Refresh coordination across processes, through the application's
//! [`RefreshCoordination`](crate::store::RefreshCoordination) when one is configured: a lease
//! per session around the token request, and the rotated pair kept (sealed) for the others.
//!
//! Everything here degrades to the in-process coordination when the shared store fails: a
//! warning, never an error to the user. The worst case is the `invalid_grant` a shared store
//! exists to prevent (two processes refreshing with one refresh token); the loser then looks
//! for the winner's pair (stored, or shared) before it concludes that the grant is gone.

use std::time::Duration;

use super::super::Sessions;
use super::super::cookie::Purpose;
use crate::store::{SessionId, SessionRecord, decode_record, encode_record};
use crate::vocab::secret::{Fingerprint, RefreshToken, random_bytes};

/// How long a lease lasts: two token-request deadlines (limiter waits included) and five
/// seconds for the stores, so that it only runs out when its holder died mid-refresh.
fn lease_ms(sessions: &Sessions) -> u64 {
    let deadline =
        u64::try_from(sessions.config().request_timeout().as_millis()).unwrap_or(u64::MAX);
    deadline.saturating_mul(2).saturating_add(5_000)
}

/// How often a process waiting for another's refresh asks again.
const POLL: Duration = Duration::from_millis(15);

/// The name the rotation bytes of `key` are sealed under (the AEAD's associated data): bound
/// to the key, so a sealed pair moved under another key does not open.
fn seal_name(key: &Fingerprint) -> String {
    format!("refresh-rotation:{:016x}", key.short())
}

/// A held lease; released explicitly (an async release cannot run in `Drop`; the refresh runs
/// in a task of its own, so a dropped request still releases it, and a lease whose holder died
/// expires after [`lease_ms`]).
pub(super) struct Lease<'a> {
    sessions: &'a Sessions,
    key: [u8; 16],
    owner: [u8; 16],
}

impl<'a> Lease<'a> {
    /// Takes the shared lease of session `id`, waiting while another process holds it. `None`
    /// without shared coordination, or when the shared store fails (then refreshes are
    /// coordinated in this process only, and a warning says so).
    pub(super) async fn take(sessions: &'a Sessions, id: &SessionId) -> Option<Self> {
        let coordination = sessions.coordination.as_deref()?;
        let owner = random_bytes();
        let clock = sessions.config().clock();
        let lease = lease_ms(sessions);
        // Longer than a lease: a holder that died is waited out, then replaced.
        let give_up = tokio::time::Instant::now() + Duration::from_millis(lease + 1_000);
        loop {
            match coordination
                .try_lock(&id.0, &owner, clock.unix_millis(), lease)
                .await
            {
                Ok(true) => {
                    return Some(Self {
                        sessions,
                        key: id.0,
                        owner,
                    });
                }
                // Its holder is refreshing: wait, then find the pair it obtained.
                Ok(false) if tokio::time::Instant::now() < give_up => {
                    tokio::time::sleep(POLL).await;
                }
                Ok(false) => {
                    tracing::warn!("a shared refresh lease outlived its term; refreshing anyway");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "shared refresh coordination unavailable; coordinating in this process only");
                    return None;
                }
            }
        }
    }

    /// Gives the lease back.
    pub(super) async fn release(self) {
        if let Some(coordination) = self.sessions.coordination.as_deref()
            && let Err(e) = coordination.unlock(&self.key, &self.owner).await
        {
            tracing::warn!(error = %e, "could not release a shared refresh lease; it expires on its own");
        }
    }
}

/// The record another process obtained by refreshing `stale`'s refresh token, if any.
pub(super) async fn rotated(
    sessions: &Sessions,
    stale: &SessionRecord,
    now: u64,
) -> Option<SessionRecord> {
    let coordination = sessions.coordination.as_deref()?;
    let old = stale.refresh_token.as_ref()?;
    let key = Fingerprint::of(old.secret());
    let sealed = match coordination.rotation(key.as_bytes(), now).await {
        Ok(found) => found?,
        Err(e) => {
            tracing::warn!(error = %e, "shared refresh coordination unavailable; coordinating in this process only");
            return None;
        }
    };
    let sealed = std::str::from_utf8(&sealed).ok()?;
    let (bytes, _) = sessions
        .keys
        .open(Purpose::Rotation, &seal_name(&key), sealed)?;
    let record = decode_record(&bytes).ok()?;
    // A rotation names its session: anything else is not ours to use.
    (record.id == stale.id).then_some(record)
}

/// Shares `record`, the pair that replaced `old`, with the other processes until `until`.
pub(super) async fn remember(
    sessions: &Sessions,
    old: &RefreshToken,
    record: &SessionRecord,
    until: u64,
) {
    let Some(coordination) = sessions.coordination.as_deref() else {
        return;
    };
    let key = Fingerprint::of(old.secret());
    let sealed = sessions
        .keys
        .seal(Purpose::Rotation, &seal_name(&key), &encode_record(record));
    if let Err(e) = coordination
        .put_rotation(key.as_bytes(), sealed.as_bytes(), until)
        .await
    {
        tracing::warn!(error = %e, "could not share a rotated token pair; other processes will refresh on their own");
    }
}
