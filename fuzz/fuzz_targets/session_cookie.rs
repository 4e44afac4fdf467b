//! The session cookie and the pending-login cookie, through the public path
//! (`DiscordOAuth::session(headers)`, then loading the session or completing a callback).
//!
//! The first byte picks the mode, the rest is the input:
//! - 0: raw `Cookie` header bytes (several headers, split on `\n`), to an application with
//!   sessions in the cookie and to one with a store;
//! - 1: a plaintext sealed with the app's key as the session cookie (sessions in the cookie):
//!   the session-record decoder and everything after it (expiry, revocation, idle touch);
//! - 2: the same with a store (the cookie carries a 16-byte id; `[7; 16]` is a live record);
//! - 3: a plaintext sealed as the pending-login cookie, then the callback with each state it
//!   holds (and a foreign one): the pending-slots decoder and the state checks.
//!
//! Never a panic; loading never fails (the stores are in memory), never reaches Discord.
#![no_main]

#[path = "../common.rs"]
mod common;

use std::sync::{Arc, OnceLock};

use discord_oauth::__fuzz::{self, CookieKind, Sealer};
use discord_oauth::store::MemoryTokenStore;
use discord_oauth::{DiscordOAuth, SessionRecord, TokenStore};
use http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;

struct Env {
    in_cookie: DiscordOAuth,
    in_store: DiscordOAuth,
    sealer: Sealer,
    rt: tokio::runtime::Runtime,
}

/// A live record (the seeds' and the store's), as the session cookie carries it.
fn live_record() -> SessionRecord {
    serde_json::from_value(serde_json::json!({
        "id": [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
        "version": 1,
        "access_token": "fuzz-access-token",
        "refresh_token": "fuzz-refresh-token",
        "scopes": "identify guilds",
        "user_id": 80_351_110_224_678_912u64,
        "expires_at": common::NOW + 3600,
        "created_at": common::NOW - 60,
        "seen_at": common::NOW - 60,
    }))
    .expect("a record")
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = common::runtime();
        let store = Arc::new(MemoryTokenStore::new());
        rt.block_on(store.save(&live_record(), None, 3600))
            .expect("saved");
        let in_store = DiscordOAuth::builder(common::config().build().expect("config"))
            .token_store(store)
            .build()
            .expect("client");
        Env {
            in_cookie: common::client(),
            in_store,
            sealer: Sealer::new(&common::config().build().expect("config")),
            rt,
        }
    })
}

fn load(env: &Env, client: &DiscordOAuth, headers: &HeaderMap) {
    let session = client.session(headers);
    env.rt.block_on(async {
        let record = session.record().await;
        let record = record.expect("loading from memory never fails");
        assert_eq!(session.authorized().await, record.is_some());
        let _ = session.check_same_origin();
        let _ = session.carries_session_cookie();
    });
    for cookie in session.take_set_cookies() {
        assert!(cookie.to_str().is_ok(), "Set-Cookie is visible ASCII");
    }
}

fn cookie_header(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("{name}={value}")).expect("a sealed cookie is a header"),
    );
    headers
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let env = env();
    match mode % 4 {
        0 => {
            let mut headers = HeaderMap::new();
            for line in input.split(|b| *b == b'\n') {
                if let Ok(value) = HeaderValue::from_bytes(line) {
                    headers.append(COOKIE, value);
                }
            }
            load(env, &env.in_cookie, &headers);
            load(env, &env.in_store, &headers);
        }
        1 | 2 => {
            if let Some(record) = __fuzz::decode_record(input) {
                let again = __fuzz::encode_record(&record);
                assert_eq!(__fuzz::decode_record(&again), Some(record), "round trip");
            }
            let sealed = env.sealer.seal(CookieKind::Session, input);
            assert_eq!(
                env.sealer.open(CookieKind::Session, &sealed).as_deref(),
                Some(input)
            );
            let headers = cookie_header(env.sealer.name(CookieKind::Session), &sealed);
            let client = if mode % 4 == 1 {
                &env.in_cookie
            } else {
                &env.in_store
            };
            load(env, client, &headers);
        }
        _ => {
            let sealed = env.sealer.seal(CookieKind::Pending, input);
            let headers = cookie_header(env.sealer.name(CookieKind::Pending), &sealed);
            let mut states = __fuzz::pending_states(input).unwrap_or_default();
            states.push("foreign-state".to_owned());
            for state in states.iter().take(6) {
                let state: String =
                    url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
                // No code, or Discord's error: refused before any token request.
                for query in [
                    format!("state={state}"),
                    format!("state={state}&error=access_denied&code=x"),
                    format!("state={state}&code=bad%20code"),
                ] {
                    let session = env.in_cookie.session(&headers);
                    let result = env.rt.block_on(session.callback(&query));
                    let e = result.err().expect("no code exchange can succeed offline");
                    common::assert_offline(&e);
                    let _ = session.take_set_cookies();
                }
            }
        }
    }
});
