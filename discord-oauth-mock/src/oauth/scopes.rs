//! Discord's OAuth2 scopes (<https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes>):
//! which exist, and how the consent page describes them.
//!
//! A leaf of `oauth`: must not import its siblings.

/// Discord's scopes: the 29 official ones, the Social SDK ones and the others the community
/// reference discord-userdoccers lists (<https://github.com/discord-userdoccers/discord-userdoccers>).
/// Anything else gets `error=invalid_scope`.
pub(super) const KNOWN_SCOPES: &[&str] = &[
    "activities.read",
    "activities.write",
    "applications.builds.read",
    "applications.builds.upload",
    "applications.commands",
    "applications.commands.update",
    "applications.commands.permissions.update",
    "applications.entitlements",
    "applications.store.update",
    "bot",
    "connections",
    "dm_channels.read",
    "email",
    "gdm.join",
    "guilds",
    "guilds.join",
    "guilds.members.read",
    "identify",
    "identify.premium",
    "messages.read",
    "relationships.read",
    "role_connections.write",
    "rpc",
    "rpc.activities.write",
    "rpc.notifications.read",
    "rpc.voice.read",
    "rpc.voice.write",
    "voice",
    "webhook.incoming",
    "openid",
    "sdk.social_layer_presence",
    "sdk.social_layer",
    "account.global_name.update",
    "activities.invites.write",
    "application_identities.write",
    "dm_channels.messages.read",
    "dm_channels.messages.write",
    "gateway.connect",
    "guilds.channels.read",
    "lobbies.write",
    "payment_sources.country_code",
    "presences.read",
    "presences.write",
    "relationships.write",
    "rpc.screenshare.read",
    "rpc.screenshare.write",
    "rpc.video.read",
    "rpc.video.write",
];

/// The `error_description` of `invalid_scope`.
pub(super) const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";

/// How the consent page describes a scope.
pub(super) fn scope_text(s: &str) -> &'static str {
    match s {
        "identify" => "Access your username, avatar, and banner",
        "email" => "Access your email address",
        "guilds" => "Know what servers you're in",
        "guilds.join" => "Join servers for you",
        "guilds.members.read" => {
            "Read your member info (nickname, avatar, roles, etc...) for servers you belong to"
        }
        "connections" => "Access your third-party connections",
        "role_connections.write" => "Update your connection and metadata for this app",
        "bot" => "Add a bot to a server",
        "applications.commands" => "Create commands",
        "webhook.incoming" => "Create a webhook in a channel",
        "gdm.join" => "Join group DMs for you",
        "openid" => "Sign you in (OpenID Connect)",
        _ => "Other access",
    }
}
