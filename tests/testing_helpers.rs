//! The README's "Test your own app offline" test, as a user writes it: the fake and the app each
//! on a free port (`127.0.0.1:0`), the app configured from the fake's variables, a user logged in
//! through the app's own routes in one call, then a fault on demand.
#[path = "../examples/minimal.rs"]
mod minimal;

use discord_oauth::{Config, DiscordOAuth};
use discord_oauth_mock::{Fault, LoginError, MockDiscord, TestBrowser, seed};

// README: begin (the app is examples/minimal.rs)
/// The app of `examples/minimal.rs` on a free port, pointed at `fake`; returns its URL.
async fn serve_app(fake: &MockDiscord) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let env = fake.app_env(&format!("{app_url}/callback"));
    let config = Config::from_lookup(|key| env.get(key).cloned()).unwrap();
    let app = minimal::app(DiscordOAuth::new(config).unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    app_url
}

#[tokio::test]
async fn alice_logs_in_and_sees_her_name() {
    let fake = MockDiscord::start().await; // a free port
    let app_url = serve_app(&fake).await; // another one

    // Discord answers garbage once: the login fails with a clear 502, never a 500.
    fake.inject_fault("POST /api/v10/oauth2/token", Fault::MalformedBody, 1);
    let err = fake.login_through(&app_url, seed::ALICE).await.unwrap_err();
    assert!(
        matches!(
            err,
            LoginError::Status {
                step: "callback",
                status: 502,
                ..
            }
        ),
        "{err}"
    );

    let mut alice = fake.login_through(&app_url, seed::ALICE).await.unwrap();
    let me: serde_json::Value = alice.get("/me").await.unwrap().json().await.unwrap();
    assert_eq!(me["name"], "Alice Dev");

    alice.post("/logout").await.unwrap();
    assert_eq!(alice.get("/me").await.unwrap().status(), 401);
}
// README: end

#[tokio::test]
async fn login_through_names_the_step_that_failed() {
    let fake = MockDiscord::start().await;
    // An app the fake does not know the redirect URI of: the authorize step refuses.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let mut env = fake.app_env(&format!("{app_url}/callback"));
    env.insert(
        "DISCORD_REDIRECT_URI".into(),
        format!("{app_url}/elsewhere"),
    );
    let config = Config::from_lookup(|key| env.get(key).cloned()).unwrap();
    let app = minimal::app(DiscordOAuth::new(config).unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    match fake.login_through(&app_url, seed::ALICE).await {
        Err(LoginError::Status { step, status, .. }) => {
            assert_eq!((step, status), ("authorize", 400));
        }
        other => panic!("expected the authorize step to fail, got {other:?}"),
    }

    // An app that is not configured for this fake: said plainly.
    let other = MockDiscord::start().await;
    let app_url = serve_app(&other).await;
    let err = fake.login_through(&app_url, seed::ALICE).await.unwrap_err();
    assert!(matches!(err, LoginError::NotToTheFake(_)), "{err}");
    assert!(err.to_string().contains("app_env"), "{err}");
}

#[tokio::test]
async fn the_browser_keeps_cookies_and_never_shows_them_in_debug() {
    let fake = MockDiscord::start().await;
    let app_url = serve_app(&fake).await;
    let mut b = TestBrowser::new(&app_url);
    assert_eq!(b.get("/me").await.unwrap().status(), 401);
    b.login(&fake, seed::NELLY, "/login?next=%2Fme")
        .await
        .unwrap();
    let header = b.cookie_header().expect("the session cookie is kept");
    let value = header.split_once('=').unwrap().1;
    assert!(
        !format!("{b:?}").contains(value),
        "Debug must not show cookie values"
    );
    let me: serde_json::Value = b.get("/me").await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], seed::NELLY.to_string());
    b.clear_cookies();
    assert_eq!(b.get("/me").await.unwrap().status(), 401);
}
