//! The consent page of `GET /oauth2/authorize`: radio inputs `name="user_id"` with
//! `id="user-<id>"` for the seeded users, a text input `name="other_user_id"` for any other user
//! id, the guild picker of the bot and webhook flows, the
//! scopes, and the buttons `id="authorize"` and `id="cancel"` that post the form back.
//!
//! Must not import `authorize` (it builds on this).

use super::pages::STYLE;
use super::request::AuthReq;
use super::scopes::scope_text;
use crate::seed::SeedUser;
use crate::state::{Shared, State};
use crate::util::{Resp, esc, html};

/// The page. `remembered` is the user of the browser's cookie, selected when it is a seeded user
/// (else the first user is).
pub(super) fn consent_page(
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
    hidden_inputs(&mut out, req, p);
    user_choice(&mut out, &shared.seed_users, selected);
    // A remembered generated user is typed in for the browser.
    let other = remembered
        .filter(|id| !shared.seed_users.iter().any(|u| u.id == *id) && shared.can_log_in(*id));
    other_user(&mut out, other);
    if req.needs_guild() {
        guild_choice(&mut out, st, req);
    }
    scope_list(&mut out, req);
    out.push_str(
        "<div class=\"buttons\"><button type=\"submit\" name=\"action\" value=\"cancel\" id=\"cancel\">Cancel</button>\
         <button type=\"submit\" name=\"action\" value=\"authorize\" id=\"authorize\">Authorize</button></div>",
    );
    out.push_str("</form></main></body></html>");
    html(200, out)
}

/// The request's parameters, posted back with the form (except the ones the form sets).
fn hidden_inputs(out: &mut String, req: &AuthReq, p: &[(String, String)]) {
    let skip_guild = req.needs_guild();
    for (k, v) in p {
        if k == "user_id"
            || k == "other_user_id"
            || k == "action"
            || k == "mock_user"
            || (skip_guild && k == "guild_id")
        {
            continue;
        }
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
}

/// One radio input per seeded user, with avatar, display name and username.
fn user_choice(out: &mut String, users: &[SeedUser], selected: Option<u64>) {
    out.push_str("<fieldset id=\"users\"><legend>Log in as</legend>");
    for u in users {
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
}

/// A text input `name="other_user_id"` (`id="other-user"`): any user id, which logs in as the
/// user generated from it; when filled in, it wins over the radio choice.
fn other_user(out: &mut String, value: Option<u64>) {
    let value = value.map(|v| v.to_string()).unwrap_or_default();
    out.push_str(&format!(
        "<p><label for=\"other-user\">Or log in as any user id:</label> \
         <input type=\"text\" name=\"other_user_id\" id=\"other-user\" inputmode=\"numeric\" \
         pattern=\"[0-9]{{7,19}}\" placeholder=\"175928847299117063\" value=\"{value}\"></p>"
    ));
}

/// The guild a bot or webhook is added to: fixed by `guild_id` with `disable_guild_select`, else
/// a select of every guild.
fn guild_choice(out: &mut String, st: &State, req: &AuthReq) {
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

/// What the app may do, the bot's permissions, and where the browser goes next.
fn scope_list(out: &mut String, req: &AuthReq) {
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
}

/// The user's avatar on the mock's CDN, or Discord's default avatar
/// (<https://discord.com/developers/docs/reference#image-formatting>).
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
