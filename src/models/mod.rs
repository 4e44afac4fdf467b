//! Discord models: plain data, no I/O.
//!
//! Every model deserializes from Discord's JSON (API v10,
//! [Discord: Users](https://discord.com/developers/docs/resources/user),
//! [Discord: Guilds](https://discord.com/developers/docs/resources/guild)), tolerating
//! unknown extra fields, missing optional fields and `null`s, and **keeps the payload it was
//! built from**: [`User::to_json`] and friends return exactly the JSON received (Flask-Discord's
//! `to_json()`), and `Serialize` writes that same payload back, so a model survives a round trip
//! through a session store unchanged. Build a model with `serde_json::from_str`/`from_value` or
//! with the `from_value` constructor of each type.
//!
//! Flask-Discord's model methods that called Discord (`fetch_from_api`, `add_to_guild`,
//! `fetch_guilds`...) are not here: models do no I/O, those calls are methods of the session
//! ([`crate::api`]).
//!
//! Owns: Discord's objects, ids and CDN URLs. Imports the vocabulary only; must not import the
//! pipeline, sessions, stores or an async runtime (`tests/layering.rs` checks it).
//!
//! | Flask-Discord (`flask_discord.models`) | Rust |
//! |---|---|
//! | `User` (`id`, `username`, `name`, `discriminator`, `avatar_hash`, `bot`, `mfa_enabled`, `locale`, `verified`, `email`, `flags`, `premium_type`, `avatar_url`, `default_avatar_url`, `is_avatar_animated`, `to_json()`, `str(x)`, `==`) | [`User`] (`avatar_hash` is [`User::avatar`]; `avatar_url`/`default_avatar_url` take a [`Cdn`]; `str(x)` is `Display`, `name#1234` only for legacy users) |
//! | `Guild` (`id`, `name`, `icon_hash`, `is_owner`, `permissions`, `icon_url`, `to_json()`, `str(x)`, `==`) | [`Guild`] (`icon_hash` is [`Guild::icon`], `is_owner` is [`Guild::is_owner`]) |
//! | `UserConnection` (`id`, `name`, `type`, `revoked`, `integrations`, `verified`, `friend_sync`, `show_activity`, `visibility`, `is_visible`, `to_json()`) | [`UserConnection`] (`type` is [`UserConnection::kind`]) |
//! | `Integration` (`id`, `name`, `type`, `enabled`, `syncing`, `role_id`, `expire_behaviour`, `expire_grace_period`, `account`, `synced_at`) | [`Integration`] (`type` is `kind`, `expire_behaviour` is Discord's [`Integration::expire_behavior`]) |
//! | *(not modelled by Flask-Discord)* | [`GuildMember`], [`AuthorizationInfo`], [`Application`], [`TokenGuild`], [`IncomingWebhook`], [`RoleConnection`], [`RoleConnectionMetadata`], [`Install`] |

use serde::{Deserialize, Deserializer};

mod cdn;
mod connection;
mod guild;
mod id;
mod install;
mod oauth;
mod role_connection;
mod user;

pub use cdn::{Cdn, CdnError, ImageFormat, ImageSize};
pub use connection::{
    ConnectionVisibility, Integration, IntegrationAccount, IntegrationExpireBehavior,
    IntegrationGuild, UserConnection,
};
pub use guild::{Guild, GuildMember, Role, TokenGuild};
pub use id::{
    ApplicationId, ChannelId, DISCORD_EPOCH_MS, GuildId, IntegrationId, InvalidSnowflake, RoleId,
    SkuId, UserId, WebhookId,
};
pub use install::{Install, IntegrationType};
pub use oauth::{Application, AuthorizationInfo, IncomingWebhook};
pub use role_connection::{
    RoleConnection, RoleConnectionError, RoleConnectionMetadata, RoleConnectionMetadataType,
    RoleConnectionValue,
};
pub use user::{AvatarDecorationData, Collectibles, Nameplate, PrimaryGuild, User};

/// Deserializes `null` (or a missing field, with `#[serde(default)]`) as `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A JSON integer of Discord's `int32` fields (colours, member flags, public flags): anything
/// from `i32::MIN` to `u32::MAX`, a negative value kept as its 32-bit two's complement pattern
/// (`-1` is `0xFFFF_FFFF`), so that no bit is lost; `null` or a missing field is `None`. The
/// official spec types these fields as signed `int32`
/// ([discord-api-spec](https://github.com/discord/discord-api-spec)) while the documentation
/// describes colours as `0xRRGGBB`
/// ([Discord: User Object](https://discord.com/developers/docs/resources/user#user-object)):
/// both forms decode.
fn int32_bits<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    use serde::de::Error as _;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(u) = n.as_u64() {
        return u32::try_from(u)
            .map(Some)
            .map_err(|_| D::Error::custom("an int32 value above u32::MAX"));
    }
    if let Some(i) = n.as_i64() {
        // i32 -> u32: the same 32 bits.
        return i32::try_from(i)
            .map(|i| Some(i.cast_unsigned()))
            .map_err(|_| D::Error::custom("an int32 value below i32::MIN"));
    }
    Err(D::Error::custom(
        "a non-integer where an int32 was expected",
    ))
}

/// [`int32_bits`] for an optional `u32` field (`accent_color`).
pub(crate) fn opt_int32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    int32_bits(d)
}

/// [`int32_bits`] for a `u32` field defaulting to 0 (`color`).
pub(crate) fn int32_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(int32_bits(d)?.unwrap_or(0))
}

/// [`int32_bits`] widened to an optional `u64` bitfield (`public_flags`).
pub(crate) fn opt_int32_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(int32_bits(d)?.map(u64::from))
}

/// [`int32_bits`] widened to a `u64` bitfield defaulting to 0 (a member's `flags`).
pub(crate) fn int32_flags_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(int32_bits(d)?.map_or(0, u64::from))
}

/// A 64-bit bitfield that the spec types as a signed integer (`Int53Type`, `int64`): a
/// negative value is kept as its 64-bit two's complement pattern; `null` is `None`.
pub(crate) fn opt_int64_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error as _;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => Ok(Some(u)),
        (None, Some(i)) => Ok(Some(i.cast_unsigned())),
        _ => Err(D::Error::custom(
            "a non-integer where a bitfield was expected",
        )),
    }
}

/// A bitfield sent as a decimal string of any length (the application's `flags_new`), or a
/// JSON integer: its low 64 bits (every flag Discord documents today), `None` for `null`. A
/// longer value keeps its high bits in the model's raw payload (`to_json`); a string that is
/// not decimal is `None` rather than an error that would fail the whole object.
pub(crate) fn opt_decimal_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => crate::permissions::Permissions::from_decimal_str(&s)
            .ok()
            .map(|p| p.bits()),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        _ => None,
    })
}

/// Defines a model that keeps the JSON payload it was deserialized from.
///
/// It emits the public struct (with a private `raw: serde_json::Value`), a private shadow struct
/// that derives `Deserialize` with the same fields and serde attributes, `from_value`, `to_json`,
/// `into_json`, `Deserialize` (through `serde_json::Value`), `Serialize` (the raw payload) and a
/// `Debug` that lists the typed fields only (never the raw payload, which may hold secrets).
macro_rules! model {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $fdoc:literal])*
                $(#[serde($($fserde:tt)*)])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                pub $field: $ty,
            )*
            raw: ::serde_json::Value,
        }

        impl $name {
            /// Builds the model from a JSON value, keeping the value for [`Self::to_json`].
            ///
            /// # Errors
            /// A `serde_json::Error` when a required field is missing or has the wrong type.
            pub fn from_value(value: ::serde_json::Value) -> Result<Self, ::serde_json::Error> {
                #[derive(::serde::Deserialize)]
                #[allow(dead_code)]
                struct Shadow {
                    $(
                        $(#[serde($($fserde)*)])*
                        $field: $ty,
                    )*
                }
                let shadow = <Shadow as ::serde::Deserialize>::deserialize(&value)?;
                Ok(Self {
                    $($field: shadow.$field,)*
                    raw: value,
                })
            }

            /// The raw payload exactly as received from Discord (Flask-Discord's `to_json()`),
            /// including fields this release does not model.
            #[must_use]
            pub fn to_json(&self) -> &::serde_json::Value {
                &self.raw
            }

            /// Consumes the model and returns its raw payload.
            #[must_use]
            pub fn into_json(self) -> ::serde_json::Value {
                self.raw
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
                Self::from_value(value).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }

        /// Serializes the raw payload, so that deserializing it again gives an equal model.
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.raw, s)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use model;

/// Defines an integer-valued enum that keeps unknown values (`Unknown(n)`), with serde as the
/// integer.
macro_rules! int_enum {
    (
        $(#[doc = $sdoc:literal])*
        pub enum $name:ident : $repr:ty {
            $(
                $(#[doc = $vdoc:literal])*
                $variant:ident = $value:literal,
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[doc = $vdoc])*
                $variant,
            )*
            /// A value this release does not know, kept as received.
            Unknown($repr),
        }

        impl $name {
            /// The integer Discord uses.
            #[must_use]
            pub const fn value(self) -> $repr {
                match self {
                    $($name::$variant => $value,)*
                    $name::Unknown(v) => v,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.value(), s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(<$repr as ::serde::Deserialize>::deserialize(d)?.into())
            }
        }
    };
}
pub(crate) use int_enum;
