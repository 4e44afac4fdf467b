//! What the fuzz targets need of the session cookies (feature `fuzzing`, re-exported by the
//! hidden `crate::__fuzz`): sealing arbitrary plaintext with the application's real keys, so
//! that a fuzzer reaches the decoders behind the AEAD, and the decoders themselves. Never
//! used by the library; changes nothing it does.

use super::SessionPolicy;
use super::cookie::{CookieKeys, Purpose};
use super::pending::{PendingSlots, local_next};
use crate::config::Config;

/// Which of the session's two cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieKind {
    /// The session cookie (the sealed record, or the sealed id with a store).
    Session,
    /// The pending-login cookie (the slots of logins in progress).
    Pending,
}

impl CookieKind {
    fn purpose(self) -> Purpose {
        match self {
            Self::Session => Purpose::Session,
            Self::Pending => Purpose::Pending,
        }
    }
}

/// Seals and opens cookies exactly as an application built from the same [`Config`] does.
#[derive(Debug)]
pub struct Sealer {
    keys: CookieKeys,
    policy: SessionPolicy,
}

impl Sealer {
    /// The keys and cookie names of `config` (its `SECRET_KEY` and previous keys).
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            keys: CookieKeys::new(config.secret_key(), config.previous_secret_keys()),
            policy: SessionPolicy::for_config(config),
        }
    }

    /// The cookie's name (`discord_session`, `__Host-discord_login`...).
    #[must_use]
    pub fn name(&self, kind: CookieKind) -> &str {
        match kind {
            CookieKind::Session => &self.policy.session_cookie,
            CookieKind::Pending => &self.policy.pending_cookie,
        }
    }

    /// `plaintext` sealed as the cookie `kind` (the value of `name=value`).
    #[must_use]
    pub fn seal(&self, kind: CookieKind, plaintext: &[u8]) -> String {
        self.keys.seal(kind.purpose(), self.name(kind), plaintext)
    }

    /// The plaintext of a cookie value, `None` when it does not open.
    #[must_use]
    pub fn open(&self, kind: CookieKind, value: &str) -> Option<Vec<u8>> {
        self.keys
            .open(kind.purpose(), self.name(kind), value)
            .map(|(bytes, _)| bytes)
    }
}

/// The states of the pending logins a pending-login cookie's plaintext holds; `None` when it
/// does not decode.
#[must_use]
pub fn pending_states(plaintext: &[u8]) -> Option<Vec<String>> {
    PendingSlots::decode(plaintext).map(|p| {
        p.slots
            .iter()
            .map(|s| s.state.secret().to_owned())
            .collect()
    })
}

/// The `next` sanitizer: what a login's `next` becomes in the callback's `Location`.
#[must_use]
pub fn sanitize_next(next: &str) -> Option<String> {
    local_next(next)
}
