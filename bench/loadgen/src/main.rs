//! Load generator for the end-to-end benchmark (`bench/run.sh`).
//!
//! Subcommands (all output one JSON object on stdout, progress on stderr):
//!
//! * `login`  — log one user in through the full redirect flow and print the app's `Cookie` header.
//! * `smoke`  — check the demo HTTP contract (the top-level README.md, "Use a real Discord
//!   application") against one app; exit 1 on failure.
//! * `storm`  — N users at concurrency C, each: GET /login -> fake authorize (auto-approve with
//!   `mock_user=<id>`) -> GET /callback -> GET /me, /guilds, /connections.
//! * `burst`  — log N users in, then release N simultaneous `POST /guilds/{id}/join` at once.
//! * `serve-ok` — a bare hyper server answering `ok` (the ceiling of the hot loop for wrk).
//!
//! Redirects are never followed automatically: every hop is driven here, and cookies are kept per
//! user and per origin (host:port), so the app's and the fake's cookies never mix.
//! Every loop is bounded in count and in time; targets are whatever URLs run.sh passes (loopback).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{COOKIE, HOST, HeaderMap, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{Barrier, Mutex};
use url::Url;

type Res<T> = Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

struct Args {
    cmd: String,
    kv: HashMap<String, String>,
}

impl Args {
    fn parse() -> Args {
        let mut it = std::env::args().skip(1);
        let cmd = it.next().unwrap_or_default();
        let mut kv = HashMap::new();
        while let Some(k) = it.next() {
            let k = k.trim_start_matches("--").to_string();
            let v = it.next().unwrap_or_default();
            kv.insert(k, v);
        }
        Args { cmd, kv }
    }
    fn s(&self, k: &str, d: &str) -> String {
        self.kv.get(k).cloned().unwrap_or_else(|| d.to_string())
    }
    fn req(&self, k: &str) -> String {
        match self.kv.get(k) {
            Some(v) => v.clone(),
            None => {
                eprintln!("missing --{k}");
                std::process::exit(2);
            }
        }
    }
    fn n(&self, k: &str, d: u64) -> u64 {
        self.kv.get(k).and_then(|v| v.parse().ok()).unwrap_or(d)
    }
}

// ---------------------------------------------------------------------------------------------
// Cookies: one jar per origin (scheme://host:port) per user.
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct Jar {
    by_origin: HashMap<String, Vec<(String, String)>>,
}

fn origin(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

impl Jar {
    fn header(&self, u: &Url) -> Option<String> {
        let v = self.by_origin.get(&origin(u))?;
        if v.is_empty() {
            return None;
        }
        Some(
            v.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
    fn store(&mut self, u: &Url, headers: &HeaderMap) {
        let jar = self.by_origin.entry(origin(u)).or_default();
        for h in headers.get_all(SET_COOKIE) {
            let Ok(s) = h.to_str() else { continue };
            let mut parts = s.split(';');
            let Some(nv) = parts.next() else { continue };
            let Some((name, value)) = nv.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            let mut delete = value.is_empty();
            for attr in parts {
                let a = attr.trim().to_ascii_lowercase();
                if a == "max-age=0" || a.starts_with("max-age=-") {
                    delete = true;
                }
                if let Some(exp) = a.strip_prefix("expires=") {
                    // Deleting cookies are conventionally dated in 1970.
                    if exp.contains("1970") {
                        delete = true;
                    }
                }
            }
            jar.retain(|(k, _)| *k != name);
            if !delete {
                jar.push((name, value));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    elapsed: Duration,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn location(&self) -> Option<String> {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    fn json(&self) -> Res<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "body is not JSON ({e}): {}",
                self.text().chars().take(200).collect::<String>()
            )
        })
    }
}

/// A small keep-alive HTTP/1.1 connection pool (hyper's low-level client): idle connections per
/// origin, taken for one request and put back. Much cheaper per request than a full-featured client,
/// so the load generator stays a small share of the machine. A request that fails on a reused
/// connection that the server had closed (before reading it) is retried once on a new connection.
#[derive(Default)]
struct Pool {
    idle: std::sync::Mutex<HashMap<String, Vec<SendRequest<Full<Bytes>>>>>,
}

impl Pool {
    fn take(&self, key: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let v = idle.get_mut(key)?;
        while let Some(c) = v.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn put(&self, key: &str, c: SendRequest<Full<Bytes>>) {
        if !c.is_closed() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.entry(key.to_owned()).or_default().push(c);
        }
    }

    async fn connect(key: &str) -> Res<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(key)
            .await
            .map_err(|e| format!("connect {key}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake {key}: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    async fn request(
        &self,
        method: &Method,
        u: &Url,
        headers: &[(hyper::header::HeaderName, HeaderValue)],
    ) -> Res<(StatusCode, HeaderMap, Vec<u8>)> {
        let host = u.host_str().ok_or("url without host")?;
        // Loopback only: a misconfigured app redirecting to the real Discord is an error, not a target.
        let loopback = host == "localhost"
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false);
        if !loopback {
            return Err(format!(
                "refusing to send a request to {host}: loopback targets only"
            ));
        }
        let key = format!("{host}:{}", u.port_or_known_default().unwrap_or(80));
        let target = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        };
        for attempt in 0..2 {
            let (mut c, reused) = match self.take(&key) {
                Some(c) if attempt == 0 => (c, true),
                _ => (Self::connect(&key).await?, false),
            };
            if c.ready().await.is_err() {
                if reused {
                    continue;
                }
                return Err(format!("{method} {}: connection not ready", u.path()));
            }
            let mut rb = Request::builder().method(method.clone()).uri(&target);
            rb = rb.header(HOST, &key);
            for (k, v) in headers {
                rb = rb.header(k, v);
            }
            let req = rb
                .body(Full::new(Bytes::new()))
                .map_err(|e| format!("request: {e}"))?;
            match c.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status();
                    let (parts, body) = resp.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map_err(|e| format!("{method} {} body: {e}", u.path()))?
                        .to_bytes()
                        .to_vec();
                    self.put(&key, c);
                    return Ok((status, parts.headers, body));
                }
                Err(e)
                    if reused
                        && (e.is_canceled() || e.is_incomplete_message() || e.is_closed()) =>
                {
                    continue;
                }
                Err(e) => return Err(format!("{method} {}: {e}", u.path())),
            }
        }
        Err(format!("{method} {}: connection closed twice", u.path()))
    }
}

async fn send(
    pool: &Pool,
    method: Method,
    url: &str,
    jar: &mut Jar,
    extra: &[(&str, &str)],
) -> Res<Resp> {
    let u = Url::parse(url).map_err(|e| format!("bad url {url}: {e}"))?;
    let mut headers = Vec::with_capacity(extra.len() + 1);
    if let Some(c) = jar.header(&u) {
        headers.push((
            COOKIE,
            HeaderValue::from_str(&c).map_err(|e| e.to_string())?,
        ));
    }
    for (k, v) in extra {
        headers.push((
            hyper::header::HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?,
            HeaderValue::from_str(v).map_err(|e| e.to_string())?,
        ));
    }
    let t0 = Instant::now();
    let (status, headers, body) =
        tokio::time::timeout(Duration::from_secs(30), pool.request(&method, &u, &headers))
            .await
            .map_err(|_| format!("{method} {}: timed out after 30 s", u.path()))??;
    let elapsed = t0.elapsed();
    jar.store(&u, &headers);
    Ok(Resp {
        status,
        headers,
        body,
        elapsed,
    })
}

fn resolve(base: &str, loc: &str) -> Res<String> {
    let b = Url::parse(base).map_err(|e| e.to_string())?;
    b.join(loc)
        .map(|u| u.to_string())
        .map_err(|e| format!("bad Location {loc}: {e}"))
}

/// Per-run context shared by the tasks.
struct Ctx {
    client: Pool,
    app: String,
    mock_param: String,
    /// Discord user ids to cycle over (`--user-ids a,b,c`): user number `n` logs in as
    /// `user_ids[n % len]`. Empty: `n` itself is the id (the fake mints any snowflake as a
    /// generated user, so every `n` is a distinct account).
    user_ids: Vec<u64>,
}

impl Ctx {
    fn new(a: &Args) -> Ctx {
        Ctx {
            client: Pool::default(),
            app: a.req("app"),
            mock_param: a.s("mock-param", "mock_user"),
            user_ids: a
                .s("user-ids", "")
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect(),
        }
    }
    fn discord_user(&self, n: u64) -> u64 {
        if self.user_ids.is_empty() {
            n
        } else {
            self.user_ids[(n % self.user_ids.len() as u64) as usize]
        }
    }
}

/// Latencies of requests to the app, in microseconds.
#[derive(Default)]
struct Lat(Vec<u32>);

impl Lat {
    fn add(&mut self, d: Duration) {
        self.0.push(d.as_micros().min(u32::MAX as u128) as u32);
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

/// The full redirect flow for one user. Returns the user's jar (logged in) on success.
async fn login(ctx: &Ctx, user: u64, lat: &mut Lat) -> Res<Jar> {
    let mut jar = Jar::default();
    // 1. GET /login on the app -> 302 to the fake's authorize URL.
    let login_url = format!("{}/login", ctx.app);
    let r = send(&ctx.client, Method::GET, &login_url, &mut jar, &[]).await?;
    lat.add(r.elapsed);
    if !r.status.is_redirection() {
        return Err(format!("/login answered {} (want 302)", r.status));
    }
    let loc = r.location().ok_or("/login: no Location")?;
    let mut auth = Url::parse(&resolve(&login_url, &loc)?).map_err(|e| e.to_string())?;
    // 2. The fake's authorize endpoint, auto-approving as user `user`.
    auth.query_pairs_mut()
        .append_pair(&ctx.mock_param, &ctx.discord_user(user).to_string());
    let auth_s = auth.to_string();
    let r = send(&ctx.client, Method::GET, &auth_s, &mut jar, &[]).await?;
    if !r.status.is_redirection() {
        return Err(format!(
            "authorize answered {} (want a redirect): {}",
            r.status,
            r.text().chars().take(200).collect::<String>()
        ));
    }
    let cb = resolve(&auth_s, &r.location().ok_or("authorize: no Location")?)?;
    // 3. GET /callback?code&state on the app -> 302 to next or /.
    let r = send(&ctx.client, Method::GET, &cb, &mut jar, &[]).await?;
    lat.add(r.elapsed);
    if !r.status.is_redirection() {
        return Err(format!(
            "/callback answered {}: {}",
            r.status,
            r.text().chars().take(200).collect::<String>()
        ));
    }
    Ok(jar)
}

async fn get_ok(ctx: &Ctx, path: &str, jar: &mut Jar, lat: &mut Lat) -> Res<Resp> {
    let url = format!("{}{}", ctx.app, path);
    let r = send(&ctx.client, Method::GET, &url, jar, &[]).await?;
    lat.add(r.elapsed);
    if r.status != StatusCode::OK {
        return Err(format!(
            "GET {path} answered {}: {}",
            r.status,
            r.text().chars().take(200).collect::<String>()
        ));
    }
    Ok(r)
}

async fn stats(pool: &Pool, url: &str) -> Value {
    if url.is_empty() {
        return Value::Null;
    }
    let mut jar = Jar::default();
    match send(pool, Method::GET, url, &mut jar, &[]).await {
        Ok(r) => serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

// ---------------------------------------------------------------------------------------------
// storm
// ---------------------------------------------------------------------------------------------

struct StormOut {
    lat: Lat,
    flows: Vec<u32>,
    ok: usize,
    errors: Vec<String>,
}

async fn storm(a: &Args) -> Res<Value> {
    let users = a.n("users", 200) as usize;
    let conc = a.n("concurrency", 20) as usize;
    let first = a.n("first-user", 1);
    let max_s = a.n("max-seconds", 300);
    let ctx = Arc::new(Ctx::new(a));
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(max_s);
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conc {
        let ctx = ctx.clone();
        let next = next.clone();
        handles.push(tokio::spawn(async move {
            let mut out = StormOut {
                lat: Lat::default(),
                flows: Vec::new(),
                ok: 0,
                errors: Vec::new(),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= users || Instant::now() >= deadline {
                    break;
                }
                let uid = first + i as u64;
                let f0 = Instant::now();
                let res: Res<()> = async {
                    let mut jar = login(&ctx, uid, &mut out.lat).await?;
                    let me = get_ok(&ctx, "/me", &mut jar, &mut out.lat).await?.json()?;
                    if me.get("id").is_none() {
                        return Err(format!("/me has no id: {me}"));
                    }
                    let g = get_ok(&ctx, "/guilds", &mut jar, &mut out.lat)
                        .await?
                        .json()?;
                    if !g.is_array() {
                        return Err(format!("/guilds is not an array: {g}"));
                    }
                    let c = get_ok(&ctx, "/connections", &mut jar, &mut out.lat)
                        .await?
                        .json()?;
                    if !c.is_array() {
                        return Err(format!("/connections is not an array: {c}"));
                    }
                    Ok(())
                }
                .await;
                match res {
                    Ok(()) => {
                        out.ok += 1;
                        out.flows.push(f0.elapsed().as_micros() as u32);
                    }
                    Err(e) => out.errors.push(format!("user {uid}: {e}")),
                }
            }
            out
        }));
    }
    let mut lat = Vec::new();
    let mut flows = Vec::new();
    let mut ok = 0;
    let mut errors = Vec::new();
    for h in handles {
        let o = h.await.map_err(|e| e.to_string())?;
        lat.extend(o.lat.0);
        flows.extend(o.flows);
        ok += o.ok;
        errors.extend(o.errors);
    }
    let wall = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    flows.sort_unstable();
    let attempted = next.load(Ordering::Relaxed).min(users);
    Ok(json!({
        "workload": "storm",
        "users": users,
        "attempted": attempted,
        "concurrency": conc,
        "completed": ok,
        "errors": errors.len(),
        "error_samples": errors.iter().take(5).collect::<Vec<_>>(),
        "wall_s": wall,
        "logins_per_s": ok as f64 / wall,
        "app_requests": lat.len(),
        "app_rps": lat.len() as f64 / wall,
        "app_p50_ms": pct(&lat, 50.0),
        "app_p99_ms": pct(&lat, 99.0),
        "flow_p50_ms": pct(&flows, 50.0),
        "flow_p99_ms": pct(&flows, 99.0),
    }))
}

// ---------------------------------------------------------------------------------------------
// burst
// ---------------------------------------------------------------------------------------------

async fn login_many(ctx: &Arc<Ctx>, first: u64, users: usize, conc: usize) -> Res<Vec<Jar>> {
    let next = Arc::new(AtomicUsize::new(0));
    let jars = Arc::new(Mutex::new(vec![None; users]));
    let mut hs = Vec::new();
    for _ in 0..conc.max(1) {
        let (ctx, next, jars) = (ctx.clone(), next.clone(), jars.clone());
        hs.push(tokio::spawn(async move {
            let mut lat = Lat::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= users {
                    return Ok::<(), String>(());
                }
                let mut jar = login(&ctx, first + i as u64, &mut lat).await?;
                // Warm the app's user cache the way a browser would (the page after login).
                get_ok(&ctx, "/me", &mut jar, &mut lat).await?;
                jars.lock().await[i] = Some(jar);
            }
        }));
    }
    for h in hs {
        h.await.map_err(|e| e.to_string())??;
    }
    let v = std::mem::take(&mut *jars.lock().await);
    Ok(v.into_iter().map(|j| j.unwrap_or_default()).collect())
}

async fn burst(a: &Args) -> Res<Value> {
    let users = a.n("users", 100) as usize;
    let first = a.n("first-user", 100_000);
    let guild = a.req("guild");
    let stats_url = a.s("stats", "");
    let ctx = Arc::new(Ctx::new(a));
    let jars = login_many(&ctx, first, users, a.n("login-concurrency", 20) as usize).await?;
    let before = stats(&ctx.client, &stats_url).await;
    // Everyone waits on one barrier, then presses "join" at the same instant.
    let barrier = Arc::new(Barrier::new(users + 1));
    let mut hs = Vec::new();
    for mut jar in jars {
        let (ctx, barrier, guild) = (ctx.clone(), barrier.clone(), guild.clone());
        hs.push(tokio::spawn(async move {
            barrier.wait().await;
            let url = format!("{}/guilds/{}/join", ctx.app, guild);
            let r = send(&ctx.client, Method::POST, &url, &mut jar, &[]).await;
            (r.map(|r| (r.status.as_u16(), r.text())), Instant::now())
        }));
    }
    barrier.wait().await;
    let t0 = Instant::now();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut samples = Vec::new();
    let mut last = t0;
    for h in hs {
        let (r, end) = h.await.map_err(|e| e.to_string())?;
        last = last.max(end);
        match r {
            Ok((code, body)) => {
                *codes.entry(code.to_string()).or_default() += 1;
                if code != 200 && code != 201 && samples.len() < 3 {
                    samples.push(format!(
                        "{code}: {}",
                        body.chars().take(200).collect::<String>()
                    ));
                }
            }
            Err(e) => {
                *codes.entry("transport_error".into()).or_default() += 1;
                if samples.len() < 3 {
                    samples.push(e);
                }
            }
        }
    }
    let wall = (last - t0).as_secs_f64();
    let after = stats(&ctx.client, &stats_url).await;
    let ok = codes.get("200").copied().unwrap_or(0) + codes.get("201").copied().unwrap_or(0);
    Ok(json!({
        "workload": "burst",
        "users": users,
        "succeeded": ok,
        "errors": users - ok,
        "codes": codes,
        "error_samples": samples,
        "wall_s": wall,
        "stats_before": before,
        "stats_after": after,
    }))
}

// ---------------------------------------------------------------------------------------------
// login (one user, print the cookie for wrk)
// ---------------------------------------------------------------------------------------------

async fn login_cmd(a: &Args) -> Res<Value> {
    let ctx = Ctx::new(a);
    let mut lat = Lat::default();
    let mut jar = login(&ctx, a.n("user", 1), &mut lat).await?;
    // Warm the cache so the hot loop measures the cached path.
    for _ in 0..a.n("warm", 1) {
        get_ok(&ctx, "/me", &mut jar, &mut lat).await?;
    }
    let u = Url::parse(&ctx.app).map_err(|e| e.to_string())?;
    Ok(json!({ "cookie": jar.header(&u).unwrap_or_default() }))
}

// ---------------------------------------------------------------------------------------------
// smoke: the contract, checked from outside
// ---------------------------------------------------------------------------------------------

struct Smoke {
    pass: usize,
    fail: Vec<String>,
}

impl Smoke {
    fn check(&mut self, name: &str, r: Res<()>) {
        match r {
            Ok(()) => {
                self.pass += 1;
                eprintln!("  ok    {name}");
            }
            Err(e) => {
                eprintln!("  FAIL  {name}: {e}");
                self.fail.push(format!("{name}: {e}"));
            }
        }
    }
}

fn want(cond: bool, msg: impl FnOnce() -> String) -> Res<()> {
    if cond { Ok(()) } else { Err(msg()) }
}

fn has_keys(v: &Value, keys: &[&str]) -> Res<()> {
    for k in keys {
        if v.get(*k).is_none() {
            return Err(format!("missing key {k} in {v}"));
        }
    }
    Ok(())
}

async fn smoke(a: &Args) -> Res<Value> {
    let ctx = Ctx::new(a);
    let guild = a.req("guild");
    let user = a.n("user", 7);
    let app = ctx.app.clone();
    let mut s = Smoke {
        pass: 0,
        fail: vec![],
    };
    let mut lat = Lat::default();
    let c = &ctx.client;

    // /health
    let mut anon = Jar::default();
    let r = send(c, Method::GET, &format!("{app}/health"), &mut anon, &[]).await;
    s.check(
        "GET /health -> 200 ok",
        r.and_then(|r| {
            want(r.status == 200 && r.text().trim() == "ok", || {
                format!("{} {:?}", r.status, r.text())
            })
        }),
    );

    // logged out
    for p in ["/me", "/guilds", "/connections"] {
        let r = send(c, Method::GET, &format!("{app}{p}"), &mut anon, &[]).await;
        s.check(
            &format!("GET {p} logged out -> 401 JSON error"),
            r.and_then(|r| {
                want(r.status == 401, || format!("status {}", r.status))?;
                has_keys(&r.json()?, &["error"])
            }),
        );
    }
    let r = send(c, Method::GET, &format!("{app}/"), &mut anon, &[]).await;
    s.check(
        "GET / logged out -> 200 HTML with a login link",
        r.and_then(|r| {
            want(r.status == 200 && r.text().contains("/login"), || {
                format!("status {}", r.status)
            })
        }),
    );

    // /login redirect shape
    let mut j = Jar::default();
    let r = send(
        c,
        Method::GET,
        &format!("{app}/login?next=/me"),
        &mut j,
        &[],
    )
    .await;
    s.check(
        "GET /login -> 302 to {base}/oauth2/authorize with code flow params",
        r.and_then(|r| {
            want(r.status == 302, || format!("status {}", r.status))?;
            let loc = r.location().ok_or("no Location")?;
            let u = Url::parse(&loc).map_err(|e| e.to_string())?;
            want(u.path().ends_with("/oauth2/authorize"), || {
                format!("path {}", u.path())
            })?;
            let q: HashMap<_, _> = u.query_pairs().into_owned().collect();
            for k in [
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
            ] {
                want(q.contains_key(k), || format!("missing {k} in {loc}"))?;
            }
            want(q["response_type"] == "code", || "response_type".into())?;
            for sc in ["identify", "email", "guilds", "connections", "guilds.join"] {
                want(q["scope"].split(' ').any(|x| x == sc), || {
                    format!("scope {sc} missing: {}", q["scope"])
                })?;
            }
            Ok(())
        }),
    );

    // Mismatched state -> 400, access_denied -> 403 (with a pending login in the jar).
    let r = send(
        c,
        Method::GET,
        &format!("{app}/callback?code=x&state=not-the-state"),
        &mut j,
        &[],
    )
    .await;
    s.check(
        "GET /callback with mismatched state -> 400",
        r.and_then(|r| want(r.status == 400, || format!("status {}", r.status))),
    );
    // Cancel on Discord comes back with the pending login's own state (the state is checked
    // first: a wrong one is 400 whatever else the query holds).
    let mut j2 = Jar::default();
    let state = send(c, Method::GET, &format!("{app}/login"), &mut j2, &[])
        .await
        .ok()
        .and_then(|r| r.location())
        .and_then(|loc| Url::parse(&loc).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let cancel: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("state", &state)
        .finish();
    let r = send(
        c,
        Method::GET,
        &format!("{app}/callback?{cancel}"),
        &mut j2,
        &[],
    )
    .await;
    s.check(
        "GET /callback?error=access_denied -> 403",
        r.and_then(|r| want(r.status == 403, || format!("status {}", r.status))),
    );

    // Full flow
    let jar = login(&ctx, user, &mut lat).await;
    s.check(
        "login flow: /login -> authorize -> /callback -> 302",
        jar.as_ref().map(|_| ()).map_err(|e| e.clone()),
    );
    let Ok(mut jar) = jar else {
        return Ok(json!({"passed": s.pass, "failed": s.fail}));
    };
    let r = get_ok(&ctx, "/me", &mut jar, &mut lat).await;
    s.check(
        "GET /me -> 200 JSON user",
        r.and_then(|r| {
            let v = r.json()?;
            has_keys(
                &v,
                &[
                    "id",
                    "username",
                    "discriminator",
                    "global_name",
                    "avatar_url",
                    "email",
                ],
            )?;
            want(v["id"].is_string(), || "id is not a string".into())
        }),
    );
    let r = get_ok(&ctx, "/guilds", &mut jar, &mut lat).await;
    s.check(
        "GET /guilds -> 200 JSON array of guilds",
        r.and_then(|r| {
            let v = r.json()?;
            let arr = v.as_array().ok_or("not an array")?;
            for g in arr {
                has_keys(g, &["id", "name", "icon_url", "owner", "permissions"])?;
            }
            Ok(())
        }),
    );
    let r = get_ok(&ctx, "/connections", &mut jar, &mut lat).await;
    s.check(
        "GET /connections -> 200 JSON array of connections",
        r.and_then(|r| {
            let v = r.json()?;
            let arr = v.as_array().ok_or("not an array")?;
            for g in arr {
                has_keys(g, &["id", "name", "type", "verified", "visibility"])?;
            }
            Ok(())
        }),
    );
    let r = send(
        c,
        Method::POST,
        &format!("{app}/guilds/{guild}/join"),
        &mut jar,
        &[],
    )
    .await;
    s.check(
        "POST /guilds/{id}/join -> 201/200",
        r.and_then(|r| {
            want(r.status == 201 || r.status == 200, || {
                format!("status {}: {}", r.status, r.text())
            })
        }),
    );
    let r = send(
        c,
        Method::POST,
        &format!("{app}/guilds/{guild}/join"),
        &mut jar,
        &[
            ("Origin", "http://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    )
    .await;
    s.check(
        "POST cross-site (Origin/Sec-Fetch-Site) -> 403",
        r.and_then(|r| want(r.status == 403, || format!("status {}", r.status))),
    );
    let r = send(c, Method::GET, &format!("{app}/"), &mut jar, &[]).await;
    s.check(
        "GET / logged in -> 200 HTML",
        r.and_then(|r| want(r.status == 200, || format!("status {}", r.status))),
    );
    let r = send(c, Method::POST, &format!("{app}/logout"), &mut jar, &[]).await;
    s.check(
        "POST /logout -> 302 to /",
        r.and_then(|r| {
            want(r.status == 302, || format!("status {}", r.status))?;
            let loc = r.location().unwrap_or_default();
            want(
                loc == "/"
                    || loc.ends_with("://127.0.0.1/")
                    || Url::parse(&loc).map(|u| u.path() == "/").unwrap_or(false),
                || format!("Location {loc}"),
            )
        }),
    );
    let r = send(c, Method::GET, &format!("{app}/me"), &mut jar, &[]).await;
    s.check(
        "GET /me after logout -> 401",
        r.and_then(|r| want(r.status == 401, || format!("status {}", r.status))),
    );
    Ok(json!({"passed": s.pass, "failed": s.fail}))
}

// ---------------------------------------------------------------------------------------------
// serve-ok: the ceiling of the hot loop (a bare hyper server answering "ok"), bounded in time.
// ---------------------------------------------------------------------------------------------

async fn serve_ok(a: &Args) -> Res<Value> {
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let port = a.n("port", 18089);
    let secs = a.n("seconds", 60);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port as u16))
        .await
        .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
    eprintln!("serve-ok listening on 127.0.0.1:{port} for at most {secs}s");
    let served = Arc::new(AtomicUsize::new(0));
    let s2 = served.clone();
    let accept = async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let served = s2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    served.fetch_add(1, Ordering::Relaxed);
                    async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            bytes::Bytes::from_static(b"ok"),
                        )))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(secs), accept).await;
    Ok(json!({"served": served.load(Ordering::Relaxed)}))
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let a = Args::parse();
    let default_threads = if a.cmd == "serve-ok" { 2 } else { 1 };
    let threads = a.n("threads", default_threads).max(1) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let max_s = a.n("max-seconds", 300);
    let res = rt.block_on(async {
        let fut = async {
            match a.cmd.as_str() {
                "storm" => storm(&a).await,
                "burst" => burst(&a).await,
                "login" => login_cmd(&a).await,
                "smoke" => smoke(&a).await,
                "serve-ok" => serve_ok(&a).await,
                other => Err(format!(
                    "unknown command {other:?}: use storm|burst|login|smoke"
                )),
            }
        };
        // Hard bound on the whole run, whatever happens.
        match tokio::time::timeout(Duration::from_secs(max_s + 30), fut).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {}s", max_s + 30)),
        }
    });
    match res {
        Ok(v) => {
            println!("{v}");
            let failed = v
                .get("failed")
                .and_then(|f| f.as_array())
                .map(|f| !f.is_empty())
                .unwrap_or(false);
            if failed {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            println!("{}", json!({"error": e}));
            std::process::exit(1);
        }
    }
}
