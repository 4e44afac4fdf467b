//! Tokens: `POST /_mock/revoke/{user_id}` ([`crate::MockDiscord::revoke_user_grants`]) and
//! `POST /_mock/expire[/{user_id}]` ([`crate::MockDiscord::expire_access_tokens`]).
//!
//! Must not import the other control modules.

use super::{Ctl, bad};
use crate::state::Shared;
use crate::util::{Resp, json};
use serde_json::json;

/// Revokes every authorization of the user.
pub(super) fn revoke(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let Some(u) = ctl.user() else {
        return bad("user id must be a snowflake");
    };
    let killed = shared.lock().revoke_user(u);
    json(200, &json!({ "ok": true, "tokens_revoked": killed }))
}

/// Expires everybody's access tokens.
pub(super) fn expire_all(shared: &Shared, _: &Ctl<'_>) -> Resp {
    let n = shared.lock().expire_access(None);
    json(200, &json!({ "ok": true, "tokens_expired": n }))
}

/// Expires the user's access tokens.
pub(super) fn expire_user(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let Some(u) = ctl.user() else {
        return bad("user id must be a snowflake");
    };
    let n = shared.lock().expire_access(Some(u));
    json(200, &json!({ "ok": true, "tokens_expired": n }))
}
