//! The application's own tokens against the fake Discord: the client-credentials grant
//! (`DiscordOAuth::app_token`: cached per scope set until shortly before expiry, one grant for
//! concurrent callers, failures not cached) and an Activity's code exchange without
//! `redirect_uri` (`DiscordOAuth::exchange_activity_code`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use discord_oauth::clock::{Clock, ManualClock};
use discord_oauth::{APP_TOKEN_MARGIN, DiscordOAuth, Error, Scope, Scopes};
use discord_oauth_mock::{Fault, MockDiscord};
use http::{Method, StatusCode};

const TOKEN: &str = "POST /api/v10/oauth2/token";
/// The fake's default token lifetime (Discord's: 7 days).
const LIFETIME: u64 = 604_800;

fn client_with_clock(mock: &MockDiscord, clock: &ManualClock) -> DiscordOAuth {
    let config = common::config_for(mock)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    DiscordOAuth::new(config).unwrap()
}

fn identify() -> Scopes {
    Scopes::from([Scope::Identify])
}

#[tokio::test]
async fn concurrent_callers_share_one_grant() {
    let mock = common::mock().await;
    let discord = common::client_for(&mock);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let discord = discord.clone();
        tasks.spawn(async move { discord.app_token(&identify()).await });
    }
    let mut tokens = Vec::new();
    while let Some(done) = tasks.join_next().await {
        tokens.push(done.unwrap().unwrap().access_token().secret().to_owned());
    }
    assert_eq!(tokens.len(), 32);
    assert!(tokens.iter().all(|t| *t == tokens[0]), "one token for all");
    assert_eq!(mock.stats().grants_of("client_credentials"), 1);

    // The token works, for the application's owner (the fake's first seeded user).
    let app = discord.app_token(&identify()).await.unwrap();
    let me: serde_json::Value = app
        .request(Method::GET, "/users/@me")
        .send_json()
        .await
        .unwrap();
    assert_eq!(me["id"], mock.users()[0].id.to_string());
    assert_eq!(app.scopes(), &identify());
    assert_eq!(mock.stats().grants_of("client_credentials"), 1);
    // A route whose scope the token lacks fails before any call.
    let err = app
        .request(Method::GET, "/users/@me/guilds")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MissingScope(Scope::Guilds)), "{err:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn reused_until_shortly_before_expiry_then_granted_again() {
    let mock = common::mock().await;
    let clock = ManualClock::new();
    let discord = client_with_clock(&mock, &clock);
    let first = discord.app_token(&identify()).await.unwrap();
    let t0 = clock.unix_now();
    assert!(first.expires_at().abs_diff(t0 + LIFETIME) <= 1);

    // One second before the margin: the same token.
    clock.advance(Duration::from_secs(
        LIFETIME - APP_TOKEN_MARGIN.as_secs() - 1,
    ));
    let again = discord.app_token(&identify()).await.unwrap();
    assert_eq!(again.access_token().secret(), first.access_token().secret());
    assert_eq!(mock.stats().grants_of("client_credentials"), 1);

    // Inside the margin: a new grant, and it is cached in turn.
    clock.advance(Duration::from_secs(2));
    let renewed = discord.app_token(&identify()).await.unwrap();
    assert_ne!(
        renewed.access_token().secret(),
        first.access_token().secret()
    );
    assert!(renewed.expires_at() > first.expires_at());
    let cached = discord.app_token(&identify()).await.unwrap();
    assert_eq!(
        cached.access_token().secret(),
        renewed.access_token().secret()
    );
    assert_eq!(mock.stats().grants_of("client_credentials"), 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_failed_grant_is_a_typed_error_and_not_cached() {
    let mock = common::mock().await;
    let discord = common::client_for(&mock);
    mock.inject_fault(TOKEN, Fault::Status(500), 1);
    let err = discord.app_token(&identify()).await.unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY, "{err:?}");
    assert_eq!(mock.stats().grants_of("client_credentials"), 0);

    // The next caller asks again and succeeds.
    let app = discord.app_token(&identify()).await.unwrap();
    assert!(!app.access_token().secret().is_empty());
    assert_eq!(mock.stats().grants_of("client_credentials"), 1);

    // Discord's refusal (an unknown scope) is an OAuth error, not cached either.
    let unknown = Scopes::from([Scope::other("made.up").unwrap()]);
    for _ in 0..2 {
        let err = discord.app_token(&unknown).await.unwrap_err();
        assert!(
            matches!(&err, Error::OAuth { status, error, .. } if *status == StatusCode::BAD_REQUEST && error == "invalid_scope"),
            "{err:?}"
        );
    }
    // Refused locally, no call: no scope, or a scope the grant cannot carry.
    let before = mock.stats().requests_to(TOKEN);
    for scopes in [Scopes::new(), Scopes::from([Scope::Bot])] {
        let err = discord.app_token(&scopes).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    assert_eq!(mock.stats().requests_to(TOKEN), before);
    mock.shutdown().await;
}

#[tokio::test]
async fn each_scope_set_has_its_own_token() {
    let mock = common::mock().await;
    let discord = common::client_for(&mock);
    let a = discord.app_token(&identify()).await.unwrap();
    let b = discord
        .app_token(&Scopes::from([Scope::Identify, Scope::Guilds]))
        .await
        .unwrap();
    // The same set in another order (and repeated) is the same cache entry.
    let b2 = discord
        .app_token(&Scopes::from([
            Scope::Guilds,
            Scope::Identify,
            Scope::Guilds,
        ]))
        .await
        .unwrap();
    assert_ne!(a.access_token().secret(), b.access_token().secret());
    assert_eq!(b.access_token().secret(), b2.access_token().secret());
    assert!(b.scopes().contains(&Scope::Guilds));
    assert_eq!(mock.stats().grants_of("client_credentials"), 2);
    // Debug shows no token.
    let shown = format!("{b:?}");
    assert!(!shown.contains(b.access_token().secret()), "{shown}");
    mock.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_is_dropped_from_the_cache() {
    let mock = common::mock().await;
    let discord = common::client_for(&mock);
    let app = discord.app_token(&identify()).await.unwrap();
    mock.revoke_user_grants(mock.users()[0].id);
    let err = app
        .request(Method::GET, "/users/@me")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    let fresh = discord.app_token(&identify()).await.unwrap();
    assert_ne!(fresh.access_token().secret(), app.access_token().secret());
    assert_eq!(mock.stats().grants_of("client_credentials"), 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn an_activity_code_is_exchanged_without_redirect_uri() {
    let mock = common::mock().await;
    let clock = ManualClock::new();
    let discord = client_with_clock(&mock, &clock);
    let user = mock.users()[1].id;
    let code = mock.activity_code(user, &["identify", "guilds"]);
    // The fake refuses the exchange of such a code when the form carries the redirect URI, so
    // the library's success below shows it sent none.
    let token = discord.exchange_activity_code(&code).await.unwrap();
    assert_eq!(mock.stats().grants_of("authorization_code"), 1);
    assert_eq!(
        token.scopes,
        Scopes::from([Scope::Identify, Scope::Guilds]),
        "{token:?}"
    );
    assert_eq!(token.expires_in, LIFETIME);
    assert_eq!(token.expires_at, clock.unix_now() + LIFETIME);
    assert!(token.refresh_token.is_some());
    let live = mock.user_access_tokens(user);
    assert!(
        live.iter()
            .any(|t| t.access_token == token.access_token.secret()),
        "the token is the user's"
    );
    let shown = format!("{token:?}");
    assert!(!shown.contains(token.access_token.secret()), "{shown}");

    // The same code twice, and an unknown code: Discord's `invalid_grant`, a 400.
    for bad in [code.as_str(), "no-such-code"] {
        let err = discord.exchange_activity_code(bad).await.unwrap_err();
        assert!(
            matches!(&err, Error::OAuth { error, .. } if error == "invalid_grant"),
            "{err:?}"
        );
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
    // Garbage never reaches Discord.
    let before = mock.stats().requests_to(TOKEN);
    for bad in ["", "two words", "tab\there"] {
        let err = discord.exchange_activity_code(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(mock.stats().requests_to(TOKEN), before);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_fake_holds_an_activity_code_to_no_redirect_uri() {
    let mock = common::mock().await;
    let code = mock.activity_code(mock.users()[0].id, &["identify"]);
    let answer = reqwest::Client::new()
        .post(mock.token_url())
        .basic_auth(mock.client_id(), Some(mock.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", common::REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // And a code issued for a redirect cannot be exchanged as an Activity's.
    let discord = common::client_for(&mock);
    let login = discord.session(&http::HeaderMap::new());
    let url = login
        .create_session(discord_oauth::LoginOptions::new())
        .unwrap();
    let query = common::authorize(&url, mock.users()[0].id).await;
    let code = discord_oauth::oauth::CallbackQuery::parse(&query)
        .code()
        .unwrap()
        .to_owned();
    let err = discord.exchange_activity_code(&code).await.unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { error, .. } if error == "invalid_request"),
        "{err:?}"
    );
    mock.shutdown().await;
}
