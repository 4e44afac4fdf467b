//! Discord rate limits (issue 6): the limiter alone on Tokio's paused clock (deterministic, no
//! sleeping), and the whole pipeline against tiny local axum servers on 127.0.0.1 (assertions on
//! hit and 429 counts, never on durations).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap as AxHeaders, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use discord_oauth::ratelimit::{
    DiscordLimiter, Identity, Limiter, MemoryStore, RateLimitStore, RequestKey,
};
use discord_oauth::{Config, DiscordOAuth, Error};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// Helpers

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn bucket(hash: &str, limit: u32, remaining: u32, reset_after: f64) -> HeaderMap {
    headers(&[
        ("x-ratelimit-bucket", hash),
        ("x-ratelimit-limit", &limit.to_string()),
        ("x-ratelimit-remaining", &remaining.to_string()),
        ("x-ratelimit-reset-after", &reset_after.to_string()),
    ])
}

fn limiter_with(store: Arc<MemoryStore>) -> DiscordLimiter {
    DiscordLimiter::builder()
        .store(store as Arc<dyn RateLimitStore>)
        .build()
}

/// One call through the limiter: acquire, then (if allowed) observe the given answer.
async fn call(
    l: &DiscordLimiter,
    method: &Method,
    path: &str,
    id: &Identity,
    token: Option<u64>,
    deadline: Duration,
    answer: Option<(StatusCode, HeaderMap)>,
) -> Result<(), Error> {
    let rt = route(method, path);
    let mut key = RequestKey::new(&rt, id);
    if let Some(t) = token {
        key = key.with_token(t);
    }
    l.acquire(&key, Instant::now() + deadline)
        .await
        .map_err(Error::from)?;
    if let Some((status, h)) = answer {
        l.observe(&key, status, &h).await;
    }
    Ok(())
}

const LONG: Duration = Duration::from_secs(3600);

fn ok(h: HeaderMap) -> Option<(StatusCode, HeaderMap)> {
    Some((StatusCode::OK, h))
}

/// Whether a call can go now: with a 1 ms deadline a wait fails at once (never sleeps).
async fn goes_now(l: &DiscordLimiter, method: &Method, path: &str, id: &Identity) -> bool {
    let rt = route(method, path);
    let key = RequestKey::new(&rt, id);
    let t0 = Instant::now();
    let r = l
        .acquire(&key, Instant::now() + Duration::from_millis(1))
        .await
        .map_err(Error::from);
    assert_eq!(
        Instant::now(),
        t0,
        "acquire must not sleep past the deadline"
    );
    match r {
        Ok(()) => true,
        Err(Error::RateLimited { .. }) => false,
        Err(e) => panic!("unexpected {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The limiter alone, on the paused clock

#[tokio::test(start_paused = true)]
async fn bucket_learned_from_headers_and_waited_out() {
    let l = DiscordLimiter::new();
    let (get, me, user) = (Method::GET, "/users/@me", Identity::User(1));
    // Unknown bucket: the first call goes; Discord says 2 per 5 s, 1 left.
    call(
        &l,
        &get,
        me,
        &user,
        None,
        LONG,
        ok(bucket("abc", 2, 1, 5.0)),
    )
    .await
    .unwrap();
    assert!(goes_now(&l, &get, me, &user).await, "one left");
    l.observe(
        &RequestKey::new(&route(&get, me), &user),
        StatusCode::OK,
        &bucket("abc", 2, 0, 4.9),
    )
    .await;
    // Spent: waiting is refused when it does not fit in the deadline...
    assert!(!goes_now(&l, &get, me, &user).await);
    // ...and waited out (until the reset, not longer) when it does.
    let t0 = Instant::now();
    call(&l, &get, me, &user, None, Duration::from_secs(10), None)
        .await
        .unwrap();
    let waited = Instant::now() - t0;
    assert!(waited >= Duration::from_millis(4_900) && waited <= Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn unknown_bucket_lets_one_probe_through() {
    let l = DiscordLimiter::new();
    let (get, p, user) = (Method::GET, "/users/@me/connections", Identity::User(3));
    let rt = route(&get, p);
    let key = RequestKey::new(&rt, &user);
    l.acquire(&key, Instant::now() + LONG)
        .await
        .map_err(Error::from)
        .unwrap();
    // While the first call is in flight, a second one is held back...
    assert!(!goes_now(&l, &get, p, &user).await);
    // ...until the first answer names the bucket.
    l.observe(&key, StatusCode::OK, &bucket("conn", 5, 4, 5.0))
        .await;
    assert!(goes_now(&l, &get, p, &user).await);
}

#[tokio::test(start_paused = true)]
async fn routes_sharing_one_bucket_share_its_budget() {
    let l = DiscordLimiter::new();
    let get = Method::GET;
    let user = Identity::User(1);
    call(
        &l,
        &get,
        "/users/@me",
        &user,
        None,
        LONG,
        ok(bucket("same", 3, 2, 10.0)),
    )
    .await
    .unwrap();
    call(
        &l,
        &get,
        "/users/@me/guilds",
        &user,
        None,
        LONG,
        ok(bucket("same", 3, 1, 9.0)),
    )
    .await
    .unwrap();
    call(
        &l,
        &get,
        "/users/@me",
        &user,
        None,
        LONG,
        ok(bucket("same", 3, 0, 8.0)),
    )
    .await
    .unwrap();
    // Spent through the first route: the second route waits too.
    assert!(!goes_now(&l, &get, "/users/@me/guilds", &user).await);
    assert!(!goes_now(&l, &get, "/users/@me", &user).await);
}

#[tokio::test(start_paused = true)]
async fn buckets_are_separate_per_user_and_per_major_parameter() {
    let l = DiscordLimiter::new();
    let get = Method::GET;
    let (alice, bob) = (Identity::User(10), Identity::User(20));
    let route_a = "/users/@me/guilds/111/member";
    let route_b = "/users/@me/guilds/222/member";
    call(
        &l,
        &get,
        route_a,
        &alice,
        None,
        LONG,
        ok(bucket("m", 1, 0, 30.0)),
    )
    .await
    .unwrap();
    assert!(
        !goes_now(&l, &get, route_a, &alice).await,
        "alice spent guild 111"
    );
    assert!(
        goes_now(&l, &get, route_a, &bob).await,
        "bob has his own bucket"
    );
    assert!(
        goes_now(&l, &get, route_b, &alice).await,
        "guild 222 is another bucket"
    );
    // Bot calls: per guild too.
    let put = Method::PUT;
    let bot = Identity::Bot;
    call(
        &l,
        &put,
        "/guilds/1/members/5",
        &bot,
        None,
        LONG,
        ok(bucket("add", 1, 0, 30.0)),
    )
    .await
    .unwrap();
    assert!(
        !goes_now(&l, &put, "/guilds/1/members/6", &bot).await,
        "same guild, other user id"
    );
    assert!(
        goes_now(&l, &put, "/guilds/2/members/5", &bot).await,
        "other guild"
    );
}

#[tokio::test(start_paused = true)]
async fn knowledge_kept_across_a_token_rotation() {
    let l = DiscordLimiter::new();
    let get = Method::GET;
    let user = Identity::User(42);
    let old_token = discord_oauth::secret::Fingerprint::of("old-access-token").short();
    let new_token = discord_oauth::secret::Fingerprint::of("new-access-token").short();
    assert_ne!(old_token, new_token);
    call(
        &l,
        &get,
        "/users/@me",
        &user,
        Some(old_token),
        LONG,
        ok(bucket("me", 1, 0, 20.0)),
    )
    .await
    .unwrap();
    // Same user, rotated token: still the same (spent) bucket.
    let rt = route(&get, "/users/@me");
    let key = RequestKey::new(&rt, &user).with_token(new_token);
    let t0 = Instant::now();
    let r = l
        .acquire(&key, Instant::now() + Duration::from_secs(1))
        .await
        .map_err(Error::from);
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    assert_eq!(Instant::now(), t0);
}

#[tokio::test(start_paused = true)]
async fn global_limit_held_proactively_for_the_bot() {
    let l = Arc::new(DiscordLimiter::new());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..120u64 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("/guilds/{}/members/{i}", i % 7);
            let get = Method::GET;
            let bot = Identity::Bot;
            let rt = route(&get, &path);
            let key = RequestKey::new(&rt, &bot);
            l.acquire(&key, Instant::now() + LONG)
                .await
                .map_err(Error::from)
                .unwrap();
            let at = Instant::now() - start;
            l.observe(&key, StatusCode::OK, &HeaderMap::new()).await;
            at
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.push(t.await.unwrap());
    }
    times.sort();
    assert_eq!(times.len(), 120);
    // No window of one second (plus the margin) holds more than 50 calls.
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_millis(1_050))
            .count();
        assert!(
            in_window <= 50,
            "{in_window} calls within a second from {t:?}"
        );
    }
    // Users' calls are not held by the bot's global limit.
    assert!(goes_now(&l, &Method::GET, "/users/@me", &Identity::User(1)).await);
}

#[tokio::test(start_paused = true)]
async fn global_429_blocks_every_bot_call() {
    let l = DiscordLimiter::new();
    let get = Method::GET;
    let bot = Identity::Bot;
    let h = headers(&[
        ("retry-after", "65"),
        ("x-ratelimit-global", "true"),
        ("x-ratelimit-scope", "global"),
    ]);
    call(
        &l,
        &get,
        "/guilds/1",
        &bot,
        None,
        LONG,
        Some((StatusCode::TOO_MANY_REQUESTS, h)),
    )
    .await
    .unwrap();
    let rt = route(&get, "/channels/9");
    let key = RequestKey::new(&rt, &bot);
    let t0 = Instant::now();
    match l
        .acquire(&key, Instant::now() + Duration::from_secs(10))
        .await
        .map_err(Error::from)
    {
        Err(Error::RateLimited {
            global,
            retry_after,
            ..
        }) => {
            assert!(global);
            assert!(retry_after > Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Instant::now(), t0, "fail fast, no sleep");
    assert!(goes_now(&l, &get, "/users/@me", &Identity::User(1)).await);
}

#[tokio::test(start_paused = true)]
async fn route_429_waited_within_deadline_and_fails_fast_beyond() {
    let l = DiscordLimiter::new();
    let get = Method::GET;
    let user = Identity::User(5);
    let h429 = headers(&[
        ("retry-after", "3"),
        ("x-ratelimit-limit", "5"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset-after", "2.5"),
        ("x-ratelimit-bucket", "b429"),
        ("x-ratelimit-scope", "user"),
    ]);
    call(
        &l,
        &get,
        "/users/@me",
        &user,
        None,
        LONG,
        Some((StatusCode::TOO_MANY_REQUESTS, h429)),
    )
    .await
    .unwrap();
    // Beyond the deadline: RateLimited at once, the clock did not move.
    let rt = route(&get, "/users/@me");
    let key = RequestKey::new(&rt, &user);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(1);
    let r = l.acquire(&key, deadline).await.map_err(Error::from);
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    assert!(Instant::now() <= deadline);
    assert_eq!(Instant::now(), t0);
    // Within it: waited out (Retry-After, the rounded-up value, is honoured).
    l.acquire(&key, t0 + Duration::from_secs(10))
        .await
        .map_err(Error::from)
        .unwrap();
    assert!(Instant::now() - t0 >= Duration::from_secs(3));
    assert!(Instant::now() < t0 + Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn shared_scope_429_blocks_the_resource_for_everyone_and_is_not_invalid() {
    let l = DiscordLimiter::builder()
        .invalid_budget(4, Duration::from_secs(600), 1.0)
        .build();
    let get = Method::GET;
    let route = "/users/@me/guilds/777/member";
    let shared = headers(&[
        ("retry-after", "10"),
        ("x-ratelimit-scope", "shared"),
        ("x-ratelimit-bucket", "res"),
    ]);
    for u in 1..=6u64 {
        // Each user learns the bucket (200), then hits the shared limit (429, shared).
        let user = Identity::User(u);
        if u > 1 {
            // The resource is blocked for every user once one saw the shared 429.
            assert!(!goes_now(&l, &get, route, &user).await, "user {u}");
            tokio::time::advance(Duration::from_secs(11)).await;
        }
        call(
            &l,
            &get,
            route,
            &user,
            None,
            LONG,
            ok(bucket("res", 10, 9, 5.0)),
        )
        .await
        .unwrap();
        call(
            &l,
            &get,
            route,
            &user,
            None,
            LONG,
            Some((StatusCode::TOO_MANY_REQUESTS, shared.clone())),
        )
        .await
        .unwrap();
    }
    // Six shared 429s: the invalid budget (4) is untouched, other resources still go.
    assert!(goes_now(&l, &get, "/users/@me", &Identity::User(99)).await);
}

#[tokio::test(start_paused = true)]
async fn dead_tokens_refused_locally_and_do_not_count() {
    let l = DiscordLimiter::builder()
        .invalid_budget(10, Duration::from_secs(600), 0.5)
        .build();
    let get = Method::GET;
    let user = Identity::User(8);
    let dead = discord_oauth::secret::Fingerprint::of("revoked").short();
    call(
        &l,
        &get,
        "/users/@me",
        &user,
        Some(dead),
        LONG,
        Some((StatusCode::UNAUTHORIZED, HeaderMap::new())),
    )
    .await
    .unwrap();
    for _ in 0..100 {
        let r = call(&l, &get, "/users/@me", &user, Some(dead), LONG, None).await;
        assert!(matches!(r, Err(Error::Unauthorized)), "{r:?}");
    }
    // The user's refreshed token works; the 100 replays did not eat the budget (1 of 5 used).
    let fresh = discord_oauth::secret::Fingerprint::of("refreshed").short();
    call(&l, &get, "/users/@me", &user, Some(fresh), LONG, None)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn per_ip_invalid_budget_fails_fast_near_its_limit() {
    // 10 per 10 minutes, refuse at 90% (9).
    let l = DiscordLimiter::builder()
        .invalid_budget(10, Duration::from_secs(600), 0.9)
        .build();
    let get = Method::GET;
    for u in 0..9u64 {
        let path = format!("/guilds/{u}");
        call(
            &l,
            &get,
            &path,
            &Identity::Bot,
            None,
            LONG,
            Some((StatusCode::FORBIDDEN, HeaderMap::new())),
        )
        .await
        .unwrap();
    }
    // Every identity is refused at once with a typed error.
    for id in [Identity::Bot, Identity::User(1), Identity::Anonymous] {
        let rt = route(&get, "/users/@me");
        let key = RequestKey::new(&rt, &id);
        let t0 = Instant::now();
        match l
            .acquire(&key, Instant::now() + LONG)
            .await
            .map_err(Error::from)
        {
            Err(Error::RateLimited { retry_after, .. }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(600));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Instant::now(), t0);
    }
    // Once the window has passed, calls go again.
    tokio::time::advance(Duration::from_secs(601)).await;
    assert!(goes_now(&l, &get, "/users/@me", &Identity::User(1)).await);
}

#[tokio::test(start_paused = true)]
async fn idle_buckets_are_evicted() {
    let store = Arc::new(MemoryStore::with_idle_ttl(Duration::from_secs(60)));
    let l = limiter_with(store.clone());
    let get = Method::GET;
    for u in 0..1_000u64 {
        call(
            &l,
            &get,
            "/users/@me",
            &Identity::User(u),
            None,
            LONG,
            ok(bucket("me", 5, 4, 1.0)),
        )
        .await
        .unwrap();
    }
    assert!(store.len() >= 1_000, "{}", store.len());
    tokio::time::advance(Duration::from_secs(120)).await;
    call(
        &l,
        &get,
        "/users/@me",
        &Identity::User(5_000),
        None,
        LONG,
        None,
    )
    .await
    .unwrap();
    assert!(store.len() <= 2, "idle buckets left: {}", store.len());
}

// ---------------------------------------------------------------------------------------------
// The pipeline against local servers (real time, short waits; counts, not durations)

#[derive(Default)]
struct Hits {
    total: AtomicUsize,
    limited: AtomicUsize,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    format!("http://{addr}")
}

fn client(base: &str, timeout: Duration, limiter: Option<DiscordLimiter>) -> DiscordOAuth {
    let config = Config::builder()
        .client_id(1)
        .client_secret("s")
        .redirect_uri("http://127.0.0.1/cb")
        .bot_token("t")
        .base_url(base)
        .request_timeout(timeout)
        .build()
        .unwrap();
    let mut b = DiscordOAuth::builder(config);
    if let Some(l) = limiter {
        b = b.limiter(Arc::new(l));
    }
    b.build().unwrap()
}

fn json(status: u16, body: &str, extra: &[(&'static str, &str)]) -> Response {
    let mut h = AxHeaders::new();
    h.insert("content-type", "application/json".parse().unwrap());
    for (k, v) in extra {
        h.insert(*k, v.parse().unwrap());
    }
    (AxStatus::from_u16(status).unwrap(), h, body.to_owned()).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_limit_120_bot_calls_zero_429s() {
    // The server enforces 50 per 1-second window, Discord-style, and answers 429 beyond it.
    let hits = Arc::new(Hits::default());
    let window = Arc::new(std::sync::Mutex::new((
        std::time::Instant::now(),
        0u32,
        false,
    )));
    let (h, w) = (hits.clone(), window.clone());
    let router = Router::new().fallback(move || {
        let (h, w) = (h.clone(), w.clone());
        async move {
            h.total.fetch_add(1, Ordering::SeqCst);
            let mut w = w.lock().unwrap();
            let now = std::time::Instant::now();
            if !w.2 || now.duration_since(w.0) >= Duration::from_secs(1) {
                *w = (now, 0, true);
            }
            w.1 += 1;
            if w.1 > 50 {
                h.limited.fetch_add(1, Ordering::SeqCst);
                return json(
                    429,
                    r#"{"message":"You are being rate limited.","retry_after":0.5,"global":true}"#,
                    &[
                        ("x-ratelimit-global", "true"),
                        ("x-ratelimit-scope", "global"),
                        ("retry-after", "1"),
                    ],
                );
            }
            json(204, "", &[])
        }
    });
    let base = serve(router).await;
    // A generous skew margin: this test machine is shared and busy.
    let limiter = DiscordLimiter::builder()
        .global_margin(Duration::from_millis(400))
        .build();
    let discord = client(&base, Duration::from_secs(20), Some(limiter));
    let mut tasks = Vec::new();
    for i in 0..120u64 {
        let d = discord.clone();
        tasks.push(tokio::spawn(async move {
            d.bot_request(Method::PUT, format!("/guilds/1/members/{i}"))
                .send()
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(hits.limited.load(Ordering::SeqCst), 0, "no 429 collected");
    assert_eq!(hits.total.load(Ordering::SeqCst), 120);
}

#[tokio::test]
async fn pipeline_waits_out_a_429_within_the_deadline() {
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            if h.total.fetch_add(1, Ordering::SeqCst) == 0 {
                return json(
                    429,
                    r#"{"message":"You are being rate limited.","retry_after":0.2,"global":false}"#,
                    &[
                        ("retry-after", "1"),
                        ("x-ratelimit-limit", "1"),
                        ("x-ratelimit-remaining", "0"),
                        ("x-ratelimit-reset-after", "0.2"),
                        ("x-ratelimit-bucket", "p"),
                        ("x-ratelimit-scope", "user"),
                    ],
                );
            }
            json(200, r#"{"id":"1"}"#, &[])
        }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(10), None);
    // A POST too: a 429 means Discord did not process it.
    let r = discord
        .bot_request(Method::POST, "/channels/1/messages")
        .send()
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn pipeline_fails_fast_when_the_429_wait_exceeds_the_deadline() {
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.total.fetch_add(1, Ordering::SeqCst);
            json(
                429,
                r#"{"message":"You are being rate limited.","retry_after":30.5,"global":false}"#,
                &[
                    ("retry-after", "31"),
                    ("x-ratelimit-bucket", "q"),
                    ("x-ratelimit-scope", "user"),
                ],
            )
        }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(2), None);
    let r = discord.bot_request(Method::GET, "/guilds/5").send().await;
    match r {
        Err(Error::RateLimited { retry_after, .. }) => {
            assert_eq!(retry_after, Duration::from_secs_f64(30.5));
        }
        other => panic!("{other:?}"),
    }
    // The next call is refused locally (the bucket is known to be blocked): no second request.
    let r = discord.bot_request(Method::GET, "/guilds/5").send().await;
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bot_token_rejected_once_then_refused_locally() {
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.total.fetch_add(1, Ordering::SeqCst);
            json(401, r#"{"message":"401: Unauthorized","code":0}"#, &[])
        }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(5), None);
    for _ in 0..5 {
        let r = discord.bot_request(Method::GET, "/guilds/5").send().await;
        assert!(matches!(r, Err(Error::BotUnauthorized)), "{r:?}");
    }
    assert_eq!(
        hits.total.load(Ordering::SeqCst),
        1,
        "a rejected bot token is not resent"
    );
}

#[tokio::test]
async fn server_errors_retried_for_get_not_for_post() {
    let get_hits = Arc::new(Hits::default());
    let post_hits = Arc::new(Hits::default());
    let (g, p) = (get_hits.clone(), post_hits.clone());
    let router = Router::new()
        .route(
            "/api/v10/guilds/1",
            axum::routing::get(move || {
                let g = g.clone();
                async move {
                    if g.total.fetch_add(1, Ordering::SeqCst) == 0 {
                        return json(503, r#"{"message":"unavailable","code":0}"#, &[]);
                    }
                    json(200, r#"{"id":"1"}"#, &[])
                }
            }),
        )
        .route(
            "/api/v10/channels/1/messages",
            axum::routing::post(move || {
                let p = p.clone();
                async move {
                    if p.total.fetch_add(1, Ordering::SeqCst) == 0 {
                        return json(502, r#"{"message":"bad gateway","code":0}"#, &[]);
                    }
                    json(200, r#"{"id":"2"}"#, &[])
                }
            }),
        );
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(10), None);
    let r = discord.bot_request(Method::GET, "/guilds/1").send().await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(get_hits.total.load(Ordering::SeqCst), 2);
    let r = discord
        .bot_request(Method::POST, "/channels/1/messages")
        .json(&serde_json::json!({"content": "hi"}))
        .send()
        .await;
    match r {
        Err(Error::Api { status, .. }) => assert_eq!(status, StatusCode::BAD_GATEWAY),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        post_hits.total.load(Ordering::SeqCst),
        1,
        "a POST is never resent after 5xx"
    );
}

#[tokio::test]
async fn a_hung_get_is_retried_within_the_deadline() {
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            if h.total.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            json(200, r#"{"id":"1"}"#, &[])
        }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_secs(3), None);
    let r = discord.bot_request(Method::GET, "/guilds/1").send().await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_deadline_covers_retries_and_waits() {
    // Always 503 and slow: the call ends with an error after a bounded number of attempts
    // instead of retrying past its deadline.
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    let router = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.total.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            json(503, r#"{"message":"unavailable","code":0}"#, &[])
        }
    });
    let base = serve(router).await;
    let discord = client(&base, Duration::from_millis(1_000), None);
    let r = discord.bot_request(Method::GET, "/guilds/1").send().await;
    assert!(
        matches!(&r, Err(Error::Timeout) | Err(Error::Api { .. })),
        "{r:?}"
    );
    let n = hits.total.load(Ordering::SeqCst);
    assert!((1..=3).contains(&n), "{n} attempts");
    // Nothing keeps running after the call returned.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hits.total.load(Ordering::SeqCst), n);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_burst_against_the_fake_discord_collects_no_429() {
    // 100 "join the guild" calls at once against the fake Discord's 50 per 1 s global limit.
    let mock = discord_oauth_mock::MockDiscord::start().await;
    let config = Config::builder()
        .client_id(mock.client_id())
        .client_secret(mock.client_secret())
        .redirect_uri("http://127.0.0.1/cb")
        .bot_token(mock.bot_token())
        .base_url(mock.base_url())
        .request_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let limiter = DiscordLimiter::builder()
        .global_margin(Duration::from_millis(400))
        .build();
    let discord = DiscordOAuth::builder(config)
        .limiter(Arc::new(limiter))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..100u64 {
        let d = discord.clone();
        tasks.push(tokio::spawn(async move {
            d.bot_request(
                Method::PUT,
                format!("/guilds/613425648685547541/members/{}", 1_000 + i),
            )
            .json(&serde_json::json!({"access_token": "not-a-real-token"}))
            .send()
            .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(!matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    }
    let stats = mock.stats();
    assert_eq!(stats.total_rate_limited, 0, "{stats:?}");
    assert_eq!(stats.total_requests, 100);
}

/// The typed route of `method path`.
fn route(method: &Method, path: &str) -> discord_oauth::route::Route {
    discord_oauth::route::Route::parse(method.clone(), path).unwrap()
}
