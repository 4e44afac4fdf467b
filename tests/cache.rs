//! The users cache against the fake Discord: hits after login, a user-supplied cache, bound
//! and TTLs, coalescing, the fresh bypass, Flask-Discord parity, and never a stale or foreign user.
mod common;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use discord_oauth::BoxFuture;
use discord_oauth::Fetch;
use discord_oauth::cache::{
    CacheKey, CacheKind, CachedData, CachedValue, MokaUserCache, UserCache,
};
use discord_oauth::clock::ManualClock;
use discord_oauth::store::SessionId;
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};

const ME: &str = "GET /api/v10/users/@me";
const GUILDS: &str = "GET /api/v10/users/@me/guilds";
const CONNECTIONS: &str = "GET /api/v10/users/@me/connections";

fn all_scopes() -> LoginOptions {
    LoginOptions::new().scopes([Scope::Identify, Scope::Guilds, Scope::Connections])
}

#[tokio::test]
async fn ten_sequential_fetch_user_cost_no_call_after_login() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    assert_eq!(mock.stats().requests_to(ME), 1, "the login's own fetch");
    for _ in 0..10 {
        let s = browser.session(&client);
        assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), user);
        let bytes = s.fetch_user(Fetch::Cached).await.unwrap().json().clone();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["id"], user.to_string());
    }
    assert_eq!(mock.stats().requests_to(ME), 1);
    // The explicit bypass calls Discord every time.
    let s = browser.session(&client);
    s.fetch_user(Fetch::Fresh).await.unwrap();
    s.fetch_user(Fetch::Fresh).await.unwrap();
    assert_eq!(mock.stats().requests_to(ME), 3);
}

#[tokio::test]
async fn twenty_parallel_fetch_guilds_on_a_cold_cache_cost_one_call() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        let browser = browser.clone();
        tasks.push(tokio::spawn(async move {
            browser.session(&client).fetch_guilds(Fetch::Cached).await
        }));
    }
    let mut lens = Vec::new();
    for t in tasks {
        lens.push(t.await.unwrap().unwrap().len());
    }
    assert!(lens.iter().all(|l| *l == lens[0] && *l > 0));
    assert_eq!(mock.stats().requests_to(GUILDS), 1);
}

/// A user-supplied cache: a plain map that counts its calls.
#[derive(Debug, Default)]
struct CountingCache {
    map: Mutex<HashMap<CacheKey, CachedValue>>,
    gets: AtomicUsize,
    inserts: AtomicUsize,
    invalidations: AtomicUsize,
}

impl UserCache for CountingCache {
    fn get(&self, key: CacheKey) -> BoxFuture<'_, Option<CachedValue>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let v = self.map.lock().unwrap().get(&key).cloned();
        Box::pin(async move { v })
    }
    fn insert(&self, key: CacheKey, value: CachedValue) -> BoxFuture<'_, ()> {
        self.inserts.fetch_add(1, Ordering::SeqCst);
        self.map.lock().unwrap().insert(key, value);
        Box::pin(async {})
    }
    fn invalidate(&self, key: CacheKey) -> BoxFuture<'_, ()> {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        self.map.lock().unwrap().remove(&key);
        Box::pin(async {})
    }
}

#[tokio::test]
async fn a_user_supplied_cache_is_used() {
    let mock = mock().await;
    let cache = Arc::new(CountingCache::default());
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .users_cache(cache.clone())
        .build()
        .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    assert_eq!(cache.inserts.load(Ordering::SeqCst), 1, "seeded at login");
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), user);
    assert!(cache.gets.load(Ordering::SeqCst) >= 1);
    assert_eq!(mock.stats().requests_to(ME), 1);
    s.fetch_guilds(Fetch::Cached).await.unwrap();
    s.fetch_guilds(Fetch::Cached).await.unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS), 1);
    assert_eq!(cache.inserts.load(Ordering::SeqCst), 2);
    assert!(cache.map.lock().unwrap().keys().all(|k| k.user_id == user));
    s.logout_local().await;
    assert_eq!(cache.invalidations.load(Ordering::SeqCst), 3);
    assert!(cache.map.lock().unwrap().is_empty());
}

fn entry(n: u64) -> CachedValue {
    CachedValue::new(
        CachedData::Guilds(Arc::new(Vec::new())),
        bytes::Bytes::from(format!("[{n}]")),
        u64::MAX / 2,
    )
}

#[tokio::test]
async fn moka_cache_is_bounded_and_frequency_aware() {
    let cache = MokaUserCache::new(10);
    let hot = CacheKey::new(SessionId::random(), 1, CacheKind::User);
    cache.insert(hot, entry(0)).await;
    for _ in 0..50 {
        assert!(cache.get(hot).await.is_some());
    }
    for n in 1..=200 {
        let key = CacheKey::new(SessionId::random(), n, CacheKind::Guilds);
        cache.insert(key, entry(n)).await;
        cache.run_pending_tasks().await;
    }
    cache.run_pending_tasks().await;
    assert!(cache.entry_count() <= 10, "{}", cache.entry_count());
    assert!(
        cache.get(hot).await.is_some(),
        "a frequently read entry survives a stream of one-off entries"
    );
}

#[tokio::test]
async fn a_small_bound_never_serves_another_user() {
    let mock = mock().await;
    let client =
        DiscordOAuth::new(config_for(&mock).users_cache_max_limit(2).build().unwrap()).unwrap();
    assert_eq!(client.config().users_cache_max_limit(), 2);
    // Three logins into a two-entry cache: every user gets their own data.
    let users: Vec<u64> = mock.users().iter().take(3).map(|u| u.id).collect();
    let mut browsers = Vec::new();
    for &u in &users {
        let mut b = Browser::default();
        login(&client, &mut b, u, all_scopes()).await;
        browsers.push(b);
    }
    for (b, &u) in browsers.iter().zip(&users) {
        assert_eq!(
            b.session(&client)
                .fetch_user(Fetch::Cached)
                .await
                .unwrap()
                .id
                .get(),
            u
        );
    }
    // (The bound itself is enforced lazily by moka: see moka_cache_is_bounded_and_frequency_aware.)
    for (b, &u) in browsers.iter().zip(&users) {
        assert_eq!(
            b.session(&client)
                .fetch_user(Fetch::Fresh)
                .await
                .unwrap()
                .id
                .get(),
            u
        );
    }
}

#[tokio::test]
async fn ttls_expire_entries_on_the_clock() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let client = DiscordOAuth::builder(
        config_for(&mock)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .connections_ttl(Duration::from_secs(10))
    .build()
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    let s = || browser.session(&client);

    s().fetch_guilds(Fetch::Cached).await.unwrap();
    s().fetch_connections(Fetch::Cached).await.unwrap();
    clock.advance(Duration::from_secs(9));
    s().fetch_guilds(Fetch::Cached).await.unwrap();
    s().fetch_connections(Fetch::Cached).await.unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS), 1);
    assert_eq!(mock.stats().requests_to(CONNECTIONS), 1);

    // Connections (10 s configured) expired; guilds (60 s default) not yet.
    clock.advance(Duration::from_secs(2));
    assert!(s().fetch_connections(Fetch::CacheOnly).await.ok().is_none());
    assert!(s().fetch_guilds(Fetch::CacheOnly).await.ok().is_some());
    s().fetch_guilds(Fetch::Cached).await.unwrap();
    s().fetch_connections(Fetch::Cached).await.unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS), 1);
    assert_eq!(mock.stats().requests_to(CONNECTIONS), 2);

    // Guilds after 60 s, the user after 5 minutes.
    clock.advance(Duration::from_secs(50));
    s().fetch_guilds(Fetch::Cached).await.unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS), 2);
    assert!(s().fetch_user(Fetch::CacheOnly).await.ok().is_some());
    assert_eq!(mock.stats().requests_to(ME), 1);
    clock.advance(Duration::from_secs(240));
    assert!(s().fetch_user(Fetch::CacheOnly).await.ok().is_none());
    s().fetch_user(Fetch::Cached).await.unwrap();
    assert_eq!(mock.stats().requests_to(ME), 2);
}

#[tokio::test]
async fn seed_parity_methods() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    let s = browser.session(&client);
    // User.get_from_cache: seeded by the login.
    assert_eq!(
        s.fetch_user(Fetch::CacheOnly).await.ok().unwrap().id.get(),
        user
    );
    // User.guilds / User.connections: nothing cached yet, no call.
    assert!(s.fetch_guilds(Fetch::CacheOnly).await.ok().is_none());
    assert!(s.fetch_connections(Fetch::CacheOnly).await.ok().is_none());
    // Guild.fetch_from_api(cache=False) / UserConnection.fetch_from_api(cache=False).
    s.fetch_guilds(Fetch::FreshUncached).await.unwrap();
    s.fetch_connections(Fetch::FreshUncached).await.unwrap();
    assert!(s.fetch_guilds(Fetch::CacheOnly).await.ok().is_none());
    assert!(s.fetch_connections(Fetch::CacheOnly).await.ok().is_none());
    // User.fetch_from_api(guilds=True, connections=True): fresh, and cached.
    let (u, g, c) = tokio::join!(
        s.fetch_user(Fetch::Fresh),
        s.fetch_guilds(Fetch::Fresh),
        s.fetch_connections(Fetch::Fresh)
    );
    assert_eq!(u.unwrap().id.get(), user);
    assert_eq!(
        Some(g.unwrap().shared()),
        s.fetch_guilds(Fetch::CacheOnly)
            .await
            .ok()
            .map(|f| f.shared())
    );
    assert_eq!(
        Some(c.unwrap().shared()),
        s.fetch_connections(Fetch::CacheOnly)
            .await
            .ok()
            .map(|f| f.shared())
    );
    let stats = mock.stats();
    assert_eq!(stats.requests_to(ME), 2);
    assert_eq!(stats.requests_to(GUILDS), 2);
    assert_eq!(stats.requests_to(CONNECTIONS), 2);
    // User.fetch_guilds / User.fetch_connections: fresh.
    s.fetch_guilds(Fetch::Fresh).await.unwrap();
    s.fetch_connections(Fetch::Fresh).await.unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS), 3);
    assert_eq!(mock.stats().requests_to(CONNECTIONS), 3);
    // Without the scope: no cached data handed out, a typed error for fetches.
    let mut other = Browser::default();
    login(
        &client,
        &mut other,
        user,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    let o = other.session(&client);
    assert!(o.fetch_guilds(Fetch::CacheOnly).await.ok().is_none());
    assert!(matches!(
        o.fetch_guilds(Fetch::Fresh).await,
        Err(Error::MissingScope(Scope::Guilds))
    ));
}

#[tokio::test]
async fn no_stale_or_foreign_user_after_logout_or_relogin() {
    let mock = mock().await;
    let client = client_for(&mock);
    let alice = mock.users()[0].id;
    let bob = mock.users()[1].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, alice, all_scopes()).await;
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), alice);
    s.fetch_guilds(Fetch::Cached).await.unwrap();
    let alice_cookie = browser.clone();

    // Logout: nothing of Alice is served any more, to this browser or to her old cookie.
    assert!(s.revoke().await);
    browser.absorb(&s);
    for b in [&browser, &alice_cookie] {
        let s = b.session(&client);
        assert!(matches!(
            s.fetch_user(Fetch::Cached).await,
            Err(Error::Unauthorized)
        ));
        assert!(s.fetch_user(Fetch::CacheOnly).await.ok().is_none());
        assert!(s.fetch_guilds(Fetch::CacheOnly).await.ok().is_none());
    }

    // Re-login in the same browser as Bob: Bob, never Alice.
    login(&client, &mut browser, bob, all_scopes()).await;
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), bob);
    assert_eq!(
        s.fetch_user(Fetch::CacheOnly).await.ok().unwrap().id.get(),
        bob
    );
    assert!(
        s.fetch_guilds(Fetch::CacheOnly).await.ok().is_none(),
        "Alice's guilds are not Bob's"
    );
    s.fetch_guilds(Fetch::Cached).await.unwrap();
    assert!(matches!(
        alice_cookie
            .session(&client)
            .fetch_user(Fetch::Cached)
            .await,
        Err(Error::Unauthorized)
    ));

    // Re-login as Bob without logging out first (the login replaces the session).
    login(&client, &mut browser, alice, all_scopes()).await;
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), alice);
    assert!(s.fetch_guilds(Fetch::CacheOnly).await.ok().is_none());
}

#[tokio::test]
async fn no_stale_user_after_revocation_at_discord() {
    let mock = mock().await;
    let client = client_for(&mock);
    let alice = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, alice, all_scopes()).await;
    let s = browser.session(&client);
    assert!(s.fetch_user(Fetch::Cached).await.is_ok());

    // The user removes the app at Discord. The next call to Discord (a cold guilds read) gets
    // a 401, the refresh gets invalid_grant: the session and its cached data are gone.
    mock.revoke_user_grants(alice);
    let s = browser.session(&client);
    assert!(matches!(
        s.fetch_guilds(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert!(s.fetch_user(Fetch::CacheOnly).await.ok().is_none());
    browser.absorb(&s);
    let s = browser.session(&client);
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    // The old cookie, replayed, does not bring the cached user back either.
    assert!(!s.authorized().await);
}

#[tokio::test]
async fn revocation_invalidates_entries_of_replayed_cookie() {
    let mock = mock().await;
    let client = client_for(&mock);
    let alice = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, alice, all_scopes()).await;
    let replay = browser.clone();
    mock.revoke_user_grants(alice);
    let s = browser.session(&client);
    assert!(matches!(
        s.fetch_user(Fetch::Fresh).await,
        Err(Error::Unauthorized)
    ));
    // The cached user (seeded at login) is not served to a replay of the same cookie.
    let r = replay.session(&client);
    assert!(r.fetch_user(Fetch::CacheOnly).await.ok().is_none());
    assert!(matches!(
        r.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
}

#[tokio::test]
async fn a_failed_coalesced_load_gives_every_waiter_the_typed_error() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    mock.inject_fault(GUILDS, discord_oauth_mock::Fault::Status(500), 1);
    let before = mock.stats().requests_to(GUILDS);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        let browser = browser.clone();
        tasks.push(tokio::spawn(async move {
            browser.session(&client).fetch_guilds(Fetch::Cached).await
        }));
    }
    let mut failures = 0;
    for t in tasks {
        match t.await.unwrap() {
            Err(Error::Api { status, .. }) => {
                assert_eq!(status.as_u16(), 500);
                failures += 1;
            }
            Err(other) => panic!("untyped or wrong error: {other:?}"),
            Ok(_) => {} // a waiter that arrived after the failure loads again
        }
    }
    assert!(failures >= 1);
    let calls = mock.stats().requests_to(GUILDS) - before;
    assert!(calls <= 2, "coalesced: {calls} upstream calls");
}

#[tokio::test]
async fn rendered_views_are_built_once_per_fetch_from_discord() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let client = DiscordOAuth::new(
        config_for(&mock)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    let renders = Arc::new(AtomicUsize::new(0));
    let render = |renders: Arc<AtomicUsize>| {
        move |u: &discord_oauth::models::User| {
            renders.fetch_add(1, Ordering::SeqCst);
            bytes::Bytes::from(format!("{{\"id\":\"{}\"}}", u.id))
        }
    };
    for _ in 0..5 {
        let body = browser
            .session(&client)
            .fetch_user(Fetch::Cached)
            .await
            .unwrap()
            .memo("test/me", render(renders.clone()));
        assert_eq!(body, format!("{{\"id\":\"{user}\"}}"));
    }
    assert_eq!(
        renders.load(Ordering::SeqCst),
        1,
        "memoized with the cache entry"
    );
    // Another view of the same entry renders separately.
    let other = browser
        .session(&client)
        .fetch_user(Fetch::Cached)
        .await
        .unwrap()
        .memo("test/other", |_| bytes::Bytes::from_static(b"x"));
    assert_eq!(other, "x");
    // Past the user TTL the entry is fetched again, and rendered again.
    clock.advance(Duration::from_secs(301));
    browser
        .session(&client)
        .fetch_user(Fetch::Cached)
        .await
        .unwrap()
        .memo("test/me", render(renders.clone()));
    assert_eq!(renders.load(Ordering::SeqCst), 2);
    assert_eq!(mock.stats().requests_to(ME), 2);
}

#[tokio::test]
async fn fetch_guilds_with_counts_asks_for_the_counts_and_shares_the_guilds_entry() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, all_scopes()).await;
    let s = browser.session(&client);
    // A plain list has no counts: the counted read asks Discord with `with_counts=true`.
    let plain = s.fetch_guilds(Fetch::Cached).await.unwrap();
    assert!(plain.iter().all(|g| g.approximate_member_count.is_none()));
    assert!(
        matches!(
            s.fetch_guilds_with_counts(Fetch::CacheOnly).await,
            Err(Error::NotCached)
        ),
        "a cached list without counts does not answer a counted read"
    );
    let counted = s.fetch_guilds_with_counts(Fetch::Cached).await.unwrap();
    assert!(!counted.is_empty());
    assert!(counted.iter().all(|g| g.approximate_member_count.is_some()
        && g.approximate_presence_count.is_some()));
    assert_eq!(mock.stats().requests_to(GUILDS), 2);
    // Now cached with counts: both reads are served from it.
    assert!(
        s.fetch_guilds_with_counts(Fetch::Cached).await.unwrap()[0]
            .approximate_member_count
            .is_some()
    );
    assert!(
        s.fetch_guilds(Fetch::Cached).await.unwrap()[0]
            .approximate_member_count
            .is_some()
    );
    assert_eq!(mock.stats().requests_to(GUILDS), 2);
}
