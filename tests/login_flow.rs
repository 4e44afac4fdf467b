//! The login flow against the fake Discord: state checks (forged, missing, expired, reused,
//! another browser), two tabs, access denied, re-login, logout and revoke failures, cookie
//! secrecy, key rotation, reserved params, `next`, PKCE.
mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use discord_oauth::Fetch;
use discord_oauth::clock::ManualClock;
use discord_oauth::error::StateError;
use discord_oauth::secret::SecretKey;
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use discord_oauth_mock::{Fault, MockDiscord};

const TOKEN_ROUTE: &str = "POST /api/v10/oauth2/token";
const REVOKE_ROUTE: &str = "POST /api/v10/oauth2/token/revoke";
const ME_ROUTE: &str = "GET /api/v10/users/@me";

/// (successful code grants, requests to the token endpoint).
fn token_activity(mock: &MockDiscord) -> (u64, u64) {
    let s = mock.stats();
    (
        s.grants_of("authorization_code"),
        s.requests_to(TOKEN_ROUTE),
    )
}

fn state_of(url: &url::Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("authorize URL has a state")
}

fn replace_param(query: &str, key: &str, value: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if k == key {
            if let Some(value) = value {
                ser.append_pair(&k, value);
            }
        } else {
            ser.append_pair(&k, &v);
        }
    }
    ser.finish()
}

/// Starts a login in `browser`, approves it at the fake Discord, returns the callback query.
async fn start(client: &DiscordOAuth, browser: &mut Browser, user: u64) -> (url::Url, String) {
    let s = browser.session(client);
    let url = s.create_session(LoginOptions::new()).unwrap();
    browser.absorb(&s);
    let query = authorize(&url, user).await;
    (url, query)
}

fn assert_invalid_state(result: Result<discord_oauth::Callback, Error>, want: StateError) {
    match result {
        Err(e @ Error::InvalidState(got)) => {
            assert_eq!(got, want);
            assert_eq!(e.status(), 400);
        }
        other => panic!("expected InvalidState({want:?}), got {other:?}"),
    }
}

#[tokio::test]
async fn forged_state_is_refused_without_token_request() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let (_, query) = start(&client, &mut browser, mock.users()[0].id).await;
    let before = token_activity(&mock);
    let forged = replace_param(&query, "state", Some("forged-state-value"));
    let s = browser.session(&client);
    assert_invalid_state(s.callback(&forged).await, StateError::Mismatch);
    assert_eq!(token_activity(&mock), before, "no token request");
    assert!(!s.authorized().await);
}

#[tokio::test]
async fn missing_state_is_refused_without_token_request() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let (_, query) = start(&client, &mut browser, mock.users()[0].id).await;
    let before = token_activity(&mock);
    let s = browser.session(&client);
    let no_state = replace_param(&query, "state", None);
    assert_invalid_state(s.callback(&no_state).await, StateError::Missing);
    let empty_state = replace_param(&query, "state", Some(""));
    assert_invalid_state(s.callback(&empty_state).await, StateError::Missing);
    assert_eq!(token_activity(&mock), before, "no token request");
}

#[tokio::test]
async fn expired_state_is_refused_without_token_request() {
    let mock = mock().await;
    let clock = ManualClock::new();
    let config = config_for(&mock)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let client = DiscordOAuth::new(config).unwrap();
    let mut browser = Browser::default();
    let (_, query) = start(&client, &mut browser, mock.users()[0].id).await;
    clock.advance(Duration::from_secs(10 * 60 + 1));
    let before = token_activity(&mock);
    let s = browser.session(&client);
    assert_invalid_state(s.callback(&query).await, StateError::Expired);
    assert_eq!(token_activity(&mock), before, "no token request");
    assert!(!s.authorized().await);
}

#[tokio::test]
async fn reused_state_is_refused_without_token_request() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let (_, query) = start(&client, &mut browser, mock.users()[0].id).await;
    // The jar as it was before the callback: the pending cookie still holds the slot.
    let replay_jar = browser.clone();
    let s = browser.session(&client);
    s.callback(&query).await.unwrap();
    browser.absorb(&s);
    let before = token_activity(&mock);
    let s = replay_jar.session(&client);
    assert_invalid_state(s.callback(&query).await, StateError::Reused);
    assert_eq!(token_activity(&mock), before, "no token request");
    // And in the browser that completed the login (slot gone): refused too.
    let s = browser.session(&client);
    assert!(matches!(
        s.callback(&query).await,
        Err(Error::InvalidState(_))
    ));
    assert_eq!(token_activity(&mock), before, "no token request");
}

#[tokio::test]
async fn two_tabs_log_in_at_once_in_either_order() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    for reverse in [false, true] {
        let mut browser = Browser::default();
        let s = browser.session(&client);
        let url1 = s.create_session(LoginOptions::new().next("/tab1")).unwrap();
        browser.absorb(&s);
        let s = browser.session(&client);
        let url2 = s.create_session(LoginOptions::new().next("/tab2")).unwrap();
        browser.absorb(&s);
        assert_ne!(state_of(&url1), state_of(&url2));
        let q1 = authorize(&url1, user).await;
        let q2 = authorize(&url2, user).await;
        let order = if reverse {
            [(q2, "/tab2"), (q1, "/tab1")]
        } else {
            [(q1, "/tab1"), (q2, "/tab2")]
        };
        for (q, next) in order {
            let s = browser.session(&client);
            let cb = s.callback(&q).await.unwrap();
            browser.absorb(&s);
            assert_eq!(cb.next, next);
            assert!(browser.session(&client).authorized().await);
        }
    }
}

#[tokio::test]
async fn callback_replayed_in_another_browser_is_refused() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut victim = Browser::default();
    let (_, query) = start(&client, &mut victim, mock.users()[0].id).await;
    let attacker = Browser::default();
    let before = token_activity(&mock);
    let s = attacker.session(&client);
    let err = s.callback(&query).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidState(StateError::Mismatch)),
        "{err:?}"
    );
    assert_eq!(err.status(), 400);
    assert_eq!(token_activity(&mock), before, "no token request");
    // An attacker with their own pending cookie (their own login) fares no better.
    let mut attacker = Browser::default();
    let _ = start(&client, &mut attacker, mock.users()[1].id).await;
    let s = attacker.session(&client);
    assert!(matches!(
        s.callback(&query).await,
        Err(Error::InvalidState(StateError::Mismatch))
    ));
    assert_eq!(token_activity(&mock), before, "no token request");
    // The victim's own callback still works.
    let s = victim.session(&client);
    s.callback(&query).await.unwrap();
}

#[tokio::test]
async fn access_denied_is_403() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s.create_session(LoginOptions::new()).unwrap();
    browser.absorb(&s);
    let state = state_of(&url);
    let query = format!("error=access_denied&error_description=The+user+denied&state={state}");
    let before = token_activity(&mock);
    let s = browser.session(&client);
    let err = s.callback(&query).await.unwrap_err();
    assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
    assert_eq!(err.status(), 403);
    assert_eq!(token_activity(&mock), before);
    assert!(!s.authorized().await);
}

#[tokio::test]
async fn relogin_as_another_user_shows_the_new_user() {
    let mock = mock().await;
    let client = client_for(&mock);
    let users = mock.users();
    let (first, second) = (users[0].id, users[1].id);
    assert_ne!(first, second);
    let mut browser = Browser::default();
    login(&client, &mut browser, first, LoginOptions::new()).await;
    let old_jar = browser.clone();
    assert_eq!(browser.session(&client).user_id().await, Some(first));
    assert_eq!(
        browser
            .session(&client)
            .fetch_user(Fetch::Cached)
            .await
            .unwrap()
            .id
            .get(),
        first
    );
    let cb = login(&client, &mut browser, second, LoginOptions::new()).await;
    assert_eq!(cb.user.unwrap().id.get(), second);
    let s = browser.session(&client);
    assert_eq!(s.user_id().await, Some(second));
    assert_eq!(s.fetch_user(Fetch::Cached).await.unwrap().id.get(), second);
    // The old session id is dead.
    let old = old_jar.session(&client);
    assert!(!old.authorized().await);
    assert!(matches!(
        old.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
}

#[tokio::test]
async fn logged_out_cookie_replayed_gets_401_without_calling_discord() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new(),
    )
    .await;
    let stolen = browser.clone();
    let s = browser.session(&client);
    assert!(s.revoke().await);
    browser.absorb(&s);
    assert!(!browser.cookies.contains_key("discord_session"));
    let me_before = mock.stats().requests_to(ME_ROUTE);
    let s = stolen.session(&client);
    assert!(!s.authorized().await);
    let err = s.fetch_user(Fetch::Cached).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    assert_eq!(err.status(), 401);
    assert_eq!(
        mock.stats().requests_to(ME_ROUTE),
        me_before,
        "no call to Discord"
    );

    // logout_local too.
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new(),
    )
    .await;
    let stolen = browser.clone();
    let me_before = mock.stats().requests_to(ME_ROUTE);
    let s = browser.session(&client);
    s.logout_local().await;
    let s = stolen.session(&client);
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert_eq!(
        mock.stats().requests_to(ME_ROUTE),
        me_before,
        "no call to Discord"
    );
}

#[tokio::test]
async fn logout_succeeds_when_discord_revoke_fails() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new(),
    )
    .await;
    let stolen = browser.clone();
    mock.inject_fault(REVOKE_ROUTE, Fault::Status(500), 10);
    let s = browser.session(&client);
    assert!(!s.revoke().await, "Discord did not confirm");
    browser.absorb(&s);
    assert!(
        mock.stats().faults_served >= 1,
        "the revoke reached the fake Discord"
    );
    assert!(!browser.session(&client).authorized().await);
    assert!(!stolen.session(&client).authorized().await);
}

#[tokio::test]
async fn logout_succeeds_when_discord_revoke_times_out() {
    let mock = mock().await;
    let config = config_for(&mock).build().unwrap();
    let client = DiscordOAuth::builder(config)
        .revoke_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new(),
    )
    .await;
    let stolen = browser.clone();
    mock.inject_fault(REVOKE_ROUTE, Fault::Delay(Duration::from_secs(30)), 10);
    let s = browser.session(&client);
    assert!(!s.revoke().await, "timed out");
    browser.absorb(&s);
    assert!(!browser.session(&client).authorized().await);
    assert!(!stolen.session(&client).authorized().await);
}

fn cookie_bytes(value: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .expect("cookie is base64url")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_cookie_never_holds_a_token_in_readable_form() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    let tokens = mock.user_access_tokens(user);
    assert!(!tokens.is_empty());
    let cookie = browser
        .cookies
        .get("discord_session")
        .expect("session cookie");
    let raw = cookie_bytes(cookie);
    let mut needles: Vec<Vec<u8>> = vec![
        user.to_string().into_bytes(),
        user.to_le_bytes().to_vec(),
        user.to_be_bytes().to_vec(),
    ];
    for t in &tokens {
        needles.push(t.access_token.clone().into_bytes());
        if let Some(r) = &t.refresh_token {
            needles.push(r.clone().into_bytes());
        }
    }
    for value in browser.cookies.values() {
        let raw2 = cookie_bytes(value);
        for n in &needles {
            assert!(!contains(&raw2, n), "a secret is readable in a cookie");
            assert!(!contains(value.as_bytes(), n), "a secret is in a cookie");
        }
    }
    // A sanity check that the search works: the sealed bytes are not the plaintext.
    assert!(raw.len() > 28);
}

#[tokio::test]
async fn key_rotation_accepts_previous_keys_only_when_listed() {
    let mock = mock().await;
    let key_a = "a".repeat(48);
    let key_b = "b".repeat(48);
    let client_a =
        DiscordOAuth::new(config_for(&mock).secret_key(key_a.clone()).build().unwrap()).unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(&client_a, &mut browser, user, LoginOptions::new()).await;

    let rotated = DiscordOAuth::new(
        config_for(&mock)
            .secret_key(key_b.clone())
            .previous_secret_keys([SecretKey::from(key_a.as_str())])
            .build()
            .unwrap(),
    )
    .unwrap();
    let s = browser.session(&rotated);
    assert!(s.authorized().await);
    assert_eq!(s.user_id().await, Some(user));
    let mut resealed = browser.clone();
    resealed.absorb(&s);

    let only_b = DiscordOAuth::new(config_for(&mock).secret_key(key_b).build().unwrap()).unwrap();
    let s = browser.session(&only_b);
    assert!(
        !s.authorized().await,
        "a cookie under an unknown key is refused"
    );
    assert!(matches!(
        s.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    // The cookie re-sealed by the rotated client is accepted under the new key alone.
    assert_ne!(
        resealed.cookies, browser.cookies,
        "re-sealed under the new key"
    );
    assert!(resealed.session(&only_b).authorized().await);
}

#[tokio::test]
async fn reserved_params_are_refused() {
    let mock = mock().await;
    let client = client_for(&mock);
    let browser = Browser::default();
    for key in [
        "state",
        "redirect_uri",
        "client_id",
        "response_type",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "STATE",
        "Redirect_Uri",
    ] {
        let s = browser.session(&client);
        let err = s
            .create_session(LoginOptions::new().param(key, "x"))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{key}: {err:?}");
        assert!(s.take_set_cookies().is_empty(), "{key}: no pending cookie");
    }
    let s = browser.session(&client);
    let url = s
        .create_session(LoginOptions::new().param("guild_id", "123"))
        .unwrap();
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "guild_id" && v == "123")
    );
}

#[tokio::test]
async fn next_accepts_local_paths_only() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    for (given, want) in [
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("/\\evil.com", "/"),
        ("evil.com", "/"),
        ("/guilds?x=1", "/guilds?x=1"),
    ] {
        let mut browser = Browser::default();
        let cb = login(&client, &mut browser, user, LoginOptions::new().next(given)).await;
        assert_eq!(cb.next, want, "{given}");
    }
}

#[tokio::test]
async fn pkce_is_on_by_default_and_off_with_role_connections_write() {
    let mock = mock().await;
    let client = client_for(&mock);
    let browser = Browser::default();
    let s = browser.session(&client);
    let url = s.create_session(LoginOptions::new()).unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&("code_challenge_method".into(), "S256".into())));
    let challenge = q.iter().find(|(k, _)| k == "code_challenge").unwrap();
    assert_eq!(challenge.1.len(), 43);

    let url = s
        .create_session(LoginOptions::new().scopes([Scope::Identify, Scope::RoleConnectionsWrite]))
        .unwrap();
    assert!(
        !url.query_pairs()
            .any(|(k, _)| k.starts_with("code_challenge"))
    );

    // And the PKCE login completes (the fake Discord checks the verifier).
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new(),
    )
    .await;
    assert!(browser.session(&client).authorized().await);
}

#[tokio::test]
async fn login_start_grows_no_server_state_and_data_is_bounded() {
    let mock = mock().await;
    let store = Arc::new(discord_oauth::store::MemoryTokenStore::new());
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .token_store(store.clone())
        .build()
        .unwrap();
    let mut browser = Browser::default();
    for _ in 0..10 {
        let s = browser.session(&client);
        let url = s
            .create_session(LoginOptions::new().data(serde_json::json!({"cart": [1, 2, 3]})))
            .unwrap();
        browser.absorb(&s);
        // Nothing but the state travels through the URL: no data, no verifier.
        assert!(!url.as_str().contains("cart"));
    }
    assert!(store.is_empty(), "an unauthenticated /login stores nothing");
    assert_eq!(mock.stats().total_requests, 0);
    // Oversized data is refused.
    let s = browser.session(&client);
    let big = serde_json::json!({ "x": "y".repeat(2000) });
    assert!(matches!(
        s.create_session(LoginOptions::new().data(big)),
        Err(Error::InvalidRequest(_))
    ));
    // The data comes back from the callback.
    let cb = login(
        &client,
        &mut browser,
        mock.users()[0].id,
        LoginOptions::new().data(serde_json::json!({"cart": [1, 2, 3]})),
    )
    .await;
    assert_eq!(cb.data, Some(serde_json::json!({"cart": [1, 2, 3]})));
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn big_pending_logins_never_outgrow_the_cookie() {
    let mock = MockDiscord::builder().redirect_uri(REDIRECT).start().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let next = format!("/{}", "a".repeat(500));
    let data = serde_json::json!({ "blob": "x".repeat(900) });
    let mut browser = Browser::default();
    let mut last = None;
    for _ in 0..4 {
        let s = browser.session(&client);
        last = Some(
            s.create_session(LoginOptions::new().next(next.clone()).data(data.clone()))
                .unwrap(),
        );
        for c in s.take_set_cookies() {
            let c = c.to_str().unwrap().to_owned();
            assert!(
                c.split(';').next().unwrap().len() <= 3800,
                "cookie of {} bytes",
                c.len()
            );
            browser.absorb_header(&c);
        }
    }
    let query = authorize(&last.unwrap(), user).await;
    let s = browser.session(&client);
    let done = s.callback(&query).await.unwrap();
    assert_eq!(done.next, next, "the newest login completes");
    // A `next` too long to keep is dropped rather than growing the cookie.
    let s = browser.session(&client);
    let url = s
        .create_session(LoginOptions::new().next(format!("/{}", "b".repeat(2000))))
        .unwrap();
    browser.absorb(&s);
    let query = authorize(&url, user).await;
    let s = browser.session(&client);
    assert_eq!(s.callback(&query).await.unwrap().next, "/");
}
