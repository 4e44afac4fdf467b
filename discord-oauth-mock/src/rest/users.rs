//! Users: `GET /users/@me`, `GET /users/@me/guilds`, `GET /users/@me/connections` and
//! `GET /users/{user_id}` (<https://discord.com/developers/docs/resources/user>).
//!
//! Must not import the other endpoint groups, `routes`, `mount`, `gate` or `server`.

use crate::api::{Auth, Call};
use crate::objects::{connection_json, partial_guild_json, public_user_json, user_json};
use crate::seed::SeedGuild;
use crate::util::{self, Resp, discord_error, form_error, json, unauthorized};
use serde_json::Value;

/// `GET /users/@me`: the bot, or the user of a token with `identify` (`email` adds `email` and
/// `verified`, `identify.premium` the real `premium_type`).
pub(crate) fn me(call: &mut Call<'_>) -> Resp {
    let shared = call.shared;
    match &call.auth {
        Auth::Bot => json(200, &user_json(&shared.bot, false, false)),
        Auth::Bearer(a) if a.has("identify") => match shared.user(a.user_id) {
            Some(u) => json(
                200,
                &user_json(&u, a.has("email"), a.has("identify.premium")),
            ),
            None => unauthorized(),
        },
        _ => unauthorized(),
    }
}

/// `GET /users/@me/connections` (scope `connections`).
pub(crate) fn my_connections(call: &mut Call<'_>) -> Resp {
    match call
        .auth
        .bearer("connections")
        .and_then(|a| call.shared.user(a.user_id))
    {
        Some(u) => json(
            200,
            &Value::Array(u.connections.iter().map(connection_json).collect()),
        ),
        None => unauthorized(),
    }
}

/// `GET /users/{user_id}` (bot only): the public user, without the private fields of
/// `GET /users/@me` (<https://discord.com/developers/docs/resources/user#get-user>).
pub(crate) fn get(call: &mut Call<'_>) -> Resp {
    if !matches!(call.auth, Auth::Bot) {
        return unauthorized();
    }
    match call.shared.user(call.ids.get("user_id")) {
        Some(u) => json(200, &public_user_json(&u)),
        None => discord_error(404, 10013, "Unknown User"),
    }
}

/// The query of `GET /users/@me/guilds`.
struct GuildsQuery {
    limit: usize,
    before: Option<u64>,
    after: Option<u64>,
    with_counts: bool,
}

/// `GET /users/@me/guilds` (scope `guilds`; the bot gets the guilds it is in): partial guilds in
/// id order, `limit` 1..=200 (default 200), paged by `before` / `after`
/// (<https://discord.com/developers/docs/resources/user#get-current-user-guilds>).
pub(crate) fn my_guilds(call: &mut Call<'_>) -> Resp {
    let user = match &call.auth {
        Auth::Bot => None,
        Auth::Bearer(a) if a.has("guilds") => Some(a.user_id),
        _ => return unauthorized(),
    };
    let q = match guilds_query(call.query()) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let mut list: Vec<(&SeedGuild, bool, u64)> = call
        .st
        .guilds
        .iter()
        .filter_map(|g| guild_entry(g, user))
        .filter(|(g, _, _)| q.after.is_none_or(|a| g.id > a) && q.before.is_none_or(|b| g.id < b))
        .collect();
    list.sort_by_key(|(g, _, _)| g.id);
    // With only `before`, the page is the one closest to it.
    let skip = if q.before.is_some() && q.after.is_none() && list.len() > q.limit {
        list.len() - q.limit
    } else {
        0
    };
    let page: Vec<Value> = list[skip..]
        .iter()
        .take(q.limit)
        .map(|(g, o, p)| partial_guild_json(g, *o, *p, q.with_counts))
        .collect();
    json(200, &Value::Array(page))
}

/// A guild of the list with (owner, permissions), if `user` (or, for `None`, the bot) is in it.
fn guild_entry(g: &SeedGuild, user: Option<u64>) -> Option<(&SeedGuild, bool, u64)> {
    match user {
        Some(u) => g.member(u).map(|m| (g, g.owner_id == u, m.permissions)),
        None => g.bot_permissions.map(|p| (g, false, p)),
    }
}

/// Parses and checks the query of `GET /users/@me/guilds`, Discord's 50035 errors included.
fn guilds_query(query: &str) -> Result<GuildsQuery, Resp> {
    let q = util::parse_form(query.as_bytes());
    let get = |k: &str| util::get(&q, k);
    let snow = |k: &str| -> Result<Option<u64>, Resp> {
        match get(k) {
            None => Ok(None),
            Some(v) => util::snowflake(v)
                .map(Some)
                .ok_or_else(|| util::not_snowflake(k, v)),
        }
    };
    let limit = match get("limit") {
        None => 200,
        Some(l) => limit(l)?,
    };
    let before = snow("before")?;
    let after = snow("after")?;
    let with_counts = match get("with_counts") {
        None => false,
        Some(v) => boolean("with_counts", v)?,
    };
    Ok(GuildsQuery {
        limit,
        before,
        after,
        with_counts,
    })
}

/// `limit`: an integer from 1 to 200.
fn limit(l: &str) -> Result<usize, Resp> {
    match l.parse::<i64>() {
        Err(_) => Err(form_error(
            "limit",
            "NUMBER_TYPE_COERCE",
            &format!("Value \"{l}\" is not int."),
        )),
        Ok(n) if n < 1 => Err(form_error(
            "limit",
            "NUMBER_TYPE_MIN",
            "int value should be greater than or equal to 1.",
        )),
        Ok(n) if n > 200 => Err(form_error(
            "limit",
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 200.",
        )),
        Ok(n) => Ok(n as usize),
    }
}

/// A boolean query value: `True`/`true`/`1` or `False`/`false`/`0`
/// (<https://discord.com/developers/docs/reference#boolean-query-strings>).
fn boolean(field: &str, v: &str) -> Result<bool, Resp> {
    match v {
        "True" | "true" | "1" => Ok(true),
        "False" | "false" | "0" => Ok(false),
        _ => Err(form_error(
            field,
            "BOOLEAN_TYPE_COERCE",
            &format!("Value \"{v}\" is not a valid boolean."),
        )),
    }
}
