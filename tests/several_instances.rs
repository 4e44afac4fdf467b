//! The demo's contract, section "Several instances": two demo instances (examples/demo.rs) with
//! one `SECRET_KEY`, one shared `SESSION_STORE` and one `REDIS_URL`, against one fake Discord,
//! act as one app. Each test names the contract line it checks.
//!
//! Needs `REDIS_URL` (and `DATABASE_URL` for the PostgreSQL cases): without them each test
//! prints a loud SKIPPED line and returns. A test that stops Redis starts its own
//! `redis-server` on a free loopback port; the machine's Redis is never stopped.

#[path = "../examples/demo.rs"]
mod demo;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use discord_oauth_mock::{MockDiscord, seed};
use reqwest::header::{HeaderMap, HeaderValue};

const KEY: &str = "several-instances-test-secret-key-0123456789";

/// The tests of this file run in parallel, except the bot burst: it measures Discord's global
/// limit against arrival times at the fake, which CPU contention from the others would skew.
static ONE_AT_A_TIME: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn skip(why: &str) -> Option<String> {
    skipped(format!(
        "\n*** SKIPPED: {why} — the several-instances tests did not run ***\n"
    ));
    None
}

/// `REDIS_URL`, if set and answering.
async fn redis_url() -> Option<String> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        return skip("REDIS_URL not set");
    };
    let hostport = url.trim_start_matches("redis://").trim_end_matches('/');
    match tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(hostport),
    )
    .await
    {
        Ok(Ok(_)) => Some(url),
        _ => skip("Redis at REDIS_URL does not answer"),
    }
}

/// `DATABASE_URL`, if set.
fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .or_else(|| skip("DATABASE_URL not set"))
}

/// Two instances and the fake Discord they share.
struct Pair {
    fake: MockDiscord,
    a: demo::Running,
    b: demo::Running,
}

impl Pair {
    async fn start(store: &str, redis: Option<&str>) -> Self {
        Self::start_with(store, redis, &[]).await
    }

    async fn start_with(store: &str, redis: Option<&str>, extra: &[(&'static str, &str)]) -> Self {
        let fake = MockDiscord::builder().start().await;
        let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // One public address: both instances are configured with the same redirect URI.
        let redirect = format!("http://{}/callback", la.local_addr().unwrap());
        fake.add_redirect_uri(&redirect);
        let mut env = env_for(&fake, redirect, store);
        if let Some(url) = redis {
            env.insert("REDIS_URL", url.to_owned());
        }
        for (k, v) in extra {
            env.insert(k, (*v).to_owned());
        }
        let a = demo::start(|k| env.get(k).cloned(), la).await.unwrap();
        let b = demo::start(|k| env.get(k).cloned(), lb).await.unwrap();
        Self { fake, a, b }
    }
}

/// A browser: a cookie jar, no automatic redirects; `on` picks the instance.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        on: &demo::Running,
        path: &str,
    ) -> reqwest::Response {
        let mut h = HeaderMap::new();
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            h.insert("cookie", HeaderValue::from_str(&c.join("; ")).unwrap());
        }
        let resp = self
            .http
            .request(method, format!("{}{path}", on.url()))
            .headers(h)
            .send()
            .await
            .unwrap();
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (k, v) = c.split(';').next().unwrap().split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        resp
    }

    async fn get(&mut self, on: &demo::Running, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, on, path).await
    }

    async fn post(&mut self, on: &demo::Running, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::POST, on, path).await
    }

    /// `GET /login` on `on`, approve on the fake as `user`; the callback query string.
    async fn authorize(&mut self, on: &demo::Running, user: u64) -> String {
        let resp = self.get(on, "/login").await;
        assert_eq!(resp.status(), 302);
        let mut url = url::Url::parse(location(&resp)).unwrap();
        url.query_pairs_mut()
            .append_pair("mock_user", &user.to_string());
        let approved = self.http.get(url).send().await.unwrap();
        assert_eq!(approved.status(), 302, "the fake approves");
        let back = url::Url::parse(location(&approved)).unwrap();
        back.query().unwrap().to_owned()
    }

    /// A full login through `on`.
    async fn login(&mut self, on: &demo::Running, user: u64) {
        let query = self.authorize(on, user).await;
        let resp = self.get(on, &format!("/callback?{query}")).await;
        assert_eq!(resp.status(), 302, "login through {}", on.url());
    }
}

fn location(resp: &reqwest::Response) -> &str {
    resp.headers()["location"].to_str().unwrap()
}

/// "a login on one is valid on all; a logout on one is refused by all (within 100 ms)".
async fn login_and_logout_are_shared(pair: &Pair) {
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    assert_eq!(
        browser.get(&pair.b, "/me").await.status(),
        200,
        "valid on B"
    );
    assert_eq!(
        browser.get(&pair.a, "/me").await.status(),
        200,
        "valid on A"
    );
    let stolen = browser.clone();
    let out = browser.post(&pair.a, "/logout").await;
    assert_eq!(out.status(), 302);
    let logged_out = Instant::now();
    // B verified this session just before: it may reuse that verdict for its recheck interval
    // (50 ms), never longer.
    loop {
        let mut replay = stolen.clone();
        let status = replay.get(&pair.b, "/me").await.status();
        let waited = logged_out.elapsed();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            waited < Duration::from_millis(100),
            "still served after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(logged_out.elapsed() < Duration::from_millis(100));
    let mut replay = stolen;
    assert_eq!(replay.get(&pair.a, "/me").await.status(), 401, "and by A");
}

/// "a callback is accepted once across all, and only one instance exchanges the code".
async fn callback_is_accepted_once(pair: &Pair) {
    let before = pair.fake.stats().grants_of("authorization_code");
    let mut browser = Browser::new();
    let query = browser.authorize(&pair.a, seed::NELLY).await;
    let mut on_b = browser.clone();
    let path = format!("/callback?{query}");
    let (ra, rb) = tokio::join!(browser.get(&pair.a, &path), on_b.get(&pair.b, &path));
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [302, 400], "one accepted, one refused");
    let exchanged = pair.fake.stats().grants_of("authorization_code") - before;
    assert_eq!(exchanged, 1, "exactly one instance exchanged the code");
}

/// "a token refresh happens once across all (one refresh grant, no `invalid_grant`), and every
/// instance then uses the new pair".
async fn refresh_happens_once(pair: &Pair) {
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::QUIET).await;
    // Discord now refuses the access token: the next call of every instance refreshes.
    pair.fake.expire_access_tokens(Some(seed::QUIET));
    let stats = pair.fake.stats();
    let (grants, errors) = (stats.grants_of("refresh_token"), stats.token_errors);
    let cookie: Vec<String> = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let cookie = cookie.join("; ");
    let mut answers = Vec::new();
    for i in 0..16 {
        let on = if i % 2 == 0 {
            pair.a.url()
        } else {
            pair.b.url()
        };
        let (http, cookie) = (browser.http.clone(), cookie.clone());
        answers.push(tokio::spawn(async move {
            // Not cached by the login (as `/me` is): each instance must call Discord.
            let resp = http
                .get(format!("{on}/connections"))
                .header("cookie", cookie);
            resp.send().await.unwrap().status().as_u16()
        }));
    }
    for a in answers {
        assert_eq!(a.await.unwrap(), 200, "every concurrent request is served");
    }
    let stats = pair.fake.stats();
    assert_eq!(
        stats.grants_of("refresh_token") - grants,
        1,
        "one refresh grant across both instances"
    );
    assert_eq!(stats.token_errors - errors, 0, "no invalid_grant");
    // Both instances now use the new pair, with no further refresh.
    for on in [&pair.a, &pair.b, &pair.a, &pair.b] {
        assert_eq!(browser.get(on, "/guilds").await.status(), 200);
    }
    assert_eq!(pair.fake.stats().grants_of("refresh_token") - grants, 1);
}

/// Cache coherence: "a logout, re-login or refresh on one instance never lets another serve
/// that authorization's cached data afterwards" (the issue's item 5).
async fn relogin_is_never_served_stale_data(pair: &Pair) {
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    let me = browser
        .get(&pair.b, "/me")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(me["id"], seed::ALICE.to_string(), "B caches Alice");
    assert_eq!(browser.post(&pair.a, "/logout").await.status(), 302);
    browser.login(&pair.a, seed::NELLY).await;
    let me = browser
        .get(&pair.b, "/me")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        me["id"],
        seed::NELLY.to_string(),
        "B serves the new login, not its cache"
    );
}

async fn whole_section(store: &str, redis: Option<&str>) {
    let pair = Pair::start(store, redis).await;
    login_and_logout_are_shared(&pair).await;
    relogin_is_never_served_stale_data(&pair).await;
    callback_is_accepted_once(&pair).await;
    refresh_happens_once(&pair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_sessions_and_redis_coordination() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(redis) = redis_url().await else {
        return;
    };
    whole_section(&redis, Some(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cookie_sessions_coordinated_through_redis() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(redis) = redis_url().await else {
        return;
    };
    whole_section("cookie", Some(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_sessions_and_redis_coordination() {
    let _shared = ONE_AT_A_TIME.read().await;
    let (Some(redis), Some(pg)) = (redis_url().await, database_url()) else {
        return;
    };
    whole_section(&pg, Some(&redis)).await;
}

/// "With a server-side `SESSION_STORE` and no `REDIS_URL`, used login states and logouts live in
/// that store too, so instances sharing the store still share them."
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_alone_shares_logouts_states_and_refresh() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(pg) = database_url() else {
        return;
    };
    whole_section(&pg, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_alone_shares_logouts_states_and_refresh() {
    let _shared = ONE_AT_A_TIME.read().await;
    let path = temp_db("pair");
    whole_section(&format!("sqlite:{}", path.display()), None).await;
    remove_db(&path);
}

/// "with `sqlite:PATH` a session survives a restart; with `memory` it does not".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_sessions_survive_a_restart_memory_ones_do_not() {
    let _shared = ONE_AT_A_TIME.read().await;
    let path = temp_db("restart");
    for (store, survives) in [
        (format!("sqlite:{}", path.display()), true),
        ("memory".to_owned(), false),
    ] {
        let fake = MockDiscord::builder().start().await;
        let mut browser = Browser::new();
        let first = one(&fake, &store).await;
        browser.login(&first, seed::ALICE).await;
        assert_eq!(browser.get(&first, "/me").await.status(), 200);
        first.task.abort();
        drop(first);
        let second = one(&fake, &store).await;
        let status = browser.get(&second, "/me").await.status();
        assert_eq!(
            status,
            if survives { 200 } else { 401 },
            "{store} after a restart"
        );
    }
    remove_db(&path);
}

/// One instance on `fake` with `store` (the restart test).
async fn one(fake: &MockDiscord, store: &str) -> demo::Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!("http://{}/callback", listener.local_addr().unwrap());
    fake.add_redirect_uri(&redirect);
    let env = env_for(fake, redirect, store);
    demo::start(|k| env.get(k).cloned(), listener)
        .await
        .unwrap()
}

/// The variables of an instance on `fake` (with its bot token) with `SESSION_STORE=store`.
fn env_for(fake: &MockDiscord, redirect: String, store: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("DISCORD_CLIENT_ID", fake.client_id().to_string()),
        ("DISCORD_CLIENT_SECRET", fake.client_secret()),
        ("DISCORD_REDIRECT_URI", redirect),
        ("DISCORD_BASE_URL", fake.base_url()),
        ("DISCORD_CDN_URL", fake.cdn_url()),
        ("DISCORD_BOT_TOKEN", fake.bot_token()),
        ("SECRET_KEY", KEY.to_owned()),
        ("SESSION_STORE", store.to_owned()),
    ])
}

fn temp_db(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "discord-oauth-several-{name}-{}-{:x}.db",
        std::process::id(),
        rand_u64()
    ))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(42);
    h.finish()
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// "the bot's global limit and Discord's other limits hold for the sum of the instances (no
/// 429)": 100 joins split across two instances on one Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bot_burst_split_across_instances_draws_no_429() {
    let _alone = ONE_AT_A_TIME.write().await; // timing-sensitive: nothing else of this file runs
    let Some(redis) = redis_url().await else {
        return;
    };
    let pair = Pair::start("cookie", Some(&redis)).await;
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    let cookie: Vec<String> = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let cookie = cookie.join("; ");
    pair.fake.reset_stats();
    let started = Instant::now();
    let mut joins = Vec::new();
    for i in 0..100 {
        let on = if i % 2 == 0 {
            pair.a.url()
        } else {
            pair.b.url()
        };
        let (http, cookie) = (browser.http.clone(), cookie.clone());
        joins.push(tokio::spawn(async move {
            let url = format!("{on}/guilds/{}/join", seed::GUILD_QUIET);
            let resp = http
                .post(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        }));
    }
    let mut ok = 0;
    for join in joins {
        let status = join.await.unwrap();
        assert!(matches!(status, 200 | 201), "join answered {status}");
        ok += 1;
    }
    let wall = started.elapsed();
    let stats = pair.fake.stats();
    eprintln!(
        "100 joins split across two instances: {ok}/100 in {wall:?}, {} x 429 at the fake Discord",
        stats.total_rate_limited
    );
    assert_eq!(stats.total_rate_limited, 0, "no 429: {stats:?}");
    assert_eq!(stats.members_added, 1, "one added, then already a member");
}

/// With `REDIS_URL`, a logout is announced (Redis pub/sub): the other instance refuses the
/// session at once, not only after its recheck interval (set to 10 s here to tell them apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_logout_is_announced_to_the_other_instances() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(redis) = redis_url().await else {
        return;
    };
    let path = temp_db("events");
    let store = format!("sqlite:{}", path.display());
    let pair = Pair::start_with(&store, Some(&redis), &[("SESSION_RECHECK_MS", "10000")]).await;
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    assert_eq!(
        browser.get(&pair.b, "/me").await.status(),
        200,
        "B verified it"
    );
    let stolen = browser.clone();
    assert_eq!(browser.post(&pair.a, "/logout").await.status(), 302);
    let logged_out = Instant::now();
    loop {
        let status = stolen.clone().get(&pair.b, "/me").await.status();
        if status == 401 {
            break;
        }
        let waited = logged_out.elapsed();
        assert!(
            waited < Duration::from_millis(100),
            "still served after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "B refused the logged-out session {:?} after the logout",
        logged_out.elapsed()
    );
    // Without announcements (no REDIS_URL), the same 10 s interval keeps B's answer: this is
    // what the announcement changes.
    let pair = Pair::start_with(&store, None, &[("SESSION_RECHECK_MS", "10000")]).await;
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    assert_eq!(browser.get(&pair.b, "/me").await.status(), 200);
    let stolen = browser.clone();
    assert_eq!(browser.post(&pair.a, "/logout").await.status(), 302);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        stolen.clone().get(&pair.b, "/me").await.status(),
        200,
        "B trusts its answer"
    );
    remove_db(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_session_store_is_a_clear_error_naming_the_variable() {
    let _shared = ONE_AT_A_TIME.read().await;
    let text = refused_start("mysql://db/app").await;
    assert!(text.contains("SESSION_STORE"), "{text}");
    // A Redis or a PostgreSQL that is down at start: a clear error, no panic, no password.
    for url in [
        format!("redis://:hunter2@127.0.0.1:{}", free_port()),
        format!("postgres://app:hunter2@127.0.0.1:{}/app", free_port()),
    ] {
        let text = refused_start(&url).await;
        assert!(
            text.contains("SESSION_STORE") && text.contains("cannot connect"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}

/// The error of a demo started with `SESSION_STORE=store`, which must refuse to start.
async fn refused_start(store: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("SECRET_KEY", KEY.to_owned()),
        ("SESSION_STORE", store.to_owned()),
    ]);
    let started = demo::start(|k| env.get(k).cloned(), listener).await;
    started.err().expect("refused").to_string()
}

/// A `redis-server` of this test's own on a free loopback port, to be stopped and restarted.
struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    async fn start() -> Option<Self> {
        let mut own = Self {
            port: free_port(),
            child: None,
        };
        own.resume().await.then_some(own)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same port); false when `redis-server` is missing.
    async fn resume(&mut self) -> bool {
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            skip("redis-server is not installed");
            return false;
        };
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// "when Redis is unreachable, instances keep serving (local limits, a warning in the log) and
/// answer 503, never 500, for what needs the unreachable store; they recover by themselves
/// when it returns".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stopped_mid_run_gives_503_then_recovers() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let pair = Pair::start("cookie", Some(&redis.url())).await;
    let mut browser = Browser::new();
    browser.login(&pair.a, seed::ALICE).await;
    assert_eq!(browser.get(&pair.b, "/me").await.status(), 200);

    redis.stop();
    tokio::time::sleep(Duration::from_millis(60)).await; // past the recheck interval
    for on in [&pair.a, &pair.b] {
        let started = Instant::now();
        assert_eq!(browser.clone().get(on, "/health").await.status(), 200);
        let page = browser.clone().get(on, "/").await.status();
        assert_ne!(page, 500, "the page never fails with 500");
        for path in ["/me", "/guilds"] {
            let status = browser.clone().get(on, path).await.status();
            assert_eq!(status, 503, "{path} needs the unreachable store");
        }
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(5), "answered in {waited:?}");
    }
    // A logged-out visitor is served as usual.
    assert_eq!(Browser::new().get(&pair.a, "/me").await.status(), 401);

    assert!(redis.resume().await);
    let back = Instant::now();
    loop {
        let status = browser.clone().get(&pair.b, "/me").await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "recovered by itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And logouts are shared again.
    let stolen = browser.clone();
    assert_eq!(browser.post(&pair.a, "/logout").await.status(), 302);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(stolen.clone().get(&pair.b, "/me").await.status(), 401);
}

/// A TCP relay to the machine's PostgreSQL on a port of its own, to cut and restore.
struct Relay {
    port: u16,
    upstream: String,
    accept: Option<tokio::task::JoinHandle<()>>,
    relays: std::sync::Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

impl Relay {
    async fn to(upstream: String) -> Self {
        let mut relay = Self {
            port: free_port(),
            upstream,
            accept: None,
            relays: Default::default(),
        };
        relay.restore().await;
        relay
    }

    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (upstream, relays) = (self.upstream.clone(), self.relays.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                relays.lock().unwrap().spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    async fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        self.relays.lock().unwrap().abort_all();
    }
}

/// "a database that goes away later gives 503 for what needs it, and the instance recovers by
/// itself" (the issue's faults), with sessions in PostgreSQL behind a relay that is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_going_away_gives_503_then_recovers() {
    let _shared = ONE_AT_A_TIME.read().await;
    let Some(pg) = database_url() else {
        return;
    };
    let url = url::Url::parse(&pg).unwrap();
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    let mut relay = Relay::to(upstream).await;
    let mut via = url.clone();
    via.set_host(Some("127.0.0.1")).unwrap();
    via.set_port(Some(relay.port)).unwrap();
    let fake = MockDiscord::builder().start().await;
    let demo = one(&fake, via.as_str()).await;
    let mut browser = Browser::new();
    browser.login(&demo, seed::ALICE).await;
    assert_eq!(browser.get(&demo, "/me").await.status(), 200);

    relay.cut().await;
    tokio::time::sleep(Duration::from_millis(60)).await; // past the recheck interval
    let started = Instant::now();
    assert_eq!(browser.clone().get(&demo, "/health").await.status(), 200);
    assert_eq!(browser.clone().get(&demo, "/me").await.status(), 503);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "answered in {waited:?}");

    relay.restore().await;
    let back = Instant::now();
    loop {
        let status = browser.clone().get(&demo, "/me").await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "recovered by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[allow(dead_code)]
fn unused() {
    let _ = database_url;
}

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture, so the line shows even when the test "passes".
fn skipped(message: String) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}
