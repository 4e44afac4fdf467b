//! The application and the current authorization: `GET /oauth2/@me`
//! (<https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information>),
//! `GET /applications/@me` and `GET /oauth2/applications/@me`
//! (<https://discord.com/developers/docs/resources/application#get-current-application>).
//!
//! Must not import the other endpoint groups, `routes`, `mount`, `gate` or `server`.

use crate::api::{Auth, Call};
use crate::objects::{application_json, partial_application_json, public_user_json};
use crate::util::{Resp, iso8601, json, unauthorized};
use serde_json::json;

/// `GET /oauth2/@me`: any Bearer token (sorted scopes, expiry, and the user with `identify`); a
/// Bot token gets 401, not 403 (<https://github.com/discord/discord-api-docs/issues/3945>).
pub(crate) fn authorization(call: &mut Call<'_>) -> Resp {
    let Auth::Bearer(a) = &call.auth else {
        return unauthorized();
    };
    let shared = call.shared;
    let mut scopes = a.scopes.clone();
    scopes.sort();
    let mut v = json!({
        "application": partial_application_json(shared),
        "scopes": scopes,
        "expires": iso8601(a.expires_unix_ms),
    });
    if a.has("identify")
        && let Some(u) = shared.user(a.user_id)
    {
        v["user"] = public_user_json(&u);
    }
    json(200, &v)
}

/// `GET /applications/@me` and `GET /oauth2/applications/@me` (bot only).
pub(crate) fn current(call: &mut Call<'_>) -> Resp {
    match call.auth {
        Auth::Bot => json(200, &application_json(call.shared, call.st)),
        _ => unauthorized(),
    }
}
