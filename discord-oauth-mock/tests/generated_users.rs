//! Any snowflake logs in: the fake mints a deterministic user for it (name, avatar, e-mail,
//! connections, guild memberships derived from the id), stores nothing about it, and leaves the
//! six seeded users exactly as they are.

mod common;
use common::*;
use discord_oauth_mock::seed;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ID: u64 = 175_928_847_299_117_063;

async fn profile(m: &discord_oauth_mock::MockDiscord, user: u64) -> (Value, Value, Value) {
    let c = client();
    let t = access(&login(&c, m, user, "identify email guilds connections").await);
    let me = body_json(get_bearer(&c, m, "/users/@me", &t).await).await;
    let guilds = body_json(get_bearer(&c, m, "/users/@me/guilds", &t).await).await;
    let conns = body_json(get_bearer(&c, m, "/users/@me/connections", &t).await).await;
    (me, guilds, conns)
}

#[tokio::test]
async fn any_snowflake_logs_in_as_the_same_generated_user() {
    let m = mock().await;
    let (me, guilds, conns) = profile(&m, ID).await;
    assert_eq!(me["id"], ID.to_string());
    let name = me["username"].as_str().unwrap();
    assert!(
        name.len() <= 32 && name.ends_with(".1c49kkphnxtz"),
        "{name}"
    );
    assert_eq!(me["email"], format!("{name}@example.com"));
    assert_eq!(me["discriminator"], "0");
    // The same id is the same user, in this fake and in another one.
    assert_eq!(
        profile(&m, ID).await,
        (me.clone(), guilds.clone(), conns.clone())
    );
    let other = mock().await;
    assert_eq!(profile(&other, ID).await.0, me);
    // Another id is another user.
    let (me2, _, _) = profile(&m, ID + 1).await;
    assert_ne!(me2["username"], me["username"]);
    // Nothing is stored about them: the seeded users are the six of before.
    assert_eq!(m.users().len(), 6);
    assert_eq!(m.users(), other.users());
    // Its guilds are seeded ones where the bot is, never the lobby, with @everyone's
    // permissions, and its member record agrees.
    let allowed = [seed::GUILD_WORKSHOP, seed::GUILD_KREW, seed::GUILD_XSS];
    let c = client();
    let t = access(&login(&c, &m, ID, "guilds.members.read").await);
    for g in seed::guilds() {
        let listed = guilds
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"].as_str().and_then(|s| s.parse::<u64>().ok()) == Some(g.id));
        assert!(!listed || allowed.contains(&g.id), "{}", g.id);
        let path = format!("/users/@me/guilds/{}/member", g.id);
        let r = get_bearer(&c, &m, &path, &t).await;
        assert_eq!(r.status() == 200, listed, "{}", g.id);
    }
}

#[tokio::test]
async fn many_ids_are_many_distinct_users() {
    let m = mock().await;
    let c = client();
    let mut names = BTreeSet::new();
    let mut with_guilds = 0;
    let mut with_connections = 0;
    for i in 0..40u64 {
        let id = 200_000_000_000_000_000 + i;
        let t = access(&login(&c, &m, id, "identify guilds connections").await);
        let me = body_json(get_bearer(&c, &m, "/users/@me", &t).await).await;
        names.insert(me["username"].as_str().unwrap().to_owned());
        let g = body_json(get_bearer(&c, &m, "/users/@me/guilds", &t).await).await;
        with_guilds += usize::from(!g.as_array().unwrap().is_empty());
        let cs = body_json(get_bearer(&c, &m, "/users/@me/connections", &t).await).await;
        with_connections += usize::from(!cs.as_array().unwrap().is_empty());
    }
    assert_eq!(names.len(), 40);
    // Derived from the id, so they vary: some have guilds or connections, some do not.
    assert!((1..40).contains(&with_guilds), "{with_guilds}");
    assert!((1..40).contains(&with_connections), "{with_connections}");
}

#[tokio::test]
async fn seeded_users_are_unchanged_and_small_ids_stay_unknown() {
    let m = mock().await;
    let c = client();
    let (me, _, _) = profile(&m, seed::ALICE).await;
    assert_eq!(me["username"], "alice.dev");
    assert_eq!(me["global_name"], "Alice Dev");
    for bad in ["42", "4194303", "9223372036854775808", "x"] {
        let r = c
            .get(authorize_url(&m, "identify", &[("mock_user", bad)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    // The bot's id is not a user one logs in as.
    let bot = m.client_id().to_string();
    let r = c
        .get(authorize_url(&m, "identify", &[("mock_user", &bot)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(format!("{}/users/1", m.api_url()))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_consent_page_takes_any_user_id() {
    let m = mock().await;
    let c = client();
    let page = c
        .get(authorize_url(&m, "identify", &[]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"other_user_id\""), "{page}");
    let mut form: Vec<(String, String)> = query(&authorize_url(&m, "identify", &[]));
    form.push(("user_id".into(), seed::ALICE.to_string()));
    form.push(("other_user_id".into(), ID.to_string()));
    form.push(("action".into(), "authorize".into()));
    let r = c.post(m.authorize_url()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let code = param(&loc, "code").unwrap();
    let t = exchange(
        &c,
        &m,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let t = access(&t.json().await.unwrap());
    let me = body_json(get_bearer(&c, &m, "/users/@me", &t).await).await;
    assert_eq!(me["id"], ID.to_string());
    // A bad typed id is refused, not silently replaced by the radio choice.
    let mut bad = form.clone();
    bad.retain(|(k, _)| k != "other_user_id");
    bad.push(("other_user_id".into(), "12".into()));
    let r = c.post(m.authorize_url()).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_generated_user_joins_a_guild_once() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, ID, "identify guilds.join").await);
    let url = format!("{}/guilds/{}/members/{ID}", m.api_url(), seed::GUILD_LOBBY);
    let put = || {
        c.put(&url)
            .header("authorization", format!("Bot {}", m.bot_token()))
            .json(&json!({ "access_token": t }))
            .send()
    };
    let r = put().await.unwrap();
    assert_eq!(r.status(), 201);
    let member = body_json(r).await;
    assert_eq!(member["user"]["id"], ID.to_string());
    assert_eq!(put().await.unwrap().status(), 204);
}
