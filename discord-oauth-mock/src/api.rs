//! REST endpoints under `/api/v10` (discord-api.md §2, §3, §6).

use crate::seed::{SeedConnection, SeedGuild, SeedMember, SeedUser};
use crate::server::Kind;
use crate::state::{Access, Shared, State};
use crate::util::{
    Resp, discord_error, form_error, form_error_top, iso8601, json, no_content, not_found,
    now_unix_f64, unauthorized,
};
use axum::http::{HeaderMap, header, request::Parts};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// Permission bits used by the checks below (discord-api.md §7).
const CREATE_INSTANT_INVITE: u64 = 1;
const ADMINISTRATOR: u64 = 8;
const MUTE_MEMBERS: u64 = 1 << 22;
const DEAFEN_MEMBERS: u64 = 1 << 23;
const MANAGE_NICKNAMES: u64 = 1 << 27;
const MANAGE_ROLES: u64 = 1 << 28;

/// Who is calling.
pub(crate) enum Auth {
    /// No `Authorization` header.
    None,
    /// The right bot token.
    Bot,
    /// `Bot <wrong token>`.
    BadBot,
    /// A live (unexpired, unrevoked) access token.
    Bearer(Access),
    /// `Bearer <unknown, expired or revoked token>`.
    BadBearer,
    /// Anything else.
    Other,
}

/// Reads the `Authorization` header (discord-api.md §0).
pub(crate) fn authenticate(shared: &Shared, st: &State, headers: &HeaderMap) -> Auth {
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::None;
    };
    if let Some(t) = h.strip_prefix("Bot ") {
        if t == shared.bot_token {
            Auth::Bot
        } else {
            Auth::BadBot
        }
    } else if let Some(t) = h.strip_prefix("Bearer ") {
        match st.access.get(t) {
            Some(a) if !a.expired(Instant::now()) => Auth::Bearer(a.clone()),
            _ => Auth::BadBearer,
        }
    } else {
        Auth::Other
    }
}

/// A Bearer token carrying `scope`, else `None` (the caller answers 401, discord-api.md §6.3).
fn bearer<'a>(auth: &'a Auth, scope: &str) -> Option<&'a Access> {
    match auth {
        Auth::Bearer(a) if a.has(scope) => Some(a),
        _ => None,
    }
}

/// Dispatches a REST request (authentication already read, rate limits already applied).
pub(crate) fn rest(
    shared: &Shared,
    st: &mut State,
    kind: &Kind,
    auth: &Auth,
    parts: &Parts,
    body: &[u8],
) -> Resp {
    let query = parts.uri.query().unwrap_or("");
    match kind {
        Kind::UsersMe => users_me(shared, auth),
        Kind::MyGuilds => my_guilds(shared, st, auth, query),
        Kind::MyConnections => {
            match bearer(auth, "connections").and_then(|a| shared.user(a.user_id)) {
                Some(u) => json(
                    200,
                    &Value::Array(u.connections.iter().map(connection_json).collect()),
                ),
                None => unauthorized(),
            }
        }
        Kind::MyGuildMember(g) => {
            let Some(a) = bearer(auth, "guilds.members.read") else {
                return unauthorized();
            };
            let member = st
                .guild(*g)
                .and_then(|guild| guild.members.iter().find(|m| m.user_id == a.user_id));
            match (member, shared.user(a.user_id)) {
                (Some(m), Some(u)) => json(200, &member_json(m, u)),
                _ => discord_error(404, 10004, "Unknown Guild"),
            }
        }
        Kind::OAuth2Me => oauth2_me(shared, auth),
        Kind::ApplicationsMe => match auth {
            Auth::Bot => json(200, &application_json(shared, st, true)),
            _ => unauthorized(),
        },
        Kind::GetUser(id) => match auth {
            Auth::Bot => match shared.user(*id) {
                Some(u) => json(200, &user_json(u, false, false)),
                None => discord_error(404, 10013, "Unknown User"),
            },
            _ => unauthorized(),
        },
        Kind::AddMember(g, u) => add_member(shared, st, auth, parts, *g, *u, body),
        Kind::RoleConnection(app) => role_connection(shared, st, auth, parts, *app, body),
        Kind::RoleMetadata(app) => role_metadata(shared, st, auth, parts, *app, body),
        Kind::Authorize | Kind::Token | Kind::Revoke | Kind::Cdn => not_found(),
    }
}

/// Full user object (discord-api.md §3.1). `email`/`verified` only with the `email` scope;
/// `premium_type` is 0 without `identify.premium`.
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

/// Partial user, as embedded in members and `GET /oauth2/@me`.
pub(crate) fn partial_user_json(u: &SeedUser) -> Value {
    let mut v = json!({
        "id": u.id.to_string(),
        "username": u.username,
        "avatar": u.avatar,
        "discriminator": u.discriminator,
        "global_name": u.global_name,
        "public_flags": u.public_flags,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if u.bot {
        v["bot"] = json!(true);
    }
    v
}

/// Connection object (discord-api.md §3.3).
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

/// Guild member object with `user` (discord-api.md §3.2).
pub(crate) fn member_json(m: &SeedMember, u: &SeedUser) -> Value {
    json!({
        "user": partial_user_json(u),
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

/// Partial guild of `GET /users/@me/guilds` (discord-api.md §2.1).
fn partial_guild_json(g: &SeedGuild, owner: bool, permissions: u64, counts: bool) -> Value {
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

/// Full guild object, as in the bot-flow token response (oauth2.mdx "Extended Bot Authorization").
pub(crate) fn full_guild_json(g: &SeedGuild) -> Value {
    let roles: Vec<Value> = g
        .roles
        .iter()
        .map(|r| {
            json!({
                "id": r.id.to_string(), "name": r.name, "color": r.color, "hoist": false,
                "icon": null, "unicode_emoji": null, "position": r.position,
                "permissions": r.permissions.to_string(), "managed": false, "mentionable": false,
                "flags": 0,
            })
        })
        .collect();
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": g.icon,
        "description": null,
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
        "roles": roles,
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": null,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "vanity_url_code": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "rules_channel_id": null,
        "public_updates_channel_id": null,
        "safety_alerts_channel_id": null,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": false,
    })
}

/// The application object (discord-api.md §3.5).
pub(crate) fn application_json(shared: &Shared, st: &State, full: bool) -> Value {
    let mut v = json!({
        "id": shared.client_id.to_string(),
        "name": shared.app_name,
        "icon": null,
        "description": "A fake Discord application served by discord-oauth-mock.",
        "hook": true,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "c8cde6a3c8c6e49d86af3191287b3ce255872be1fff6dc285bdb420c06a2c3c8",
    });
    if full {
        let owner = shared.seed_users.first().map(partial_user_json);
        v["flags"] = json!(0);
        v["flags_new"] = json!("0");
        v["team"] = Value::Null;
        v["owner"] = json!(owner);
        v["bot"] = partial_user_json(&shared.bot);
        v["redirect_uris"] = json!(st.redirect_uris);
        v["summary"] = json!("");
        v["type"] = Value::Null;
        v["tags"] = json!([]);
        v["interactions_endpoint_url"] = Value::Null;
        v["role_connections_verification_url"] = Value::Null;
        v["approximate_guild_count"] = json!(
            st.guilds
                .iter()
                .filter(|g| g.bot_permissions.is_some())
                .count()
        );
    }
    v
}

fn users_me(shared: &Shared, auth: &Auth) -> Resp {
    match auth {
        Auth::Bot => json(200, &user_json(&shared.bot, false, false)),
        Auth::Bearer(a) if a.has("identify") => match shared.user(a.user_id) {
            Some(u) => json(
                200,
                &user_json(u, a.has("email"), a.has("identify.premium")),
            ),
            None => unauthorized(),
        },
        _ => unauthorized(),
    }
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    crate::util::parse_form(q.as_bytes())
}

fn my_guilds(shared: &Shared, st: &State, auth: &Auth, query: &str) -> Resp {
    let user = match auth {
        Auth::Bot => None,
        Auth::Bearer(a) if a.has("guilds") => Some(a.user_id),
        _ => return unauthorized(),
    };
    let q = query_pairs(query);
    let get = |k: &str| crate::util::get(&q, k);
    let mut limit = 200usize;
    if let Some(l) = get("limit") {
        match l.parse::<i64>() {
            Err(_) => {
                return form_error(
                    "limit",
                    "NUMBER_TYPE_COERCE",
                    &format!("Value \"{l}\" is not int."),
                );
            }
            Ok(n) if n < 1 => {
                return form_error(
                    "limit",
                    "NUMBER_TYPE_MIN",
                    "int value should be greater than or equal to 1.",
                );
            }
            Ok(n) if n > 200 => {
                return form_error(
                    "limit",
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 200.",
                );
            }
            Ok(n) => limit = n as usize,
        }
    }
    let snow = |k: &str| -> Result<Option<u64>, Resp> {
        match get(k) {
            None => Ok(None),
            Some(v) => crate::util::snowflake(v)
                .map(Some)
                .ok_or_else(|| crate::util::not_snowflake(k, v)),
        }
    };
    let before = match snow("before") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let after = match snow("after") {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Boolean query strings: True/true/1, False/false/0 (discord-api.md §0).
    let with_counts = match get("with_counts") {
        None => false,
        Some("True" | "true" | "1") => true,
        Some("False" | "false" | "0") => false,
        Some(v) => {
            return form_error(
                "with_counts",
                "BOOLEAN_TYPE_COERCE",
                &format!("Value \"{v}\" is not a valid boolean."),
            );
        }
    };
    let mut list: Vec<(&SeedGuild, bool, u64)> = st
        .guilds
        .iter()
        .filter_map(|g| match user {
            Some(u) => g
                .members
                .iter()
                .find(|m| m.user_id == u)
                .map(|m| (g, g.owner_id == u, m.permissions)),
            None => g.bot_permissions.map(|p| (g, false, p)),
        })
        .filter(|(g, _, _)| after.is_none_or(|a| g.id > a) && before.is_none_or(|b| g.id < b))
        .collect();
    list.sort_by_key(|(g, _, _)| g.id);
    let page: Vec<Value> = if before.is_some() && after.is_none() && list.len() > limit {
        // Closest to `before`.
        list[list.len() - limit..]
            .iter()
            .map(|(g, o, p)| partial_guild_json(g, *o, *p, with_counts))
            .collect()
    } else {
        list.iter()
            .take(limit)
            .map(|(g, o, p)| partial_guild_json(g, *o, *p, with_counts))
            .collect()
    };
    let _ = shared;
    json(200, &Value::Array(page))
}

fn oauth2_me(shared: &Shared, auth: &Auth) -> Resp {
    // Any Bearer token; a Bot token gets 401 (discord-api.md §2.3, GH#3945).
    let Auth::Bearer(a) = auth else {
        return unauthorized();
    };
    let mut scopes = a.scopes.clone();
    scopes.sort();
    let mut v = json!({
        "application": {
            "id": shared.client_id.to_string(),
            "name": shared.app_name,
            "icon": null,
            "description": "A fake Discord application served by discord-oauth-mock.",
            "hook": true,
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": "c8cde6a3c8c6e49d86af3191287b3ce255872be1fff6dc285bdb420c06a2c3c8",
        },
        "scopes": scopes,
        "expires": iso8601(a.expires_unix_ms),
    });
    if a.has("identify")
        && let Some(u) = shared.user(a.user_id)
    {
        v["user"] = partial_user_json(u);
    }
    json(200, &v)
}

/// Whether the request says its body is JSON: `application/json`, parameters such as
/// `; charset=utf-8` allowed, case-insensitive.
fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
}

/// Parses a JSON body. A non-empty body needs `Content-Type: application/json`: a missing or
/// other type is Discord's 50035 with a whole-body error (discord-api.md §0 "Content-Type", §6.2);
/// invalid JSON is 50109. An empty body reads as `{}`.
fn json_body(parts: &Parts, body: &[u8]) -> Result<Value, Resp> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    if !is_json(parts) {
        return Err(form_error_top(
            "CONTENT_TYPE_INVALID",
            "Expected \"Content-Type\" header to be one of {'application/json'}.",
        ));
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| discord_error(400, 50109, "The request body contains invalid JSON."))
}

fn add_member(
    shared: &Shared,
    st: &mut State,
    auth: &Auth,
    parts: &Parts,
    guild_id: u64,
    user_id: u64,
    body: &[u8],
) -> Resp {
    // Add Guild Member (discord-api.md §2.2).
    if !matches!(auth, Auth::Bot) {
        return unauthorized();
    }
    let Some(guild) = st.guild(guild_id) else {
        return discord_error(404, 10004, "Unknown Guild");
    };
    let Some(bot_perms) = guild.bot_permissions else {
        return discord_error(403, 50001, "Missing Access");
    };
    let b = match json_body(parts, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !b.is_object() {
        // A whole-body error: `errors._errors` (discord-api.md §6.1).
        return form_error_top(
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        );
    }
    let token = match b.get("access_token") {
        None | Some(Value::Null) => {
            return form_error(
                "access_token",
                "BASE_TYPE_REQUIRED",
                "This field is required",
            );
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return form_error(
                "access_token",
                "BASE_TYPE_STRING",
                &format!("Could not interpret \"{other}\" as string."),
            );
        }
    };
    let nick = match b.get("nick") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 32 => Some(s.clone()),
        Some(Value::String(_)) => {
            return form_error(
                "nick",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 32 in length.",
            );
        }
        Some(_) => {
            return form_error(
                "nick",
                "BASE_TYPE_STRING",
                "Could not interpret value as string.",
            );
        }
    };
    let mut roles = Vec::new();
    match b.get("roles") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (i, r) in a.iter().enumerate() {
                match r.as_str().and_then(crate::util::snowflake) {
                    Some(id) => roles.push(id),
                    None => {
                        return form_error(
                            "roles",
                            "NUMBER_TYPE_COERCE",
                            &format!("Value at index {i} is not snowflake."),
                        );
                    }
                }
            }
        }
        Some(_) => {
            return form_error(
                "roles",
                "BASE_TYPE_ARRAY",
                "Could not interpret value as array.",
            );
        }
    }
    let flag = |k: &str| -> Result<bool, Resp> {
        match b.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(x)) => Ok(*x),
            Some(_) => Err(form_error(
                k,
                "BASE_TYPE_BOOLEAN",
                "Must be either true or false.",
            )),
        }
    };
    let (mute, deaf) = match (flag("mute"), flag("deaf")) {
        (Ok(m), Ok(d)) => (m, d),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    // The user's token must be live, belong to that user and carry guilds.join; a stale,
    // refreshed, revoked or foreign token gives 50025 (discord-api.md §2.2, §6.3).
    let ok = st.access.get(&token).is_some_and(|a| {
        !a.expired(Instant::now()) && a.user_id == user_id && a.has("guilds.join")
    });
    if !ok {
        return discord_error(403, 50025, "Invalid OAuth2 access token provided");
    }
    let admin = bot_perms & ADMINISTRATOR != 0;
    let need = CREATE_INSTANT_INVITE
        | if nick.is_some() { MANAGE_NICKNAMES } else { 0 }
        | if roles.is_empty() { 0 } else { MANAGE_ROLES }
        | if mute { MUTE_MEMBERS } else { 0 }
        | if deaf { DEAFEN_MEMBERS } else { 0 };
    if !admin && bot_perms & need != need {
        return discord_error(403, 50013, "Missing Permissions");
    }
    if guild.has_member(user_id) {
        return no_content();
    }
    if let Some(bad) = roles
        .iter()
        .find(|r| !guild.roles.iter().any(|gr| gr.id == **r))
    {
        let _ = bad;
        return discord_error(404, 10011, "Unknown Role");
    }
    let Some(user) = shared.user(user_id) else {
        return discord_error(404, 10013, "Unknown User");
    };
    let perms = guild
        .roles
        .iter()
        .filter(|r| r.id == guild_id || roles.contains(&r.id))
        .fold(0u64, |acc, r| acc | r.permissions);
    let member = SeedMember {
        user_id,
        nick,
        roles,
        joined_at: iso8601((now_unix_f64() * 1000.0) as i64),
        permissions: perms,
        deaf,
        mute,
        avatar: None,
        premium_since: None,
        pending: false,
        flags: 0,
    };
    let out = member_json(&member, user);
    if let Some(g) = st.guilds.iter_mut().find(|g| g.id == guild_id) {
        g.members.push(member);
        g.approximate_member_count += 1;
    }
    st.stats.members_added += 1;
    json(201, &out)
}

fn role_connection(
    shared: &Shared,
    st: &mut State,
    auth: &Auth,
    parts: &Parts,
    app: u64,
    body: &[u8],
) -> Resp {
    let Some(a) = bearer(auth, "role_connections.write") else {
        return unauthorized();
    };
    if app != shared.client_id {
        // The token only speaks for this application.
        return discord_error(403, 50001, "Missing Access");
    }
    let user = a.user_id;
    match parts.method.as_str() {
        "GET" => json(
            200,
            &st.role_connections.get(&user).cloned().unwrap_or_else(
                || json!({ "platform_name": null, "platform_username": null, "metadata": {} }),
            ),
        ),
        "DELETE" => {
            st.role_connections.remove(&user);
            no_content()
        }
        _ => {
            let b = match json_body(parts, body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let Some(obj) = b.as_object() else {
                return form_error_top(
                    "DICT_TYPE_CONVERT",
                    "Only dictionaries may be used in a DictType",
                );
            };
            let text = |k: &str, max: usize| -> Result<Value, Resp> {
                match obj.get(k) {
                    None | Some(Value::Null) => Ok(Value::Null),
                    Some(Value::String(s)) if s.chars().count() <= max => Ok(json!(s)),
                    Some(Value::String(_)) => Err(form_error(
                        k,
                        "BASE_TYPE_MAX_LENGTH",
                        &format!("Must be {max} or fewer in length."),
                    )),
                    Some(_) => Err(form_error(
                        k,
                        "BASE_TYPE_STRING",
                        "Could not interpret value as string.",
                    )),
                }
            };
            let (name, username) = match (text("platform_name", 50), text("platform_username", 100))
            {
                (Ok(n), Ok(u)) => (n, u),
                (Err(r), _) | (_, Err(r)) => return r,
            };
            let mut meta = Map::new();
            match obj.get("metadata") {
                None | Some(Value::Null) => {}
                Some(Value::Object(m)) => {
                    for (k, v) in m {
                        // Values are stringified (discord-api.md §2.4); numbers and booleans are
                        // accepted and stored as strings, anything else is refused.
                        let s = match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
                            _ => {
                                return form_error(
                                    "metadata",
                                    "BASE_TYPE_STRING",
                                    &format!(
                                        "Value of \"{k}\" could not be interpreted as string."
                                    ),
                                );
                            }
                        };
                        if s.chars().count() > 100 {
                            return form_error(
                                "metadata",
                                "BASE_TYPE_MAX_LENGTH",
                                "Must be 100 or fewer in length.",
                            );
                        }
                        meta.insert(k.clone(), Value::String(s));
                    }
                }
                Some(_) => {
                    return form_error(
                        "metadata",
                        "DICT_TYPE_CONVERT",
                        "Only dictionaries may be used in a DictType",
                    );
                }
            }
            let v =
                json!({ "platform_name": name, "platform_username": username, "metadata": meta });
            st.role_connections.insert(user, v.clone());
            json(200, &v)
        }
    }
}

/// A 50035 error about item `index` of a JSON array body: `errors.<index>.<field>._errors`, or
/// `errors.<index>._errors` when `field` is `_errors` (the item as a whole; discord-api.md §6.1).
fn nested_error(index: usize, field: &str, code: &str, message: &str) -> Resp {
    let leaf = json!({ "_errors": [ { "code": code, "message": message } ] });
    let item = if field == "_errors" {
        leaf
    } else {
        json!({ field: leaf })
    };
    json(
        400,
        &json!({
            "code": 50035,
            "errors": { index.to_string(): item },
            "message": "Invalid Form Body",
        }),
    )
}

fn role_metadata(
    shared: &Shared,
    st: &mut State,
    auth: &Auth,
    parts: &Parts,
    app: u64,
    body: &[u8],
) -> Resp {
    if !matches!(auth, Auth::Bot) {
        return unauthorized();
    }
    if app != shared.client_id {
        return discord_error(403, 50001, "Missing Access");
    }
    if parts.method == "GET" {
        return json(200, &Value::Array(st.role_metadata.clone()));
    }
    let b = match json_body(parts, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(records) = b.as_array() else {
        return form_error_top("BASE_TYPE_ARRAY", "Could not interpret value as array.");
    };
    // At most 5 records; key a-z0-9_ 1..50; type 1..8 (discord-api.md §2.4).
    if records.len() > 5 {
        return form_error_top("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    }
    let mut out = Vec::new();
    let mut keys = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let Some(o) = r.as_object() else {
            return nested_error(
                i,
                "_errors",
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            );
        };
        let ty = o.get("type").and_then(Value::as_u64).unwrap_or(0);
        if !(1..=8).contains(&ty) {
            return nested_error(
                i,
                "type",
                "ENUM_TYPE_COERCE",
                "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8}.",
            );
        }
        let key = o.get("key").and_then(Value::as_str).unwrap_or("");
        if key.is_empty()
            || key.len() > 50
            || !key
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return nested_error(
                i,
                "key",
                "STRING_TYPE_REGEX",
                "String value did not match validation regex.",
            );
        }
        if keys.contains(&key) {
            return nested_error(i, "key", "DUPLICATE_KEY", "Keys must be unique.");
        }
        keys.push(key);
        let text = |k: &str, max: usize| {
            o.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && s.chars().count() <= max)
        };
        let Some(name) = text("name", 100) else {
            return nested_error(
                i,
                "name",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            );
        };
        let Some(description) = text("description", 200) else {
            return nested_error(
                i,
                "description",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 200 in length.",
            );
        };
        let mut rec = json!({ "type": ty, "key": key, "name": name, "description": description });
        for loc in ["name_localizations", "description_localizations"] {
            if let Some(v @ Value::Object(_)) = o.get(loc) {
                rec[loc] = v.clone();
            }
        }
        out.push(rec);
    }
    st.role_metadata = out.clone();
    json(200, &Value::Array(out))
}
