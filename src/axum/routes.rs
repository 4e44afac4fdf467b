//! The ready-made login, callback and logout routes, served by [`DiscordLayer`] itself
//! ([`DiscordLayer::routes`]):
//!
//! - `GET {login}[?next=/local/path]`: starts a login with the configured scopes and prompt and
//!   answers 302 to Discord (`next` is what [`UnauthorizedBehavior::RedirectToLogin`] adds;
//!   local paths only);
//! - `GET {callback}` (by default the path of the configured redirect URI): completes the login
//!   and answers 302 to `next` or `/` (an install or a linked-roles login also lands on its
//!   `next`: apps that act on those flows write their own callback with
//!   [`DiscordSession::callback`]);
//! - `POST {logout}`: refuses a cross-site request (403), revokes the token at Discord (best
//!   effort), ends the session and answers 302 to the after-logout path.
//!
//! Errors are rendered by the routes' [`ErrorPages`] (HTML for a browser by default: a
//! cancelled login shows a page, not JSON).
//!
//! Why the layer serves them rather than a `Router` of the `axum` crate: the crate depends on
//! `axum-core` only (no router, no `tower` utilities in the build), the routes work the same
//! on any tower stack, and the callback path follows the redirect URI the client is configured
//! with, which a router built without the client could not know. A request the routes do not
//! serve (another path, or another method on their paths) goes on to the app untouched.
//!
//! Owns: the ready-made routes. Imports only lower layers (session, config, error) and
//! axum-core/http.
//!
//! [`DiscordLayer`]: super::DiscordLayer
//! [`DiscordLayer::routes`]: super::DiscordLayer::routes
//! [`UnauthorizedBehavior::RedirectToLogin`]: super::UnauthorizedBehavior::RedirectToLogin

use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

use super::pages::ErrorPages;
use crate::config::Config;
use crate::session::{DiscordSession, LoginOptions};
use crate::vocab::scope::{Prompt, Scope};

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
#[derive(Debug, Clone)]
#[must_use]
pub struct LoginRoutes {
    options: LoginOptions,
    login: String,
    callback: Option<String>,
    logout: String,
    after_logout: String,
    pages: ErrorPages,
}

impl Default for LoginRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginRoutes {
    /// `GET /login`, `GET` at the redirect URI's path, `POST /logout`; scope `identify`; 302 to
    /// `/` after logout; HTML error pages for browsers.
    pub fn new() -> Self {
        Self {
            options: LoginOptions::new(),
            login: "/login".to_owned(),
            callback: None,
            logout: "/logout".to_owned(),
            after_logout: "/".to_owned(),
            pages: ErrorPages::html(),
        }
    }

    /// The scopes every login asks for (default `identify`).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.options = self.options.scopes(scopes);
        self
    }

    /// The consent prompt (default [`Prompt::None`]).
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.options = self.options.prompt(prompt);
        self
    }

    /// Every option of the logins (scopes, prompt, data, extra parameters); replaces what
    /// [`scopes`](Self::scopes) and [`prompt`](Self::prompt) set. A `next` given here is the
    /// default landing page when the login request has none.
    pub fn options(mut self, options: LoginOptions) -> Self {
        self.options = options;
        self
    }

    /// The login path (default `/login`).
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.login = path.into();
        self
    }

    /// The callback path (default: the path of the configured redirect URI; another path is
    /// reported by a warning when mounted, as Discord would never send the user there).
    pub fn callback_path(mut self, path: impl Into<String>) -> Self {
        self.callback = Some(path.into());
        self
    }

    /// The logout path (default `/logout`, `POST` only).
    pub fn logout_path(mut self, path: impl Into<String>) -> Self {
        self.logout = path.into();
        self
    }

    /// Where the browser lands after logging out (default `/`).
    pub fn after_logout(mut self, path: impl Into<String>) -> Self {
        self.after_logout = path.into();
        self
    }

    /// How the routes render their errors (default [`ErrorPages::html`]).
    pub fn error_pages(mut self, pages: ErrorPages) -> Self {
        self.pages = pages;
        self
    }

    /// The routes as served with this client configuration (a warning when the callback
    /// path is not the redirect URI's).
    pub(crate) fn mount(self, config: &Config) -> MountedRoutes {
        let redirect_path = config.redirect_uri().path();
        let callback = match self.callback {
            Some(path) => {
                if path != redirect_path {
                    tracing::warn!(
                        callback = %path,
                        redirect_uri_path = %redirect_path,
                        "the login callback route is not the path of DISCORD_REDIRECT_URI: \
                         Discord sends users to the redirect URI, so logins will not complete; \
                         mount the callback at the redirect URI's path (the default) or change \
                         the redirect URI"
                    );
                }
                path
            }
            None => redirect_path.to_owned(),
        };
        for (name, path) in [("login", &self.login), ("logout", &self.logout)] {
            if *path == callback {
                tracing::warn!(
                    route = name,
                    %path,
                    "a ready-made route has the callback's path; the callback wins"
                );
            }
        }
        let pages = self.pages.or_login_path(&self.login);
        MountedRoutes {
            options: self.options,
            login: self.login,
            callback,
            logout: self.logout,
            after_logout: self.after_logout,
            pages,
        }
    }
}

/// Which ready-made route a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Login,
    Callback,
    Logout,
}

/// [`LoginRoutes`] as mounted on a layer.
#[derive(Debug, Clone)]
pub(crate) struct MountedRoutes {
    options: LoginOptions,
    login: String,
    callback: String,
    logout: String,
    after_logout: String,
    pub(crate) pages: ErrorPages,
}

impl MountedRoutes {
    /// The route serving `method path`, if any (another method goes on to the app).
    pub(crate) fn endpoint(&self, method: &Method, path: &str) -> Option<Endpoint> {
        if method == Method::GET && path == self.callback {
            Some(Endpoint::Callback)
        } else if method == Method::GET && path == self.login {
            Some(Endpoint::Login)
        } else if method == Method::POST && path == self.logout {
            Some(Endpoint::Logout)
        } else {
            None
        }
    }

    /// Serves `endpoint` for `session` with the request's query string.
    pub(crate) async fn serve(
        &self,
        endpoint: Endpoint,
        session: &DiscordSession,
        query: Option<&str>,
    ) -> Response {
        match endpoint {
            Endpoint::Login => {
                let next = query.and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "next")
                        .map(|(_, v)| v.into_owned())
                });
                let mut options = self.options.clone();
                if let Some(next) = next {
                    // Kept only when it is a local path.
                    options = options.next(next);
                }
                match session.create_session(options) {
                    Ok(url) => found(url.as_str()),
                    Err(e) => e.into_response(),
                }
            }
            Endpoint::Callback => match session.callback(query.unwrap_or("")).await {
                Ok(done) => found(&done.next),
                Err(e) => e.into_response(),
            },
            Endpoint::Logout => {
                if let Err(e) = session.check_same_origin() {
                    return e.into_response();
                }
                if !session.revoke().await {
                    tracing::debug!(
                        "logout: Discord did not confirm the revoke (the session is ended anyway)"
                    );
                }
                found(&self.after_logout)
            }
        }
    }
}

/// `302` to `location` (to `/` when it is not a valid header value).
pub(crate) fn found(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    r.headers_mut().insert(header::LOCATION, value);
    r
}
