//! Secret newtypes: the client secret, the bot token, access and refresh tokens, webhook tokens,
//! the OAuth2 `state` and the PKCE verifier; and [`Fingerprint`], the one way the crate names a
//! secret without holding it (rate-limit keys, dead-token marks, rotation maps, used states).
//!
//! Every secret here prints as `Name([redacted])` in `Debug` and `[redacted]` in `Display`, so a
//! stray `{:?}` in a log line or an error message never leaks it. The value is reachable only
//! through [`secret()`](ClientSecret::secret), which makes every use greppable. Equality is
//! constant-time (`subtle`), so comparing a presented token with a stored one leaks no timing.
//!
//! Secrets implement `serde` transparently (as the bare string) because session stores must persist
//! them; the default cookie store encrypts them before they leave the process.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself. Never log it.
            #[must_use]
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Whether the secret is the empty string.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_type!(
    /// The OAuth2 client secret of the Discord application (`DISCORD_CLIENT_SECRET`).
    ClientSecret
);
secret_type!(
    /// The bot token of the application (`DISCORD_BOT_TOKEN`), sent as `Authorization: Bot <token>`.
    BotToken
);
secret_type!(
    /// A user's OAuth2 access token, sent as `Authorization: Bearer <token>`.
    AccessToken
);
secret_type!(
    /// A user's OAuth2 refresh token. Discord rotates it on every refresh.
    RefreshToken
);
secret_type!(
    /// The token of an incoming webhook created by the `webhook.incoming` flow.
    WebhookToken
);
secret_type!(
    /// The `SECRET_KEY` from which the session cookie keys are derived.
    SecretKey
);

secret_type!(
    /// The OAuth2 `state` of one login: 128 random bits, single use, bound to the browser by the
    /// encrypted pending-login cookie
    /// ([Discord: State and Security](https://discord.com/developers/docs/topics/oauth2#state-and-security)).
    OAuthState
);
secret_type!(
    /// A PKCE code verifier (RFC 7636): 32 random bytes in base64url, 43 characters, the
    /// shortest Discord accepts.
    PkceVerifier
);

impl OAuthState {
    /// A new random state (128 bits from the operating system).
    #[must_use]
    pub fn random() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<16>()))
    }
}

impl PkceVerifier {
    /// A new random verifier (256 bits from the operating system).
    #[must_use]
    pub fn random() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    /// The S256 challenge sent in the authorize URL: `base64url(sha256(verifier))`, unpadded
    /// (RFC 7636 §4.2; S256 is the only method Discord takes).
    #[must_use]
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// `N` random bytes from the operating system.
///
/// # Panics
/// If the operating system's random number generator fails (nothing secure can be done then).
#[must_use]
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random number generator failed");
    b
}

/// A stable, non-reversible fingerprint of a secret: the first 16 bytes of its SHA-256.
///
/// The crate's one way to name a token without holding it: rate-limit keys and dead-token marks
/// ([`short`](Self::short)), the refresh-rotation map and the used-state set. Stable across
/// processes, so a shared store recognises the same token everywhere.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of `secret`.
    #[must_use]
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }

    /// The 16 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The first 8 bytes as a number (big-endian): what rate-limit keys carry.
    #[must_use]
    pub fn short(&self) -> u64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(first)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({:016x}…)", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let t = AccessToken::new("hunter2-token");
        assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
        assert_eq!(format!("{t}"), "[redacted]");
        assert!(!format!("{t:?}{t}").contains("hunter2"));
        assert_eq!(t.secret(), "hunter2-token");
    }

    #[test]
    fn state_and_verifier_are_random_and_redacted() {
        let (a, b) = (OAuthState::random(), OAuthState::random());
        assert_ne!(a, b);
        assert_eq!(a.secret().len(), 22);
        assert_eq!(format!("{a:?}"), "OAuthState([redacted])");
        let v = PkceVerifier::random();
        assert_eq!(v.secret().len(), 43);
        assert_eq!(format!("{v:?}"), "PkceVerifier([redacted])");
        // RFC 7636 appendix B.
        let rfc = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            rfc.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_short_is_their_prefix() {
        let f = Fingerprint::of("token");
        assert_eq!(f, Fingerprint::of("token"));
        assert_ne!(f, Fingerprint::of("token2"));
        assert_eq!(f.short().to_be_bytes(), f.as_bytes()[..8]);
        assert!(!format!("{f:?}").contains("token"));
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(BotToken::new("a"), BotToken::new("a"));
        assert_ne!(BotToken::new("a"), BotToken::new("b"));
        assert_ne!(BotToken::new("a"), BotToken::new("ab"));
    }
}
