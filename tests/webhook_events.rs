//! Discord's webhook events (feature `events`): the Ed25519 signature (good, tampered, wrong
//! key, stale, missing, garbage), the typed outcomes, and a deauthorization ending every
//! session of the user — sealed in cookies, in a memory store, in SQLite, across two
//! instances — while other users' sessions stay and a later login works. Then the user-level
//! revocation of each store (Redis and PostgreSQL tests print a loud SKIPPED line without
//! `REDIS_URL` / `DATABASE_URL`).
//!
//! Events are signed by the fake Discord's key pair (`MockDiscord::signed_event`), never by
//! anything of the library.
#![cfg(feature = "events")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use discord_oauth::clock::{Clock, ManualClock};
use discord_oauth::error::SignatureError;
use discord_oauth::events::EventOutcome;
use discord_oauth::store::{MemoryTokenStore, RevocationList};
use discord_oauth::{DiscordOAuth, DiscordOAuthBuilder, Error, LoginOptions};
use discord_oauth_mock::{MockDiscord, seed};
use http::{HeaderMap, HeaderName, HeaderValue};

// ----- harness ---------------------------------------------------------------------------------

/// A client that trusts `mock`'s key, built through `with`.
fn client(
    mock: &MockDiscord,
    with: impl FnOnce(DiscordOAuthBuilder) -> DiscordOAuthBuilder,
) -> DiscordOAuth {
    let config = config_for(mock)
        .public_key(mock.public_key_hex())
        .build()
        .unwrap();
    with(DiscordOAuth::builder(config)).build().unwrap()
}

/// The same, on `clock`.
fn client_on(
    mock: &MockDiscord,
    clock: &ManualClock,
    with: impl FnOnce(DiscordOAuthBuilder) -> DiscordOAuthBuilder,
) -> DiscordOAuth {
    let config = config_for(mock)
        .public_key(mock.public_key_hex())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    with(DiscordOAuth::builder(config)).build().unwrap()
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

/// `body` signed now by `mock`.
fn signed(mock: &MockDiscord, body: &[u8]) -> (HeaderMap, Vec<u8>) {
    let (headers, body) = mock.signed_event(body);
    (header_map(&headers), body)
}

fn unix_now() -> u64 {
    discord_oauth::clock::SystemClock.unix_now()
}

/// The event was refused with 401 for `why`.
fn refused(result: Result<EventOutcome, Error>, why: SignatureError) {
    match result {
        Err(e @ Error::InvalidSignature(_)) => {
            assert_eq!(e.status(), 401);
            assert!(
                matches!(e, Error::InvalidSignature(got) if got == why),
                "{e}: expected {why:?}"
            );
        }
        other => panic!("expected a 401 ({why:?}), got {other:?}"),
    }
}

async fn logged_in(client: &DiscordOAuth, user: u64) -> Browser {
    let mut browser = Browser::default();
    login(client, &mut browser, user, LoginOptions::new()).await;
    assert!(browser.session(client).authorized().await);
    browser
}

/// Whether `browser`'s session is accepted, asked twice: a fresh handle (the full load, or
/// the remembered cookie on the hot path) both times.
async fn accepted(client: &DiscordOAuth, browser: &Browser) -> bool {
    let first = browser.session(client).authorized().await;
    let second = browser.session(client).authorized().await;
    assert_eq!(first, second, "the hot path and the full load agree");
    first
}

// ----- the signature ---------------------------------------------------------------------------

#[tokio::test]
async fn a_signed_ping_is_answered_with_204() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let (headers, body) = signed(&mock, &mock.ping_event());
    let outcome = client.handle_event(&headers, &body).await.unwrap();
    assert_eq!(outcome, EventOutcome::Pong);
    assert_eq!(outcome.status(), 204);
}

#[tokio::test]
async fn a_tampered_body_is_401() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let (headers, mut body) = signed(&mock, &mock.deauthorized_event(seed::ALICE));
    // Another user's id in the same signed envelope.
    let text = String::from_utf8(body.clone()).unwrap();
    body = text
        .replace(&seed::ALICE.to_string(), &seed::NELLY.to_string())
        .into_bytes();
    refused(
        client.handle_event(&headers, &body).await,
        SignatureError::Invalid,
    );
    // One byte more (re-serialized JSON would not verify either).
    let (headers, mut body) = signed(&mock, &mock.ping_event());
    body.push(b' ');
    refused(
        client.handle_event(&headers, &body).await,
        SignatureError::Invalid,
    );
    // The timestamp is signed too.
    let (mut headers, body) = signed(&mock, &mock.ping_event());
    let ts: u64 = headers["x-signature-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    headers.insert("x-signature-timestamp", HeaderValue::from(ts - 1));
    refused(
        client.handle_event(&headers, &body).await,
        SignatureError::Invalid,
    );
}

#[tokio::test]
async fn another_key_is_401() {
    let mock = mock().await;
    let other = MockDiscord::builder().event_key_seed([7; 32]).start().await;
    assert_ne!(other.public_key_hex(), mock.public_key_hex());
    let client = client(&mock, |b| b);
    let (headers, body) = signed(&other, &other.ping_event());
    refused(
        client.handle_event(&headers, &body).await,
        SignatureError::Invalid,
    );
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_401() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let now = unix_now();
    for (at, ok) in [
        (now - 301, false),
        (now - 3600, false),
        (now + 120, false),
        (now - 290, true),
        (now + 30, true),
    ] {
        let (headers, body) = mock.signed_event_at(&mock.ping_event(), at);
        let result = client.handle_event(&header_map(&headers), &body).await;
        if ok {
            assert_eq!(
                result.unwrap(),
                EventOutcome::Pong,
                "signed at now{:+}",
                at as i64 - now as i64
            );
        } else {
            refused(result, SignatureError::Stale);
        }
    }
}

#[tokio::test]
async fn the_timestamp_is_judged_on_the_configured_clock() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let client = client_on(&mock, &clock, |b| b);
    let (headers, body) = signed(&mock, &mock.ping_event());
    clock.advance(Duration::from_secs(600));
    refused(
        client.handle_event(&headers, &body).await,
        SignatureError::Stale,
    );
}

#[tokio::test]
async fn missing_headers_are_401() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let (headers, body) = signed(&mock, &mock.ping_event());
    for drop in [
        &["x-signature-ed25519"][..],
        &["x-signature-timestamp"],
        &["x-signature-ed25519", "x-signature-timestamp"],
    ] {
        let mut h = headers.clone();
        for name in drop {
            h.remove(*name);
        }
        refused(
            client.handle_event(&h, &body).await,
            SignatureError::Missing,
        );
    }
}

#[tokio::test]
async fn garbage_headers_are_401() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let (headers, body) = signed(&mock, &mock.ping_event());
    let good_sig = headers["x-signature-ed25519"].to_str().unwrap().to_owned();
    let cases: Vec<(&str, HeaderValue, SignatureError)> = vec![
        (
            "x-signature-ed25519",
            HeaderValue::from_static("zz"),
            SignatureError::Malformed,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_str(&"g".repeat(128)).unwrap(),
            SignatureError::Malformed,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_str(&good_sig[..126]).unwrap(),
            SignatureError::Malformed,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_str(&format!("{good_sig}00")).unwrap(),
            SignatureError::Malformed,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
            SignatureError::Malformed,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_str(&"ab".repeat(64)).unwrap(),
            SignatureError::Invalid,
        ),
        (
            "x-signature-ed25519",
            HeaderValue::from_str(&"0".repeat(128)).unwrap(),
            SignatureError::Invalid,
        ),
        (
            "x-signature-timestamp",
            HeaderValue::from_static("soon"),
            SignatureError::Malformed,
        ),
        (
            "x-signature-timestamp",
            HeaderValue::from_static("-5"),
            SignatureError::Malformed,
        ),
        (
            "x-signature-timestamp",
            HeaderValue::from_static(""),
            SignatureError::Malformed,
        ),
    ];
    for (name, value, why) in cases {
        let mut h = headers.clone();
        h.insert(name, value);
        refused(client.handle_event(&h, &body).await, why);
    }
    // The right signature in upper case is the same signature.
    let mut h = headers.clone();
    h.insert(
        "x-signature-ed25519",
        HeaderValue::from_str(&good_sig.to_uppercase()).unwrap(),
    );
    assert_eq!(
        client.handle_event(&h, &body).await.unwrap(),
        EventOutcome::Pong
    );
}

#[tokio::test]
async fn without_a_public_key_events_are_503() {
    let mock = mock().await;
    let client = client_for(&mock);
    let (headers, body) = signed(&mock, &mock.ping_event());
    let e = client.handle_event(&headers, &body).await.unwrap_err();
    assert!(matches!(e, Error::NoPublicKey), "{e}");
    assert_eq!(e.status(), 503);
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400_and_other_events_are_ignored() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let (headers, body) = signed(&mock, b"{\"type\":1}");
    assert_eq!(
        client
            .handle_event(&headers, &body)
            .await
            .unwrap_err()
            .status(),
        400
    );
    let (headers, body) = signed(&mock, b"not json at all");
    assert_eq!(
        client
            .handle_event(&headers, &body)
            .await
            .unwrap_err()
            .status(),
        400
    );
    let entitlement = br#"{"version":1,"application_id":"1","type":1,"event":{"type":"ENTITLEMENT_CREATE","timestamp":"2024-10-18T18:41:21.109604","data":{}}}"#;
    let (headers, body) = signed(&mock, entitlement);
    let outcome = client.handle_event(&headers, &body).await.unwrap();
    assert_eq!(outcome, EventOutcome::Ignored);
    assert_eq!(outcome.status(), 204);
}

#[tokio::test]
async fn the_authorized_hook_sees_the_user_and_scopes() {
    let mock = mock().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let client = client(&mock, move |b| {
        b.on_application_authorized(move |event| {
            sink.lock()
                .unwrap()
                .push((event.user_id, event.scopes.clone(), event.user.is_some()));
        })
    });
    let (headers, body) = signed(
        &mock,
        &mock.authorized_event(seed::ALICE, &["identify", "applications.commands"]),
    );
    let outcome = client.handle_event(&headers, &body).await.unwrap();
    assert_eq!(
        outcome,
        EventOutcome::Authorized {
            user_id: seed::ALICE
        }
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            seed::ALICE,
            vec!["identify".to_owned(), "applications.commands".to_owned()],
            true
        )]
    );
}

// ----- deauthorization ---------------------------------------------------------------------------

/// Deauthorizes `user` through a signed event; the outcome.
async fn deauthorize(mock: &MockDiscord, client: &DiscordOAuth, user: u64) -> EventOutcome {
    mock.revoke_user_grants(user);
    let (headers, body) = signed(mock, &mock.deauthorized_event(user));
    let outcome = client.handle_event(&headers, &body).await.unwrap();
    assert_eq!(outcome.status(), 204);
    outcome
}

#[tokio::test]
async fn a_deauthorization_ends_the_users_cookie_sessions_and_spares_others() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let alice = logged_in(&client, seed::ALICE).await;
    let alice_phone = logged_in(&client, seed::ALICE).await;
    let nelly = logged_in(&client, seed::NELLY).await;
    // Remembered on the hot path before the event.
    assert!(accepted(&client, &alice).await && accepted(&client, &alice_phone).await);

    let outcome = deauthorize(&mock, &client, seed::ALICE).await;
    assert_eq!(
        outcome,
        EventOutcome::Deauthorized {
            user_id: seed::ALICE,
            sessions_deleted: None
        }
    );
    assert!(
        !accepted(&client, &alice).await,
        "Alice's session ends at once"
    );
    assert!(!accepted(&client, &alice_phone).await, "on every device");
    assert!(accepted(&client, &nelly).await, "Nelly's session stays");
    let e = alice
        .session(&client)
        .fetch_user(discord_oauth::Fetch::Cached)
        .await
        .unwrap_err();
    assert_eq!(e.status(), 401);
}

#[tokio::test]
async fn a_deauthorization_deletes_the_records_of_a_server_store() {
    let mock = mock().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = client(&mock, |b| b.token_store(store.clone()));
    let alice = logged_in(&client, seed::ALICE).await;
    let nelly = logged_in(&client, seed::NELLY).await;
    assert_eq!(store.len(), 2);
    let outcome = deauthorize(&mock, &client, seed::ALICE).await;
    assert_eq!(
        outcome,
        EventOutcome::Deauthorized {
            user_id: seed::ALICE,
            sessions_deleted: Some(1)
        }
    );
    assert_eq!(store.len(), 1);
    assert!(!accepted(&client, &alice).await);
    assert!(accepted(&client, &nelly).await);
}

#[tokio::test]
async fn a_login_after_a_deauthorization_works() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let client = client_on(&mock, &clock, |b| b);
    let before = logged_in(&client, seed::ALICE).await;
    clock.advance(Duration::from_secs(5));
    deauthorize(&mock, &client, seed::ALICE).await;
    assert!(!accepted(&client, &before).await);
    // A login in the very second of the deauthorization is refused too (the documented
    // one-second edge: `created_at` has a one-second resolution)...
    let mut same_second = Browser::default();
    login(&client, &mut same_second, seed::ALICE, LoginOptions::new()).await;
    assert!(!accepted(&client, &same_second).await);
    // ... and a login a second later works, and keeps working.
    clock.advance(Duration::from_secs(1));
    let after = logged_in(&client, seed::ALICE).await;
    clock.advance(Duration::from_secs(3600));
    assert!(accepted(&client, &after).await);
    assert!(
        !accepted(&client, &before).await,
        "the old session stays ended"
    );
}

#[tokio::test]
async fn a_second_deauthorization_is_harmless() {
    let mock = mock().await;
    let client = client(&mock, |b| b);
    let alice = logged_in(&client, seed::ALICE).await;
    deauthorize(&mock, &client, seed::ALICE).await;
    deauthorize(&mock, &client, seed::ALICE).await;
    assert!(!accepted(&client, &alice).await);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use discord_oauth::store::SqliteStore;

    /// A temporary SQLite file, removed (with its WAL files) on drop.
    pub(super) struct TempFile(pub(super) String);

    impl TempFile {
        pub(super) fn new() -> Self {
            let id = discord_oauth::store::SessionId::random().0;
            let name: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let path = std::env::temp_dir().join(format!("discord-oauth-events-{name}.db"));
            Self(path.to_str().unwrap().to_owned())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0));
            }
        }
    }

    #[tokio::test]
    async fn a_deauthorization_deletes_the_sqlite_records_and_refuses_the_user() {
        let file = TempFile::new();
        let store = Arc::new(SqliteStore::open(&file.0).await.unwrap());
        let mock = mock().await;
        let client = client(&mock, |b| {
            b.token_store(store.clone()).revocation_list(store.clone())
        });
        let alice = logged_in(&client, seed::ALICE).await;
        let nelly = logged_in(&client, seed::NELLY).await;
        let outcome = deauthorize(&mock, &client, seed::ALICE).await;
        assert_eq!(
            outcome,
            EventOutcome::Deauthorized {
                user_id: seed::ALICE,
                sessions_deleted: Some(1)
            }
        );
        assert!(!accepted(&client, &alice).await);
        assert!(accepted(&client, &nelly).await);
    }

    /// An instance whose revocation list is the SQLite file at `path`.
    async fn instance(mock: &MockDiscord, path: &str, recheck_ms: u64) -> DiscordOAuth {
        let store = Arc::new(SqliteStore::open(path).await.unwrap());
        client(mock, move |b| {
            b.revocation_list(store)
                .session_recheck(Duration::from_millis(recheck_ms))
        })
    }

    /// Two instances sharing one SQLite file as their revocation list, sessions in cookies:
    /// the event reaches one, the other refuses the user's cookie too.
    #[tokio::test]
    async fn a_deauthorization_reaches_every_instance_sharing_the_list() {
        let file = TempFile::new();
        let mock = mock().await;
        let a = instance(&mock, &file.0, 50).await;
        let b = instance(&mock, &file.0, 0).await;
        let alice = logged_in(&a, seed::ALICE).await;
        let nelly = logged_in(&a, seed::NELLY).await;
        assert!(accepted(&b, &alice).await);
        deauthorize(&mock, &a, seed::ALICE).await;
        assert!(
            !accepted(&a, &alice).await,
            "the instance that got the event"
        );
        assert!(!accepted(&b, &alice).await, "the other instance");
        assert!(accepted(&b, &nelly).await);
    }

    #[tokio::test]
    async fn sqlite_revokes_by_user() {
        let file = TempFile::new();
        let clock = ManualClock::new();
        let a = SqliteStore::open(&file.0)
            .await
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        // Another process: no local record of the revocation, only the table.
        let b = SqliteStore::open(&file.0)
            .await
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        user_revocation_contract(&a, &b, &clock).await;
        // Past `until` the row is dead and the sweeper deletes it.
        clock.advance(Duration::from_secs(2000));
        assert!(b.sweep_now().await.unwrap() >= 1);
        assert!(
            !b.is_user_revoked(USER, 100, clock.unix_now())
                .await
                .unwrap()
        );
    }
}

// ----- the user-level revocation of each store ---------------------------------------------------

const USER: u64 = 80_351_110_224_678_912;
const OTHER: u64 = 41_771_983_423_143_937;

/// What every list does: `a` revokes, `b` (another handle on the same data, as another
/// process has) answers. `at` = now; `until` = now + 1000.
async fn user_revocation_contract(
    a: &dyn RevocationList,
    b: &dyn RevocationList,
    clock: &ManualClock,
) {
    let now = clock.unix_now();
    let (user, other) = (USER ^ now, OTHER ^ now);
    for list in [a, b] {
        assert!(!list.is_user_revoked(user, now - 10, now).await.unwrap());
    }
    a.revoke_user(user, now, now + 1000).await.unwrap();
    assert_eq!(
        a.is_user_revoked_now(user, now - 10, now),
        Some(true),
        "the revoking process knows at once"
    );
    for list in [a, b] {
        assert!(
            list.is_user_revoked(user, now - 10, now).await.unwrap(),
            "created before"
        );
        assert!(
            list.is_user_revoked(user, now, now).await.unwrap(),
            "created in the same second"
        );
        assert!(
            !list.is_user_revoked(user, now + 1, now + 1).await.unwrap(),
            "a later login"
        );
        assert!(
            !list.is_user_revoked(other, now - 10, now).await.unwrap(),
            "another user"
        );
    }
    // An older revocation does not move the time back; a later one moves it forward.
    a.revoke_user(user, now - 100, now + 900).await.unwrap();
    assert!(b.is_user_revoked(user, now - 10, now).await.unwrap());
    b.revoke_user(user, now + 50, now + 1050).await.unwrap();
    assert!(a.is_user_revoked(user, now + 40, now + 60).await.unwrap());
    assert!(!a.is_user_revoked(user, now + 51, now + 60).await.unwrap());
    // The USER constant is used by the callers' sweeper checks, revoked at the same times.
    a.revoke_user(USER, 100, now + 1000).await.unwrap();
}

#[tokio::test]
async fn memory_revokes_by_user() {
    let clock = ManualClock::new();
    let list = discord_oauth::store::MemoryRevocationList::with_clock(Arc::new(clock.clone()));
    user_revocation_contract(&list, &list, &clock).await;
    assert_eq!(
        list.is_user_revoked_now(USER, 100, clock.unix_now()),
        Some(true)
    );
    assert_eq!(
        list.is_user_revoked_now(USER, 101, clock.unix_now()),
        Some(false)
    );
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_revokes_by_user() {
    use discord_oauth::store::RedisRevocationList;
    use fred::prelude::*;
    let skip = |why: &str| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: REDIS_URL not set / Redis unreachable — Redis user revocation test did not run ({why}) ***\n"
        );
    };
    let Ok(url) = std::env::var("REDIS_URL") else {
        return skip("REDIS_URL not set");
    };
    let Ok(config) = Config::from_url(&url) else {
        return skip("REDIS_URL is not a Redis URL");
    };
    let Ok(pool) = Builder::from_config(config).build_pool(1) else {
        return skip("could not build a pool");
    };
    if !matches!(
        tokio::time::timeout(Duration::from_secs(3), pool.init()).await,
        Ok(Ok(_))
    ) {
        return skip("Redis unreachable");
    }
    let id = discord_oauth::store::SessionId::random().0;
    let prefix: String = format!(
        "discord-oauth-test:{}:",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let clock = ManualClock::new();
    let a = RedisRevocationList::new(pool.clone())
        .with_prefix(prefix.clone())
        .with_clock(Arc::new(clock.clone()));
    let b = RedisRevocationList::new(pool.clone())
        .with_prefix(prefix.clone())
        .with_clock(Arc::new(clock.clone()));
    user_revocation_contract(&a, &b, &clock).await;
    // Another process asks Redis: no answer without waiting.
    assert_eq!(b.is_user_revoked_now(USER, 100, clock.unix_now()), None);
    // The key carries the TTL of the sessions' lifetime.
    let ttl: i64 = pool.ttl(a.user_key(USER)).await.unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    let keys: Vec<String> = [USER, USER ^ clock.unix_now()]
        .iter()
        .map(|u| a.user_key(*u))
        .collect();
    let _: i64 = pool.del(keys).await.unwrap();
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_revokes_by_user() {
    use discord_oauth::store::PostgresStore;
    let skip = |why: &str| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: DATABASE_URL not set / PostgreSQL unreachable — PostgreSQL user revocation test did not run ({why}) ***\n"
        );
    };
    let Ok(url) = std::env::var("DATABASE_URL") else {
        return skip("DATABASE_URL not set");
    };
    let Ok(Ok(a)) =
        tokio::time::timeout(Duration::from_secs(5), PostgresStore::connect(&url)).await
    else {
        return skip("PostgreSQL unreachable");
    };
    let b = PostgresStore::connect(&url).await.unwrap();
    let clock = ManualClock::new();
    let a = a.with_clock(Arc::new(clock.clone()));
    let b = b.with_clock(Arc::new(clock.clone()));
    user_revocation_contract(&a, &b, &clock).await;
    assert_eq!(b.is_user_revoked_now(USER, 100, clock.unix_now()), None);
}
