//! Rate limits: headers consistent with fixed windows, 429 once a window is spent, per-identity
//! and per-major-parameter keys, the global per-bot limit (https://discord.com/developers/docs/topics/rate-limits).

mod common;
use common::*;
use discord_oauth_mock::{MockDiscord, RateLimitConfig, seed};
use serde_json::json;
use std::time::Duration;

fn h(r: &reqwest::Response, k: &str) -> String {
    r.headers()
        .get(k)
        .unwrap_or_else(|| panic!("missing {k}"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn limited_mock(cfg: RateLimitConfig) -> MockDiscord {
    MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(cfg)
        .start()
        .await
}

#[tokio::test]
async fn headers_follow_the_window_and_429_when_spent() {
    let m = limited_mock(RateLimitConfig::default().per_route(3, Duration::from_secs(60))).await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds").await);
    let mut bucket = None;
    let mut first_reset = None;
    for expected_remaining in [2, 1, 0] {
        let r = get_bearer(&c, &m, "/users/@me", &t).await;
        assert_eq!(r.status(), 200);
        assert_eq!(h(&r, "x-ratelimit-limit"), "3");
        assert_eq!(
            h(&r, "x-ratelimit-remaining"),
            expected_remaining.to_string()
        );
        let after: f64 = h(&r, "x-ratelimit-reset-after").parse().unwrap();
        let reset: f64 = h(&r, "x-ratelimit-reset").parse().unwrap();
        assert!(after > 0.0 && after <= 60.0, "reset-after {after}");
        // Reset is epoch seconds with millisecond decimals, consistent with Reset-After.
        assert!(h(&r, "x-ratelimit-reset").split('.').nth(1).unwrap().len() == 3);
        assert!(
            (reset - (now() + after)).abs() < 5.0,
            "reset {reset} vs now+after"
        );
        // Fixed window: the reset time does not move with later requests.
        let fr = *first_reset.get_or_insert(reset);
        assert!((reset - fr).abs() < 0.01, "reset moved: {fr} -> {reset}");
        let b = h(&r, "x-ratelimit-bucket");
        assert_eq!(b.len(), 32);
        assert_eq!(bucket.get_or_insert(b.clone()), &b);
    }
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.status(), 429);
    assert_eq!(h(&r, "x-ratelimit-scope"), "user");
    assert_eq!(h(&r, "x-ratelimit-remaining"), "0");
    assert!(r.headers().get("x-ratelimit-global").is_none());
    let retry_header: u64 = h(&r, "retry-after").parse().unwrap();
    let body = body_json(r).await;
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry = body["retry_after"].as_f64().unwrap();
    assert!(retry > 0.0 && retry <= 60.0);
    assert_eq!(
        retry_header,
        retry.ceil() as u64,
        "Retry-After is retry_after rounded up"
    );
    let s = m.stats();
    assert_eq!(s.rate_limited_on("GET /api/v10/users/@me"), 1);
    assert_eq!(s.total_rate_limited, 1);
    // Another route has its own bucket and window.
    let r = get_bearer(&c, &m, "/users/@me/guilds", &t).await;
    assert_eq!(r.status(), 200);
    assert_ne!(h(&r, "x-ratelimit-bucket"), bucket.unwrap());
    // Another user has their own window on the same route.
    let t2 = access(&login(&c, &m, seed::NELLY, "identify").await);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t2).await.status(), 200);
}

#[tokio::test]
async fn window_reopens_after_it_ends() {
    let m = limited_mock(RateLimitConfig::default().per_route(1, Duration::from_millis(200))).await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 200);
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.status(), 429);
    let retry = body_json(r).await["retry_after"].as_f64().unwrap();
    tokio::time::sleep(Duration::from_secs_f64(retry) + Duration::from_millis(50)).await;
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_eq!(r.status(), 200);
    assert_eq!(h(&r, "x-ratelimit-remaining"), "0");
}

#[tokio::test]
async fn major_parameter_and_shared_buckets() {
    let m = limited_mock(RateLimitConfig::default().route(
        "PUT /guilds/{guild_id}/members/{user_id}",
        1,
        Duration::from_secs(60),
    ))
    .await;
    let c = client();
    let nelly = access(&login(&c, &m, seed::NELLY, "guilds.join").await);
    let put = |g: u64| {
        c.put(format!(
            "{}/guilds/{g}/members/{}",
            m.api_url(),
            seed::NELLY
        ))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .json(&json!({"access_token": nelly}))
        .send()
    };
    let a = put(seed::GUILD_LOBBY).await.unwrap();
    let b = put(seed::GUILD_XSS).await.unwrap();
    assert!(a.status().is_success() && b.status().is_success());
    // Same bucket id, different guilds: independent windows.
    assert_eq!(h(&a, "x-ratelimit-bucket"), h(&b, "x-ratelimit-bucket"));
    assert_eq!(put(seed::GUILD_LOBBY).await.unwrap().status(), 429);
    // GET and PUT role-connection share one bucket (same limit).
    let t = access(&login(&c, &m, seed::ALICE, "role_connections.write").await);
    let url = format!(
        "{}/users/@me/applications/{}/role-connection",
        m.api_url(),
        m.client_id()
    );
    let g = c.get(&url).bearer_auth(&t).send().await.unwrap();
    let p = c
        .put(&url)
        .bearer_auth(&t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(h(&g, "x-ratelimit-bucket"), h(&p, "x-ratelimit-bucket"));
    assert_eq!(
        h(&p, "x-ratelimit-remaining").parse::<u32>().unwrap() + 1,
        h(&g, "x-ratelimit-remaining").parse::<u32>().unwrap()
    );
}

/// The global limit applies per bot, per user of a Bearer token and per IP without a token
/// (<https://discord.com/developers/docs/topics/rate-limits#global-rate-limit>), each with its
/// own window; the OAuth2 token endpoint is left to its per-route limit.
#[tokio::test]
async fn global_limit_per_bot_user_and_ip() {
    let m = limited_mock(RateLimitConfig::default().global(5, Duration::from_secs(60))).await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let alice = access(&login(&c, &m, seed::ALICE, "identify").await);
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(
            get_bearer(&c, &m, "/users/@me", &alice)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    // Another user, logging in after that (the token endpoint has no global limit), has a
    // window of their own, and so does the bot.
    let nelly = access(&login(&c, &m, seed::NELLY, "identify").await);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &nelly).await.status(), 200);
    let mut statuses = vec![];
    for _ in 0..6 {
        let r = c
            .get(format!("{}/users/@me", m.api_url()))
            .header("authorization", &bot)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert_eq!(h(&r, "x-ratelimit-global"), "true");
            assert_eq!(h(&r, "x-ratelimit-scope"), "global");
            let retry_header: u64 = h(&r, "retry-after").parse().unwrap();
            let b = body_json(r).await;
            assert_eq!(b["global"], true);
            assert_eq!(b["code"], 0);
            assert_eq!(
                retry_header,
                b["retry_after"].as_f64().unwrap().ceil() as u64
            );
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    // Without a token: per IP.
    let mut statuses = vec![];
    for _ in 0..6 {
        let r = c
            .get(format!("{}/users/@me", m.api_url()))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
}

#[tokio::test]
async fn defaults_do_not_trip_normal_use() {
    let m = limited_mock(RateLimitConfig::default()).await;
    let c = client();
    for _ in 0..5 {
        let t = access(&login(&c, &m, seed::ALICE, "identify guilds connections").await);
        for p in ["/users/@me", "/users/@me/guilds", "/users/@me/connections"] {
            assert_eq!(get_bearer(&c, &m, p, &t).await.status(), 200, "{p}");
        }
    }
    assert_eq!(m.stats().total_rate_limited, 0);
}

#[tokio::test]
async fn hundred_member_adds_only_meet_the_global_limit() {
    let m = limited_mock(RateLimitConfig::default()).await;
    let c = client();
    let nelly = access(&login(&c, &m, seed::NELLY, "guilds.join").await);
    let mut user_scoped = 0;
    let mut ok = 0;
    for _ in 0..100 {
        let r = c
            .put(format!(
                "{}/guilds/{}/members/{}",
                m.api_url(),
                seed::GUILD_LOBBY,
                seed::NELLY
            ))
            .header("authorization", format!("Bot {}", m.bot_token()))
            .json(&json!({"access_token": nelly}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            201 | 204 => ok += 1,
            429 => {
                if h(&r, "x-ratelimit-scope") != "global" {
                    user_scoped += 1;
                }
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!(
        user_scoped, 0,
        "the per-route bucket must allow 100 adds per window"
    );
    assert!(ok >= 50);
}

#[tokio::test]
async fn disabled_limits_send_no_headers() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    for _ in 0..60 {
        let r = get_bearer(&c, &m, "/users/@me", &t).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-ratelimit-limit").is_none());
    }
    // Switch on at run time.
    m.set_rate_limits(RateLimitConfig::default().per_route(1, Duration::from_secs(60)));
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 200);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 429);
    // reset() clears the windows.
    m.reset();
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(get_bearer(&c, &m, "/users/@me", &t).await.status(), 200);
}
