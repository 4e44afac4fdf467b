//! Typed snowflake ids.
//!
//! Discord ids are `u64` values written as JSON strings
//! ([Discord: Snowflakes](https://discord.com/developers/docs/reference#snowflakes)). Each
//! kind of id has its own type so that a guild id cannot be passed where a user id is expected.
//! Deserializing accepts the string form and, for leniency, a JSON integer; serializing writes
//! the string form.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The Discord epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Error for a string that is not a decimal `u64` snowflake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid snowflake id (expected a decimal integer fitting in 64 bits)")]
pub struct InvalidSnowflake;

fn parse_snowflake(s: &str) -> Result<u64, InvalidSnowflake> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidSnowflake);
    }
    s.parse().map_err(|_| InvalidSnowflake)
}

macro_rules! snowflake {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw snowflake.
            #[must_use]
            pub const fn new(id: u64) -> Self {
                Self(id)
            }

            /// The raw `u64`.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }

            /// Creation time in Unix milliseconds: `(id >> 22) + 1420070400000`.
            #[must_use]
            pub const fn timestamp_ms(self) -> u64 {
                (self.0 >> 22) + DISCORD_EPOCH_MS
            }

            /// Creation time of the object this id names.
            #[must_use]
            pub fn timestamp(self) -> SystemTime {
                UNIX_EPOCH + Duration::from_millis(self.timestamp_ms())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidSnowflake;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_snowflake(s).map(Self)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(SnowflakeVisitor).map(Self)
            }
        }
    )*};
}

struct SnowflakeVisitor;

impl serde::de::Visitor<'_> for SnowflakeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snowflake id as a decimal string or a non-negative integer")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
        parse_snowflake(v).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(InvalidSnowflake))
    }
}

snowflake! {
    /// A user id.
    UserId;
    /// A guild (server) id.
    GuildId;
    /// An application id (the OAuth2 `client_id`).
    ApplicationId;
    /// A role id.
    RoleId;
    /// A channel id.
    ChannelId;
    /// A webhook id.
    WebhookId;
    /// A guild integration id.
    IntegrationId;
    /// A SKU id (avatar decorations, nameplates).
    SkuId;
}
