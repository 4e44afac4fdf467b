//! **Not an API.** Entry points for the fuzz targets of `fuzz/` (feature `fuzzing`, off by
//! default, hidden from the docs, no semver promise: it may change with any release).
//!
//! Each item reaches an internal parser or check that the public API reaches only through a
//! sealed cookie or a live Discord answer, so that a fuzzer can feed it directly: sealing
//! arbitrary plaintext with the application's keys (the decoders behind AES-256-GCM), the
//! session-record and pending-login decoders, the `next` sanitizer, the authorization-code
//! shape check and the 429 parser. Nothing here changes what the library does.
//!
//! Owns: nothing. Imports the session, store, OAuth2, HTTP and error modules; must not import
//! the client or a web framework.

use http::HeaderMap;

use crate::error::Error;
use crate::store::SessionRecord;

pub use crate::session::fuzzing::{CookieKind, Sealer, pending_states, sanitize_next};

/// A session record as the session cookie carries it (postcard).
#[must_use]
pub fn encode_record(record: &SessionRecord) -> Vec<u8> {
    crate::store::encode_record(record)
}

/// The session-record decoder behind the session cookie; `None` when the bytes do not decode.
#[must_use]
pub fn decode_record(bytes: &[u8]) -> Option<SessionRecord> {
    crate::store::decode_record(bytes).ok()
}

/// Whether the callback's `code` has the shape of an authorization code (checked before any
/// token request).
#[must_use]
pub fn is_plausible_code(code: &str) -> bool {
    crate::oauth::is_plausible_code(code)
}

/// The error a 429 answer with these headers and body becomes (`Retry-After`,
/// `X-RateLimit-*`, the JSON body's `retry_after`).
#[must_use]
pub fn rate_limited(headers: &HeaderMap, body: &[u8]) -> Error {
    crate::http::rate_limited(headers, body)
}
