//! REST endpoints under /api/v10: success and error paths, scope enforcement
//! (https://discord.com/developers/docs/resources/user,
//! https://discord.com/developers/docs/reference#error-messages).

mod common;
use common::*;
use discord_oauth_mock::seed;
use serde_json::{Value, json};

fn id_of(v: &Value) -> u64 {
    v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

async fn bot_put(
    c: &reqwest::Client,
    m: &discord_oauth_mock::MockDiscord,
    guild: u64,
    user: u64,
    body: &Value,
) -> reqwest::Response {
    c.put(format!("{}/guilds/{guild}/members/{user}", m.api_url()))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn users_me_email_only_with_scope() {
    let m = mock().await;
    let c = client();
    let t = login(&c, &m, seed::ALICE, "identify").await;
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert_eq!(me["id"], seed::ALICE.to_string());
    assert_eq!(me["discriminator"], "0");
    assert_eq!(me["global_name"], "Alice Dev");
    assert!(me.get("email").is_none() && me.get("verified").is_none());
    assert_eq!(me["premium_type"], 0, "0 without identify.premium");
    let t = login(&c, &m, seed::ALICE, "identify email identify.premium").await;
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["verified"], true);
    assert_eq!(me["premium_type"], 2);
    // Legacy user: 4-digit discriminator, null global_name, animated avatar.
    let t = login(&c, &m, seed::NELLY, "identify email").await;
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert_eq!(me["discriminator"], "1337");
    assert!(me["global_name"].is_null());
    assert!(me["avatar"].as_str().unwrap().starts_with("a_"));
    assert_eq!(me["verified"], false);
    // Null avatar, null email even with the scope.
    let t = login(&c, &m, seed::QUIET, "identify email").await;
    let me = body_json(get_bearer(&c, &m, "/users/@me", &access(&t)).await).await;
    assert!(me["avatar"].is_null() && me["email"].is_null());
    // Missing identify: 401.
    let t = login(&c, &m, seed::ALICE, "guilds").await;
    let r = get_bearer(&c, &m, "/users/@me", &access(&t)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await, unauthorized_body());
    // Garbage token, no header: 401.
    assert_eq!(
        get_bearer(&c, &m, "/users/@me", "garbage").await.status(),
        401
    );
    let r = c
        .get(format!("{}/users/@me", m.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(body_json(r).await, unauthorized_body());
}

#[tokio::test]
async fn my_guilds_pagination_counts_and_permissions() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds").await);
    let all = body_json(get_bearer(&c, &m, "/users/@me/guilds", &t).await).await;
    let all = all.as_array().unwrap();
    let expected: Vec<u64> = {
        let mut v: Vec<u64> = m
            .guilds()
            .iter()
            .filter(|g| g.has_member(seed::ALICE))
            .map(|g| g.id)
            .collect();
        v.sort();
        v
    };
    let ids: Vec<u64> = all
        .iter()
        .map(|g| g["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, expected);
    for g in all {
        assert!(g["permissions"].is_string(), "permissions is a string");
        assert!(g.get("approximate_member_count").is_none());
    }
    let workshop = all
        .iter()
        .find(|g| id_of(g) == seed::GUILD_WORKSHOP)
        .unwrap();
    assert_eq!(workshop["owner"], true);
    assert_eq!(workshop["permissions"], "2251799813685247");
    let krew = all.iter().find(|g| id_of(g) == seed::GUILD_KREW).unwrap();
    assert_eq!(krew["owner"], false);
    assert_eq!(krew["permissions"], "36953089");
    // limit / after / before.
    let page = body_json(get_bearer(&c, &m, "/users/@me/guilds?limit=2", &t).await).await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    let after = ids[1];
    let page = body_json(
        get_bearer(
            &c,
            &m,
            &format!("/users/@me/guilds?after={after}&limit=2"),
            &t,
        )
        .await,
    )
    .await;
    let got: Vec<String> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, vec![ids[2].to_string(), ids[3].to_string()]);
    let before = ids[3];
    let page = body_json(
        get_bearer(
            &c,
            &m,
            &format!("/users/@me/guilds?before={before}&limit=2"),
            &t,
        )
        .await,
    )
    .await;
    let got: Vec<String> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, vec![ids[1].to_string(), ids[2].to_string()]);
    // with_counts.
    let page = body_json(get_bearer(&c, &m, "/users/@me/guilds?with_counts=true", &t).await).await;
    let w = page
        .as_array()
        .unwrap()
        .iter()
        .find(|g| id_of(g) == seed::GUILD_WORKSHOP)
        .unwrap()
        .clone();
    assert_eq!(w["approximate_member_count"], 3268);
    assert_eq!(w["approximate_presence_count"], 784);
    // Bad query values: 400 Invalid Form Body.
    for q in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "before=abc",
        "with_counts=maybe",
    ] {
        let r = get_bearer(&c, &m, &format!("/users/@me/guilds?{q}"), &t).await;
        assert_eq!(r.status(), 400, "{q}");
        let b = body_json(r).await;
        assert_eq!(b["code"], 50035, "{q}");
        let field = q.split('=').next().unwrap();
        assert!(
            b["errors"][field]["_errors"][0]["code"].is_string(),
            "{q}: {b}"
        );
    }
    // Missing `guilds` scope.
    let t2 = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(
        get_bearer(&c, &m, "/users/@me/guilds", &t2).await.status(),
        401
    );
}

#[tokio::test]
async fn connections_need_the_scope() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify connections").await);
    let list = body_json(get_bearer(&c, &m, "/users/@me/connections", &t).await).await;
    let list = list.as_array().unwrap();
    assert!(list.len() >= 3);
    let twitch = list.iter().find(|x| x["type"] == "twitch").unwrap();
    assert_eq!(twitch["integrations"].as_array().unwrap().len(), 2);
    assert!(list.iter().any(|x| x["revoked"] == true));
    assert!(list.iter().any(|x| x["visibility"] == 0));
    let t2 = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(
        get_bearer(&c, &m, "/users/@me/connections", &t2)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn guild_member_of_current_user() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds.members.read").await);
    let r = get_bearer(
        &c,
        &m,
        &format!("/users/@me/guilds/{}/member", seed::GUILD_WORKSHOP),
        &t,
    )
    .await;
    assert_eq!(r.status(), 200);
    let mem = body_json(r).await;
    assert_eq!(mem["user"]["id"], seed::ALICE.to_string());
    assert_eq!(mem["nick"], "Boss");
    assert!(mem["roles"][0].is_string());
    // Not a member / unknown guild: 404 Unknown Guild.
    for g in [seed::GUILD_QUIET, 1] {
        let r = get_bearer(&c, &m, &format!("/users/@me/guilds/{g}/member"), &t).await;
        assert_eq!(r.status(), 404);
        assert_eq!(
            body_json(r).await,
            json!({"message": "Unknown Guild", "code": 10004})
        );
    }
    // Not a snowflake.
    let r = get_bearer(&c, &m, "/users/@me/guilds/abc/member", &t).await;
    assert_eq!(r.status(), 400);
    assert_eq!(body_json(r).await["code"], 50035);
    // Missing scope.
    let t2 = access(&login(&c, &m, seed::ALICE, "identify guilds").await);
    let r = get_bearer(
        &c,
        &m,
        &format!("/users/@me/guilds/{}/member", seed::GUILD_WORKSHOP),
        &t2,
    )
    .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn oauth2_me_any_bearer_but_not_bot() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "guilds.join identify").await);
    let info = body_json(get_bearer(&c, &m, "/oauth2/@me", &t).await).await;
    assert_eq!(info["application"]["id"], m.client_id().to_string());
    assert_eq!(info["scopes"], json!(["guilds.join", "identify"]));
    assert!(info["expires"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(info["user"]["id"], seed::ALICE.to_string());
    // Without identify: no user.
    let t = access(&login(&c, &m, seed::ALICE, "guilds").await);
    let info = body_json(get_bearer(&c, &m, "/oauth2/@me", &t).await).await;
    assert!(info.get("user").is_none());
    // A bot token: 401 (GH#3945).
    let r = c
        .get(format!("{}/oauth2/@me", m.api_url()))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn add_guild_member_all_paths() {
    let m = mock().await;
    let c = client();
    let nelly = access(&login(&c, &m, seed::NELLY, "identify guilds.join").await);
    let lobby = seed::GUILD_LOBBY;
    // 201 + member, nick/roles/mute/deaf honoured.
    let r = bot_put(&c, &m, lobby, seed::NELLY, &json!({"access_token": nelly, "nick": "Nel", "roles": [lobby.to_string()], "mute": true, "deaf": false})).await;
    assert_eq!(r.status(), 201);
    let mem = body_json(r).await;
    assert_eq!(mem["user"]["id"], seed::NELLY.to_string());
    assert_eq!(mem["nick"], "Nel");
    assert_eq!(mem["mute"], true);
    assert_eq!(mem["deaf"], false);
    assert!(
        m.guilds()
            .iter()
            .find(|g| g.id == lobby)
            .unwrap()
            .has_member(seed::NELLY)
    );
    // Already a member: 204, empty body.
    let r = bot_put(&c, &m, lobby, seed::NELLY, &json!({"access_token": nelly})).await;
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(m.stats().members_added, 1);
    // Missing access_token: 50035 with the documented shape.
    let r = bot_put(&c, &m, lobby, seed::QUIET, &json!({})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        body_json(r).await,
        json!({"code": 50035, "errors": {"access_token": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}}, "message": "Invalid Form Body"})
    );
    // Foreign token (Nelly's for Quiet): 50025.
    let r = bot_put(&c, &m, lobby, seed::QUIET, &json!({"access_token": nelly})).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        body_json(r).await,
        json!({"message": "Invalid OAuth2 access token provided", "code": 50025})
    );
    // Token without guilds.join: 50025.
    let q = access(&login(&c, &m, seed::QUIET, "identify").await);
    let r = bot_put(&c, &m, lobby, seed::QUIET, &json!({"access_token": q})).await;
    assert_eq!(body_json(r).await["code"], 50025);
    // Revoked token: 50025.
    let q = login(&c, &m, seed::QUIET, "guilds.join").await;
    m.revoke_user_grants(seed::QUIET);
    let r = bot_put(
        &c,
        &m,
        lobby,
        seed::QUIET,
        &json!({"access_token": access(&q)}),
    )
    .await;
    assert_eq!(body_json(r).await["code"], 50025);
    // Refreshed (stale) token: 50025.
    let q = login(&c, &m, seed::QUIET, "guilds.join").await;
    exchange(
        &c,
        &m,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", q["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    let r = bot_put(
        &c,
        &m,
        lobby,
        seed::QUIET,
        &json!({"access_token": access(&q)}),
    )
    .await;
    assert_eq!(body_json(r).await["code"], 50025);
    // Bot not in guild: 403 50001.
    let r = bot_put(
        &c,
        &m,
        seed::GUILD_RTL,
        seed::NELLY,
        &json!({"access_token": nelly}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        body_json(r).await,
        json!({"message": "Missing Access", "code": 50001})
    );
    // Bot lacks CREATE_INSTANT_INVITE: 403 50013.
    let r = bot_put(
        &c,
        &m,
        seed::GUILD_LONG,
        seed::NELLY,
        &json!({"access_token": nelly}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(body_json(r).await["code"], 50013);
    // Unknown guild: 404 10004.
    let r = bot_put(&c, &m, 1234, seed::NELLY, &json!({"access_token": nelly})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        body_json(r).await,
        json!({"message": "Unknown Guild", "code": 10004})
    );
    // Bad bot token, Bearer instead of Bot: 401.
    let r = c
        .put(format!(
            "{}/guilds/{lobby}/members/{}",
            m.api_url(),
            seed::NELLY
        ))
        .header("authorization", "Bot wrong")
        .json(&json!({"access_token": nelly}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .put(format!(
            "{}/guilds/{lobby}/members/{}",
            m.api_url(),
            seed::NELLY
        ))
        .bearer_auth(&nelly)
        .json(&json!({"access_token": nelly}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Invalid JSON: 50109.
    let r = c
        .put(format!(
            "{}/guilds/{lobby}/members/{}",
            m.api_url(),
            seed::NELLY
        ))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await["code"], 50109);
}

#[tokio::test]
async fn role_connection_get_put_delete() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify role_connections.write").await);
    let url = format!(
        "{}/users/@me/applications/{}/role-connection",
        m.api_url(),
        m.client_id()
    );
    let r = c.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(
        body_json(r).await,
        json!({"platform_name": null, "platform_username": null, "metadata": {}})
    );
    let r = c
        .put(&url)
        .bearer_auth(&t)
        .json(&json!({"platform_name": "Example Game", "platform_username": "alice", "metadata": {"matches_won": "42", "level": 7, "is_ranked": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = body_json(r).await;
    assert_eq!(
        v["metadata"],
        json!({"matches_won": "42", "level": "7", "is_ranked": "1"})
    );
    assert_eq!(m.role_connection(seed::ALICE).unwrap(), v);
    let r = c.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(body_json(r).await, v);
    // Too long platform_name.
    let r = c
        .put(&url)
        .bearer_auth(&t)
        .json(&json!({"platform_name": "x".repeat(51)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(body_json(r).await["code"], 50035);
    // Delete.
    assert_eq!(
        c.delete(&url)
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(m.role_connection(seed::ALICE).is_none());
    // Missing scope, another application.
    let t2 = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(
        c.get(&url).bearer_auth(&t2).send().await.unwrap().status(),
        401
    );
    let other = format!("{}/users/@me/applications/1/role-connection", m.api_url());
    assert_eq!(
        c.get(&other).bearer_auth(&t).send().await.unwrap().status(),
        403
    );
}

#[tokio::test]
async fn role_connection_metadata_records() {
    let m = mock().await;
    let c = client();
    let url = format!(
        "{}/applications/{}/role-connections/metadata",
        m.api_url(),
        m.client_id()
    );
    let bot = format!("Bot {}", m.bot_token());
    let rec =
        |key: &str, ty: u64| json!({"type": ty, "key": key, "name": "Name", "description": "Desc"});
    let r = c
        .put(&url)
        .header("authorization", &bot)
        .json(&json!([rec("matches_won", 2), rec("first_played", 6)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(&url)
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await.as_array().unwrap().len(), 2);
    // Six records, bad key, bad type.
    let six: Vec<Value> = (0..6).map(|i| rec(&format!("k{i}"), 1)).collect();
    let r = c
        .put(&url)
        .header("authorization", &bot)
        .json(&six)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .put(&url)
        .header("authorization", &bot)
        .json(&json!([rec("Bad-Key", 1)]))
        .send()
        .await
        .unwrap();
    let b = body_json(r).await;
    assert_eq!(b["code"], 50035);
    assert!(b["errors"]["0"]["key"]["_errors"].is_array());
    let r = c
        .put(&url)
        .header("authorization", &bot)
        .json(&json!([rec("ok", 9)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Bearer token: 401.
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    assert_eq!(
        c.get(&url).bearer_auth(&t).send().await.unwrap().status(),
        401
    );
}

#[tokio::test]
async fn bot_endpoints_and_unknown_routes() {
    let m = mock().await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let r = c
        .get(format!("{}/users/@me", m.api_url()))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    let me = body_json(r).await;
    assert_eq!(me["bot"], true);
    assert_eq!(me["id"], m.client_id().to_string());
    let r = c
        .get(format!("{}/applications/@me", m.api_url()))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await["id"], m.client_id().to_string());
    let r = c
        .get(format!("{}/users/{}", m.api_url(), seed::NELLY))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await["username"], "Nelly");
    let r = c
        .get(format!("{}/users/1", m.api_url()))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await["code"], 10013);
    // Unknown routes, the unversioned prefix for REST, discontinued versions.
    for path in ["/api/v10/nope", "/api/users/@me", "/nope"] {
        let r = c
            .get(format!("{}{path}", m.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(
            body_json(r).await,
            json!({"message": "404: Not Found", "code": 0})
        );
    }
    let r = c
        .get(format!("{}/api/v4/users/@me", m.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Wrong method on a known route: 405.
    let r = c
        .delete(format!("{}/users/@me", m.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(m.stats().requests_to("UNMATCHED"), 4);
}

#[tokio::test]
async fn cdn_serves_placeholder_images() {
    let m = mock().await;
    let c = client();
    let cdn = m.cdn_url();
    let alice = &m.users()[0];
    let nelly = &m.users()[1];
    let cases = [
        (
            format!(
                "{cdn}/avatars/{}/{}.png?size=128",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            "image/png",
        ),
        (
            format!(
                "{cdn}/avatars/{}/{}.webp",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            "image/webp",
        ),
        (
            format!(
                "{cdn}/avatars/{}/{}.jpg",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            "image/jpeg",
        ),
        (
            format!(
                "{cdn}/avatars/{}/{}.gif?size=4096",
                nelly.id,
                nelly.avatar.as_ref().unwrap()
            ),
            "image/gif",
        ),
        (format!("{cdn}/embed/avatars/5.png?size=3"), "image/png"),
        (
            format!(
                "{cdn}/icons/{}/a_f03590d3eb764081d154a66340ea7d6d.gif",
                seed::GUILD_KREW
            ),
            "image/gif",
        ),
        (
            format!(
                "{cdn}/banners/{}/bb42bdc37653b7cf58c4c8cc622e76cb.png",
                seed::GUILD_WORKSHOP
            ),
            "image/png",
        ),
        (
            format!(
                "{cdn}/banners/{}/{}.png",
                alice.id,
                alice.banner.as_ref().unwrap()
            ),
            "image/png",
        ),
    ];
    for (url, ct) in &cases {
        let r = c.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()["content-type"], *ct, "{url}");
        let b = r.bytes().await.unwrap();
        let magic: &[u8] = match *ct {
            "image/png" => b"\x89PNG",
            "image/gif" => b"GIF8",
            "image/jpeg" => b"\xff\xd8\xff",
            _ => b"RIFF",
        };
        assert!(b.starts_with(magic), "{url}");
    }
    let bad = [
        (
            format!(
                "{cdn}/avatars/{}/{}.png?size=100",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            400,
        ),
        (
            format!(
                "{cdn}/avatars/{}/{}.png?size=8192",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            400,
        ),
        (
            format!(
                "{cdn}/avatars/{}/{}.gif",
                alice.id,
                alice.avatar.as_ref().unwrap()
            ),
            415,
        ),
        (format!("{cdn}/avatars/{}/deadbeef.png", alice.id), 404),
        (format!("{cdn}/embed/avatars/6.png"), 404),
        (format!("{cdn}/nothing/here.png"), 404),
    ];
    for (url, status) in &bad {
        assert_eq!(c.get(url).send().await.unwrap().status(), *status, "{url}");
    }
}
