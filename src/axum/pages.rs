//! Error responses that fit the request: a small HTML page for a browser, JSON for everyone else.
//!
//! The design: [`Error`]'s `IntoResponse` cannot see the request, so it always renders JSON
//! (`{"error", "message"}`, the API contract) and attaches the error to the response as an
//! extension marker. [`ErrorPages`] — set on the whole app with
//! [`DiscordLayer::error_pages`](super::DiscordLayer::error_pages), used by the ready-made
//! [`LoginRoutes`](super::LoginRoutes), or put on single routes as a tower layer — looks at the
//! request's `Accept` header before calling the handler, and on the way back replaces the body
//! of a marked response with an HTML page when the request prefers HTML ([`prefers_html`]).
//! The status and the other headers (`Retry-After`, `Set-Cookie`, `Cache-Control`) are kept.
//! Responses the app built itself carry no marker and are never touched. Without `Accept`
//! (most API clients, `reqwest` and `curl` by default) the answer stays JSON.
//!
//! Owns: content negotiation and the built-in page. Imports only lower layers (error) and
//! axum-core/http.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::Response;
use http::{HeaderMap, HeaderValue, Request, StatusCode, header};

use crate::error::Error;
use crate::vocab::BoxFuture;

/// The error a response was rendered from (a response extension; see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct RenderedError(pub(crate) Error);

/// An app's own error page: builds the answer for a browser from the error (the status stays
/// the error's; the page's headers replace those of the JSON answer).
pub type ErrorPageFn = Arc<dyn Fn(&Error) -> Response + Send + Sync>;

#[derive(Clone, Default)]
enum Mode {
    /// Always JSON.
    #[default]
    Json,
    /// HTML for browsers: the built-in page, or the app's.
    Html(Option<ErrorPageFn>),
}

/// How the crate's error responses ([`Error`], [`Rejection`](super::Rejection)) are rendered:
/// always JSON ([`json`](Self::json), [`DiscordLayer`](super::DiscordLayer)'s default, the
/// API contract), or an HTML page when the request prefers HTML ([`html`](Self::html), with
/// the built-in page, or [`custom`](Self::custom), with the app's template).
///
/// It is also a tower layer, for a single route:
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use discord_oauth::axum::ErrorPages;
/// # async fn callback() {}
/// let app: Router = Router::new().route("/callback", get(callback).layer(ErrorPages::html()));
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ErrorPages {
    mode: Mode,
    login_path: Option<String>,
}

impl fmt::Debug for ErrorPages {
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

impl ErrorPages {
    /// Always JSON, whatever the request accepts.
    pub fn json() -> Self {
        Self::default()
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
    ///
    /// ```no_run
    /// use axum::response::{Html, IntoResponse};
    /// use discord_oauth::axum::ErrorPages;
    /// let pages = ErrorPages::custom(|e| Html(format!("<h1>{}</h1>", e.status())).into_response());
    /// # let _ = pages;
    /// ```
    pub fn custom(page: impl Fn(&Error) -> Response + Send + Sync + 'static) -> Self {
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

    /// The response for a request that `wants_html`: a marked error response becomes the
    /// HTML page; anything else is returned as it is.
    pub(crate) fn render(&self, wants_html: bool, response: Response) -> Response {
        let Mode::Html(custom) = &self.mode else {
            return response;
        };
        if !wants_html {
            return response;
        }
        let Some(RenderedError(error)) = response.extensions().get::<RenderedError>().cloned()
        else {
            return response;
        };
        let page = match custom {
            Some(page) => page(&error),
            None => error_page(&error, self.login_path.as_deref().unwrap_or("/login")),
        };
        let (mut parts, _json) = response.into_parts();
        let (page_parts, body) = page.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        for name in page_parts.headers.keys() {
            parts.headers.remove(name);
        }
        for (name, value) in &page_parts.headers {
            parts.headers.append(name, value.clone());
        }
        Response::from_parts(parts, body)
    }
}

/// Whether the request prefers HTML: its `Accept` names `text/html` and names it before
/// `application/json`, if at all (browsers' navigations). Without `Accept`: no.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = None;
    let mut json = None;
    let mut offset = 0;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
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

/// The built-in error page: the status, a sentence for a person, and links to `/` and (for a
/// login that failed or is needed) to `login_path`. Every value is HTML-escaped.
pub fn error_page(error: &Error, login_path: &str) -> Response {
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
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{sentence}</p>{detail}<p>{login}<a href=\"/\">Back to the home page</a></p>\
         </body></html>\n",
        title = escape(&title),
        sentence = escape(sentence),
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

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

impl<S> tower_layer::Layer<S> for ErrorPages {
    type Service = ErrorPagesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorPagesService {
            inner,
            pages: self.clone(),
        }
    }
}

/// The service made by [`ErrorPages`] used as a layer.
#[derive(Clone, Debug)]
pub struct ErrorPagesService<S> {
    inner: S,
    pages: ErrorPages,
}

impl<S, B> tower_service::Service<Request<B>> for ErrorPagesService<S>
where
    S: tower_service::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let wants_html = self.pages.negotiates() && prefers_html(req.headers());
        let pages = self.pages.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(req).await?;
            Ok(pages.render(wants_html, response))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn the_page_escapes_and_links_to_the_login() {
        let page = error_page(
            &Error::InvalidRequest("<script>\"x\"</script>".into()),
            "/login",
        );
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        let denied = error_page(&Error::AccessDenied { description: None }, "/a?b=\"c\"");
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            denied.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
