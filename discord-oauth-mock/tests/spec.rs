//! The fake's answers, and the golden fixtures, validated against the response schemas of
//! Discord's OpenAPI spec (<https://github.com/discord/discord-api-spec>).
//!
//! The schemas are the spec's, extracted by `spec/extract.py` into `spec/schemas.json` (the
//! spec's commit is recorded there), with the few places where Discord's documentation wins over
//! the spec patched and listed under `deviations`. Every endpoint and status the fake serves is
//! driven live, and each answer is checked against the spec's schema for that operation and
//! status (`4XX` for the 4xx statuses without one of their own), together with the rate-limit
//! headers the spec declares.

mod common;
use common::*;
use discord_oauth_mock::{Fault, MockDiscord, RateLimitConfig, seed};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

/// The extracted schemas.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!("../spec/schemas.json")).expect("spec/schemas.json")
    })
}

/// A validator for `schema`, whose `#/components/schemas/...` references resolve in the
/// extracted document. Formats (`date-time`, `uri`, ...) are checked too.
fn validator(schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": spec()["components"],
        "allOf": [schema],
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// Compiled validators, by schema text.
fn validate(schema: &Value, body: &Value) -> Vec<String> {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, std::rc::Rc<jsonschema::Validator>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    let key = schema.to_string();
    let v = CACHE.with(|c| {
        c.borrow_mut()
            .entry(key)
            .or_insert_with(|| std::rc::Rc::new(validator(schema)))
            .clone()
    });
    v.iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The spec's schema of `op` ("GET /users/@me") for `status`: its own, or `4XX`. `Ok(None)`: no
/// body. `"ANY"` is a route outside the spec's operations: Discord's generic error bodies.
fn schema_for(op: &str, status: u16) -> Result<Option<Value>, String> {
    if op == "ANY" {
        let name = if status == 429 {
            "RatelimitedResponse"
        } else {
            "ErrorResponse"
        };
        return Ok(Some(
            json!({ "$ref": format!("#/components/schemas/{name}") }),
        ));
    }
    let responses = &spec()["operations"][op]["responses"];
    if responses.is_null() {
        return Err(format!("{op}: not an operation of the spec"));
    }
    let s = status.to_string();
    let schema = if let Some(s) = responses.get(&s) {
        s
    } else if (400..500).contains(&status) && responses.get("4XX").is_some() {
        &responses["4XX"]
    } else {
        return Err(format!("{op}: the spec has no response {status}"));
    };
    Ok((!schema.is_null()).then(|| schema.clone()))
}

/// Errors of one answer against the spec: status, body, and the rate-limit headers.
fn check_answer(
    op: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    limits_on: bool,
) -> Vec<String> {
    let mut errors = vec![];
    match schema_for(op, status) {
        Err(e) => errors.push(e),
        Ok(None) if !body.is_empty() => errors.push(format!("{status} must have no body")),
        Ok(None) => {}
        Ok(Some(schema)) => match serde_json::from_slice::<Value>(body) {
            Ok(v) => errors.extend(validate(&schema, &v)),
            Err(e) => errors.push(format!("body is not JSON: {e}")),
        },
    }
    if limits_on {
        errors.extend(check_headers(status, headers));
    }
    errors
}

/// The spec's `X-RateLimit-*` headers (integer, integer, number, number, string): required on
/// every 2xx and per-route 429 (the 4xx answered before the rate limiter ran, such as a path id
/// that is not a snowflake or an unknown route, may lack them; when present they are checked),
/// and on a 429 an integer `Retry-After` and `X-RateLimit-Scope`; a global 429 carries
/// only those and `X-RateLimit-Global` (Discord's example,
/// <https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit>).
fn check_headers(status: u16, h: &reqwest::header::HeaderMap) -> Vec<String> {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut errors = vec![];
    let global = get("x-ratelimit-global").as_deref() == Some("true");
    if status == 429 {
        match get("retry-after").map(|v| v.parse::<u64>()) {
            Some(Ok(_)) => {}
            other => errors.push(format!("Retry-After: {other:?}")),
        }
        if !matches!(
            get("x-ratelimit-scope").as_deref(),
            Some("user" | "global" | "shared")
        ) {
            errors.push("X-RateLimit-Scope missing".into());
        }
    }
    if global {
        return errors;
    }
    for (k, kind) in [
        ("x-ratelimit-limit", "integer"),
        ("x-ratelimit-remaining", "integer"),
        ("x-ratelimit-reset", "number"),
        ("x-ratelimit-reset-after", "number"),
        ("x-ratelimit-bucket", "string"),
    ] {
        let required = status < 300 || status == 429;
        let ok = match (get(k), kind) {
            (None, _) => !required,
            (Some(v), "integer") => v.parse::<u64>().is_ok(),
            (Some(v), "number") => v.parse::<f64>().is_ok(),
            (Some(v), _) => !v.is_empty(),
        };
        if !ok {
            errors.push(format!("{k}: {:?} is not a {kind}", get(k)));
        }
    }
    errors
}

/// Drives the fake and checks every answer.
struct Checker {
    m: MockDiscord,
    c: reqwest::Client,
    limits_on: bool,
    seen: BTreeSet<(String, u16)>,
    failures: Vec<String>,
}

impl Checker {
    async fn new(limits: RateLimitConfig) -> Checker {
        let limits_on = limits.enabled;
        let m = MockDiscord::builder()
            .redirect_uri(REDIRECT)
            .rate_limits(limits)
            .start()
            .await;
        Checker {
            m,
            c: client(),
            limits_on,
            seen: BTreeSet::new(),
            failures: vec![],
        }
    }

    fn bot(&self) -> String {
        format!("Bot {}", self.m.bot_token())
    }

    /// Sends `method path` (under `/api/v10`) with `auth` and an optional JSON body, checks the
    /// answer against `op`, and returns (status, body).
    async fn call(
        &mut self,
        op: &str,
        method: &str,
        path: &str,
        auth: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.m.api_url());
        let mut rb = self
            .c
            .request(method.parse().expect("method"), &url)
            .header("authorization", auth);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(op, &format!("{method} {path}"), rb).await
    }

    async fn send(&mut self, op: &str, what: &str, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        let errors = check_answer(op, status, &headers, &bytes, self.limits_on);
        if !errors.is_empty() {
            self.failures.push(format!(
                "{what} -> {status} ({op}):\n  {}\n  body: {}",
                errors.join("\n  "),
                String::from_utf8_lossy(&bytes)
            ));
        }
        self.seen.insert((op.to_owned(), status));
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn token(&self, user: u64, scope: &str) -> String {
        let t = login(&self.c, &self.m, user, scope).await;
        format!("Bearer {}", access(&t))
    }
}

const ME: &str = "GET /users/@me";
const GUILDS: &str = "GET /users/@me/guilds";
const CONNS: &str = "GET /users/@me/connections";
const MY_MEMBER: &str = "GET /users/@me/guilds/{guild_id}/member";
const RC_GET: &str = "GET /users/@me/applications/{application_id}/role-connection";
const RC_PUT: &str = "PUT /users/@me/applications/{application_id}/role-connection";
const RC_DEL: &str = "DELETE /users/@me/applications/{application_id}/role-connection";
const USER: &str = "GET /users/{user_id}";
const AUTH_INFO: &str = "GET /oauth2/@me";
const APP: &str = "GET /applications/@me";
const OAUTH_APP: &str = "GET /oauth2/applications/@me";
const GUILD: &str = "GET /guilds/{guild_id}";
const MEMBER: &str = "GET /guilds/{guild_id}/members/{user_id}";
const ADD: &str = "PUT /guilds/{guild_id}/members/{user_id}";
const META_GET: &str = "GET /applications/{application_id}/role-connections/metadata";
const META_PUT: &str = "PUT /applications/{application_id}/role-connections/metadata";

/// Limits on (so that the headers are checked) but high enough not to refuse anything.
fn roomy_limits() -> RateLimitConfig {
    RateLimitConfig::default()
        .per_route(100_000, Duration::from_secs(60))
        .global(100_000, Duration::from_secs(1))
}

#[tokio::test]
async fn every_answer_of_the_fake_matches_the_spec() {
    let mut k = Checker::new(roomy_limits()).await;
    let bot = k.bot();
    let app = k.m.client_id();
    let users: Vec<u64> = k.m.users().iter().map(|u| u.id).collect();
    // Generated users (any snowflake logs in): a few, so that their derived fields vary.
    let generated = [
        175_928_847_299_117_063_u64,
        200_000_000_000_000_001,
        200_000_000_000_000_002,
        200_000_000_000_000_003,
    ];

    // Users, their guilds, connections and memberships, for every seeded user and a generated
    // one, with every scope that changes the answer.
    for &u in users.iter().chain(&generated) {
        let t = k
            .token(u, "identify email connections guilds guilds.members.read")
            .await;
        k.call(ME, "GET", "/users/@me", &t, None).await;
        k.call(GUILDS, "GET", "/users/@me/guilds", &t, None).await;
        k.call(
            GUILDS,
            "GET",
            "/users/@me/guilds?with_counts=true",
            &t,
            None,
        )
        .await;
        k.call(CONNS, "GET", "/users/@me/connections", &t, None)
            .await;
        k.call(AUTH_INFO, "GET", "/oauth2/@me", &t, None).await;
        for g in seed::guilds() {
            let path = format!("/users/@me/guilds/{}/member", g.id);
            k.call(MY_MEMBER, "GET", &path, &t, None).await;
            let path = format!("/guilds/{}/members/{u}", g.id);
            k.call(MEMBER, "GET", &path, &bot, None).await;
        }
        k.call(USER, "GET", &format!("/users/{u}"), &bot, None)
            .await;
        let t = k.token(u, "identify identify.premium").await;
        k.call(ME, "GET", "/users/@me", &t, None).await;
    }
    let alice = k.token(seed::ALICE, "identify").await;
    let no_identify = k.token(seed::ALICE, "guilds").await;
    k.call(AUTH_INFO, "GET", "/oauth2/@me", &no_identify, None)
        .await;
    k.call(ME, "GET", "/users/@me", &bot, None).await;
    k.call(GUILDS, "GET", "/users/@me/guilds", &bot, None).await;
    k.call(USER, "GET", &format!("/users/{app}"), &bot, None)
        .await;
    // 4xx of the user routes.
    k.call(ME, "GET", "/users/@me", "Bearer nope", None).await;
    k.call(ME, "GET", "/users/@me", &no_identify, None).await;
    k.call(GUILDS, "GET", "/users/@me/guilds", &alice, None)
        .await;
    let guilds = k.token(seed::ALICE, "guilds").await;
    for q in ["limit=0", "limit=x", "before=x", "with_counts=maybe"] {
        let path = format!("/users/@me/guilds?{q}");
        k.call(GUILDS, "GET", &path, &guilds, None).await;
    }
    k.call(CONNS, "GET", "/users/@me/connections", &alice, None)
        .await;
    let member = k.token(seed::ALICE, "guilds.members.read").await;
    k.call(
        MY_MEMBER,
        "GET",
        "/users/@me/guilds/1/member",
        &member,
        None,
    )
    .await;
    k.call(
        MY_MEMBER,
        "GET",
        "/users/@me/guilds/x/member",
        &member,
        None,
    )
    .await;
    let path = format!("/users/@me/guilds/{}/member", seed::GUILD_WORKSHOP);
    k.call(MY_MEMBER, "GET", &path, &alice, None).await;
    k.call(USER, "GET", "/users/1", &bot, None).await;
    k.call(USER, "GET", "/users/x", &bot, None).await;
    k.call(
        USER,
        "GET",
        &format!("/users/{}", seed::NELLY),
        &alice,
        None,
    )
    .await;
    k.call(AUTH_INFO, "GET", "/oauth2/@me", &bot, None).await;

    // The application.
    for (op, path) in [
        (APP, "/applications/@me"),
        (OAUTH_APP, "/oauth2/applications/@me"),
    ] {
        k.call(op, "GET", path, &bot, None).await;
        k.call(op, "GET", path, &alice, None).await;
    }

    // Guilds and members with the bot.
    for g in seed::guilds() {
        k.call(GUILD, "GET", &format!("/guilds/{}", g.id), &bot, None)
            .await;
    }
    k.call(GUILD, "GET", "/guilds/1", &bot, None).await;
    let workshop = format!("/guilds/{}", seed::GUILD_WORKSHOP);
    k.call(GUILD, "GET", &workshop, &alice, None).await;
    let path = format!("/guilds/{}/members/1", seed::GUILD_WORKSHOP);
    k.call(MEMBER, "GET", &path, &bot, None).await;
    let path = format!("/guilds/{}/members/{}", seed::GUILD_WORKSHOP, seed::ALICE);
    k.call(MEMBER, "GET", &path, &alice, None).await;

    // Add Guild Member: 201, 204 and each refusal.
    let lobby = seed::GUILD_LOBBY;
    for &u in users.iter().chain(&generated) {
        let t = k.token(u, "identify guilds.join").await;
        let tok = t.trim_start_matches("Bearer ").to_owned();
        let path = format!("/guilds/{lobby}/members/{u}");
        let body = json!({ "access_token": tok, "nick": "newbie", "mute": true, "deaf": false });
        k.call(ADD, "PUT", &path, &bot, Some(body.clone())).await;
        k.call(ADD, "PUT", &path, &bot, Some(body)).await;
        let path = format!("/guilds/{}/members/{u}", seed::GUILD_QUIET);
        let body = json!({ "access_token": tok, "roles": [seed::ROLE_QUIET_MANAGER.to_string()] });
        k.call(ADD, "PUT", &path, &bot, Some(body)).await;
    }
    let join = k.token(seed::NELLY, "guilds.join").await;
    let tok = join.trim_start_matches("Bearer ").to_owned();
    let nelly_in = |g: u64| format!("/guilds/{g}/members/{}", seed::NELLY);
    for (path, body) in [
        (nelly_in(lobby), json!({})),
        (nelly_in(lobby), json!([])),
        (nelly_in(lobby), json!({ "access_token": 5 })),
        (
            nelly_in(lobby),
            json!({ "access_token": tok, "nick": "x".repeat(40) }),
        ),
        (
            nelly_in(lobby),
            json!({ "access_token": tok, "roles": ["x"] }),
        ),
        (
            nelly_in(lobby),
            json!({ "access_token": tok, "mute": "yes" }),
        ),
        (nelly_in(lobby), json!({ "access_token": "stale" })),
        (
            nelly_in(seed::GUILD_QUIET),
            json!({ "access_token": tok, "roles": ["1"] }),
        ),
        (nelly_in(seed::GUILD_RTL), json!({ "access_token": tok })),
        (nelly_in(seed::GUILD_LONG), json!({ "access_token": tok })),
        (nelly_in(1), json!({ "access_token": tok })),
        (
            format!("/guilds/{lobby}/members/1"),
            json!({ "access_token": tok }),
        ),
    ] {
        k.call(ADD, "PUT", &path, &bot, Some(body)).await;
    }
    k.call(ADD, "PUT", &nelly_in(lobby), &alice, Some(json!({})))
        .await;
    // A body that is not JSON, and one without the JSON content type.
    let url = format!("{}{}", k.m.api_url(), nelly_in(lobby));
    for (ct, body) in [("application/json", "{nope"), ("text/plain", "{}")] {
        let rb =
            k.c.put(&url)
                .header("authorization", &bot)
                .header("content-type", ct)
                .body(body);
        k.send(ADD, "PUT add member (raw body)", rb).await;
    }

    // Linked roles.
    let rc = format!("/users/@me/applications/{app}/role-connection");
    let t = k.token(seed::ALICE, "role_connections.write").await;
    k.call(RC_GET, "GET", &rc, &t, None).await;
    let body = json!({ "platform_name": "Mock", "platform_username": "alice", "metadata": { "level": 3, "verified": true } });
    k.call(RC_PUT, "PUT", &rc, &t, Some(body)).await;
    k.call(RC_GET, "GET", &rc, &t, None).await;
    k.call(RC_PUT, "PUT", &rc, &t, Some(json!({ "metadata": {} })))
        .await;
    k.call(RC_PUT, "PUT", &rc, &t, Some(json!({ "platform_name": 5 })))
        .await;
    k.call(RC_PUT, "PUT", &rc, &t, Some(json!("x"))).await;
    k.call(RC_DEL, "DELETE", &rc, &t, None).await;
    k.call(RC_GET, "GET", &rc, &alice, None).await;
    k.call(RC_PUT, "PUT", &rc, &alice, Some(json!({}))).await;
    k.call(RC_DEL, "DELETE", &rc, &alice, None).await;
    let other = "/users/@me/applications/1/role-connection";
    k.call(RC_GET, "GET", other, &t, None).await;
    let meta = format!("/applications/{app}/role-connections/metadata");
    k.call(META_GET, "GET", &meta, &bot, None).await;
    let records = json!([
        { "type": 2, "key": "level", "name": "Level", "description": "Level at least" },
        { "type": 7, "key": "verified", "name": "Verified", "description": "Is verified",
          "name_localizations": { "fr": "Vérifié" } },
    ]);
    k.call(META_PUT, "PUT", &meta, &bot, Some(records)).await;
    k.call(META_GET, "GET", &meta, &bot, None).await;
    for bad in [
        json!({}),
        json!([1]),
        json!([{ "type": 9, "key": "k", "name": "n", "description": "d" }]),
        json!([{ "type": 1, "key": "K!", "name": "n", "description": "d" }]),
        json!([{ "type": 1, "key": "k", "name": "", "description": "d" }]),
        json!((0..6).map(|i| json!({ "type": 1, "key": format!("k{i}"), "name": "n", "description": "d" })).collect::<Vec<_>>()),
    ] {
        k.call(META_PUT, "PUT", &meta, &bot, Some(bad)).await;
    }
    k.call(META_GET, "GET", &meta, &alice, None).await;
    k.call(
        META_GET,
        "GET",
        "/applications/1/role-connections/metadata",
        &bot,
        None,
    )
    .await;

    // Injected 429s (route and global scope), a method the route does not serve, an unknown
    // route, a body too large.
    let me_route = "GET /api/v10/users/@me";
    let per_route = Fault::RateLimited {
        retry_after: 1.5,
        global: false,
        scope: "user".into(),
    };
    k.m.inject_fault(me_route, per_route, 1);
    k.call(ME, "GET", "/users/@me", &alice, None).await;
    let global = Fault::RateLimited {
        retry_after: 0.25,
        global: true,
        scope: "global".into(),
    };
    k.m.inject_fault(me_route, global, 1);
    k.call(ME, "GET", "/users/@me", &alice, None).await;
    k.call("ANY", "PATCH", "/users/@me/connections", &alice, None)
        .await;
    k.call("ANY", "GET", "/nope", &alice, None).await;
    let big = "x".repeat(2 << 20);
    let rb =
        k.c.put(format!("{}{}", k.m.api_url(), nelly_in(lobby)))
            .header("authorization", &bot)
            .header("content-type", "application/json")
            .body(big);
    k.send("ANY", "PUT add member (too large)", rb).await;

    assert!(
        k.failures.is_empty(),
        "{} answers do not match the spec:\n{}",
        k.failures.len(),
        k.failures.join("\n")
    );
    // Every operation and status the fake serves was seen.
    let expected: &[(&str, &[u16])] = &[
        (ME, &[200, 401, 429]),
        (GUILDS, &[200, 400, 401]),
        (CONNS, &[200, 401]),
        (MY_MEMBER, &[200, 400, 401, 404]),
        (RC_GET, &[200, 401, 403]),
        (RC_PUT, &[200, 400, 401]),
        (RC_DEL, &[204, 401]),
        (USER, &[200, 400, 401, 404]),
        (AUTH_INFO, &[200, 401]),
        (APP, &[200, 401]),
        (OAUTH_APP, &[200, 401]),
        (GUILD, &[200, 401, 403, 404]),
        (MEMBER, &[200, 401, 404]),
        (ADD, &[201, 204, 400, 401, 403, 404]),
        (META_GET, &[200, 401, 403]),
        (META_PUT, &[200, 400]),
        ("ANY", &[404, 405, 413]),
    ];
    let mut missing = vec![];
    for (op, statuses) in expected {
        for s in *statuses {
            if !k.seen.contains(&((*op).to_owned(), *s)) {
                missing.push(format!("{op} {s}"));
            }
        }
    }
    assert!(missing.is_empty(), "not exercised: {missing:?}");
    // And every operation of the extracted spec was driven.
    for op in spec()["operations"].as_object().unwrap().keys() {
        assert!(k.seen.iter().any(|(o, _)| o == op), "{op} not driven");
    }
}

/// The fake's own 429s, per route and global, for a user, the bot and an unauthenticated caller.
#[tokio::test]
async fn the_fakes_own_429s_match_the_spec() {
    let limits = RateLimitConfig::default()
        .per_route(2, Duration::from_secs(60))
        .global(3, Duration::from_secs(60));
    let mut k = Checker::new(limits).await;
    let bot = k.bot();
    let t = k.token(seed::ALICE, "identify guilds").await;
    for _ in 0..3 {
        k.call(ME, "GET", "/users/@me", &t, None).await;
    }
    for _ in 0..2 {
        k.call(GUILDS, "GET", "/users/@me/guilds", &t, None).await;
    }
    for _ in 0..4 {
        k.call(USER, "GET", &format!("/users/{}", seed::NELLY), &bot, None)
            .await;
    }
    for _ in 0..4 {
        k.call(ME, "GET", "/users/@me", "", None).await;
    }
    assert!(k.failures.is_empty(), "{}", k.failures.join("\n"));
    let s = k.m.stats();
    assert!(s.total_rate_limited >= 4, "{s:?}");
    assert!(k.seen.contains(&(ME.to_owned(), 429)));
    assert!(k.seen.contains(&(USER.to_owned(), 429)));
}

/// The validation can fail: answers with a required field removed, a wrong type, a 429
/// without `code`, and a private field's enum broken are refused.
#[tokio::test]
async fn a_broken_answer_fails_the_check() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds.members.read").await);
    let me = body_json(get_bearer(&c, &m, "/users/@me", &t).await).await;
    let schema = |op: &str, s: u16| schema_for(op, s).unwrap().unwrap();
    assert!(validate(&schema(ME, 200), &me).is_empty());
    let mut broken = me.clone();
    broken.as_object_mut().unwrap().remove("flags");
    let e = validate(&schema(ME, 200), &broken);
    assert!(e.iter().any(|e| e.contains("flags")), "{e:?}");
    let mut broken = me.clone();
    broken["locale"] = json!("xx-YY");
    assert!(!validate(&schema(ME, 200), &broken).is_empty());
    let mut broken = me;
    broken["id"] = json!(459_873_214_563_123_201_u64);
    assert!(!validate(&schema(ME, 200), &broken).is_empty());
    let path = format!("/users/@me/guilds/{}/member", seed::GUILD_WORKSHOP);
    let mut member = body_json(get_bearer(&c, &m, &path, &t).await).await;
    assert!(validate(&schema(MY_MEMBER, 200), &member).is_empty());
    member["user"].as_object_mut().unwrap().remove("flags");
    assert!(!validate(&schema(MY_MEMBER, 200), &member).is_empty());
    let no_code =
        json!({ "message": "You are being rate limited.", "retry_after": 1.0, "global": false });
    assert!(!validate(&schema(ME, 429), &no_code).is_empty());
    let headers = reqwest::header::HeaderMap::new();
    assert!(!check_headers(429, &headers).is_empty());
    assert!(!check_answer(ME, 500, &headers, b"{}", false).is_empty());
}

/// A golden fixture, the spec's schema it must satisfy, and the instance paths where it may
/// differ on purpose (with the reason).
struct Golden {
    file: &'static str,
    op: &'static str,
    status: u16,
    allowed: &'static [Allowed],
}

/// An error a fixture may have on purpose: at instance path `path`, whose text contains
/// `needle`, and why.
type Allowed = (&'static str, &'static str, &'static str);

fn allows(a: &Allowed, error: &str) -> bool {
    error.split(": ").next() == Some(a.0) && error.contains(a.1)
}

const VERBATIM_USER: &str =
    "Discord's verbatim example lacks fields the spec requires (the fake sends them)";
const VERBATIM_APP: &str =
    "Discord's verbatim example predates the spec's required `type`, `flags` and `flags_new`";
const VERBATIM_429: &str =
    "Discord's verbatim example has no `code`, which the spec requires (the docs: optional)";

const GOLDEN: &[Golden] = &[
    Golden {
        file: "user.json",
        op: ME,
        status: 200,
        allowed: &[
            ("", "\"mfa_enabled\" is a required", VERBATIM_USER),
            ("", "\"locale\" is a required", VERBATIM_USER),
        ],
    },
    Golden {
        file: "user_migrated.json",
        op: ME,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "user_public.json",
        op: USER,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "partial_guild.json",
        op: GUILDS,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "guilds.json",
        op: GUILDS,
        status: 200,
        allowed: &[(
            "/1/features/2",
            "SOME_FUTURE_FEATURE",
            "an unknown guild feature, on purpose: the library must accept new ones",
        )],
    },
    Golden {
        file: "connection.json",
        op: CONNS,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "guild_member.json",
        op: MY_MEMBER,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "guild_member_bot.json",
        op: MEMBER,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "guild.json",
        op: GUILD,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "application.json",
        op: APP,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "authorization_info.json",
        op: AUTH_INFO,
        status: 200,
        allowed: &[
            ("/application", "\"type\" is a required", VERBATIM_APP),
            ("/application", "\"flags\" is a required", VERBATIM_APP),
            ("/application", "\"flags_new\" is a required", VERBATIM_APP),
            ("/user", "\"flags\" is a required", VERBATIM_USER),
            ("/user", "\"primary_guild\" is a required", VERBATIM_USER),
        ],
    },
    Golden {
        file: "authorization_info_spec.json",
        op: AUTH_INFO,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "error_401.json",
        op: ME,
        status: 401,
        allowed: &[],
    },
    Golden {
        file: "error_50035.json",
        op: ADD,
        status: 400,
        allowed: &[],
    },
    Golden {
        file: "ratelimit_429.json",
        op: ME,
        status: 429,
        allowed: &[("", "\"code\" is a required", VERBATIM_429)],
    },
    Golden {
        file: "ratelimit_429_global.json",
        op: ME,
        status: 429,
        allowed: &[("", "\"code\" is a required", VERBATIM_429)],
    },
    Golden {
        file: "ratelimit_429_spec.json",
        op: ME,
        status: 429,
        allowed: &[],
    },
    Golden {
        file: "role_connection.json",
        op: RC_PUT,
        status: 200,
        allowed: &[],
    },
    Golden {
        file: "role_connection_metadata.json",
        op: META_PUT,
        status: 200,
        allowed: &[],
    },
];

/// Files of `spec/golden/` (answers of the fake); the others are in `fixtures/`.
const SPEC_GOLDEN: &[&str] = &[
    "user_public.json",
    "guild.json",
    "guild_member_bot.json",
    "application.json",
    "authorization_info_spec.json",
    "ratelimit_429_spec.json",
];

fn fixture(name: &str) -> Value {
    let dir = if SPEC_GOLDEN.contains(&name) {
        "spec/golden"
    } else {
        "fixtures"
    };
    let path = format!("{}/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn golden_fixtures_match_the_spec() {
    let mut failures = vec![];
    for g in GOLDEN {
        let mut v = fixture(g.file);
        // `partial_guild.json` and `connection.json` are one item of a list.
        if g.file == "partial_guild.json" || g.file == "connection.json" {
            v = json!([v]);
        }
        let schema = schema_for(g.op, g.status).unwrap().unwrap();
        let errors = validate(&schema, &v);
        let (allowed, rest): (Vec<_>, Vec<_>) = errors
            .into_iter()
            .partition(|e| g.allowed.iter().any(|a| allows(a, e)));
        for e in rest {
            failures.push(format!("{}: {e}", g.file));
        }
        // An allowance that no longer matches anything must go.
        for a in g.allowed {
            if !allowed.iter().any(|e| allows(a, e)) {
                failures.push(format!("{}: allowance {a:?} is unused", g.file));
            }
        }
    }
    // Every fixture file is covered (token responses: their endpoint is not in the spec).
    for dir in ["fixtures", "spec/golden"] {
        let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let not_in_spec = name.starts_with("token_response");
            if name.ends_with(".json") && !not_in_spec && !GOLDEN.iter().any(|g| g.file == name) {
                failures.push(format!("{name}: no schema assigned"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The fixtures added for the spec equal the fake's live answers in shape: same keys, same
/// JSON types (the values differ: the fixtures are realistic examples).
#[tokio::test]
async fn new_fixtures_have_the_shape_of_live_answers() {
    let m = mock().await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let get_bot = |path: String| {
        let c = c.clone();
        let (url, bot) = (format!("{}{path}", m.api_url()), bot.clone());
        async move {
            let r = c
                .get(url)
                .header("authorization", bot)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let pairs = [
        (
            "user_public.json",
            get_bot(format!("/users/{}", seed::NELLY)).await,
        ),
        (
            "guild.json",
            get_bot(format!("/guilds/{}", seed::GUILD_WORKSHOP)).await,
        ),
        (
            "guild_member_bot.json",
            get_bot(format!(
                "/guilds/{}/members/{}",
                seed::GUILD_WORKSHOP,
                seed::ALICE
            ))
            .await,
        ),
        (
            "application.json",
            get_bot("/applications/@me".into()).await,
        ),
    ];
    for (file, live) in pairs {
        let golden = fixture(file);
        let keys =
            |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
        assert_eq!(
            keys(&golden),
            keys(&live),
            "{file}: keys differ from the live answer"
        );
    }
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds.join").await);
    let info = body_json(get_bearer(&c, &m, "/oauth2/@me", &t).await).await;
    let golden = fixture("authorization_info_spec.json");
    for k in ["application", "user"] {
        let keys =
            |v: &Value| -> BTreeSet<String> { v[k].as_object().unwrap().keys().cloned().collect() };
        assert_eq!(
            keys(&golden),
            keys(&info),
            "authorization_info_spec.json: {k}"
        );
    }
}
