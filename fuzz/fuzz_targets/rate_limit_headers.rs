//! Discord's rate-limit headers and `Retry-After`: an answer's status, headers and body,
//! through the 429 parser (`Error::RateLimited`) and the limiter's `observe`, then `acquire`.
//! Never a panic, a bounded `retry_after`, and `acquire` never waits past its deadline.
#![no_main]

#[path = "../common.rs"]
mod common;

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use discord_oauth::ratelimit::{DiscordLimiter, Identity, LimitError, Limiter, RequestKey};
use discord_oauth::route::Route;
use discord_oauth::{__fuzz, Error};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-reset-after",
    "x-ratelimit-bucket",
    "x-ratelimit-global",
    "x-ratelimit-scope",
    "content-type",
];

#[derive(Arbitrary, Debug)]
struct Answer {
    status: u16,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    identity: u8,
    answers: Vec<Answer>,
}

fn headers_of(answer: &Answer) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &answer.headers {
        let name = HeaderName::from_static(NAMES[usize::from(*name) % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    headers
}

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(common::runtime)
}

fuzz_target!(|input: Input| {
    let route = Route::current_user();
    let identity = match input.identity % 4 {
        0 => Identity::Bot,
        1 => Identity::User(80_351_110_224_678_912),
        2 => Identity::Token(0xfeed),
        _ => Identity::Anonymous,
    };
    let mut key = RequestKey::new(&route, &identity);
    if input.identity & 4 != 0 {
        key = key.with_token(0xfeed).with_actor(42);
    }
    let limiter = DiscordLimiter::new();
    rt().block_on(async {
        for answer in input.answers.iter().take(8) {
            let headers = headers_of(answer);
            match __fuzz::rate_limited(&headers, &answer.body) {
                Error::RateLimited { retry_after, .. } => {
                    assert!(
                        retry_after <= Duration::from_secs(86_400),
                        "{retry_after:?}"
                    );
                }
                other => panic!("a 429 is RateLimited, not {other:?}"),
            }
            let Ok(status) = StatusCode::from_u16(answer.status) else {
                continue;
            };
            limiter.observe(&key, status, &headers).await;
        }
        // Never sleeps: a deadline of now fails at once when a wait is due.
        let deadline = tokio::time::Instant::now();
        let started = std::time::Instant::now();
        match limiter.acquire(&key, deadline).await {
            Ok(()) | Err(LimitError::DeadToken | LimitError::BotUnauthorized) => {}
            Err(LimitError::Limited { retry_after, .. }) => {
                assert!(
                    retry_after <= Duration::from_secs(86_400 * 2),
                    "{retry_after:?}"
                );
            }
            Err(other) => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5), "acquire waited");
    });
});
