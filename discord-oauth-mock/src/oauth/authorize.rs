//! `/oauth2/authorize` (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>):
//! `GET` shows the consent page, or approves at once (auto-approve, `mock_user=<id>`, or
//! `prompt=none` for a browser whose user already granted the scopes); `POST` is the consent
//! form. Approving adds the bot / creates the webhook, then redirects with a code (or, in the
//! implicit grant, a token in the fragment).
//!
//! Must not import `token` or `revoke`.

use super::consent::consent_page;
use super::pages::error_page;
use super::request::{AuthReq, error_redirect, validate, with_query};
use crate::state::{Code, Shared, State};
use crate::util::{Resp, get, parse_form, random_token, redirect, set_header, snowflake};
use axum::http::{header, request::Parts};
use std::time::Instant;

const DENIED: &str = "The resource owner or authorization server denied the request";
const MANAGE_GUILD: u64 = 32;
const ADMINISTRATOR: u64 = 8;
/// The cookie remembering the browser's user (for `prompt=none` and the consent page).
const COOKIE: &str = "discord_mock_user";

/// `GET /oauth2/authorize`: approve at once, or the consent page.
pub(crate) fn show(shared: &Shared, parts: &Parts, _body: &[u8]) -> Resp {
    let p = parse_form(parts.uri.query().unwrap_or("").as_bytes());
    let mut st = shared.lock();
    let req = match validate(shared, &st, &p) {
        Ok(r) => r,
        Err(r) => return r,
    };
    // Per-request `mock_user` beats the auto-approve setting.
    let auto = match get(&p, "mock_user") {
        Some(v) => match seeded(shared, Some(v)) {
            Some(id) => Some(id),
            None => {
                return error_page(
                    400,
                    "Unknown mock_user",
                    "mock_user must be the id of a seeded user or a snowflake (1 << 22 or more).",
                );
            }
        },
        None => st.auto_approve,
    };
    if let Some(user) = auto.or_else(|| silent_user(&st, &req, parts)) {
        return approve(shared, &mut st, &req, user);
    }
    consent_page(shared, &st, &req, &p, cookie_user(parts))
}

/// `POST /oauth2/authorize`: the consent form (Cancel, or Authorize as the chosen user).
pub(crate) fn submit(shared: &Shared, _parts: &Parts, body: &[u8]) -> Resp {
    let p = parse_form(body);
    let mut st = shared.lock();
    let req = match validate(shared, &st, &p) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if get(&p, "action") == Some("cancel") {
        st.stats.consents_denied += 1;
        return match &req.redirect_uri {
            Some(u) => error_redirect(u, "access_denied", DENIED, req.state.as_deref()),
            None => error_page(200, "Cancelled", "You cancelled the authorization."),
        };
    }
    // "Any user id" beats the radio choice when filled in.
    let typed = get(&p, "other_user_id").filter(|v| !v.trim().is_empty());
    let Some(user) = seeded(shared, typed.map(str::trim).or(get(&p, "user_id"))) else {
        return error_page(
            400,
            "Pick a user",
            "Choose one of the accounts, or type a user id (a snowflake), to log in as.",
        );
    };
    approve(shared, &mut st, &req, user)
}

/// The id of a user who may log in, if `v` is one: a seeded user or any other snowflake, which
/// logs in as the user generated from it ([`crate::seed::generated_user`]).
fn seeded(shared: &Shared, v: Option<&str>) -> Option<u64> {
    v.and_then(snowflake).filter(|id| shared.can_log_in(*id))
}

/// `prompt=none` skips the screen when this browser's user already granted these scopes
/// (passthrough scopes `bot` and `webhook.incoming` always ask).
fn silent_user(st: &State, req: &AuthReq, parts: &Parts) -> Option<u64> {
    if req.prompt != "none" || req.needs_guild() {
        return None;
    }
    let user = cookie_user(parts)?;
    st.grants
        .values()
        .any(|g| g.user_id == user && req.scopes.iter().all(|s| g.scopes.contains(s)))
        .then_some(user)
}

/// The user of the browser's cookie.
fn cookie_user(parts: &Parts) -> Option<u64> {
    let c = parts.headers.get(header::COOKIE)?.to_str().ok()?;
    c.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .and_then(|(_, v)| snowflake(v))
}

/// Guilds where `user` may add a bot or a webhook (owner, ADMINISTRATOR or MANAGE_GUILD).
fn manageable(st: &State, user: u64) -> Vec<u64> {
    st.guilds
        .iter()
        .filter(|g| {
            g.owner_id == user
                || g.members.iter().any(|m| {
                    m.user_id == user && m.permissions & (MANAGE_GUILD | ADMINISTRATOR) != 0
                })
        })
        .map(|g| g.id)
        .collect()
}

/// What approving installed in a guild: (guild, bot permissions) and (guild, webhook channel).
#[derive(Default)]
struct Installed {
    guild: Option<u64>,
    bot: Option<(u64, u64)>,
    webhook: Option<(u64, u64)>,
}

/// The user approved: add the bot / create the webhook, then issue a code (or an implicit token).
fn approve(shared: &Shared, st: &mut State, req: &AuthReq, user: u64) -> Resp {
    let installed = match install(st, req, user) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut r = match (req.response_type.as_deref(), &req.redirect_uri) {
        (Some("token"), Some(uri)) => implicit_grant(st, req, uri, user),
        (Some(_), Some(uri)) => code_grant(st, req, uri, user, &installed),
        _ => {
            // Plain bot flow: the bot is in the guild, nothing to exchange.
            let name = installed
                .guild
                .and_then(|g| st.guild(g))
                .map(|g| g.name.clone())
                .unwrap_or_default();
            let text = format!("{} has been added to {name}.", shared.app_name);
            error_page(200, "Authorized", &text)
        }
    };
    set_header(
        &mut r,
        "set-cookie",
        &format!("{COOKIE}={user}; Path=/; HttpOnly; SameSite=Lax"),
    );
    r
}

/// For `bot` and `webhook.incoming`: the chosen guild (`guild_id`, else the first the user may
/// manage) gets the bot with the requested permissions and / or a webhook.
fn install(st: &mut State, req: &AuthReq, user: u64) -> Result<Installed, Resp> {
    if !req.needs_guild() {
        return Ok(Installed::default());
    }
    let allowed = manageable(st, user);
    let chosen = match req.guild_id {
        Some(g) => allowed.into_iter().find(|id| *id == g),
        None => allowed.first().copied(),
    };
    let Some(g) = chosen else {
        let back = req.back();
        return Err(back.fail(
            "access_denied",
            "The user cannot manage the selected guild.",
        ));
    };
    let mut installed = Installed {
        guild: Some(g),
        ..Installed::default()
    };
    if req.has("bot") {
        if let Some(gs) = st.guilds.iter_mut().find(|x| x.id == g) {
            gs.bot_permissions = Some(req.permissions);
        }
        installed.bot = Some((g, req.permissions));
    }
    if req.has("webhook.incoming") {
        let channel = req
            .channel_id
            .or_else(|| st.guild(g).map(|x| x.channel_id))
            .unwrap_or(g + 1);
        installed.webhook = Some((g, channel));
    }
    Ok(installed)
}

/// Implicit grant: the token in the URL fragment, no refresh token
/// (<https://discord.com/developers/docs/topics/oauth2#implicit-grant>).
fn implicit_grant(st: &mut State, req: &AuthReq, uri: &str, user: u64) -> Resp {
    let (access, _) = st.new_grant(user, req.scopes.clone(), false);
    *st.stats.grants.entry("implicit".into()).or_default() += 1;
    let expires = st.token_lifetime.as_secs().to_string();
    let scope = req.scopes.join(" ");
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.append_pair("token_type", "Bearer")
        .append_pair("access_token", &access)
        .append_pair("expires_in", &expires)
        .append_pair("scope", &scope);
    if let Some(s) = &req.state {
        ser.append_pair("state", s);
    }
    redirect(&format!("{uri}#{}", ser.finish()))
}

/// The code the Embedded App SDK's `authorize` command gives an Activity: issued for `user`
/// with `scopes`, without a redirect (an empty `redirect_uri`: the exchange must send none)
/// (<https://discord.com/developers/docs/activities/how-activities-work>).
pub(crate) fn activity_code(st: &mut State, user: u64, scopes: Vec<String>) -> String {
    let code = random_token(30);
    st.sweep_codes_if_due();
    st.codes.insert(
        code.clone(),
        Code {
            user_id: user,
            scopes,
            redirect_uri: String::new(),
            challenge: None,
            created: Instant::now(),
            bot_guild: None,
            webhook: None,
        },
    );
    st.stats.codes_issued += 1;
    code
}

/// Authorization code grant: a single-use code in the query, with the bot flow's `guild_id` and
/// `permissions` as hints (the token response's `guild` is authoritative).
fn code_grant(st: &mut State, req: &AuthReq, uri: &str, user: u64, inst: &Installed) -> Resp {
    let code = random_token(30);
    // Codes nobody exchanged (load tests): drop the expired ones whenever the map has
    // doubled since the last sweep (amortized O(1), even when every code is still live).
    st.sweep_codes_if_due();
    st.codes.insert(
        code.clone(),
        Code {
            user_id: user,
            scopes: req.scopes.clone(),
            redirect_uri: uri.to_owned(),
            challenge: req.challenge.clone(),
            created: Instant::now(),
            bot_guild: inst.bot,
            webhook: inst.webhook,
        },
    );
    st.stats.codes_issued += 1;
    let mut pairs: Vec<(&str, String)> = vec![("code", code)];
    if let Some(s) = &req.state {
        pairs.push(("state", s.clone()));
    }
    if let Some((g, perms)) = inst.bot {
        pairs.push(("guild_id", g.to_string()));
        pairs.push(("permissions", perms.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect(&with_query(uri, &borrowed))
}
