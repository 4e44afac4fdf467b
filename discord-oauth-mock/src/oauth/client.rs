//! What the token and revoke endpoints share: form-encoded bodies only, client authentication by
//! HTTP Basic or by the body, and the PKCE verifier check
//! (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>; PKCE:
//! <https://discord.com/developers/docs/discord-social-sdk/development-guides/account-linking-with-discord>).
//!
//! A leaf of `oauth`: must not import its siblings.

use crate::state::Shared;
use crate::util::{form_decode, get, parse_form, snowflake};
use axum::http::{header, request::Parts};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The outcome of client authentication.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ClientAuth {
    /// The right client id and secret.
    Confidential,
    /// The right client id and no secret (empty or absent): acceptable only from a public
    /// client, and only where the caller allows it (PKCE exchange, refresh, revoke).
    NoSecret,
    /// Wrong id or secret, or a malformed `Authorization` header.
    Invalid,
}

/// Client credentials from HTTP Basic or the body. The `Basic` scheme is matched
/// case-insensitively (RFC 7235 §2.1) and its user and password are form-urlencoded
/// (RFC 6749 §2.3.1), so they are decoded before the comparison.
pub(super) fn client_auth(shared: &Shared, parts: &Parts, form: &[(String, String)]) -> ClientAuth {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let basic = header.and_then(|v| {
        let (scheme, rest) = v.trim_start().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(rest)
    });
    let (id, secret) = match basic {
        Some(b) => match basic_credentials(b) {
            Some((i, s)) => (Some(i), Some(s)),
            None => return ClientAuth::Invalid,
        },
        None => (
            get(form, "client_id").map(str::to_owned),
            get(form, "client_secret").map(str::to_owned),
        ),
    };
    if id.as_deref().and_then(snowflake) != Some(shared.client_id) {
        return ClientAuth::Invalid;
    }
    match secret.as_deref() {
        None | Some("") => ClientAuth::NoSecret,
        Some(s) if s == shared.client_secret => ClientAuth::Confidential,
        Some(_) => ClientAuth::Invalid,
    }
}

/// Decodes the credentials of a `Basic` header: base64 of `id:secret`, each form-urlencoded.
fn basic_credentials(b: &str) -> Option<(String, String)> {
    let pair = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (i, sec) = pair.split_once(':')?;
    Some((form_decode(i)?, form_decode(sec)?))
}

/// The form of a token or revoke request. Form-encoded only: a JSON (or any other) body reads
/// as an empty form, as on Discord.
pub(super) fn form(parts: &Parts, body: &[u8]) -> Vec<(String, String)> {
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if is_form {
        parse_form(body)
    } else {
        Vec::new()
    }
}

/// Checks a PKCE verifier (43 to 128 characters of `[A-Za-z0-9-._~]`) against an S256 challenge.
pub(super) fn verifier_ok(verifier: &str, challenge: &str) -> bool {
    let shape = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    shape
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()))
            == challenge
}
