//! Configuration and resets: `POST /_mock/reset`, `/_mock/reset-stats`, `/_mock/token-lifetime`,
//! `/_mock/public-client`, `/_mock/auto-approve`, `/_mock/redirect-uris`, `/_mock/rate-limits`.
//!
//! Must not import the other control modules.

use super::{Ctl, bad, body_json, ok};
use crate::state::Shared;
use crate::util::Resp;
use serde_json::Value;
use std::time::Duration;

/// [`crate::MockDiscord::reset`].
pub(super) fn reset(shared: &Shared, _: &Ctl<'_>) -> Resp {
    shared.lock().reset(&shared.seed_guilds);
    ok()
}

/// [`crate::MockDiscord::reset_stats`].
pub(super) fn reset_stats(shared: &Shared, _: &Ctl<'_>) -> Resp {
    shared.lock().stats = crate::Stats::default();
    ok()
}

/// `{"seconds": N}`: the lifetime of tokens issued from now on, capped at 10 years (so that
/// `now + lifetime` cannot overflow later).
pub(super) fn token_lifetime(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    match body_json(ctl.body).get("seconds").and_then(Value::as_u64) {
        Some(s) => {
            shared.lock().token_lifetime = Duration::from_secs(s).min(crate::MAX_LIFETIME);
            ok()
        }
        None => bad("seconds is required"),
    }
}

/// `{"enabled": bool}`: public-client mode.
pub(super) fn public_client(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    match body_json(ctl.body).get("enabled").and_then(Value::as_bool) {
        Some(e) => {
            shared.lock().public_client = e;
            ok()
        }
        None => bad("enabled is required"),
    }
}

/// `{"user_id": "<id>" | <id> | null}`: auto-approve as a seeded or generated user (any
/// snowflake from `1 << 22`), or show the consent page.
pub(super) fn auto_approve(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let seeded = |u: Option<u64>| u.filter(|u| shared.can_log_in(*u));
    let user = match body_json(ctl.body).get("user_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match seeded(crate::util::snowflake(s)) {
            Some(u) => Some(u),
            None => return bad("user_id must be a seeded user or a snowflake"),
        },
        Some(Value::Number(n)) => match seeded(n.as_u64()) {
            Some(u) => Some(u),
            None => return bad("user_id must be a seeded user or a snowflake"),
        },
        _ => return bad("user_id must be a string, a number or null"),
    };
    shared.lock().auto_approve = user;
    ok()
}

/// `{"uri": "..."}`: registers a redirect URI (once).
pub(super) fn redirect_uri(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let b = body_json(ctl.body);
    let Some(u) = b.get("uri").and_then(Value::as_str) else {
        return bad("uri is required");
    };
    let mut st = shared.lock();
    if !st.redirect_uris.iter().any(|x| x == u) {
        st.redirect_uris.push(u.to_owned());
    }
    ok()
}

/// `{"enabled": bool}`: switches rate limiting (and clears the open windows).
pub(super) fn rate_limits(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let Some(e) = body_json(ctl.body).get("enabled").and_then(Value::as_bool) else {
        return bad("enabled is required");
    };
    let mut st = shared.lock();
    st.rate.enabled = e;
    st.windows.clear();
    st.windows_swept_len = 0;
    st.global_windows.clear();
    ok()
}
