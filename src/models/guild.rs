//! Guilds: the partial guild of `GET /users/@me/guilds`
//! ([Discord: Get Current User Guilds](https://discord.com/developers/docs/resources/user#get-current-user-guilds)),
//! the guild of the bot flow's token response, and guild members
//! ([Discord: Guild Member Object](https://discord.com/developers/docs/resources/guild#guild-member-object)).

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use url::Url;

use super::{
    AvatarDecorationData, Cdn, CdnError, Collectibles, GuildId, ImageFormat, ImageSize, RoleId,
    User, UserId, int32_flags_or_zero, int32_or_zero, model, null_default,
};
use crate::permissions::Permissions;

model! {
    /// A partial guild, as listed by `GET /users/@me/guilds` (scope `guilds`;
    /// [Discord: Get Current User Guilds](https://discord.com/developers/docs/resources/user#get-current-user-guilds)).
    ///
    /// Equality and hashing compare the id only; `Display` is the guild's name (like Flask-Discord).
    pub struct Guild {
        /// The guild id.
        pub id: GuildId,
        /// The guild name.
        #[serde(default, deserialize_with = "null_default")]
        pub name: String,
        /// Icon hash (`a_` = animated); Flask-Discord's `icon_hash`. `None`: no icon (show initials).
        #[serde(default)]
        pub icon: Option<String>,
        /// Banner hash.
        #[serde(default)]
        pub banner: Option<String>,
        /// Whether the requesting user owns the guild; see [`Guild::is_owner`].
        #[serde(default, deserialize_with = "null_default")]
        pub owner: bool,
        /// The user's guild-level permissions, without channel overwrites. Not guaranteed to have
        /// every bit for owners: use [`Guild::permissions_effective`].
        #[serde(default, deserialize_with = "null_default")]
        pub permissions: Permissions,
        /// Guild feature strings (an open set, e.g. `COMMUNITY`, `ANIMATED_ICON`).
        #[serde(default, deserialize_with = "null_default")]
        pub features: Vec<String>,
        /// Approximate member count (only with `with_counts=true`).
        #[serde(default)]
        pub approximate_member_count: Option<u64>,
        /// Approximate online member count (only with `with_counts=true`).
        #[serde(default)]
        pub approximate_presence_count: Option<u64>,
    }
}

impl Guild {
    /// Whether the requesting user owns the guild (Flask-Discord's `is_owner`).
    #[must_use]
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// The effective guild-level permissions: everything for the owner or an administrator,
    /// else [`Guild::permissions`] (see [`Permissions::effective_for_guild`]).
    #[must_use]
    pub fn permissions_effective(&self) -> Permissions {
        self.permissions.effective_for_guild(self.owner)
    }

    /// Whether the `permissions` string Discord sent had bits above bit 63, which
    /// [`Guild::permissions`] cannot hold (Discord documents permissions as a variable-length
    /// integer; no permission is defined that high today). The string itself is kept in
    /// [`Guild::to_json`].
    #[must_use]
    pub fn permissions_overflowed(&self) -> bool {
        self.raw
            .get("permissions")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| Permissions::from_decimal_str_overflowing(s).ok())
            .is_some_and(|(_, high)| high)
    }

    /// Whether the guild has a feature string, e.g. `"COMMUNITY"`.
    #[must_use]
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Whether the icon is animated (`a_` hash).
    #[must_use]
    pub fn is_icon_animated(&self) -> bool {
        self.icon.as_deref().is_some_and(|h| h.starts_with("a_"))
    }

    /// The icon URL in the preferred format (animated WebP for `a_` icons, PNG otherwise;
    /// Flask-Discord always used PNG, study B15); `None` without an icon.
    #[must_use]
    pub fn icon_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.icon.as_deref()?;
        cdn.guild_icon(self.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }

    /// The icon URL in a given format and size.
    ///
    /// # Errors
    /// [`CdnError::NoImage`] without an icon, [`CdnError::NotAnimated`] for GIF with a static
    /// icon, [`CdnError::InvalidHash`].
    pub fn icon_url_with(
        &self,
        cdn: &Cdn,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        let hash = self.icon.as_deref().ok_or(CdnError::NoImage)?;
        cdn.guild_icon(self.id, hash, format, size)
    }

    /// The banner URL in the preferred format; `None` without a banner.
    #[must_use]
    pub fn banner_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.banner.as_deref()?;
        cdn.guild_banner(self.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }

    /// The banner URL in a given format and size.
    ///
    /// # Errors
    /// As [`Guild::icon_url_with`].
    pub fn banner_url_with(
        &self,
        cdn: &Cdn,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        let hash = self.banner.as_deref().ok_or(CdnError::NoImage)?;
        cdn.guild_banner(self.id, hash, format, size)
    }
}

impl PartialEq for Guild {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Guild {}

impl Hash for Guild {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Display for Guild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A role, as found in the bot flow's guild object. Tolerant: only `id` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// The role id.
    pub id: RoleId,
    /// The role name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// The role's permissions (a decimal string in v8+, a number in the legacy v6 example).
    #[serde(default, deserialize_with = "null_default")]
    pub permissions: Permissions,
    /// Colour as `0xRRGGBB` (0 = none); a negative `int32` is kept as its 32-bit pattern.
    #[serde(default, deserialize_with = "int32_or_zero")]
    pub color: u32,
    /// Sorting position.
    #[serde(default, deserialize_with = "null_default")]
    pub position: i64,
    /// Whether the role is pinned in the member list.
    #[serde(default, deserialize_with = "null_default")]
    pub hoist: bool,
    /// Whether an integration manages the role.
    #[serde(default, deserialize_with = "null_default")]
    pub managed: bool,
    /// Whether the role is mentionable.
    #[serde(default, deserialize_with = "null_default")]
    pub mentionable: bool,
}

model! {
    /// The full guild object in the token response of a code grant with the `bot` scope
    /// (`guild`;
    /// [Discord: Extended Bot Authorization Access Token Example](https://discord.com/developers/docs/topics/oauth2#advanced-bot-authorization-extended-bot-authorization-access-token-example)).
    /// It is the authoritative answer to "which guild was the bot added to" (the redirect's
    /// `guild_id` is only a hint). Only `id` is required; the official example still carries
    /// v6 leftovers (numeric role `permissions`, `permissions_new`, `region`), all tolerated.
    pub struct TokenGuild {
        /// The guild id.
        pub id: GuildId,
        /// The guild name.
        #[serde(default, deserialize_with = "null_default")]
        pub name: String,
        /// Icon hash.
        #[serde(default)]
        pub icon: Option<String>,
        /// Banner hash.
        #[serde(default)]
        pub banner: Option<String>,
        /// Description.
        #[serde(default)]
        pub description: Option<String>,
        /// The owner's id.
        #[serde(default)]
        pub owner_id: Option<UserId>,
        /// Feature strings.
        #[serde(default, deserialize_with = "null_default")]
        pub features: Vec<String>,
        /// Roles.
        #[serde(default, deserialize_with = "null_default")]
        pub roles: Vec<Role>,
        /// Preferred locale, e.g. `en-US`.
        #[serde(default)]
        pub preferred_locale: Option<String>,
        /// MFA level required for moderation (0 none, 1 elevated).
        #[serde(default)]
        pub mfa_level: Option<u8>,
        /// Verification level (0-4).
        #[serde(default)]
        pub verification_level: Option<u8>,
        /// Approximate member count, when present.
        #[serde(default)]
        pub approximate_member_count: Option<u64>,
    }
}

impl TokenGuild {
    /// The icon URL in the preferred format; `None` without an icon.
    #[must_use]
    pub fn icon_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.icon.as_deref()?;
        cdn.guild_icon(self.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }
}

impl PartialEq for TokenGuild {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for TokenGuild {}

impl fmt::Display for TokenGuild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

model! {
    /// A guild member (`GET /users/@me/guilds/{guild.id}/member` with `guilds.members.read`,
    /// or the 201 answer of Add Guild Member;
    /// [Discord: Guild Member Object](https://discord.com/developers/docs/resources/guild#guild-member-object)).
    pub struct GuildMember {
        /// The user (present in the endpoints used here).
        #[serde(default)]
        pub user: Option<User>,
        /// The guild nickname.
        #[serde(default)]
        pub nick: Option<String>,
        /// Guild avatar hash.
        #[serde(default)]
        pub avatar: Option<String>,
        /// Guild banner hash.
        #[serde(default)]
        pub banner: Option<String>,
        /// Role ids.
        #[serde(default, deserialize_with = "null_default")]
        pub roles: Vec<RoleId>,
        /// When the user joined, ISO 8601 (`None` for guests).
        #[serde(default)]
        pub joined_at: Option<String>,
        /// Since when the user boosts, ISO 8601.
        #[serde(default)]
        pub premium_since: Option<String>,
        /// Whether the member is deafened in voice.
        #[serde(default, deserialize_with = "null_default")]
        pub deaf: bool,
        /// Whether the member is muted in voice.
        #[serde(default, deserialize_with = "null_default")]
        pub mute: bool,
        /// Guild member flags (bit 0 DID_REJOIN, 1 COMPLETED_ONBOARDING...; unknown bits kept,
        /// a negative `int32` as its 32-bit pattern).
        #[serde(default, deserialize_with = "int32_flags_or_zero")]
        pub flags: u64,
        /// Whether the member has not yet passed Membership Screening.
        #[serde(default, deserialize_with = "null_default")]
        pub pending: bool,
        /// Total permissions in a channel (interactions only).
        #[serde(default)]
        pub permissions: Option<Permissions>,
        /// Timeout end, ISO 8601.
        #[serde(default)]
        pub communication_disabled_until: Option<String>,
        /// Guild avatar decoration.
        #[serde(default)]
        pub avatar_decoration_data: Option<AvatarDecorationData>,
        /// Guild collectibles.
        #[serde(default)]
        pub collectibles: Option<Collectibles>,
    }
}

impl GuildMember {
    /// The name to show in this guild: the nickname, else the user's display name.
    #[must_use]
    pub fn display_name(&self) -> Option<&str> {
        self.nick
            .as_deref()
            .filter(|n| !n.is_empty())
            .or_else(|| self.user.as_ref().map(User::display_name))
    }

    /// Whether the member has a role.
    #[must_use]
    pub fn has_role(&self, role: RoleId) -> bool {
        self.roles.contains(&role)
    }

    /// The member's guild avatar URL in the preferred format; `None` without a guild avatar or
    /// without the `user`. Fall back to the user's avatar for display.
    #[must_use]
    pub fn avatar_url(&self, cdn: &Cdn, guild: GuildId) -> Option<Url> {
        let hash = self.avatar.as_deref()?;
        let user = self.user.as_ref()?;
        cdn.member_avatar(guild, user.id, hash, Cdn::preferred_format(hash), None)
            .ok()
    }
}

/// Members are equal when they carry the same payload.
impl PartialEq for GuildMember {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
