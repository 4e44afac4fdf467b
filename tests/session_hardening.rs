//! Regressions found in review of the restructuring: a client's `Debug` never shows a session
//! cookie, a handle shared by tasks stays logged out after its own logout, a token Discord
//! sends that a header cannot carry is a malformed answer (502, no session), and an
//! application's route spelled like the token endpoint is an ordinary API route.
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::*;
use discord_oauth::ratelimit::PassThrough;
use discord_oauth::store::{MemoryRevocationList, RevocationList, SessionId, StoreError};
use discord_oauth::{BoxFuture, Config, DiscordOAuth, Error, LoginOptions, Scope};
use http::{HeaderMap, HeaderValue};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    format!("http://{addr}")
}

fn identify() -> LoginOptions {
    LoginOptions::new().scopes([Scope::Identify])
}

#[tokio::test]
async fn a_client_debug_never_shows_a_session_cookie() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    login(&client, &mut browser, mock.users()[0].id, identify()).await;
    assert!(
        browser.session(&client).authorized().await,
        "opened and remembered"
    );
    let value = &browser.cookies["discord_session"];
    let shown = format!("{client:?}");
    assert!(!shown.contains(value.as_str()), "{shown}");
    assert!(!shown.contains(&value[value.len() - 16..]));
}

/// A revocation list whose second lookup is slow, as a remote one can be.
#[derive(Debug, Default)]
struct SlowList {
    inner: MemoryRevocationList,
    calls: AtomicUsize,
}

impl RevocationList for SlowList {
    fn revoke<'a>(
        &'a self,
        id: &'a SessionId,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.revoke(id, until)
    }

    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let slow = self.calls.fetch_add(1, Ordering::SeqCst) == 1;
        let answer = self.inner.is_revoked_now(id, now).unwrap_or(false);
        Box::pin(async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(answer)
        })
    }
}

#[tokio::test]
async fn a_shared_handle_stays_logged_out_after_its_own_logout() {
    let mock = mock().await;
    let client = DiscordOAuth::builder(config_for(&mock).build().unwrap())
        .revocation_list(Arc::new(SlowList::default()))
        .build()
        .unwrap();
    let mut browser = Browser::default();
    login(&client, &mut browser, mock.users()[0].id, identify()).await;
    assert!(browser.session(&client).authorized().await, "remembered");
    let s = browser.session(&client);
    let task = {
        let s = s.clone();
        tokio::spawn(async move { s.authorized().await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    s.logout_local().await;
    assert!(!s.authorized().await);
    let _ = task.await.unwrap();
    assert!(
        !s.authorized().await,
        "the slow load finished after the logout and must not bring the session back"
    );
}

#[tokio::test]
async fn a_token_a_header_cannot_carry_is_a_malformed_answer() {
    let router = Router::new().route(
        "/api/v10/oauth2/token",
        post(|| async {
            (
                [("content-type", "application/json")],
                r#"{"access_token":"bad\ntoken","token_type":"Bearer","expires_in":604800,"refresh_token":"rt","scope":"identify"}"#,
            )
        }),
    );
    let base = serve(router).await;
    let config = Config::builder()
        .client_id(1)
        .client_secret("s")
        .redirect_uri("http://127.0.0.1:5000/callback")
        .base_url(&base)
        .secret_key("k".repeat(48))
        .build()
        .unwrap();
    let discord = DiscordOAuth::builder(config)
        .limiter(Arc::new(PassThrough))
        .build()
        .unwrap();
    let s = discord.session(&HeaderMap::new());
    let url = s.create_session(identify()).unwrap();
    let pending = s.take_set_cookies().remove(0);
    let mut headers = HeaderMap::new();
    let pair = pending
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    headers.insert("cookie", HeaderValue::from_str(&pair).unwrap());
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let s = discord.session(&headers);
    let err = s
        .callback(&format!("code=c&state={state}"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.status(), http::StatusCode::BAD_GATEWAY);
    assert!(
        !s.take_set_cookies()
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("discord_session=")),
        "no session was saved"
    );
}

#[tokio::test]
async fn an_application_route_spelled_like_the_token_endpoint_is_an_api_route() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let router = Router::new().fallback(move |uri: http::Uri| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(uri.to_string());
            ([("content-type", "application/json")], "{}")
        }
    });
    let base = serve(router).await;
    let config = Config::builder()
        .client_id(1)
        .client_secret("s")
        .bot_token("t")
        .redirect_uri("http://127.0.0.1:5000/callback")
        .base_url(&base)
        .build()
        .unwrap();
    let discord = DiscordOAuth::builder(config)
        .limiter(Arc::new(PassThrough))
        .build()
        .unwrap();
    discord
        .bot_request(http::Method::POST, "/oauth2/token?probe=1")
        .send()
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap()[0], "/api/v10/oauth2/token?probe=1");
}
