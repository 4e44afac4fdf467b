//! Retry policy: which failed attempts may be sent again, and how long to back off.
//!
//! Only idempotent requests are retried, on 502/503/504, timeouts of one attempt and connection
//! failures, with jittered exponential backoff, and only while the call's overall deadline
//! allows. A code exchange or a refresh that may have reached Discord is never retried (a
//! second exchange of the same code fails, and a second refresh would burn a rotated token).

use std::time::Duration;

use http::{Method, StatusCode};

/// Whether a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// Idempotent by method (GET, HEAD, PUT, DELETE, OPTIONS): retried on transient failures.
    Idempotent,
    /// Never retried once it may have reached Discord (POST, PATCH, token endpoint calls).
    Never,
}

impl RetryClass {
    pub(crate) fn for_method(method: &Method) -> Self {
        if method.is_idempotent() {
            Self::Idempotent
        } else {
            Self::Never
        }
    }
}

/// Attempts at most (the first one included).
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// Whether an answer with this status is worth another attempt.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

/// The backoff before attempt `attempt` (1-based count of attempts already made):
/// 100 ms, 200 ms, ... with "full jitter" (a uniform fraction of it), capped at 2 s.
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
    // Full jitter, but never below half of the base so that a retry is not instantaneous.
    let ms = base_ms / 2 + (base_ms / 2) * u64::from(jitter) / u64::from(u16::MAX);
    Duration::from_millis(ms)
}
