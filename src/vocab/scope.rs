//! OAuth2 scopes ([`Scope`], [`Scopes`]) and the authorize screen's [`Prompt`].
//!
//! Discord's scopes are an open set: the official list
//! ([Discord: OAuth2 Scopes](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes),
//! 29 entries), the Social SDK scopes and five more of Discord's OpenAPI spec
//! ([discord-api-spec](https://github.com/discord/discord-api-spec)), and Discord adds new ones without a
//! versioned API change (`identify.premium` arrived on 2026-05-05). [`Scope`] names every current
//! scope and keeps anything else in [`Scope::Other`], whose content is validated so that a scope can
//! never smuggle a second scope, a query parameter or a control character into the authorize URL.
//!
//! # Mapping from Flask-Discord's `DiscordOAuth2Scope`
//!
//! | Flask-Discord member | Scope string | Rust |
//! |---|---|---|
//! | `READ_ACTIVITIES` | `activities.read` | [`Scope::ActivitiesRead`] |
//! | `WRITE_ACTIVITIES` | `activities.write` | [`Scope::ActivitiesWrite`] |
//! | `READ_APPLICATION_BUILDS` | `applications.builds.read` | [`Scope::ApplicationsBuildsRead`] |
//! | `UPLOAD_APPLICATION_BUILDS` | `applications.builds.upload` | [`Scope::ApplicationsBuildsUpload`] |
//! | `APPLICATION_COMMANDS` | `applications.commands` | [`Scope::ApplicationsCommands`] |
//! | `UPDATE_APPLICATION_COMMANDS` | `applications.commands.update` | [`Scope::ApplicationsCommandsUpdate`] |
//! | `READ_APPLICATION_ENTITLEMENTS` | `applications.entitlements` | [`Scope::ApplicationsEntitlements`] |
//! | `READ_UPDATE_APPLICATION_STORE` | `applications.store.update` | [`Scope::ApplicationsStoreUpdate`] |
//! | `BOT` | `bot` | [`Scope::Bot`] |
//! | `CONNECTIONS` | `connections` | [`Scope::Connections`] |
//! | `EMAIL` | `email` | [`Scope::Email`] |
//! | `JOIN_GROUP_DM` | `gdm.join` | [`Scope::GdmJoin`] |
//! | `GUILDS` | `guilds` | [`Scope::Guilds`] |
//! | `JOIN_GUILDS` | `guilds.join` | [`Scope::GuildsJoin`] |
//! | `IDENTIFY` | `identify` | [`Scope::Identify`] |
//! | `READ_MESSAGES` | `messages.read` | [`Scope::MessagesRead`] |
//! | `READ_RELATIONSHIPS` | `relationships.read` | [`Scope::RelationshipsRead`] |
//! | `RPC` | `rpc` | [`Scope::Rpc`] |
//! | `WRITE_RPC_ACTIVITIES` | `rpc.activities.write` | [`Scope::RpcActivitiesWrite`] |
//! | `READ_RPC_NOTIFICATIONS` | `rpc.notifications.read` | [`Scope::RpcNotificationsRead`] |
//! | `READ_RPC_VOICE` (first) | `rpc.voice.read` | [`Scope::RpcVoiceRead`] |
//! | `READ_RPC_VOICE` (second, documented as "update a user's voice settings") | `rpc.voice.write` | [`Scope::RpcVoiceWrite`] |
//! | `INCOMING_WEBHOOK` | `webhook.incoming` | [`Scope::WebhookIncoming`] |
//! | *(missing in Flask-Discord)* | `applications.commands.permissions.update`, `dm_channels.read`, `guilds.members.read`, `identify.premium`, `role_connections.write`, `voice`, `openid`, `sdk.social_layer_presence`, `sdk.social_layer` | the variants of the same names |
//! | *(missing in Flask-Discord; in Discord's OpenAPI spec only)* | `activities.invites.write`, `rpc.video.read`, `rpc.video.write`, `rpc.screenshare.read`, `rpc.screenshare.write` | the variants of the same names (all need Discord's approval) |
//! | `rpc.api` (in Flask-Discord's `DISCORD_OAUTH_ALL_SCOPES`) | removed by Discord | only reachable as [`Scope::Other`] |
//!
//! The same table is available to code as [`SEED_SCOPE_NAMES`] and [`Scope::from_seed_name`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest scope string accepted by [`Scope::Other`] (the longest known one has 40 characters).
pub const MAX_SCOPE_LEN: usize = 100;

/// Why a string is not a valid OAuth2 scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidScope {
    /// The scope string is empty.
    #[error("invalid OAuth2 scope: empty string")]
    Empty,
    /// The scope string is longer than [`MAX_SCOPE_LEN`].
    #[error("invalid OAuth2 scope: {len} characters (at most {MAX_SCOPE_LEN})")]
    TooLong {
        /// Length of the rejected string in bytes.
        len: usize,
    },
    /// The scope string contains a character outside `[A-Za-z0-9._:-]` (whitespace, `%`, `&`,
    /// `=`, `#`, control characters, non-ASCII...), which could inject another scope or parameter.
    #[error("invalid OAuth2 scope: character {ch:?} at byte {index} is not allowed")]
    InvalidChar {
        /// The first offending character.
        ch: char,
        /// Its byte offset in the input.
        index: usize,
    },
}

/// A scope string that is not one of the known [`Scope`] variants.
///
/// It can only be built by parsing (`"x.y".parse::<Scope>()` or [`Scope::other`]), which checks that
/// it is non-empty, at most [`MAX_SCOPE_LEN`] bytes long and made only of `[A-Za-z0-9._:-]`, and
/// that it is not the string of a known scope (so `Other` never aliases a named variant).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomScope(String);

impl CustomScope {
    /// The scope string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! scopes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $s:literal, approval: $approval:literal;
    )*) => {
        /// An OAuth2 scope
        /// ([Discord: OAuth2 Scopes](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes)).
        ///
        /// `Display`, `FromStr` and serde use Discord's exact scope string. Unknown but well-formed
        /// strings become [`Scope::Other`]; malformed ones are an [`InvalidScope`] error.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Scope {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Scope string: `", $s, "`.")]
                $variant,
            )*
            /// Any other well-formed scope string (for example the unofficial ones listed in
            /// [Discord: OAuth2 Scopes](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes),
            /// such as `presences.read`, or a scope added after this release).
            Other(CustomScope),
        }

        impl Scope {
            /// Every named scope, in the order of Discord's documentation.
            pub const ALL_KNOWN: &'static [Scope] = &[$(Scope::$variant,)*];

            /// Discord's exact scope string.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Scope::$variant => $s,)*
                    Scope::Other(s) => s.as_str(),
                }
            }

            /// Whether Discord documents this scope as needing its approval ("approved partners
            /// only", "not currently available for apps", or an access application). Requesting
            /// such a scope without approval fails or behaves in undocumented ways. Returns `false`
            /// for [`Scope::Other`], about which nothing is known.
            #[must_use]
            pub fn requires_approval(&self) -> bool {
                match self {
                    $(Scope::$variant => $approval,)*
                    Scope::Other(_) => false,
                }
            }

            fn known(s: &str) -> Option<Scope> {
                match s {
                    $($s => Some(Scope::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

scopes! {
    /// Read the user's "Now Playing/Recently Played" list. Not currently available for apps.
    ActivitiesRead => "activities.read", approval: true;
    /// Update the user's activity. Not currently available for apps.
    ActivitiesWrite => "activities.write", approval: true;
    /// Send activity invites on the user's behalf. Needs Discord's approval (listed in
    /// Discord's OpenAPI spec, <https://github.com/discord/discord-api-spec>).
    ActivitiesInvitesWrite => "activities.invites.write", approval: true;
    /// Read build data for the user's applications.
    ApplicationsBuildsRead => "applications.builds.read", approval: false;
    /// Upload and update builds for the user's applications. Approved partners only.
    ApplicationsBuildsUpload => "applications.builds.upload", approval: true;
    /// Add the app's commands to a guild. Included by default with `bot`.
    ApplicationsCommands => "applications.commands", approval: false;
    /// Update the app's commands with a Bearer token. Client credentials grant only.
    ApplicationsCommandsUpdate => "applications.commands.update", approval: false;
    /// Update the app's command permissions in guilds where the user may do so.
    ApplicationsCommandsPermissionsUpdate => "applications.commands.permissions.update", approval: false;
    /// Read entitlements for the user's applications.
    ApplicationsEntitlements => "applications.entitlements", approval: false;
    /// Read and update store data (SKUs, store listings, achievements) of the user's applications.
    ApplicationsStoreUpdate => "applications.store.update", approval: false;
    /// Put the app's bot in the guild the user selects. Passthrough: the consent screen is always
    /// shown.
    Bot => "bot", approval: false;
    /// `GET /users/@me/connections`: the user's linked third-party accounts.
    Connections => "connections", approval: false;
    /// The user's DMs and group DMs. Approved partners only.
    DmChannelsRead => "dm_channels.read", approval: true;
    /// Adds `email` and `verified` to `GET /users/@me`.
    Email => "email", approval: false;
    /// Join users to a group DM.
    GdmJoin => "gdm.join", approval: false;
    /// `GET /users/@me/guilds`: basic information about the user's guilds.
    Guilds => "guilds", approval: false;
    /// `PUT /guilds/{guild.id}/members/{user.id}`: add the user to a guild (the bot must be in it).
    GuildsJoin => "guilds.join", approval: false;
    /// `GET /users/@me/guilds/{guild.id}/member`: the user's member object in a guild.
    GuildsMembersRead => "guilds.members.read", approval: false;
    /// `GET /users/@me` without the email.
    Identify => "identify", approval: false;
    /// Read the user's `premium_type` (0 without it). Approved partners only (since 2026-05-05).
    IdentifyPremium => "identify.premium", approval: true;
    /// Local RPC: read messages from all client channels.
    MessagesRead => "messages.read", approval: false;
    /// The user's friends, pending requests and blocked users. Social SDK; needs an access
    /// application.
    RelationshipsRead => "relationships.read", approval: true;
    /// Update the user's role-connection metadata for the app. Not usable with the implicit grant
    /// or with PKCE (see [`Scope::forbids_pkce`]).
    RoleConnectionsWrite => "role_connections.write", approval: false;
    /// Local RPC: control the user's Discord client. Approved partners only.
    Rpc => "rpc", approval: true;
    /// Local RPC: update the user's activity. Approved partners only.
    RpcActivitiesWrite => "rpc.activities.write", approval: true;
    /// Local RPC: receive the user's notifications. Approved partners only.
    RpcNotificationsRead => "rpc.notifications.read", approval: true;
    /// Local RPC: read the user's voice settings and listen for voice events. Approved partners
    /// only.
    RpcVoiceRead => "rpc.voice.read", approval: true;
    /// Local RPC: update the user's voice settings. Approved partners only. (Flask-Discord documents it
    /// under a second, misnamed `READ_RPC_VOICE`.)
    RpcVoiceWrite => "rpc.voice.write", approval: true;
    /// Local RPC: read the user's video status. Needs Discord's approval (listed in Discord's
    /// OpenAPI spec, <https://github.com/discord/discord-api-spec>).
    RpcVideoRead => "rpc.video.read", approval: true;
    /// Local RPC: update the user's video settings. Needs Discord's approval (OpenAPI spec).
    RpcVideoWrite => "rpc.video.write", approval: true;
    /// Local RPC: read the user's screenshare status. Needs Discord's approval (OpenAPI spec).
    RpcScreenshareRead => "rpc.screenshare.read", approval: true;
    /// Local RPC: update the user's screenshare settings. Needs Discord's approval (OpenAPI
    /// spec).
    RpcScreenshareWrite => "rpc.screenshare.write", approval: true;
    /// Connect to voice on the user's behalf. Approved partners only.
    Voice => "voice", approval: true;
    /// Create an incoming webhook, returned in the token response. Passthrough: the consent
    /// screen is always shown.
    WebhookIncoming => "webhook.incoming", approval: false;
    /// Social SDK: OpenID Connect (an `id_token` comes with the token response).
    OpenId => "openid", approval: false;
    /// Social SDK: presence features of the social layer.
    SdkSocialLayerPresence => "sdk.social_layer_presence", approval: false;
    /// Social SDK: the full social layer, a superset of `sdk.social_layer_presence` that adds the
    /// communication features.
    SdkSocialLayer => "sdk.social_layer", approval: false;
}

/// Every member name of Flask-Discord's `flask_discord.DiscordOAuth2Scope`, in Flask-Discord's order, with
/// its scope. Flask-Discord lists `READ_RPC_VOICE` twice: the second one (documented as "update a
/// user's voice settings") is `rpc.voice.write`.
pub const SEED_SCOPE_NAMES: &[(&str, Scope)] = &[
    ("READ_ACTIVITIES", Scope::ActivitiesRead),
    ("WRITE_ACTIVITIES", Scope::ActivitiesWrite),
    ("READ_APPLICATION_BUILDS", Scope::ApplicationsBuildsRead),
    ("UPLOAD_APPLICATION_BUILDS", Scope::ApplicationsBuildsUpload),
    ("APPLICATION_COMMANDS", Scope::ApplicationsCommands),
    (
        "UPDATE_APPLICATION_COMMANDS",
        Scope::ApplicationsCommandsUpdate,
    ),
    (
        "READ_APPLICATION_ENTITLEMENTS",
        Scope::ApplicationsEntitlements,
    ),
    (
        "READ_UPDATE_APPLICATION_STORE",
        Scope::ApplicationsStoreUpdate,
    ),
    ("BOT", Scope::Bot),
    ("CONNECTIONS", Scope::Connections),
    ("EMAIL", Scope::Email),
    ("JOIN_GROUP_DM", Scope::GdmJoin),
    ("GUILDS", Scope::Guilds),
    ("JOIN_GUILDS", Scope::GuildsJoin),
    ("IDENTIFY", Scope::Identify),
    ("READ_MESSAGES", Scope::MessagesRead),
    ("READ_RELATIONSHIPS", Scope::RelationshipsRead),
    ("RPC", Scope::Rpc),
    ("WRITE_RPC_ACTIVITIES", Scope::RpcActivitiesWrite),
    ("READ_RPC_NOTIFICATIONS", Scope::RpcNotificationsRead),
    ("READ_RPC_VOICE", Scope::RpcVoiceRead),
    ("READ_RPC_VOICE", Scope::RpcVoiceWrite),
    ("INCOMING_WEBHOOK", Scope::WebhookIncoming),
];

fn validate_scope_str(s: &str) -> Result<(), InvalidScope> {
    if s.is_empty() {
        return Err(InvalidScope::Empty);
    }
    if s.len() > MAX_SCOPE_LEN {
        return Err(InvalidScope::TooLong { len: s.len() });
    }
    if let Some((index, ch)) = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(InvalidScope::InvalidChar { ch, index });
    }
    Ok(())
}

impl Scope {
    /// Parses one scope string: a named variant when known, else a validated [`Scope::Other`].
    ///
    /// # Errors
    /// [`InvalidScope`] when the string is empty, too long, or contains anything outside
    /// `[A-Za-z0-9._:-]` (for example `"identify email"`, `"identify%20email"` or `"a\n"`).
    pub fn other(s: &str) -> Result<Scope, InvalidScope> {
        s.parse()
    }

    /// The scope for a member name of Flask-Discord's `DiscordOAuth2Scope` (for example
    /// `"READ_MESSAGES"` gives [`Scope::MessagesRead`]). The ambiguous `"READ_RPC_VOICE"` gives
    /// [`Scope::RpcVoiceRead`]; see [`SEED_SCOPE_NAMES`].
    #[must_use]
    pub fn from_seed_name(name: &str) -> Option<Scope> {
        SEED_SCOPE_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.clone())
    }

    /// Passthrough scopes (`bot`, `webhook.incoming`) always show the consent screen, whatever
    /// the [`Prompt`]
    /// ([Discord: Authorization Code Grant](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant)).
    #[must_use]
    pub fn is_passthrough(&self) -> bool {
        matches!(self, Scope::Bot | Scope::WebhookIncoming)
    }

    /// Whether the scope cannot be requested with PKCE: `role_connections.write` makes the
    /// authorize endpoint answer `invalid_scope` when a code challenge is present
    /// ([discord-api-docs#5751](https://github.com/discord/discord-api-docs/issues/5751)). It
    /// cannot be used with the implicit grant either.
    #[must_use]
    pub fn forbids_pkce(&self) -> bool {
        matches!(self, Scope::RoleConnectionsWrite)
    }

    /// Whether this is a named variant (not [`Scope::Other`]).
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Scope::Other(_))
    }
}

impl FromStr for Scope {
    type Err = InvalidScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(known) = Scope::known(s) {
            return Ok(known);
        }
        validate_scope_str(s)?;
        Ok(Scope::Other(CustomScope(s.to_owned())))
    }
}

impl TryFrom<&str> for Scope {
    type Error = InvalidScope;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for Scope {
    type Error = InvalidScope;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An ordered, deduplicated set of scopes (insertion order is kept, which is the order sent to
/// Discord).
///
/// `Display` and serde use the space-separated form of the authorize URL and of the token
/// response's `scope` field (`"identify guilds"`). Deserializing also accepts a JSON array of
/// strings, the form of `GET /oauth2/@me`'s `scopes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        Scopes(Vec::new())
    }

    /// Parses a space-separated scope list such as a token response's `scope`. Runs of
    /// whitespace, leading and trailing whitespace are tolerated; duplicates are dropped.
    ///
    /// # Errors
    /// [`InvalidScope`] for the first malformed item (for example one containing `%`).
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        s.split_ascii_whitespace().map(str::parse).collect()
    }

    /// Adds a scope; returns `false` if it was already present (the set is unchanged).
    pub fn insert(&mut self, scope: Scope) -> bool {
        if self.0.contains(&scope) {
            false
        } else {
            self.0.push(scope);
            true
        }
    }

    /// Removes a scope; returns whether it was present.
    pub fn remove(&mut self, scope: &Scope) -> bool {
        let before = self.0.len();
        self.0.retain(|s| s != scope);
        self.0.len() != before
    }

    /// Whether the set contains `scope`.
    #[must_use]
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `other` is in `self`.
    #[must_use]
    pub fn is_superset(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.contains(s))
    }

    /// The scopes of `required` that are missing from `self`, in `required`'s order.
    #[must_use]
    pub fn missing<'a>(&self, required: &'a Scopes) -> Vec<&'a Scope> {
        required.0.iter().filter(|s| !self.contains(s)).collect()
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Scope> {
        self.0.iter()
    }

    /// Number of scopes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes as a slice, in insertion order.
    #[must_use]
    pub fn as_slice(&self) -> &[Scope] {
        &self.0
    }

    /// Whether any scope is a passthrough scope (`bot`, `webhook.incoming`), for which Discord
    /// always shows the consent screen.
    #[must_use]
    pub fn has_passthrough(&self) -> bool {
        self.0.iter().any(Scope::is_passthrough)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = InvalidScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::parse(s)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = Scopes::new();
        set.extend(iter);
        set
    }
}

impl Extend<Scope> for Scopes {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        for s in iter {
            self.insert(s);
        }
    }
}

impl From<Scope> for Scopes {
    fn from(scope: Scope) -> Self {
        Scopes(vec![scope])
    }
}

impl<const N: usize> From<[Scope; N]> for Scopes {
    fn from(scopes: [Scope; N]) -> Self {
        scopes.into_iter().collect()
    }
}

impl IntoIterator for Scopes {
    type Item = Scope;
    type IntoIter = std::vec::IntoIter<Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::slice::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scopes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a space-separated scope string or an array of scope strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scopes, E> {
                Scopes::parse(v).map_err(E::custom)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Scopes, A::Error> {
                let mut set = Scopes::new();
                while let Some(s) = seq.next_element::<Scope>()? {
                    set.insert(s);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The authorize URL's `prompt` parameter
/// ([Discord: Authorization Code Grant](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant)).
///
/// The default is [`Prompt::None`]: a returning user who already granted the same scopes goes
/// straight back to the app without seeing the consent screen again. Flask-Discord's
/// `create_session(prompt=True)` default forced re-consent on every login (study B16), which is
/// needless friction. Passthrough scopes (`bot`, `webhook.incoming`) always show the screen
/// anyway, and a user who has not yet authorized the scopes always sees it, so `None` never
/// skips a consent that is actually needed. Use [`Prompt::Consent`] to force the screen, for
/// example to let the user pick another account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// `prompt=consent`: always show the authorization screen, even if already authorized.
    Consent,
    /// `prompt=none`: skip the screen when the same scopes were already granted.
    #[default]
    None,
}

impl Prompt {
    /// The parameter value: `"consent"` or `"none"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::Consent => "consent",
            Prompt::None => "none",
        }
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a `prompt` value other than `consent` or `none`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid prompt value (expected \"consent\" or \"none\")")]
pub struct InvalidPrompt;

impl FromStr for Prompt {
    type Err = InvalidPrompt;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "consent" => Ok(Prompt::Consent),
            "none" => Ok(Prompt::None),
            _ => Err(InvalidPrompt),
        }
    }
}

impl Serialize for Prompt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
