//! Tokens of the application itself, no user session involved: the client-credentials grant
//! ([`AppToken`], cached per scope set) and the code exchange of an Activity
//! ([`ActivityToken`], handed back to the caller).
//!
//! - **App tokens** ([Discord: Client Credentials Grant](https://discord.com/developers/docs/topics/oauth2#client-credentials-grant)):
//!   a Bearer token for the application's owner with the scopes asked for, no refresh token.
//!   One token per scope set is kept in memory and reused until [`APP_TOKEN_MARGIN`] before its
//!   expiry, on the configured clock; concurrent callers of one scope set share one grant (a
//!   Tokio mutex per scope set: the first grants, the others wait and reuse its token); a grant
//!   that failed is not remembered, the next caller asks again.
//! - **Activities** ([Discord: How Activities Work](https://discord.com/developers/docs/activities/how-activities-work)):
//!   the Embedded App SDK's `authorize` command gives the activity's frontend a code issued
//!   without a redirect; the backend exchanges it without `redirect_uri` and returns the access
//!   token to the frontend. No session, no cookie.
//!
//! Owns: the app-token cache and the two typed results. Imports the pipeline, the OAuth2
//! protocol, the request builder and the vocabulary; must not import sessions, stores or the
//! API module (an app token is not a user's session).

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};
use std::time::Duration;

use http::Method;
use tokio::sync::Mutex;

use crate::error::Error;
use crate::http::{Auth, Call, Http, Response};
use crate::oauth::{TokenResponse, client_credentials, exchange_activity_code, is_plausible_code};
use crate::ratelimit::Identity;
use crate::request::{ApiRequest, Sender, UserCalls};
use crate::vocab::BoxFuture;
use crate::vocab::scope::{Scope, Scopes};
use crate::vocab::secret::{AccessToken, Fingerprint, RefreshToken};

/// How long before its expiry a cached app token is replaced by a new grant: 60 seconds (at
/// most half the token's lifetime, so a short-lived token is still reused).
pub const APP_TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// One issued app token.
struct Issued {
    access_token: AccessToken,
    scopes: Scopes,
    /// Unix seconds, on the configured clock.
    expires_at: u64,
    /// Unix seconds from which the cache asks for a new one.
    renew_at: u64,
}

/// The slot of one scope set: the token, if any, behind the lock its grant holds.
type Slot = Arc<Mutex<Option<Arc<Issued>>>>;

/// The app-token cache: one slot per scope set (its canonical, sorted form).
pub(crate) struct AppTokens {
    http: Http,
    slots: SyncMutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for AppTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sets = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("AppTokens")
            .field("scope_sets", &sets)
            .finish_non_exhaustive()
    }
}

/// The cache key of a scope set: its scopes sorted, once each, space-separated.
fn key_of(scopes: &Scopes) -> String {
    let mut names: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

impl AppTokens {
    pub(crate) fn new(http: Http) -> Self {
        Self {
            http,
            slots: SyncMutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(key.to_owned()).or_default())
    }

    fn now(&self) -> u64 {
        self.http.config().clock().unix_now()
    }

    /// The cached token of `scopes`, or a new grant (one at a time per scope set).
    pub(crate) async fn get(self: &Arc<Self>, scopes: &Scopes) -> Result<AppToken, Error> {
        if scopes.is_empty() {
            return Err(Error::InvalidRequest(
                "an app token needs at least one scope".into(),
            ));
        }
        if let Some(s) = scopes.iter().find(|s| s.is_passthrough()) {
            return Err(Error::InvalidRequest(format!(
                "`{s}` cannot be asked for with the client-credentials grant"
            )));
        }
        let key = key_of(scopes);
        let slot = self.slot(&key);
        let mut held = slot.lock().await;
        if let Some(t) = held.as_ref()
            && self.now() < t.renew_at
        {
            return Ok(self.handle(key, Arc::clone(t)));
        }
        *held = None;
        // A failure leaves the slot empty: the next caller asks Discord again.
        let answer = client_credentials(&self.http, scopes).await?;
        let issued = Arc::new(self.issued(answer, scopes));
        *held = Some(Arc::clone(&issued));
        Ok(self.handle(key, issued))
    }

    fn issued(&self, answer: TokenResponse, asked: &Scopes) -> Issued {
        let now = self.now();
        let expires_at = answer.expires_at(now);
        let lifetime = expires_at.saturating_sub(now);
        let margin = APP_TOKEN_MARGIN.as_secs().min(lifetime / 2);
        let granted = answer.scopes();
        Issued {
            scopes: if granted.is_empty() {
                asked.clone()
            } else {
                granted
            },
            access_token: answer.access_token,
            expires_at,
            renew_at: expires_at - margin,
        }
    }

    fn handle(self: &Arc<Self>, key: String, issued: Arc<Issued>) -> AppToken {
        AppToken {
            cache: Arc::clone(self),
            key,
            issued,
        }
    }

    /// Forgets `issued` (Discord refused it), unless a newer token already replaced it.
    async fn forget(&self, key: &str, issued: &Arc<Issued>) {
        let slot = self.slot(key);
        let mut held = slot.lock().await;
        if held.as_ref().is_some_and(|t| Arc::ptr_eq(t, issued)) {
            *held = None;
        }
    }

    /// Exchanges an Activity's code (no `redirect_uri`).
    pub(crate) async fn exchange_activity_code(&self, code: &str) -> Result<ActivityToken, Error> {
        // The callback's own rule: a malformed code costs no call to Discord.
        if !is_plausible_code(code) {
            return Err(Error::InvalidRequest(
                "the code is empty or malformed".into(),
            ));
        }
        let answer = exchange_activity_code(&self.http, code).await?;
        let now = self.now();
        Ok(ActivityToken {
            expires_at: answer.expires_at(now),
            expires_in: answer.expires_at(now) - now,
            scopes: answer.scopes(),
            refresh_token: answer.refresh_token,
            access_token: answer.access_token,
        })
    }
}

/// An app token from the client-credentials grant (see [`DiscordOAuth::app_token`]): a Bearer
/// token for the application's owner with the granted scopes. Cheap to clone; `Debug` never
/// shows the token.
///
/// [`DiscordOAuth::app_token`]: crate::DiscordOAuth::app_token
///
/// ```no_run
/// # async fn f(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
/// use discord_oauth::{Scope, Scopes};
/// let app = discord.app_token(&Scopes::from([Scope::Identify])).await?;
/// let owner: serde_json::Value = app.request(http::Method::GET, "/users/@me").send_json().await?;
/// # let _ = owner; Ok(()) }
/// ```
#[derive(Clone)]
pub struct AppToken {
    cache: Arc<AppTokens>,
    key: String,
    issued: Arc<Issued>,
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppToken")
            .field("access_token", &self.issued.access_token)
            .field("scopes", &self.issued.scopes)
            .field("expires_at", &self.issued.expires_at)
            .finish()
    }
}

impl AppToken {
    /// The access token (a credential: never log it).
    #[must_use]
    pub fn access_token(&self) -> &AccessToken {
        &self.issued.access_token
    }

    /// The scopes Discord granted (those asked for when its answer names none).
    #[must_use]
    pub fn scopes(&self) -> &Scopes {
        &self.issued.scopes
    }

    /// When the token expires, in Unix seconds on the configured clock.
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.issued.expires_at
    }

    /// A call to any Discord route with this token (`Authorization: Bearer ...`), through the
    /// same pipeline as every other call. A route needing a scope the token lacks fails with
    /// [`Error::MissingScope`] before any call; a 401 ([`Error::Unauthorized`]) drops the token
    /// from the cache, so the next [`DiscordOAuth::app_token`] grants a new one.
    ///
    /// [`DiscordOAuth::app_token`]: crate::DiscordOAuth::app_token
    pub fn request(&self, method: Method, route: impl AsRef<str>) -> ApiRequest<'_> {
        ApiRequest::new(Sender::User(self), method, route.as_ref())
    }

    async fn send(&self, mut call: Call) -> Result<Response, Error> {
        if let Some(scope) = call.route.required_scope()
            && !self.issued.scopes.contains(scope)
        {
            return Err(Error::MissingScope(scope.clone()));
        }
        let token = &self.issued.access_token;
        call.identity = Identity::Token(Fingerprint::of(token.secret()).short());
        let answer = self.cache.http.send(call, Auth::Bearer(token)).await;
        if matches!(answer, Err(Error::Unauthorized)) {
            self.cache.forget(&self.key, &self.issued).await;
        }
        answer
    }
}

impl UserCalls for AppToken {
    fn send_as_user(&self, call: Call) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(self.send(call))
    }
}

/// What the code exchange of an Activity returns (see
/// [`DiscordOAuth::exchange_activity_code`]): the user's access token for the activity's
/// frontend, its lifetime and scopes. `Debug` never shows the tokens.
///
/// [`DiscordOAuth::exchange_activity_code`]: crate::DiscordOAuth::exchange_activity_code
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActivityToken {
    /// The user's access token: the frontend passes it to the SDK's `authenticate` command.
    pub access_token: AccessToken,
    /// The refresh token, when Discord sent one: keep it on the server, never send it to the
    /// frontend.
    pub refresh_token: Option<RefreshToken>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the access token expires, in Unix seconds on the configured clock.
    pub expires_at: u64,
    /// The granted scopes (unknown ones skipped).
    pub scopes: Scopes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_ignores_order_and_repeats() {
        let a = Scopes::from([Scope::Identify, Scope::Guilds]);
        let b = Scopes::from([Scope::Guilds, Scope::Identify, Scope::Guilds]);
        assert_eq!(key_of(&a), key_of(&b));
        assert_ne!(key_of(&a), key_of(&Scopes::from([Scope::Identify])));
    }
}
