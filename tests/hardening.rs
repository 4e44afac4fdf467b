//! Red-team findings of "Correct against Discord's own spec, and hardened": the callback checks
//! the state before anything else, a malformed code costs no token request, lifetimes and
//! Discord's numbers never overflow, several session cookies are judged by the valid one,
//! `next` reaches `Location` percent-encoded, the same-origin check compares whole origins,
//! and the memory stores stay bounded per user.
mod common;

use common::*;
use discord_oauth::{DiscordOAuth, Error, LoginOptions, Scope};
use http::StatusCode;

/// Requests the fake Discord's token endpoint received.
fn token_calls(mock: &discord_oauth_mock::MockDiscord) -> u64 {
    mock.stats().requests_to("POST /api/v10/oauth2/token")
}

fn identify() -> LoginOptions {
    LoginOptions::new().scopes([Scope::Identify])
}

/// Starts a login in `browser`; returns the state Discord would send back.
fn start(client: &DiscordOAuth, browser: &mut Browser, options: LoginOptions) -> String {
    let s = browser.session(client);
    let url = s.create_session(options).unwrap();
    browser.absorb(&s);
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn callback(client: &DiscordOAuth, browser: &mut Browser, query: &str) -> Result<(), Error> {
    let s = browser.session(client);
    let r = s.callback(query).await.map(drop);
    browser.absorb(&s);
    r
}

#[tokio::test]
async fn the_state_is_checked_before_discords_error() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let state = start(&client, &mut browser, identify());
    for query in [
        "error=access_denied".to_owned(),
        "error=access_denied&state=".to_owned(),
        "error=access_denied&state=forged".to_owned(),
        "error=server_error&error_description=x&state=forged".to_owned(),
        "code=abc&error=access_denied&state=forged".to_owned(),
    ] {
        let e = callback(&client, &mut browser, &query).await.unwrap_err();
        assert!(matches!(e, Error::InvalidState(_)), "{query}: {e:?}");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    // The real state with Cancel: 403, and the state is used up.
    let query = format!("error=access_denied&state={state}");
    let e = callback(&client, &mut browser, &query).await.unwrap_err();
    assert!(matches!(e, Error::AccessDenied { .. }), "{e:?}");
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let e = callback(&client, &mut browser, &query).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e:?}");
    assert_eq!(token_calls(&mock), 0);
}

#[tokio::test]
async fn a_malformed_code_costs_no_token_request() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    for code in [
        "bo%20gus",
        "a%2Fb",
        "%C3%A9t%C3%A9",
        "x%0Ay",
        &"a".repeat(513),
    ] {
        let state = start(&client, &mut browser, identify());
        let e = callback(&client, &mut browser, &format!("code={code}&state={state}"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{code}: {e:?}");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(token_calls(&mock), 0);
    // A plausible but unknown code still reaches Discord (and fails there).
    let state = start(&client, &mut browser, identify());
    let e = callback(&client, &mut browser, &format!("code=bogus&state={state}"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::OAuth { .. }), "{e:?}");
    assert_eq!(token_calls(&mock), 1);
}
