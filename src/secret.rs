//! Secret newtypes: the client secret, the bot token, access and refresh tokens and webhook tokens.
//!
//! Every secret here prints as `Name([redacted])` in `Debug` and `[redacted]` in `Display`, so a
//! stray `{:?}` in a log line or an error message never leaks it. The value is reachable only
//! through [`secret()`](ClientSecret::secret), which makes every use greppable. Equality is
//! constant-time (`subtle`), so comparing a presented token with a stored one leaks no timing.
//!
//! Secrets implement `serde` transparently (as the bare string) because session stores must persist
//! them; the default cookie store encrypts them before they leave the process.

use std::fmt;

use serde::{Deserialize, Serialize};
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
    fn equality_compares_values() {
        assert_eq!(BotToken::new("a"), BotToken::new("a"));
        assert_ne!(BotToken::new("a"), BotToken::new("b"));
        assert_ne!(BotToken::new("a"), BotToken::new("ab"));
    }
}
