//! Retry policy: which failed attempts may be sent again, and how long to back off.
//!
//! | failure | GET/HEAD/PUT/DELETE/OPTIONS | POST/PATCH | token, refresh, revoke |
//! |---|---|---|---|
//! | connect error (DNS, TCP, TLS: the request never left) | retried | retried | **never** |
//! | 502/503/504 | retried | not retried | never |
//! | attempt timeout, reset after sending | retried | not retried | never |
//! | 429 | once, after the wait, if it fits the deadline | same | same |
//!
//! - Idempotent methods (RFC 9110 §9.2.2) are retried on 502/503/504 (Discord: "502 Gateway
//!   unavailable: wait a bit and retry",
//!   <https://discord.com/developers/docs/topics/opcodes-and-status-codes#http>), on a timed-out attempt and on transport
//!   failures (connection resets), with jittered exponential backoff.
//! - A POST or PATCH that may have reached Discord is not retried blindly: it may have been
//!   applied. A connect error proves it was never sent, so that one is retried.
//! - Token endpoint calls (code exchange, refresh, revoke) are never retried, not even after a
//!   connect error: a second exchange of the same code fails, and a second refresh could burn a
//!   rotated refresh token; the simplest rule that cannot be wrong is "exactly one attempt".
//! - A 429 means Discord did not process the request
//!   (<https://discord.com/developers/docs/topics/rate-limits>), so every call, the
//!   token endpoint included, is sent once more after the advertised wait if that fits in the
//!   deadline; the limiter has recorded the limit by then.
//! - Everything (waits for the limiter, attempts, backoff) happens within one overall deadline.
//!   An idempotent attempt gets half of the remaining time while retries are left, so that a
//!   hung attempt leaves room for another.

use std::time::Duration;

use http::{Method, StatusCode};
use tokio::time::Instant;

/// Whether a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// Idempotent by method (GET, HEAD, PUT, DELETE, OPTIONS): retried on transient failures.
    Idempotent,
    /// POST, PATCH: retried only when the request provably never left (connect error).
    NonIdempotent,
    /// Token endpoint calls: one attempt only (a 429 aside).
    Never,
}

impl RetryClass {
    pub(crate) fn for_method(method: &Method) -> Self {
        if method.is_idempotent() {
            Self::Idempotent
        } else {
            Self::NonIdempotent
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The connection could not be made: the request never left.
    NotSent,
    /// The attempt timed out, or the connection broke after the request may have been sent.
    MaybeSent,
    /// Discord answered with this error status.
    Status(StatusCode),
    /// Anything else (malformed answer...): not retried.
    Other,
}

/// Attempts at most (the first one included), 429 retries not counted.
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// Whether an answer with this status is worth another attempt.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

/// Whether a call of `class` that failed with `kind` on attempt `attempt` (1-based) may be
/// attempted again (time permitting).
pub(crate) fn may_retry(class: RetryClass, kind: FailureKind, attempt: u32) -> bool {
    if attempt >= MAX_ATTEMPTS {
        return false;
    }
    match (class, kind) {
        (RetryClass::Never, _) | (_, FailureKind::Other) => false,
        (_, FailureKind::NotSent) => true,
        (RetryClass::NonIdempotent, _) => false,
        (RetryClass::Idempotent, FailureKind::MaybeSent) => true,
        (RetryClass::Idempotent, FailureKind::Status(s)) => retryable_status(s),
    }
}

/// The deadline of attempt `attempt` (1-based): half of the remaining time for an idempotent
/// call with retries left (so a hung attempt leaves room for another), else the whole deadline.
pub(crate) fn attempt_deadline(
    class: RetryClass,
    attempt: u32,
    now: Instant,
    deadline: Instant,
) -> Instant {
    let remaining = deadline.saturating_duration_since(now);
    if class == RetryClass::Idempotent
        && attempt < MAX_ATTEMPTS
        && remaining >= Duration::from_millis(400)
    {
        now + remaining / 2
    } else {
        deadline
    }
}

/// The backoff before attempt `attempt + 1` (`attempt` = attempts already made, 1-based):
/// a base of 100 ms, 200 ms, 400 ms ... capped at 2 s, jittered uniformly over its upper half,
/// so that many clients failing together do not retry in lockstep.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base_ms = 100u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(2_000);
    let mut b = [0u8; 2];
    let jitter = if getrandom::fill(&mut b).is_ok() {
        u16::from_le_bytes(b)
    } else {
        u16::MAX / 2
    };
    let ms = base_ms / 2 + (base_ms / 2) * u64::from(jitter) / u64::from(u16::MAX);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        use FailureKind::*;
        use RetryClass::*;
        let s503 = Status(StatusCode::SERVICE_UNAVAILABLE);
        let s500 = Status(StatusCode::INTERNAL_SERVER_ERROR);
        assert!(may_retry(Idempotent, s503, 1));
        assert!(!may_retry(Idempotent, s503, MAX_ATTEMPTS));
        assert!(!may_retry(Idempotent, s500, 1));
        assert!(may_retry(Idempotent, MaybeSent, 1));
        assert!(may_retry(Idempotent, NotSent, 1));
        assert!(!may_retry(NonIdempotent, s503, 1));
        assert!(!may_retry(NonIdempotent, MaybeSent, 1));
        assert!(may_retry(NonIdempotent, NotSent, 1));
        for k in [NotSent, MaybeSent, s503, Other] {
            assert!(!may_retry(Never, k, 1));
        }
        assert_eq!(RetryClass::for_method(&Method::GET), Idempotent);
        assert_eq!(RetryClass::for_method(&Method::PUT), Idempotent);
        assert_eq!(RetryClass::for_method(&Method::POST), NonIdempotent);
        assert_eq!(RetryClass::for_method(&Method::PATCH), NonIdempotent);
    }

    #[test]
    fn backoff_is_jittered_and_bounded() {
        for attempt in 1..10 {
            let b = backoff(attempt);
            assert!(b >= Duration::from_millis(50) && b <= Duration::from_millis(2_000));
        }
    }

    #[test]
    fn attempt_deadline_leaves_room() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(2);
        assert_eq!(
            attempt_deadline(RetryClass::Idempotent, 1, now, deadline),
            now + Duration::from_secs(1)
        );
        assert_eq!(
            attempt_deadline(RetryClass::Idempotent, MAX_ATTEMPTS, now, deadline),
            deadline
        );
        assert_eq!(
            attempt_deadline(RetryClass::Never, 1, now, deadline),
            deadline
        );
        assert_eq!(
            attempt_deadline(RetryClass::NonIdempotent, 1, now, deadline),
            deadline
        );
    }
}

/// The pipeline's retry and guard behaviour on paths not public yet (Bearer calls, the token
/// endpoint), against a local server.
#[cfg(test)]
mod pipeline_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::config::Config;
    use crate::error::Error;
    use crate::http::{Auth, Body, Call, Http};
    use crate::ratelimit::{DiscordLimiter, Identity};
    use crate::route::Route;
    use crate::vocab::secret::AccessToken;
    use axum::Router;
    use axum::response::IntoResponse;

    async fn server(hits: Arc<AtomicUsize>, delay: Duration, status: u16) -> String {
        let router = Router::new().fallback(move || {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                (
                    http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    r#"{"message":"401: Unauthorized","code":0}"#,
                )
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        format!("http://{addr}")
    }

    fn http(base: &str, timeout: Duration) -> Http {
        let config = Config::builder()
            .client_id(1)
            .client_secret("s")
            .redirect_uri("http://127.0.0.1/cb")
            .bot_token("t")
            .base_url(base)
            .request_timeout(timeout)
            .build()
            .unwrap();
        Http::new(config, Arc::new(DiscordLimiter::new())).unwrap()
    }

    #[tokio::test]
    async fn token_exchange_not_retried_after_a_timeout() {
        let hits = Arc::new(AtomicUsize::new(0));
        let base = server(hits.clone(), Duration::from_secs(30), 200).await;
        let http = http(&base, Duration::from_millis(800));
        let call = Call::oauth(
            Route::token(),
            Body::Form("grant_type=authorization_code&code=c".into()),
        );
        assert_eq!(call.retry, super::RetryClass::Never);
        let r = http.send(call, Auth::Client).await;
        assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "a code exchange is sent once"
        );
    }

    #[tokio::test]
    async fn a_rejected_bearer_token_is_never_resent() {
        let hits = Arc::new(AtomicUsize::new(0));
        let base = server(hits.clone(), Duration::ZERO, 401).await;
        let http = http(&base, Duration::from_secs(5));
        let token = AccessToken::new("revoked-token");
        for _ in 0..5 {
            let mut call = Call::api(Route::current_user());
            call.identity = Identity::User(1);
            let r = http.send(call, Auth::Bearer(&token)).await;
            assert!(matches!(r, Err(Error::Unauthorized)), "{r:?}");
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "the server saw the dead token once"
        );
        // Another token of the same user (after a refresh) is sent.
        let fresh = AccessToken::new("fresh-token");
        let mut call = Call::api(Route::current_user());
        call.identity = Identity::User(1);
        let _ = http.send(call, Auth::Bearer(&fresh)).await;
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }
}
