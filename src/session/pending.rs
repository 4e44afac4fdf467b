//! The pending-login cookie: what `/login` must remember until `/callback` — the state, the PKCE
//! verifier, `next`, the caller's `data`, the requested scopes, the flow (login, install with its
//! pinned guild, linked role) and the start time — in its own
//! short-lived encrypted cookie. Several slots, so two tabs can log in at once; never in the URL
//! (only the random state travels through Discord), and an unauthenticated `/login` grows no
//! server state.

use serde::{Deserialize, Serialize};

use crate::vocab::secret::{OAuthState, PkceVerifier};

/// At most this many logins may be pending in one browser; the oldest is dropped.
pub(crate) const MAX_SLOTS: usize = 4;
/// Largest `data` payload (serialized JSON) a login may carry through the cookie.
pub(crate) const MAX_DATA_LEN: usize = 1024;
/// Longest `next` kept; a longer one is ignored (the user lands on `/`).
pub(crate) const MAX_NEXT_LEN: usize = 512;
/// Budget of the whole `Set-Cookie` name and value, below the 4 KiB browsers keep.
pub(crate) const MAX_COOKIE_BYTES: usize = 3800;

/// Which flow a pending login belongs to, so the callback answers with the right
/// [`Flow`](super::Flow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PendingFlow {
    /// A plain login.
    #[default]
    Login,
    /// An install: the guild it was pinned to, the `integration_type`, and whether `bot` was
    /// asked for (Discord then names the guild in its answer).
    Install {
        guild_id: Option<u64>,
        integration_type: u8,
        bot: bool,
    },
    /// A linked-roles login (`role_connections.write`).
    LinkedRole,
}

/// One login in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub(crate) state: OAuthState,
    pub(crate) verifier: Option<PkceVerifier>,
    pub(crate) next: Option<String>,
    pub(crate) data: Option<String>,
    pub(crate) scopes: String,
    pub(crate) created_at: u64,
    pub(crate) flow: PendingFlow,
}

/// The cookie's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct PendingSlots {
    pub(crate) slots: Vec<PendingLogin>,
}

impl PendingSlots {
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Adds a login, dropping expired ones and the oldest beyond [`MAX_SLOTS`].
    pub(crate) fn push(&mut self, login: PendingLogin, now: u64, lifetime: u64) {
        self.slots
            .retain(|s| s.created_at.saturating_add(lifetime) > now);
        while self.slots.len() >= MAX_SLOTS {
            self.slots.remove(0);
        }
        self.slots.push(login);
    }

    /// Removes and returns the slot whose state equals `state` (constant-time comparison).
    pub(crate) fn take(&mut self, state: &str) -> Option<PendingLogin> {
        use subtle::ConstantTimeEq as _;
        let idx = self
            .slots
            .iter()
            .position(|s| bool::from(s.state.secret().as_bytes().ct_eq(state.as_bytes())))?;
        Some(self.slots.remove(idx))
    }
}

/// `next` must be a local path: `/x`, not `//host`, `/\host`, `http://...` or anything with
/// control characters (an open redirect otherwise).
#[must_use]
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= MAX_NEXT_LEN
        && !next.chars().any(|c| c.is_control() || c == '\\')
}

/// `next` as kept and answered: a local path ([`is_local_path`]), percent-encoded where a URL
/// parser would encode it anyway (non-ASCII, space, `"`, `<`, `>`), so that the `Location`
/// header is plain ASCII and resolves to the same path. `None` for anything else, or when the
/// encoded path is longer than [`MAX_NEXT_LEN`].
pub(crate) fn local_next(next: &str) -> Option<String> {
    if !is_local_path(next) {
        return None;
    }
    let mut out = String::with_capacity(next.len());
    for b in next.bytes() {
        if b >= 0x80 || matches!(b, b' ' | b'"' | b'<' | b'>') {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    (out.len() <= MAX_NEXT_LEN).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_only() {
        for ok in ["/", "/me", "/guilds?x=1", "/a/b#c"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com",
            "evil",
            "",
            "/a\nb",
            "/a\\b",
            "javascript:x",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn slots_are_bounded_and_taken_once() {
        let mut p = PendingSlots::default();
        for i in 0..6 {
            p.push(
                PendingLogin {
                    state: OAuthState::new(format!("s{i}")),
                    verifier: None,
                    next: None,
                    data: None,
                    scopes: String::new(),
                    created_at: 100,
                    flow: PendingFlow::Login,
                },
                100,
                600,
            );
        }
        assert_eq!(p.slots.len(), MAX_SLOTS);
        assert!(p.take("s0").is_none(), "oldest dropped");
        assert!(p.take("s5").is_some());
        assert!(p.take("s5").is_none());
        let round = PendingSlots::decode(&p.encode()).unwrap();
        assert_eq!(round.slots.len(), MAX_SLOTS - 1);
    }

    #[test]
    fn slots_created_near_the_end_of_time_do_not_overflow() {
        let login = |state: &str, created_at| PendingLogin {
            state: OAuthState::new(state.to_owned()),
            verifier: None,
            next: None,
            data: None,
            scopes: String::new(),
            created_at,
            flow: PendingFlow::Login,
        };
        let mut p = PendingSlots::default();
        p.push(login("a", u64::MAX - 10), u64::MAX - 10, 600);
        p.push(login("b", u64::MAX - 5), u64::MAX - 5, 600);
        assert_eq!(p.slots.len(), 2, "both still young");
    }

    mod properties {
        //! The `next` kept and answered never leaves the application's origin, whatever the
        //! input: joined onto the app's URL (as a browser resolves `Location`), the origin is
        //! the app's.
        use super::*;
        use proptest::prelude::*;

        const APP: &str = "https://app.example/some/page?x=1";

        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("/".to_owned()),
                Just("//".to_owned()),
                Just("\\".to_owned()),
                Just("\t".to_owned()),
                Just("\n".to_owned()),
                Just("\r".to_owned()),
                Just("\u{2028}".to_owned()),
                Just("\u{2029}".to_owned()),
                Just("\u{ff0f}".to_owned()),
                Just("\u{0}".to_owned()),
                Just(" ".to_owned()),
                Just("%2F".to_owned()),
                Just("%5C".to_owned()),
                Just("%09".to_owned()),
                Just("%252F".to_owned()),
                Just(".".to_owned()),
                Just("..".to_owned()),
                Just("@".to_owned()),
                Just(":".to_owned()),
                Just("?".to_owned()),
                Just("#".to_owned()),
                Just("evil.example".to_owned()),
                Just("https://evil.example".to_owned()),
                "[a-z0-9]{1,4}",
                any::<char>().prop_map(String::from),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn the_kept_next_stays_on_the_origin(parts in prop::collection::vec(piece(), 0..10)) {
                let next = parts.concat();
                let base = url::Url::parse(APP).unwrap();
                if let Some(kept) = local_next(&next) {
                    prop_assert!(kept.is_ascii() && kept.len() <= MAX_NEXT_LEN);
                    prop_assert!(http::HeaderValue::from_str(&kept).is_ok());
                    let joined = base.join(&kept).unwrap();
                    prop_assert_eq!(joined.origin(), base.origin(), "{:?} -> {}", next, joined);
                    // Encoding twice changes nothing (what the callback does with a kept value).
                    let again = local_next(&kept);
                    prop_assert_eq!(again.as_deref(), Some(kept.as_str()));
                }
            }

            #[test]
            fn arbitrary_strings_never_panic(next in "\\PC{0,300}") {
                if let Some(kept) = local_next(&next) {
                    let base = url::Url::parse(APP).unwrap();
                    prop_assert_eq!(base.join(&kept).unwrap().origin(), base.origin());
                }
            }
        }
    }
}
