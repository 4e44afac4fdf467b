//! The ready-made login, callback and logout routes, served by [`DiscordLayer`] itself
//! ([`DiscordLayer::routes`]); what they do is [`crate::web::routes`], the same on every
//! framework.
//!
//! Why the layer serves them rather than a `Router` of the `axum` crate: the crate depends on
//! `axum-core` only (no router, no `tower` utilities in the build), the routes work the same
//! on any tower stack, and the callback path follows the redirect URI the client is configured
//! with, which a router built without the client could not know.
//!
//! Owns: axum's answers of the ready-made routes. Imports only lower layers (web) and
//! axum-core/http.
//!
//! [`DiscordLayer`]: super::DiscordLayer
//! [`DiscordLayer::routes`]: super::DiscordLayer::routes

use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::web::routes::Answer;

/// The ready-made routes and their options, mounted with
/// [`DiscordLayer::routes`](super::DiscordLayer::routes).
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use discord_oauth::axum::{Authorized, DiscordLayer, LoginRoutes};
/// use discord_oauth::{Config, DiscordOAuth, Prompt, Scope};
///
/// # async fn me(_: Authorized) {}
/// # fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let discord = DiscordOAuth::new(Config::from_env()?)?;
/// let routes = LoginRoutes::new()
///     .scopes([Scope::Identify, Scope::Guilds])
///     .prompt(Prompt::Consent)
///     .after_logout("/goodbye");
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .layer(DiscordLayer::new(discord).routes(routes));
/// # let _ = app; Ok(()) }
/// ```
pub type LoginRoutes = crate::web::LoginRoutes<Response>;

/// [`LoginRoutes`] as mounted on the layer.
pub(crate) type MountedRoutes = crate::web::routes::MountedRoutes<Response>;

/// The response of a ready-made route's answer.
pub(crate) fn respond(answer: Answer) -> Response {
    match answer {
        Answer::Found(location) => found(&location),
        Answer::Failed(e) => e.into_response(),
    }
}

/// `302` to `location` (to `/` when it is not a valid header value).
pub(crate) fn found(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    r.headers_mut().insert(header::LOCATION, value);
    r
}
