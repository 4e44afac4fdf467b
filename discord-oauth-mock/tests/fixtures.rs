//! The mock's answers have the keys and JSON types of Discord's own example payloads
//! (`discord-oauth-mock/fixtures/`, shared with the library's model tests).

mod common;
use common::*;
use discord_oauth_mock::seed;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `golden` is in `ours` with the same JSON type (null on either side is accepted:
/// nullable fields), recursively; paths listed in `optional` may be missing or differ.
fn same_shape(
    golden: &Value,
    ours: &Value,
    path: &str,
    optional: &[&str],
    errors: &mut Vec<String>,
) {
    if optional.contains(&path) {
        return;
    }
    if golden.is_null() || ours.is_null() {
        return;
    }
    if kind(golden) != kind(ours) {
        errors.push(format!(
            "{path}: fixture has {}, mock sends {}",
            kind(golden),
            kind(ours)
        ));
        return;
    }
    match (golden, ours) {
        (Value::Object(g), Value::Object(o)) => {
            for (k, gv) in g {
                let p = format!("{path}.{k}");
                match o.get(k) {
                    Some(ov) => same_shape(gv, ov, &p, optional, errors),
                    None if optional.contains(&p.as_str()) => {}
                    None => errors.push(format!("{p}: missing in the mock's answer")),
                }
            }
        }
        (Value::Array(g), Value::Array(o)) => {
            if let (Some(gv), Some(ov)) = (g.first(), o.first()) {
                same_shape(gv, ov, &format!("{path}[]"), optional, errors);
            }
        }
        _ => {}
    }
}

#[track_caller]
fn assert_shape(name: &str, ours: &Value, optional: &[&str]) {
    let mut errors = vec![];
    same_shape(&fixture(name), ours, "$", optional, &mut errors);
    assert!(
        errors.is_empty(),
        "{name}:\n{}\nmock answer: {ours}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn user_objects() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify email").await);
    let me = body_json(get_bearer(&c, &m, "/users/@me", &t).await).await;
    assert_shape("user.json", &me, &[]);
    // `bot`/`system` are only sent for such accounts; `clan` is an unknown extra field.
    assert_shape("user_migrated.json", &me, &["$.bot", "$.system", "$.clan"]);
}

#[tokio::test]
async fn guild_objects() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "guilds guilds.members.read").await);
    let guilds =
        body_json(get_bearer(&c, &m, "/users/@me/guilds?with_counts=true", &t).await).await;
    assert_shape("partial_guild.json", &guilds[0], &[]);
    assert_shape("guilds.json", &guilds, &[]);
    let plain = body_json(get_bearer(&c, &m, "/users/@me/guilds", &t).await).await;
    for g in fixture("guilds.json").as_array().unwrap() {
        let mut errors = vec![];
        let opt = ["$.approximate_member_count", "$.approximate_presence_count"];
        same_shape(g, &plain[0], "$", &opt, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }
    let member = body_json(
        get_bearer(
            &c,
            &m,
            &format!("/users/@me/guilds/{}/member", seed::GUILD_WORKSHOP),
            &t,
        )
        .await,
    )
    .await;
    assert_shape("guild_member.json", &member, &[]);
}

#[tokio::test]
async fn connection_objects() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "connections").await);
    let list = body_json(get_bearer(&c, &m, "/users/@me/connections", &t).await).await;
    // `metadata_visibility` is an extra field of the fixture.
    assert_shape("connection.json", &list[0], &["$.metadata_visibility"]);
}

#[tokio::test]
async fn authorization_info() {
    let m = mock().await;
    let c = client();
    let t = access(&login(&c, &m, seed::ALICE, "identify guilds.join").await);
    let info = body_json(get_bearer(&c, &m, "/oauth2/@me", &t).await).await;
    assert_shape("authorization_info.json", &info, &[]);
}

#[tokio::test]
async fn token_responses() {
    let m = mock().await;
    let c = client();
    let t = login(&c, &m, seed::ALICE, "identify").await;
    assert_shape("token_response.json", &t, &[]);
    let code = code_for(&c, &m, seed::ALICE, "bot", &[("permissions", "8")]).await;
    let bot = body_json(
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
    // v6 leftovers in the official example: numeric role `permissions` and `permissions_new`;
    // v10 sends `permissions` as a string.
    assert_shape(
        "token_response_bot.json",
        &bot,
        &[
            "$.guild.roles[].permissions",
            "$.guild.roles[].permissions_new",
        ],
    );
    assert!(bot["guild"]["roles"][0]["permissions"].is_string());
    let code = code_for(&c, &m, seed::ALICE, "webhook.incoming", &[]).await;
    let hook = body_json(
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
    assert_shape("token_response_webhook.json", &hook, &[]);
}

#[tokio::test]
async fn error_bodies_equal_the_fixtures() {
    let m = mock().await;
    let c = client();
    let r = get_bearer(&c, &m, "/users/@me", "nope").await;
    assert_eq!(body_json(r).await, fixture("error_401.json"));
    let r = c
        .put(format!(
            "{}/guilds/{}/members/{}",
            m.api_url(),
            seed::GUILD_LOBBY,
            seed::NELLY
        ))
        .header("authorization", format!("Bot {}", m.bot_token()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await, fixture("error_50035.json"));
    m.set_rate_limits(
        discord_oauth_mock::RateLimitConfig::default()
            .per_route(1, std::time::Duration::from_secs(60))
            .global(1, std::time::Duration::from_secs(60)),
    );
    let t = access(&login(&c, &m, seed::ALICE, "identify").await);
    get_bearer(&c, &m, "/users/@me", &t).await;
    let r = get_bearer(&c, &m, "/users/@me", &t).await;
    assert_shape("ratelimit_429.json", &body_json(r).await, &[]);
    let bot = format!("Bot {}", m.bot_token());
    c.get(format!("{}/users/@me", m.api_url()))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    let r = c
        .get(format!("{}/users/@me", m.api_url()))
        .header("authorization", &bot)
        .send()
        .await
        .unwrap();
    let b = body_json(r).await;
    assert_shape("ratelimit_429_global.json", &b, &[]);
    assert_eq!(b["global"], true);
}

#[tokio::test]
async fn role_connection_round_trips() {
    let m = mock().await;
    let c = client();
    let bot = format!("Bot {}", m.bot_token());
    let url = format!(
        "{}/applications/{}/role-connections/metadata",
        m.api_url(),
        m.client_id()
    );
    let golden = fixture("role_connection_metadata.json");
    let r = c
        .put(&url)
        .header("authorization", &bot)
        .json(&golden)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body_json(r).await, golden);
    let t = access(&login(&c, &m, seed::ALICE, "role_connections.write").await);
    let url = format!(
        "{}/users/@me/applications/{}/role-connection",
        m.api_url(),
        m.client_id()
    );
    let golden = fixture("role_connection.json");
    let r = c
        .put(&url)
        .bearer_auth(&t)
        .json(&golden)
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(r).await, golden);
}

#[test]
fn the_shape_check_can_fail() {
    let mut e = vec![];
    same_shape(
        &json!({"a": 1, "b": "x"}),
        &json!({"a": "1"}),
        "$",
        &[],
        &mut e,
    );
    assert_eq!(e.len(), 2, "{e:?}");
    let mut e = vec![];
    same_shape(&json!([{"id": "1"}]), &json!([{"id": 1}]), "$", &[], &mut e);
    assert_eq!(
        e,
        vec!["$[].id: fixture has string, mock sends number".to_owned()]
    );
}
