//! The HTML frame of the fake's pages: the style sheet and the error page shown when Discord does
//! not redirect (e.g. "Invalid OAuth2 redirect_uri",
//! <https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>).
//!
//! A leaf of `oauth`: must not import its siblings.

use crate::util::{Resp, esc, html};

/// The style sheet of every page (Discord's dark theme, roughly).
pub(super) const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;background:#313338;color:#dbdee1;margin:0}\
.card{max-width:440px;margin:40px auto;background:#2b2d31;border-radius:8px;padding:24px}\
h1{font-size:20px;color:#fff}ul{padding-left:20px}label.user{display:flex;align-items:center;gap:8px;padding:6px;\
border-radius:4px;overflow-wrap:anywhere}label.user:hover{background:#35373c}img{width:32px;height:32px;border-radius:50%}\
.buttons{display:flex;gap:8px;justify-content:flex-end;margin-top:16px}button{border:0;border-radius:3px;padding:10px 16px;\
font-size:14px;cursor:pointer}#authorize{background:#5865f2;color:#fff}#cancel{background:transparent;color:#fff}\
select{max-width:100%}small{color:#949ba4}</style>";

/// A page without redirect: a title (`id="error"`) and a line of text.
pub(super) fn error_page(status: u16, title: &str, detail: &str) -> Resp {
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
