//! Opened session cookies, remembered: the hot path of a logged-in request is one lookup here
//! instead of a base64 decode, an AES-256-GCM open and a record decode.
//!
//! An entry maps a sealed cookie value that opened successfully to what it carried (the record,
//! or the session id with a store). A lookup returns an entry only for the exact same value, so
//! it accepts nothing that decryption would refuse. The map is keyed by 64 bits of the value's
//! last characters (the encoded AEAD tag, random and never chosen by a client: only values that
//! opened are inserted), then the whole value is compared: without the tag of a valid cookie a
//! forged value never reaches the comparison. `Debug` shows the number of entries only: the
//! values are bearer credentials.
//! Everything that can change over a session's life (expiry, revocation, rotation, idle touch)
//! is still checked on every request; an entry only saves the decryption.
//!
//! Bounded: at [`MAX_ENTRIES`] the map is emptied (entries are rebuilt by the next request of
//! each session, one decryption each).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustc_hash::FxBuildHasher;

use crate::store::{SessionId, SessionRecord};

/// Most cookies remembered at once.
pub(super) const MAX_ENTRIES: usize = 16_384;

/// How many trailing characters of a cookie value key the map (96 bits of the base64 of the
/// AEAD tag).
const TAIL: usize = 16;

/// What an opened session cookie carries.
#[derive(Debug, Clone)]
pub(super) enum Payload {
    /// The whole record (sessions in the cookie).
    Record(Arc<SessionRecord>),
    /// The session id (sessions in a store).
    Id(SessionId),
}

struct Entry {
    cookie: Box<str>,
    payload: Payload,
    old_key: bool,
}

/// The remembered cookies of one application.
#[derive(Default)]
pub(super) struct OpenedCookies {
    entries: RwLock<HashMap<u64, Entry, FxBuildHasher>>,
}

impl std::fmt::Debug for OpenedCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        f.debug_struct("OpenedCookies")
            .field("entries", &entries)
            .finish()
    }
}

impl OpenedCookies {
    /// The map key of a value: its last [`TAIL`] characters folded into 64 bits.
    fn key(cookie: &str) -> u64 {
        let bytes = cookie.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
        let mut words = [0u8; TAIL];
        words[TAIL - tail.len()..].copy_from_slice(tail);
        let (a, b) = words.split_at(8);
        u64::from_le_bytes(a.try_into().unwrap_or_default())
            ^ u64::from_le_bytes(b.try_into().unwrap_or_default()).rotate_left(29)
    }

    /// What `cookie` carried when it was opened, and whether a previous key sealed it.
    pub(super) fn get(&self, cookie: &str) -> Option<(Payload, bool)> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(&Self::key(cookie))
            .filter(|e| *e.cookie == *cookie)
            .map(|e| (e.payload.clone(), e.old_key))
    }

    /// Remembers that `cookie` opened to `payload`.
    pub(super) fn insert(&self, cookie: &str, payload: Payload, old_key: bool) {
        let key = Self::key(cookie);
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                cookie: cookie.into(),
                payload,
                old_key,
            },
        );
    }

    /// Forgets `cookie` (its session ended).
    pub(super) fn remove(&self, cookie: &str) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries
            .get(&Self::key(cookie))
            .is_some_and(|e| *e.cookie == *cookie)
        {
            entries.remove(&Self::key(cookie));
        }
    }

    /// Number of remembered cookies.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_value_is_found_and_the_map_is_bounded() {
        let opened = OpenedCookies::default();
        let id = SessionId([7; 16]);
        opened.insert(
            "AAAAsealed-value-with-its-tag-at-the-end",
            Payload::Id(id),
            false,
        );
        assert!(matches!(
            opened.get("AAAAsealed-value-with-its-tag-at-the-end"),
            Some((Payload::Id(found), false)) if found == id
        ));
        // Same tail (same map key), another value: not found.
        assert!(
            opened
                .get("BBBBsealed-value-with-its-tag-at-the-end")
                .is_none()
        );
        assert!(opened.get("").is_none());
        for i in 0..MAX_ENTRIES + 1 {
            opened.insert(&format!("cookie-{i}"), Payload::Id(id), false);
        }
        assert!(opened.len() <= MAX_ENTRIES);
        opened.insert(
            "AAAAsealed-value-with-its-tag-at-the-end",
            Payload::Id(id),
            false,
        );
        opened.remove("BBBBsealed-value-with-its-tag-at-the-end");
        assert!(
            opened
                .get("AAAAsealed-value-with-its-tag-at-the-end")
                .is_some()
        );
        opened.remove("AAAAsealed-value-with-its-tag-at-the-end");
        assert!(
            opened
                .get("AAAAsealed-value-with-its-tag-at-the-end")
                .is_none()
        );
        assert!(!format!("{opened:?}").contains("sealed"));
    }
}
