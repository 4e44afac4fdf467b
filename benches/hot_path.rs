//! The hot path of an authenticated, cached `GET /me`: one session-cookie decrypt (plus the
//! revocation and expiry checks) and one users-cache hit, per request. Logs in once against the
//! fake Discord on loopback; the measured loop makes no network call (checked at the end).
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use discord_oauth::Fetch;
use discord_oauth::{Config, DiscordOAuth, LoginOptions, Scope};
use discord_oauth_mock::MockDiscord;
use http::{HeaderMap, HeaderValue};

const REDIRECT: &str = "http://127.0.0.1:5000/callback";

fn cookie_of(set_cookies: &[HeaderValue]) -> String {
    set_cookies
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter(|c| !c.contains("Max-Age=0"))
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn logged_in() -> (MockDiscord, DiscordOAuth, HeaderMap) {
    let mock = MockDiscord::builder().redirect_uri(REDIRECT).start().await;
    let config = Config::builder()
        .client_id(mock.client_id())
        .client_secret(mock.client_secret())
        .redirect_uri(REDIRECT)
        .bot_token(mock.bot_token())
        .base_url(mock.base_url())
        .cdn_url(mock.cdn_url())
        .secret_key("k".repeat(48))
        .build()
        .expect("config");
    let client = DiscordOAuth::new(config).expect("client");
    let user = mock.users()[0].id;
    let s = client.session(&HeaderMap::new());
    let mut url = s
        .create_session(LoginOptions::new().scopes([Scope::Identify]))
        .expect("login url");
    let pending = cookie_of(&s.take_set_cookies());
    url.query_pairs_mut()
        .append_pair("mock_user", &user.to_string());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest");
    let resp = http.get(url).send().await.expect("authorize");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let query = url::Url::parse(&location)
        .expect("url")
        .query()
        .unwrap_or("")
        .to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::COOKIE,
        HeaderValue::from_str(&pending).expect("cookie"),
    );
    let s = client.session(&headers);
    s.callback(&query).await.expect("callback");
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::COOKIE,
        HeaderValue::from_str(&cookie_of(&s.take_set_cookies())).expect("cookie"),
    );
    (mock, client, headers)
}

fn hot_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (mock, client, headers) = rt.block_on(logged_in());
    let calls_before = mock.stats().requests_to("GET /api/v10/users/@me");

    let mut group = c.benchmark_group("hot_path");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("session_record (cookie decrypt + checks)", |b| {
        b.to_async(&rt).iter(|| async {
            let s = client.session(&headers);
            assert!(s.record().await.expect("record").is_some());
        });
    });
    group.bench_function("fetch_user json (decrypt + cache hit)", |b| {
        b.to_async(&rt).iter(|| async {
            let s = client.session(&headers);
            s.fetch_user(Fetch::Cached)
                .await
                .expect("cached user")
                .json()
                .clone()
        });
    });
    group.bench_function("fetch_user (decrypt + cache hit, shared User)", |b| {
        b.to_async(&rt).iter(|| async {
            let s = client.session(&headers);
            s.fetch_user(Fetch::Cached).await.expect("cached user")
        });
    });
    group.bench_function(
        "fetch_user memo (decrypt + cache hit + memoized body)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let s = client.session(&headers);
                s.fetch_user(Fetch::Cached)
                    .await
                    .expect("cached user")
                    .memo("bench/me", |u| bytes::Bytes::from(u.id.to_string()))
            });
        },
    );
    group.finish();

    // The login side: state creation (random state + PKCE pair + pending-cookie encrypt +
    // authorize URL) and the state check of a callback (pending-cookie decrypt + constant-time
    // slot lookup); a forged state is refused before any network call.
    let mut login = c.benchmark_group("login");
    login.measurement_time(Duration::from_secs(5));
    login.bench_function("create_session (state, PKCE, cookie encrypt, URL)", |b| {
        b.iter(|| {
            let s = client.session(&HeaderMap::new());
            let url = s
                .create_session(LoginOptions::new().scopes([Scope::Identify]))
                .expect("url");
            (url, s.take_set_cookies())
        });
    });
    let pending = {
        let s = client.session(&HeaderMap::new());
        s.create_session(LoginOptions::new()).expect("url");
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&cookie_of(&s.take_set_cookies())).expect("cookie"),
        );
        h
    };
    login.bench_function(
        "callback state check (cookie decrypt + lookup, refused)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let s = client.session(&pending);
                let err = s
                    .callback("code=x&state=AAAAAAAAAAAAAAAAAAAAAA")
                    .await
                    .expect_err("forged state");
                assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
            });
        },
    );
    login.finish();
    assert_eq!(
        mock.stats().requests_to("GET /api/v10/users/@me"),
        calls_before,
        "the measured loop never called Discord"
    );
    rt.block_on(mock.shutdown());
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
