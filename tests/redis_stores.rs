//! The Redis stores (feature `redis`) against a real Redis at `REDIS_URL`: the same semantics
//! as the in-memory stores (checked side by side), an atomic compare-and-swap, TTLs in Redis,
//! errors without secrets, and the multi-process property: two `DiscordOAuth` instances sharing
//! one Redis see each other's sessions, logouts and used states.
//!
//! Without `REDIS_URL` (or when Redis does not answer) every test prints a loud SKIPPED line and
//! returns. Each test uses its own random key prefix, so tests run in parallel, and removes its
//! keys at the end (every key also has a TTL, so a failed test leaves nothing forever).
#![cfg(feature = "redis")]

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use discord_oauth::Fetch;
use discord_oauth::clock::{Clock, ManualClock, SystemClock};
use discord_oauth::error::StateError;
use discord_oauth::store::{
    ConsumedStates, MemoryConsumedStates, MemoryRevocationList, MemoryTokenStore,
    RedisConsumedStates, RedisRevocationList, RedisTokenStore, RevocationList, SessionId,
    SessionRecord, StoreError, TokenStore,
};
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use discord_oauth_mock::MockDiscord;
use fred::prelude::*;

// ----- harness ---------------------------------------------------------------------------------

/// A connected pool and a fresh key prefix, or `None` (after a loud SKIPPED line).
async fn redis() -> Option<(Pool, String)> {
    let skip = |why: &str| {
        // Straight to the process's stderr: libtest does not capture this, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: REDIS_URL not set / Redis unreachable — Redis store tests did not run ({why}) ***\n"
        );
        None
    };
    let Ok(url) = std::env::var("REDIS_URL") else {
        return skip("REDIS_URL not set");
    };
    let Ok(config) = Config::from_url(&url) else {
        return skip("REDIS_URL is not a Redis URL");
    };
    let Ok(pool) = Builder::from_config(config)
        .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
        .build_pool(2)
    else {
        return skip("could not build a pool");
    };
    match tokio::time::timeout(Duration::from_secs(3), pool.init()).await {
        Ok(Ok(_)) => {}
        _ => return skip("Redis unreachable"),
    }
    let prefix = format!("discord-oauth-test:{}:", hex(&SessionId::random().0));
    Some((pool, prefix))
}

/// Another connection to the same Redis (a second process).
async fn second_pool() -> Pool {
    let config = Config::from_url(&std::env::var("REDIS_URL").unwrap()).unwrap();
    let pool = Builder::from_config(config).build_pool(2).unwrap();
    pool.init().await.unwrap();
    pool
}

/// Deletes every key under `prefix`; returns how many there were.
async fn cleanup(pool: &Pool, prefix: &str) -> i64 {
    pool.next()
        .eval(
            "local ks = redis.call('KEYS', ARGV[1]) \
             for _, k in ipairs(ks) do redis.call('DEL', k) end return #ks",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await
        .unwrap()
}

async fn keys(pool: &Pool, prefix: &str) -> Vec<String> {
    let mut ks: Vec<String> = pool
        .next()
        .eval(
            "return redis.call('KEYS', ARGV[1])",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await
        .unwrap();
    ks.sort();
    ks
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A distinct record (SessionRecord is non_exhaustive: built through its serde form).
fn record(version: u64) -> SessionRecord {
    let id = SessionId::random();
    let t = now();
    serde_json::from_value(serde_json::json!({
        "id": id.0,
        "version": version,
        "access_token": format!("at-{}", hex(&id.0)),
        "refresh_token": format!("rt-{}", hex(&id.0)),
        "scopes": "identify guilds",
        "user_id": 80_351_110_224_678_912u64,
        "expires_at": t + 604_800,
        "created_at": t,
        "seen_at": t,
    }))
    .unwrap()
}

fn now() -> u64 {
    SystemClock.unix_now()
}

// ----- RedisTokenStore -------------------------------------------------------------------------

#[tokio::test]
async fn token_store_round_trip_and_key_layout() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let store = RedisTokenStore::new(pool.clone()).with_prefix(&prefix);
    let r = record(1);
    store.save(&r, None, 3600).await.unwrap();
    assert_eq!(store.load(&r.id).await.unwrap(), Some(r.clone()));
    // Layout: {prefix}session:{hex id}, a hash with the version, expiry and record bytes.
    let key = format!("{prefix}session:{}", hex(&r.id.0));
    assert_eq!(store.key(&r.id), key);
    // And the user's index: {prefix}user:{user id}, a set of session ids.
    let index = format!("{prefix}user:{}", r.user_id.unwrap());
    let mut expected = vec![key.clone(), index.clone()];
    expected.sort();
    let mut found = keys(&pool, &prefix).await;
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(
        store.user_sessions(r.user_id.unwrap()).await.unwrap(),
        vec![r.id]
    );
    let (v, e, bytes): (String, u64, Bytes) =
        pool.next().hmget(&key, vec!["v", "e", "r"]).await.unwrap();
    assert_eq!(v, "1");
    assert!(e > now() + 3500 && e <= now() + 3600, "expiry {e}");
    // The bytes are the record (with its tokens: see the docs on protecting Redis).
    let token = r.access_token.secret();
    assert!(bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    // Unknown id: None, exactly like MemoryTokenStore.
    let memory = MemoryTokenStore::new();
    assert_eq!(store.load(&SessionId::random()).await.unwrap(), None);
    assert_eq!(memory.load(&SessionId::random()).await.unwrap(), None);
    // Delete: gone, others untouched, twice is fine.
    let other = record(1);
    store.save(&other, None, 3600).await.unwrap();
    store.delete(&r.id).await.unwrap();
    store.delete(&r.id).await.unwrap();
    assert_eq!(store.load(&r.id).await.unwrap(), None);
    assert_eq!(store.load(&other.id).await.unwrap(), Some(other.clone()));
    // The deleted session left the user's index; the other is still in it.
    let user = other.user_id.unwrap();
    assert_eq!(store.user_sessions(user).await.unwrap(), vec![other.id]);
    assert_eq!(cleanup(&pool, &prefix).await, 2, "the record and the index");
}

/// A save: (record, expected version, TTL, advance the clock by first, expected result).
type Step<'a> = (
    &'a SessionRecord,
    Option<u64>,
    u64,
    u64,
    Result<(), StoreError>,
);

/// Every step run against MemoryTokenStore and RedisTokenStore on the same manual clock must
/// give the same answer: the Redis store is a drop-in replacement, CAS and TTL included.
#[tokio::test]
async fn token_store_matches_memory_store_step_by_step() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let clock = ManualClock::new();
    let memory = MemoryTokenStore::with_clock(Arc::new(clock.clone()));
    let redis = RedisTokenStore::new(pool.clone())
        .with_prefix(&prefix)
        .with_clock(Arc::new(clock.clone()));
    let stores: [&dyn TokenStore; 2] = [&memory, &redis];

    let v1 = record(1);
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.seen_at += 5;
    let mut v3 = v2.clone();
    v3.version = 3;
    let steps: Vec<Step> = vec![
        (&v1, Some(1), 60, 0, Err(StoreError::Conflict)), // nothing stored yet
        (&v1, None, 60, 0, Ok(())),                       // new session
        (&v1, None, 60, 0, Err(StoreError::Conflict)),    // new session, id taken
        (&v2, Some(7), 60, 0, Err(StoreError::Conflict)), // wrong version
        (&v2, Some(1), 60, 0, Ok(())),                    // right version
        (&v2, Some(1), 60, 0, Err(StoreError::Conflict)), // the loser of a race
        (&v3, Some(2), 10, 0, Ok(())),                    // a short TTL
        (&v3, Some(3), 10, 11, Err(StoreError::Conflict)), // expired: absent
        (&v1, None, 60, 0, Ok(())),                       // so a new session fits
        (&v2, Some(1), 0, 0, Ok(())),                     // TTL 0: saved dead
        (&v2, Some(2), 60, 0, Err(StoreError::Conflict)), // ...and absent
    ];
    for (i, (rec, expected, ttl, advance, want)) in steps.into_iter().enumerate() {
        clock.advance(Duration::from_secs(advance));
        for (name, store) in ["memory", "redis"].into_iter().zip(stores) {
            let got = store.save(rec, expected, ttl).await;
            assert_eq!(got, want, "step {i}, {name}");
        }
        let loaded: Vec<_> = [memory.load(&v1.id).await, redis.load(&v1.id).await].into();
        assert_eq!(loaded[0], loaded[1], "step {i}: both stores hold the same");
    }
    cleanup(&pool, &prefix).await;
}

#[tokio::test]
async fn compare_and_swap_is_atomic_under_concurrency() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let store = Arc::new(RedisTokenStore::new(pool.clone()).with_prefix(&prefix));
    let v1 = record(1);
    store.save(&v1, None, 600).await.unwrap();
    // 16 writers all loaded version 1 and race to write version 2: exactly one may win.
    let tasks: Vec<_> = (0..16u64)
        .map(|n| {
            let store = store.clone();
            let mut next = v1.clone();
            next.version = 2;
            next.seen_at = n;
            tokio::spawn(async move { store.save(&next, Some(1), 600).await.map(|_| n) })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(n) => winners.push(n),
            Err(e) => assert_eq!(e, StoreError::Conflict),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one compare-and-swap wins");
    let stored = store.load(&v1.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.seen_at), (2, winners[0]));
    cleanup(&pool, &prefix).await;
}

#[tokio::test]
async fn ttl_is_enforced_by_redis() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let store = RedisTokenStore::new(pool.clone()).with_prefix(&prefix);
    let r = record(1);
    store.save(&r, None, 10).await.unwrap();
    let pttl: i64 = pool.next().pttl(store.key(&r.id)).await.unwrap();
    assert!((9_000..=10_000).contains(&pttl), "PTTL {pttl}");
    // A re-save sets the TTL again.
    let mut r2 = r.clone();
    r2.version = 2;
    store.save(&r2, Some(1), 3600).await.unwrap();
    let pttl: i64 = pool.next().pttl(store.key(&r.id)).await.unwrap();
    assert!((3_599_000..=3_600_000).contains(&pttl), "PTTL {pttl}");
    // Redis itself drops the key (1 s TTL, 1.2 s of real waiting).
    let short = record(1);
    store.save(&short, None, 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let exists: i64 = pool.next().exists(store.key(&short.id)).await.unwrap();
    assert_eq!(exists, 0, "Redis expired the record");
    assert_eq!(store.load(&short.id).await.unwrap(), None);
    cleanup(&pool, &prefix).await;
}

#[tokio::test]
async fn scripts_are_loaded_again_after_a_script_flush() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let store = RedisTokenStore::new(pool.clone()).with_prefix(&prefix);
    let states = RedisConsumedStates::new(pool.clone()).with_prefix(&prefix);
    store.save(&record(1), None, 60).await.unwrap();
    // As after a Redis restart or failover: EVALSHA answers NOSCRIPT, the store reloads.
    pool.next().script_flush(false).await.unwrap();
    let r = record(1);
    store.save(&r, None, 60).await.unwrap();
    assert_eq!(store.load(&r.id).await.unwrap(), Some(r));
    pool.next().script_flush(false).await.unwrap();
    assert!(states.consume(&[9; 16], now() + 60, now()).await.unwrap());
    cleanup(&pool, &prefix).await;
}

#[tokio::test]
async fn backend_errors_carry_no_key_or_value() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let store = RedisTokenStore::new(pool.clone()).with_prefix(&prefix);
    let r = record(1);
    let key = store.key(&r.id);
    // Another program wrote a string where the hash belongs.
    let () = pool
        .next()
        .set(&key, "not-a-hash", Some(Expiration::EX(60)), None, false)
        .await
        .unwrap();
    let errors = [
        store.save(&r, None, 60).await.unwrap_err(),
        store.load(&r.id).await.unwrap_err(),
    ];
    for e in errors {
        let StoreError::Backend(cause) = &e else {
            panic!("expected a backend error, got {e:?}");
        };
        let msg = cause.to_string();
        assert!(msg.contains("WRONGTYPE"), "{msg}");
        assert!(!msg.contains(&hex(&r.id.0)), "no session id: {msg}");
        assert!(!msg.contains(&prefix), "no key: {msg}");
        assert!(!msg.contains("not-a-hash"), "no value: {msg}");
    }
    // Corrupt bytes, or another session's record under this key: Decode, not a session.
    let () = pool.next().del(&key).await.unwrap();
    let () = pool
        .next()
        .hset(
            &key,
            vec![("v", "1"), ("e", "99999999999"), ("r", "garbage")],
        )
        .await
        .map(|_: i64| ())
        .unwrap();
    assert_eq!(store.load(&r.id).await, Err(StoreError::Decode));
    let other = record(1);
    store.save(&other, None, 60).await.unwrap();
    let (bytes,): (Bytes,) = pool
        .next()
        .hmget(store.key(&other.id), vec!["r"])
        .await
        .unwrap();
    let () = pool
        .next()
        .hset(&key, vec![("r", bytes)])
        .await
        .map(|_: i64| ())
        .unwrap();
    assert_eq!(store.load(&r.id).await, Err(StoreError::Decode));
    cleanup(&pool, &prefix).await;
}

// ----- RedisRevocationList / RedisConsumedStates -----------------------------------------------

#[tokio::test]
async fn revocation_list_matches_memory_list() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let redis = RedisRevocationList::new(pool.clone()).with_prefix(&prefix);
    let memory = MemoryRevocationList::new();
    let lists: [&dyn RevocationList; 2] = [&memory, &redis];
    let (a, b, c) = (
        SessionId::random(),
        SessionId::random(),
        SessionId::random(),
    );
    let t = now();
    for list in lists {
        list.revoke(&a, t + 100).await.unwrap();
        list.revoke(&c, t.saturating_sub(5)).await.unwrap(); // already over
    }
    for (id, at, want) in [
        (a, t, true),
        (a, t + 99, true),
        (a, t + 100, false),
        (b, t, false),
        (c, t, false),
    ] {
        for (name, list) in ["memory", "redis"].into_iter().zip(lists) {
            assert_eq!(list.is_revoked(&id, at).await.unwrap(), want, "{name}");
        }
    }
    // SET with an expiry at `until`.
    let key = redis.key(&a);
    assert_eq!(key, format!("{prefix}revoked:{}", hex(&a.0)));
    let ttl: i64 = pool.next().ttl(&key).await.unwrap();
    assert!((95..=100).contains(&ttl), "TTL {ttl}");
    // A second process sees it.
    let other = RedisRevocationList::new(second_pool().await).with_prefix(&prefix);
    assert!(other.is_revoked(&a, t).await.unwrap());
    cleanup(&pool, &prefix).await;
}

#[tokio::test]
async fn consumed_states_accept_a_state_once() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let redis = RedisConsumedStates::new(pool.clone()).with_prefix(&prefix);
    let other = RedisConsumedStates::new(second_pool().await).with_prefix(&prefix);
    let memory = MemoryConsumedStates::default();
    let t = now();
    let (s1, s2) = ([1u8; 16], [2u8; 16]);
    // (second process?, state, until, now, first use?); each step but the second process's
    // is also run against MemoryConsumedStates, which must agree.
    let steps = [
        (false, s1, t + 600, t, true),
        (false, s1, t + 600, t, false), // second consume
        (true, s1, t + 600, t, false),  // in another process too
        (false, s2, t + 600, t, true),  // another state
        (false, s1, t + 600, t + 599, false),
        (false, s1, t + 600, t + 600, true), // its entry expired at `until`
    ];
    for (i, (elsewhere, state, until, at, want)) in steps.into_iter().enumerate() {
        let set: &dyn ConsumedStates = if elsewhere { &other } else { &redis };
        assert_eq!(
            set.consume(&state, until, at).await.unwrap(),
            want,
            "step {i}"
        );
        if !elsewhere {
            let m = memory.consume(&state, until, at).await.unwrap();
            assert_eq!(m, want, "memory, step {i}");
        }
    }
    let ttl: i64 = pool.next().ttl(redis.key(&s2)).await.unwrap();
    assert!((595..=600).contains(&ttl), "TTL {ttl}");
    assert_eq!(cleanup(&pool, &prefix).await, 2);
}

// ----- through DiscordOAuth: two "processes" sharing one Redis ---------------------------------

fn client_with(
    mock: &MockDiscord,
    store: Option<Arc<dyn TokenStore>>,
    revocations: Arc<dyn RevocationList>,
    consumed: Arc<dyn ConsumedStates>,
) -> DiscordOAuth {
    let mut builder = DiscordOAuth::builder(config_for(mock).build().unwrap());
    if let Some(store) = store {
        builder = builder.token_store(store);
    }
    builder
        .revocation_list(revocations)
        .consumed_states(consumed)
        // These tests expect another instance's logout to be seen at once; the default
        // 50 ms recheck interval is covered by tests/several_instances.rs.
        .session_recheck(std::time::Duration::ZERO)
        .build()
        .unwrap()
}

/// A client using all three Redis stores on its own pool (its own "process").
fn redis_client(mock: &MockDiscord, pool: &Pool, prefix: &str) -> DiscordOAuth {
    client_with(
        mock,
        Some(Arc::new(
            RedisTokenStore::new(pool.clone()).with_prefix(prefix),
        )),
        Arc::new(RedisRevocationList::new(pool.clone()).with_prefix(prefix)),
        Arc::new(RedisConsumedStates::new(pool.clone()).with_prefix(prefix)),
    )
}

#[tokio::test]
async fn login_fetch_logout_across_two_instances() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let mock = mock().await;
    let a = redis_client(&mock, &pool, &prefix);
    let b = redis_client(&mock, &second_pool().await, &prefix);
    let user = mock.users()[0].id;

    let mut browser = Browser::default();
    let cb = login(
        &a,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    assert_eq!(cb.user.as_ref().map(|u| u.id.get()), Some(user));
    // nonce 12 + id 16 + tag 16, base64url: the cookie carries only the id.
    assert_eq!(
        browser.cookies["discord_session"].len(),
        (12 + 16 + 16usize).div_ceil(3) * 4 - 1
    );
    let record = browser.session(&a).record().await.unwrap().unwrap();
    let session_key = format!("{prefix}session:{}", hex(&record.id.0));
    assert!(keys(&pool, &prefix).await.contains(&session_key));

    // Fetch in A, then in B with the same cookie: B reads the record A wrote.
    let s = browser.session(&a);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), user);
    browser.absorb(&s);
    let s = browser.session(&b);
    assert!(s.authorized().await);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), user);
    assert!(!s.fetch_guilds(Fetch::Cached).await.unwrap().is_empty());
    browser.absorb(&s);

    // Log out in A.
    let stolen = browser.clone();
    let s = browser.session(&a);
    assert!(s.revoke().await);
    browser.absorb(&s);
    assert!(!browser.cookies.contains_key("discord_session"));

    // The old cookie, replayed at B: 401, and no call reaches Discord.
    let before = mock.stats().total_requests;
    let s = stolen.session(&b);
    assert!(!s.authorized().await);
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert_eq!(mock.stats().total_requests, before, "no call to Discord");
    // Redis: the record is gone, the revocation is there, until the absolute lifetime.
    let ks = keys(&pool, &prefix).await;
    assert!(!ks.contains(&session_key));
    let revoked = format!("{prefix}revoked:{}", hex(&record.id.0));
    assert!(ks.contains(&revoked), "{ks:?}");
    let ttl: i64 = pool.next().ttl(&revoked).await.unwrap();
    assert!(ttl > 0);
    cleanup(&pool, &prefix).await;
}

/// The multi-process property the in-memory list lacks: with the stateless cookie store, a
/// session ended by `logout_local` in one process is still accepted by another process unless
/// the revocation list is shared. The control half shows the test can tell the difference.
#[tokio::test]
async fn local_logout_reaches_another_instance_only_through_redis() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let mock = mock().await;
    let user = mock.users()[0].id;
    let pool_b = second_pool().await;
    for shared in [true, false] {
        let revocations = |p: &Pool| -> Arc<dyn RevocationList> {
            if shared {
                Arc::new(RedisRevocationList::new(p.clone()).with_prefix(&prefix))
            } else {
                Arc::new(MemoryRevocationList::new())
            }
        };
        let consumed = || Arc::new(MemoryConsumedStates::default());
        let a = client_with(&mock, None, revocations(&pool), consumed());
        let b = client_with(&mock, None, revocations(&pool_b), consumed());
        let mut browser = Browser::default();
        login(
            &a,
            &mut browser,
            user,
            LoginOptions::new().scopes([Scope::Identify]),
        )
        .await;
        assert!(
            browser.session(&b).authorized().await,
            "B accepts A's cookie"
        );
        let stolen = browser.clone();
        let s = browser.session(&a);
        s.logout_local().await;
        browser.absorb(&s);
        assert!(!stolen.session(&a).authorized().await, "A refuses it");
        let before = mock.stats().total_requests;
        let s = stolen.session(&b);
        if shared {
            assert!(!s.authorized().await, "B refuses it: Redis list");
            assert!(matches!(
                s.fetch_user(Fetch::Cached).await,
                Err(Error::Unauthorized)
            ));
            assert_eq!(mock.stats().total_requests, before, "no call to Discord");
        } else {
            assert!(s.authorized().await, "B cannot know: in-memory list");
        }
    }
    cleanup(&pool, &prefix).await;
}

/// A callback URL replayed (with its pending-login cookie) against another instance is refused
/// as reused before any token request reaches Discord.
#[tokio::test]
async fn replayed_callback_is_refused_by_another_instance() {
    let Some((pool, prefix)) = redis().await else {
        return;
    };
    let mock = mock().await;
    let a = redis_client(&mock, &pool, &prefix);
    let b = redis_client(&mock, &second_pool().await, &prefix);
    let mut browser = Browser::default();
    let s = browser.session(&a);
    let url = s
        .create_session(LoginOptions::new().scopes([Scope::Identify]))
        .unwrap();
    browser.absorb(&s);
    let query = authorize(&url, mock.users()[0].id).await;
    let replay = browser.clone();
    let s = browser.session(&a);
    s.callback(&query).await.unwrap();
    let grants = mock.stats().total_requests;
    let err = replay.session(&b).callback(&query).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidState(StateError::Reused)),
        "{err:?}"
    );
    assert_eq!(mock.stats().total_requests, grants, "no token request");
    cleanup(&pool, &prefix).await;
}
