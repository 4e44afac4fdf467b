//! Sessions verified against a shared store moments ago: for a short recheck interval
//! (default 50 ms) a session's store record and its "not revoked" verdict are reused instead of
//! asking the store again on every request.
//!
//! This bounds how stale a process can be: a logout, a `logout_everywhere` or a deauthorization
//! made by **another** process is refused here within the interval (this process's own logouts
//! are refused at once: they forget the entry). With the in-memory stores of one process the
//! interval does not matter (they answer without waiting, so nothing is kept).
//!
//! Bounded: at [`MAX_ENTRIES`] the map is emptied; `Debug` shows the number of entries only.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rustc_hash::FxBuildHasher;

use crate::store::{SessionId, SessionRecord};

/// Most sessions remembered at once.
const MAX_ENTRIES: usize = 16_384;

/// The default recheck interval.
pub(crate) const DEFAULT_RECHECK: Duration = Duration::from_millis(50);

struct Entry {
    /// The stored record (sessions in a store); `None` with sessions in the cookie.
    record: Option<Arc<SessionRecord>>,
    checked: Instant,
}

/// The recently verified sessions of one application.
pub(super) struct Verified {
    recheck: Duration,
    entries: RwLock<HashMap<SessionId, Entry, FxBuildHasher>>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("recheck", &self.recheck)
            .field("entries", &read(&self.entries).len())
            .finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Verified {
    /// Verdicts kept for `recheck` (zero: never kept).
    pub(super) fn new(recheck: Duration) -> Self {
        Self {
            recheck,
            entries: RwLock::default(),
        }
    }

    fn live<'a>(&self, entry: Option<&'a Entry>) -> Option<&'a Entry> {
        entry.filter(|e| e.checked.elapsed() < self.recheck)
    }

    /// Whether `id` was found live and not revoked within the interval.
    pub(super) fn fresh(&self, id: &SessionId) -> bool {
        self.live(read(&self.entries).get(id)).is_some()
    }

    /// The stored record of `id`, verified within the interval.
    pub(super) fn record(&self, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.live(read(&self.entries).get(id))
            .and_then(|e| e.record.clone())
    }

    /// Notes that `id` was just verified (with its stored record, if sessions are in a store).
    pub(super) fn note(&self, id: SessionId, record: Option<Arc<SessionRecord>>) {
        if self.recheck.is_zero() {
            return;
        }
        let mut entries = write(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            id,
            Entry {
                record,
                checked: Instant::now(),
            },
        );
    }

    /// Forgets `id` (its session ended or changed here).
    pub(super) fn forget(&self, id: &SessionId) {
        write(&self.entries).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_expire_after_the_interval_and_can_be_forgotten() {
        let verified = Verified::new(Duration::from_millis(30));
        let id = SessionId([1; 16]);
        assert!(!verified.fresh(&id));
        verified.note(id, None);
        assert!(verified.fresh(&id));
        assert!(
            verified.record(&id).is_none(),
            "no record with cookie sessions"
        );
        verified.forget(&id);
        assert!(!verified.fresh(&id));
        verified.note(id, None);
        std::thread::sleep(Duration::from_millis(40));
        assert!(!verified.fresh(&id), "expired after the interval");
        let off = Verified::new(Duration::ZERO);
        off.note(id, None);
        assert!(!off.fresh(&id), "a zero interval keeps nothing");
        assert!(!format!("{verified:?}").contains("record"));
    }
}
