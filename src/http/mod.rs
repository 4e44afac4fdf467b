//! The HTTP pipeline. Every call to Discord, the OAuth2 token, refresh and revoke calls
//! included, goes through `Http::send`: User-Agent, `Authorization`, the rate limiter hook, one
//! overall deadline covering retries and waits, the retry policy, and the mapping of every
//! non-2xx answer to a typed [`Error`]. Redirects are never followed: a token must never reach
//! another host.
//!
//! Owns: the `reqwest` client, retries, error mapping, the [`Response`]. Imports the
//! configuration, routes, the limiter and errors; must not import sessions, stores, the cache
//! or a web framework. A call arrives with its [`Route`] already parsed and guarded.

mod request;
pub(crate) mod retry;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

pub use request::{Payload, Response};

use crate::config::Config;
use crate::error::{Error, RateLimitScope};
use crate::ratelimit::{Identity, Limiter, RequestKey};
use crate::route::{Endpoint, Route};
use crate::vocab::secret::{AccessToken, Fingerprint};
use retry::RetryClass;

/// Largest body accepted from Discord; anything bigger is a malformed answer.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// How a call authenticates.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// No `Authorization` header (Flask-Discord's `oauth=False`).
    None,
    /// `Authorization: Bearer <user access token>`.
    Bearer(&'a AccessToken),
    /// `Authorization: Bot <bot token>`.
    Bot,
    /// HTTP Basic with the client id and secret (token and revoke endpoints).
    Client,
}

/// The request body.
#[derive(Debug, Clone, Default)]
pub(crate) enum Body {
    /// No body.
    #[default]
    Empty,
    /// A JSON body.
    Json(Bytes),
    /// An `application/x-www-form-urlencoded` body (the only type Discord's token endpoint takes).
    Form(String),
}

/// One call, before it is sent.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) route: Route,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) identity: Identity,
    pub(crate) retry: RetryClass,
    pub(crate) deadline: Option<Instant>,
    /// The Bearer token was issued by a refresh during this very call: a 401 on it means the
    /// route needs a scope or access the grant lacks, not that the token is dead.
    pub(crate) fresh_token: bool,
    /// The Discord user on whose behalf the call is made (Bearer calls, and bot calls such as
    /// add-member made for a user), for the per-user invalid-request budget.
    pub(crate) actor: Option<u64>,
}

impl Call {
    /// A call to a REST route, retried as its method allows.
    pub(crate) fn api(route: Route) -> Self {
        let retry = RetryClass::for_method(route.method());
        Self {
            route,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            identity: Identity::Anonymous,
            retry,
            deadline: None,
            fresh_token: false,
            actor: None,
        }
    }

    /// A call to a token endpoint: one attempt only.
    pub(crate) fn oauth(route: Route, body: Body) -> Self {
        Self {
            route,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body,
            identity: Identity::Anonymous,
            retry: RetryClass::Never,
            deadline: None,
            fresh_token: false,
            actor: None,
        }
    }
}

/// The pipeline: one pooled `reqwest` client, the configuration and the limiter.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    config: Config,
    limiter: Arc<dyn Limiter>,
}

impl Http {
    pub(crate) fn new(config: Config, limiter: Arc<dyn Limiter>) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(config.user_agent())
            .connect_timeout(config.connect_timeout())
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        builder = match config.proxy() {
            Some(p) => {
                let mut proxy = reqwest::Proxy::all(p.url.as_str()).map_err(|e| {
                    Error::Config(crate::config::ConfigError::new(
                        "DISCORD_PROXY_URL",
                        e.to_string(),
                    ))
                })?;
                if let Some((user, pass)) = &p.auth {
                    proxy = proxy.basic_auth(user, pass.secret());
                }
                builder.proxy(proxy)
            }
            None => builder.no_proxy(),
        };
        let client = builder.build().map_err(|e| {
            Error::Config(crate::config::ConfigError::new(
                "http client",
                e.to_string(),
            ))
        })?;
        Ok(Self {
            client,
            config,
            limiter,
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Sends `call`, mapping every non-2xx answer to an [`Error`], in a `discord.call` span
    /// (debug level): the route template with its method (never a token or an id of the path), the user's
    /// id when known, then the status, Discord's rate-limit bucket, the attempts made (more than
    /// one is a retry) and the time spent waiting for the rate limiter (`wait_ms`).
    pub(crate) async fn send(&self, call: Call, auth: Auth<'_>) -> Result<Response, Error> {
        use tracing::Instrument as _;
        use tracing::field::Empty;
        let span = tracing::debug_span!(
            "discord.call",
            route = call.route.template(),
            user = call.actor,
            status = Empty,
            bucket = Empty,
            attempts = Empty,
            wait_ms = Empty,
        );
        let result = self.send_in_span(call, auth).instrument(span.clone()).await;
        match &result {
            Ok(resp) => {
                span.record("status", resp.status().as_u16());
                tracing::debug!(parent: &span, "Discord call answered");
            }
            Err(e) => {
                span.record("status", e.status().as_u16());
                tracing::debug!(parent: &span, error = %e, "Discord call failed");
            }
        }
        result
    }

    /// [`send`](Self::send) inside its span.
    async fn send_in_span(&self, call: Call, auth: Auth<'_>) -> Result<Response, Error> {
        let deadline = call
            .deadline
            .unwrap_or_else(|| Instant::now() + self.config.request_timeout());
        let url = self.url_for(&call)?;
        let auth_header = self.auth_header(auth)?;
        let route = &call.route;
        let key = RequestKey {
            route,
            identity: &call.identity,
            // The dead-token guard keys on a fingerprint, never on the token.
            token: match auth {
                Auth::Bearer(t) => Some(Fingerprint::of(t.secret()).short()),
                _ => None,
            },
            fresh_token: call.fresh_token,
            actor: call.actor,
        };
        let mut attempt = 0u32;
        let mut waited_429 = false;
        let mut waited = std::time::Duration::ZERO;
        loop {
            attempt += 1;
            // The limiter waits only while the deadline allows, else fails with RateLimited.
            tracing::Span::current().record("attempts", attempt);
            let wait_started = Instant::now();
            let acquired = self.limiter.acquire(&key, deadline).await;
            waited += wait_started.elapsed();
            let waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
            tracing::Span::current().record("wait_ms", waited_ms);
            acquired?;
            let attempt_deadline =
                retry::attempt_deadline(call.retry, attempt, Instant::now(), deadline);
            let outcome = tokio::time::timeout_at(
                attempt_deadline,
                self.attempt(&call, &url, auth_header.as_ref()),
            )
            .await;
            let (failure, kind) = match outcome {
                Err(_elapsed) if attempt_deadline >= deadline => return Err(Error::Timeout),
                Err(_elapsed) => (Error::Timeout, retry::FailureKind::MaybeSent),
                Ok(Err((e, kind))) => (e, kind),
                Ok(Ok((status, headers, body))) => {
                    if let Some(bucket) = headers
                        .get("x-ratelimit-bucket")
                        .and_then(|v| v.to_str().ok())
                    {
                        tracing::Span::current().record("bucket", bucket);
                    }
                    self.limiter.observe(&key, status, &headers).await;
                    if status.is_success() {
                        return Ok(Response::new(
                            status,
                            headers,
                            body,
                            route.path().to_owned(),
                        ));
                    }
                    let err = map_error(route, auth, status, &headers, &body);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        // Discord did not process a 429'd request
                        // (https://discord.com/developers/docs/topics/rate-limits): send it once
                        // more after the wait, for every method, if the wait fits.
                        let wait = err.retry_after().unwrap_or_default();
                        if !waited_429 && Instant::now() + wait < deadline {
                            waited_429 = true;
                            attempt -= 1;
                            tracing::debug!(path = %route.redacted_path(), wait_ms = wait.as_millis() as u64, "waiting out a 429");
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        return Err(err);
                    }
                    (err, retry::FailureKind::Status(status))
                }
            };
            if !retry::may_retry(call.retry, kind, attempt) {
                return Err(failure);
            }
            let pause = retry::backoff(attempt);
            if Instant::now() + pause >= deadline {
                return Err(failure);
            }
            tracing::debug!(path = %route.redacted_path(), attempt, error = %failure, "retrying Discord call");
            tokio::time::sleep(pause).await;
        }
    }

    /// Sends `call` and decodes a JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        call: Call,
        auth: Auth<'_>,
    ) -> Result<T, Error> {
        self.send(call, auth).await?.json()
    }

    async fn attempt(
        &self,
        call: &Call,
        url: &str,
        auth: Option<&HeaderValue>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), (Error, retry::FailureKind)> {
        use retry::FailureKind::{MaybeSent, NotSent, Other};
        let mut req = self.client.request(call.route.method().clone(), url);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        let mut headers = call.headers.clone();
        if let Some(auth) = auth {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        match &call.body {
            Body::Empty => {}
            Body::Json(bytes) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                req = req.body(bytes.clone());
            }
            Body::Form(form) => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                req = req.body(form.clone());
            }
        }
        let resp = req.headers(headers).send().await.map_err(|e| {
            // A connect error (DNS, TCP, TLS) proves the request never left.
            let kind = if e.is_connect() { NotSent } else { MaybeSent };
            (transport_error(e), kind)
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err((
                Error::Decode {
                    route: call.route.redacted_path(),
                    reason: "answer too large".into(),
                },
                Other,
            ));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| (transport_error(e), MaybeSent))?;
        if body.len() > MAX_BODY {
            return Err((
                Error::Decode {
                    route: call.route.redacted_path(),
                    reason: "answer too large".into(),
                },
                Other,
            ));
        }
        Ok((status, headers, body))
    }

    /// The URL of a call: the configured token or revoke URL, or the route under the API base.
    fn url_for(&self, call: &Call) -> Result<String, Error> {
        let config = &self.config;
        let route = &call.route;
        match route.endpoint() {
            Endpoint::Token => return Ok(config.token_url().to_string()),
            Endpoint::Revoke => return Ok(config.revoke_url().to_string()),
            _ => {}
        }
        let mut url = format!("{}{}", config.api_base(), route.path());
        if let Some(q) = route.query() {
            url.push('?');
            url.push_str(q);
        }
        // Defence in depth: the result must still be under the API base.
        let parsed = url::Url::parse(&url).map_err(|e| Error::InvalidRoute(e.to_string()))?;
        let base = config.base_url();
        if parsed.host() != base.host()
            || parsed.port_or_known_default() != base.port_or_known_default()
            || parsed.scheme() != base.scheme()
        {
            return Err(Error::InvalidRoute("route leaves the API host".into()));
        }
        Ok(url)
    }

    fn auth_header(&self, auth: Auth<'_>) -> Result<Option<HeaderValue>, Error> {
        let config = &self.config;
        let value = match auth {
            Auth::None => return Ok(None),
            Auth::Bearer(token) => format!("Bearer {}", token.secret()),
            Auth::Bot => {
                let token = config.bot_token().ok_or(Error::NoBotToken)?;
                format!("Bot {}", token.secret())
            }
            Auth::Client => {
                use base64::Engine as _;
                // RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
                let id = config.client_id().to_string();
                let secret: String = url::form_urlencoded::byte_serialize(
                    config.client_secret().secret().as_bytes(),
                )
                .collect();
                let raw = format!("{id}:{secret}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
        };
        // A token a header cannot carry: a stored user token is unusable (log in again), a
        // configured one is a configuration fault. Token answers are checked when received.
        let mut value = HeaderValue::from_str(&value).map_err(|_| match auth {
            Auth::Bearer(_) => Error::Unauthorized,
            Auth::Bot => Error::BotUnauthorized,
            _ => Error::Config(crate::config::ConfigError::new(
                "DISCORD_CLIENT_SECRET",
                "contains characters not allowed in a header",
            )),
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout;
    }
    // reqwest's Display may include the URL; our URLs carry no secrets (tokens travel in headers
    // and bodies), but keep the cause without it to stay terse.
    Error::Transport(Arc::new(e.without_url()))
}

#[derive(serde::Deserialize)]
struct DiscordErrorBody {
    /// An integer in the documentation and the spec; a string (or anything else) is read as
    /// well, so that the message and the field errors are never lost over the code's type.
    #[serde(default, deserialize_with = "lenient_code")]
    code: Option<u64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

/// Discord's error `code`: a JSON integer or a decimal string; anything else is `None`.
fn lenient_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(
        match <Option<serde_json::Value> as serde::Deserialize>::deserialize(d)? {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        },
    )
}

#[derive(serde::Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(serde::Deserialize)]
struct RateLimitBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after: Option<f64>,
    #[serde(default)]
    global: Option<bool>,
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, "content-type")
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"))
}

/// Turns a non-2xx answer into a typed error
/// ([Discord: Error Messages](https://discord.com/developers/docs/reference#error-messages)).
fn map_error(
    route: &Route,
    auth: Auth<'_>,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return rate_limited(headers, body);
    }
    if route.is_oauth()
        && let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(body)
    {
        return Error::OAuth {
            status,
            error: e.error,
            description: e.error_description,
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        match auth {
            Auth::Bot => return Error::BotUnauthorized,
            Auth::Bearer(_) => return Error::Unauthorized,
            Auth::None | Auth::Client => {}
        }
    }
    let parsed = serde_json::from_slice::<DiscordErrorBody>(body).ok();
    let (code, message, errors) = match parsed {
        Some(b) => (
            b.code.unwrap_or(0),
            b.message
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
            b.errors.map(Box::new),
        ),
        None => {
            let what = if status.is_redirection() {
                "unexpected redirect (not followed)".to_owned()
            } else {
                format!(
                    "{} (non-JSON body)",
                    status.canonical_reason().unwrap_or("error")
                )
            };
            (0, what, None)
        }
    };
    tracing::debug!(path = %route.redacted_path(), status = status.as_u16(), code, "Discord error answer");
    Error::Api {
        status,
        code,
        message,
        errors,
    }
}

/// Builds [`Error::RateLimited`] from a 429: `retry_after` is float **seconds** since API v8;
/// `Retry-After` is the rounded-up integer; a non-JSON body (a Cloudflare ban page) still gives a
/// typed error (Flask-Discord raised `JSONDecodeError`, bug B6).
pub(crate) fn rate_limited(headers: &HeaderMap, body: &[u8]) -> Error {
    let json: Option<serde_json::Value> = if is_json(headers) || body.first() == Some(&b'{') {
        serde_json::from_slice(body).ok()
    } else {
        None
    };
    let parsed: Option<RateLimitBody> = json
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let header_secs =
        header_str(headers, RETRY_AFTER.as_str()).and_then(|v| v.trim().parse::<f64>().ok());
    let reset_after =
        header_str(headers, "x-ratelimit-reset-after").and_then(|v| v.trim().parse::<f64>().ok());
    let secs = parsed
        .as_ref()
        .and_then(|b| b.retry_after)
        .or(header_secs)
        .or(reset_after)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0)
        .min(86_400.0);
    let global = parsed.as_ref().and_then(|b| b.global).unwrap_or(false)
        || header_str(headers, "x-ratelimit-global")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let scope = header_str(headers, "x-ratelimit-scope").and_then(RateLimitScope::parse);
    Error::RateLimited {
        retry_after: Duration::from_secs_f64(secs),
        global,
        scope,
        bucket: header_str(headers, "x-ratelimit-bucket").map(str::to_owned),
        message: parsed
            .and_then(|b| b.message)
            .unwrap_or_else(|| "You are being rate limited.".to_owned()),
        json: json.map(Box::new),
        headers: Box::new(headers.clone()),
    }
}
