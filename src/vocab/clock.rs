//! The `Clock` seam: every expiry decision (state age, token expiry, refresh-ahead, cookie
//! lifetimes, cache TTLs, store expiry, rate-limit windows) asks a [`Clock`] for the wall time,
//! so tests can move time without sleeping.
//!
//! - [`SystemClock`]: the real clock, the default of the client and the stores.
//! - [`TimerClock`]: wall time that advances with Tokio's timer (and its paused test clock): the
//!   rate limiter's default, since it sleeps until the times it computes.
//! - [`ManualClock`]: moves only when told to, for tests.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time as whole seconds since the Unix epoch.
    fn unix_now(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// The current time as whole milliseconds since the Unix epoch.
    fn unix_millis(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The real clock as a shared [`Clock`] (the default wherever a clock can be given).
#[must_use]
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Wall time that advances with Tokio's timer: the wall time when it was made plus Tokio's
/// monotonic time since. Under a paused Tokio test clock it moves with `tokio::time::advance`,
/// so a component that sleeps until a computed time (the rate limiter) stays consistent.
/// Must be created inside a Tokio runtime when the paused clock is used.
#[derive(Debug, Clone, Copy)]
pub struct TimerClock {
    wall: SystemTime,
    start: tokio::time::Instant,
}

impl TimerClock {
    /// A clock anchored now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            wall: SystemTime::now(),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TimerClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TimerClock {
    fn now(&self) -> SystemTime {
        self.wall + self.start.elapsed()
    }
}

/// The real clock ([`SystemTime::now`]). The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; for tests.
///
/// ```
/// use std::time::Duration;
/// use discord_oauth::clock::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now().duration_since(t0).unwrap(), Duration::from_secs(600));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A manual clock starting at the current real time.
    #[must_use]
    pub fn new() -> Self {
        Self::at(SystemTime::now())
    }

    /// A manual clock starting at `time`.
    #[must_use]
    pub fn at(time: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(time)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock.
    pub fn set(&self, time: SystemTime) {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = time;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
