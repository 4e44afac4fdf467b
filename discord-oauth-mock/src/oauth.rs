//! OAuth2: authorize (consent page), token and revoke endpoints (discord-api.md §1).

use crate::api::full_guild_json;
use crate::seed::SeedUser;
use crate::state::{Code, Shared, State};
use crate::util::{
    Resp, esc, get, html, json, oauth_error, parse_form, random_token, random_u64, redirect,
    set_header,
};
use axum::http::{header, request::Parts};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Discord's scopes: the 29 official ones, the Social SDK ones and the others [UD] lists
/// (discord-api.md §1.8). Anything else gets `error=invalid_scope`.
pub(crate) const KNOWN_SCOPES: &[&str] = &[
    "activities.read",
    "activities.write",
    "applications.builds.read",
    "applications.builds.upload",
    "applications.commands",
    "applications.commands.update",
    "applications.commands.permissions.update",
    "applications.entitlements",
    "applications.store.update",
    "bot",
    "connections",
    "dm_channels.read",
    "email",
    "gdm.join",
    "guilds",
    "guilds.join",
    "guilds.members.read",
    "identify",
    "identify.premium",
    "messages.read",
    "relationships.read",
    "role_connections.write",
    "rpc",
    "rpc.activities.write",
    "rpc.notifications.read",
    "rpc.voice.read",
    "rpc.voice.write",
    "voice",
    "webhook.incoming",
    "openid",
    "sdk.social_layer_presence",
    "sdk.social_layer",
    "account.global_name.update",
    "activities.invites.write",
    "application_identities.write",
    "dm_channels.messages.read",
    "dm_channels.messages.write",
    "gateway.connect",
    "guilds.channels.read",
    "lobbies.write",
    "payment_sources.country_code",
    "presences.read",
    "presences.write",
    "relationships.write",
    "rpc.screenshare.read",
    "rpc.screenshare.write",
    "rpc.video.read",
    "rpc.video.write",
];

const DENIED: &str = "The resource owner or authorization server denied the request";
const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
const MANAGE_GUILD: u64 = 32;
const ADMINISTRATOR: u64 = 8;
const COOKIE: &str = "discord_mock_user";

/// A validated authorization request.
struct AuthReq {
    /// Effective redirect URI (`None` only in the plain bot flow without one).
    redirect_uri: Option<String>,
    /// `code` or `token`; `None` in the plain bot flow.
    response_type: Option<String>,
    scopes: Vec<String>,
    state: Option<String>,
    prompt: String,
    challenge: Option<String>,
    permissions: u64,
    guild_id: Option<u64>,
    disable_guild_select: bool,
    channel_id: Option<u64>,
}

impl AuthReq {
    fn has(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }
    fn needs_guild(&self) -> bool {
        self.has("bot") || self.has("webhook.incoming")
    }
}

/// A page without redirect (e.g. "Invalid OAuth2 redirect_uri", discord-api.md §1.3).
fn error_page(status: u16, title: &str, detail: &str) -> Resp {
    html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Discord (mock)</title>{STYLE}</head>\
             <body><main class=\"card\"><h1 id=\"error\">{}</h1><p>{}</p></main></body></html>",
            esc(title),
            esc(detail)
        ),
    )
}

/// `redirect_uri` plus query parameters (appended with `&` when it already has a query).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let q = ser.finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

/// Redirect with `error=...&error_description=...&state=...` (discord-api.md §1.3).
fn error_redirect(uri: &str, error: &str, description: &str, state: Option<&str>) -> Resp {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(&with_query(uri, &pairs))
}

fn validate(shared: &Shared, st: &State, p: &[(String, String)]) -> Result<AuthReq, Resp> {
    let Some(cid) = get(p, "client_id") else {
        return Err(error_page(
            400,
            "Invalid OAuth2 request",
            "client_id is required.",
        ));
    };
    if crate::util::snowflake(cid) != Some(shared.client_id) {
        return Err(error_page(400, "Unknown Application", "Invalid client_id."));
    }
    // Each scope once, in the order of its first occurrence.
    let mut scopes: Vec<String> = Vec::new();
    for s in get(p, "scope").unwrap_or("").split(' ') {
        if !s.is_empty() && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    let response_type = get(p, "response_type").map(str::to_owned);
    // Plain bot flow: no response_type, only bot/applications.commands (discord-api.md §1.7).
    let plain_bot = response_type.is_none()
        && scopes
            .iter()
            .all(|s| s == "bot" || s == "applications.commands");
    if plain_bot && scopes.is_empty() {
        // Default install settings.
        scopes = vec!["bot".into(), "applications.commands".into()];
    }
    if scopes.iter().any(|s| s == "bot") && !scopes.iter().any(|s| s == "applications.commands") {
        // `bot` includes `applications.commands` by default (discord-api.md §1.7).
        scopes.push("applications.commands".into());
    }
    // Exact match against the registered URIs; an unregistered URI gets a page, no redirect.
    let redirect_uri = match get(p, "redirect_uri") {
        Some(u) if st.redirect_uris.iter().any(|r| r == u) => Some(u.to_owned()),
        Some(_) => {
            return Err(error_page(
                400,
                "Invalid OAuth2 redirect_uri",
                "Redirect URI is not supported by client.",
            ));
        }
        None if plain_bot => None,
        // Omitted: the first registered URI (discord-api.md §1.2).
        None => match st.redirect_uris.first() {
            Some(u) => Some(u.clone()),
            None => {
                return Err(error_page(
                    400,
                    "Invalid OAuth2 redirect_uri",
                    "No redirect URI is registered for this application.",
                ));
            }
        },
    };
    let state = get(p, "state").map(str::to_owned);
    let fail = |error: &str, desc: &str| -> Resp {
        match &redirect_uri {
            Some(u) => error_redirect(u, error, desc, state.as_deref()),
            None => error_page(400, error, desc),
        }
    };
    if !plain_bot {
        match response_type.as_deref() {
            Some("code") | Some("token") => {}
            None => return Err(fail("invalid_request", "Missing \"response_type\"")),
            Some(_) => {
                return Err(fail(
                    "unsupported_response_type",
                    "The authorization server does not support obtaining an authorization code using this method.",
                ));
            }
        }
    }
    if scopes.is_empty()
        || scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str()))
        // Client-credentials-only scope (discord-api.md §1.8).
        || scopes.iter().any(|s| s == "applications.commands.update")
    {
        return Err(fail("invalid_scope", INVALID_SCOPE));
    }
    let challenge = get(p, "code_challenge").map(str::to_owned);
    let method = get(p, "code_challenge_method");
    if challenge.is_some() || method.is_some() {
        // S256 only (discord-api.md §1.6).
        if method != Some("S256") {
            return Err(fail(
                "invalid_request",
                "Unsupported \"code_challenge_method\"",
            ));
        }
        let c = challenge.as_deref().unwrap_or("");
        if c.len() != 43
            || !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(fail("invalid_request", "Invalid \"code_challenge\""));
        }
        // role_connections.write cannot be combined with PKCE (GH#5751).
        if scopes.iter().any(|s| s == "role_connections.write") {
            return Err(fail("invalid_scope", INVALID_SCOPE));
        }
    }
    if response_type.as_deref() == Some("token")
        && scopes.iter().any(|s| s == "role_connections.write")
    {
        return Err(fail("invalid_scope", INVALID_SCOPE));
    }
    let permissions = match get(p, "permissions") {
        None | Some("") => 0,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => return Err(fail("invalid_request", "Invalid \"permissions\"")),
        },
    };
    let snow = |k: &str| -> Result<Option<u64>, Resp> {
        match get(p, k) {
            None | Some("") => Ok(None),
            Some(v) => crate::util::snowflake(v)
                .map(Some)
                .ok_or_else(|| fail("invalid_request", &format!("Invalid \"{k}\""))),
        }
    };
    let guild_id = snow("guild_id")?;
    let channel_id = snow("channel_id")?;
    let disable_guild_select =
        matches!(get(p, "disable_guild_select"), Some("true" | "True" | "1"));
    Ok(AuthReq {
        redirect_uri,
        response_type,
        scopes,
        state,
        prompt: get(p, "prompt").unwrap_or("consent").to_owned(),
        challenge,
        permissions,
        guild_id,
        disable_guild_select,
        channel_id,
    })
}

/// Guilds where `user` may add a bot or a webhook (owner, ADMINISTRATOR or MANAGE_GUILD).
fn manageable(st: &State, user: u64) -> Vec<(u64, String)> {
    st.guilds
        .iter()
        .filter(|g| {
            g.owner_id == user
                || g.members.iter().any(|m| {
                    m.user_id == user && m.permissions & (MANAGE_GUILD | ADMINISTRATOR) != 0
                })
        })
        .map(|g| (g.id, g.name.clone()))
        .collect()
}

fn cookie_user(parts: &Parts) -> Option<u64> {
    let c = parts.headers.get(header::COOKIE)?.to_str().ok()?;
    c.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .and_then(|(_, v)| crate::util::snowflake(v))
}

/// `GET /oauth2/authorize` (consent page or auto-approve) and `POST /oauth2/authorize` (the
/// consent form).
pub(crate) fn authorize(shared: &Shared, parts: &Parts, body: &[u8]) -> Resp {
    let is_post = parts.method == "POST";
    let p = if is_post {
        parse_form(body)
    } else {
        parse_form(parts.uri.query().unwrap_or("").as_bytes())
    };
    let mut st = shared.lock();
    let req = match validate(shared, &st, &p) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if is_post {
        if get(&p, "action") == Some("cancel") {
            st.stats.consents_denied += 1;
            return match &req.redirect_uri {
                Some(u) => error_redirect(u, "access_denied", DENIED, req.state.as_deref()),
                None => error_page(200, "Cancelled", "You cancelled the authorization."),
            };
        }
        let Some(user) = get(&p, "user_id")
            .and_then(crate::util::snowflake)
            .filter(|id| shared.seed_users.iter().any(|u| u.id == *id))
        else {
            return error_page(
                400,
                "Pick a user",
                "Choose one of the accounts to log in as.",
            );
        };
        return approve(shared, &mut st, &req, user);
    }
    // Per-request `mock_user` beats the auto-approve setting.
    let auto = match get(&p, "mock_user") {
        Some(v) => match crate::util::snowflake(v)
            .filter(|id| shared.seed_users.iter().any(|u| u.id == *id))
        {
            Some(id) => Some(id),
            None => {
                return error_page(
                    400,
                    "Unknown mock_user",
                    "mock_user must be the id of a seeded user.",
                );
            }
        },
        None => st.auto_approve,
    };
    if let Some(user) = auto {
        return approve(shared, &mut st, &req, user);
    }
    // prompt=none skips the screen when this browser's user already granted these scopes
    // (passthrough scopes bot and webhook.incoming always ask, discord-api.md §1.2).
    if req.prompt == "none"
        && !req.needs_guild()
        && let Some(user) = cookie_user(parts)
        && st
            .grants
            .values()
            .any(|g| g.user_id == user && req.scopes.iter().all(|s| g.scopes.contains(s)))
    {
        return approve(shared, &mut st, &req, user);
    }
    consent_page(shared, &st, &req, &p, cookie_user(parts))
}

/// The user approved: add the bot / create the webhook, then issue a code (or an implicit token).
fn approve(shared: &Shared, st: &mut State, req: &AuthReq, user: u64) -> Resp {
    let fail = |error: &str, desc: &str| -> Resp {
        match &req.redirect_uri {
            Some(u) => error_redirect(u, error, desc, req.state.as_deref()),
            None => error_page(400, error, desc),
        }
    };
    let mut guild = None;
    if req.needs_guild() {
        let allowed = manageable(st, user);
        let chosen = match req.guild_id {
            Some(g) => allowed.iter().find(|(id, _)| *id == g).map(|(id, _)| *id),
            None => allowed.first().map(|(id, _)| *id),
        };
        match chosen {
            Some(g) => guild = Some(g),
            None => {
                return fail(
                    "access_denied",
                    "The user cannot manage the selected guild.",
                );
            }
        }
    }
    let mut bot_guild = None;
    let mut webhook = None;
    if let Some(g) = guild {
        if req.has("bot") {
            if let Some(gs) = st.guilds.iter_mut().find(|x| x.id == g) {
                gs.bot_permissions = Some(req.permissions);
            }
            bot_guild = Some((g, req.permissions));
        }
        if req.has("webhook.incoming") {
            let channel = req
                .channel_id
                .or_else(|| st.guild(g).map(|x| x.channel_id))
                .unwrap_or(g + 1);
            webhook = Some((g, channel));
        }
    }
    let set_cookie = |r: &mut Resp| {
        set_header(
            r,
            "set-cookie",
            &format!("{COOKIE}={user}; Path=/; HttpOnly; SameSite=Lax"),
        );
    };
    match (req.response_type.as_deref(), &req.redirect_uri) {
        (Some("token"), Some(uri)) => {
            // Implicit grant: values in the fragment, no refresh token (discord-api.md §1.3).
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
            let mut r = redirect(&format!("{uri}#{}", ser.finish()));
            set_cookie(&mut r);
            r
        }
        (Some(_), Some(uri)) => {
            let code = random_token(30);
            // Codes nobody exchanged (load tests): drop the expired ones whenever the map has
            // doubled since the last sweep (amortized O(1), even when every code is still live).
            st.sweep_codes_if_due();
            st.codes.insert(
                code.clone(),
                Code {
                    user_id: user,
                    scopes: req.scopes.clone(),
                    redirect_uri: uri.clone(),
                    challenge: req.challenge.clone(),
                    created: Instant::now(),
                    bot_guild,
                    webhook,
                },
            );
            st.stats.codes_issued += 1;
            let mut pairs: Vec<(&str, String)> = vec![("code", code)];
            if let Some(s) = &req.state {
                pairs.push(("state", s.clone()));
            }
            if let Some((g, perms)) = bot_guild {
                // Hints only; the token response's `guild` is authoritative (discord-api.md §1.3).
                pairs.push(("guild_id", g.to_string()));
                pairs.push(("permissions", perms.to_string()));
            }
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut r = redirect(&with_query(uri, &borrowed));
            set_cookie(&mut r);
            r
        }
        _ => {
            // Plain bot flow: the bot is in the guild, nothing to exchange.
            let name = guild
                .and_then(|g| st.guild(g))
                .map(|g| g.name.clone())
                .unwrap_or_default();
            let mut r = error_page(
                200,
                "Authorized",
                &format!("{} has been added to {name}.", shared.app_name),
            );
            set_cookie(&mut r);
            r
        }
    }
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;background:#313338;color:#dbdee1;margin:0}\
.card{max-width:440px;margin:40px auto;background:#2b2d31;border-radius:8px;padding:24px}\
h1{font-size:20px;color:#fff}ul{padding-left:20px}label.user{display:flex;align-items:center;gap:8px;padding:6px;\
border-radius:4px;overflow-wrap:anywhere}label.user:hover{background:#35373c}img{width:32px;height:32px;border-radius:50%}\
.buttons{display:flex;gap:8px;justify-content:flex-end;margin-top:16px}button{border:0;border-radius:3px;padding:10px 16px;\
font-size:14px;cursor:pointer}#authorize{background:#5865f2;color:#fff}#cancel{background:transparent;color:#fff}\
select{max-width:100%}small{color:#949ba4}</style>";

fn scope_text(s: &str) -> &'static str {
    match s {
        "identify" => "Access your username, avatar, and banner",
        "email" => "Access your email address",
        "guilds" => "Know what servers you're in",
        "guilds.join" => "Join servers for you",
        "guilds.members.read" => {
            "Read your member info (nickname, avatar, roles, etc...) for servers you belong to"
        }
        "connections" => "Access your third-party connections",
        "role_connections.write" => "Update your connection and metadata for this app",
        "bot" => "Add a bot to a server",
        "applications.commands" => "Create commands",
        "webhook.incoming" => "Create a webhook in a channel",
        "gdm.join" => "Join group DMs for you",
        "openid" => "Sign you in (OpenID Connect)",
        _ => "Other access",
    }
}

fn avatar_src(u: &SeedUser) -> String {
    match &u.avatar {
        Some(h) => format!("/cdn/avatars/{}/{}.png?size=64", u.id, h),
        None => {
            let idx = if u.discriminator == "0" {
                (u.id >> 22) % 6
            } else {
                u.discriminator.parse::<u64>().unwrap_or(0) % 5
            };
            format!("/cdn/embed/avatars/{idx}.png")
        }
    }
}

fn consent_page(
    shared: &Shared,
    st: &State,
    req: &AuthReq,
    p: &[(String, String)],
    remembered: Option<u64>,
) -> Resp {
    let selected = remembered
        .filter(|id| shared.seed_users.iter().any(|u| u.id == *id))
        .or(shared.seed_users.first().map(|u| u.id));
    let mut out = String::with_capacity(8192);
    out.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<title>Authorize access to your account</title>");
    out.push_str(STYLE);
    out.push_str("</head><body><main class=\"card\">");
    out.push_str(&format!(
        "<h1>{} wants to access your account</h1><p><small>This is discord-oauth-mock, a fake Discord for tests.</small></p>",
        esc(&shared.app_name)
    ));
    out.push_str("<form method=\"post\" action=\"/oauth2/authorize\">");
    let skip_guild = req.needs_guild();
    for (k, v) in p {
        if k == "user_id" || k == "action" || k == "mock_user" || (skip_guild && k == "guild_id") {
            continue;
        }
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    out.push_str("<fieldset id=\"users\"><legend>Log in as</legend>");
    for u in &shared.seed_users {
        let checked = if Some(u.id) == selected {
            " checked"
        } else {
            ""
        };
        let legacy = if u.discriminator != "0" {
            format!("#{}", esc(&u.discriminator))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<label class=\"user\" for=\"user-{id}\"><input type=\"radio\" name=\"user_id\" id=\"user-{id}\" value=\"{id}\"{checked}>\
             <img src=\"{src}\" alt=\"\"><span><bdi class=\"display-name\">{name}</bdi> <small>@<bdi>{username}</bdi>{legacy}</small></span></label>",
            id = u.id,
            src = esc(&avatar_src(u)),
            name = esc(u.display_name()),
            username = esc(&u.username),
        ));
    }
    out.push_str("</fieldset>");
    if skip_guild {
        out.push_str("<p><label for=\"guild\">Add to server:</label> ");
        if req.disable_guild_select && req.guild_id.is_some() {
            let g = req.guild_id.unwrap_or_default();
            let name = st
                .guild(g)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| g.to_string());
            out.push_str(&format!(
                "<input type=\"hidden\" name=\"guild_id\" value=\"{g}\"><bdi id=\"guild\">{}</bdi>",
                esc(&name)
            ));
        } else {
            out.push_str("<select name=\"guild_id\" id=\"guild\">");
            for g in &st.guilds {
                let sel = if Some(g.id) == req.guild_id {
                    " selected"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "<option value=\"{}\"{sel}>{}</option>",
                    g.id,
                    esc(&g.name)
                ));
            }
            out.push_str("</select>");
        }
        out.push_str("</p>");
    }
    out.push_str("<p>This will allow the developer to:</p><ul id=\"scopes\">");
    for s in &req.scopes {
        out.push_str(&format!(
            "<li data-scope=\"{}\">{} <small>({})</small></li>",
            esc(s),
            esc(scope_text(s)),
            esc(s)
        ));
    }
    out.push_str("</ul>");
    if req.has("bot") {
        out.push_str(&format!(
            "<p><small>Permissions: {}</small></p>",
            req.permissions
        ));
    }
    if let Some(u) = &req.redirect_uri {
        out.push_str(&format!(
            "<p><small>You will be redirected to {}</small></p>",
            esc(u)
        ));
    }
    out.push_str(
        "<div class=\"buttons\"><button type=\"submit\" name=\"action\" value=\"cancel\" id=\"cancel\">Cancel</button>\
         <button type=\"submit\" name=\"action\" value=\"authorize\" id=\"authorize\">Authorize</button></div>",
    );
    out.push_str("</form></main></body></html>");
    html(200, out)
}

/// The outcome of client authentication (discord-api.md §1.4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ClientAuth {
    /// The right client id and secret.
    Confidential,
    /// The right client id and no secret (empty or absent): acceptable only from a public
    /// client, and only where the caller allows it (PKCE exchange, refresh, revoke).
    NoSecret,
    /// Wrong id or secret, or a malformed `Authorization` header.
    Invalid,
}

/// Client credentials from HTTP Basic or the body (discord-api.md §1.4). The `Basic` scheme is
/// matched case-insensitively (RFC 7235 §2.1) and its user and password are form-urlencoded
/// (RFC 6749 §2.3.1), so they are decoded before the comparison.
fn client_auth(shared: &Shared, parts: &Parts, form: &[(String, String)]) -> ClientAuth {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let basic = header.and_then(|v| {
        let (scheme, rest) = v.trim_start().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(rest)
    });
    let (id, secret) = match basic {
        Some(b) => {
            let Some(pair) = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            else {
                return ClientAuth::Invalid;
            };
            let Some((i, sec)) = pair.split_once(':') else {
                return ClientAuth::Invalid;
            };
            match (crate::util::form_decode(i), crate::util::form_decode(sec)) {
                (Some(i), Some(sec)) => (Some(i), Some(sec)),
                _ => return ClientAuth::Invalid,
            }
        }
        None => (
            get(form, "client_id").map(str::to_owned),
            get(form, "client_secret").map(str::to_owned),
        ),
    };
    if id.as_deref().and_then(crate::util::snowflake) != Some(shared.client_id) {
        return ClientAuth::Invalid;
    }
    match secret.as_deref() {
        None | Some("") => ClientAuth::NoSecret,
        Some(s) if s == shared.client_secret => ClientAuth::Confidential,
        Some(_) => ClientAuth::Invalid,
    }
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn token_response(
    shared: &Shared,
    st: &State,
    access: &str,
    refresh: Option<&str>,
    scopes: &[String],
) -> serde_json::Value {
    let _ = shared;
    let mut v = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": st.token_lifetime.as_secs(),
        "scope": scopes.join(" "),
    });
    if let Some(r) = refresh {
        v["refresh_token"] = serde_json::json!(r);
    }
    v
}

/// Checks a PKCE verifier against an S256 challenge (discord-api.md §1.6).
pub(crate) fn verifier_ok(verifier: &str, challenge: &str) -> bool {
    let shape = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    shape
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()))
            == challenge
}

/// `POST /api/v10/oauth2/token` (and `/api/oauth2/token`).
pub(crate) fn token(shared: &Shared, st: &mut State, parts: &Parts, body: &[u8]) -> Resp {
    let r = token_inner(shared, st, parts, body);
    if r.status().is_client_error() {
        st.stats.token_errors += 1;
    }
    r
}

fn token_inner(shared: &Shared, st: &mut State, parts: &Parts, body: &[u8]) -> Resp {
    // Form-encoded only: a JSON (or any other) body reads as an empty form, and Discord answers
    // that with unsupported_grant_type "Grant type None is not supported" (GH#645, GH#5249).
    let form = if is_form(parts) {
        parse_form(body)
    } else {
        Vec::new()
    };
    let grant_type = get(&form, "grant_type");
    match grant_type {
        Some("authorization_code" | "refresh_token" | "client_credentials") => {}
        other => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                Some(&format!(
                    "Grant type {} is not supported",
                    other.unwrap_or("None")
                )),
            );
        }
    }
    let auth = client_auth(shared, parts, &form);
    if auth == ClientAuth::Invalid {
        return oauth_error(401, "invalid_client", None);
    }
    if auth == ClientAuth::NoSecret {
        // Only a public client may omit the secret, and only when it proves itself with PKCE
        // (a code issued with a challenge) or refreshes (discord-api.md §1.4, §1.6). An unknown
        // code falls through to invalid_grant below.
        let allowed = st.public_client
            && match grant_type {
                Some("authorization_code") => get(&form, "code")
                    .and_then(|c| st.codes.get(c))
                    .is_none_or(|c| c.challenge.is_some()),
                Some("refresh_token") => true,
                _ => false,
            };
        if !allowed {
            return oauth_error(401, "invalid_client", None);
        }
    }
    match grant_type {
        Some("authorization_code") => {
            const BAD_CODE: &str = "Invalid \"code\" in request.";
            let Some(code) = get(&form, "code") else {
                return oauth_error(400, "invalid_request", Some("Missing \"code\""));
            };
            // Single use: any attempt consumes the code.
            let Some(c) = st.codes.remove(code) else {
                return oauth_error(400, "invalid_grant", Some(BAD_CODE));
            };
            if c.created.elapsed() >= st.code_lifetime {
                return oauth_error(400, "invalid_grant", Some(BAD_CODE));
            }
            if get(&form, "redirect_uri") != Some(c.redirect_uri.as_str()) {
                return oauth_error(
                    400,
                    "invalid_request",
                    Some("Invalid \"redirect_uri\" in request."),
                );
            }
            if let Some(ch) = &c.challenge {
                match get(&form, "code_verifier") {
                    None => {
                        return oauth_error(
                            400,
                            "invalid_request",
                            Some("Missing \"code_verifier\""),
                        );
                    }
                    Some(v) if !verifier_ok(v, ch) => {
                        return oauth_error(
                            400,
                            "invalid_request",
                            Some("Invalid \"code_verifier\""),
                        );
                    }
                    Some(_) => {}
                }
            }
            let (access, refresh) = st.new_grant(c.user_id, c.scopes.clone(), true);
            *st.stats
                .grants
                .entry("authorization_code".into())
                .or_default() += 1;
            let mut v = token_response(shared, st, &access, refresh.as_deref(), &c.scopes);
            if let Some((g, _)) = c.bot_guild
                && let Some(guild) = st.guild(g)
            {
                v["guild"] = full_guild_json(guild);
            }
            if let Some((g, channel)) = c.webhook {
                let id = (random_u64() >> 1) % 900_000_000_000_000_000 + 100_000_000_000_000_000;
                let token = random_token(68);
                v["webhook"] = serde_json::json!({
                    "id": id.to_string(),
                    "type": 1,
                    "name": shared.app_name,
                    "avatar": null,
                    "channel_id": channel.to_string(),
                    "guild_id": g.to_string(),
                    "application_id": shared.client_id.to_string(),
                    "token": token,
                    "url": format!("{}/api/webhooks/{id}/{token}", shared.base_url),
                });
            }
            json(200, &v)
        }
        Some("refresh_token") => {
            const BAD: &str = "Invalid \"refresh_token\" in request";
            let Some(rt) = get(&form, "refresh_token") else {
                return oauth_error(400, "invalid_request", Some("Missing \"refresh_token\""));
            };
            let Some(&grant) = st.refresh.get(rt) else {
                return oauth_error(400, "invalid_grant", Some(BAD));
            };
            // Rotation: the old refresh token and the old access token die (discord-api.md §1.4, §2.2).
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
                &token_response(shared, st, &access, refresh.as_deref(), &scopes),
            )
        }
        _ => {
            // Client credentials: a token for the bot owner, no refresh token (discord-api.md §1.4).
            let scopes: Vec<String> = get(&form, "scope")
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if scopes.is_empty()
                || scopes.iter().any(|s| {
                    !KNOWN_SCOPES.contains(&s.as_str()) || s == "bot" || s == "webhook.incoming"
                })
            {
                return oauth_error(400, "invalid_scope", Some(INVALID_SCOPE));
            }
            let owner = shared.seed_users.first().map(|u| u.id).unwrap_or(0);
            let (access, _) = st.new_grant(owner, scopes.clone(), false);
            *st.stats
                .grants
                .entry("client_credentials".into())
                .or_default() += 1;
            json(200, &token_response(shared, st, &access, None, &scopes))
        }
    }
}

/// `POST /api/v10/oauth2/token/revoke`: revokes the whole authorization, `200 {}` (discord-api.md §1.5).
pub(crate) fn revoke(shared: &Shared, st: &mut State, parts: &Parts, body: &[u8]) -> Resp {
    let form = if is_form(parts) {
        parse_form(body)
    } else {
        Vec::new()
    };
    // A public client may revoke without its secret (discord-api.md §1.5).
    match client_auth(shared, parts, &form) {
        ClientAuth::Confidential => {}
        ClientAuth::NoSecret if st.public_client => {}
        _ => return oauth_error(401, "invalid_client", None),
    }
    let Some(token) = get(&form, "token") else {
        return oauth_error(400, "invalid_request", Some("Missing \"token\""));
    };
    let user = st.access.get(token).map(|a| a.user_id).or_else(|| {
        st.refresh
            .get(token)
            .and_then(|g| st.grants.get(g))
            .map(|g| g.user_id)
    });
    if let Some(u) = user {
        st.revoke_user(u);
    }
    // RFC 7009: an unknown token is not an error.
    json(200, &serde_json::json!({}))
}
