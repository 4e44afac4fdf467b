//! The user object ([Discord: User Object](https://discord.com/developers/docs/resources/user#user-object)).

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use url::Url;

use super::{
    Cdn, CdnError, GuildId, ImageFormat, ImageSize, SkuId, UserId, model, null_default, opt_int32,
    opt_int32_flags, opt_int64_flags,
};

model! {
    /// A Discord user (`GET /users/@me`, `GET /users/{id}`;
    /// [Discord: User Object](https://discord.com/developers/docs/resources/user#user-object)), with every v10
    /// field.
    ///
    /// Equality and hashing compare the id only (like Flask-Discord's `x == y`). `Display` is
    /// `username#1234` for legacy users (discriminator other than `"0"`) and `username` for
    /// migrated users; Flask-Discord printed `name#0` (study B11). For a UI label use
    /// [`User::display_name`].
    pub struct User {
        /// The user's id.
        pub id: UserId,
        /// The username (the unique handle for migrated users). Flask-Discord's `username`/`name`.
        pub username: String,
        /// `"0"` for users on the new username system; a four-digit string such as `"1337"` for
        /// legacy users and bots. Empty if absent from the payload.
        #[serde(default, deserialize_with = "null_default")]
        pub discriminator: String,
        /// Display name, `None` if not set.
        #[serde(default)]
        pub global_name: Option<String>,
        /// Avatar hash (`a_` prefix = animated); Flask-Discord's `avatar_hash`. `None` means the
        /// default avatar (Flask-Discord fell back to the discriminator here, study B15).
        #[serde(default)]
        pub avatar: Option<String>,
        /// Whether the user is an application's bot user.
        #[serde(default, deserialize_with = "null_default")]
        pub bot: bool,
        /// Whether the user is an official Discord system user.
        #[serde(default, deserialize_with = "null_default")]
        pub system: bool,
        /// Whether two-factor authentication is enabled (absent in some contexts).
        #[serde(default)]
        pub mfa_enabled: Option<bool>,
        /// Profile banner hash.
        #[serde(default)]
        pub banner: Option<String>,
        /// Banner colour as `0xRRGGBB`. Discord's spec types it as a signed `int32`: a negative
        /// value is kept as its 32-bit pattern (`-1` is `0xFFFF_FFFF`) rather than refused.
        #[serde(default, deserialize_with = "opt_int32")]
        pub accent_color: Option<u32>,
        /// The user's chosen language, e.g. `en-US`.
        #[serde(default)]
        pub locale: Option<String>,
        /// Whether the email is verified (needs the `email` scope).
        #[serde(default)]
        pub verified: Option<bool>,
        /// The email (needs the `email` scope; may be `null` even with it).
        #[serde(default)]
        pub email: Option<String>,
        /// User flags bitfield (unknown bits kept; a negative `Int53` is kept as its 64-bit
        /// pattern).
        #[serde(default, deserialize_with = "opt_int64_flags")]
        pub flags: Option<u64>,
        /// Nitro type: 0 none, 1 Nitro Classic, 2 Nitro, 3 Nitro Basic. Always 0 without the
        /// `identify.premium` scope (since 2026-05-05).
        #[serde(default)]
        pub premium_type: Option<u32>,
        /// Public user flags bitfield (an `int32`: bit 31 arrives as a negative number and is
        /// kept).
        #[serde(default, deserialize_with = "opt_int32_flags")]
        pub public_flags: Option<u64>,
        /// Avatar decoration.
        #[serde(default)]
        pub avatar_decoration_data: Option<AvatarDecorationData>,
        /// Collectibles (nameplate).
        #[serde(default)]
        pub collectibles: Option<Collectibles>,
        /// The user's primary guild ("server tag").
        #[serde(default)]
        pub primary_guild: Option<PrimaryGuild>,
    }
}

/// A user's avatar decoration (`avatar_decoration_data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AvatarDecorationData {
    /// The decoration asset hash (served as PNG, see [`Cdn::avatar_decoration`]).
    #[serde(default)]
    pub asset: Option<String>,
    /// The decoration's SKU.
    #[serde(default)]
    pub sku_id: Option<SkuId>,
}

/// A user's collectibles (`collectibles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Collectibles {
    /// The nameplate, if any.
    #[serde(default)]
    pub nameplate: Option<Nameplate>,
}

/// A nameplate collectible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Nameplate {
    /// The nameplate's SKU.
    #[serde(default)]
    pub sku_id: Option<SkuId>,
    /// Asset path, e.g. `nameplates/nameplates/twilight/`.
    #[serde(default)]
    pub asset: Option<String>,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// Background palette (`crimson`, `berry`, `sky`... an open set).
    #[serde(default)]
    pub palette: Option<String>,
}

/// A user's primary guild, the "server tag" (`primary_guild`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrimaryGuild {
    /// The guild whose tag is shown.
    #[serde(default)]
    pub identity_guild_id: Option<GuildId>,
    /// Whether the tag is shown.
    #[serde(default)]
    pub identity_enabled: Option<bool>,
    /// The tag text (at most 4 characters).
    #[serde(default)]
    pub tag: Option<String>,
    /// The badge hash.
    #[serde(default)]
    pub badge: Option<String>,
}

impl User {
    /// The username (Flask-Discord's `name` alias).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.username
    }

    /// The name to show in a UI: `global_name` if set, else `username`.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.global_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.username)
    }

    /// Whether the user is still on the legacy `name#1234` system (discriminator other than
    /// `"0"`).
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        !self.discriminator.is_empty() && self.discriminator != "0"
    }

    /// Whether the avatar is animated (its hash starts with `a_`). `false` without an avatar.
    #[must_use]
    pub fn is_avatar_animated(&self) -> bool {
        self.avatar.as_deref().is_some_and(|h| h.starts_with("a_"))
    }

    /// The index of the default avatar
    /// ([Discord: CDN Endpoints](https://discord.com/developers/docs/reference#image-formatting-cdn-endpoints)):
    /// `(id >> 22) % 6` for users on the
    /// new username system, `discriminator % 5` for legacy users and bots. Flask-Discord used
    /// `discriminator % 5` for everyone, so it could never give index 5 (study B11).
    #[must_use]
    pub fn default_avatar_index(&self) -> u8 {
        if self.is_legacy()
            && let Ok(d) = self.discriminator.parse::<u16>()
        {
            // d % 5 < 5: lossless.
            return (d % 5) as u8;
        }
        // (x % 6) < 6: lossless.
        ((self.id.get() >> 22) % 6) as u8
    }

    /// The default avatar URL: `embed/avatars/{index}.png` (PNG only, no size).
    #[must_use]
    pub fn default_avatar_url(&self, cdn: &Cdn) -> Url {
        cdn.default_avatar(self.default_avatar_index())
    }

    /// The avatar URL in the preferred format (animated WebP for `a_` hashes, PNG otherwise),
    /// without a size; `None` if the user has no avatar (or its hash is malformed).
    #[must_use]
    pub fn avatar_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.avatar.as_deref()?;
        cdn.user_avatar(self.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }

    /// The avatar URL in a given format and size.
    ///
    /// # Errors
    /// [`CdnError::NoImage`] without an avatar, [`CdnError::NotAnimated`] for GIF with a
    /// static avatar, [`CdnError::InvalidHash`].
    pub fn avatar_url_with(
        &self,
        cdn: &Cdn,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        let hash = self.avatar.as_deref().ok_or(CdnError::NoImage)?;
        cdn.user_avatar(self.id, hash, format, size)
    }

    /// The avatar URL, or the default avatar when the user has none: what an `<img>` should
    /// show (Flask-Discord rendered `src='None'` here).
    #[must_use]
    pub fn avatar_url_or_default(&self, cdn: &Cdn) -> Url {
        self.avatar_url(cdn)
            .unwrap_or_else(|| self.default_avatar_url(cdn))
    }

    /// The banner URL in the preferred format; `None` without a banner.
    #[must_use]
    pub fn banner_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.banner.as_deref()?;
        cdn.user_banner(self.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }

    /// The banner URL in a given format and size.
    ///
    /// # Errors
    /// As [`User::avatar_url_with`].
    pub fn banner_url_with(
        &self,
        cdn: &Cdn,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        let hash = self.banner.as_deref().ok_or(CdnError::NoImage)?;
        cdn.user_banner(self.id, hash, format, size)
    }

    /// The avatar decoration URL (PNG), if the user has one.
    #[must_use]
    pub fn avatar_decoration_url(&self, cdn: &Cdn) -> Option<Url> {
        let asset = self.avatar_decoration_data.as_ref()?.asset.as_deref()?;
        cdn.avatar_decoration(asset).ok()
    }
}

impl PartialEq for User {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for User {}

impl Hash for User {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_legacy() {
            write!(f, "{}#{}", self.username, self.discriminator)
        } else {
            f.write_str(&self.username)
        }
    }
}
