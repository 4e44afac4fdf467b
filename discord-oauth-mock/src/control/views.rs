//! What the mock holds, as JSON: statistics, store sizes, the seeded users and the guilds with
//! their members, a user's tokens, and the configuration.
//!
//! Read-only: must not import the other control modules.

use super::{Ctl, bad};
use crate::objects::{connection_json, user_json};
use crate::seed::SeedGuild;
use crate::state::Shared;
use crate::util::{Resp, json};
use serde_json::{Value, json};
use std::time::Instant;

/// `GET /_mock/stats`: [`crate::Stats`].
pub(super) fn stats(shared: &Shared, _: &Ctl<'_>) -> Resp {
    json(
        200,
        &serde_json::to_value(&shared.lock().stats).unwrap_or(Value::Null),
    )
}

/// `GET /_mock/store-sizes`: [`crate::StoreSizes`].
pub(super) fn store_sizes(shared: &Shared, _: &Ctl<'_>) -> Resp {
    let sizes = shared.lock().store_sizes();
    json(200, &serde_json::to_value(sizes).unwrap_or(Value::Null))
}

/// `GET /_mock/users`: the seeded users, every field, with their connections.
pub(super) fn users(shared: &Shared, _: &Ctl<'_>) -> Resp {
    let list = shared
        .seed_users
        .iter()
        .map(|u| {
            let mut v = user_json(u, true, true);
            v["connections"] = Value::Array(u.connections.iter().map(connection_json).collect());
            v
        })
        .collect();
    json(200, &Value::Array(list))
}

/// `GET /_mock/guilds`: the guilds, with the bot's permissions and the members.
pub(super) fn guilds(shared: &Shared, _: &Ctl<'_>) -> Resp {
    let st = shared.lock();
    json(
        200,
        &Value::Array(st.guilds.iter().map(guild_json).collect()),
    )
}

/// One guild of `GET /_mock/guilds`.
fn guild_json(g: &SeedGuild) -> Value {
    json!({
        "id": g.id.to_string(), "name": g.name, "icon": g.icon, "banner": g.banner,
        "owner_id": g.owner_id.to_string(), "features": g.features,
        "approximate_member_count": g.approximate_member_count,
        "approximate_presence_count": g.approximate_presence_count,
        "bot_permissions": g.bot_permissions.map(|p| p.to_string()),
        "members": g.members.iter().map(|m| json!({
            "user_id": m.user_id.to_string(), "nick": m.nick,
            "roles": m.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "permissions": m.permissions.to_string(), "joined_at": m.joined_at,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /_mock/tokens/{user_id}`: the user's access tokens (live and expired).
pub(super) fn tokens(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let Some(u) = ctl.user() else {
        return bad("user id must be a snowflake");
    };
    let st = shared.lock();
    let now = Instant::now();
    let list: Vec<Value> = st
        .access
        .iter()
        .filter(|(_, a)| a.user_id == u)
        .map(|(t, a)| {
            json!({
                "access_token": t,
                "refresh_token": st.grants.get(&a.grant).and_then(|g| g.refresh.clone()),
                "scopes": a.scopes, "expired": a.expired(now),
                "expires_at_unix_ms": a.expires_unix_ms,
            })
        })
        .collect();
    json(200, &Value::Array(list))
}

/// `GET /_mock/config`: URLs, credentials and settings.
pub(super) fn config(shared: &Shared, _: &Ctl<'_>) -> Resp {
    let st = shared.lock();
    json(
        200,
        &json!({
            "base_url": shared.base_url,
            "authorize_url": format!("{}/oauth2/authorize", shared.base_url),
            "api_url": format!("{}/api/v10", shared.base_url),
            "cdn_url": format!("{}/cdn", shared.base_url),
            "client_id": shared.client_id.to_string(),
            "client_secret": shared.client_secret,
            "bot_token": shared.bot_token,
            "redirect_uris": st.redirect_uris,
            "auto_approve": st.auto_approve.map(|u| u.to_string()),
            "token_lifetime_secs": st.token_lifetime.as_secs(),
            "rate_limits_enabled": st.rate.enabled,
            "public_client": st.public_client,
        }),
    )
}
