//! Red-team findings of "Correct against Discord's own spec, and hardened": the callback checks
//! the state before anything else, a malformed code costs no token request, lifetimes and
//! Discord's numbers never overflow, several session cookies are judged by the valid one,
//! `next` reaches `Location` percent-encoded, the same-origin check compares whole origins,
//! and the memory stores stay bounded per user.
mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::*;
use discord_oauth::clock::Clock;
use discord_oauth::session::MAX_LIFETIME;
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use http::{HeaderMap, HeaderValue, StatusCode};

/// Requests the fake Discord's token endpoint received.
fn token_calls(mock: &discord_oauth_mock::MockDiscord) -> u64 {
    mock.stats().requests_to("POST /api/v10/oauth2/token")
}

fn identify() -> LoginOptions {
    LoginOptions::new().scopes([Scope::Identify])
}

/// Starts a login in `browser`; returns the state Discord would send back.
fn start(client: &DiscordOAuth, browser: &mut Browser, options: LoginOptions) -> String {
    let s = browser.session(client);
    let url = s.create_session(options).unwrap();
    browser.absorb(&s);
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn callback(client: &DiscordOAuth, browser: &mut Browser, query: &str) -> Result<(), Error> {
    let s = browser.session(client);
    let r = s.callback(query).await.map(drop);
    browser.absorb(&s);
    r
}

#[tokio::test]
async fn the_state_is_checked_before_discords_error() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let state = start(&client, &mut browser, identify());
    for query in [
        "error=access_denied".to_owned(),
        "error=access_denied&state=".to_owned(),
        "error=access_denied&state=forged".to_owned(),
        "error=server_error&error_description=x&state=forged".to_owned(),
        "code=abc&error=access_denied&state=forged".to_owned(),
    ] {
        let e = callback(&client, &mut browser, &query).await.unwrap_err();
        assert!(matches!(e, Error::InvalidState(_)), "{query}: {e:?}");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    // The real state with Cancel: 403, and the state is used up.
    let query = format!("error=access_denied&state={state}");
    let e = callback(&client, &mut browser, &query).await.unwrap_err();
    assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let e = callback(&client, &mut browser, &query).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e:?}");
    assert_eq!(token_calls(&mock), 0);
}

#[tokio::test]
async fn a_malformed_code_costs_no_token_request() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    for code in [
        "bo%20gus",
        "a%2Fb",
        "%C3%A9t%C3%A9",
        "x%0Ay",
        &"a".repeat(513),
    ] {
        let state = start(&client, &mut browser, identify());
        let e = callback(&client, &mut browser, &format!("code={code}&state={state}"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{code}: {e:?}");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(token_calls(&mock), 0);
    // A plausible but unknown code still reaches Discord (and fails there).
    let state = start(&client, &mut browser, identify());
    let e = callback(&client, &mut browser, &format!("code=bogus&state={state}"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::OAuth { .. }), "{e:?}");
    assert_eq!(token_calls(&mock), 1);
}

#[tokio::test]
async fn huge_lifetimes_are_clamped_and_never_overflow() {
    let mock = mock().await;
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .session_lifetime(Duration::MAX)
        .idle_timeout(Duration::MAX)
        .refresh_margin(Duration::MAX)
        .revoke_timeout(Duration::MAX)
        .build()
        .unwrap();
    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s.create_session(identify()).unwrap();
    browser.absorb(&s);
    let query = authorize(&url, mock.users()[0].id).await;
    let s = browser.session(&client);
    s.callback(&query).await.unwrap();
    let cookies = s.take_set_cookies();
    let session_cookie = cookies
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("discord_session="))
        .unwrap();
    let max_age: u64 = session_cookie
        .split("; ")
        .find_map(|a| a.strip_prefix("Max-Age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        max_age <= MAX_LIFETIME.as_secs(),
        "Max-Age {max_age} is over 400 days"
    );
    for c in &cookies {
        browser.absorb_header(c.to_str().unwrap());
    }
    let s = browser.session(&client);
    assert!(s.authorized().await);
    // Logout's wait for Discord's revoke: `Instant::now() + timeout` must not overflow.
    let _ = s.revoke().await;
}

/// A clock at the end of `u64` seconds (SystemTime cannot say it; `unix_now` can).
#[derive(Debug)]
struct EndOfTime;

impl Clock for EndOfTime {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn unix_now(&self) -> u64 {
        u64::MAX - 30
    }
}

#[tokio::test]
async fn a_pending_login_started_near_the_end_of_time_does_not_overflow() {
    let mock = mock().await;
    let config = config_for(&mock)
        .clock(Arc::new(EndOfTime))
        .build()
        .unwrap();
    let client = DiscordOAuth::new(config).unwrap();
    let mut browser = Browser::default();
    let first = start(&client, &mut browser, identify());
    // A second login prunes the slots by age: `created_at + lifetime` must not overflow.
    let state = start(&client, &mut browser, identify());
    assert_ne!(first, state);
    let e = callback(
        &client,
        &mut browser,
        &format!("error=access_denied&state={state}"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
}

/// The request headers of `browser` with extra `name=value` cookies placed before or after its
/// own.
fn with_cookies(browser: &Browser, before: &str, after: &str) -> HeaderMap {
    let own = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut h = HeaderMap::new();
    h.insert(
        http::header::COOKIE,
        HeaderValue::from_str(&format!("{before}{own}{after}")).unwrap(),
    );
    h
}

#[tokio::test]
async fn several_session_cookies_are_judged_by_the_valid_one() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    login(&client, &mut browser, mock.users()[0].id, identify()).await;
    let garbage =
        "discord_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (before, after) in [
        (format!("{garbage}; "), String::new()),
        (String::new(), format!("; {garbage}")),
        (
            format!("{garbage}; discord_session=; "),
            format!("; {garbage}"),
        ),
    ] {
        let s = client.session(&with_cookies(&browser, &before, &after));
        assert!(s.authorized().await, "{before} | {after}");
        assert_eq!(
            s.user_id().await,
            Some(mock.users()[0].id),
            "{before} | {after}"
        );
        let set = s.take_set_cookies();
        assert!(
            !set.iter()
                .any(|c| c.to_str().unwrap().starts_with("discord_session=")),
            "the valid cookie was cleared: {set:?}"
        );
    }
    // Only garbage: logged out, and the cookie is cleared.
    let s = client.session(&with_cookies(
        &Browser::default(),
        garbage,
        &format!("; {garbage}"),
    ));
    assert!(!s.authorized().await);
    // A pending login survives a garbage pending cookie ahead of it.
    let mut fresh = Browser::default();
    let state = start(&client, &mut fresh, identify());
    let headers = with_cookies(
        &fresh,
        "discord_login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; ",
        "",
    );
    let e = client
        .session(&headers)
        .callback(&format!("error=access_denied&state={state}"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
}

#[tokio::test]
async fn next_reaches_location_percent_encoded() {
    let mock = mock().await;
    let client = client_for(&mock);
    let base = url::Url::parse("http://127.0.0.1:5000/callback").unwrap();
    for next in [
        "/a b",
        "/caf\u{e9}",
        "/x\u{2028}y\u{2029}z",
        "/p?q=a b&r=\u{1F600}#f g\u{e9}",
        "/%41<b>\"c\"",
        "/already%20encoded",
    ] {
        let mut browser = Browser::default();
        let cb = login(
            &client,
            &mut browser,
            mock.users()[0].id,
            identify().next(next),
        )
        .await;
        assert!(
            cb.next.bytes().all(|b| b.is_ascii_graphic()),
            "{next:?} → {:?}",
            cb.next
        );
        HeaderValue::from_str(&cb.next).unwrap();
        assert_eq!(
            base.join(&cb.next).unwrap(),
            base.join(next).unwrap(),
            "{next:?} → {:?}",
            cb.next
        );
        assert_eq!(base.join(&cb.next).unwrap().origin(), base.origin());
    }
}

// ---- the same-origin check: regressions ---------------------------------------------------

/// A `Sec-Fetch-Site` that is not plain ASCII is another site (refused), never "absent".
#[test]
fn a_non_ascii_sec_fetch_site_is_cross_site() {
    use discord_oauth::session::check_same_origin;
    let app = ["https://app.example".to_owned()];
    for bytes in [
        "s\u{e4}me-origin".as_bytes(),
        b"same-origin\xff".as_slice(),
        b"\xe2\x80\x8bsame-origin".as_slice(),
        "same\u{2011}origin".as_bytes(),
    ] {
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_bytes(bytes).unwrap());
        h.insert("host", HeaderValue::from_static("app.example"));
        h.insert("origin", HeaderValue::from_static("https://app.example"));
        let refused = check_same_origin(&h, &app).unwrap_err();
        assert!(matches!(refused, Error::CrossSite), "{bytes:?}");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}

/// The `Origin` is compared as a whole: scheme, host and port.
#[test]
fn the_same_origin_check_compares_the_scheme_too() {
    use discord_oauth::session::check_same_origin;
    let app = ["https://app.example".to_owned()];
    let check = |host: &'static str, origin: &'static str| {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static(host));
        h.insert("origin", HeaderValue::from_static(origin));
        check_same_origin(&h, &app)
    };
    assert!(check("app.example", "https://app.example").is_ok());
    assert!(matches!(
        check("app.example", "http://app.example"),
        Err(Error::CrossSite)
    ));
    assert!(matches!(
        check("app.example", "https://app.example:444"),
        Err(Error::CrossSite)
    ));
    assert!(matches!(
        check("app.example", "wss://app.example"),
        Err(Error::CrossSite)
    ));
}

// ---- the in-memory revocation list is bounded -----------------------------------------------

#[tokio::test]
async fn the_memory_revocation_list_is_bounded_per_user_and_nothing_comes_back() {
    use discord_oauth::store::{
        MAX_REVOKED_PER_USER, MemoryRevocationList, RevocationList, SessionId,
    };
    let list = MemoryRevocationList::new();
    let until = u64::MAX / 2;
    let now = 1_000;
    let ids: Vec<(SessionId, u64)> = (0..1_000u64).map(|i| (SessionId::random(), i)).collect();
    for (id, created_at) in &ids {
        list.revoke_session(id, Some(7), *created_at, until)
            .await
            .unwrap();
    }
    assert!(
        list.len() <= MAX_REVOKED_PER_USER + 1,
        "{} entries for one user's 1000 logouts",
        list.len()
    );
    for (id, created_at) in &ids {
        let by_id = list.is_revoked(id, now).await.unwrap();
        let by_user = list.is_user_revoked(7, *created_at, now).await.unwrap();
        assert!(by_id || by_user, "a revoked session came back");
    }
    // A later login of that user, and another user's session, are not affected.
    assert!(!list.is_user_revoked(7, 5_000, now).await.unwrap());
    assert!(!list.is_user_revoked(8, 0, now).await.unwrap());
    assert!(!list.is_revoked(&SessionId::random(), now).await.unwrap());
}

#[tokio::test]
async fn the_memory_revocation_list_has_a_hard_bound() {
    use discord_oauth::store::{MemoryRevocationList, RevocationList, SessionId};
    let list = MemoryRevocationList::new().with_limits(8, 100);
    let mut sessions = Vec::new();
    for user in 0..500u64 {
        let id = SessionId::random();
        list.revoke_session(&id, Some(user), 1, u64::MAX / 2)
            .await
            .unwrap();
        sessions.push((user, id));
        list.revoke(&SessionId::random(), u64::MAX / 2)
            .await
            .unwrap();
    }
    // At most 100 ids; the users' sessions were folded into one entry per user, so none of
    // them comes back (only ids revoked without a user may be dropped, closest to expiry).
    assert!(list.len() <= 100 + 500, "{} entries", list.len());
    for (user, id) in &sessions {
        let by_id = list.is_revoked(id, 2).await.unwrap();
        let by_user = list.is_user_revoked(*user, 1, 2).await.unwrap();
        assert!(by_id || by_user, "user {user}'s revoked session came back");
    }
}

#[tokio::test]
async fn logouts_go_through_the_per_user_bound() {
    use discord_oauth::store::MemoryRevocationList;
    let mock = mock().await;
    let list = Arc::new(MemoryRevocationList::new().with_limits(2, 1_000));
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let user = mock.users()[0].id;
    for _ in 0..3 {
        let mut browser = Browser::default();
        login(&client, &mut browser, user, identify()).await;
        browser.session(&client).logout_local().await;
    }
    // Three logouts of one user past a bound of two: one user-level entry, no ids.
    assert_eq!(list.len(), 1);
}

// ---- throttling the unauthenticated login steps ---------------------------------------------

/// Lets `allowed` steps through, then refuses for a minute; records the keys it was asked about.
#[derive(Debug)]
struct Budget {
    allowed: std::sync::atomic::AtomicI64,
    keys: std::sync::Mutex<Vec<(discord_oauth::session::LoginStep, Option<String>)>>,
}

impl discord_oauth::session::LoginThrottle for Budget {
    fn check(
        &self,
        step: discord_oauth::session::LoginStep,
        client: Option<&str>,
    ) -> Result<(), Duration> {
        self.keys
            .lock()
            .unwrap()
            .push((step, client.map(str::to_owned)));
        if self
            .allowed
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            > 0
        {
            Ok(())
        } else {
            Err(Duration::from_secs(60))
        }
    }
}

#[tokio::test]
async fn a_login_throttle_refuses_before_minting_a_state_or_exchanging_a_code() {
    use discord_oauth::session::LoginStep;
    let mock = mock().await;
    let budget = Arc::new(Budget {
        allowed: 1.into(),
        keys: std::sync::Mutex::default(),
    });
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .login_throttle(budget.clone())
        .build()
        .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    // The first start passes (and is named by its client key).
    let s = browser.session(&client);
    s.set_client_key("203.0.113.7");
    let url = s.create_session(identify()).unwrap();
    browser.absorb(&s);
    // The second start is refused: 429 with Retry-After, no pending cookie.
    let s = browser.session(&client);
    s.set_client_key("203.0.113.7");
    let refused = s.create_session(identify()).unwrap_err();
    assert!(matches!(refused, Error::Throttled { .. }));
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(60)));
    assert!(s.take_set_cookies().is_empty(), "nothing minted");
    // The callback is refused before its code is exchanged, and its state stays usable.
    let query = authorize(&url, user).await;
    let before = token_calls(&mock);
    let s = browser.session(&client);
    assert!(matches!(
        s.callback(&query).await,
        Err(Error::Throttled { .. })
    ));
    assert_eq!(token_calls(&mock), before, "no token request");
    budget.allowed.store(1, std::sync::atomic::Ordering::SeqCst);
    let s = browser.session(&client);
    s.callback(&query).await.unwrap();
    assert_eq!(token_calls(&mock), before + 1);
    let keys = budget.keys.lock().unwrap();
    assert_eq!(keys[0], (LoginStep::Login, Some("203.0.113.7".to_owned())));
    assert_eq!(keys[2], (LoginStep::Callback, None));
}
