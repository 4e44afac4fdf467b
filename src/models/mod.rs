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
    UserConnection,
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
