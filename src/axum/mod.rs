//! The axum integration, a thin layer over the framework-neutral core (Flask-Discord's
//! `init_app` becomes adding [`DiscordLayer`] to a router):
//!
//! - [`DiscordLayer`] makes a [`DiscordSession`] for every request (lazily: nothing is decrypted
//!   unless a handler uses it) and writes the session's `Set-Cookie` values into the response;
//! - [`DiscordSession`] is an extractor; [`Authorized`] is Flask-Discord's `requires_authorization`
//!   as an extractor, [`RequireAuthorizationLayer`] the same for a group of routes;
//!   [`RequireGuildPermission`] (extractor) and [`RequireGuildPermissionLayer`] let only users
//!   holding guild permissions through (owner and ADMINISTRATOR hold all), from the cached
//!   guild list, live ([`ManageGuildFresh`]) or checked by the bot ([`ManageGuildByBot`]);
//!   [`SameOrigin`] refuses cross-site state-changing requests;
//! - [`Error`] renders as a response with the status of [`Error::status`]; extractors reject
//!   with a typed [`Rejection`]; both are JSON, or an HTML page for a browser with
//!   [`ErrorPages`] (see [`pages`] for how the request's `Accept` is seen);
//! - [`DiscordLayer::routes`] serves ready-made login, callback and logout routes
//!   ([`LoginRoutes`], see [`routes`]).
//!
//! Every decision (content negotiation, error pages, the ready-made routes, the guards) is the
//! framework-neutral [`crate::web`], shared with the [`actix`](crate::actix) integration; this
//! module is only the glue. Another framework is supported the same way: build the session
//! with [`DiscordOAuth::session`] from the request headers, and copy
//! [`DiscordSession::take_set_cookies`] into the response.
//!
//! Owns: the glue to axum. With [`actix`](crate::actix), the only modules that import a web
//! framework; it must not import `actix` (nor `actix` it).

pub mod pages;
pub mod routes;

pub use pages::{ErrorPageFn, ErrorPages, ErrorPagesService, error_page, prefers_html};
pub use routes::LoginRoutes;

pub use crate::web::{
    Administrator, Authorized, GuildRequirement, ManageGuild, ManageGuildByBot, ManageGuildFresh,
    Rejection, RequireGuildPermission, SameOrigin, UnauthorizedBehavior, guild_id_from_path,
};

use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode, header};

use crate::api::{Fetch, GuildAccess};
use crate::error::Error;
use crate::models::GuildId;
use crate::session::DiscordSession;
use crate::vocab::BoxFuture;
use crate::vocab::permissions::Permissions;
use crate::web::guard::{GuardConfig, GuildCheck, Refusal, require_authorization};
use crate::web::pages::{error_answer_json, error_json, retry_after_secs};
use crate::{DiscordOAuth, Scope};

/// The application's way to name a request's client (see [`DiscordLayer::client_key`]).
type ClientKeyFn = dyn Fn(&http::HeaderMap, &http::Extensions) -> Option<String> + Send + Sync;

#[derive(Clone)]
struct ClientKey(Arc<ClientKeyFn>);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(..)")
    }
}

/// Adds a [`DiscordSession`] to every request and its cookies to every response; optionally
/// serves the ready-made login routes ([`routes`](Self::routes)) and renders errors as HTML
/// pages for browsers ([`error_pages`](Self::error_pages)).
#[derive(Clone, Debug)]
#[must_use]
pub struct DiscordLayer {
    client: DiscordOAuth,
    config: GuardConfig,
    client_key: Option<ClientKey>,
    pages: ErrorPages,
    routes: Option<Arc<routes::MountedRoutes>>,
}

impl DiscordLayer {
    /// A layer around `client` (Flask-Discord's `init_app`).
    pub fn new(client: DiscordOAuth) -> Self {
        Self {
            client,
            config: GuardConfig::default(),
            client_key: None,
            pages: ErrorPages::json(),
            routes: None,
        }
    }

    /// Serves the ready-made routes: `GET /login[?next=]`, `GET` at the redirect URI's path
    /// and `POST /logout` by default (see [`LoginRoutes`] and [`crate::web::routes`]). Other
    /// requests go on to the app.
    ///
    /// ```no_run
    /// use axum::{Router, routing::get};
    /// use discord_oauth::axum::{Authorized, DiscordLayer, LoginRoutes};
    /// use discord_oauth::{Config, DiscordOAuth, Scope};
    /// # async fn me(_: Authorized) {}
    /// # fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let discord = DiscordOAuth::new(Config::from_env()?)?;
    /// let app: Router = Router::new()
    ///     .route("/me", get(me))
    ///     .layer(DiscordLayer::new(discord).routes(LoginRoutes::new().scopes([Scope::Identify])));
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn routes(mut self, routes: LoginRoutes) -> Self {
        self.routes = Some(Arc::new(routes.mount(self.client.config())));
        self
    }

    /// How the crate's error responses are rendered for every route under the layer (default
    /// [`ErrorPages::json`](crate::web::ErrorPages::json): always JSON). With
    /// [`ErrorPages::html`](crate::web::ErrorPages::html) or
    /// [`ErrorPages::custom`](crate::web::ErrorPages::custom), a request preferring HTML gets
    /// a page.
    pub fn error_pages(mut self, pages: ErrorPages) -> Self {
        self.pages = pages;
        self
    }

    /// How to name the client of a request for the
    /// [`LoginThrottle`](crate::session::LoginThrottle) (see
    /// [`DiscordSession::set_client_key`]): `key` reads the request's headers and extensions,
    /// e.g. axum's `ConnectInfo` (serve with `into_make_service_with_connect_info`) or, behind
    /// a proxy you trust, the header it sets.
    ///
    /// ```no_run
    /// use std::net::SocketAddr;
    /// use axum::extract::ConnectInfo;
    /// use discord_oauth::axum::DiscordLayer;
    /// # fn f(discord: discord_oauth::DiscordOAuth) {
    /// let layer = DiscordLayer::new(discord).client_key(|_headers, extensions| {
    ///     extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())
    /// });
    /// # let _ = layer; }
    /// ```
    pub fn client_key(
        mut self,
        key: impl Fn(&http::HeaderMap, &http::Extensions) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.client_key = Some(ClientKey(Arc::new(key)));
        self
    }

    /// What [`Authorized`] and [`RequireAuthorizationLayer`] answer without a session.
    pub fn unauthorized(mut self, behavior: UnauthorizedBehavior) -> Self {
        self.config.unauthorized = behavior;
        self
    }
}

impl<S> tower_layer::Layer<S> for DiscordLayer {
    type Service = DiscordService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DiscordService {
            inner,
            client: self.client.clone(),
            config: self.config.clone(),
            client_key: self.client_key.clone(),
            pages: self.pages.clone(),
            routes: self.routes.clone(),
        }
    }
}

/// The service made by [`DiscordLayer`].
#[derive(Clone, Debug)]
pub struct DiscordService<S> {
    inner: S,
    client: DiscordOAuth,
    config: GuardConfig,
    client_key: Option<ClientKey>,
    pages: ErrorPages,
    routes: Option<Arc<routes::MountedRoutes>>,
}

impl<S, B> tower_service::Service<Request<B>> for DiscordService<S>
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

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let session = self.client.session(req.headers());
        if let Some(ClientKey(key)) = &self.client_key
            && let Some(key) = key(req.headers(), req.extensions())
        {
            session.set_client_key(key);
        }
        // Only looked at when something may render a page (the default layer never does).
        let wants_html =
            (self.routes.is_some() || self.pages.negotiates()) && prefers_html(req.headers());
        if let Some(routes) = &self.routes
            && let Some(endpoint) = routes.endpoint(req.method().as_str(), req.uri().path())
        {
            let routes = Arc::clone(routes);
            let query = req.uri().query().map(str::to_owned);
            return Box::pin(async move {
                let answer = routes.serve(endpoint, &session, query.as_deref()).await;
                let response = routes.pages.render(wants_html, routes::respond(answer));
                Ok(finish(&session, response))
            });
        }
        req.extensions_mut().insert(session.clone());
        req.extensions_mut().insert(self.config.clone());
        let pages = self.pages.clone();
        // Standard tower practice: call the clone that was driven to readiness.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(req).await?;
            let response = pages.render(wants_html, response);
            Ok(finish(&session, response))
        })
    }
}

/// The session's cookies into the response, and `Cache-Control: no-store` on a user's answer.
fn finish(session: &DiscordSession, mut response: Response) -> Response {
    for cookie in session.take_set_cookies() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // A user's answer (or one that sets a cookie): never kept by a shared cache.
    if session.carries_session_cookie() || response.headers().contains_key(header::SET_COOKIE) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::MissingLayer => {
                let mut r = error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "configuration",
                    Rejection::MISSING_LAYER,
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r.extensions_mut()
                    .insert(pages::RenderedError(Error::Internal(
                        Rejection::MISSING_LAYER,
                    )));
                r
            }
            Self::Unauthorized(UnauthorizedBehavior::Json401, _) => {
                Error::Unauthorized.into_response()
            }
            Self::Unauthorized(UnauthorizedBehavior::RedirectToLogin(login), next) => {
                let location = UnauthorizedBehavior::login_location(&login, &next);
                let mut r = StatusCode::FOUND.into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            Self::Error(e) => e.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DiscordSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<DiscordSession>()
            .cloned()
            .ok_or(Rejection::MissingLayer)
    }
}

/// The refusal of the request `parts` for `refusal`.
fn rejection(parts: &Parts, refusal: Refusal) -> Rejection {
    let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    refusal.rejection(parts.extensions.get::<GuardConfig>(), next)
}

impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        Authorized::of(session)
            .await?
            .ok_or_else(|| rejection(parts, Refusal::Unauthorized))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authorized {
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        Ok(Authorized::of(session).await?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        session.check_same_origin()?;
        Ok(Self)
    }
}

/// `requires_authorization` for a group of routes, optionally with scopes: requests without a
/// session get the [`UnauthorizedBehavior`]; sessions lacking a scope get
/// [`Error::MissingScope`] (403) without calling Discord.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RequireAuthorizationLayer {
    scopes: Vec<Scope>,
}

impl RequireAuthorizationLayer {
    /// Requires a session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also requires `scope` to have been granted.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scopes.push(scope);
        self
    }
}

impl<S> tower_layer::Layer<S> for RequireAuthorizationLayer {
    type Service = RequireAuthorization<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuthorization {
            inner,
            scopes: self.scopes.clone(),
        }
    }
}

/// The service made by [`RequireAuthorizationLayer`].
#[derive(Debug, Clone)]
pub struct RequireAuthorization<S> {
    inner: S,
    scopes: Vec<Scope>,
}

impl<S, B> tower_service::Service<Request<B>> for RequireAuthorization<S>
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
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let scopes = self.scopes.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let refused = match parts.extensions.get::<DiscordSession>().cloned() {
                None => Some(Rejection::MissingLayer),
                Some(session) => require_authorization(&session, &scopes)
                    .await
                    .err()
                    .map(|refusal| rejection(&parts, refusal)),
            };
            if let Some(rejection) = refused {
                return Ok(rejection.into_response());
            }
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}

impl<S: Send + Sync, R: GuildRequirement> FromRequestParts<S> for RequireGuildPermission<R> {
    type Rejection = Rejection;

    /// ```no_run
    /// use axum::{Json, Router, routing::get};
    /// use discord_oauth::axum::{DiscordLayer, ManageGuild, RequireGuildPermission};
    /// use discord_oauth::{Config, DiscordOAuth};
    ///
    /// async fn manage(guard: RequireGuildPermission<ManageGuild>) -> Json<serde_json::Value> {
    ///     let g = &guard.guild;
    ///     Json(serde_json::json!({
    ///         "id": g.id().to_string(),
    ///         "name": g.name(),
    ///         "permissions": g.permissions.to_string(),
    ///     }))
    /// }
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let discord = DiscordOAuth::new(Config::from_env()?)?;
    /// let app: Router = Router::new()
    ///     .route("/guilds/{guild_id}/manage", get(manage))
    ///     .layer(DiscordLayer::new(discord));
    /// # let _ = app; Ok(()) }
    /// ```
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        RequireGuildPermission::check(session, parts)
            .await
            .map_err(|refusal| rejection(parts, refusal))
    }
}

/// The guard of [`RequireGuildPermission`] for a group of `/guilds/{guild_id}/...` routes (add
/// it with `Router::route_layer`, so that it runs only for matched routes). A request let through
/// carries the [`GuildAccess`], which handlers take as an extractor.
///
/// ```no_run
/// use axum::{Router, routing::{get, post}};
/// use discord_oauth::Fetch;
/// use discord_oauth::api::GuildAccess;
/// use discord_oauth::axum::RequireGuildPermissionLayer;
/// use discord_oauth::permissions::Permissions;
///
/// async fn settings(guild: GuildAccess) -> String {
///     format!("settings of {}", guild.name())
/// }
///
/// let admin: Router = Router::new()
///     .route("/guilds/{guild_id}/settings", get(settings).post(settings))
///     .route_layer(RequireGuildPermissionLayer::new(Permissions::MANAGE_GUILD).fetch(Fetch::Fresh));
/// // ... merged into the app, under its `DiscordLayer`.
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RequireGuildPermissionLayer {
    check: GuildCheck,
    guild_id: fn(&Parts) -> Result<GuildId, Error>,
}

impl RequireGuildPermissionLayer {
    /// Requires every permission of `required` (from the users cache; see
    /// [`fetch`](Self::fetch)), in the guild named by the path ([`guild_id_from_path`]).
    pub fn new(required: Permissions) -> Self {
        Self {
            check: GuildCheck {
                required,
                fetch: Some(Fetch::Cached),
            },
            guild_id: guild_id_from_path,
        }
    }

    /// How fresh the user's guild list must be ([`Fetch::Fresh`]: ask Discord at each request).
    pub fn fetch(mut self, fetch: Fetch) -> Self {
        self.check.fetch = Some(fetch);
        self
    }

    /// Checks live with the bot at each request (the member and its roles; see
    /// [`DiscordSession::require_guild_permissions_by_bot`]) instead of the user's guild list.
    pub fn by_bot(mut self) -> Self {
        self.check.fetch = None;
        self
    }

    /// Where the request names its guild, instead of the path segment after `guilds`.
    pub fn guild_id_with(mut self, guild_id: fn(&Parts) -> Result<GuildId, Error>) -> Self {
        self.guild_id = guild_id;
        self
    }
}

impl<S> tower_layer::Layer<S> for RequireGuildPermissionLayer {
    type Service = RequireGuildPermissionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireGuildPermissionService {
            inner,
            config: self.clone(),
        }
    }
}

/// The service made by [`RequireGuildPermissionLayer`].
#[derive(Debug, Clone)]
pub struct RequireGuildPermissionService<S> {
    inner: S,
    config: RequireGuildPermissionLayer,
}

impl<S, B> tower_service::Service<Request<B>> for RequireGuildPermissionService<S>
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
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let Some(session) = parts.extensions.get::<DiscordSession>().cloned() else {
                return Ok(Rejection::MissingLayer.into_response());
            };
            let guarded = config
                .check
                .run(&session, || (config.guild_id)(&parts))
                .await;
            match guarded {
                Ok(access) => {
                    parts.extensions.insert(access);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(refusal) => Ok(rejection(&parts, refusal).into_response()),
            }
        })
    }
}

/// The guild a [`RequireGuildPermissionLayer`] let the request through for. Without that layer
/// on the route: 500.
impl<S: Send + Sync> FromRequestParts<S> for GuildAccess {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<GuildAccess>()
            .cloned()
            .ok_or(Rejection::Error(Error::Internal(
                "GuildAccess is extracted on a route without RequireGuildPermissionLayer",
            )))
    }
}

fn error_body(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(status, error_json(kind, message))
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status(), error_answer_json(&self));
        if let Some(secs) = retry_after_secs(&self) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Seen by `ErrorPages`, which renders a page instead for a browser.
        response.extensions_mut().insert(pages::RenderedError(self));
        response
    }
}
