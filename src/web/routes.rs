//! The ready-made login, callback and logout routes, served by an integration's middleware
//! itself (`DiscordLayer::routes` in axum, `DiscordMiddleware::routes` in actix-web):
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
//! Why the middleware serves them rather than the framework's router: the callback path follows
//! the redirect URI the client is configured with, which a router built without the client
//! could not know, and the routes behave the same on every framework. A request the routes do
//! not serve (another path, or another method on their paths) goes on to the app untouched.
//!
//! Owns: the ready-made routes' decisions. Imports only lower layers (session, config, error).
//!
//! [`UnauthorizedBehavior::RedirectToLogin`]: super::UnauthorizedBehavior::RedirectToLogin

use super::pages::ErrorPages;
use crate::config::Config;
use crate::error::Error;
use crate::session::{DiscordSession, LoginOptions};
use crate::vocab::scope::{Prompt, Scope};

/// The ready-made routes and their options, mounted by an integration's middleware. `R` is the
/// framework's response type (of [`ErrorPages::custom`]); the integrations name it:
/// `discord_oauth::axum::LoginRoutes`, `discord_oauth::actix::LoginRoutes`.
#[must_use]
pub struct LoginRoutes<R> {
    options: LoginOptions,
    login: String,
    callback: Option<String>,
    logout: String,
    after_logout: String,
    pages: ErrorPages<R>,
}

impl<R> Clone for LoginRoutes<R> {
    fn clone(&self) -> Self {
        Self {
            options: self.options.clone(),
            login: self.login.clone(),
            callback: self.callback.clone(),
            logout: self.logout.clone(),
            after_logout: self.after_logout.clone(),
            pages: self.pages.clone(),
        }
    }
}

impl<R> std::fmt::Debug for LoginRoutes<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRoutes")
            .field("options", &self.options)
            .field("login", &self.login)
            .field("callback", &self.callback)
            .field("logout", &self.logout)
            .field("after_logout", &self.after_logout)
            .field("pages", &self.pages)
            .finish()
    }
}

impl<R> Default for LoginRoutes<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> LoginRoutes<R> {
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
    pub fn error_pages(mut self, pages: ErrorPages<R>) -> Self {
        self.pages = pages;
        self
    }

    /// The routes as served with this client configuration (a warning when the callback
    /// path is not the redirect URI's).
    pub(crate) fn mount(self, config: &Config) -> MountedRoutes<R> {
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

/// What a ready-made route answers.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `302` to this location.
    Found(String),
    /// The error's answer.
    Failed(Error),
}

/// [`LoginRoutes`] as mounted on a middleware.
pub(crate) struct MountedRoutes<R> {
    options: LoginOptions,
    login: String,
    callback: String,
    logout: String,
    after_logout: String,
    pub(crate) pages: ErrorPages<R>,
}

impl<R> std::fmt::Debug for MountedRoutes<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountedRoutes")
            .field("login", &self.login)
            .field("callback", &self.callback)
            .field("logout", &self.logout)
            .finish_non_exhaustive()
    }
}

impl<R> MountedRoutes<R> {
    /// The route serving `method path` (`method` as in `Method::as_str`), if any (another
    /// method goes on to the app).
    pub(crate) fn endpoint(&self, method: &str, path: &str) -> Option<Endpoint> {
        if method == "GET" && path == self.callback {
            Some(Endpoint::Callback)
        } else if method == "GET" && path == self.login {
            Some(Endpoint::Login)
        } else if method == "POST" && path == self.logout {
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
    ) -> Answer {
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
                    Ok(url) => Answer::Found(url.into()),
                    Err(e) => Answer::Failed(e),
                }
            }
            Endpoint::Callback => match session.callback(query.unwrap_or("")).await {
                Ok(done) => Answer::Found(done.next),
                Err(e) => Answer::Failed(e),
            },
            Endpoint::Logout => {
                if let Err(e) = session.check_same_origin() {
                    return Answer::Failed(e);
                }
                if !session.revoke().await {
                    tracing::debug!(
                        "logout: Discord did not confirm the revoke (the session is ended anyway)"
                    );
                }
                Answer::Found(self.after_logout.clone())
            }
        }
    }
}
