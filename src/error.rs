//! The one error type of the crate.
//!
//! Owns [`Error`] and its mapping to HTTP statuses. Imports the vocabulary, the configuration
//! error, the store error (each wrapped here with its cause) and the models' ids and
//! validation errors; must not import the pipeline,
//! the limiter, sessions or a web framework.
//!
//! Every non-2xx answer from Discord becomes a typed variant; nothing is returned as if it were
//! data (Flask-Discord's bug B6). Each variant knows the HTTP status a web app should answer with
//! ([`Error::status`]); the `axum` feature renders it as a response.
//!
//! | Flask-Discord exception | here |
//! |---|---|
//! | `HttpException` | [`Error`] itself (every variant) |
//! | `RateLimited(json, headers)` | [`Error::RateLimited`]; `retry_after` is a [`Duration`] built from Discord's **float seconds** (Flask-Discord's docs say milliseconds, which was API v6) |
//! | `Unauthorized` | [`Error::Unauthorized`] (the *user's* token); a bad bot token is [`Error::BotUnauthorized`] |
//! | `AccessDenied` | [`Error::AccessDenied`] |

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::config::ConfigError;
use crate::models::{GuildId, RoleConnectionError};
use crate::store::StoreError;
use crate::vocab::permissions::Permissions;
use crate::vocab::scope::Scope;

/// The underlying cause of an error, kept for [`std::error::Error::source`] chains.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Why an OAuth2 `state` was refused at the callback. Every case answers 400 and sends no token
/// request to Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The callback carried no `state` parameter.
    Missing,
    /// No pending login in this browser matches the `state` (forged, or another browser's).
    Mismatch,
    /// The pending login is older than its lifetime (10 minutes).
    Expired,
    /// The `state` was already used once.
    Reused,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "the callback has no state",
            Self::Mismatch => "the state does not match a login started in this browser",
            Self::Expired => "the login took too long; start again",
            Self::Reused => "the state was already used",
        })
    }
}

/// Why a webhook event from Discord was refused: every case answers 401, as Discord requires
/// ([Discord: Webhook Events](https://discord.com/developers/docs/events/webhook-events)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// `X-Signature-Ed25519` or `X-Signature-Timestamp` is missing.
    Missing,
    /// A header is not what Discord sends (not 128 hex digits, not a Unix time).
    Malformed,
    /// The signature does not verify with the application's public key (forged, tampered
    /// with, or signed with another key).
    Invalid,
    /// The signed timestamp is too old or too far in the future (a replay).
    Stale,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "the signature headers are missing",
            Self::Malformed => "the signature headers are malformed",
            Self::Invalid => "the signature does not verify",
            Self::Stale => "the signed timestamp is too old or in the future",
        })
    }
}

/// `X-RateLimit-Scope` of a 429
/// ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits#header-format)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitScope {
    /// Per bot or user.
    User,
    /// The per-bot/user global limit.
    Global,
    /// A per-resource limit shared by everyone; does not count as an invalid request.
    Shared,
}

impl RateLimitScope {
    /// Parses the header value.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "user" => Some(Self::User),
            "global" => Some(Self::Global),
            "shared" => Some(Self::Shared),
            _ => None,
        }
    }
}

/// The crate's error. `Clone`, so that one failed upstream call shared by coalesced waiters
/// (the cache's single flight) gives every waiter the same typed error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user has no session, or their Discord authorization is no longer good (expired,
    /// revoked, logged out). Flask-Discord's `Unauthorized`.
    #[error("not authorized with Discord (no session, or the authorization ended)")]
    Unauthorized,

    /// The session was not granted a scope this call needs; known before calling Discord.
    #[error("the Discord authorization lacks the `{0}` scope")]
    MissingScope(Scope),

    /// Discord answered 401 to a call made with the bot token: a configuration error, never the
    /// user's [`Error::Unauthorized`].
    #[error("Discord rejected the bot token (401); check DISCORD_BOT_TOKEN")]
    BotUnauthorized,

    /// A bot route was called but no bot token is configured.
    #[error("no bot token is configured (DISCORD_BOT_TOKEN)")]
    NoBotToken,

    /// A webhook event arrived but no public key is configured to verify it. 503.
    #[error("no public key is configured to verify webhook events (DISCORD_PUBLIC_KEY)")]
    NoPublicKey,

    /// A webhook event's signature was missing, malformed, wrong or stale. 401.
    #[error("webhook event refused: {0}")]
    InvalidSignature(SignatureError),

    /// The application's [`LoginThrottle`](crate::session::LoginThrottle) refused an
    /// unauthenticated login step (a login start or a callback) for this client: HTTP 429 with
    /// `Retry-After`. Nothing was minted or sent to Discord.
    #[error("too many login attempts; retry after {} s", retry_after.as_secs())]
    Throttled {
        /// How long the client should wait.
        retry_after: Duration,
    },

    /// Rate limited, and the wait could not fit in the call's deadline. Flask-Discord's `RateLimited`.
    #[error("rate limited by Discord; retry after {:.3} s", retry_after.as_secs_f64())]
    RateLimited {
        /// How long to wait, from `retry_after` (float seconds) or `Retry-After`.
        retry_after: Duration,
        /// Whether the global limit was hit.
        global: bool,
        /// `X-RateLimit-Scope`, when sent.
        scope: Option<RateLimitScope>,
        /// `X-RateLimit-Bucket`, when known.
        bucket: Option<String>,
        /// Discord's message.
        message: String,
        /// The JSON body, when there was one (a Cloudflare ban page is HTML).
        json: Option<Box<serde_json::Value>>,
        /// The response headers (empty when the limit was enforced locally).
        headers: Box<HeaderMap>,
    },

    /// Discord answered with an error status and (usually) its JSON error body
    /// `{"code", "message", "errors"}`
    /// ([Discord: Error Messages](https://discord.com/developers/docs/reference#error-messages)).
    #[error("Discord answered {status}: {message} (code {code})")]
    Api {
        /// The HTTP status Discord answered with.
        status: StatusCode,
        /// Discord's JSON error code (0 when absent, e.g. a non-JSON body), such as 50025.
        code: u64,
        /// Discord's message.
        message: String,
        /// The nested `errors` object of a 50035 "Invalid Form Body".
        errors: Option<Box<serde_json::Value>>,
    },

    /// The user pressed Cancel on Discord's consent screen (`error=access_denied`).
    #[error("the user denied the authorization")]
    AccessDenied {
        /// `error_description`, if Discord sent one.
        description: Option<String>,
    },

    /// Discord's OAuth2 endpoint answered with an RFC 6749 error (`invalid_grant`,
    /// `invalid_client`, ...), or the authorize redirect carried one (`invalid_scope`).
    #[error("Discord OAuth2 error `{error}`")]
    OAuth {
        /// The HTTP status of the token endpoint's answer (400 for an authorize redirect).
        status: StatusCode,
        /// The RFC 6749 `error` code.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },

    /// The callback's `state` was missing, forged, expired or reused.
    #[error("invalid OAuth2 state: {0}")]
    InvalidState(StateError),

    /// An install pinned a guild (`guild_id` with `disable_guild_select=true`) and Discord's
    /// answer names another guild, or none although the bot was asked for: the authorize URL
    /// was altered on the way. No session is created or replaced; 400.
    #[error("the install was pinned to guild {expected}, but Discord answered {}", got.map_or_else(|| "no guild".to_owned(), |g| format!("guild {g}")))]
    InstallGuildMismatch {
        /// The guild the install was pinned to.
        expected: GuildId,
        /// The guild Discord's answer names.
        got: Option<GuildId>,
    },

    /// A role connection or a set of role connection metadata records breaks one of Discord's
    /// limits; found before any call. 400.
    #[error("invalid role connection: {0}")]
    RoleConnection(#[from] RoleConnectionError),

    /// A state-changing request came from another site (`Origin` / `Sec-Fetch-Site`).
    #[error("cross-site request refused")]
    CrossSite,

    /// A request route is not a relative path under the API base (absolute URL, `//`, `..`).
    #[error("invalid route: {0}")]
    InvalidRoute(String),

    /// A request the caller asked for and the library refuses to build (a reserved authorize
    /// parameter, oversized login data, a malformed id...): the caller's fault, 400.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// Discord refused a call made with a token it had just issued by a refresh: the grant is
    /// alive, but it lacks a scope or access this route needs. The session is kept; 403.
    #[error(
        "Discord refused the call although the token is fresh: the authorization lacks a scope or access this route needs"
    )]
    InsufficientAccess,

    /// The user may not act in a guild: they lack these guild permissions there, or are not a
    /// member at all (then every required permission is missing, so both refusals look the same
    /// and no one learns more from a 403 than "not allowed"). The guild owner and ADMINISTRATOR
    /// hold every permission. 403.
    #[error("not allowed in this guild{}", MissingNames(*.0))]
    MissingPermissions(Permissions),

    /// Discord did not answer within the call's overall deadline.
    #[error("Discord did not answer within the deadline")]
    Timeout,

    /// The connection to Discord failed (DNS, TCP, TLS, reset); the cause is the transport's
    /// error (without the URL).
    #[error("could not reach Discord")]
    Transport(#[source] Cause),

    /// Discord's answer could not be decoded.
    #[error("malformed answer from Discord on {route}: {reason}")]
    Decode {
        /// The route whose answer was malformed.
        route: String,
        /// What was wrong. Never contains the body (it may hold tokens).
        reason: String,
    },

    /// The configuration is missing or malformed.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),

    /// A session store, revocation list, used-state set or rate-limit store failed.
    #[error("store error")]
    Store(#[source] Cause),

    /// [`Fetch::CacheOnly`](crate::api::Fetch::CacheOnly) found nothing fresh in the cache.
    #[error("not in the cache")]
    NotCached,

    /// A fault inside the library or a component plugged into it (a cache that returned data
    /// of another kind, a body that could not be serialized); never the caller's input. 500.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(Arc::new(e))
    }
}

/// One field error of a 50035 "Invalid Form Body" answer (see [`Error::form_errors`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormError {
    /// Where in the request body: the keys down to the field, joined by `.` (`roles.0`).
    pub path: String,
    /// Discord's error code, e.g. `BASE_TYPE_REQUIRED`.
    pub code: String,
    /// Discord's message.
    pub message: String,
}

/// Collects the `_errors` arrays of a 50035 `errors` object, depth first.
fn collect_form_errors(
    value: &serde_json::Value,
    path: &mut Vec<String>,
    out: &mut Vec<FormError>,
) {
    const MAX_DEPTH: usize = 32;
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, inner) in map {
        if key == "_errors" {
            for e in inner.as_array().into_iter().flatten() {
                // Discord's documentation shows the codes as strings
                // (https://discord.com/developers/docs/reference#error-messages), the official
                // spec (https://github.com/discord/discord-api-spec, `Error.code`) as integers:
                // we follow the documentation and keep an integer as its decimal string.
                let code = match e.get("code") {
                    Some(serde_json::Value::String(c)) => c.clone(),
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                let message = e
                    .get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                out.push(FormError {
                    path: path.join("."),
                    code,
                    message,
                });
            }
        } else if path.len() < MAX_DEPTH {
            path.push(key.clone());
            collect_form_errors(inner, path, out);
            path.pop();
        }
    }
}

impl Error {
    /// The field errors of a 50035 "Invalid Form Body" answer
    /// ([Discord: Error Messages](https://discord.com/developers/docs/reference#error-messages)),
    /// flattened; empty for any other error. A code is kept as a string whether Discord sends
    /// a string (as documented) or an integer (as the OpenAPI spec types it).
    ///
    /// ```
    /// # let errors = serde_json::json!({"access_token": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}});
    /// # let error = discord_oauth::Error::Api { status: http::StatusCode::BAD_REQUEST, code: 50035, message: "Invalid Form Body".into(), errors: Some(Box::new(errors)) };
    /// let fields = error.form_errors();
    /// assert_eq!(fields[0].path, "access_token");
    /// assert_eq!(fields[0].code, "BASE_TYPE_REQUIRED");
    /// ```
    #[must_use]
    pub fn form_errors(&self) -> Vec<FormError> {
        let mut out = Vec::new();
        if let Self::Api {
            errors: Some(errors),
            ..
        } = self
        {
            collect_form_errors(errors, &mut Vec::new(), &mut out);
        }
        out
    }

    /// The HTTP status a web app should answer with (the demo contract's statuses).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::MissingScope(_)
            | Self::AccessDenied { .. }
            | Self::CrossSite
            | Self::InsufficientAccess
            | Self::MissingPermissions(_) => StatusCode::FORBIDDEN,
            Self::InvalidState(_)
            | Self::InvalidRequest(_)
            | Self::InvalidRoute(_)
            | Self::InstallGuildMismatch { .. }
            | Self::RoleConnection(_) => StatusCode::BAD_REQUEST,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RateLimited { .. } | Self::NoBotToken | Self::NoPublicKey | Self::Store(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Api { status, .. } => match status.as_u16() {
                400 | 403 | 404 => *status,
                // A 401 that survived a successful refresh: logged in, but not allowed.
                401 => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_GATEWAY,
            },
            // A bad or used code presented at the callback is the browser's input: 400.
            Self::OAuth { error, .. } if error == "invalid_grant" || error == "invalid_scope" => {
                StatusCode::BAD_REQUEST
            }
            Self::OAuth { .. }
            | Self::BotUnauthorized
            | Self::Timeout
            | Self::Transport(_)
            | Self::Decode { .. } => StatusCode::BAD_GATEWAY,
            Self::Config(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotCached => StatusCode::NOT_FOUND,
        }
    }

    /// Whether this is a rate limit.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }

    /// How long to wait before retrying, for a rate limit.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Throttled { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// Whether the user must log in (again).
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized)
    }

    /// Whether Discord failed or could not be reached (timeout, transport, 5xx, malformed answer).
    #[must_use]
    pub fn is_upstream_failure(&self) -> bool {
        match self {
            Self::Timeout | Self::Transport(_) | Self::Decode { .. } => true,
            Self::Api { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    /// Discord's JSON error code, for [`Error::Api`].
    #[must_use]
    pub fn api_code(&self) -> Option<u64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A short machine-readable name, used in JSON error bodies.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::MissingScope(_) => "missing_scope",
            Self::BotUnauthorized => "bot_unauthorized",
            Self::NoBotToken => "no_bot_token",
            Self::NoPublicKey => "no_public_key",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::RateLimited { .. } => "rate_limited",
            Self::Throttled { .. } => "throttled",
            Self::Api { .. } => "discord_error",
            Self::AccessDenied { .. } => "access_denied",
            Self::OAuth { .. } => "oauth_error",
            Self::InvalidState(_) => "invalid_state",
            Self::InstallGuildMismatch { .. } => "install_guild_mismatch",
            Self::RoleConnection(_) => "invalid_role_connection",
            Self::CrossSite => "cross_site",
            Self::InvalidRoute(_) => "invalid_route",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InsufficientAccess => "insufficient_access",
            Self::MissingPermissions(_) => "missing_permissions",
            Self::Internal(_) => "internal",
            Self::NotCached => "not_cached",
            Self::Timeout => "timeout",
            Self::Transport(_) => "upstream_unreachable",
            Self::Decode { .. } => "malformed_upstream_answer",
            Self::Config(_) => "configuration",
            Self::Store(_) => "store",
        }
    }
}

/// `": missing MANAGE_GUILD | BAN_MEMBERS"` for [`Error::MissingPermissions`] (nothing when
/// no bit is named; unnamed bits as their decimal value).
struct MissingNames(Permissions);

impl fmt::Display for MissingNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        f.write_str(": missing ")?;
        let mut first = true;
        for (name, _) in self.0.iter_names() {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        let unknown = self.0.unknown_bits();
        if unknown != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{unknown}")?;
        }
        Ok(())
    }
}

/// Shorthand for `Result<T, discord_oauth::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Lets handlers return `Result<T, Error>` when `?` meets an infallible conversion.
impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}
