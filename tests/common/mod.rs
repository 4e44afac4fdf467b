//! Shared test helpers: a fake Discord plus a client pointed at it, and a minimal "browser"
//! that carries cookies and follows the login redirects by hand.
#![allow(dead_code)]

use std::collections::HashMap;

use discord_oauth::{Config, DiscordOAuth, DiscordSession};
use discord_oauth_mock::MockDiscord;
use http::{HeaderMap, HeaderValue};

pub const REDIRECT: &str = "http://127.0.0.1:5000/callback";

pub async fn mock() -> MockDiscord {
    MockDiscord::builder().redirect_uri(REDIRECT).start().await
}

pub fn config_for(mock: &MockDiscord) -> discord_oauth::config::ConfigBuilder {
    Config::builder()
        .client_id(mock.client_id())
        .client_secret(mock.client_secret())
        .redirect_uri(REDIRECT)
        .bot_token(mock.bot_token())
        .base_url(mock.base_url())
        .cdn_url(mock.cdn_url())
        .secret_key("k".repeat(48))
}

pub fn client_for(mock: &MockDiscord) -> DiscordOAuth {
    DiscordOAuth::new(config_for(mock).build().unwrap()).unwrap()
}

/// A cookie jar standing in for one browser.
#[derive(Default, Clone, Debug)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if !self.cookies.is_empty() {
            let v = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            h.insert(http::header::COOKIE, HeaderValue::from_str(&v).unwrap());
        }
        h
    }

    pub fn session(&self, client: &DiscordOAuth) -> DiscordSession {
        client.session(&self.headers())
    }

    /// Applies the session's Set-Cookie values to the jar.
    pub fn absorb(&mut self, session: &DiscordSession) {
        for c in session.take_set_cookies() {
            self.absorb_header(c.to_str().unwrap());
        }
    }

    pub fn absorb_header(&mut self, set_cookie: &str) {
        let first = set_cookie.split(';').next().unwrap();
        let (k, v) = first.split_once('=').unwrap();
        let max_age_zero = set_cookie.contains("Max-Age=0");
        if max_age_zero || v.is_empty() {
            self.cookies.remove(k);
        } else {
            self.cookies.insert(k.to_owned(), v.to_owned());
        }
    }
}

/// Follows the fake Discord's authorize URL in auto-approve mode for `user`, returning the
/// callback query string.
pub async fn authorize(authorize_url: &url::Url, user: u64) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = authorize_url.clone();
    url.query_pairs_mut()
        .append_pair("mock_user", &user.to_string());
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(
        resp.status(),
        302,
        "authorize should redirect: {:?}",
        resp.text().await
    );
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let loc = url::Url::parse(&location).unwrap();
    loc.query().unwrap_or("").to_owned()
}

/// A full login of `user` in `browser` with `options`.
pub async fn login(
    client: &DiscordOAuth,
    browser: &mut Browser,
    user: u64,
    options: discord_oauth::LoginOptions,
) -> discord_oauth::Callback {
    let s = browser.session(client);
    let url = s.create_session(options).unwrap();
    browser.absorb(&s);
    let query = authorize(&url, user).await;
    let s = browser.session(client);
    let cb = s.callback(&query).await.unwrap();
    browser.absorb(&s);
    cb
}
