//! Logs never hold a secret: all `tracing` output at TRACE level (every target: the library,
//! reqwest, hyper, the fake Discord) of a full login, a refresh, failures and a logout is
//! captured and searched for every token, code, state and secret involved.
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use discord_oauth::Fetch;
use discord_oauth::{DiscordOAuth, LoginOptions, Scope};
use discord_oauth_mock::Fault;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn param(query: &str, key: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Every live token of `user` at the fake Discord, into `secrets`.
fn collect_tokens(mock: &discord_oauth_mock::MockDiscord, user: u64, secrets: &mut Vec<String>) {
    for t in mock.user_access_tokens(user) {
        secrets.push(t.access_token);
        secrets.extend(t.refresh_token);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_in_any_log_line() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(buffer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = mock().await;
    // Short-lived tokens: the first call after login refreshes (refresh margin 5 minutes).
    mock.set_token_lifetime(Duration::from_secs(60));
    let secret_key = "s3cret-key-".repeat(5);
    let client = DiscordOAuth::new(
        config_for(&mock)
            .secret_key(secret_key.clone())
            .build()
            .unwrap(),
    )
    .unwrap();
    let user = mock.users()[0].id;
    let mut secrets: Vec<String> = vec![mock.client_secret(), mock.bot_token(), secret_key];

    // A login whose code exchange fails (bad code, valid state): the error is logged by the app.
    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s.create_session(LoginOptions::new()).unwrap();
    browser.absorb(&s);
    let query = authorize(&url, user).await;
    let bad_code = "bogus-code-0123456789abcdef".to_owned();
    secrets.push(param(&query, "state"));
    secrets.push(param(&query, "code"));
    secrets.push(bad_code.clone());
    let forged = query.replace(&param(&query, "code"), &bad_code);
    let s = browser.session(&client);
    let err = s.callback(&forged).await.unwrap_err();
    tracing::error!(error = %err, debug = ?err, "app logs the failed callback");

    // A full login, with the state, code and cookies recorded.
    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s
        .create_session(LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]))
        .unwrap();
    browser.absorb(&s);
    let query = authorize(&url, user).await;
    secrets.push(param(&query, "state"));
    secrets.push(param(&query, "code"));
    let s = browser.session(&client);
    let cb = s.callback(&query).await.unwrap();
    browser.absorb(&s);
    tracing::info!(callback = ?cb, session = ?s, "app logs the callback");
    collect_tokens(&mock, user, &mut secrets);
    secrets.extend(browser.cookies.values().cloned());

    // A refresh (the token expires within the margin) and calls as the user.
    let refreshes = mock.stats().grants_of("refresh_token");
    let s = browser.session(&client);
    let me = s.fetch_user(Fetch::Cached).await.unwrap();
    let guilds = s.fetch_guilds(Fetch::Cached).await.unwrap();
    browser.absorb(&s);
    tracing::info!(user = ?me, guilds = guilds.len(), record = ?s.record().await, "app logs");
    assert!(
        mock.stats().grants_of("refresh_token") > refreshes,
        "a refresh happened"
    );
    collect_tokens(&mock, user, &mut secrets);
    secrets.extend(browser.cookies.values().cloned());

    // A bot call and a failing user call (the error is logged).
    let _ = client
        .bot_request(http::Method::GET, "/users/@me")
        .send()
        .await;
    mock.inject_fault("GET /api/v10/users/@me/guilds", Fault::Status(500), 5);
    let s = browser.session(&client);
    if let Err(e) = s.fetch_guilds(Fetch::Cached).await {
        tracing::error!(error = %e, debug = ?e, "app logs the failure");
    }
    browser.absorb(&s);

    // Logout, with Discord's revoke failing first (warn path), then a second login's logout.
    mock.inject_fault("POST /api/v10/oauth2/token/revoke", Fault::Status(500), 5);
    let s = browser.session(&client);
    let _ = s.revoke().await;
    mock.clear_faults();
    let mut browser = Browser::default();
    login(&client, &mut browser, user, LoginOptions::new()).await;
    collect_tokens(&mock, user, &mut secrets);
    secrets.extend(browser.cookies.values().cloned());
    let s = browser.session(&client);
    assert!(s.revoke().await);

    let logs = buffer.text();
    assert!(
        logs.lines().count() > 10,
        "the capture works and the flow logs: {logs}"
    );
    assert!(logs.contains("discord_oauth"), "library events captured");
    // Each Discord call runs in a span naming its method and route template, the user when
    // known, then its status and bucket; login, refresh and logout say so at info level.
    assert!(
        logs.contains("discord.call{route=\"GET /users/@me/guilds\" user="),
        "a span per Discord call: {logs}"
    );
    assert!(logs.contains("status=200"), "the span records the status");
    assert!(
        logs.contains("bucket="),
        "the span records Discord's bucket"
    );
    assert!(logs.contains("logged in with Discord"), "login at info");
    assert!(logs.contains("discord token refreshed"), "refresh at info");
    assert!(
        logs.contains("logged out; grant revoked at Discord"),
        "logout at info"
    );
    secrets.retain(|s| s.len() >= 8);
    assert!(secrets.len() >= 12, "{}", secrets.len());
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({} chars, starting {:?}) appears in the logs",
            secret.len(),
            &secret[..4]
        );
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        assert!(
            !logs.contains(&encoded),
            "a url-encoded secret appears in the logs"
        );
    }
}

/// Login, callback, refresh and logout each run in their own span, with the user's id once known
/// and never a secret; each Discord call has its `discord.call` span with route, status and wait.
#[tokio::test(flavor = "current_thread")]
async fn login_callback_refresh_and_logout_have_their_spans() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(buffer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = mock().await;
    // Short-lived tokens: the first call after login refreshes (refresh margin 5 minutes).
    mock.set_token_lifetime(Duration::from_secs(60));
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    let s = browser.session(&client);
    s.fetch_guilds(Fetch::Fresh).await.unwrap();
    browser.absorb(&s);
    let s = browser.session(&client);
    assert!(s.revoke().await);

    let text = buffer.text();
    let closed = |name: &str| -> Vec<&str> {
        text.lines()
            .filter(|l| l.contains(&format!("{name}{{")) && l.contains("close"))
            .collect()
    };
    let login_span = closed("discord.login");
    assert!(
        login_span
            .iter()
            .any(|l| l.contains("scopes=identify guilds")),
        "{login_span:?}"
    );
    for name in ["discord.callback", "discord.refresh", "discord.logout"] {
        let spans = closed(name);
        assert!(
            spans.iter().any(|l| l.contains(&format!("user={user}"))),
            "no closed {name} span with the user's id: {spans:?}"
        );
    }
    assert!(
        closed("discord.logout")
            .iter()
            .any(|l| l.contains("revoked=true")),
        "{text}"
    );
    // Each Discord call: its span nests in the flow's span and names route, status and wait.
    let calls = closed("discord.call");
    assert!(
        calls.iter().any(|l| l.contains("discord.refresh")
            && l.contains("route=\"POST /oauth2/token\"")
            && l.contains("status=200")
            && l.contains("wait_ms=")),
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|l| l.contains("discord.callback") && l.contains("route=\"GET /users/@me\"")),
        "{calls:#?}"
    );
}

/// A login started on another host than the redirect URI's (`localhost` against `127.0.0.1`, the
/// classic local mistake) is reported once, with the fix; the right host is never reported.
#[tokio::test(flavor = "current_thread")]
async fn a_login_on_another_host_than_the_redirect_uri_is_reported_once() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(buffer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mock = mock().await;
    let client = client_for(&mock);
    let redirect = url::Url::parse(REDIRECT).unwrap();
    let right = format!(
        "{}:{}",
        redirect.host_str().unwrap(),
        redirect.port_or_known_default().unwrap()
    );
    let login_on = |host: &str| {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, host.parse().unwrap());
        client
            .session(&headers)
            .create_session(LoginOptions::new())
            .unwrap();
    };
    login_on(&right);
    assert!(
        !buffer.text().contains("a login was started on"),
        "{}",
        buffer.text()
    );
    login_on("localhost:9");
    login_on("localhost:9");
    let text = buffer.text();
    assert_eq!(text.matches("a login was started on").count(), 1, "{text}");
    assert!(
        text.contains("localhost:9") && text.contains(&right),
        "{text}"
    );
}
