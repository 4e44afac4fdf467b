//! Helpers for an app's own tests: the variables that point an app at this fake
//! ([`MockDiscord::app_env`]), and a browser stand-in that logs a user in through the app's own
//! routes in one call ([`MockDiscord::login_through`], [`TestBrowser`]).
//!
//! ```no_run
//! # async fn demo(app_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use discord_oauth_mock::{MockDiscord, seed};
//! let fake = MockDiscord::start().await; // a free loopback port
//! // ... start the app on another free port, configured from `fake.app_env(...)` ...
//! let mut alice = fake.login_through(app_url, seed::ALICE).await?;
//! let me = alice.get("/me").await?;
//! assert_eq!(me.status(), 200);
//! # Ok(()) }
//! ```
//!
//! Owns: the app-side HTTP of a test (reqwest, no TLS: loopback only). Must not import anything
//! of the fake's internals beyond [`MockDiscord`]'s public methods.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::MockDiscord;

/// A fixed 64-character key for the apps of tests (never use it outside tests).
pub const TEST_SECRET_KEY: &str = "discord-oauth-mock-test-secret-key-0123456789abcdef0123456789ab";

impl MockDiscord {
    /// The configuration variables that point an app at this fake, as `(name, value)` pairs for
    /// a lookup such as `discord_oauth::Config::from_lookup`: `DISCORD_CLIENT_ID`,
    /// `DISCORD_CLIENT_SECRET`, `DISCORD_REDIRECT_URI` (`redirect_uri`, which this call also
    /// registers with the fake), `DISCORD_BOT_TOKEN`, `DISCORD_PUBLIC_KEY`, `DISCORD_BASE_URL`,
    /// `DISCORD_CDN_URL` and `SECRET_KEY` ([`TEST_SECRET_KEY`]).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// let fake = discord_oauth_mock::MockDiscord::start().await;
    /// let env = fake.app_env("http://127.0.0.1:40000/callback");
    /// let lookup = |key: &str| env.get(key).cloned();
    /// assert_eq!(lookup("DISCORD_BASE_URL"), Some(fake.base_url()));
    /// # }
    /// ```
    #[must_use]
    pub fn app_env(&self, redirect_uri: &str) -> BTreeMap<String, String> {
        self.add_redirect_uri(redirect_uri);
        [
            ("DISCORD_CLIENT_ID", self.client_id().to_string()),
            ("DISCORD_CLIENT_SECRET", self.client_secret()),
            ("DISCORD_REDIRECT_URI", redirect_uri.to_owned()),
            ("DISCORD_BOT_TOKEN", self.bot_token()),
            ("DISCORD_PUBLIC_KEY", self.public_key_hex()),
            ("DISCORD_BASE_URL", self.base_url()),
            ("DISCORD_CDN_URL", self.cdn_url()),
            ("SECRET_KEY", TEST_SECRET_KEY.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Logs `user` in through the app at `app_url` (`http://127.0.0.1:PORT`) in one call, the
    /// way a browser does: `GET {app_url}/login`, approval on this fake as `user` (any id the
    /// fake knows), then the app's callback. Returns the browser, holding the app's cookies.
    ///
    /// # Errors
    /// A [`LoginError`] naming the step that did not answer as a login does.
    pub async fn login_through(&self, app_url: &str, user: u64) -> Result<TestBrowser, LoginError> {
        let mut browser = TestBrowser::new(app_url);
        browser.login(self, user, "/login").await?;
        Ok(browser)
    }
}

/// Why [`MockDiscord::login_through`] or [`TestBrowser::login`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginError {
    /// An HTTP request failed (connection refused, timeout…).
    Http(reqwest::Error),
    /// A step answered with an unexpected status: `step` names it, `body` is the start of the
    /// answer's body.
    Status {
        /// `login`, `authorize` or `callback`.
        step: &'static str,
        /// The status received.
        status: u16,
        /// At most 512 bytes of the answer's body.
        body: String,
    },
    /// The app's login route did not redirect to this fake's authorize page.
    NotToTheFake(String),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(e) => write!(f, "request failed: {e}"),
            Self::Status { step, status, body } => {
                write!(f, "the {step} step answered {status}: {body}")
            }
            Self::NotToTheFake(to) => write!(
                f,
                "the app's login route redirected to {to:?}, not to the fake's authorize page \
                 (is the app configured from MockDiscord::app_env?)"
            ),
        }
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for LoginError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// A browser stand-in for an app under test: a cookie jar, no automatic redirects, an `Origin`
/// header on state-changing requests (as browsers send), bounded waits (20 s).
#[derive(Clone)]
pub struct TestBrowser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl fmt::Debug for TestBrowser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cookie values are session secrets: names only.
        f.debug_struct("TestBrowser")
            .field("base", &self.base)
            .field("cookies", &self.cookies.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TestBrowser {
    /// A browser with an empty jar for the app at `app_url` (`http://127.0.0.1:PORT`).
    #[must_use]
    pub fn new(app_url: &str) -> Self {
        Self {
            base: app_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("a plain HTTP client builds"),
            cookies: BTreeMap::new(),
        }
    }

    /// The app's URL this browser talks to.
    #[must_use]
    pub fn app_url(&self) -> &str {
        &self.base
    }

    /// The value of the cookie `name`, if the app set it.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The `Cookie` header this browser sends, if it holds any cookie.
    #[must_use]
    pub fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Forgets every cookie.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// `GET {app_url}{path}` with the jar's cookies; the answer's cookies go into the jar.
    ///
    /// # Errors
    /// The request's error (connection refused, timeout…).
    pub async fn get(&mut self, path: &str) -> reqwest::Result<reqwest::Response> {
        let url = self.url(path);
        self.send(self.http.get(url)).await
    }

    /// `POST {app_url}{path}` with the jar's cookies and `Origin: {app_url}`, as a form post of
    /// the app's own page would be sent.
    ///
    /// # Errors
    /// The request's error.
    pub async fn post(&mut self, path: &str) -> reqwest::Result<reqwest::Response> {
        let url = self.url(path);
        let req = self.http.post(url).header("origin", &self.base);
        self.send(req).await
    }

    /// Sends any request built on [`client`](Self::client) with the jar's cookies, and keeps the
    /// answer's cookies.
    ///
    /// # Errors
    /// The request's error.
    pub async fn send(
        &mut self,
        req: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let req = match self.cookie_header() {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let resp = req.send().await?;
        self.absorb(&resp);
        Ok(resp)
    }

    /// The underlying client (no redirects followed, 20 s timeout); send through
    /// [`send`](Self::send) to use the jar.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.http
    }

    /// Logs `user` in through the app's `login_path` (e.g. `/login` or `/login?next=/me`) and the
    /// fake's authorize page; the app's callback's cookies land in the jar.
    ///
    /// # Errors
    /// A [`LoginError`] naming the step that failed.
    pub async fn login(
        &mut self,
        fake: &MockDiscord,
        user: u64,
        login_path: &str,
    ) -> Result<(), LoginError> {
        // 1. The app's login route redirects to the fake's authorize page.
        let resp = self.get(login_path).await?;
        let to = location("login", resp).await?;
        if !to.starts_with(&fake.authorize_url()) {
            return Err(LoginError::NotToTheFake(to));
        }
        // 2. The fake approves as `user` at once and redirects to the app's callback.
        let sep = if to.contains('?') { '&' } else { '?' };
        let resp = self
            .http
            .get(format!("{to}{sep}mock_user={user}"))
            .send()
            .await?;
        let callback = location("authorize", resp).await?;
        // 3. The app's callback (same origin as the app, else the cookies would not come back).
        let resp = self.send(self.http.get(&callback)).await?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) || (200..300).contains(&status) {
            return Ok(());
        }
        Err(LoginError::Status {
            step: "callback",
            status,
            body: body_start(resp).await,
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    fn absorb(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let mut attributes = value.split(';');
            let Some((name, v)) = attributes.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let removed = attributes.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("max-age=-") || a.contains("1970")
            });
            let name = name.trim().to_owned();
            if removed || v.is_empty() {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, v.trim().to_owned());
            }
        }
    }
}

/// The `Location` of a redirect, or the step's error.
async fn location(step: &'static str, resp: reqwest::Response) -> Result<String, LoginError> {
    let status = resp.status().as_u16();
    match resp.headers().get("location").and_then(|v| v.to_str().ok()) {
        Some(to) if (300..400).contains(&status) => Ok(to.to_owned()),
        _ => Err(LoginError::Status {
            step,
            status,
            body: body_start(resp).await,
        }),
    }
}

async fn body_start(resp: reqwest::Response) -> String {
    let body = resp.text().await.unwrap_or_default();
    let mut end = body.len().min(512);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_owned()
}
