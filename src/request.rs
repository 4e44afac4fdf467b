//! [`ApiRequest`]: a call to any Discord REST route, under construction — Flask-Discord's
//! `request(route, method, data, oauth, json, headers)` and `bot_request`. The route is parsed
//! and guarded at once ([`Route::parse`]); the call is sent with no token, the bot token, or the
//! user's token through the session's refresh-and-retry path.
//!
//! Owns: the request builder. Imports the pipeline and routes; must not import sessions (a
//! session plugs in through [`UserCalls`]).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::http::{Auth, Body, Call, Http, Payload, Response};
use crate::ratelimit::Identity;
use crate::route::Route;
use crate::vocab::BoxFuture;

/// Sends calls with a user's token (implemented by the session, which refreshes as needed).
pub(crate) trait UserCalls: Sync {
    /// Sends `call` with the user's Bearer token.
    fn send_as_user(&self, call: Call) -> BoxFuture<'_, Result<Response, Error>>;
}

/// Who a request is sent as.
#[derive(Clone, Copy)]
pub(crate) enum Sender<'a> {
    /// No `Authorization` (Flask-Discord's `oauth=False`).
    Anonymous(&'a Http),
    /// The bot token.
    Bot(&'a Http),
    /// The user's token.
    User(&'a dyn UserCalls),
}

/// A request under construction: `request`, `bot_request` or a session's `request`. Nothing
/// is sent until [`send`](Self::send).
///
/// ```no_run
/// # async fn run(discord: discord_oauth::DiscordOAuth) -> Result<(), discord_oauth::Error> {
/// let channel: serde_json::Value = discord
///     .bot_request(http::Method::GET, "/channels/41771983423143937")
///     .audit_log_reason("dashboard")
///     .send_json()
///     .await?;
/// # let _ = channel; Ok(()) }
/// ```
#[must_use = "a request does nothing until `.send()`"]
pub struct ApiRequest<'a> {
    sender: Sender<'a>,
    call: Result<Call, Error>,
}

impl std::fmt::Debug for ApiRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ApiRequest");
        if let Ok(call) = &self.call {
            d.field("method", call.route.method())
                .field("path", &call.route.redacted_path());
        }
        d.finish_non_exhaustive()
    }
}

impl<'a> ApiRequest<'a> {
    pub(crate) fn new(sender: Sender<'a>, method: Method, route: &str) -> Self {
        let call = Route::parse(method, route).map(|route| {
            let mut call = Call::api(route);
            if matches!(sender, Sender::Bot(_)) {
                call.identity = Identity::Bot;
            }
            call
        });
        Self { sender, call }
    }

    fn with_call(mut self, f: impl FnOnce(&mut Call) -> Result<(), Error>) -> Self {
        if let Ok(call) = &mut self.call
            && let Err(e) = f(call)
        {
            self.call = Err(e);
        }
        self
    }

    /// A JSON body (Flask-Discord's `data`/`json`).
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        self.with_call(|call| {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| Error::InvalidRequest(format!("body is not serializable: {e}")))?;
            call.body = Body::Json(Bytes::from(bytes));
            Ok(())
        })
    }

    /// Query parameters, appended to the route.
    pub fn query<K: Into<String>, V: Into<String>>(
        self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.with_call(|call| {
            call.query
                .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
            Ok(())
        })
    }

    /// An extra header (e.g. `X-Audit-Log-Reason`). `Authorization` cannot be set this way.
    pub fn header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.with_call(|call| {
            let name = name.as_ref();
            match (
                HeaderName::try_from(name),
                HeaderValue::from_str(value.as_ref()),
            ) {
                (Ok(n), _) if n == http::header::AUTHORIZATION || n == http::header::HOST => Err(
                    Error::InvalidRequest(format!("the `{n}` header is managed by the client")),
                ),
                (Ok(n), Ok(v)) => {
                    call.headers.append(n, v);
                    Ok(())
                }
                _ => Err(Error::InvalidRequest(format!("invalid header `{name}`"))),
            }
        })
    }

    /// Sets `X-Audit-Log-Reason` (URL-encoded, as Discord requires for non-ASCII reasons).
    pub fn audit_log_reason(self, reason: &str) -> Self {
        let encoded: String = url::form_urlencoded::byte_serialize(reason.as_bytes()).collect();
        self.header("x-audit-log-reason", encoded.replace('+', "%20"))
    }

    /// Sends the request.
    ///
    /// # Errors
    /// Every non-2xx answer, transport failure, timeout or rate limit that could not be waited
    /// out, as a typed [`Error`].
    pub async fn send(self) -> Result<Response, Error> {
        let call = self.call?;
        match self.sender {
            Sender::Anonymous(http) => http.send(call, Auth::None).await,
            Sender::Bot(http) => http.send(call, Auth::Bot).await,
            Sender::User(user) => user.send_as_user(call).await,
        }
    }

    /// Sends the request and decodes the JSON answer into `T`.
    ///
    /// # Errors
    /// As [`send`](Self::send), plus [`Error::Decode`] for an unexpected body.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.send().await?.json()
    }

    /// Sends the request and returns JSON or text by content type, as Flask-Discord's `request`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_payload(self) -> Result<Payload, Error> {
        self.send().await?.payload()
    }
}
