//! Error responses that fit the request, framework-neutral: the JSON body (`{"error",
//! "message"}`, the API contract), `Retry-After`, the built-in HTML page for a person, and which
//! of the two a request prefers ([`prefers_html`]).
//!
//! [`ErrorPages`] is the choice an app makes (always JSON, the built-in page, or its own page
//! for browsers); it is generic over the framework's response type `R`, which only the app's own
//! page ([`ErrorPages::custom`]) produces. Each integration renders with it on the way back:
//! a response made from a crate [`Error`] becomes the page when the request prefers HTML, the
//! status and the other headers (`Retry-After`, `Set-Cookie`, `Cache-Control`) being kept.
//! Responses the app built itself are never touched. Without `Accept` (most API clients,
//! `reqwest` and `curl` by default) the answer stays JSON.
//!
//! Owns: content negotiation and the built-in page. Imports only lower layers (error) and
//! `http`.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, StatusCode, header};

use crate::error::Error;

/// An app's own error page: builds the answer for a browser from the error (the status stays
/// the error's; the page's headers replace those of the JSON answer). `R` is the framework's
/// response type.
pub type ErrorPageFn<R> = Arc<dyn Fn(&Error) -> R + Send + Sync>;

enum Mode<R> {
    /// Always JSON.
    Json,
    /// HTML for browsers: the built-in page, or the app's.
    Html(Option<ErrorPageFn<R>>),
}

impl<R> Clone for Mode<R> {
    fn clone(&self) -> Self {
        match self {
            Self::Json => Self::Json,
            Self::Html(page) => Self::Html(page.clone()),
        }
    }
}

/// How the crate's error responses ([`Error`], [`Rejection`](super::Rejection)) are rendered:
/// always JSON ([`json`](Self::json), the integrations' default, the API contract), or an HTML
/// page when the request prefers HTML ([`html`](Self::html), with the built-in page, or
/// [`custom`](Self::custom), with the app's template). `R` is the framework's response type
/// (the integrations name it: `discord_oauth::axum::ErrorPages`,
/// `discord_oauth::actix::ErrorPages`).
#[must_use]
pub struct ErrorPages<R> {
    mode: Mode<R>,
    login_path: Option<String>,
}

impl<R> Clone for ErrorPages<R> {
    fn clone(&self) -> Self {
        Self {
            mode: self.mode.clone(),
            login_path: self.login_path.clone(),
        }
    }
}

impl<R> Default for ErrorPages<R> {
    fn default() -> Self {
        Self::json()
    }
}

impl<R> fmt::Debug for ErrorPages<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Json => "json",
            Mode::Html(None) => "html",
            Mode::Html(Some(_)) => "custom",
        };
        f.debug_struct("ErrorPages")
            .field("mode", &mode)
            .field("login_path", &self.login_path)
            .finish()
    }
}

/// The page an error becomes for a browser (see [`ErrorPages::page_for`]).
pub(crate) enum Page<R> {
    /// The built-in page: `text/html; charset=utf-8` with this body.
    Builtin(String),
    /// The app's own answer.
    Custom(R),
}

impl<R> ErrorPages<R> {
    /// Always JSON, whatever the request accepts.
    pub fn json() -> Self {
        Self {
            mode: Mode::Json,
            login_path: None,
        }
    }

    /// The built-in HTML page (status, a sentence, links to `/` and to the login) when the
    /// request prefers HTML; JSON otherwise.
    pub fn html() -> Self {
        Self {
            mode: Mode::Html(None),
            login_path: None,
        }
    }

    /// The app's own page when the request prefers HTML; JSON otherwise.
    pub fn custom(page: impl Fn(&Error) -> R + Send + Sync + 'static) -> Self {
        Self {
            mode: Mode::Html(Some(Arc::new(page))),
            login_path: None,
        }
    }

    /// Where the built-in page's "log in" link points (default `/login`).
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.login_path = Some(path.into());
        self
    }

    /// The login path, unless one was set.
    pub(crate) fn or_login_path(mut self, path: &str) -> Self {
        if self.login_path.is_none() {
            self.login_path = Some(path.to_owned());
        }
        self
    }

    /// Whether this renders HTML for some requests.
    pub(crate) fn negotiates(&self) -> bool {
        matches!(self.mode, Mode::Html(_))
    }

    /// The page `error` becomes for a request that `wants_html`; `None`: keep the JSON.
    pub(crate) fn page_for(&self, wants_html: bool, error: &Error) -> Option<Page<R>> {
        let Mode::Html(custom) = &self.mode else {
            return None;
        };
        if !wants_html {
            return None;
        }
        Some(match custom {
            Some(page) => Page::Custom(page(error)),
            None => Page::Builtin(error_page_html(
                error,
                self.login_path.as_deref().unwrap_or("/login"),
            )),
        })
    }
}

/// Whether the request prefers HTML: its `Accept` names `text/html` and names it before
/// `application/json`, if at all (browsers' navigations). Without `Accept`: no.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    accepts_html(headers.get_all(header::ACCEPT).iter().map(|v| v.as_bytes()))
}

/// [`prefers_html`] over the raw values of the request's `Accept` headers, for a framework
/// with its own header types.
pub fn accepts_html<'a>(accept: impl IntoIterator<Item = &'a [u8]>) -> bool {
    let mut html = None;
    let mut json = None;
    let mut offset = 0;
    for value in accept {
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let value = value.to_ascii_lowercase();
        html = html.or(value.find("text/html").map(|i| offset + i));
        json = json.or(value.find("application/json").map(|i| offset + i));
        offset += value.len() + 1;
    }
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The JSON body of an error answer: `{"error": kind, "message": message}`.
pub(crate) fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({ "error": kind, "message": message }).to_string()
}

/// The JSON body of `error`'s answer, logged on the way (a warning for a server-side failure).
pub(crate) fn error_answer_json(error: &Error) -> String {
    let status = error.status();
    if status.is_server_error() {
        tracing::warn!(error = %error, status = status.as_u16(), "Discord call failed");
    } else {
        tracing::debug!(error = %error, status = status.as_u16(), "request refused");
    }
    error_json(error.kind(), &error.to_string())
}

/// `Retry-After` of `error`'s answer in whole seconds (rounded up, at least 1), if any.
pub(crate) fn retry_after_secs(error: &Error) -> Option<u64> {
    error.retry_after().map(|wait| {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        secs.max(1)
    })
}

/// The built-in error page as HTML (served as `text/html; charset=utf-8` with the error's
/// status): the status, a sentence for a person, and links to `/` and (for a login that
/// failed or is needed) to `login_path`. Every value is HTML-escaped.
pub fn error_page_html(error: &Error, login_path: &str) -> String {
    let status = error.status();
    let (sentence, relogin) = sentence(error);
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let detail = if status.is_client_error() {
        format!("<p><small>{}</small></p>", escape(&error.to_string()))
    } else {
        String::new()
    };
    let login = if relogin {
        format!(
            "<a href=\"{}\">Log in with Discord</a> · ",
            escape(login_path)
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{sentence}</p>{detail}<p>{login}<a href=\"/\">Back to the home page</a></p>\
         </body></html>\n",
        title = escape(&title),
        sentence = escape(sentence),
    )
}

/// The content type of [`error_page_html`].
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// A sentence for a person, and whether logging in again may help.
fn sentence(error: &Error) -> (&'static str, bool) {
    match error {
        Error::AccessDenied { .. } => (
            "You cancelled the login with Discord, so nothing was shared. You can try again whenever you like.",
            true,
        ),
        Error::Unauthorized => ("You need to log in with Discord to see this page.", true),
        Error::InvalidState(_) => (
            "This login link has expired or was already used. Please log in again.",
            true,
        ),
        Error::MissingScope(_) => (
            "This page needs a Discord permission you have not granted. Log in again to grant it.",
            true,
        ),
        Error::OAuth { .. } => (
            "Discord could not complete the login. Please log in again.",
            true,
        ),
        e if e.status() == StatusCode::FORBIDDEN => ("You are not allowed to do this.", false),
        e if e.status() == StatusCode::TOO_MANY_REQUESTS
            || e.status() == StatusCode::SERVICE_UNAVAILABLE =>
        {
            (
                "Discord is busy right now. Please try again in a moment.",
                false,
            )
        }
        e if e.status().is_server_error() => (
            "Something went wrong while talking to Discord. Please try again in a moment.",
            false,
        ),
        _ => ("The request could not be served.", false),
    }
}

/// HTML-escapes text for element content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn html_is_preferred_only_when_named_before_json() {
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("application/json, text/html")));
        assert!(prefers_html(&accept("Text/HTML, application/json")));
        assert!(!prefers_html(&accept("*/*")));
        assert!(accepts_html([&b"text/html"[..]]));
        assert!(!accepts_html([&b"application/json"[..], &b"text/html"[..]]));
    }

    #[test]
    fn the_page_escapes_and_links_to_the_login() {
        let page = error_page_html(
            &Error::InvalidRequest("<script>\"x\"</script>".into()),
            "/login",
        );
        assert!(page.contains("400 Bad Request"));
        assert!(!page.contains("<script>"));
        let denied = error_page_html(&Error::AccessDenied { description: None }, "/a?b=\"c\"");
        assert!(denied.contains("403 Forbidden"));
        assert!(denied.contains("href=\"/a?b=&quot;c&quot;\""));
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
