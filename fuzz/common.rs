//! What every target shares: an application configured offline (its Discord is a closed port on
//! 127.0.0.1 that no target may reach: reaching it is a failure), on a fixed clock so that
//! seeds stay valid and runs are reproducible.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use discord_oauth::clock::ManualClock;
use discord_oauth::{Config, DiscordOAuth, Error};

/// The application's redirect URI (its origin is the app's origin).
pub const REDIRECT: &str = "http://127.0.0.1:5000/callback";
/// The app's origin.
pub const ORIGIN: &str = "http://127.0.0.1:5000";
/// Where "Discord" lives: port 9 (discard) on loopback, closed. Never reached by a target.
pub const NOWHERE: &str = "http://127.0.0.1:9";
/// The fixed time of every target (2027-01-15T08:00:00Z).
pub const NOW: u64 = 1_800_000_000;
/// The `SECRET_KEY` of every target (the seeds are sealed with it).
pub const SECRET_KEY: &str = "fuzz-secret-key-fuzz-secret-key-fuzz-secret-key!";
/// The webhook signing key's seed (the public key is configured).
pub const SIGNING_SEED: [u8; 32] = [7; 32];

pub fn config() -> discord_oauth::config::ConfigBuilder {
    let clock = ManualClock::at(SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
    let public = ed25519_dalek::SigningKey::from_bytes(&SIGNING_SEED).verifying_key();
    let hex: String = public
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Config::builder()
        .client_id(1_234_567_890)
        .client_secret("fuzz-client-secret")
        .redirect_uri(REDIRECT)
        .bot_token("fuzz.bot.token")
        .base_url(NOWHERE)
        .cdn_url(NOWHERE)
        .secret_key(SECRET_KEY)
        .public_key(hex)
        .request_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(100))
        .clock(Arc::new(clock))
}

pub fn client() -> DiscordOAuth {
    DiscordOAuth::new(config().build().expect("config")).expect("client")
}

/// A single-threaded runtime with timers, for the targets' async calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

/// Fails when an error shows that a request went out (the targets are offline), or is a 500.
pub fn assert_offline(e: &Error) {
    assert!(
        !matches!(e, Error::Transport(_) | Error::Timeout),
        "a target reached the network: {e:?}"
    );
    assert_ne!(e.status(), http::StatusCode::INTERNAL_SERVER_ERROR, "{e:?}");
}
