//! The authorization request of `/oauth2/authorize`, validated as Discord does
//! (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>,
//! <https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow>), and where its
//! errors go: a redirect to the app with `error=...`, or a page when there is nowhere to redirect.
//!
//! Must not import `authorize` or `consent` (they build on this).

use super::pages::error_page;
use super::scopes::{INVALID_SCOPE, KNOWN_SCOPES};
use crate::state::{Shared, State};
use crate::util::{Resp, get, redirect, snowflake};

/// A validated authorization request.
pub(super) struct AuthReq {
    /// Effective redirect URI (`None` only in the plain bot flow without one).
    pub redirect_uri: Option<String>,
    /// `code` or `token`; `None` in the plain bot flow.
    pub response_type: Option<String>,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub prompt: String,
    pub challenge: Option<String>,
    pub permissions: u64,
    pub guild_id: Option<u64>,
    pub disable_guild_select: bool,
    pub channel_id: Option<u64>,
}

impl AuthReq {
    pub(super) fn has(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }

    /// Whether the user must pick a guild (a bot or a webhook is added to it).
    pub(super) fn needs_guild(&self) -> bool {
        self.has("bot") || self.has("webhook.incoming")
    }

    /// Where this request's errors go.
    pub(super) fn back(&self) -> Back<'_> {
        Back {
            redirect_uri: self.redirect_uri.as_deref(),
            state: self.state.as_deref(),
        }
    }
}

/// Where the errors of an authorization request go: the app's redirect URI with `state`, or a
/// `400` page in the plain bot flow without one.
#[derive(Clone, Copy)]
pub(super) struct Back<'a> {
    pub redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

impl Back<'_> {
    /// The error answer: redirect with `error` and `error_description`, or a page.
    pub(super) fn fail(&self, error: &str, description: &str) -> Resp {
        match self.redirect_uri {
            Some(u) => error_redirect(u, error, description, self.state),
            None => error_page(400, error, description),
        }
    }
}

/// `redirect_uri` plus query parameters (appended with `&` when it already has a query).
pub(super) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let q = ser.finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

/// Redirect with `error=...&error_description=...&state=...`.
pub(super) fn error_redirect(
    uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Resp {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(&with_query(uri, &pairs))
}

/// Validates the parameters `p` of an authorization request, in Discord's order: the client, the
/// redirect URI (errors before it are pages), then everything else (errors redirect).
pub(super) fn validate(
    shared: &Shared,
    st: &State,
    p: &[(String, String)],
) -> Result<AuthReq, Resp> {
    check_client(shared, p)?;
    let response_type = get(p, "response_type").map(str::to_owned);
    let (scopes, plain_bot) = requested_scopes(p, response_type.is_none());
    let redirect_uri = redirect_uri(st, p, plain_bot)?;
    let state = get(p, "state").map(str::to_owned);
    let back = Back {
        redirect_uri: redirect_uri.as_deref(),
        state: state.as_deref(),
    };
    if !plain_bot {
        check_response_type(response_type.as_deref(), back)?;
    }
    check_scopes(&scopes, back)?;
    let challenge = pkce(p, &scopes, back)?;
    let has_role_connections = scopes.iter().any(|s| s == "role_connections.write");
    if response_type.as_deref() == Some("token") && has_role_connections {
        return Err(back.fail("invalid_scope", INVALID_SCOPE));
    }
    let (permissions, guild_id, channel_id) = bot_params(p, back)?;
    Ok(AuthReq {
        redirect_uri,
        response_type,
        scopes,
        state,
        prompt: get(p, "prompt").unwrap_or("consent").to_owned(),
        challenge,
        permissions,
        guild_id,
        disable_guild_select: matches!(get(p, "disable_guild_select"), Some("true" | "True" | "1")),
        channel_id,
    })
}

/// `client_id` must be there and be this application's.
fn check_client(shared: &Shared, p: &[(String, String)]) -> Result<(), Resp> {
    let Some(cid) = get(p, "client_id") else {
        return Err(error_page(
            400,
            "Invalid OAuth2 request",
            "client_id is required.",
        ));
    };
    if snowflake(cid) != Some(shared.client_id) {
        return Err(error_page(400, "Unknown Application", "Invalid client_id."));
    }
    Ok(())
}

/// The requested scopes, each once in the order of its first occurrence, and whether this is the
/// plain bot flow (no `response_type`, only `bot` / `applications.commands`; no scope at all means
/// the default install settings, both). `bot` includes `applications.commands`.
fn requested_scopes(p: &[(String, String)], no_response_type: bool) -> (Vec<String>, bool) {
    let mut scopes: Vec<String> = Vec::new();
    for s in get(p, "scope").unwrap_or("").split(' ') {
        if !s.is_empty() && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    let plain_bot = no_response_type
        && scopes
            .iter()
            .all(|s| s == "bot" || s == "applications.commands");
    if plain_bot && scopes.is_empty() {
        scopes = vec!["bot".into(), "applications.commands".into()];
    }
    if scopes.iter().any(|s| s == "bot") && !scopes.iter().any(|s| s == "applications.commands") {
        scopes.push("applications.commands".into());
    }
    (scopes, plain_bot)
}

/// The effective redirect URI: an exact match of a registered one, or the first registered one
/// when omitted (none in the plain bot flow). An unregistered URI gets a page, no redirect.
fn redirect_uri(
    st: &State,
    p: &[(String, String)],
    plain_bot: bool,
) -> Result<Option<String>, Resp> {
    match get(p, "redirect_uri") {
        Some(u) if st.redirect_uris.iter().any(|r| r == u) => Ok(Some(u.to_owned())),
        Some(_) => Err(error_page(
            400,
            "Invalid OAuth2 redirect_uri",
            "Redirect URI is not supported by client.",
        )),
        None if plain_bot => Ok(None),
        None => match st.redirect_uris.first() {
            Some(u) => Ok(Some(u.clone())),
            None => Err(error_page(
                400,
                "Invalid OAuth2 redirect_uri",
                "No redirect URI is registered for this application.",
            )),
        },
    }
}

/// `response_type` must be `code` or `token`.
fn check_response_type(response_type: Option<&str>, back: Back<'_>) -> Result<(), Resp> {
    match response_type {
        Some("code") | Some("token") => Ok(()),
        None => Err(back.fail("invalid_request", "Missing \"response_type\"")),
        Some(_) => Err(back.fail(
            "unsupported_response_type",
            "The authorization server does not support obtaining an authorization code using this method.",
        )),
    }
}

/// At least one scope, all known, and not `applications.commands.update` (client credentials only).
fn check_scopes(scopes: &[String], back: Back<'_>) -> Result<(), Resp> {
    if scopes.is_empty()
        || scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str()))
        || scopes.iter().any(|s| s == "applications.commands.update")
    {
        return Err(back.fail("invalid_scope", INVALID_SCOPE));
    }
    Ok(())
}

/// The PKCE challenge, if any: method `S256` only, a 43-character base64url challenge, and not
/// with `role_connections.write` (<https://github.com/discord/discord-api-docs/issues/5751>).
fn pkce(p: &[(String, String)], scopes: &[String], back: Back<'_>) -> Result<Option<String>, Resp> {
    let challenge = get(p, "code_challenge").map(str::to_owned);
    let method = get(p, "code_challenge_method");
    if challenge.is_none() && method.is_none() {
        return Ok(None);
    }
    if method != Some("S256") {
        return Err(back.fail("invalid_request", "Unsupported \"code_challenge_method\""));
    }
    let c = challenge.as_deref().unwrap_or("");
    if c.len() != 43
        || !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(back.fail("invalid_request", "Invalid \"code_challenge\""));
    }
    if scopes.iter().any(|s| s == "role_connections.write") {
        return Err(back.fail("invalid_scope", INVALID_SCOPE));
    }
    Ok(challenge)
}

/// The bot-flow parameters: `permissions` (a decimal integer), `guild_id` and `channel_id`
/// (snowflakes; empty means absent).
fn bot_params(
    p: &[(String, String)],
    back: Back<'_>,
) -> Result<(u64, Option<u64>, Option<u64>), Resp> {
    let permissions = match get(p, "permissions") {
        None | Some("") => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| back.fail("invalid_request", "Invalid \"permissions\""))?,
    };
    let snow = |k: &str| -> Result<Option<u64>, Resp> {
        match get(p, k) {
            None | Some("") => Ok(None),
            Some(v) => snowflake(v)
                .map(Some)
                .ok_or_else(|| back.fail("invalid_request", &format!("Invalid \"{k}\""))),
        }
    };
    Ok((permissions, snow("guild_id")?, snow("channel_id")?))
}
