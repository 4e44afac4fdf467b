//! What a call returns: the status, headers and body of a 2xx answer, decoded as JSON or text
//! by content type, as Flask-Discord's `request()` does.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A successful (2xx) answer from Discord.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    route: String,
}

/// A body decoded by content type: Flask-Discord's `request()` returns "a dict if the content type is
/// `application/json`, otherwise the raw text".
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// An `application/json` body.
    Json(serde_json::Value),
    /// Any other body, as text.
    Text(String),
    /// No body (e.g. 204 No Content).
    Empty,
}

impl Payload {
    /// The JSON value, if this is JSON.
    #[must_use]
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Json(v) => Some(v),
            _ => None,
        }
    }
}

impl Response {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: Bytes, route: String) -> Self {
        Self {
            status,
            headers,
            body,
            route,
        }
    }

    /// The HTTP status (2xx).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// Decodes the body as JSON into `T`.
    ///
    /// # Errors
    /// [`Error::Decode`] when the body is not the expected JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode(&self.route, &self.body)
    }

    /// The body decoded by content type ([`Payload`]).
    ///
    /// # Errors
    /// [`Error::Decode`] when the content type says JSON but the body is not JSON, or the
    /// body is not UTF-8 text.
    pub fn payload(&self) -> Result<Payload, Error> {
        if self.body.is_empty() {
            return Ok(Payload::Empty);
        }
        let is_json = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
        if is_json {
            return decode(&self.route, &self.body).map(Payload::Json);
        }
        String::from_utf8(self.body.to_vec())
            .map(Payload::Text)
            .map_err(|_| Error::Decode {
                route: crate::route::redact_path(&self.route),
                reason: "the body is neither JSON nor UTF-8 text".into(),
            })
    }
}

/// Decodes JSON, turning a failure into [`Error::Decode`] that names the route but never
/// includes the body (it may hold tokens).
pub(crate) fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        route: crate::route::redact_path(route),
        reason: format!(
            "{} at line {} column {}",
            classify(&e),
            e.line(),
            e.column()
        ),
    })
}

fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected JSON shape",
        Category::Eof => "truncated JSON",
    }
}
