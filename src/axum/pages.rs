//! Error responses that fit the request: a small HTML page for a browser, JSON for everyone else
//! (the neutral rendering is [`crate::web::pages`]).
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
//! Owns: axum's side of content negotiation. Imports only lower layers (web, error) and
//! axum-core/http.

use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::Response;
use http::{HeaderValue, Request, header};

use crate::error::Error;
use crate::vocab::BoxFuture;
use crate::web::pages::{HTML, Page};

pub use crate::web::pages::prefers_html;

/// The error a response was rendered from (a response extension; see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct RenderedError(pub(crate) Error);

/// An app's own error page: builds the answer for a browser from the error (the status stays
/// the error's; the page's headers replace those of the JSON answer).
pub type ErrorPageFn = crate::web::ErrorPageFn<Response>;

/// How the crate's error responses ([`Error`], [`Rejection`](super::Rejection)) are rendered:
/// always JSON ([`json`](crate::web::ErrorPages::json), [`DiscordLayer`](super::DiscordLayer)'s
/// default, the API contract), or an HTML page when the request prefers HTML
/// ([`html`](crate::web::ErrorPages::html), with the built-in page, or
/// [`custom`](crate::web::ErrorPages::custom), with the app's template).
///
/// ```no_run
/// use axum::response::{Html, IntoResponse};
/// use discord_oauth::axum::ErrorPages;
/// let pages = ErrorPages::custom(|e| Html(format!("<h1>{}</h1>", e.status())).into_response());
/// # let _ = pages;
/// ```
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
pub type ErrorPages = crate::web::ErrorPages<Response>;

impl crate::web::ErrorPages<Response> {
    /// The response for a request that `wants_html`: a marked error response becomes the
    /// HTML page; anything else is returned as it is.
    pub(crate) fn render(&self, wants_html: bool, response: Response) -> Response {
        if !wants_html || !self.negotiates() {
            return response;
        }
        let Some(RenderedError(error)) = response.extensions().get::<RenderedError>().cloned()
        else {
            return response;
        };
        let page = match self.page_for(wants_html, &error) {
            Some(Page::Custom(page)) => page,
            Some(Page::Builtin(html)) => html_response(&error, html),
            None => return response,
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

fn html_response(error: &Error, html: String) -> Response {
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = error.status();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HTML));
    response
}

/// The built-in error page (see [`crate::web::error_page_html`]) as a response with the
/// error's status.
pub fn error_page(error: &Error, login_path: &str) -> Response {
    html_response(error, crate::web::error_page_html(error, login_path))
}

impl<S> tower_layer::Layer<S> for crate::web::ErrorPages<Response> {
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
    use http::StatusCode;

    #[test]
    fn the_page_has_the_status_and_is_html() {
        let denied = error_page(&Error::AccessDenied { description: None }, "/login");
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            denied.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }
}
