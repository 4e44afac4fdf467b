//! Regression tests for the second review: error shapes, Content-Type, bounded stores, overflow,
//! rate-limit accounting, client authentication, scope echo and public-client mode.
mod common;
use base64::Engine;
use common::*;
use discord_oauth_mock::{MAX_LIFETIME, MockDiscord, RateLimitConfig, seed};
use serde_json::{Value, json};
use std::time::Duration;

async fn put_raw(
    c: &reqwest::Client,
    url: &str,
    auth: &str,
    ct: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut rb = c
        .put(url)
        .header("authorization", auth)
        .body(body.to_owned());
    if let Some(ct) = ct {
        rb = rb.header("content-type", ct);
    }
    rb.send().await.unwrap()
}

fn add_member_url(m: &MockDiscord, g: u64, u: u64) -> String {
    format!("{}/guilds/{g}/members/{u}", m.api_url())
}

fn metadata_url(m: &MockDiscord) -> String {
    format!(
        "{}/applications/{}/role-connections/metadata",
        m.api_url(),
        m.client_id()
    )
}

fn role_connection_url(m: &MockDiscord) -> String {
    format!(
        "{}/users/@me/applications/{}/role-connection",
        m.api_url(),
        m.client_id()
    )
}

/// `{"code": 50035, "errors": {"_errors": [{"code": <code>, ...}]}}` with nothing else in `errors`.
fn assert_top_level_error(b: &Value, code: &str) {
    assert_eq!(b["code"], 50035, "{b}");
    assert_eq!(b["message"], "Invalid Form Body", "{b}");
    let errors = b["errors"].as_object().expect("errors object");
    assert_eq!(errors.len(), 1, "only `_errors` at the top: {b}");
    let list = errors["_errors"].as_array().expect("errors._errors array");
    assert_eq!(list[0]["code"], code, "{b}");
    assert!(list[0]["message"].is_string(), "{b}");
}

/// Defect 1: whole-body errors are `errors._errors`, array items `errors.<i>._errors`.
#[tokio::test]
async fn whole_body_errors_sit_at_the_top_of_errors() {
    let m = mock().await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let json_ct = Some("application/json");
    // Add Guild Member with an array body.
    let url = add_member_url(&m, seed::GUILD_LOBBY, seed::NELLY);
    let r = put_raw(&c, &url, &bot, json_ct, "[]").await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "DICT_TYPE_CONVERT");
    // Role connection PUT with an array body.
    let t = access(&login(&c, &m, seed::ALICE, "role_connections.write").await);
    let bearer = format!("Bearer {t}");
    let r = put_raw(&c, &role_connection_url(&m), &bearer, json_ct, "[]").await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "DICT_TYPE_CONVERT");
    // Metadata PUT: not an array, then six records.
    let r = put_raw(&c, &metadata_url(&m), &bot, json_ct, "{}").await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "BASE_TYPE_ARRAY");
    let rec = |k: String| json!({"type": 1, "key": k, "name": "n", "description": "d"});
    let six = Value::Array((0..6).map(|i| rec(format!("k{i}"))).collect());
    let r = put_raw(&c, &metadata_url(&m), &bot, json_ct, &six.to_string()).await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "BASE_TYPE_MAX_LENGTH");
    // An array item that is not an object: `errors.1._errors`, not `errors.1._errors._errors`.
    let body = json!([rec("ok".into()), 7]).to_string();
    let r = put_raw(&c, &metadata_url(&m), &bot, json_ct, &body).await;
    assert_eq!(r.status(), 400);
    let b = body_json(r).await;
    assert_eq!(
        b["errors"],
        json!({"1": {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}]}}),
        "{b}"
    );
    // A field of an item keeps its level: `errors.0.key._errors`.
    let body = json!([rec("Bad-Key".into())]).to_string();
    let b = body_json(put_raw(&c, &metadata_url(&m), &bot, json_ct, &body).await).await;
    assert_eq!(
        b["errors"]["0"]["key"]["_errors"][0]["code"],
        "STRING_TYPE_REGEX"
    );
}

/// Defect 2: a non-empty REST JSON body needs `Content-Type: application/json`
/// (https://discord.com/developers/docs/reference#content-type).
#[tokio::test]
async fn rest_bodies_need_a_json_content_type() {
    let m = mock().await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let nelly = access(&login(&c, &m, seed::NELLY, "identify guilds.join").await);
    let body = json!({ "access_token": nelly }).to_string();
    let url = add_member_url(&m, seed::GUILD_LOBBY, seed::NELLY);
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = put_raw(&c, &url, &bot, ct, &body).await;
        assert_eq!(r.status(), 400, "{ct:?}");
        assert_top_level_error(&body_json(r).await, "CONTENT_TYPE_INVALID");
    }
    assert_eq!(m.stats().members_added, 0, "refused bodies change nothing");
    // Parameters and case are allowed.
    let r = put_raw(
        &c,
        &url,
        &bot,
        Some("Application/JSON; charset=utf-8"),
        &body,
    )
    .await;
    assert_eq!(r.status(), 201);
    // An empty body needs no type: it reads as `{}` (so `access_token` is missing).
    let quiet = add_member_url(&m, seed::GUILD_LOBBY, seed::QUIET);
    let b = body_json(put_raw(&c, &quiet, &bot, None, "").await).await;
    assert_eq!(
        b["errors"]["access_token"]["_errors"][0]["code"],
        "BASE_TYPE_REQUIRED"
    );
    // The other JSON endpoints too.
    let t = access(&login(&c, &m, seed::ALICE, "role_connections.write").await);
    let r = put_raw(
        &c,
        &role_connection_url(&m),
        &format!("Bearer {t}"),
        None,
        r#"{"platform_name": "x"}"#,
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "CONTENT_TYPE_INVALID");
    assert!(m.role_connection(seed::ALICE).is_none());
    let r = put_raw(&c, &metadata_url(&m), &bot, None, "[]").await;
    assert_eq!(r.status(), 400);
    assert_top_level_error(&body_json(r).await, "CONTENT_TYPE_INVALID");
}

/// Defect 3: client-chosen paths and methods do not create statistics keys.
#[tokio::test]
async fn unknown_paths_share_one_stats_key() {
    let m = mock().await;
    let c = client();
    for i in 0..60 {
        let r = c
            .get(format!("{}/cdn/junk{i}/x.png", m.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        c.get(format!("{}/api/v10/junk{i}", m.base_url()))
            .send()
            .await
            .unwrap();
        c.get(format!("{}/elsewhere{i}", m.base_url()))
            .send()
            .await
            .unwrap();
        let method = reqwest::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        c.request(method, format!("{}/api/v10/users/@me", m.api_url()))
            .send()
            .await
            .unwrap();
    }
    // Known CDN prefixes keep their own key.
    let r = c
        .get(format!("{}/embed/avatars/1.png", m.cdn_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s = m.stats();
    assert_eq!(s.requests_to("GET /cdn/UNMATCHED"), 60);
    assert_eq!(s.requests_to("UNMATCHED"), 180);
    assert_eq!(s.requests_to("GET /cdn/embed"), 1);
    assert_eq!(s.requests.len(), 3, "{:?}", s.requests.keys());
}

/// Defect 4a: rate-limit windows keyed by arbitrary guild ids are swept once ended.
#[tokio::test]
async fn ended_rate_limit_windows_are_swept() {
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        // The user's global limit (50/s) is off: this is about the per-route windows.
        .rate_limits(
            RateLimitConfig::default()
                .per_route(50, Duration::ZERO)
                .global(0, Duration::from_secs(1)),
        )
        .start()
        .await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "guilds.members.read").await);
    for g in 0..1500u64 {
        let r = get_bearer(&c, &m, &format!("/users/@me/guilds/{}/member", g + 1), &t).await;
        assert_eq!(r.status(), 404);
    }
    let sizes = m.store_sizes();
    assert!(
        sizes.rate_limit_windows < 1100,
        "windows keep growing: {sizes:?}"
    );
    assert!(sizes.sweeps >= 1, "{sizes:?}");
}

/// Defect 4b: expired access tokens and the refresh-less grants they leave are swept; a grant
/// with a refresh token survives.
#[tokio::test]
async fn expired_tokens_and_dead_grants_are_swept() {
    let m = mock().await;
    let c = client();
    m.set_token_lifetime(Duration::ZERO);
    let kept = login(&c, &m, seed::ALICE, "identify").await;
    let n = 1200;
    for _ in 0..n {
        let r = c
            .post(m.token_url())
            .basic_auth(m.client_id(), Some(m.client_secret()))
            .form(&[("grant_type", "client_credentials"), ("scope", "identify")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let t = body_json(r).await;
        assert_eq!(t["access_token"].as_str().unwrap().len(), 30, "{t}");
    }
    let sizes = m.store_sizes();
    assert!(sizes.access_tokens < 1100, "{sizes:?}");
    assert!(sizes.authorizations < 1100, "{sizes:?}");
    assert!(sizes.sweeps >= 1, "{sizes:?}");
    assert_eq!(m.stats().tokens_issued, n + 1);
    // The first login's refresh token still works after the sweep dropped its access token.
    m.set_token_lifetime(Duration::from_secs(60));
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", kept["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
}

/// Defect 4c: authorizations are capped; the oldest go first.
#[tokio::test]
async fn authorizations_are_capped_oldest_first() {
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(RateLimitConfig::disabled())
        .max_authorizations(8)
        .start()
        .await;
    let c = client();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(access(&login(&c, &m, seed::ALICE, "identify").await));
    }
    let sizes = m.store_sizes();
    assert!(sizes.authorizations <= 8, "{sizes:?}");
    assert!(sizes.access_tokens <= 8, "{sizes:?}");
    assert!(sizes.refresh_tokens <= 8, "{sizes:?}");
    let status = |t: String| {
        let (c, m) = (c.clone(), m.clone());
        async move { get_bearer(&c, &m, "/users/@me", &t).await.status() }
    };
    assert_eq!(status(tokens[0].clone()).await, 401, "oldest dropped");
    assert_eq!(status(tokens[19].clone()).await, 200, "newest kept");
}

/// Defect 4d: with more than 10 000 live codes, authorize no longer scans every code each time:
/// the sweeps grow with the logarithm of the count, not with the count.
#[tokio::test]
async fn live_codes_are_swept_only_when_doubled() {
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(RateLimitConfig::disabled())
        .auto_approve(Some(seed::ALICE))
        .start()
        .await;
    let c = client();
    let url = authorize_url(&m, "identify", &[]);
    let n = 10_300;
    for _ in 0..n {
        location(&c, &url).await;
    }
    let sizes = m.store_sizes();
    assert_eq!(sizes.codes, n, "all codes are live");
    // Sweeps at 1024, 2048, 4096 and 8192 codes.
    assert!(sizes.sweeps <= 5, "one sweep per authorize: {sizes:?}");
}

/// Defect 5: huge lifetimes and windows are capped instead of overflowing `Instant`.
#[tokio::test]
async fn huge_lifetimes_and_windows_do_not_panic() {
    let m = mock().await;
    let c = client();
    let r = c
        .post(format!("{}/_mock/token-lifetime", m.base_url()))
        .body(r#"{"seconds": 18446744073709551615}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = login(&c, &m, seed::ALICE, "identify").await;
    assert_eq!(t["expires_in"], MAX_LIFETIME.as_secs());
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t)).await.status(),
        200
    );
    m.set_token_lifetime(Duration::MAX);
    let t = login(&c, &m, seed::ALICE, "identify").await;
    assert_eq!(t["expires_in"], MAX_LIFETIME.as_secs());
    let m2 = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .token_lifetime(Duration::MAX)
        .code_lifetime(Duration::MAX)
        .rate_limits(
            RateLimitConfig::default()
                .per_route(1, Duration::MAX)
                .global(5, Duration::MAX),
        )
        .start()
        .await;
    let t = login(&c, &m2, seed::ALICE, "identify").await;
    assert_eq!(t["expires_in"], MAX_LIFETIME.as_secs());
    let bot = |p: &str| {
        c.get(format!("{}{p}", m2.api_url()))
            .header("authorization", format!("Bot {}", m2.bot_token()))
            .send()
    };
    assert_eq!(bot("/users/@me").await.unwrap().status(), 200);
    let r = bot("/users/@me").await.unwrap();
    assert_eq!(r.status(), 429);
    let b = body_json(r).await;
    assert!(b["retry_after"].as_f64().unwrap() > 0.0, "{b}");
}

/// Defect 6: a per-route 429 does not use a global slot.
#[tokio::test]
async fn route_429_does_not_use_a_global_slot() {
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(
            RateLimitConfig::default()
                .per_route(1, Duration::from_secs(60))
                .global(3, Duration::from_secs(60)),
        )
        .start()
        .await;
    let c = client();
    let bot = |p: &str| {
        c.get(format!("{}{p}", m.api_url()))
            .header("authorization", format!("Bot {}", m.bot_token()))
            .send()
    };
    assert_eq!(bot("/users/@me").await.unwrap().status(), 200);
    for _ in 0..3 {
        let r = bot("/users/@me").await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["x-ratelimit-scope"], "user");
    }
    // One accepted request so far: two global slots left.
    assert_eq!(bot("/applications/@me").await.unwrap().status(), 200);
    // Any snowflake is a (generated) user.
    assert_eq!(
        bot("/users/123456789012345678").await.unwrap().status(),
        200
    );
    let r = bot("/oauth2/applications/@me").await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-scope"], "global");
}

/// Defect 7: the Basic scheme is case-insensitive and its id and secret are form-urlencoded.
#[tokio::test]
async fn basic_auth_scheme_case_and_form_encoding() {
    let secret = "s3cr+t:x%y é";
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(RateLimitConfig::disabled())
        .client_secret(secret)
        .start()
        .await;
    let c = client();
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let try_auth = |header: String| {
        let (c, m) = (c.clone(), m.clone());
        async move {
            c.post(m.token_url())
                .header("authorization", header)
                .form(&[("grant_type", "client_credentials"), ("scope", "identify")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let id = m.client_id();
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let h = format!("{scheme} {}", b64(format!("{id}:{encoded}")));
        assert_eq!(try_auth(h).await, 200, "{scheme}");
    }
    // The id may be encoded too (digits encode to themselves, %3X decodes to digits).
    let id_enc: String = id
        .to_string()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let h = format!("Basic {}", b64(format!("{id_enc}:{encoded}")));
    assert_eq!(try_auth(h).await, 200);
    // Undecoded, `+` reads as a space: not the secret.
    let h = format!("Basic {}", b64(format!("{id}:{secret}")));
    assert_eq!(try_auth(h).await, 401);
    let h = format!("Basic {}", b64(format!("{id}:wrong")));
    assert_eq!(try_auth(h).await, 401);
}

/// Defect 8: a scope repeated anywhere in the request is granted and echoed once.
#[tokio::test]
async fn repeated_scopes_are_echoed_once_in_first_order() {
    let m = mock().await;
    let c = client();
    let t = login(&c, &m, seed::ALICE, "identify email identify guilds email").await;
    assert_eq!(t["scope"], "identify email guilds");
    let r = get_bearer(&c, &m, "/oauth2/@me", &access(&t)).await;
    let b = body_json(r).await;
    assert_eq!(b["scopes"].as_array().unwrap().len(), 3, "{b}");
}

async fn pkce_code(c: &reqwest::Client, m: &MockDiscord, verifier: &str) -> String {
    let (_, ch) = pkce_pair(verifier);
    code_for(
        c,
        m,
        seed::ALICE,
        "identify",
        &[("code_challenge", &ch), ("code_challenge_method", "S256")],
    )
    .await
}

async fn post_form(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(url).form(form).send().await.unwrap()
}

/// Feature 9: public-client mode lets PKCE exchanges, refreshes and revocations omit the secret.
#[tokio::test]
async fn public_client_may_omit_the_secret() {
    let m = mock().await;
    let c = client();
    let id = m.client_id().to_string();
    let verifier = "v".repeat(50);
    // Confidential (the default): no secret, no token, even with PKCE.
    let code = pkce_code(&c, &m, &verifier).await;
    let pkce_form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", verifier.clone()),
            ("client_id", id.clone()),
        ]
    };
    let r = c
        .post(m.token_url())
        .form(&pkce_form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await, json!({"error": "invalid_client"}));
    // Switch on through the control API.
    let r = c
        .post(format!("{}/_mock/public-client", m.base_url()))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cfg: Value = c
        .get(format!("{}/_mock/config", m.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["public_client"], true);
    let code = pkce_code(&c, &m, &verifier).await;
    let r = c
        .post(m.token_url())
        .form(&pkce_form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = body_json(r).await;
    // Refresh without the secret, in the body and as Basic with an empty password.
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let t = body_json(r).await;
    let r = c
        .post(m.token_url())
        .basic_auth(&id, Some(""))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = body_json(r).await;
    // Still refused: a code without PKCE, client_credentials, a wrong secret, no client_id.
    let plain = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &plain),
            ("redirect_uri", REDIRECT),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "identify"),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", &id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    // The confidential flow keeps working.
    let with_secret = login(&c, &m, seed::NELLY, "identify").await;
    assert!(with_secret["refresh_token"].is_string());
    // Revoke without the secret.
    let r = post_form(
        &c,
        &m.revoke_url(),
        &[
            ("token", t["access_token"].as_str().unwrap()),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", t["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    // Back to confidential through the Rust API.
    m.set_public_client(false);
    let code = pkce_code(&c, &m, &verifier).await;
    let r = c
        .post(m.token_url())
        .form(&pkce_form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Feature 9, builder form.
#[tokio::test]
async fn public_client_from_the_builder() {
    let m = MockDiscord::builder()
        .redirect_uri(REDIRECT)
        .rate_limits(RateLimitConfig::disabled())
        .public_client(true)
        .start()
        .await;
    let c = client();
    let verifier = "w".repeat(43);
    let code = pkce_code(&c, &m, &verifier).await;
    let id = m.client_id().to_string();
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // The verifier is still checked.
    let code = pkce_code(&c, &m, &verifier).await;
    let bad = "x".repeat(43);
    let r = post_form(
        &c,
        &m.token_url(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &bad),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
}
