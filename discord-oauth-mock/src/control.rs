//! The HTTP control API under `/_mock/...` (same controls as the Rust API, for the binary).

use crate::Fault;
use crate::api::{connection_json, user_json};
use crate::state::Shared;
use crate::util::{Resp, json, not_found};
use axum::http::request::Parts;
use serde_json::{Value, json};
use std::time::Duration;

/// Parses the JSON form of a [`Fault`] (see the crate docs).
pub(crate) fn parse_fault(v: &Value) -> Option<Fault> {
    match v {
        Value::String(s) => match s.as_str() {
            "malformed_body" => Some(Fault::MalformedBody),
            "drop_connection" => Some(Fault::DropConnection),
            _ => None,
        },
        Value::Object(o) => {
            if let Some(s) = o.get("status").and_then(Value::as_u64) {
                return u16::try_from(s).ok().map(Fault::Status);
            }
            if let Some(ms) = o.get("delay_ms").and_then(Value::as_u64) {
                return Some(Fault::Delay(Duration::from_millis(ms)));
            }
            if let Some(r) = o.get("rate_limited") {
                return Some(Fault::RateLimited {
                    retry_after: r.get("retry_after").and_then(Value::as_f64).unwrap_or(1.0),
                    global: r.get("global").and_then(Value::as_bool).unwrap_or(false),
                    scope: r
                        .get("scope")
                        .and_then(Value::as_str)
                        .unwrap_or("user")
                        .to_owned(),
                });
            }
            None
        }
        _ => None,
    }
}

fn bad(msg: &str) -> Resp {
    json(400, &json!({ "error": msg }))
}

fn ok() -> Resp {
    json(200, &json!({ "ok": true }))
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn user_id(s: &str) -> Option<u64> {
    crate::util::snowflake(s)
}

/// Handles `/_mock/...`.
pub(crate) fn handle(shared: &Shared, parts: &Parts, path: &str, body: &[u8]) -> Resp {
    let method = parts.method.as_str();
    let segs: Vec<&str> = path
        .trim_start_matches("/_mock")
        .trim_matches('/')
        .split('/')
        .collect();
    match (method, segs.as_slice()) {
        ("GET", ["stats"]) => json(
            200,
            &serde_json::to_value(&shared.lock().stats).unwrap_or(Value::Null),
        ),
        ("GET", ["store-sizes"]) => {
            let sizes = shared.lock().store_sizes();
            json(200, &serde_json::to_value(sizes).unwrap_or(Value::Null))
        }
        ("POST", ["reset"]) => {
            shared.lock().reset(&shared.seed_guilds);
            ok()
        }
        ("POST", ["reset-stats"]) => {
            shared.lock().stats = crate::Stats::default();
            ok()
        }
        ("POST", ["faults"]) => {
            let b = body_json(body);
            let Some(route) = b.get("route").and_then(Value::as_str) else {
                return bad("route is required");
            };
            let Some(fault) = b.get("fault").and_then(parse_fault) else {
                return bad(
                    "fault must be {\"status\": N}, {\"rate_limited\": {...}}, {\"delay_ms\": N}, \"malformed_body\" or \"drop_connection\"",
                );
            };
            let times = b.get("times").and_then(Value::as_u64).unwrap_or(1) as usize;
            if times > 0 {
                shared
                    .lock()
                    .faults
                    .entry(route.to_owned())
                    .or_default()
                    .push_back((fault, times));
            }
            ok()
        }
        ("DELETE", ["faults"]) => {
            shared.lock().faults.clear();
            ok()
        }
        ("POST", ["revoke", id]) => match user_id(id) {
            Some(u) => {
                let killed = shared.lock().revoke_user(u);
                json(200, &json!({ "ok": true, "tokens_revoked": killed }))
            }
            None => bad("user id must be a snowflake"),
        },
        ("POST", ["expire"]) => {
            let n = shared.lock().expire_access(None);
            json(200, &json!({ "ok": true, "tokens_expired": n }))
        }
        ("POST", ["expire", id]) => match user_id(id) {
            Some(u) => {
                let n = shared.lock().expire_access(Some(u));
                json(200, &json!({ "ok": true, "tokens_expired": n }))
            }
            None => bad("user id must be a snowflake"),
        },
        ("POST", ["token-lifetime"]) => {
            match body_json(body).get("seconds").and_then(Value::as_u64) {
                Some(s) => {
                    // Capped, so that `now + lifetime` cannot overflow later.
                    shared.lock().token_lifetime = Duration::from_secs(s).min(crate::MAX_LIFETIME);
                    ok()
                }
                None => bad("seconds is required"),
            }
        }
        ("POST", ["public-client"]) => {
            match body_json(body).get("enabled").and_then(Value::as_bool) {
                Some(e) => {
                    shared.lock().public_client = e;
                    ok()
                }
                None => bad("enabled is required"),
            }
        }
        ("POST", ["auto-approve"]) => {
            let b = body_json(body);
            let user = match b.get("user_id") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => match user_id(s) {
                    Some(u) if shared.seed_users.iter().any(|x| x.id == u) => Some(u),
                    _ => return bad("user_id must be a seeded user"),
                },
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(u) if shared.seed_users.iter().any(|x| x.id == u) => Some(u),
                    _ => return bad("user_id must be a seeded user"),
                },
                _ => return bad("user_id must be a string, a number or null"),
            };
            shared.lock().auto_approve = user;
            ok()
        }
        ("POST", ["redirect-uris"]) => match body_json(body).get("uri").and_then(Value::as_str) {
            Some(u) => {
                let mut st = shared.lock();
                if !st.redirect_uris.iter().any(|x| x == u) {
                    st.redirect_uris.push(u.to_owned());
                }
                ok()
            }
            None => bad("uri is required"),
        },
        ("POST", ["rate-limits"]) => {
            match body_json(body).get("enabled").and_then(Value::as_bool) {
                Some(e) => {
                    let mut st = shared.lock();
                    st.rate.enabled = e;
                    st.windows.clear();
                    st.windows_swept_len = 0;
                    st.global_windows.clear();
                    ok()
                }
                None => bad("enabled is required"),
            }
        }
        ("GET", ["users"]) => json(
            200,
            &Value::Array(
                shared
                    .seed_users
                    .iter()
                    .map(|u| {
                        let mut v = user_json(u, true, true);
                        v["connections"] =
                            Value::Array(u.connections.iter().map(connection_json).collect());
                        v
                    })
                    .collect(),
            ),
        ),
        ("GET", ["guilds"]) => {
            let st = shared.lock();
            let list: Vec<Value> = st
                .guilds
                .iter()
                .map(|g| {
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
                })
                .collect();
            json(200, &Value::Array(list))
        }
        ("GET", ["tokens", id]) => match user_id(id) {
            Some(u) => {
                let st = shared.lock();
                let now = std::time::Instant::now();
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
            None => bad("user id must be a snowflake"),
        },
        ("GET", ["config"]) => {
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
        _ => not_found(),
    }
}
