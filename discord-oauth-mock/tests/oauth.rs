//! OAuth2: authorize (consent page, auto-approve, validation), token grants, PKCE, refresh
//! rotation, revocation (https://discord.com/developers/docs/topics/oauth2).

mod common;
use common::*;
use discord_oauth_mock::{MockDiscord, seed};
use serde_json::json;

#[tokio::test]
async fn auto_approve_redirects_with_code_and_state() {
    let m = mock().await;
    m.set_auto_approve(Some(seed::ALICE));
    let c = client();
    let loc = location(&c, &authorize_url(&m, "identify", &[])).await;
    assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
    assert_eq!(param(&loc, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&loc, "code").unwrap().len(), 30);
    assert_eq!(m.stats().codes_issued, 1);
}

#[tokio::test]
async fn consent_page_lists_users_scopes_and_buttons() {
    let m = mock().await;
    let c = client();
    let r = c
        .get(authorize_url(&m, "identify email guilds", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // No form-action CSP: browsers would block the redirect to the app after the form POST.
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("form-action"),
        "{csp}"
    );
    let page = r.text().await.unwrap();
    for u in m.users() {
        assert!(
            page.contains(&format!("id=\"user-{}\"", u.id)),
            "radio for {}",
            u.id
        );
    }
    assert!(page.contains("name=\"user_id\""));
    assert!(page.contains("id=\"authorize\"") && page.contains("id=\"cancel\""));
    assert!(page.contains("data-scope=\"email\"") && page.contains("data-scope=\"guilds\""));
    assert!(page.contains("method=\"post\""));
    // The first user is selected by default.
    assert!(page.contains(&format!(
        "id=\"user-{}\" value=\"{}\" checked",
        seed::ALICE,
        seed::ALICE
    )));
}

#[tokio::test]
async fn consent_page_escapes_hostile_names() {
    let m = mock().await;
    let c = client();
    // The bot flow shows the guild picker too (hostile guild names).
    let page = c
        .get(authorize_url(
            &m,
            "identify bot",
            &[("state", "\"><script>alert('s')</script>")],
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script>"), "raw <script> in page");
    assert!(
        !page.contains("<img src=x"),
        "raw guild-name markup in page"
    );
    assert!(!page.contains("\"' onerror"), "raw quotes in page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&quot;&#39; onerror=alert(1) x=&quot;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // RTL override is kept as text but isolated.
    assert!(page.contains("<bdi class=\"display-name\">\u{202E}"));
    // The hostile state is carried in a hidden field, escaped.
    assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;\""));
}

#[tokio::test]
async fn consent_form_authorize_and_cancel() {
    let m = mock().await;
    let c = client();
    let base = [
        ("client_id", m.client_id().to_string()),
        ("response_type", "code".into()),
        ("scope", "identify".into()),
        ("redirect_uri", REDIRECT.into()),
        ("state", "abc".into()),
    ];
    let url = format!("{}/oauth2/authorize", m.base_url());
    let mut form: Vec<(&str, String)> = base.to_vec();
    form.push(("user_id", seed::NELLY.to_string()));
    form.push(("action", "authorize".into()));
    let r = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(param(&loc, "state").as_deref(), Some("abc"));
    let code = param(&loc, "code").unwrap();
    let t: serde_json::Value = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert_eq!(me["id"], seed::NELLY.to_string());

    let mut form: Vec<(&str, String)> = base.to_vec();
    form.push(("action", "cancel".into()));
    let r = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        loc,
        format!(
            "{REDIRECT}?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request&state=abc"
        )
    );
    assert!(param(&loc, "code").is_none());
    assert_eq!(m.stats().consents_denied, 1);

    // Authorize without picking a user: 400 page, no redirect.
    let mut form: Vec<(&str, String)> = base.to_vec();
    form.push(("action", "authorize".into()));
    assert_eq!(c.post(&url).form(&form).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn authorize_validation() {
    let m = mock().await;
    m.set_auto_approve(Some(seed::ALICE));
    let c = client();
    let base = m.base_url();
    // Unknown client: error page, no redirect.
    let r = c
        .get(format!("{base}/oauth2/authorize?client_id=1&response_type=code&scope=identify&redirect_uri={REDIRECT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Unregistered redirect_uri (even a prefix match): 400 page, never a redirect.
    for bad in [
        "http://127.0.0.1:1/callback/x",
        "http://evil.example/callback",
        "http://127.0.0.1:1/callbac",
    ] {
        let url = authorize_url(&m, "identify", &[]).replace(
            &form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
            &form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>(),
        );
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get("location").is_none());
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Invalid OAuth2 redirect_uri")
        );
    }
    // Unknown scope: redirect with invalid_scope and the state.
    let loc = location(&c, &authorize_url(&m, "identify rpc.api", &[])).await;
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(param(&loc, "state").as_deref(), Some("st4te"));
    // Wrong response_type.
    let url =
        authorize_url(&m, "identify", &[]).replace("response_type=code", "response_type=id_token");
    let loc = location(&c, &url).await;
    assert_eq!(
        param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
    // PKCE with plain method.
    let loc = location(
        &c,
        &authorize_url(
            &m,
            "identify",
            &[
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
        ),
    )
    .await;
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_request"));
    // role_connections.write with PKCE: invalid_scope (GH#5751).
    let (_, ch) = pkce_pair(&"v".repeat(43));
    let loc = location(
        &c,
        &authorize_url(
            &m,
            "identify role_connections.write",
            &[("code_challenge", &ch), ("code_challenge_method", "S256")],
        ),
    )
    .await;
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_scope"));
    // redirect_uri omitted: the first registered one is used.
    let url = format!(
        "{base}/oauth2/authorize?client_id={}&response_type=code&scope=identify",
        m.client_id()
    );
    assert!(location(&c, &url).await.starts_with(REDIRECT));
    // Unknown mock_user.
    let r = c
        .get(authorize_url(&m, "identify", &[("mock_user", "42")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn code_exchange_success_and_single_use() {
    let m = mock().await;
    let c = client();
    let code = code_for(&c, &m, seed::ALICE, "identify email guilds", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let r = exchange(&c, &m, &form).await;
    assert_eq!(r.status(), 200);
    let t = body_json(r).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 604_800);
    assert_eq!(t["scope"], "identify email guilds");
    assert_eq!(t["access_token"].as_str().unwrap().len(), 30);
    assert!(t["refresh_token"].is_string());
    // Reuse: invalid_grant.
    let r = exchange(&c, &m, &form).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(r).await,
        json!({"error": "invalid_grant", "error_description": "Invalid \"code\" in request."})
    );
    let s = m.stats();
    assert_eq!(s.grants_of("authorization_code"), 1);
    assert_eq!(s.tokens_issued, 1);
    assert_eq!(s.token_errors, 1);
}

#[tokio::test]
async fn code_errors() {
    let m = mock().await;
    let c = client();
    // Wrong redirect_uri.
    let code = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/other"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(r).await,
        json!({"error": "invalid_request", "error_description": "Invalid \"redirect_uri\" in request."})
    );
    // Unknown code.
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(body_json(r).await["error"], "invalid_grant");
    // Expired code.
    m.set_code_lifetime(std::time::Duration::ZERO);
    let code = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(body_json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn client_authentication() {
    let m = mock().await;
    let c = client();
    let code = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    // Wrong secret (Basic): 401 invalid_client, and the code is not consumed.
    let r = c
        .post(m.token_url())
        .basic_auth(m.client_id(), Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await, json!({"error": "invalid_client"}));
    // No credentials at all.
    let r = c.post(m.token_url()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Body credentials work (and the unversioned path too).
    let id = m.client_id().to_string();
    let secret = m.client_secret();
    let mut f: Vec<(&str, &str)> = form.to_vec();
    f.push(("client_id", &id));
    f.push(("client_secret", &secret));
    let r = c
        .post(format!("{}/api/oauth2/token", m.base_url()))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(m.stats().requests_to("POST /api/oauth2/token"), 2 - 1);
}

#[tokio::test]
async fn token_endpoint_is_form_only() {
    let m = mock().await;
    let c = client();
    let code = code_for(&c, &m, seed::ALICE, "identify", &[]).await;
    // JSON body: Discord reads no form and says unsupported_grant_type (GH#645, GH#5249).
    let r = c
        .post(m.token_url())
        .basic_auth(m.client_id(), Some(m.client_secret()))
        .json(&json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(r).await,
        json!({"error": "unsupported_grant_type", "error_description": "Grant type None is not supported"})
    );
    // Unknown grant type.
    let r = exchange(&c, &m, &[("grant_type", "password")]).await;
    assert_eq!(body_json(r).await["error"], "unsupported_grant_type");
    // GET on the token endpoint: 405.
    let r = c.get(m.token_url()).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        body_json(r).await,
        json!({"message": "405: Method Not Allowed", "code": 0})
    );
}

#[tokio::test]
async fn pkce_right_and_wrong() {
    let m = mock().await;
    let c = client();
    let verifier = "Zk3_9.aB-~".repeat(5); // 50 chars from the allowed set
    let (v, ch) = pkce_pair(&verifier);
    let extra = [
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // Right verifier.
    let code = code_for(&c, &m, seed::ALICE, "identify", &extra).await;
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &v),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // Missing verifier.
    let code = code_for(&c, &m, seed::ALICE, "identify", &extra).await;
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        body_json(r).await,
        json!({"error": "invalid_request", "error_description": "Missing \"code_verifier\""})
    );
    // Wrong verifier (right shape).
    let code = code_for(&c, &m, seed::ALICE, "identify", &extra).await;
    let wrong = "x".repeat(50);
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &wrong),
        ],
    )
    .await;
    assert_eq!(
        body_json(r).await,
        json!({"error": "invalid_request", "error_description": "Invalid \"code_verifier\""})
    );
    // Too short (42 chars) and bad characters, even when the hash would match.
    for bad in [
        "a".repeat(42),
        format!("{}!", "a".repeat(43)),
        "a".repeat(129),
    ] {
        let (bv, bch) = pkce_pair(&bad);
        let code = code_for(
            &c,
            &m,
            seed::ALICE,
            "identify",
            &[
                ("code_challenge", bch.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
        let r = exchange(
            &c,
            &m,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &bv),
            ],
        )
        .await;
        assert_eq!(r.status(), 400, "verifier of {} chars", bad.len());
    }
}

#[tokio::test]
async fn refresh_rotates_and_kills_the_old_pair() {
    let m = mock().await;
    let c = client();
    let t1 = login(&c, &m, seed::ALICE, "identify guilds").await;
    let rt1 = t1["refresh_token"].as_str().unwrap().to_owned();
    let r = exchange(
        &c,
        &m,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let t2 = body_json(r).await;
    assert_ne!(t2["refresh_token"], t1["refresh_token"]);
    assert_ne!(t2["access_token"], t1["access_token"]);
    assert_eq!(t2["scope"], "identify guilds");
    // The old refresh token is dead.
    let r = exchange(
        &c,
        &m,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(r).await,
        json!({"error": "invalid_grant", "error_description": "Invalid \"refresh_token\" in request"})
    );
    // The old access token is dead, the new one works.
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t1))
            .await
            .status(),
        401
    );
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t2))
            .await
            .status(),
        200
    );
    let s = m.stats();
    assert_eq!(s.tokens_refreshed, 1);
    assert_eq!(s.grants_of("refresh_token"), 1);
}

#[tokio::test]
async fn revoke_kills_access_and_refresh_tokens() {
    let m = mock().await;
    let c = client();
    let t = login(&c, &m, seed::ALICE, "identify").await;
    let other = login(&c, &m, seed::NELLY, "identify").await;
    // Revoke with the refresh token: the access token dies too (whole grant).
    let r = c
        .post(m.revoke_url())
        .basic_auth(m.client_id(), Some(m.client_secret()))
        .form(&[
            ("token", t["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body_json(r).await, json!({}));
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t)).await.status(),
        401
    );
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(body_json(r).await["error"], "invalid_grant");
    // Other users are untouched.
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&other))
            .await
            .status(),
        200
    );
    let s = m.stats();
    assert_eq!(s.revocations, 1);
    assert_eq!(s.tokens_revoked, 2);
    // Unknown token: still 200 (RFC 7009); bad client: 401.
    let r = c
        .post(format!("{}/api/oauth2/token/revoke", m.base_url()))
        .basic_auth(m.client_id(), Some(m.client_secret()))
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(m.revoke_url())
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn revoke_user_grants_as_if_the_app_was_removed() {
    let m = mock().await;
    let c = client();
    let a = login(&c, &m, seed::ALICE, "identify").await;
    let b = login(&c, &m, seed::ALICE, "identify guilds").await;
    assert_eq!(m.user_access_tokens(seed::ALICE).len(), 2);
    m.revoke_user_grants(seed::ALICE);
    assert!(m.user_access_tokens(seed::ALICE).is_empty());
    for t in [&a, &b] {
        assert_eq!(
            get_bearer(&c, &m, "/users/@me", &access(t)).await.status(),
            401
        );
        let r = exchange(
            &c,
            &m,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
        assert_eq!(r.status(), 400);
    }
}

#[tokio::test]
async fn expired_tokens_are_401_and_refreshable() {
    let m = mock().await;
    let c = client();
    m.set_token_lifetime(std::time::Duration::from_secs(60));
    let t = login(&c, &m, seed::ALICE, "identify").await;
    assert_eq!(t["expires_in"], 60);
    m.expire_access_tokens(Some(seed::ALICE));
    let r = get_bearer(&c, &m, "/users/@me", &access(&t)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await, unauthorized_body());
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    let t2 = body_json(r).await;
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t2))
            .await
            .status(),
        200
    );
    // Lifetime zero issues already-expired tokens.
    m.set_token_lifetime(std::time::Duration::ZERO);
    let t3 = login(&c, &m, seed::ALICE, "identify").await;
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &access(&t3))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn client_credentials_grant() {
    let m = mock().await;
    let c = client();
    let r = exchange(
        &c,
        &m,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "identify connections"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let t = body_json(r).await;
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["scope"], "identify connections");
    // The token is the bot owner's (the first seeded user).
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert_eq!(me["id"], m.users()[0].id.to_string());
    assert_eq!(m.stats().grants_of("client_credentials"), 1);
    // Passthrough scopes are refused.
    let r = exchange(
        &c,
        &m,
        &[("grant_type", "client_credentials"), ("scope", "bot")],
    )
    .await;
    assert_eq!(body_json(r).await["error"], "invalid_scope");
}

#[tokio::test]
async fn bot_flow_adds_the_bot_and_returns_the_guild() {
    let m = mock().await;
    let c = client();
    let g = seed::GUILD_RTL.to_string(); // the bot is not in it yet
    let loc = location(
        &c,
        &authorize_url(
            &m,
            "identify bot",
            &[
                ("permissions", "2251799813685247"),
                ("guild_id", &g),
                ("disable_guild_select", "true"),
                ("mock_user", &seed::RTL.to_string()),
            ],
        ),
    )
    .await;
    assert_eq!(param(&loc, "guild_id").as_deref(), Some(g.as_str()));
    assert_eq!(
        param(&loc, "permissions").as_deref(),
        Some("2251799813685247")
    );
    let code = param(&loc, "code").unwrap();
    let t = body_json(
        exchange(
            &c,
            &m,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(t["guild"]["id"], g);
    assert_eq!(t["guild"]["owner_id"], seed::RTL.to_string());
    assert_eq!(t["scope"], "identify bot applications.commands");
    let guild = m
        .guilds()
        .into_iter()
        .find(|x| x.id == seed::GUILD_RTL)
        .unwrap();
    assert_eq!(guild.bot_permissions, Some(2_251_799_813_685_247));
    // A user who cannot manage the guild is refused.
    let loc = location(
        &c,
        &authorize_url(
            &m,
            "bot",
            &[
                ("guild_id", &seed::GUILD_KREW.to_string()),
                ("mock_user", &seed::QUIET.to_string()),
            ],
        ),
    )
    .await;
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
}

#[tokio::test]
async fn webhook_flow_returns_a_webhook() {
    let m = mock().await;
    let c = client();
    let code = code_for(
        &c,
        &m,
        seed::ALICE,
        "webhook.incoming",
        &[("guild_id", &seed::GUILD_WORKSHOP.to_string())],
    )
    .await;
    let t = body_json(
        exchange(
            &c,
            &m,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await,
    )
    .await;
    let w = &t["webhook"];
    assert_eq!(w["type"], 1);
    assert_eq!(w["guild_id"], seed::GUILD_WORKSHOP.to_string());
    assert_eq!(w["application_id"], m.client_id().to_string());
    let (id, token) = (w["id"].as_str().unwrap(), w["token"].as_str().unwrap());
    assert!(
        w["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/webhooks/{id}/{token}"))
    );
    assert!(w["avatar"].is_null());
}

#[tokio::test]
async fn implicit_grant_uses_the_fragment() {
    let m = mock().await;
    let c = client();
    let url = authorize_url(&m, "identify", &[("mock_user", &seed::ALICE.to_string())])
        .replace("response_type=code", "response_type=token");
    let loc = location(&c, &url).await;
    let frag = loc.split_once('#').unwrap().1;
    let p: Vec<(String, String)> = form_urlencoded::parse(frag.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| p.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    assert_eq!(get("token_type").as_deref(), Some("Bearer"));
    assert_eq!(get("state").as_deref(), Some("st4te"));
    assert!(get("refresh_token").is_none());
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", &get("access_token").unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn prompt_none_skips_consent_for_a_known_grant() {
    let m = mock().await;
    let c = client();
    // First consent through the form (sets the mock's browser cookie).
    let r = c
        .post(format!("{}/oauth2/authorize", m.base_url()))
        .form(&[
            ("client_id", m.client_id().to_string()),
            ("response_type", "code".into()),
            ("scope", "identify guilds".into()),
            ("redirect_uri", REDIRECT.into()),
            ("user_id", seed::NELLY.to_string()),
            ("action", "authorize".into()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let code = param(r.headers()["location"].to_str().unwrap(), "code").unwrap();
    exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    // prompt=none with the same scopes: straight redirect.
    let r = c
        .get(authorize_url(&m, "identify", &[("prompt", "none")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    // prompt=consent always shows the page; so does prompt=none for new scopes.
    let r = c
        .get(authorize_url(&m, "identify", &[("prompt", "consent")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(authorize_url(&m, "identify email", &[("prompt", "none")]))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // ...and the page pre-selects the remembered user.
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!(
        "id=\"user-{}\" value=\"{}\" checked",
        seed::NELLY,
        seed::NELLY
    )));
}

#[tokio::test]
async fn builder_and_accessors() {
    let m = MockDiscord::builder()
        .client_id(123_456_789_012_345_678)
        .client_secret("s3cret")
        .bot_token("bot.token.x")
        .redirect_uri("http://127.0.0.1:2/a")
        .redirect_uri("http://127.0.0.1:2/b")
        .auto_approve(Some(seed::QUIET))
        .start()
        .await;
    assert_eq!(m.client_id(), 123_456_789_012_345_678);
    assert_eq!(m.client_secret(), "s3cret");
    assert_eq!(m.bot_token(), "bot.token.x");
    assert_eq!(m.redirect_uris().len(), 2);
    m.add_redirect_uri("http://127.0.0.1:2/b");
    assert_eq!(m.redirect_uris().len(), 2);
    assert!(m.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(m.cdn_url(), format!("{}/cdn", m.base_url()));
    assert!(!format!("{m:?}").contains("s3cret"));
    let m2 = m.clone();
    m2.shutdown().await;
    // After shutdown nothing listens any more.
    assert!(
        client()
            .get(format!("{}/api/v10/users/@me", m.base_url()))
            .send()
            .await
            .is_err()
    );
}
