//! Opened session cookies, remembered: the hot path of a logged-in request is one lookup here
//! instead of a base64 decode, an AES-256-GCM open and a record decode.
//!
//! An entry maps a sealed cookie value that opened successfully to what it carried (the record,
//! or the session id with a store). A lookup returns an entry only for the exact same value, so
//! it accepts nothing that decryption would refuse. The map is keyed by a hash of the value's
//! last characters (the encoded AEAD tag) under a per-process random key, then the whole value is
//! compared: without the tag of a valid cookie a forged value never reaches the comparison.
//! Everything that can change over a session's life (expiry, revocation, rotation, idle touch)
//! is still checked on every request; an entry only saves the decryption.
//!
//! Bounded: at [`MAX_ENTRIES`] the map is emptied (entries are rebuilt by the next request of
//! each session, one decryption each).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock};

use crate::store::{SessionId, SessionRecord};

/// Most cookies remembered at once.
pub(super) const MAX_ENTRIES: usize = 16_384;

/// How many trailing characters of a cookie value key the map (the base64 of the AEAD tag).
const TAIL: usize = 22;

/// What an opened session cookie carries.
#[derive(Debug, Clone)]
pub(super) enum Payload {
    /// The whole record (sessions in the cookie).
    Record(Arc<SessionRecord>),
    /// The session id (sessions in a store).
    Id(SessionId),
}

#[derive(Debug)]
struct Entry {
    cookie: Box<str>,
    payload: Payload,
    old_key: bool,
}

/// The remembered cookies of one application.
#[derive(Debug, Default)]
pub(super) struct OpenedCookies {
    entries: RwLock<HashMap<u64, Entry>>,
    hasher: std::collections::hash_map::RandomState,
}

impl OpenedCookies {
    fn key(&self, cookie: &str) -> u64 {
        let tail = &cookie.as_bytes()[cookie.len().saturating_sub(TAIL)..];
        self.hasher.hash_one(tail)
    }

    /// What `cookie` carried when it was opened, and whether a previous key sealed it.
    pub(super) fn get(&self, cookie: &str) -> Option<(Payload, bool)> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(&self.key(cookie))
            .filter(|e| *e.cookie == *cookie)
            .map(|e| (e.payload.clone(), e.old_key))
    }

    /// Remembers that `cookie` opened to `payload`.
    pub(super) fn insert(&self, cookie: &str, payload: Payload, old_key: bool) {
        let key = self.key(cookie);
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
    }
}
