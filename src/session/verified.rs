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
    /// When the check that produced this entry started (or when it was forgotten).
    checked: Instant,
    /// A tombstone: the session ended here; a check that started before must not bring it back.
    forgotten: bool,
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
        entry.filter(|e| !e.forgotten && e.checked.elapsed() < self.recheck)
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

    /// Notes that `id` was verified by a check that started at `started` (with its stored
    /// record, if sessions are in a store), unless the session was forgotten since: the
    /// interval counts from the start of the check, and a logout during it wins.
    pub(super) fn note(&self, id: SessionId, record: Option<Arc<SessionRecord>>, started: Instant) {
        if self.recheck.is_zero() {
            return;
        }
        let mut entries = write(&self.entries);
        if entries
            .get(&id)
            .is_some_and(|e| e.forgotten && e.checked >= started)
        {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let entry = Entry {
            record,
            checked: started,
            forgotten: false,
        };
        entries.insert(id, entry);
    }

    /// Forgets `id` (its session ended or changed): nothing verified about it before now is
    /// used again.
    pub(super) fn forget(&self, id: &SessionId) {
        if self.recheck.is_zero() {
            return;
        }
        let mut entries = write(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let tombstone = Entry {
            record: None,
            checked: Instant::now(),
            forgotten: true,
        };
        entries.insert(*id, tombstone);
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
        verified.note(id, None, Instant::now());
        assert!(verified.fresh(&id));
        assert!(
            verified.record(&id).is_none(),
            "no record with cookie sessions"
        );
        // A check that started before a logout cannot bring the session back.
        let started = Instant::now();
        verified.forget(&id);
        assert!(!verified.fresh(&id));
        verified.note(id, None, started);
        assert!(!verified.fresh(&id), "the logout wins over an older check");
        verified.note(id, None, Instant::now());
        assert!(verified.fresh(&id), "a check after the logout counts");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!verified.fresh(&id), "expired after the interval");
        let off = Verified::new(Duration::ZERO);
        off.note(id, None, Instant::now());
        assert!(!off.fresh(&id), "a zero interval keeps nothing");
        assert!(!format!("{verified:?}").contains("record"));
    }
}
