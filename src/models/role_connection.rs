//! Application role connections
//! ([Discord: Update Current User Application Role Connection](https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection)):
//! the user's role connection (scope
//! `role_connections.write`) and the application's metadata records (bot token).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::{int_enum, model, null_default};

/// Why a role connection or a metadata record is invalid (limits of
/// [Discord: Update Current User Application Role Connection](https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection)
/// and
/// [Discord: Application Role Connection Metadata](https://discord.com/developers/docs/resources/application-role-connection-metadata)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleConnectionError {
    /// `platform_name` is longer than 50 characters.
    #[error("platform_name is longer than 50 characters")]
    PlatformNameTooLong,
    /// `platform_username` is longer than 100 characters.
    #[error("platform_username is longer than 100 characters")]
    PlatformUsernameTooLong,
    /// A metadata key is not 1-50 characters of `a-z`, `0-9` and `_`.
    #[error("invalid metadata key {0:?} (expected 1-50 characters of a-z, 0-9 and _)")]
    InvalidKey(String),
    /// A metadata value is longer than 100 characters.
    #[error("metadata value for key {0:?} is longer than 100 characters")]
    ValueTooLong(String),
    /// A record's name is not 1-100 characters.
    #[error("metadata name must be 1-100 characters")]
    InvalidName,
    /// A record's description is not 1-200 characters.
    #[error("metadata description must be 1-200 characters")]
    InvalidDescription,
    /// More than [`RoleConnectionMetadata::MAX_RECORDS`] records.
    #[error("at most 5 role connection metadata records are allowed, got {0}")]
    TooManyRecords(usize),
    /// Two records share a key.
    #[error("duplicate metadata key {0:?}")]
    DuplicateKey(String),
}

/// Whether `key` is a valid metadata key: 1-50 characters of `a-z`, `0-9` and `_`.
fn valid_key(key: &str) -> bool {
    (1..=50).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Metadata values are stringified on the wire; accept numbers and booleans too, as strings.
fn stringified_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default();
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => if b { "1" } else { "0" }.to_owned(),
                _ => return None,
            };
            Some((k, s))
        })
        .collect())
}

model! {
    /// The user's role connection for the application (`GET`/`PUT
    /// /users/@me/applications/{application.id}/role-connection`).
    pub struct RoleConnection {
        /// The vanity name of the platform (at most 50 characters).
        #[serde(default)]
        pub platform_name: Option<String>,
        /// The user's name on the platform (at most 100 characters).
        #[serde(default)]
        pub platform_username: Option<String>,
        /// Metadata key to *stringified* value (at most 100 characters each): integers as
        /// decimal strings, datetimes as ISO 8601, booleans as `"1"`/`"0"`.
        #[serde(default, deserialize_with = "stringified_map")]
        pub metadata: BTreeMap<String, String>,
    }
}

impl RoleConnection {
    /// Builds the body of `PUT .../role-connection`, checking Discord's limits.
    ///
    /// # Errors
    /// [`RoleConnectionError`] when a limit is exceeded or a key is malformed.
    pub fn new<K, V>(
        platform_name: Option<String>,
        platform_username: Option<String>,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Result<RoleConnection, RoleConnectionError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        if platform_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 50)
        {
            return Err(RoleConnectionError::PlatformNameTooLong);
        }
        if platform_username
            .as_ref()
            .is_some_and(|n| n.chars().count() > 100)
        {
            return Err(RoleConnectionError::PlatformUsernameTooLong);
        }
        let mut map = BTreeMap::new();
        for (k, v) in metadata {
            let (k, v) = (k.into(), v.into());
            if !valid_key(&k) {
                return Err(RoleConnectionError::InvalidKey(k));
            }
            if v.chars().count() > 100 {
                return Err(RoleConnectionError::ValueTooLong(k));
            }
            map.insert(k, v);
        }
        let raw = json!({
            "platform_name": platform_name,
            "platform_username": platform_username,
            "metadata": map,
        });
        Ok(RoleConnection {
            platform_name,
            platform_username,
            metadata: map,
            raw,
        })
    }
}

/// Role connections are equal when they carry the same payload.
impl PartialEq for RoleConnection {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

int_enum! {
    /// How a metadata value is compared with the guild's configured value (`type`, 1-8).
    pub enum RoleConnectionMetadataType: u8 {
        /// 1: the user's integer is at most the guild's.
        IntegerLessThanOrEqual = 1,
        /// 2: the user's integer is at least the guild's.
        IntegerGreaterThanOrEqual = 2,
        /// 3: the integers are equal.
        IntegerEqual = 3,
        /// 4: the integers differ.
        IntegerNotEqual = 4,
        /// 5: the user's datetime is at most the guild's number of days ago.
        DatetimeLessThanOrEqual = 5,
        /// 6: the user's datetime is at least the guild's number of days ago.
        DatetimeGreaterThanOrEqual = 6,
        /// 7: the booleans are equal.
        BooleanEqual = 7,
        /// 8: the booleans differ.
        BooleanNotEqual = 8,
    }
}

model! {
    /// One application role connection metadata record
    /// (`/applications/{id}/role-connections/metadata`, bot token).
    pub struct RoleConnectionMetadata {
        /// The comparison type; JSON `type`.
        #[serde(rename = "type")]
        pub kind: RoleConnectionMetadataType,
        /// The key (1-50 characters of `a-z`, `0-9`, `_`).
        pub key: String,
        /// Name shown in the Discord client (1-100 characters).
        #[serde(default, deserialize_with = "null_default")]
        pub name: String,
        /// Localized names.
        #[serde(default)]
        pub name_localizations: Option<BTreeMap<String, String>>,
        /// Description shown in the Discord client (1-200 characters).
        #[serde(default, deserialize_with = "null_default")]
        pub description: String,
        /// Localized descriptions.
        #[serde(default)]
        pub description_localizations: Option<BTreeMap<String, String>>,
    }
}

impl RoleConnectionMetadata {
    /// The most records an application may register.
    pub const MAX_RECORDS: usize = 5;

    /// Builds a record, checking the key, name and description limits.
    ///
    /// # Errors
    /// [`RoleConnectionError::InvalidKey`], [`RoleConnectionError::InvalidName`] or
    /// [`RoleConnectionError::InvalidDescription`].
    pub fn new(
        kind: RoleConnectionMetadataType,
        key: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Result<RoleConnectionMetadata, RoleConnectionError> {
        let (key, name, description) = (key.into(), name.into(), description.into());
        if !valid_key(&key) {
            return Err(RoleConnectionError::InvalidKey(key));
        }
        if !(1..=100).contains(&name.chars().count()) {
            return Err(RoleConnectionError::InvalidName);
        }
        if !(1..=200).contains(&description.chars().count()) {
            return Err(RoleConnectionError::InvalidDescription);
        }
        let raw = json!({
            "type": kind.value(),
            "key": key,
            "name": name,
            "description": description,
        });
        Ok(RoleConnectionMetadata {
            kind,
            key,
            name,
            name_localizations: None,
            description,
            description_localizations: None,
            raw,
        })
    }

    /// Whether `key` is a valid metadata key: 1-50 characters of `a-z`, `0-9` and `_`.
    #[must_use]
    pub fn is_valid_key(key: &str) -> bool {
        valid_key(key)
    }

    /// Checks a full set of records before `PUT`ting it: at most
    /// [`RoleConnectionMetadata::MAX_RECORDS`], valid and unique keys.
    ///
    /// # Errors
    /// [`RoleConnectionError::TooManyRecords`], [`RoleConnectionError::InvalidKey`] or
    /// [`RoleConnectionError::DuplicateKey`].
    pub fn validate_records(records: &[RoleConnectionMetadata]) -> Result<(), RoleConnectionError> {
        if records.len() > Self::MAX_RECORDS {
            return Err(RoleConnectionError::TooManyRecords(records.len()));
        }
        for (i, r) in records.iter().enumerate() {
            if !valid_key(&r.key) {
                return Err(RoleConnectionError::InvalidKey(r.key.clone()));
            }
            if records[..i].iter().any(|o| o.key == r.key) {
                return Err(RoleConnectionError::DuplicateKey(r.key.clone()));
            }
        }
        Ok(())
    }
}

/// Records are equal when they carry the same payload.
impl PartialEq for RoleConnectionMetadata {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl fmt::Display for RoleConnectionMetadataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value(), f)
    }
}
