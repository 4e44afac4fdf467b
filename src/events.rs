//! Discord's webhook events (feature `events`): the `POST` requests Discord's servers send to
//! the application's Webhook Events URL
//! ([Discord: Webhook Events](https://discord.com/developers/docs/events/webhook-events)).
//!
//! - [`verify`]: the Ed25519 signature Discord puts on every event, over the bytes of
//!   `X-Signature-Timestamp` followed by the raw body, checked with the application's public key
//!   ([`Config::public_key`](crate::Config::public_key), `DISCORD_PUBLIC_KEY`), and the
//!   timestamp's freshness on the configured clock. Anything missing, malformed, forged or stale
//!   is [`Error::InvalidSignature`] (401, as Discord requires); no key configured is
//!   [`Error::NoPublicKey`] (503).
//! - [`parse`]: the body, as a typed [`WebhookEvent`].
//! - [`DiscordOAuth::handle_event`](crate::DiscordOAuth::handle_event) does both and acts: a
//!   `PING` is answered, `APPLICATION_DEAUTHORIZED` ends every session of that user (also the
//!   ones sealed in cookies, through
//!   [`RevocationList::revoke_user`], and with a
//!   server-side store every record, as
//!   [`logout_everywhere`](crate::DiscordOAuth::logout_everywhere) does), and
//!   `APPLICATION_AUTHORIZED` calls the application's hook
//!   ([`DiscordOAuthBuilder::on_application_authorized`](crate::DiscordOAuthBuilder::on_application_authorized)).
//!   Every accepted event answers 204 ([`EventOutcome::status`]).
//!
//! Framework-neutral: the web layer hands over the request headers and the **raw** body bytes
//! (re-serialized JSON would not verify), and answers with the status. The events come from
//! Discord's servers, not from a browser: do not put the route behind a same-origin check.
//!
//! Why a dependency: Ed25519 verification is exactly what `ed25519-dalek` (2.x, the
//! maintained dalek-cryptography implementation, constant-time, no unsafe in its API) does; it
//! is optional behind the `events` feature so the default build stays lean.
//!
//! Owns: the signature check, the event types, what an event does to sessions. Imports the
//! session machinery, the stores, the error type, the configuration and the models; must not
//! import the client or a web framework.

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::{Signature, VerifyingKey};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::error::{Error, SignatureError};
use crate::models::User;
use crate::session::Sessions;
use crate::store::{RevocationList, StoreError};

/// The header carrying the signature (128 hex digits).
pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
/// The header carrying the signed Unix timestamp (seconds).
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";
/// How old a signed timestamp may be (5 minutes); an older event is refused as a replay.
pub const MAX_AGE_SECS: u64 = 300;
/// How far in the future a signed timestamp may be (clock skew between Discord and this host).
pub const MAX_AHEAD_SECS: u64 = 60;

/// Checks a webhook event's signature: Ed25519 by `public_key` over the bytes of the
/// `X-Signature-Timestamp` header followed by `body`, and a timestamp no older than
/// [`MAX_AGE_SECS`] and no more than [`MAX_AHEAD_SECS`] ahead of `now` (Unix seconds).
///
/// ```
/// # fn f(public_key: &[u8; 32], headers: &http::HeaderMap, body: &[u8], now: u64) {
/// match discord_oauth::events::verify(public_key, headers, body, now) {
///     Ok(()) => { /* from Discord: parse and act */ }
///     Err(e) => assert_eq!(e.status(), 401),
/// }
/// # }
/// ```
///
/// # Errors
/// [`Error::InvalidSignature`] with the reason: a header missing, malformed, a signature that
/// does not verify (or a public key that is not a valid Ed25519 key), a stale timestamp.
pub fn verify(
    public_key: &[u8; 32],
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> Result<(), Error> {
    let refuse = |why| Error::InvalidSignature(why);
    let header = |name: &str| {
        headers
            .get(name)
            .ok_or(refuse(SignatureError::Missing))
            .and_then(|v| v.to_str().map_err(|_| refuse(SignatureError::Malformed)))
            .map(str::trim)
    };
    let signature = header(SIGNATURE_HEADER)?;
    let timestamp = header(TIMESTAMP_HEADER)?;
    let signature = decode_hex::<64>(signature).ok_or(refuse(SignatureError::Malformed))?;
    let signed_at = parse_timestamp(timestamp).ok_or(refuse(SignatureError::Malformed))?;
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| refuse(SignatureError::Invalid))?;
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| refuse(SignatureError::Invalid))?;
    if signed_at.saturating_add(MAX_AGE_SECS) < now
        || signed_at > now.saturating_add(MAX_AHEAD_SECS)
    {
        return Err(refuse(SignatureError::Stale));
    }
    Ok(())
}

/// `N` bytes from exactly `2N` hex digits (either case).
fn decode_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// A Unix time in seconds: decimal digits only.
fn parse_timestamp(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A webhook event, parsed ([`parse`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// `type` 0: Discord checking that the URL answers (answer 204).
    Ping,
    /// `APPLICATION_AUTHORIZED`: a user authorized the application.
    ApplicationAuthorized(ApplicationAuthorized),
    /// `APPLICATION_DEAUTHORIZED`: a user removed the application; their tokens are dead.
    ApplicationDeauthorized(ApplicationDeauthorized),
    /// Any other event (`ENTITLEMENT_CREATE`, ...): accepted and not acted upon.
    Other {
        /// The event's `type`.
        kind: String,
    },
}

/// The data of `APPLICATION_AUTHORIZED`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApplicationAuthorized {
    /// The user who authorized the application.
    pub user_id: u64,
    /// The user object, when it could be read.
    pub user: Option<User>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// `0`: installed to a guild; `1`: to the user's account.
    pub integration_type: Option<u8>,
    /// The guild, for a guild install.
    pub guild_id: Option<u64>,
}

/// The data of `APPLICATION_DEAUTHORIZED`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApplicationDeauthorized {
    /// The user who removed the application.
    pub user_id: u64,
    /// The user object, when it could be read.
    pub user: Option<User>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: u8,
    event: Option<EventBody>,
}

#[derive(Deserialize)]
struct EventBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct EventData {
    user: Option<serde_json::Value>,
    #[serde(default)]
    scopes: Vec<String>,
    integration_type: Option<u8>,
    guild: Option<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// Parses a webhook event's body (after [`verify`]).
///
/// ```
/// use discord_oauth::events::{WebhookEvent, parse};
/// let body = br#"{"version":1,"application_id":"1","type":1,"event":{"type":"APPLICATION_DEAUTHORIZED","timestamp":"2024-10-18T18:41:21.109604","data":{"user":{"id":"80351110224678912","username":"nelly","discriminator":"0","global_name":null,"avatar":null}}}}"#;
/// let WebhookEvent::ApplicationDeauthorized(event) = parse(body)? else { unreachable!() };
/// assert_eq!(event.user_id, 80_351_110_224_678_912);
/// # Ok::<(), discord_oauth::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidRequest`] (400) for a body that is not a webhook event, or an
/// authorization event without a user id.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, Error> {
    let bad = |why: &str| Error::InvalidRequest(format!("malformed webhook event: {why}"));
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| bad("not an event"))?;
    let event = match (envelope.kind, envelope.event) {
        (0, _) => return Ok(WebhookEvent::Ping),
        (1, Some(event)) => event,
        (1, None) => return Err(bad("no event body")),
        (other, _) => {
            return Ok(WebhookEvent::Other {
                kind: format!("webhook type {other}"),
            });
        }
    };
    let kind = event.kind;
    if kind != "APPLICATION_AUTHORIZED" && kind != "APPLICATION_DEAUTHORIZED" {
        return Ok(WebhookEvent::Other { kind });
    }
    let data: EventData = serde_json::from_value(event.data).map_err(|_| bad("bad data"))?;
    let user_json = data.user.ok_or_else(|| bad("no user"))?;
    let user_id = user_json
        .get("id")
        .and_then(serde_json::Value::as_str)
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|id| *id != 0)
        .ok_or_else(|| bad("no user id"))?;
    let user = serde_json::from_value::<User>(user_json).ok();
    Ok(if kind == "APPLICATION_DEAUTHORIZED" {
        WebhookEvent::ApplicationDeauthorized(ApplicationDeauthorized { user_id, user })
    } else {
        WebhookEvent::ApplicationAuthorized(ApplicationAuthorized {
            user_id,
            user,
            scopes: data.scopes,
            integration_type: data.integration_type,
            guild_id: data.guild.and_then(|g| g.id.parse().ok()),
        })
    })
}

/// What [`DiscordOAuth::handle_event`](crate::DiscordOAuth::handle_event) did with an accepted
/// event. Each answers [`status`](Self::status) (204).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventOutcome {
    /// A `PING` was answered.
    Pong,
    /// `APPLICATION_AUTHORIZED`: the hook (if any) was called.
    Authorized {
        /// The user.
        user_id: u64,
    },
    /// `APPLICATION_DEAUTHORIZED`: every session of the user created until now is refused.
    Deauthorized {
        /// The user.
        user_id: u64,
        /// With a server-side store, how many session records were deleted; `None` when
        /// sessions live in cookies (nothing to delete: they are refused by user).
        sessions_deleted: Option<usize>,
    },
    /// Another event, accepted and not acted upon.
    Ignored,
}

impl EventOutcome {
    /// The status to answer Discord with: 204 No Content, for every accepted event.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::NO_CONTENT
    }
}

/// A callback for `APPLICATION_AUTHORIZED`.
pub(crate) type AuthorizedHook = Arc<dyn Fn(&ApplicationAuthorized) + Send + Sync>;

/// The application's event hooks.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_authorized: Option<AuthorizedHook>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_authorized", &self.on_authorized.is_some())
            .finish()
    }
}

/// What handling events needs beyond the sessions: the revocation list (for user-level
/// revocations), the sessions' absolute lifetime, the hooks.
#[derive(Debug)]
pub(crate) struct Events {
    revocations: Arc<dyn RevocationList>,
    absolute_lifetime: u64,
    hooks: Hooks,
}

impl Events {
    pub(crate) fn new(
        revocations: Arc<dyn RevocationList>,
        absolute_lifetime: u64,
        hooks: Hooks,
    ) -> Self {
        Self {
            revocations,
            absolute_lifetime,
            hooks,
        }
    }

    /// Verifies, parses and acts on one event.
    pub(crate) async fn handle(
        &self,
        sessions: &Sessions,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<EventOutcome, Error> {
        let key = sessions.config().public_key().ok_or(Error::NoPublicKey)?;
        verify(key, headers, body, sessions.now())?;
        match parse(body)? {
            WebhookEvent::Ping => Ok(EventOutcome::Pong),
            WebhookEvent::ApplicationDeauthorized(event) => {
                let deleted = self.deauthorize(sessions, event.user_id).await?;
                tracing::info!(
                    user_id = event.user_id,
                    "the application was deauthorized: the user's sessions are ended"
                );
                Ok(EventOutcome::Deauthorized {
                    user_id: event.user_id,
                    sessions_deleted: deleted,
                })
            }
            WebhookEvent::ApplicationAuthorized(event) => {
                if let Some(hook) = &self.hooks.on_authorized {
                    hook(&event);
                }
                Ok(EventOutcome::Authorized {
                    user_id: event.user_id,
                })
            }
            WebhookEvent::Other { kind } => {
                tracing::debug!(%kind, "webhook event ignored");
                Ok(EventOutcome::Ignored)
            }
        }
    }

    /// Ends every session of `user_id`: refused by user from now on (cookies included), and
    /// with a server-side store deleted (their cached data with them). Both are tried; the
    /// first failure is reported (a store failure answers 503, and Discord sends the event
    /// again). `Some(deleted)` with a server-side store.
    ///
    /// Data cached for a session kept in a cookie cannot be found without its id: it is
    /// unreachable once the session is refused, and expires with its TTL.
    pub(crate) async fn deauthorize(
        &self,
        sessions: &Sessions,
        user_id: u64,
    ) -> Result<Option<usize>, Error> {
        let now = sessions.now();
        let until = now.saturating_add(self.absolute_lifetime);
        let by_user = self.revocations.revoke_user(user_id, now, until).await;
        let deleted = match sessions.end_user_sessions(user_id).await {
            Ok(n) => Ok(Some(n)),
            // Sessions in cookies (or a store without a per-user index): nothing to delete.
            Err(Error::Store(cause))
                if matches!(
                    cause.downcast_ref::<StoreError>(),
                    Some(StoreError::Unsupported(_))
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        };
        match (by_user, deleted) {
            (Ok(()), deleted) => deleted,
            // A list without user revocations: enough when every record was deleted.
            (Err(StoreError::Unsupported(_)), Ok(Some(n))) => {
                tracing::warn!(
                    "the revocation list cannot revoke by user; the user's stored sessions were deleted"
                );
                Ok(Some(n))
            }
            (Err(e), _) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_timestamps_are_strict() {
        assert_eq!(decode_hex::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(decode_hex::<2>("0aF"), None);
        assert_eq!(decode_hex::<2>("0aFg"), None);
        assert_eq!(decode_hex::<2>("+a0f"), None);
        assert_eq!(decode_hex::<1>("é"), None);
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000));
        for bad in ["", "-1", "1.5", "17e8", " 1", "99999999999999999999999"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn events_parse_into_types() {
        assert_eq!(
            parse(br#"{"type":0,"version":1}"#).unwrap(),
            WebhookEvent::Ping
        );
        let other = parse(br#"{"type":1,"event":{"type":"ENTITLEMENT_CREATE","data":{}}}"#);
        assert!(
            matches!(other.unwrap(), WebhookEvent::Other { kind } if kind == "ENTITLEMENT_CREATE")
        );
        let auth = parse(
            br#"{"type":1,"event":{"type":"APPLICATION_AUTHORIZED","data":{"integration_type":0,"scopes":["bot"],"user":{"id":"42"},"guild":{"id":"7"}}}}"#,
        )
        .unwrap();
        let WebhookEvent::ApplicationAuthorized(a) = auth else {
            panic!("{auth:?}")
        };
        assert_eq!(
            (a.user_id, a.guild_id, a.integration_type),
            (42, Some(7), Some(0))
        );
        assert_eq!(a.scopes, ["bot"]);
        for bad in [
            &b"not json"[..],
            br#"{"type":1}"#,
            br#"{"type":1,"event":{"type":"APPLICATION_DEAUTHORIZED","data":{}}}"#,
            br#"{"type":1,"event":{"type":"APPLICATION_DEAUTHORIZED","data":{"user":{"id":"x"}}}}"#,
            br#"{"type":"0"}"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
    }
}
