//! Application role connections
//! ([Discord: Update Current User Application Role Connection](https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection)):
//! the user's role connection (scope
//! `role_connections.write`) and the application's metadata records (bot token).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

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
    /// A metadata value is empty (values are 1-100 characters).
    #[error("metadata value for key {0:?} is empty (values are 1-100 characters)")]
    EmptyValue(String),
    /// More than [`RoleConnection::MAX_VALUES`] metadata values.
    #[error("at most 5 metadata values are allowed, got {0}")]
    TooManyValues(usize),
    /// A value for a key no metadata record declares.
    #[error("metadata key {0:?} is not declared by any metadata record")]
    UndeclaredKey(String),
    /// A value that is not of its record's type: a decimal integer for the integer types, an
    /// ISO 8601 datetime for the datetime types, `1` or `0` for the boolean types.
    #[error("metadata value for key {key:?} is not a valid {expected} value")]
    WrongValueType {
        /// The key.
        key: String,
        /// The type its record declares.
        expected: RoleConnectionMetadataType,
    },
    /// A record's type is not one of the 8 known types (1-8).
    #[error("metadata type {0} is not one of 1-8")]
    InvalidType(u8),
    /// A localized name (1-100 characters) or description (1-200) is empty or too long, or
    /// its locale is empty.
    #[error("{field} for locale {locale:?} must be 1-{max} characters")]
    InvalidLocalization {
        /// `name_localizations` or `description_localizations`.
        field: &'static str,
        /// The locale.
        locale: String,
        /// The most characters allowed.
        max: usize,
    },
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
    /// The most metadata values a role connection may carry.
    pub const MAX_VALUES: usize = 5;

    /// Builds the body of `PUT .../role-connection`, checking Discord's limits. Values are
    /// strings on the wire; a [`RoleConnectionValue`] converts a typed value.
    ///
    /// ```
    /// use discord_oauth::models::{RoleConnection, RoleConnectionValue};
    /// let c = RoleConnection::new(
    ///     Some("Example".into()),
    ///     Some("ann".into()),
    ///     [("level", RoleConnectionValue::Integer(7)), ("verified", RoleConnectionValue::Boolean(true))],
    /// )
    /// .unwrap();
    /// assert_eq!(c.metadata["level"], "7");
    /// assert_eq!(c.metadata["verified"], "1");
    /// ```
    ///
    /// # Errors
    /// [`RoleConnectionError`] naming the limit exceeded (see [`RoleConnection::validate`]).
    pub fn new<K, V>(
        platform_name: Option<String>,
        platform_username: Option<String>,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Result<RoleConnection, RoleConnectionError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let metadata: BTreeMap<String, String> = metadata
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let raw = connection_body(
            platform_name.as_deref(),
            platform_username.as_deref(),
            &metadata,
        );
        let connection = RoleConnection {
            platform_name,
            platform_username,
            metadata,
            raw,
        };
        connection.validate()?;
        Ok(connection)
    }

    /// Checks Discord's limits: `platform_name` at most 50 characters, `platform_username` at
    /// most 100, at most [`RoleConnection::MAX_VALUES`] values, keys of 1-50 characters of
    /// `a-z`, `0-9` and `_`, values of 1-100 characters.
    ///
    /// # Errors
    /// The first [`RoleConnectionError`] found.
    pub fn validate(&self) -> Result<(), RoleConnectionError> {
        if self
            .platform_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 50)
        {
            return Err(RoleConnectionError::PlatformNameTooLong);
        }
        if self
            .platform_username
            .as_ref()
            .is_some_and(|n| n.chars().count() > 100)
        {
            return Err(RoleConnectionError::PlatformUsernameTooLong);
        }
        if self.metadata.len() > Self::MAX_VALUES {
            return Err(RoleConnectionError::TooManyValues(self.metadata.len()));
        }
        for (k, v) in &self.metadata {
            if !valid_key(k) {
                return Err(RoleConnectionError::InvalidKey(k.clone()));
            }
            if v.is_empty() {
                return Err(RoleConnectionError::EmptyValue(k.clone()));
            }
            if v.chars().count() > 100 {
                return Err(RoleConnectionError::ValueTooLong(k.clone()));
            }
        }
        Ok(())
    }

    /// Checks the values against the application's metadata records: every key declared, and
    /// each value of its record's type (a decimal integer, an ISO 8601 datetime, or `1`/`0`).
    ///
    /// # Errors
    /// [`RoleConnectionError::UndeclaredKey`] or [`RoleConnectionError::WrongValueType`].
    pub fn validate_against(
        &self,
        records: &[RoleConnectionMetadata],
    ) -> Result<(), RoleConnectionError> {
        for (k, v) in &self.metadata {
            let Some(record) = records.iter().find(|r| &r.key == k) else {
                return Err(RoleConnectionError::UndeclaredKey(k.clone()));
            };
            if !record.kind.accepts(v) {
                return Err(RoleConnectionError::WrongValueType {
                    key: k.clone(),
                    expected: record.kind,
                });
            }
        }
        Ok(())
    }

    /// The JSON body of `PUT .../role-connection`, from the typed fields. A `None` name is
    /// left out, not sent as `null` (see [`RoleConnection::new`]).
    #[must_use]
    pub fn body(&self) -> Value {
        connection_body(
            self.platform_name.as_deref(),
            self.platform_username.as_deref(),
            &self.metadata,
        )
    }
}

/// The body of `PUT .../role-connection`. Discord's documentation lists `platform_name` and
/// `platform_username` as optional strings, not nullable ones
/// (<https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection>),
/// while the official OpenAPI spec (<https://github.com/discord/discord-api-spec>,
/// `UpdateApplicationUserRoleConnectionRequest`) allows `null`: where the two disagree we follow
/// the documentation, so a `None` is omitted, which both accept.
fn connection_body(
    platform_name: Option<&str>,
    platform_username: Option<&str>,
    metadata: &BTreeMap<String, String>,
) -> Value {
    let mut body = Map::new();
    if let Some(name) = platform_name {
        body.insert("platform_name".into(), json!(name));
    }
    if let Some(name) = platform_username {
        body.insert("platform_username".into(), json!(name));
    }
    body.insert("metadata".into(), json!(metadata));
    Value::Object(body)
}

/// A typed metadata value, stringified as Discord expects: integers in decimal, datetimes as
/// ISO 8601 in UTC, booleans as `1`/`0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleConnectionValue {
    /// For the integer types (1-4).
    Integer(i64),
    /// For the datetime types (5-6).
    Datetime(SystemTime),
    /// For the boolean types (7-8).
    Boolean(bool),
}

impl From<RoleConnectionValue> for String {
    fn from(v: RoleConnectionValue) -> String {
        match v {
            RoleConnectionValue::Integer(n) => n.to_string(),
            RoleConnectionValue::Boolean(b) => if b { "1" } else { "0" }.to_owned(),
            RoleConnectionValue::Datetime(t) => iso8601(t),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` (times before 1970 are clamped to the epoch).
fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether `v` starts like an ISO 8601 datetime (`YYYY-MM-DD`, then the end or `T`).
fn looks_like_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || b[10] == b'T' || b[10] == b't' || b[10] == b' ')
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

impl RoleConnectionMetadataType {
    /// Whether `value` is a valid stringified value of this type.
    #[must_use]
    pub fn accepts(self, value: &str) -> bool {
        match self.value() {
            1..=4 => value.parse::<i64>().is_ok(),
            5 | 6 => looks_like_datetime(value),
            7 | 8 => value == "1" || value == "0",
            _ => false,
        }
    }
}

impl RoleConnectionMetadata {
    /// The most records an application may register.
    pub const MAX_RECORDS: usize = 5;

    /// Builds a record, checking the key, name and description limits.
    ///
    /// ```
    /// use discord_oauth::models::{RoleConnectionMetadata, RoleConnectionMetadataType as T};
    /// let r = RoleConnectionMetadata::new(T::IntegerGreaterThanOrEqual, "level", "Level", "Level reached")
    ///     .unwrap()
    ///     .name_localizations([("fr", "Niveau")])
    ///     .unwrap();
    /// assert_eq!(r.to_json()["name_localizations"]["fr"], "Niveau");
    /// assert!(RoleConnectionMetadata::new(T::BooleanEqual, "Bad Key", "n", "d").is_err());
    /// ```
    ///
    /// # Errors
    /// [`RoleConnectionError::InvalidType`], [`RoleConnectionError::InvalidKey`],
    /// [`RoleConnectionError::InvalidName`] or [`RoleConnectionError::InvalidDescription`].
    pub fn new(
        kind: RoleConnectionMetadataType,
        key: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Result<RoleConnectionMetadata, RoleConnectionError> {
        let (key, name, description) = (key.into(), name.into(), description.into());
        if !(1..=8).contains(&kind.value()) {
            return Err(RoleConnectionError::InvalidType(kind.value()));
        }
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

    /// Sets the localized names (locale to name, each 1-100 characters).
    ///
    /// # Errors
    /// [`RoleConnectionError::InvalidLocalization`].
    pub fn name_localizations<L, N>(
        mut self,
        names: impl IntoIterator<Item = (L, N)>,
    ) -> Result<Self, RoleConnectionError>
    where
        L: Into<String>,
        N: Into<String>,
    {
        let map = localizations("name_localizations", 100, names)?;
        self.raw["name_localizations"] = json!(map);
        self.name_localizations = Some(map);
        Ok(self)
    }

    /// Sets the localized descriptions (locale to description, each 1-200 characters).
    ///
    /// # Errors
    /// [`RoleConnectionError::InvalidLocalization`].
    pub fn description_localizations<L, N>(
        mut self,
        descriptions: impl IntoIterator<Item = (L, N)>,
    ) -> Result<Self, RoleConnectionError>
    where
        L: Into<String>,
        N: Into<String>,
    {
        let map = localizations("description_localizations", 200, descriptions)?;
        self.raw["description_localizations"] = json!(map);
        self.description_localizations = Some(map);
        Ok(self)
    }

    /// Checks one record: type 1-8, key, name (1-100), description (1-200), localizations.
    ///
    /// # Errors
    /// The first [`RoleConnectionError`] found.
    pub fn validate(&self) -> Result<(), RoleConnectionError> {
        if !(1..=8).contains(&self.kind.value()) {
            return Err(RoleConnectionError::InvalidType(self.kind.value()));
        }
        if !valid_key(&self.key) {
            return Err(RoleConnectionError::InvalidKey(self.key.clone()));
        }
        if !(1..=100).contains(&self.name.chars().count()) {
            return Err(RoleConnectionError::InvalidName);
        }
        if !(1..=200).contains(&self.description.chars().count()) {
            return Err(RoleConnectionError::InvalidDescription);
        }
        let maps = [
            ("name_localizations", 100, &self.name_localizations),
            (
                "description_localizations",
                200,
                &self.description_localizations,
            ),
        ];
        for (field, max, map) in maps {
            for (locale, text) in map.iter().flatten() {
                check_localization(field, max, locale, text)?;
            }
        }
        Ok(())
    }

    /// The JSON of the record as `PUT .../role-connections/metadata` takes it, from the typed
    /// fields.
    #[must_use]
    pub fn body(&self) -> Value {
        let mut v = json!({
            "type": self.kind.value(),
            "key": self.key,
            "name": self.name,
            "description": self.description,
        });
        if let Some(m) = &self.name_localizations {
            v["name_localizations"] = json!(m);
        }
        if let Some(m) = &self.description_localizations {
            v["description_localizations"] = json!(m);
        }
        v
    }

    /// Whether `key` is a valid metadata key: 1-50 characters of `a-z`, `0-9` and `_`.
    #[must_use]
    pub fn is_valid_key(key: &str) -> bool {
        valid_key(key)
    }

    /// Checks a full set of records before `PUT`ting it: at most
    /// [`RoleConnectionMetadata::MAX_RECORDS`], each valid ([`RoleConnectionMetadata::validate`]),
    /// unique keys.
    ///
    /// # Errors
    /// [`RoleConnectionError::TooManyRecords`], [`RoleConnectionError::DuplicateKey`], or the
    /// first record's error.
    pub fn validate_records(records: &[RoleConnectionMetadata]) -> Result<(), RoleConnectionError> {
        if records.len() > Self::MAX_RECORDS {
            return Err(RoleConnectionError::TooManyRecords(records.len()));
        }
        for (i, r) in records.iter().enumerate() {
            r.validate()?;
            if records[..i].iter().any(|o| o.key == r.key) {
                return Err(RoleConnectionError::DuplicateKey(r.key.clone()));
            }
        }
        Ok(())
    }
}

/// Checks one localized text: a non-empty locale, 1-`max` characters.
fn check_localization(
    field: &'static str,
    max: usize,
    locale: &str,
    text: &str,
) -> Result<(), RoleConnectionError> {
    if locale.is_empty() || !(1..=max).contains(&text.chars().count()) {
        return Err(RoleConnectionError::InvalidLocalization {
            field,
            locale: locale.to_owned(),
            max,
        });
    }
    Ok(())
}

/// Collects and checks localized texts.
fn localizations<L: Into<String>, N: Into<String>>(
    field: &'static str,
    max: usize,
    entries: impl IntoIterator<Item = (L, N)>,
) -> Result<BTreeMap<String, String>, RoleConnectionError> {
    let mut map = BTreeMap::new();
    for (l, n) in entries {
        let (l, n) = (l.into(), n.into());
        check_localization(field, max, &l, &n)?;
        map.insert(l, n);
    }
    Ok(map)
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
