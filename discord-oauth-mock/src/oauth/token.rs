//! `POST /api/v10/oauth2/token` (and `/api/v9`, `/api`): the `authorization_code` exchange
//! (single use, 100 s, same `redirect_uri`, PKCE), the rotating `refresh_token` grant and
//! `client_credentials`, with RFC 6749 error bodies
//! (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>,
//! <https://discord.com/developers/docs/topics/oauth2#client-credentials-grant>).
//!
//! Must not import `authorize` or `revoke`.

use super::client::{ClientAuth, client_auth, form, verifier_ok};
use super::scopes::{INVALID_SCOPE, KNOWN_SCOPES};
use crate::api::Call;
use crate::objects::full_guild_json;
use crate::state::{Code, Shared, State};
use crate::util::{Resp, get, json, oauth_error, random_token, random_u64};
use serde_json::{Value, json};

/// The form of a token request.
type Form = Vec<(String, String)>;

/// The endpoint; any 4xx counts in [`crate::Stats::token_errors`].
pub(crate) fn token(call: &mut Call<'_>) -> Resp {
    let r = token_inner(call);
    if r.status().is_client_error() {
        call.st.stats.token_errors += 1;
    }
    r
}

fn token_inner(call: &mut Call<'_>) -> Resp {
    let form = form(call.parts, call.body);
    let grant_type = match grant_type(&form) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !client_allowed(call, &form, grant_type) {
        return oauth_error(401, "invalid_client", None);
    }
    match grant_type {
        "authorization_code" => exchange_code(call.shared, call.st, &form),
        "refresh_token" => refresh(call.st, &form),
        _ => client_credentials(call.shared, call.st, &form),
    }
}

/// One of the three grant types; anything else (a JSON body reads as an empty form) is
/// `unsupported_grant_type` "Grant type None is not supported"
/// (<https://github.com/discord/discord-api-docs/issues/5249>).
fn grant_type(form: &Form) -> Result<&'static str, Resp> {
    match get(form, "grant_type") {
        Some("authorization_code") => Ok("authorization_code"),
        Some("refresh_token") => Ok("refresh_token"),
        Some("client_credentials") => Ok("client_credentials"),
        other => Err(oauth_error(
            400,
            "unsupported_grant_type",
            Some(&format!(
                "Grant type {} is not supported",
                other.unwrap_or("None")
            )),
        )),
    }
}

/// Client authentication. Only a public client may omit the secret, and only when it proves
/// itself with PKCE (a code issued with a challenge) or refreshes. An unknown code passes here
/// and gets `invalid_grant` later.
fn client_allowed(call: &Call<'_>, form: &Form, grant_type: &str) -> bool {
    match client_auth(call.shared, call.parts, form) {
        ClientAuth::Confidential => true,
        ClientAuth::Invalid => false,
        ClientAuth::NoSecret => {
            call.st.public_client
                && match grant_type {
                    "authorization_code" => get(form, "code")
                        .and_then(|c| call.st.codes.get(c))
                        .is_none_or(|c| c.challenge.is_some()),
                    "refresh_token" => true,
                    _ => false,
                }
        }
    }
}

/// The access token response.
fn token_response(st: &State, access: &str, refresh: Option<&str>, scopes: &[String]) -> Value {
    let mut v = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": st.token_lifetime.as_secs(),
        "scope": scopes.join(" "),
    });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

/// `authorization_code`: a new authorization with a token pair, plus the `guild` of the bot flow
/// and the `webhook` of `webhook.incoming`.
fn exchange_code(shared: &Shared, st: &mut State, form: &Form) -> Resp {
    let c = match take_code(st, form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (access, refresh) = st.new_grant(c.user_id, c.scopes.clone(), true);
    *st.stats
        .grants
        .entry("authorization_code".into())
        .or_default() += 1;
    let mut v = token_response(st, &access, refresh.as_deref(), &c.scopes);
    if let Some((g, _)) = c.bot_guild
        && let Some(guild) = st.guild(g)
    {
        v["guild"] = full_guild_json(guild);
    }
    if let Some((g, channel)) = c.webhook {
        v["webhook"] = webhook_json(shared, g, channel);
    }
    json(200, &v)
}

/// Takes the request's code, which any attempt consumes, and checks it: known, not expired,
/// issued for the same `redirect_uri` (an Activity's code, issued without one, must be exchanged
/// without one), and the PKCE verifier when it was issued with a challenge.
fn take_code(st: &mut State, form: &Form) -> Result<Code, Resp> {
    const BAD_CODE: &str = "Invalid \"code\" in request.";
    let Some(code) = get(form, "code") else {
        return Err(oauth_error(
            400,
            "invalid_request",
            Some("Missing \"code\""),
        ));
    };
    let Some(c) = st.codes.remove(code) else {
        return Err(oauth_error(400, "invalid_grant", Some(BAD_CODE)));
    };
    if c.created.elapsed() >= st.code_lifetime {
        return Err(oauth_error(400, "invalid_grant", Some(BAD_CODE)));
    }
    let expected = Some(c.redirect_uri.as_str()).filter(|u| !u.is_empty());
    if get(form, "redirect_uri") != expected {
        return Err(oauth_error(
            400,
            "invalid_request",
            Some("Invalid \"redirect_uri\" in request."),
        ));
    }
    if let Some(ch) = &c.challenge {
        match get(form, "code_verifier") {
            None => {
                let d = "Missing \"code_verifier\"";
                return Err(oauth_error(400, "invalid_request", Some(d)));
            }
            Some(v) if !verifier_ok(v, ch) => {
                let d = "Invalid \"code_verifier\"";
                return Err(oauth_error(400, "invalid_request", Some(d)));
            }
            Some(_) => {}
        }
    }
    Ok(c)
}

/// The webhook created by `webhook.incoming` in `channel` of guild `g`.
fn webhook_json(shared: &Shared, g: u64, channel: u64) -> Value {
    let id = (random_u64() >> 1) % 900_000_000_000_000_000 + 100_000_000_000_000_000;
    let token = random_token(68);
    json!({
        "id": id.to_string(),
        "type": 1,
        "name": shared.app_name,
        "avatar": null,
        "channel_id": channel.to_string(),
        "guild_id": g.to_string(),
        "application_id": shared.client_id.to_string(),
        "token": token,
        "url": format!("{}/api/webhooks/{id}/{token}", shared.base_url),
    })
}

/// `refresh_token`: rotation, the old refresh token and the old access token die
/// (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-refresh-token-exchange-example>).
fn refresh(st: &mut State, form: &Form) -> Resp {
    const BAD: &str = "Invalid \"refresh_token\" in request";
    let Some(rt) = get(form, "refresh_token") else {
        return oauth_error(400, "invalid_request", Some("Missing \"refresh_token\""));
    };
    let Some(&grant) = st.refresh.get(rt) else {
        return oauth_error(400, "invalid_grant", Some(BAD));
    };
    let (access, refresh) = st.issue(grant, true);
    let scopes = st
        .grants
        .get(&grant)
        .map(|g| g.scopes.clone())
        .unwrap_or_default();
    st.stats.tokens_refreshed += 1;
    *st.stats.grants.entry("refresh_token".into()).or_default() += 1;
    json(
        200,
        &token_response(st, &access, refresh.as_deref(), &scopes),
    )
}

/// `client_credentials`: a token for the bot owner (the first seeded user), no refresh token;
/// `bot` and `webhook.incoming` cannot be asked for.
fn client_credentials(shared: &Shared, st: &mut State, form: &Form) -> Resp {
    let scopes: Vec<String> = get(form, "scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty()
        || scopes
            .iter()
            .any(|s| !KNOWN_SCOPES.contains(&s.as_str()) || s == "bot" || s == "webhook.incoming")
    {
        return oauth_error(400, "invalid_scope", Some(INVALID_SCOPE));
    }
    let owner = shared.seed_users.first().map(|u| u.id).unwrap_or(0);
    let (access, _) = st.new_grant(owner, scopes.clone(), false);
    *st.stats
        .grants
        .entry("client_credentials".into())
        .or_default() += 1;
    json(200, &token_response(st, &access, None, &scopes))
}
