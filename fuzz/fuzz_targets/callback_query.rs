//! The callback's query string: parsing (`CallbackQuery::parse`), Discord's error escaped for
//! logs, the redacting `Debug`, and the whole `DiscordSession::callback` validation path with a
//! real pending login in the browser. The input is the query string; `STATE` in it is replaced
//! by the pending login's real state so that the fuzzer gets past the state check.
//!
//! Offline: a query that would be exchanged (real state, no error, a plausible code) is not
//! sent through the callback (that is the token request); every other query must be refused
//! before any request, with a 4xx (or 502 when Discord redirected with its own error).
#![no_main]

#[path = "../common.rs"]
mod common;

use std::sync::OnceLock;

use discord_oauth::oauth::CallbackQuery;
use discord_oauth::{__fuzz, DiscordOAuth, Error, LoginOptions};
use http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;

struct Env {
    client: DiscordOAuth,
    /// The browser's cookies after `/login`: the pending-login cookie.
    headers: HeaderMap,
    state: String,
    rt: tokio::runtime::Runtime,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let client = common::client();
        let session = client.session(&HeaderMap::new());
        let url = session
            .create_session(LoginOptions::new().next("/after"))
            .expect("login");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("a state");
        let mut headers = HeaderMap::new();
        for set in session.take_set_cookies() {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            headers.append(COOKIE, HeaderValue::from_str(&pair).unwrap());
        }
        Env {
            client,
            headers,
            state,
            rt: common::runtime(),
        }
    })
}

fn check_escaped(value: &str) {
    assert!(value.len() <= 256, "{} bytes", value.len());
    assert!(
        !value
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
        "{value:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let env = env();
    let query = raw.replace("STATE", &env.state);
    let parsed = CallbackQuery::parse(&query);

    match parsed.error() {
        Some(Error::AccessDenied { description }) => {
            description.as_deref().map(check_escaped);
        }
        Some(Error::OAuth {
            error, description, ..
        }) => {
            check_escaped(&error);
            description.as_deref().map(check_escaped);
        }
        Some(other) => panic!("unexpected error kind {other:?}"),
        None => assert!(parsed.error.is_none()),
    }

    // `Debug` never shows a code or a state (a long alphanumeric one, found nowhere else).
    let shown = format!("{parsed:?}");
    let others = [
        &parsed.error,
        &parsed.error_description,
        &parsed.guild_id,
        &parsed.permissions,
    ];
    for secret in [&parsed.code, &parsed.state].into_iter().flatten() {
        if secret.len() >= 16
            && secret.bytes().all(|b| b.is_ascii_alphanumeric())
            && !others
                .iter()
                // The browser may echo the secret in another field itself; `Debug` escapes
                // (`\r` shows as a backslash and an `r`) can also join it to a neighbour.
                .any(|o| {
                    o.as_deref().is_some_and(|o| {
                        o.contains(secret.as_str()) || format!("{o:?}").contains(secret.as_str())
                    })
                })
        {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
    }

    let would_exchange = parsed.state() == Some(env.state.as_str())
        && parsed.error.is_none()
        && parsed.code().is_some_and(__fuzz::is_plausible_code);
    if would_exchange {
        return;
    }
    let session = env.client.session(&env.headers);
    let e = env
        .rt
        .block_on(session.callback(&query))
        .err()
        .expect("refused");
    common::assert_offline(&e);
    // 4xx, or 502 for an error Discord redirected with (other than Cancel and `invalid_scope`:
    // Discord failed, not the browser).
    assert!(
        e.status().is_client_error()
            || (matches!(e, Error::OAuth { .. }) && e.status() == http::StatusCode::BAD_GATEWAY),
        "{e:?}"
    );
    if parsed.state() != Some(env.state.as_str()) {
        assert!(matches!(e, Error::InvalidState(_)), "{e:?}");
    }
    let _ = session.take_set_cookies();
});
