//! The actix-web integration: the same surface as [`axum`](crate::axum), on the same
//! framework-neutral [`crate::web`] core (only the glue differs):
//!
//! - [`DiscordMiddleware`] (`App::wrap`) makes a [`DiscordSession`] for every request (lazily:
//!   nothing is decrypted unless a handler uses it) and writes the session's `Set-Cookie`
//!   values, and `Cache-Control: no-store` on an answer carrying a session cookie, into the
//!   response;
//! - [`DiscordSession`], [`Authorized`], [`SameOrigin`] and [`RequireGuildPermission`] are
//!   extractors (`FromRequest`), refusing with a typed [`Rejection`]; [`RequireAuthorization`]
//!   is [`Authorized`] for a whole scope of routes (`web::scope(..).wrap(..)`);
//! - [`Error`] and [`Rejection`] are `ResponseError`s with the status of [`Error::status`]:
//!   JSON `{"error", "message"}`, or an HTML page for a browser with [`ErrorPages`]
//!   ([`DiscordMiddleware::error_pages`]; see [`crate::web::pages`] for how `Accept` is seen);
//! - [`DiscordMiddleware::routes`] serves ready-made login, callback and logout routes
//!   ([`LoginRoutes`], see [`crate::web::routes`]).
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use discord_oauth::actix::{Authorized, DiscordMiddleware, LoginRoutes};
//! use discord_oauth::{Config, DiscordOAuth, Error, Fetch, Scope};
//!
//! async fn me(auth: Authorized) -> Result<HttpResponse, Error> {
//!     let user = auth.session.fetch_user(Fetch::Cached).await?;
//!     Ok(HttpResponse::Ok().body(user.display_name().to_owned()))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let discord = DiscordOAuth::new(Config::from_env()?)?;
//! let middleware = DiscordMiddleware::new(discord).routes(LoginRoutes::new().scopes([Scope::Identify]));
//! HttpServer::new(move || App::new().route("/me", web::get().to(me)).wrap(middleware.clone()))
//!     .bind("127.0.0.1:5000")?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! actix-web 4 speaks `http` 0.2 while the core speaks `http` 1: the request headers the session
//! reads (cookies, `Host`, `Origin`, `Sec-Fetch-Site`) are copied across by value
//! ([`http_headers`] copies them all, e.g. for [`DiscordOAuth::handle_event`]).
//!
//! Owns: the glue to actix-web. With [`axum`](crate::axum), the only modules that import a web
//! framework; it must not import `axum` (nor `axum` it).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::error::Error;
use crate::session::DiscordSession;
use crate::web::guard::{GuardConfig, Refusal, require_authorization};
use crate::web::pages::{
    HTML, Page, accepts_html, error_answer_json, error_json, retry_after_secs,
};
use crate::web::routes::Answer;
use crate::{DiscordOAuth, Scope};

pub use crate::web::{
    Administrator, Authorized, GuildRequirement, ManageGuild, ManageGuildByBot, ManageGuildFresh,
    Rejection, RequireGuildPermission, SameOrigin, UnauthorizedBehavior, guild_id_from_path,
};

/// How the crate's error responses are rendered: always JSON
/// ([`json`](crate::web::ErrorPages::json), the default), or an HTML page when the request
/// prefers HTML ([`html`](crate::web::ErrorPages::html), or
/// [`custom`](crate::web::ErrorPages::custom) with the app's page).
///
/// ```no_run
/// use actix_web::HttpResponse;
/// use discord_oauth::actix::ErrorPages;
/// let pages = ErrorPages::custom(|e| HttpResponse::Ok().body(format!("<h1>{}</h1>", e.status())));
/// # let _ = pages;
/// ```
pub type ErrorPages = crate::web::ErrorPages<HttpResponse>;

/// An app's own error page (see [`ErrorPages`]).
pub type ErrorPageFn = crate::web::ErrorPageFn<HttpResponse>;

/// The ready-made login, callback and logout routes (see [`crate::web::routes`]), mounted with
/// [`DiscordMiddleware::routes`].
pub type LoginRoutes = crate::web::LoginRoutes<HttpResponse>;

type MountedRoutes = crate::web::routes::MountedRoutes<HttpResponse>;

/// Adds a [`DiscordSession`] to every request and its cookies to every response (`App::wrap`);
/// optionally serves the ready-made login routes ([`routes`](Self::routes)) and renders errors
/// as HTML pages for browsers ([`error_pages`](Self::error_pages)).
#[derive(Clone, Debug)]
#[must_use]
pub struct DiscordMiddleware {
    client: DiscordOAuth,
    config: GuardConfig,
    client_key: Option<ClientKey>,
    pages: ErrorPages,
    routes: Option<Arc<MountedRoutes>>,
}

impl DiscordMiddleware {
    /// A middleware around `client` (Flask-Discord's `init_app`).
    pub fn new(client: DiscordOAuth) -> Self {
        Self {
            client,
            config: GuardConfig::default(),
            client_key: None,
            pages: ErrorPages::json(),
            routes: None,
        }
    }

    /// How to name the client of a request for the
    /// [`LoginThrottle`](crate::session::LoginThrottle) (see
    /// [`DiscordSession::set_client_key`]): `key` reads the request, e.g. its peer address or,
    /// behind a proxy you trust, the header it sets.
    ///
    /// ```no_run
    /// use discord_oauth::actix::DiscordMiddleware;
    /// # fn f(discord: discord_oauth::DiscordOAuth) {
    /// let middleware = DiscordMiddleware::new(discord)
    ///     .client_key(|req| req.peer_addr().map(|a| a.ip().to_string()));
    /// # let _ = middleware; }
    /// ```
    pub fn client_key(
        mut self,
        key: impl Fn(&ServiceRequest) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.client_key = Some(ClientKey(Arc::new(key)));
        self
    }

    /// Serves the ready-made routes: `GET /login[?next=]`, `GET` at the redirect URI's path
    /// and `POST /logout` by default (see [`LoginRoutes`]). Other requests go on to the app.
    pub fn routes(mut self, routes: LoginRoutes) -> Self {
        self.routes = Some(Arc::new(routes.mount(self.client.config())));
        self
    }

    /// How the crate's error responses are rendered for every route under the middleware
    /// (default: always JSON).
    pub fn error_pages(mut self, pages: ErrorPages) -> Self {
        self.pages = pages;
        self
    }

    /// What [`Authorized`] and the guards answer without a session.
    pub fn unauthorized(mut self, behavior: UnauthorizedBehavior) -> Self {
        self.config.unauthorized = behavior;
        self
    }
}

/// The application's way to name a request's client (see [`DiscordMiddleware::client_key`]).
type ClientKeyFn = dyn Fn(&ServiceRequest) -> Option<String> + Send + Sync;

#[derive(Clone)]
struct ClientKey(Arc<ClientKeyFn>);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(..)")
    }
}

impl<S, B> Transform<S, ServiceRequest> for DiscordMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = DiscordService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(DiscordService {
            service: Rc::new(service),
            middleware: self.clone(),
        }))
    }
}

/// The service made by [`DiscordMiddleware`].
#[derive(Debug)]
pub struct DiscordService<S> {
    service: Rc<S>,
    middleware: DiscordMiddleware,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for DiscordService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let mw = &self.middleware;
        let session = mw.client.session(&session_headers(req.headers()));
        if let Some(ClientKey(key)) = &mw.client_key
            && let Some(key) = key(&req)
        {
            session.set_client_key(key);
        }
        // Only looked at when something may render a page (the default middleware never does).
        let wants_html = (mw.routes.is_some() || mw.pages.negotiates())
            && accepts_html(
                req.headers()
                    .get_all(header::ACCEPT)
                    .map(HeaderValue::as_bytes),
            );
        if let Some(routes) = &mw.routes
            && let Some(endpoint) = routes.endpoint(req.method().as_str(), req.path())
        {
            let routes = Arc::clone(routes);
            return Box::pin(async move {
                let query = Some(req.query_string()).filter(|q| !q.is_empty());
                let answer = routes.serve(endpoint, &session, query).await;
                let response = match answer {
                    Answer::Found(location) => found(&location),
                    Answer::Failed(e) => routes.pages.render(wants_html, &e, e.error_response()),
                };
                let mut response = req.into_response(response);
                finish(&session, &mut response);
                Ok(response)
            });
        }
        req.extensions_mut().insert(session.clone());
        req.extensions_mut().insert(mw.config.clone());
        let pages = mw.pages.clone();
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            // Handlers' errors arrive as responses; an `Err` (an inner middleware's) goes on
            // up as it is (holding a clone of the request to answer it would break routing).
            let response = service.call(req).await?.map_into_boxed_body();
            let mut response = if wants_html && pages.negotiates() {
                let error = response.response().error().and_then(error_of);
                match error {
                    Some(error) => {
                        let (request, json) = response.into_parts();
                        ServiceResponse::new(request, pages.render(true, &error, json))
                    }
                    None => response,
                }
            } else {
                response
            };
            finish(&session, &mut response);
            Ok(response)
        })
    }
}

/// The crate error a response was made from, if any (what [`ErrorPages`] may render).
fn error_of(error: &actix_web::Error) -> Option<Error> {
    if let Some(e) = error.as_error::<Error>() {
        return Some(e.clone());
    }
    match error.as_error::<Rejection>()? {
        Rejection::MissingLayer => Some(Error::Internal(Rejection::MISSING_LAYER)),
        Rejection::Unauthorized(UnauthorizedBehavior::Json401, _) => Some(Error::Unauthorized),
        Rejection::Error(e) => Some(e.clone()),
        _ => None,
    }
}

impl crate::web::ErrorPages<HttpResponse> {
    /// The answer to `req` for `error`: a page when these pages render HTML and the request
    /// prefers it, the JSON answer otherwise. For a single route (the middleware renders with
    /// its own [`ErrorPages`] for every route):
    ///
    /// ```no_run
    /// use actix_web::{HttpRequest, HttpResponse};
    /// use discord_oauth::DiscordSession;
    /// use discord_oauth::actix::ErrorPages;
    ///
    /// async fn callback(session: DiscordSession, req: HttpRequest) -> HttpResponse {
    ///     match session.callback(req.query_string()).await {
    ///         Ok(done) => HttpResponse::Found().insert_header(("location", done.next)).finish(),
    ///         // A cancelled login: a page for a browser, JSON for an API client.
    ///         Err(e) => ErrorPages::html().respond(&req, &e),
    ///     }
    /// }
    /// ```
    pub fn respond(&self, req: &HttpRequest, error: &Error) -> HttpResponse {
        let wants_html = self.negotiates()
            && accepts_html(
                req.headers()
                    .get_all(header::ACCEPT)
                    .map(HeaderValue::as_bytes),
            );
        self.render(wants_html, error, error.error_response())
    }

    /// The answer for a request that `wants_html` of `json`, the JSON answer of `error`: the
    /// page, with the status and the other headers of `json`; or `json` as it is.
    fn render(&self, wants_html: bool, error: &Error, json: HttpResponse) -> HttpResponse {
        let page = match self.page_for(wants_html, error) {
            None => return json,
            Some(Page::Builtin(html)) => HttpResponse::build(json.status())
                .insert_header((header::CONTENT_TYPE, HTML))
                .body(html),
            Some(Page::Custom(page)) => page,
        };
        let mut page = page;
        *page.status_mut() = json.status();
        for (name, value) in json.headers() {
            if name != header::CONTENT_TYPE
                && name != header::CONTENT_LENGTH
                && !page.headers().contains_key(name)
            {
                page.headers_mut().append(name.clone(), value.clone());
            }
        }
        page
    }
}

/// The session's cookies into the response, and `Cache-Control: no-store` on a user's answer.
fn finish<B>(session: &DiscordSession, response: &mut ServiceResponse<B>) {
    let headers = response.headers_mut();
    for cookie in session.take_set_cookies() {
        if let Ok(value) = HeaderValue::from_bytes(cookie.as_bytes()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    // A user's answer (or one that sets a cookie): never kept by a shared cache.
    if session.carries_session_cookie() || headers.contains_key(header::SET_COOKIE) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The request headers the session reads (cookies, `Host`, `Origin`, `Sec-Fetch-Site`), as
/// `http` 1 headers.
fn session_headers(headers: &header::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for name in [
        http::header::COOKIE,
        http::header::HOST,
        http::header::ORIGIN,
        http::HeaderName::from_static("sec-fetch-site"),
    ] {
        for value in headers.get_all(name.as_str()) {
            if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
                out.append(name.clone(), value);
            }
        }
    }
    out
}

/// Every header of an actix-web request as `http` 1 headers (the core's type), e.g. for
/// [`DiscordOAuth::handle_event`]. A header that does not convert is left out.
pub fn http_headers(headers: &header::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    out
}

/// `302` to `location` (to `/` when it is not a valid header value).
fn found(location: &str) -> HttpResponse {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    HttpResponse::Found()
        .insert_header((header::LOCATION, value))
        .finish()
}

fn status_of(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn json_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
}

/// The error's answer: its status, JSON `{"error", "message"}`, and `Retry-After` when Discord
/// asked to wait.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        status_of(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = json_response(self.status_code(), error_answer_json(self));
        if let Some(secs) = retry_after_secs(self) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The refusal's answer: as the error's, `401` JSON or the login redirect without a session,
/// `500` without the middleware.
impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unauthorized(UnauthorizedBehavior::RedirectToLogin(_), _) => StatusCode::FOUND,
            Self::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            Self::Error(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::MissingLayer => {
                let mut r = json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error_json("configuration", Rejection::MISSING_LAYER),
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Self::Unauthorized(UnauthorizedBehavior::RedirectToLogin(login), next) => {
                found(&UnauthorizedBehavior::login_location(login, next))
            }
            Self::Unauthorized(..) => Error::Unauthorized.error_response(),
            Self::Error(e) => e.error_response(),
        }
    }
}

fn session_of(req: &HttpRequest) -> Result<DiscordSession, Rejection> {
    req.extensions()
        .get::<DiscordSession>()
        .cloned()
        .ok_or(Rejection::MissingLayer)
}

/// The refusal of `req` for `refusal`.
fn rejection(req: &HttpRequest, refusal: Refusal) -> Rejection {
    let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
    refusal.rejection(req.extensions().get::<GuardConfig>(), next)
}

/// Lets only logged-in users through to the routes it wraps, like [`Authorized`] on each of them
/// (Flask-Discord's `requires_authorization` for a group of routes): `web::scope("/account")
/// .wrap(RequireAuthorization::new())`, inside a [`DiscordMiddleware`]. Without a session it
/// answers as [`DiscordMiddleware::unauthorized`] says (401 JSON, or a redirect to the login
/// with `next`); a session missing one of [`scopes`](Self::scopes) gets 403.
///
/// ```no_run
/// use actix_web::{App, HttpResponse, web};
/// use discord_oauth::actix::{DiscordMiddleware, RequireAuthorization};
/// # fn f(discord: discord_oauth::DiscordOAuth) {
/// let app = App::new()
///     .service(
///         web::scope("/account")
///             .wrap(RequireAuthorization::new())
///             .route("/settings", web::get().to(|| async { HttpResponse::Ok().finish() })),
///     )
///     .wrap(DiscordMiddleware::new(discord));
/// # let _ = app; }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RequireAuthorization {
    scopes: Arc<[Scope]>,
}

impl RequireAuthorization {
    /// Requires a logged-in user.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also requires these granted scopes (403 [`Error::MissingScope`] otherwise).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = scopes.into_iter().collect();
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireAuthorization
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RequireAuthorizationService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireAuthorizationService {
            service: Rc::new(service),
            scopes: Arc::clone(&self.scopes),
        }))
    }
}

/// The service made by [`RequireAuthorization`].
#[derive(Debug)]
pub struct RequireAuthorizationService<S> {
    service: Rc<S>,
    scopes: Arc<[Scope]>,
}

impl<S, B> Service<ServiceRequest> for RequireAuthorizationService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let scopes = Arc::clone(&self.scopes);
        Box::pin(async move {
            let session = req.extensions().get::<DiscordSession>().cloned();
            let refused = match session {
                None => Some(Rejection::MissingLayer),
                Some(session) => require_authorization(&session, &scopes)
                    .await
                    .err()
                    .map(|refusal| rejection(req.request(), refusal)),
            };
            if let Some(rejection) = refused {
                // An answer carrying its error, so the middleware renders it like a handler's.
                let response = HttpResponse::from_error(actix_web::Error::from(rejection));
                return Ok(req.into_response(response));
            }
            Ok(service.call(req).await?.map_into_boxed_body())
        })
    }
}

impl FromRequest for DiscordSession {
    type Error = Rejection;
    type Future = Ready<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(session_of(req))
    }
}

impl FromRequest for Authorized {
    type Error = Rejection;
    type Future = LocalBoxFuture<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = session_of(&req)?;
            Authorized::of(session)
                .await?
                .ok_or_else(|| rejection(&req, Refusal::Unauthorized))
        })
    }
}

impl FromRequest for SameOrigin {
    type Error = Rejection;
    type Future = Ready<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(session_of(req).and_then(|session| {
            session.check_same_origin()?;
            Ok(SameOrigin)
        }))
    }
}

impl<R: GuildRequirement> FromRequest for RequireGuildPermission<R> {
    type Error = Rejection;
    type Future = LocalBoxFuture<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = session_of(&req)?;
            let parts = parts_of(&req);
            RequireGuildPermission::check(session, &parts)
                .await
                .map_err(|refusal| rejection(&req, refusal))
        })
    }
}

/// The request's method, URI and headers as `http` 1 parts (for [`GuildRequirement::guild_id`]).
fn parts_of(req: &HttpRequest) -> http::request::Parts {
    let mut request = http::Request::new(());
    if let Ok(method) = http::Method::from_bytes(req.method().as_str().as_bytes()) {
        *request.method_mut() = method;
    }
    if let Some(uri) = req
        .uri()
        .path_and_query()
        .and_then(|p| http::Uri::try_from(p.as_str()).ok())
    {
        *request.uri_mut() = uri;
    }
    *request.headers_mut() = http_headers(req.headers());
    request.into_parts().0
}
