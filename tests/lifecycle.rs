//! Token lifecycle against the fake Discord: refresh ahead of expiry, on a 401 and on 50025,
//! one refresh for many concurrent requests, the pre-rotation cookie, invalid_grant, a refresh
//! timeout, and scopes checked before any refresh.
mod common;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use discord_oauth::AddMemberOptions;
use discord_oauth::Fetch;
use discord_oauth::clock::ManualClock;
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use discord_oauth_mock::Fault;

const ME: &str = "GET /api/v10/users/@me";

fn scopes() -> LoginOptions {
    LoginOptions::new().scopes([Scope::Identify, Scope::Guilds, Scope::GuildsJoin])
}

fn refreshes(mock: &discord_oauth_mock::MockDiscord) -> u64 {
    mock.stats().grants_of("refresh_token")
}

#[tokio::test]
async fn refresh_ahead_of_expiry_with_the_clock() {
    let mock = mock().await;
    mock.set_token_lifetime(Duration::from_secs(1000));
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
    login(&client, &mut browser, user, scopes()).await;

    // Well before the margin (default 300 s): no refresh.
    clock.advance(Duration::from_secs(600));
    let s = browser.session(&client);
    s.fetch_user(Fetch::Fresh).await.unwrap();
    browser.absorb(&s);
    assert_eq!(refreshes(&mock), 0);

    // Inside the margin: refreshed before the call, the call succeeds.
    clock.advance(Duration::from_secs(150));
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
    browser.absorb(&s);
    assert_eq!(refreshes(&mock), 1);

    // The new pair is in the cookie: no further refresh.
    let s = browser.session(&client);
    s.fetch_user(Fetch::Fresh).await.unwrap();
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn refresh_margin_is_configurable() {
    let mock = mock().await;
    mock.set_token_lifetime(Duration::from_secs(1000));
    let clock = ManualClock::new();
    let client = DiscordOAuth::builder(
        config_for(&mock)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .refresh_margin(Duration::from_secs(10))
    .build()
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    clock.advance(Duration::from_secs(800));
    browser
        .session(&client)
        .fetch_user(Fetch::Fresh)
        .await
        .unwrap();
    assert_eq!(
        refreshes(&mock),
        0,
        "800 s left of 1000 is outside a 10 s margin"
    );
    clock.advance(Duration::from_secs(195));
    browser
        .session(&client)
        .fetch_user(Fetch::Fresh)
        .await
        .unwrap();
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn refresh_once_on_401() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    let before = mock.stats().requests_to(ME);
    mock.expire_access_tokens(Some(user));
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(
        mock.stats().requests_to(ME),
        before + 2,
        "one 401, one retry"
    );
    browser.absorb(&s);
    assert!(browser.session(&client).authorized().await);
}

/// A stale pre-refresh cookie (past the rotation grace) fails alone: its refresh token was
/// rotated, Discord answers `invalid_grant`, and that request gets 401, but the browser's
/// current cookie (same session id) keeps working.
#[tokio::test]
async fn a_stale_cookie_fails_alone_and_never_ends_the_live_session() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let config = config_for(&mock).clock(Arc::new(clock.clone()));
    let client = DiscordOAuth::new(config.build().unwrap()).unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    let stale = browser.clone();
    mock.expire_access_tokens(Some(user));
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
    browser.absorb(&s);
    assert_eq!(refreshes(&mock), 1);
    // Past the rotation grace, the old cookie no longer finds the new pair in memory.
    clock.advance(Duration::from_secs(600));
    let old = stale.session(&client);
    assert!(matches!(
        old.fetch_user(Fetch::Fresh).await,
        Err(Error::Unauthorized)
    ));
    let s = browser.session(&client);
    assert!(
        s.authorized().await,
        "the current cookie is still a live session"
    );
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
}

#[tokio::test]
async fn refresh_once_on_add_member_50025() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    mock.expire_access_tokens(Some(user));
    let guild = mock.guilds()[0].id;
    let s = browser.session(&client);
    let result = s.add_to_guild(guild.into(), AddMemberOptions::new()).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(
        mock.stats()
            .requests_to("PUT /api/v10/guilds/{guild_id}/members/{user_id}"),
        2,
        "one 403/50025, one retry"
    );
}

#[tokio::test]
async fn sixteen_concurrent_requests_share_one_refresh() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    mock.expire_access_tokens(Some(user));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = client.clone();
        let browser = browser.clone();
        tasks.push(tokio::spawn(async move {
            browser.session(&client).fetch_user(Fetch::Fresh).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().id.get(), user);
    }
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn sixteen_concurrent_requests_refresh_ahead_once() {
    let mock = mock().await;
    mock.set_token_lifetime(Duration::from_secs(1000));
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
    login(&client, &mut browser, user, scopes()).await;
    clock.advance(Duration::from_secs(900));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = client.clone();
        let browser = browser.clone();
        tasks.push(tokio::spawn(async move {
            browser.session(&client).fetch_guilds(Fetch::Cached).await
        }));
    }
    for t in tasks {
        assert!(!t.await.unwrap().unwrap().is_empty());
    }
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn pre_rotation_cookie_gets_the_new_pair() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    let old = browser.clone();
    mock.expire_access_tokens(Some(user));
    let s = browser.session(&client);
    s.fetch_user(Fetch::Fresh).await.unwrap();
    browser.absorb(&s);
    assert_eq!(refreshes(&mock), 1);
    assert_ne!(
        old.cookies, browser.cookies,
        "the cookie carries the new pair"
    );

    // A request sent with the old cookie (before the browser saw the new one) still works,
    // with no second refresh (which Discord would answer invalid_grant).
    let s = old.session(&client);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
    assert_eq!(
        s.fetch_guilds(Fetch::Fresh)
            .await
            .map(|g| g.is_empty())
            .ok(),
        Some(false)
    );
    assert_eq!(refreshes(&mock), 1);
    let mut old = old;
    old.absorb(&s);
    assert_eq!(old.cookies.len(), browser.cookies.len());
    assert!(old.session(&client).authorized().await);
}

#[tokio::test]
async fn invalid_grant_ends_the_session() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    assert!(!browser.cookies.is_empty());
    mock.revoke_user_grants(user);
    let s = browser.session(&client);
    let err = s.fetch_user(Fetch::Fresh).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    assert_eq!(err.status(), 401);
    let cleared = s
        .take_set_cookies()
        .iter()
        .any(|c| c.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "the session cookie is cleared");
    browser.absorb(&s);
    assert!(!browser.session(&client).authorized().await);
}

#[tokio::test]
async fn refresh_timeout_keeps_the_session() {
    let mock = mock().await;
    let client = DiscordOAuth::new(
        config_for(&mock)
            .request_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    mock.expire_access_tokens(Some(user));
    mock.inject_fault(
        "POST /api/v10/oauth2/token",
        Fault::Delay(Duration::from_secs(3)),
        1,
    );
    let s = browser.session(&client);
    let err = s.fetch_user(Fetch::Fresh).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout | Error::Transport(_)),
        "{err:?}"
    );
    assert_eq!(err.status(), 502);
    let cleared = s
        .take_set_cookies()
        .iter()
        .any(|c| c.to_str().unwrap().contains("Max-Age=0"));
    assert!(!cleared, "a timeout does not end the session");
    let s = browser.session(&client);
    assert!(s.authorized().await);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
}

#[tokio::test]
async fn missing_scope_causes_no_refresh_and_no_call() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    mock.expire_access_tokens(Some(user));
    let s = browser.session(&client);
    let err = s.fetch_guilds(Fetch::Cached).await.unwrap_err();
    assert!(matches!(err, Error::MissingScope(Scope::Guilds)), "{err:?}");
    let err = s.fetch_connections(Fetch::Fresh).await.unwrap_err();
    assert!(
        matches!(err, Error::MissingScope(Scope::Connections)),
        "{err:?}"
    );
    let err = s
        .add_to_guild(mock.guilds()[0].id.into(), AddMemberOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::MissingScope(Scope::GuildsJoin)),
        "{err:?}"
    );
    assert_eq!(refreshes(&mock), 0);
    let stats = mock.stats();
    assert_eq!(stats.requests_to("GET /api/v10/users/@me/guilds"), 0);
    assert_eq!(stats.requests_to("GET /api/v10/users/@me/connections"), 0);
    assert!(s.authorized().await);
}

#[tokio::test]
async fn generic_request_checks_known_route_scopes_locally() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    let s = browser.session(&client);
    for route in [
        "/users/@me/guilds",
        "/users/@me/connections?x=1",
        "users/@me/guilds/1/member",
    ] {
        let err = s
            .request(http::Method::GET, route)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::MissingScope(_)), "{route}: {err:?}");
    }
    let stats = mock.stats();
    assert_eq!(stats.requests_to("GET /api/v10/users/@me/guilds"), 0);
    assert_eq!(stats.requests_to("GET /api/v10/users/@me/connections"), 0);
    assert_eq!(refreshes(&mock), 0);
    assert!(s.authorized().await);
}

#[tokio::test]
async fn a_401_that_survives_a_refresh_keeps_the_session() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    // Discord refuses this route twice: the first 401 refreshes, the second cannot be a dead
    // grant (the refresh just succeeded), so the session stays.
    mock.inject_fault("GET /api/v10/oauth2/@me", Fault::Status(401), 2);
    let s = browser.session(&client);
    let err = s.fetch_authorization_info().await.unwrap_err();
    assert!(matches!(err, Error::InsufficientAccess), "{err:?}");
    assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(refreshes(&mock), 1);
    browser.absorb(&s);
    let s = browser.session(&client);
    assert!(s.authorized().await, "the session survived");
    assert_eq!(s.fetch_authorization_info().await.unwrap().scopes.len(), 3);
    // The refreshed token was not marked dead by that 401: no second refresh.
    browser
        .session(&client)
        .fetch_user(Fetch::Fresh)
        .await
        .unwrap();
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn an_idle_touch_during_a_refresh_does_not_lose_the_rotated_pair() {
    // Server-side store: request A refreshes (slowly) while request B, arriving after the idle
    // "touch" interval, bumps the record's version. A's new pair must still reach the store.
    let mock = mock().await;
    let clock = ManualClock::new();
    let store = Arc::new(discord_oauth::store::MemoryTokenStore::with_clock(
        Arc::new(clock.clone()),
    ));
    let client = DiscordOAuth::builder(
        config_for(&mock)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .token_store(store)
    .idle_timeout(Duration::from_secs(4 * 3600))
    .build()
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify]),
    )
    .await;
    clock.advance(Duration::from_secs(3500));
    mock.expire_access_tokens(Some(user));
    mock.inject_fault(
        "POST /api/v10/oauth2/token",
        Fault::Delay(Duration::from_millis(500)),
        1,
    );
    let a = browser.session(&client);
    let task = tokio::spawn(async move { (a.fetch_user(Fetch::Fresh).await, a) });
    tokio::time::sleep(Duration::from_millis(150)).await;
    clock.advance(Duration::from_secs(200));
    let b = browser.session(&client);
    assert!(b.authorized().await);
    let (result, a) = task.await.unwrap();
    browser.absorb(&a);
    assert!(result.is_ok(), "request A: {result:?}");
    clock.advance(Duration::from_secs(130)); // past the rotation map's grace
    let later = browser.session(&client).fetch_user(Fetch::Fresh).await;
    assert!(later.is_ok(), "the session was lost: {later:?}");
    assert_eq!(refreshes(&mock), 1);
}

#[tokio::test]
async fn one_user_spamming_refused_joins_is_stopped_alone() {
    use discord_oauth::ratelimit::PER_USER_INVALID_LIMIT;
    let mock = mock().await;
    let client = client_for(&mock);
    let users = mock.users();
    let (spammer, other) = (users[0].id, users[1].id);
    let guild = mock.guilds()[0].id;
    let mut a = Browser::default();
    login(&client, &mut a, spammer, scopes()).await;
    let mut b = Browser::default();
    login(&client, &mut b, other, scopes()).await;
    const PUT_MEMBER: &str = "PUT /api/v10/guilds/{guild_id}/members/{user_id}";
    // Exactly the spammer's share: the other user's join later finds no fault left.
    mock.inject_fault(
        PUT_MEMBER,
        Fault::Status(403),
        PER_USER_INVALID_LIMIT as usize,
    );
    let s = a.session(&client);
    for _ in 0..PER_USER_INVALID_LIMIT {
        let err = s
            .add_to_guild(guild.into(), AddMemberOptions::new())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Api { .. }), "{err:?}");
    }
    let sent = mock.stats().requests_to(PUT_MEMBER);
    assert_eq!(sent, u64::from(PER_USER_INVALID_LIMIT));
    let err = s
        .add_to_guild(guild.into(), AddMemberOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "refused locally: {err:?}");
    assert_eq!(mock.stats().requests_to(PUT_MEMBER), sent, "not sent");
    // Everyone else is unaffected.
    let res = b
        .session(&client)
        .add_to_guild(guild.into(), AddMemberOptions::new())
        .await;
    assert!(res.is_ok(), "{res:?}");
}

/// Opened cookies are remembered (the hot path skips decryption), but only the exact value:
/// a value altered anywhere, even keeping the encoded tag at its end, is refused, and a
/// remembered cookie that logged out stays refused.
#[tokio::test]
async fn remembered_cookies_accept_only_the_exact_value() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client, &mut browser, user, scopes()).await;
    // Opened once (remembered), then served from memory.
    for _ in 0..3 {
        assert!(browser.session(&client).authorized().await);
    }
    let name = "discord_session";
    let value = browser.cookies[name].clone();
    let mid = value.len() / 2;
    let flipped = if &value[mid..=mid] == "A" { "B" } else { "A" };
    for forged in [
        format!("{}{flipped}{}", &value[..mid], &value[mid + 1..]),
        format!("x{}", &value[1..]),
        format!("{value}A"),
        value[22..].to_owned(),
    ] {
        let mut thief = browser.clone();
        thief.cookies.insert(name.to_owned(), forged);
        assert!(!thief.session(&client).authorized().await);
    }
    let stolen = browser.clone();
    let s = browser.session(&client);
    s.logout_local().await;
    assert!(!stolen.session(&client).authorized().await, "logged out");
    assert!(
        !stolen.session(&client).authorized().await,
        "still, when remembered"
    );
}
