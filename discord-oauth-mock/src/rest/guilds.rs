//! Guilds and their members: `GET /users/@me/guilds/{guild_id}/member`
//! (<https://discord.com/developers/docs/resources/user#get-current-user-guild-member>),
//! `PUT /guilds/{guild_id}/members/{user_id}`, Add Guild Member
//! (<https://discord.com/developers/docs/resources/guild#add-guild-member>), and, with the bot
//! token, `GET /guilds/{guild_id}` (<https://discord.com/developers/docs/resources/guild#get-guild>)
//! and `GET /guilds/{guild_id}/members/{user_id}`
//! (<https://discord.com/developers/docs/resources/guild#get-guild-member>).
//!
//! Must not import the other endpoint groups, `routes`, `mount`, `gate` or `server`.

use super::{json_body, not_an_object};
use crate::api::{Auth, Call};
use crate::objects::{full_guild_json, member_json};
use crate::seed::{SeedGuild, SeedMember};
use crate::util::{self, Resp, discord_error, form_error, iso8601, json, no_content, unauthorized};
use serde_json::Value;
use std::time::Instant;

/// Permission bits used by the checks below
/// (<https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags>).
const CREATE_INSTANT_INVITE: u64 = 1;
const ADMINISTRATOR: u64 = 8;
const MUTE_MEMBERS: u64 = 1 << 22;
const DEAFEN_MEMBERS: u64 = 1 << 23;
const MANAGE_NICKNAMES: u64 = 1 << 27;
const MANAGE_ROLES: u64 = 1 << 28;

/// `GET /users/@me/guilds/{guild_id}/member` (scope `guilds.members.read`).
pub(crate) fn my_member(call: &mut Call<'_>) -> Resp {
    let Some(a) = call.auth.bearer("guilds.members.read") else {
        return unauthorized();
    };
    let member = call
        .st
        .guild(call.ids.get("guild_id"))
        .and_then(|guild| guild.member(a.user_id));
    match (member, call.shared.user(a.user_id)) {
        (Some(m), Some(u)) => json(200, &member_json(&m, &u)),
        _ => discord_error(404, 10004, "Unknown Guild"),
    }
}

/// The guild of a bot call: 401 without the bot token, 404 10004 for an unknown guild, 403
/// 50001 when the bot is not in it.
fn bot_guild<'a>(call: &'a Call<'_>) -> Result<&'a SeedGuild, Resp> {
    if !matches!(call.auth, Auth::Bot) {
        return Err(unauthorized());
    }
    let Some(guild) = call.st.guild(call.ids.get("guild_id")) else {
        return Err(discord_error(404, 10004, "Unknown Guild"));
    };
    if guild.bot_permissions.is_none() {
        return Err(discord_error(403, 50001, "Missing Access"));
    }
    Ok(guild)
}

/// `GET /guilds/{guild_id}` (bot only): the guild object, with its roles and `owner_id`.
pub(crate) fn get_guild(call: &mut Call<'_>) -> Resp {
    match bot_guild(call) {
        Ok(guild) => json(200, &full_guild_json(guild)),
        Err(r) => r,
    }
}

/// `GET /guilds/{guild_id}/members/{user_id}` (bot only): the member with its role ids, or 404
/// 10007 Unknown Member.
pub(crate) fn get_member(call: &mut Call<'_>) -> Resp {
    let guild = match bot_guild(call) {
        Ok(guild) => guild,
        Err(r) => return r,
    };
    let user_id = call.ids.get("user_id");
    let member = guild.member(user_id);
    match (member, call.shared.user(user_id)) {
        (Some(m), Some(u)) => json(200, &member_json(&m, &u)),
        _ => discord_error(404, 10007, "Unknown Member"),
    }
}

/// The JSON body of Add Guild Member.
struct AddMember {
    access_token: String,
    nick: Option<String>,
    roles: Vec<u64>,
    mute: bool,
    deaf: bool,
}

impl AddMember {
    /// The permissions the bot needs for this body.
    fn needs(&self) -> u64 {
        CREATE_INSTANT_INVITE
            | if self.nick.is_some() {
                MANAGE_NICKNAMES
            } else {
                0
            }
            | if self.roles.is_empty() {
                0
            } else {
                MANAGE_ROLES
            }
            | if self.mute { MUTE_MEMBERS } else { 0 }
            | if self.deaf { DEAFEN_MEMBERS } else { 0 }
    }
}

/// `PUT /guilds/{guild_id}/members/{user_id}` (bot only): `201` with the new member, `204` when
/// the user already is one. Checks in Discord's order: bot token, guild, bot in the guild, body,
/// the user's token, the bot's permissions, membership, roles, user.
pub(crate) fn add_member(call: &mut Call<'_>) -> Resp {
    let (guild_id, user_id) = (call.ids.get("guild_id"), call.ids.get("user_id"));
    if !matches!(call.auth, Auth::Bot) {
        return unauthorized();
    }
    let Some(guild) = call.st.guild(guild_id) else {
        return discord_error(404, 10004, "Unknown Guild");
    };
    let Some(bot_perms) = guild.bot_permissions else {
        return discord_error(403, 50001, "Missing Access");
    };
    let body = match json_body(call.parts, call.body).and_then(|b| parse_add_member(&b)) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !user_token_ok(call, &body.access_token, user_id) {
        return discord_error(403, 50025, "Invalid OAuth2 access token provided");
    }
    let need = body.needs();
    if bot_perms & ADMINISTRATOR == 0 && bot_perms & need != need {
        return discord_error(403, 50013, "Missing Permissions");
    }
    if guild.has_member(user_id) {
        return no_content();
    }
    if body
        .roles
        .iter()
        .any(|r| !guild.roles.iter().any(|gr| gr.id == *r))
    {
        return discord_error(404, 10011, "Unknown Role");
    }
    let Some(user) = call.shared.user(user_id) else {
        return discord_error(404, 10013, "Unknown User");
    };
    let member = new_member(guild, user_id, body);
    let out = member_json(&member, &user);
    if let Some(g) = call.st.guilds.iter_mut().find(|g| g.id == guild_id) {
        g.members.push(member);
        g.approximate_member_count += 1;
    }
    call.st.stats.members_added += 1;
    json(201, &out)
}

/// The user's token must be live, belong to that user and carry `guilds.join`; a stale,
/// refreshed, revoked or foreign token gives 50025, not 401
/// (<https://discord.com/developers/docs/resources/guild#add-guild-member>).
fn user_token_ok(call: &Call<'_>, token: &str, user_id: u64) -> bool {
    call.st
        .access
        .get(token)
        .is_some_and(|a| !a.expired(Instant::now()) && a.user_id == user_id && a.has("guilds.join"))
}

/// The member to add, with the permissions of `@everyone` and of its roles.
fn new_member(guild: &SeedGuild, user_id: u64, body: AddMember) -> SeedMember {
    let permissions = guild
        .roles
        .iter()
        .filter(|r| r.id == guild.id || body.roles.contains(&r.id))
        .fold(0u64, |acc, r| acc | r.permissions);
    SeedMember {
        user_id,
        nick: body.nick,
        roles: body.roles,
        joined_at: iso8601((util::now_unix_f64() * 1000.0) as i64),
        permissions,
        deaf: body.deaf,
        mute: body.mute,
        avatar: None,
        premium_since: None,
        pending: false,
        flags: 0,
    }
}

/// Checks the body field by field, as Discord reports them (first error wins).
fn parse_add_member(b: &Value) -> Result<AddMember, Resp> {
    if !b.is_object() {
        // A whole-body error: `errors._errors`.
        return Err(not_an_object());
    }
    Ok(AddMember {
        access_token: access_token(b.get("access_token"))?,
        nick: nick(b.get("nick"))?,
        roles: roles(b.get("roles"))?,
        mute: flag(b, "mute")?,
        deaf: flag(b, "deaf")?,
    })
}

/// `access_token`: a required string.
fn access_token(v: Option<&Value>) -> Result<String, Resp> {
    match v {
        None | Some(Value::Null) => Err(form_error(
            "access_token",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(form_error(
            "access_token",
            "BASE_TYPE_STRING",
            &format!("Could not interpret \"{other}\" as string."),
        )),
    }
}

/// `nick`: an optional string of at most 32 characters.
fn nick(v: Option<&Value>) -> Result<Option<String>, Resp> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 32 => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(form_error(
            "nick",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 32 in length.",
        )),
        Some(_) => Err(form_error(
            "nick",
            "BASE_TYPE_STRING",
            "Could not interpret value as string.",
        )),
    }
}

/// `roles`: an optional array of snowflake strings.
fn roles(v: Option<&Value>) -> Result<Vec<u64>, Resp> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(form_error(
                "roles",
                "BASE_TYPE_ARRAY",
                "Could not interpret value as array.",
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.as_str().and_then(util::snowflake).ok_or_else(|| {
                form_error(
                    "roles",
                    "NUMBER_TYPE_COERCE",
                    &format!("Value at index {i} is not snowflake."),
                )
            })
        })
        .collect()
}

/// `mute` / `deaf`: an optional boolean.
fn flag(b: &Value, k: &str) -> Result<bool, Resp> {
    match b.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(x)) => Ok(*x),
        Some(_) => Err(form_error(
            k,
            "BASE_TYPE_BOOLEAN",
            "Must be either true or false.",
        )),
    }
}
