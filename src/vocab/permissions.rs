//! Discord permission bitflags
//! ([Discord: Bitwise Permission Flags](https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags)).
//!
//! [`Permissions`] is a `u64` bitfield with every documented permission (bits 0 to 52; bit 47 is
//! unused). Discord adds bits without versioning, so unknown bits are kept (never truncated) when
//! parsing. On the wire, every permission field is a **decimal string** of variable length (API
//! v8+, e.g. `"36953089"`); serde writes that string and reads a string of any length (keeping
//! its low 64 bits, see [`Permissions::from_decimal_str`]) or, for legacy payloads such as a
//! role in the bot flow's token response, a JSON number.
//!
//! # Mapping from Flask-Discord's `discord.Permissions` (vendored from discord.py 1.7)
//!
//! | Flask-Discord | Rust |
//! |---|---|
//! | `Permissions(int)`, `.value` | [`Permissions::from_bits_retain`], [`Permissions::bits`] |
//! | `Permissions.none()` / `Permissions.all()` (33 bits only, study B12) | [`Permissions::empty`] / [`Permissions::all_documented`] (53 bits) |
//! | `p.flag` (e.g. `p.kick_members`) | `p.contains(Permissions::KICK_MEMBERS)`, or [`Permissions::has`] which honours ADMINISTRATOR |
//! | `<=`, `>=` (subset / superset) | [`Permissions::contains`] |
//! | `handle_overwrite(allow, deny)` | [`Permissions::apply_overwrite`] |
//! | `update(**kw)` | `insert` / `remove` / `set` |
//! | `create_instant_invite` ... `request_to_speak` | the constants of the same name in upper case |
//! | `read_messages` / `view_channel` | [`Permissions::VIEW_CHANNEL`] |
//! | `external_emojis` / `use_external_emojis` | [`Permissions::USE_EXTERNAL_EMOJIS`] |
//! | `manage_permissions` (alias of `manage_roles`) | [`Permissions::MANAGE_ROLES`] |
//! | `manage_emojis` | [`Permissions::MANAGE_GUILD_EXPRESSIONS`] |
//! | `use_slash_commands` | [`Permissions::USE_APPLICATION_COMMANDS`] |
//! | `use_voice_activation` | [`Permissions::USE_VAD`] |
//! | *(missing in Flask-Discord)* `manage_events` and every bit above 32 | [`Permissions::MANAGE_EVENTS`] ... [`Permissions::BYPASS_SLOWMODE`] |
//! | `general()`, `text()`, `voice()`... category presets | not provided (compose the constants) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

bitflags::bitflags! {
    /// A set of Discord permissions
    /// ([Discord: Bitwise Permission Flags](https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags)).
    /// Serialized as Discord's decimal string.
    ///
    /// Constants marked "2FA" are in [`Permissions::REQUIRES_2FA`]: a bot with one of them needs
    /// its owner to have two-factor authentication when the guild enforces server-wide 2FA.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct Permissions: u64 {
        /// Create instant invites (bit 0).
        const CREATE_INSTANT_INVITE = 1 << 0;
        /// Kick members (bit 1, 2FA).
        const KICK_MEMBERS = 1 << 1;
        /// Ban members (bit 2, 2FA).
        const BAN_MEMBERS = 1 << 2;
        /// Every permission, bypassing channel overwrites (bit 3, 2FA).
        const ADMINISTRATOR = 1 << 3;
        /// Manage channels (bit 4, 2FA).
        const MANAGE_CHANNELS = 1 << 4;
        /// Manage the guild (bit 5, 2FA).
        const MANAGE_GUILD = 1 << 5;
        /// Add reactions (bit 6).
        const ADD_REACTIONS = 1 << 6;
        /// View the audit log (bit 7).
        const VIEW_AUDIT_LOG = 1 << 7;
        /// Priority speaker in voice (bit 8).
        const PRIORITY_SPEAKER = 1 << 8;
        /// Go live / stream (bit 9).
        const STREAM = 1 << 9;
        /// View channels; Flask-Discord's `read_messages` (bit 10).
        const VIEW_CHANNEL = 1 << 10;
        /// Send messages (bit 11).
        const SEND_MESSAGES = 1 << 11;
        /// Send text-to-speech messages (bit 12).
        const SEND_TTS_MESSAGES = 1 << 12;
        /// Manage (delete) messages of others (bit 13, 2FA).
        const MANAGE_MESSAGES = 1 << 13;
        /// Links are embedded (bit 14).
        const EMBED_LINKS = 1 << 14;
        /// Upload files (bit 15).
        const ATTACH_FILES = 1 << 15;
        /// Read the message history (bit 16).
        const READ_MESSAGE_HISTORY = 1 << 16;
        /// Mention @everyone, @here and all roles (bit 17).
        const MENTION_EVERYONE = 1 << 17;
        /// Use emojis from other guilds; Flask-Discord's `external_emojis` (bit 18).
        const USE_EXTERNAL_EMOJIS = 1 << 18;
        /// View guild insights (bit 19).
        const VIEW_GUILD_INSIGHTS = 1 << 19;
        /// Connect to voice (bit 20).
        const CONNECT = 1 << 20;
        /// Speak in voice (bit 21).
        const SPEAK = 1 << 21;
        /// Mute members in voice (bit 22).
        const MUTE_MEMBERS = 1 << 22;
        /// Deafen members in voice (bit 23).
        const DEAFEN_MEMBERS = 1 << 23;
        /// Move members between voice channels (bit 24).
        const MOVE_MEMBERS = 1 << 24;
        /// Use voice activity detection; Flask-Discord's `use_voice_activation` (bit 25).
        const USE_VAD = 1 << 25;
        /// Change one's own nickname (bit 26).
        const CHANGE_NICKNAME = 1 << 26;
        /// Change others' nicknames (bit 27).
        const MANAGE_NICKNAMES = 1 << 27;
        /// Manage roles; "Manage Permissions" in the client (bit 28, 2FA).
        const MANAGE_ROLES = 1 << 28;
        /// Manage webhooks (bit 29, 2FA).
        const MANAGE_WEBHOOKS = 1 << 29;
        /// Manage emojis, stickers and soundboard sounds; Flask-Discord's `manage_emojis` (bit 30, 2FA).
        const MANAGE_GUILD_EXPRESSIONS = 1 << 30;
        /// Use application commands; Flask-Discord's `use_slash_commands` (bit 31).
        const USE_APPLICATION_COMMANDS = 1 << 31;
        /// Request to speak in stage channels (bit 32).
        const REQUEST_TO_SPEAK = 1 << 32;
        /// Edit and delete scheduled events (bit 33).
        const MANAGE_EVENTS = 1 << 33;
        /// Manage threads (bit 34, 2FA).
        const MANAGE_THREADS = 1 << 34;
        /// Create public threads (bit 35).
        const CREATE_PUBLIC_THREADS = 1 << 35;
        /// Create private threads (bit 36).
        const CREATE_PRIVATE_THREADS = 1 << 36;
        /// Use stickers from other guilds (bit 37).
        const USE_EXTERNAL_STICKERS = 1 << 37;
        /// Send messages in threads (bit 38).
        const SEND_MESSAGES_IN_THREADS = 1 << 38;
        /// Use activities (bit 39).
        const USE_EMBEDDED_ACTIVITIES = 1 << 39;
        /// Time out members; "Timeout Members" in the client (bit 40).
        const MODERATE_MEMBERS = 1 << 40;
        /// View creator monetization analytics (bit 41, 2FA).
        const VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41;
        /// Use the soundboard (bit 42).
        const USE_SOUNDBOARD = 1 << 42;
        /// Create emojis, stickers and sounds (bit 43).
        const CREATE_GUILD_EXPRESSIONS = 1 << 43;
        /// Create scheduled events (bit 44).
        const CREATE_EVENTS = 1 << 44;
        /// Use sounds from other guilds (bit 45).
        const USE_EXTERNAL_SOUNDS = 1 << 45;
        /// Send voice messages (bit 46).
        const SEND_VOICE_MESSAGES = 1 << 46;
        /// Set the voice channel status (bit 48; bit 47 is unused).
        const SET_VOICE_CHANNEL_STATUS = 1 << 48;
        /// Send polls (bit 49).
        const SEND_POLLS = 1 << 49;
        /// Use user-installed apps (bit 50).
        const USE_EXTERNAL_APPS = 1 << 50;
        /// Pin messages (bit 51).
        const PIN_MESSAGES = 1 << 51;
        /// Bypass slowmode (bit 52).
        const BYPASS_SLOWMODE = 1 << 52;
    }
}

/// Error for a permission string that is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid permissions value (expected a decimal integer string)")]
pub struct InvalidPermissions;

impl Permissions {
    /// The permissions that need the owner's 2FA when the guild enforces server-wide 2FA (marked
    /// `*` in
    /// [Discord: Bitwise Permission Flags](https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags)).
    pub const REQUIRES_2FA: Permissions = Permissions::KICK_MEMBERS
        .union(Permissions::BAN_MEMBERS)
        .union(Permissions::ADMINISTRATOR)
        .union(Permissions::MANAGE_CHANNELS)
        .union(Permissions::MANAGE_GUILD)
        .union(Permissions::MANAGE_MESSAGES)
        .union(Permissions::MANAGE_ROLES)
        .union(Permissions::MANAGE_WEBHOOKS)
        .union(Permissions::MANAGE_GUILD_EXPRESSIONS)
        .union(Permissions::MANAGE_THREADS)
        .union(Permissions::VIEW_CREATOR_MONETIZATION_ANALYTICS);

    /// Every documented permission OR'd together: `8866461766385663` (`0x1F7FFFFFFFFFFF`).
    #[must_use]
    pub const fn all_documented() -> Permissions {
        Permissions::all()
    }

    /// The bits set here that this release does not name (kept, never dropped).
    #[must_use]
    pub const fn unknown_bits(self) -> u64 {
        self.bits() & !Permissions::all().bits()
    }

    /// The effective guild-level permissions
    /// ([Discord: Permission Overwrites](https://discord.com/developers/docs/topics/permissions#permission-overwrites)):
    /// the guild owner has every permission, and so has anyone with ADMINISTRATOR. Otherwise `self`
    /// unchanged. Unknown bits are kept.
    ///
    /// Use it with a partial guild's `owner` flag: `GET /users/@me/guilds` does not guarantee
    /// every bit for owners (the official example has `owner: true` with `"36953089"`).
    #[must_use]
    pub const fn effective_for_guild(self, owner: bool) -> Permissions {
        if owner || self.contains(Permissions::ADMINISTRATOR) {
            self.union(Permissions::all())
        } else {
            self
        }
    }

    /// Whether every permission of `p` is granted, counting ADMINISTRATOR as all permissions.
    /// (It does not know about guild ownership: see [`Permissions::effective_for_guild`].)
    #[must_use]
    pub const fn has(self, p: Permissions) -> bool {
        self.contains(Permissions::ADMINISTRATOR) || self.contains(p)
    }

    /// Whether any permission here needs the owner's 2FA ([`Permissions::REQUIRES_2FA`]).
    #[must_use]
    pub const fn requires_2fa(self) -> bool {
        self.intersects(Permissions::REQUIRES_2FA)
    }

    /// Applies a channel overwrite: `(self & !deny) | allow` (Flask-Discord's `handle_overwrite`).
    #[must_use]
    pub const fn apply_overwrite(self, allow: Permissions, deny: Permissions) -> Permissions {
        self.difference(deny).union(allow)
    }

    /// Parses Discord's decimal string (e.g. `"36953089"`), keeping unknown bits.
    ///
    /// Discord documents permissions as a variable-length integer string
    /// ([Discord: Permissions](https://discord.com/developers/docs/topics/permissions)), so a
    /// string of any length is accepted: the value keeps its low 64 bits (every permission
    /// defined today is below bit 53); use [`Permissions::from_decimal_str_overflowing`] to
    /// learn whether higher bits were set. A model keeps the string itself in its raw payload
    /// (`to_json`), so nothing Discord sent is lost.
    ///
    /// ```
    /// use discord_oauth::permissions::Permissions;
    /// // 2^64 + 8: ADMINISTRATOR and a bit this type cannot hold.
    /// let p = Permissions::from_decimal_str("18446744073709551624").unwrap();
    /// assert_eq!(p, Permissions::ADMINISTRATOR);
    /// assert!(Permissions::from_decimal_str("12a").is_err());
    /// ```
    ///
    /// # Errors
    /// [`InvalidPermissions`] for an empty string or anything but ASCII digits.
    pub fn from_decimal_str(s: &str) -> Result<Permissions, InvalidPermissions> {
        Self::from_decimal_str_overflowing(s).map(|(p, _)| p)
    }

    /// [`Permissions::from_decimal_str`], also saying whether the value had bits above bit 63
    /// (which the returned value cannot hold), like the integer types' `overflowing_*`
    /// methods.
    ///
    /// ```
    /// use discord_oauth::permissions::Permissions;
    /// assert_eq!(Permissions::from_decimal_str_overflowing("8"), Ok((Permissions::ADMINISTRATOR, false)));
    /// let (p, high) = Permissions::from_decimal_str_overflowing("36893488147419103240").unwrap(); // 2^65 + 8
    /// assert!(high && p == Permissions::ADMINISTRATOR);
    /// ```
    ///
    /// # Errors
    /// [`InvalidPermissions`] for an empty string or anything but ASCII digits.
    pub fn from_decimal_str_overflowing(
        s: &str,
    ) -> Result<(Permissions, bool), InvalidPermissions> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidPermissions);
        }
        // Horner's rule modulo 2^64: the wrapping result is exactly the low 64 bits.
        let mut low: u64 = 0;
        let mut overflow = false;
        for b in s.bytes() {
            let digit = u64::from(b - b'0');
            match low.checked_mul(10).and_then(|v| v.checked_add(digit)) {
                Some(v) => low = v,
                None => {
                    overflow = true;
                    low = low.wrapping_mul(10).wrapping_add(digit);
                }
            }
        }
        Ok((Permissions::from_bits_retain(low), overflow))
    }
}

/// The decimal value, as Discord writes it (and as the authorize URL's `permissions` takes it).
impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.bits(), f)
    }
}

impl FromStr for Permissions {
    type Err = InvalidPermissions;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permissions::from_decimal_str(s)
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.bits())
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Permissions;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permissions bitfield as a decimal string or a non-negative integer")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Permissions, E> {
                Permissions::from_decimal_str(v).map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Permissions, E> {
                Ok(Permissions::from_bits_retain(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Permissions, E> {
                u64::try_from(v)
                    .map(Permissions::from_bits_retain)
                    .map_err(|_| E::custom(InvalidPermissions))
            }
        }
        deserializer.deserialize_any(V)
    }
}
