//! The axum integration, a thin layer over the framework-neutral core (the seed's `init_app`
//! becomes adding [`DiscordLayer`] to a router):
//!
//! - [`DiscordLayer`] makes a [`DiscordSession`] for every request (lazily: nothing is decrypted
//!   unless a handler uses it) and writes the session's `Set-Cookie` values into the response;
//! - [`DiscordSession`] is an extractor; [`Authorized`] is the seed's `requires_authorization`
//!   as an extractor, [`RequireAuthorizationLayer`] the same for a group of routes;
//!   [`SameOrigin`] refuses cross-site state-changing requests;
//! - [`Error`] renders as a response with the status of [`Error::status`].
//!
//! Another framework is supported the same way: build the session with
//! [`DiscordOAuth::session`] from the request headers, and copy
//! [`DiscordSession::take_set_cookies`] into the response.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode, header};

use crate::error::Error;
use crate::session::DiscordSession;
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
}

/// Adds a [`DiscordSession`] to every request and its cookies to every response.
#[derive(Clone, Debug)]
#[must_use]
pub struct DiscordLayer {
    client: DiscordOAuth,
    config: LayerConfig,
}

impl DiscordLayer {
    /// A layer around `client` (the seed's `init_app`).
    pub fn new(client: DiscordOAuth) -> Self {
        Self {
            client,
            config: LayerConfig {
                unauthorized: UnauthorizedBehavior::default(),
            },
        }
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
        }
    }
}

/// The service made by [`DiscordLayer`].
#[derive(Clone, Debug)]
pub struct DiscordService<S> {
    inner: S,
    client: DiscordOAuth,
    config: LayerConfig,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower_service::Service<Request<B>> for DiscordService<S>
where
    S: tower_service::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let session = self.client.session(req.headers());
        req.extensions_mut().insert(session.clone());
        req.extensions_mut().insert(self.config.clone());
        // Standard tower practice: call the clone that was driven to readiness.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            for cookie in session.take_set_cookies() {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            if response.headers().contains_key(header::SET_COOKIE) {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Ok(response)
        })
    }
}

fn missing_layer() -> Response {
    let mut r = error_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "configuration",
        "DiscordLayer is not installed on this router",
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl<S: Send + Sync> FromRequestParts<S> for DiscordSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<DiscordSession>()
            .cloned()
            .ok_or_else(missing_layer)
    }
}

/// The seed's `requires_authorization` as an extractor: the request has a live session.
/// Without one it answers per [`UnauthorizedBehavior`].
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The session.
    pub session: DiscordSession,
    /// The Discord user id, when known.
    pub user_id: Option<u64>,
}

fn unauthorized_response(parts: &Parts) -> Response {
    let behavior = parts
        .extensions
        .get::<LayerConfig>()
        .map(|c| c.unauthorized.clone())
        .unwrap_or_default();
    match behavior {
        UnauthorizedBehavior::Json401 => Error::Unauthorized.into_response(),
        UnauthorizedBehavior::RedirectToLogin(login) => {
            let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            let location = format!("{login}?next={encoded}");
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        match session.record().await {
            Ok(Some(record)) => Ok(Self {
                user_id: record.user_id,
                session,
            }),
            Ok(None) => Err(unauthorized_response(parts)),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        match session.record().await {
            Ok(Some(record)) => Ok(Some(Self {
                user_id: record.user_id,
                session,
            })),
            Ok(None) => Ok(None),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Refuses a request whose `Origin` or `Sec-Fetch-Site` shows another site (403); use it on
/// every state-changing route (`POST /logout`, `POST /guilds/{id}/join`).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = DiscordSession::from_request_parts(parts, state).await?;
        session
            .check_same_origin()
            .map_err(IntoResponse::into_response)?;
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
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let scopes = self.scopes.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Some(session) = parts.extensions.get::<DiscordSession>().cloned() else {
                return Ok(missing_layer());
            };
            match session.record().await {
                Ok(Some(record)) => {
                    if let Some(missing) = scopes.iter().find(|s| !record.scopes.contains(s)) {
                        return Ok(Error::MissingScope(missing.clone()).into_response());
                    }
                }
                Ok(None) => return Ok(unauthorized_response(&parts)),
                Err(e) => return Ok(e.into_response()),
            }
            inner.call(Request::from_parts(parts, body)).await
        })
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
        response
    }
}

/// Lets handlers return `Result<T, Error>` when `?` meets an infallible conversion.
impl From<Infallible> for Error {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}
