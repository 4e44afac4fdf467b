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
//! Another framework is supported the same way: build the session with
//! [`DiscordOAuth::session`] from the request headers, and copy
//! [`DiscordSession::take_set_cookies`] into the response.
//!
//! Owns: the glue to axum. The only module that imports a web framework.

pub mod pages;
pub mod routes;

pub use pages::{ErrorPageFn, ErrorPages, ErrorPagesService, error_page, prefers_html};
pub use routes::LoginRoutes;

use std::convert::Infallible;
use std::marker::PhantomData;
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
use crate::{DiscordOAuth, Scope};

/// What the guards answer to a request without a session.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum UnauthorizedBehavior {
    /// `401` with a JSON body (APIs). The default.
    #[default]
    Json401,
    /// `302` to this login path, with `?next=<original path>` (pages).
    RedirectToLogin(String),
}

#[derive(Clone, Debug)]
struct LayerConfig {
    unauthorized: UnauthorizedBehavior,
    client_key: Option<ClientKey>,
}

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
    config: LayerConfig,
    pages: ErrorPages,
    routes: Option<Arc<routes::MountedRoutes>>,
}

impl DiscordLayer {
    /// A layer around `client` (Flask-Discord's `init_app`).
    pub fn new(client: DiscordOAuth) -> Self {
        Self {
            client,
            config: LayerConfig {
                unauthorized: UnauthorizedBehavior::default(),
                client_key: None,
            },
            pages: ErrorPages::json(),
            routes: None,
        }
    }

    /// Serves the ready-made routes: `GET /login[?next=]`, `GET` at the redirect URI's path
    /// and `POST /logout` by default (see [`LoginRoutes`] and the [`routes`] module). Other
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
    /// [`ErrorPages::json`]: always JSON). With [`ErrorPages::html`] or
    /// [`ErrorPages::custom`], a request preferring HTML gets a page.
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
        self.config.client_key = Some(ClientKey(Arc::new(key)));
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
    config: LayerConfig,
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
        if let Some(ClientKey(key)) = &self.config.client_key
            && let Some(key) = key(req.headers(), req.extensions())
        {
            session.set_client_key(key);
        }
        // Only looked at when something may render a page (the default layer never does).
        let wants_html =
            (self.routes.is_some() || self.pages.negotiates()) && prefers_html(req.headers());
        if let Some(routes) = &self.routes
            && let Some(endpoint) = routes.endpoint(req.method(), req.uri().path())
        {
            let routes = Arc::clone(routes);
            let query = req.uri().query().map(str::to_owned);
            return Box::pin(async move {
                let response = routes.serve(endpoint, &session, query.as_deref()).await;
                let response = routes.pages.render(wants_html, response);
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

/// Why an extractor of this module refused a request. Renders as the response the demo
/// contract expects: JSON `{"error", "message"}` with the status, or a redirect to the login.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// [`DiscordLayer`] is not installed on the router (a programming error): 500.
    MissingLayer,
    /// No live session: answered per [`UnauthorizedBehavior`] (401 JSON by default), with the
    /// path and query to come back to.
    Unauthorized(UnauthorizedBehavior, String),
    /// The request was refused with a typed error (cross-site, missing scope, store down...).
    Error(Error),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::MissingLayer => {
                let mut r = error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "configuration",
                    "DiscordLayer is not installed on this router",
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r.extensions_mut()
                    .insert(pages::RenderedError(Error::Internal(
                        "DiscordLayer is not installed on this router",
                    )));
                r
            }
            Self::Unauthorized(UnauthorizedBehavior::Json401, _) => {
                Error::Unauthorized.into_response()
            }
            Self::Unauthorized(UnauthorizedBehavior::RedirectToLogin(login), next) => {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                let location = format!("{login}?next={encoded}");
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

impl From<Error> for Rejection {
    fn from(e: Error) -> Self {
        Self::Error(e)
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

/// Flask-Discord's `requires_authorization` as an extractor: the request has a live session.
/// Without one it answers per [`UnauthorizedBehavior`].
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The session.
    pub session: DiscordSession,
    /// The Discord user id, when known.
    pub user_id: Option<u64>,
}

fn unauthorized(parts: &Parts) -> Rejection {
    let behavior = parts
        .extensions
        .get::<LayerConfig>()
        .map(|c| c.unauthorized.clone())
        .unwrap_or_default();
    let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    Rejection::Unauthorized(behavior, next.to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        match session.record().await? {
            Some(record) => Ok(Self {
                user_id: record.user_id,
                session,
            }),
            None => Err(unauthorized(parts)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authorized {
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        Ok(session.record().await?.map(|record| Self {
            user_id: record.user_id,
            session,
        }))
    }
}

/// Refuses a request whose `Origin` or `Sec-Fetch-Site` shows another site (403); use it on
/// every state-changing route (`POST /logout`, `POST /guilds/{id}/join`).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

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
                Some(session) => match session.record().await {
                    Ok(Some(record)) => scopes
                        .iter()
                        .find(|s| !record.scopes.contains(s))
                        .map(|missing| Rejection::Error(Error::MissingScope(missing.clone()))),
                    Ok(None) => Some(unauthorized(&parts)),
                    Err(e) => Some(Rejection::Error(e)),
                },
            };
            if let Some(rejection) = refused {
                return Ok(rejection.into_response());
            }
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}

/// What a [`RequireGuildPermission`] guard requires: the permissions, how fresh the user's
/// guild list must be, and where the request names its guild.
///
/// ```
/// use discord_oauth::Fetch;
/// use discord_oauth::axum::GuildRequirement;
/// use discord_oauth::permissions::Permissions;
///
/// /// Banning needs BAN_MEMBERS, checked with Discord at each request.
/// struct CanBan;
/// impl GuildRequirement for CanBan {
///     const PERMISSIONS: Permissions = Permissions::BAN_MEMBERS;
///     const FETCH: Fetch = Fetch::Fresh;
/// }
/// ```
pub trait GuildRequirement: Send + Sync + 'static {
    /// The permissions the user must hold in the guild (all of them; the owner and
    /// ADMINISTRATOR hold every one). [`Permissions::empty()`] requires membership only.
    const PERMISSIONS: Permissions;
    /// How fresh the user's guild list must be: [`Fetch::Cached`] (the default) or
    /// [`Fetch::Fresh`] for decisions that must not be stale (see
    /// [`DiscordSession::require_guild_permissions`]).
    const FETCH: Fetch = Fetch::Cached;
    /// Whether to ask the bot live for the member and its roles instead of reading the user's
    /// guild list (see [`DiscordSession::require_guild_permissions_by_bot`]; then
    /// [`FETCH`](Self::FETCH) is not used). Default `false`.
    const BY_BOT: bool = false;

    /// The guild the request is about. The default, [`guild_id_from_path`], reads the path
    /// segment after `guilds` (`/guilds/{guild_id}/...`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (400) for an id that is not a snowflake.
    fn guild_id(parts: &Parts) -> Result<GuildId, Error> {
        guild_id_from_path(parts)
    }
}

/// Requires MANAGE_GUILD, from the users cache.
#[derive(Debug, Clone, Copy)]
pub struct ManageGuild;

impl GuildRequirement for ManageGuild {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
}

/// Requires MANAGE_GUILD, asking Discord at each request (for changes that must not rest on a
/// stale answer).
#[derive(Debug, Clone, Copy)]
pub struct ManageGuildFresh;

impl GuildRequirement for ManageGuildFresh {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
    const FETCH: Fetch = Fetch::Fresh;
}

/// Requires MANAGE_GUILD, checked live with the bot at each request (the member and its roles;
/// see [`DiscordSession::require_guild_permissions_by_bot`]): a role given or taken away at
/// Discord counts at once. Needs a bot token in the guild (without a bot token: 503).
#[derive(Debug, Clone, Copy)]
pub struct ManageGuildByBot;

impl GuildRequirement for ManageGuildByBot {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
    const BY_BOT: bool = true;
}

/// Requires ADMINISTRATOR (or ownership), from the users cache.
#[derive(Debug, Clone, Copy)]
pub struct Administrator;

impl GuildRequirement for Administrator {
    const PERMISSIONS: Permissions = Permissions::ADMINISTRATOR;
}

/// The guild id of a `/guilds/{guild_id}/...` path: the segment after the first `guilds`
/// segment (a nested router's prefix before it does not matter).
///
/// # Errors
/// [`Error::InvalidRequest`] (400) when that segment is not a snowflake;
/// [`Error::Internal`] (500) when the path has no such segment (the guard is on a route
/// without a guild id).
pub fn guild_id_from_path(parts: &Parts) -> Result<GuildId, Error> {
    let mut segments = parts.uri.path().split('/');
    let id = segments
        .find(|s| *s == "guilds")
        .and_then(|_| segments.next())
        .ok_or(Error::Internal(
            "a guild guard is installed on a route without a /guilds/{guild_id} segment",
        ))?;
    id.parse()
        .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))
}

/// The guard shared by [`RequireGuildPermission`] and [`RequireGuildPermissionLayer`]: a live
/// session first (401 or the login redirect), then the guild id (400), then the permissions
/// (403 [`Error::MissingPermissions`], also for a guild the user is not in), from the user's
/// guild list per `fetch`, or live with the bot for `None`.
async fn guild_guard(
    parts: &Parts,
    session: &DiscordSession,
    required: Permissions,
    fetch: Option<Fetch>,
    guild_id: fn(&Parts) -> Result<GuildId, Error>,
) -> Result<GuildAccess, Rejection> {
    if session.record().await?.is_none() {
        return Err(unauthorized(parts));
    }
    let guild_id = guild_id(parts)?;
    let checked = match fetch {
        Some(fetch) => {
            session
                .require_guild_permissions(guild_id, required, fetch)
                .await
        }
        None => {
            session
                .require_guild_permissions_by_bot(guild_id, required)
                .await
        }
    };
    match checked {
        Ok(access) => Ok(access),
        // The authorization ended at Discord: answered like no session at all.
        Err(Error::Unauthorized) => Err(unauthorized(parts)),
        Err(e) => Err(e.into()),
    }
}

/// A guard extractor: the request has a live session whose user holds
/// [`R::PERMISSIONS`](GuildRequirement::PERMISSIONS) in the guild of the path (the owner and
/// ADMINISTRATOR hold every permission). Refusals are typed [`Rejection`]s: no session → per
/// [`UnauthorizedBehavior`] (401 JSON by default); a guild id that is not a snowflake → 400;
/// missing permissions or not a member → 403 [`Error::MissingPermissions`] (never 404).
/// The user's guild list needs the `guilds` scope (without it: 403 [`Error::MissingScope`]).
///
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
#[derive(Debug, Clone)]
pub struct RequireGuildPermission<R> {
    /// The session.
    pub session: DiscordSession,
    /// The guild, with the user's effective permissions there.
    pub guild: GuildAccess,
    requirement: PhantomData<fn() -> R>,
}

impl<S: Send + Sync, R: GuildRequirement> FromRequestParts<S> for RequireGuildPermission<R> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        let fetch = if R::BY_BOT { None } else { Some(R::FETCH) };
        let guild = guild_guard(parts, &session, R::PERMISSIONS, fetch, R::guild_id).await?;
        Ok(Self {
            session,
            guild,
            requirement: PhantomData,
        })
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
    required: Permissions,
    /// `None`: live with the bot.
    fetch: Option<Fetch>,
    guild_id: fn(&Parts) -> Result<GuildId, Error>,
}

impl RequireGuildPermissionLayer {
    /// Requires every permission of `required` (from the users cache; see
    /// [`fetch`](Self::fetch)), in the guild named by the path ([`guild_id_from_path`]).
    pub fn new(required: Permissions) -> Self {
        Self {
            required,
            fetch: Some(Fetch::Cached),
            guild_id: guild_id_from_path,
        }
    }

    /// How fresh the user's guild list must be ([`Fetch::Fresh`]: ask Discord at each request).
    pub fn fetch(mut self, fetch: Fetch) -> Self {
        self.fetch = Some(fetch);
        self
    }

    /// Checks live with the bot at each request (the member and its roles; see
    /// [`DiscordSession::require_guild_permissions_by_bot`]) instead of the user's guild list.
    pub fn by_bot(mut self) -> Self {
        self.fetch = None;
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
            let guarded = guild_guard(
                &parts,
                &session,
                config.required,
                config.fetch,
                config.guild_id,
            )
            .await;
            match guarded {
                Ok(access) => {
                    parts.extensions.insert(access);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.into_response()),
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
    let body = serde_json::json!({ "error": kind, "message": message }).to_string();
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
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, status = status.as_u16(), "Discord call failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "request refused");
        }
        let mut response = error_body(status, self.kind(), &self.to_string());
        if let Some(wait) = self.retry_after() {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        // Seen by `ErrorPages`, which renders a page instead for a browser.
        response.extensions_mut().insert(pages::RenderedError(self));
        response
    }
}

/// Lets handlers return `Result<T, Error>` when `?` meets an infallible conversion.
impl From<Infallible> for Error {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}
