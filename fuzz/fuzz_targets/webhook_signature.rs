//! Discord's webhook events (feature `events`): arbitrary headers and body through
//! `events::verify` and `DiscordOAuth::handle_event`. When the input asks for it, the harness
//! signs `timestamp || body` with the configured key (a fuzzer cannot forge Ed25519), so the
//! event parser and what an event does are reached too.
//!
//! Never a panic or a 500; a request the harness did not sign is always refused with 401.
#![no_main]

#[path = "../common.rs"]
mod common;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use discord_oauth::events::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use discord_oauth::{DiscordOAuth, Error};
use ed25519_dalek::{Signer, SigningKey};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Timestamp {
    /// Seconds relative to the fixed clock.
    Offset(i16),
    /// Any header bytes.
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Sign `timestamp || body` with the configured key (else `signature` is sent as is).
    sign: bool,
    /// Flip one bit of the signature the harness made.
    tamper: Option<u8>,
    timestamp: Option<Timestamp>,
    signature: Option<Vec<u8>>,
    extra: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
}

struct Env {
    client: DiscordOAuth,
    key: SigningKey,
    public: [u8; 32],
    rt: tokio::runtime::Runtime,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let key = SigningKey::from_bytes(&common::SIGNING_SEED);
        Env {
            client: common::client(),
            public: key.verifying_key().to_bytes(),
            key,
            rt: common::runtime(),
        }
    })
}

const EXTRA: &[&str] = &[
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    "content-type",
    "x-other",
];

fuzz_target!(|input: Input| {
    let env = env();
    let mut headers = HeaderMap::new();
    let timestamp: Option<Vec<u8>> = input.timestamp.map(|t| match t {
        Timestamp::Offset(d) => common::NOW
            .saturating_add_signed(i64::from(d))
            .to_string()
            .into_bytes(),
        Timestamp::Raw(raw) => raw,
    });
    if let Some(ts) = &timestamp
        && let Ok(v) = HeaderValue::from_bytes(ts)
    {
        headers.insert(TIMESTAMP_HEADER, v);
    }
    let mut signed = false;
    if input.sign {
        let ts = headers
            .get(TIMESTAMP_HEADER)
            .map(|v| v.to_str().unwrap_or("").trim().as_bytes().to_vec())
            .unwrap_or_default();
        let mut message = ts;
        message.extend_from_slice(&input.body);
        let mut sig = env.key.sign(&message).to_bytes();
        if let Some(bit) = input.tamper {
            sig[usize::from(bit / 8) % 64] ^= 1 << (bit % 8);
        } else {
            signed = true;
        }
        let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(&hex).unwrap());
    } else if let Some(raw) = &input.signature
        && let Ok(v) = HeaderValue::from_bytes(raw)
    {
        headers.insert(SIGNATURE_HEADER, v);
    }
    for (name, value) in input.extra.iter().take(4) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            let name = HeaderName::from_static(EXTRA[usize::from(*name) % EXTRA.len()]);
            headers.append(name, v);
        }
    }
    let verified = events::verify(&env.public, &headers, &input.body, common::NOW);
    if let Err(e) = &verified {
        assert!(matches!(e, Error::InvalidSignature(_)), "{e:?}");
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
    }
    if !signed {
        assert!(verified.is_err(), "an unsigned request verified");
    }
    let _ = events::parse(&input.body);

    let handled = env
        .rt
        .block_on(env.client.handle_event(&headers, &input.body));
    match &handled {
        Ok(outcome) => {
            assert!(verified.is_ok());
            assert_eq!(outcome.status(), StatusCode::NO_CONTENT);
        }
        Err(e) => {
            common::assert_offline(e);
            assert!(
                matches!(
                    e.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
                ),
                "{e:?}"
            );
            if verified.is_err() {
                assert!(matches!(e, Error::InvalidSignature(_)), "{e:?}");
            }
        }
    }
});
