//! Discord's JSON objects as the fake sends them: users, connections, members, guilds and the
//! application. Every id is a string, nullable fields are sent as `null`, permissions are decimal
//! strings (<https://discord.com/developers/docs/reference#snowflakes>,
//! <https://discord.com/developers/docs/topics/permissions>).
//!
//! Shapes only, no HTTP: must not import `routes`, `mount`, `gate`, `api`, `oauth`, `rest`, `cdn`,
//! `control` or `server`.

use crate::seed::{SeedConnection, SeedGuild, SeedMember, SeedRole, SeedUser};
use crate::state::{Shared, State};
use serde_json::{Value, json};

/// Full user object (<https://discord.com/developers/docs/resources/user#user-object>).
/// `email`/`verified` only with the `email` scope; `premium_type` is 0 without `identify.premium`.
pub(crate) fn user_json(u: &SeedUser, email: bool, premium: bool) -> Value {
    let mut v = json!({
        "id": u.id.to_string(),
        "username": u.username,
        "discriminator": u.discriminator,
        "global_name": u.global_name,
        "avatar": u.avatar,
        "mfa_enabled": u.mfa_enabled,
        "banner": u.banner,
        "accent_color": u.accent_color,
        "locale": u.locale,
        "flags": u.flags,
        "premium_type": if premium { u.premium_type } else { 0 },
        "public_flags": u.public_flags,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if u.bot {
        v["bot"] = json!(true);
    }
    if email {
        v["email"] = json!(u.email);
        v["verified"] = json!(u.verified);
    }
    v
}

/// Public user object, as `GET /users/{user_id}` answers and as embedded in members, the
/// application and `GET /oauth2/@me` (<https://discord.com/developers/docs/resources/user#user-object>;
/// the spec's `UserResponse`, <https://github.com/discord/discord-api-spec>): no private field
/// (`email`, `verified`, `locale`, `mfa_enabled`, `premium_type`).
pub(crate) fn public_user_json(u: &SeedUser) -> Value {
    let mut v = json!({
        "id": u.id.to_string(),
        "username": u.username,
        "avatar": u.avatar,
        "discriminator": u.discriminator,
        "public_flags": u.public_flags,
        "flags": u.flags,
        "banner": u.banner,
        "accent_color": u.accent_color,
        "global_name": u.global_name,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if u.bot {
        v["bot"] = json!(true);
    }
    v
}

/// Connection object (<https://discord.com/developers/docs/resources/user#connection-object>).
pub(crate) fn connection_json(c: &SeedConnection) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "type": c.kind,
        "revoked": c.revoked,
        "integrations": c.integrations,
        "verified": c.verified,
        "friend_sync": c.friend_sync,
        "show_activity": c.show_activity,
        "two_way_link": c.two_way_link,
        "visibility": c.visibility,
    })
}

/// Guild member object with `user`
/// (<https://discord.com/developers/docs/resources/guild#guild-member-object>).
pub(crate) fn member_json(m: &SeedMember, u: &SeedUser) -> Value {
    json!({
        "user": public_user_json(u),
        "nick": m.nick,
        "avatar": m.avatar,
        "banner": null,
        "roles": m.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "joined_at": m.joined_at,
        "premium_since": m.premium_since,
        "deaf": m.deaf,
        "mute": m.mute,
        "flags": m.flags,
        "pending": m.pending,
        "communication_disabled_until": null,
        "avatar_decoration_data": null,
        "collectibles": null,
    })
}

/// Partial guild of `GET /users/@me/guilds`
/// (<https://discord.com/developers/docs/resources/user#get-current-user-guilds>).
pub(crate) fn partial_guild_json(
    g: &SeedGuild,
    owner: bool,
    permissions: u64,
    counts: bool,
) -> Value {
    let mut v = json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": g.icon,
        "banner": g.banner,
        "owner": owner,
        "permissions": permissions.to_string(),
        "features": g.features,
    });
    if counts {
        v["approximate_member_count"] = json!(g.approximate_member_count);
        v["approximate_presence_count"] = json!(g.approximate_presence_count);
    }
    v
}

/// Role object (<https://discord.com/developers/docs/topics/permissions#role-object>).
fn role_json(r: &SeedRole) -> Value {
    json!({
        "id": r.id.to_string(), "name": r.name, "color": r.color, "hoist": false,
        "icon": null, "unicode_emoji": null, "position": r.position,
        "permissions": r.permissions.to_string(), "managed": false, "mentionable": false,
        "flags": 0,
        "colors": { "primary_color": r.color, "secondary_color": null, "tertiary_color": null },
    })
}

/// Full guild object, as in the bot-flow token response ("Extended Bot Authorization" of
/// <https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow>).
pub(crate) fn full_guild_json(g: &SeedGuild) -> Value {
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": g.icon,
        "description": null,
        "home_header": null,
        "splash": null,
        "discovery_splash": null,
        "features": g.features,
        "emojis": [],
        "stickers": [],
        "banner": g.banner,
        "owner_id": g.owner_id.to_string(),
        "application_id": null,
        "region": "us-east",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "roles": g.roles.iter().map(role_json).collect::<Vec<_>>(),
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": null,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "rules_channel_id": null,
        "public_updates_channel_id": null,
        "safety_alerts_channel_id": null,
        "nsfw": false,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": false,
        "incidents_data": null,
    })
}

/// The partial application object, as embedded in `GET /oauth2/@me`
/// (<https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information>;
/// the spec's `ApplicationResponse` requires `type`, `flags` and `flags_new`).
pub(crate) fn partial_application_json(shared: &Shared) -> Value {
    json!({
        "id": shared.client_id.to_string(),
        "name": shared.app_name,
        "icon": null,
        "description": "A fake Discord application served by discord-oauth-mock.",
        "summary": "",
        "type": null,
        "hook": true,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "c8cde6a3c8c6e49d86af3191287b3ce255872be1fff6dc285bdb420c06a2c3c8",
        "flags": 0,
        "flags_new": "0",
    })
}

/// The full application object
/// (<https://discord.com/developers/docs/resources/application#application-object>; the spec's
/// `PrivateApplicationResponse`): the counts are the guilds the bot is in, no user install, and
/// the users holding an authorization now.
pub(crate) fn application_json(shared: &Shared, st: &State) -> Value {
    let mut v = partial_application_json(shared);
    let owner = shared.seed_users.first().map(public_user_json);
    v["team"] = Value::Null;
    v["owner"] = json!(owner);
    v["bot"] = public_user_json(&shared.bot);
    v["redirect_uris"] = json!(st.redirect_uris);
    v["tags"] = json!([]);
    v["interactions_endpoint_url"] = Value::Null;
    v["role_connections_verification_url"] = Value::Null;
    v["explicit_content_filter"] = json!(0);
    // No scope that needs Discord's approval was granted to this application.
    v["eligible_oauth2_scopes"] = json!([]);
    v["approximate_guild_count"] = json!(
        st.guilds
            .iter()
            .filter(|g| g.bot_permissions.is_some())
            .count()
    );
    v["approximate_user_install_count"] = json!(0);
    let users: std::collections::HashSet<u64> = st.grants.values().map(|g| g.user_id).collect();
    v["approximate_user_authorization_count"] = json!(users.len());
    v
}
