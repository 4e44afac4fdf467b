//! The demo apps against the demo's HTTP contract (README.md, "Use a real Discord
//! application"): every route and status, on loopback, with the fake Discord. Each test starts
//! its own demo and fake Discord.
//!
//! The same tests run against both demos, which share their pages and handlers and differ only
//! in the wiring: `axum_demo::*` drives examples/demo.rs (axum), `actix_demo::*` drives
//! examples/demo_actix.rs (actix-web, feature `actix`). Both expose the same
//! `start(lookup, listener) -> Result<Running, StartError>`.
// Both demos include their shared half (examples/demo_shared), each its own copy.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/demo.rs"]
mod demo;

#[cfg(feature = "actix")]
#[path = "../examples/demo_actix.rs"]
mod demo_actix;

/// The contract's tests for the demo module `$demo` (both demos have the same API).
macro_rules! contract_tests {
    ($demo:ident) => {
        #[allow(unused_imports)]
        use super::$demo as demo;

        use std::collections::HashMap;
        use std::time::Duration;

        use discord_oauth_mock::{Fault, MockDiscord, seed};
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

        const KEY: &str = "demo-contract-test-secret-key-0123456789abcdef";

        /// The demo on a free loopback port, offline (it starts its own fake Discord).
        async fn offline() -> demo::Running {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            demo::start(|k| (k == "SECRET_KEY").then(|| KEY.to_owned()), listener)
                .await
                .expect("the demo starts offline")
        }

        /// The demo with explicit credentials (the "real Discord" path) pointed at `fake`, without a
        /// bot token.
        async fn with_credentials(fake: &MockDiscord) -> demo::Running {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let redirect = format!("http://{}/callback", listener.local_addr().unwrap());
            fake.add_redirect_uri(&redirect);
            let env: HashMap<&str, String> = HashMap::from([
                ("DISCORD_CLIENT_ID", fake.client_id().to_string()),
                ("DISCORD_CLIENT_SECRET", fake.client_secret()),
                ("DISCORD_REDIRECT_URI", redirect),
                ("DISCORD_BASE_URL", fake.base_url()),
                ("DISCORD_CDN_URL", fake.cdn_url()),
                ("SECRET_KEY", KEY.to_owned()),
            ]);
            demo::start(|k| env.get(k).cloned(), listener)
                .await
                .expect("the demo starts with credentials")
        }

        fn fake(running: &demo::Running) -> &MockDiscord {
            running.fake.as_ref().expect("offline demo has a fake")
        }

        /// A browser stand-in: a cookie jar, no automatic redirects, bounded waits.
        struct Browser {
            base: String,
            http: reqwest::Client,
            cookies: HashMap<String, String>,
        }

        impl Browser {
            fn new(running: &demo::Running) -> Self {
                Self {
                    base: running.url(),
                    http: reqwest::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .timeout(Duration::from_secs(20))
                        .build()
                        .unwrap(),
                    cookies: HashMap::new(),
                }
            }

            fn cookie_header(&self) -> Option<String> {
                (!self.cookies.is_empty()).then(|| {
                    self.cookies
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            }

            fn absorb(&mut self, resp: &reqwest::Response) {
                for c in resp.headers().get_all("set-cookie") {
                    let c = c.to_str().unwrap();
                    let (k, v) = c.split(';').next().unwrap().split_once('=').unwrap();
                    if v.is_empty() || c.contains("Max-Age=0") {
                        self.cookies.remove(k);
                    } else {
                        self.cookies.insert(k.to_owned(), v.to_owned());
                    }
                }
            }

            async fn send(
                &mut self,
                method: reqwest::Method,
                path: &str,
                headers: &[(&str, &str)],
            ) -> reqwest::Response {
                let mut h = HeaderMap::new();
                if let Some(c) = self.cookie_header() {
                    h.insert("cookie", HeaderValue::from_str(&c).unwrap());
                }
                for (k, v) in headers {
                    h.insert(
                        HeaderName::from_bytes(k.as_bytes()).unwrap(),
                        HeaderValue::from_str(v).unwrap(),
                    );
                }
                let resp = self
                    .http
                    .request(method, format!("{}{path}", self.base))
                    .headers(h)
                    .send()
                    .await
                    .unwrap();
                self.absorb(&resp);
                resp
            }

            async fn get(&mut self, path: &str) -> reqwest::Response {
                self.send(reqwest::Method::GET, path, &[]).await
            }

            async fn post(&mut self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
                self.send(reqwest::Method::POST, path, headers).await
            }

            /// `GET /login?next=...`, approve on the fake as `user`, return the callback's answer.
            async fn login_as(&mut self, user: u64, next: &str) -> reqwest::Response {
                let query = self.authorize(user, next).await;
                self.get(&format!("/callback?{query}")).await
            }

            /// `GET /login`, then approve on the fake; returns the callback query string.
            async fn authorize(&mut self, user: u64, next: &str) -> String {
                let resp = self.get(&format!("/login?next={next}")).await;
                assert_eq!(resp.status(), 302);
                let mut url = url::Url::parse(location(&resp)).unwrap();
                url.query_pairs_mut()
                    .append_pair("mock_user", &user.to_string());
                let approved = self.http.get(url).send().await.unwrap();
                assert_eq!(approved.status(), 302, "the fake approves");
                let back = url::Url::parse(location(&approved)).unwrap();
                assert_eq!(back.path(), "/callback");
                back.query().unwrap().to_owned()
            }
        }

        fn location(resp: &reqwest::Response) -> &str {
            resp.headers()["location"].to_str().unwrap()
        }

        async fn json(resp: reqwest::Response) -> serde_json::Value {
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(ct.starts_with("application/json"), "JSON answer, got {ct}");
            resp.json().await.unwrap()
        }

        async fn assert_401_json(resp: reqwest::Response) {
            assert_eq!(resp.status(), 401);
            let body = json(resp).await;
            assert!(body["error"].is_string(), "401 body has an error: {body}");
        }

        #[tokio::test]
        async fn health_is_ok_through_the_middleware_without_session_work() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let resp = b.get("/health").await;
            assert_eq!(resp.status(), 200);
            assert!(resp.headers().contains_key("content-security-policy"));
            assert!(resp.headers().get("set-cookie").is_none());
            // `no-referrer` would make browsers send `Origin: null` on the page's own logout form,
            // which the same-origin check refuses (found by tests/browser.rs).
            assert_eq!(resp.headers()["referrer-policy"], "same-origin");
            assert_eq!(resp.text().await.unwrap(), "ok");
        }

        #[tokio::test]
        async fn logged_out_routes() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);

            let page = b.get("/").await;
            assert_eq!(page.status(), 200);
            assert!(
                page.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            let html = page.text().await.unwrap();
            assert!(html.contains("Login with Discord"));
            assert!(html.contains("href=\"/login\""));
            assert!(!html.contains("action=\"/logout\""));

            assert_401_json(b.get("/me").await).await;
            assert_401_json(b.get("/guilds").await).await;
            assert_401_json(b.get("/connections").await).await;
            let join = format!("/guilds/{}/join", seed::GUILD_QUIET);
            assert_401_json(b.post(&join, &[]).await).await;

            let out = b.post("/logout", &[]).await;
            assert_eq!(out.status(), 302);
            assert_eq!(location(&out), "/");
        }

        #[tokio::test]
        async fn login_redirects_to_authorize_with_the_contract_scopes() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let resp = b.get("/login").await;
            assert_eq!(resp.status(), 302);
            let url = url::Url::parse(location(&resp)).unwrap();
            assert_eq!(
                url.as_str().split('?').next().unwrap(),
                format!("{}/oauth2/authorize", fake(&demo).base_url())
            );
            let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
            assert_eq!(q["response_type"], "code");
            assert_eq!(q["client_id"], fake(&demo).client_id().to_string());
            assert_eq!(q["redirect_uri"], format!("{}/callback", demo.url()));
            assert_eq!(q["scope"], "identify email guilds connections guilds.join");
            assert!(q["state"].len() >= 16);
            assert_eq!(q["code_challenge_method"], "S256");
            assert!(q.contains_key("prompt"));
            assert!(b.cookies.len() == 1, "the pending login is in a cookie");
        }

        #[tokio::test]
        async fn full_login_me_guilds_connections_join_logout() {
            let demo = offline().await;
            let fake = fake(&demo);
            let mut b = Browser::new(&demo);

            let cb = b.login_as(seed::ALICE, "/me").await;
            assert_eq!(cb.status(), 302);
            assert_eq!(location(&cb), "/me");

            let me = b.get("/me").await;
            assert_eq!(me.status(), 200);
            let me = json(me).await;
            let alice = &fake.users()[0];
            assert_eq!(me["id"], seed::ALICE.to_string(), "id is a string");
            assert_eq!(me["username"], alice.username.as_str());
            assert_eq!(me["discriminator"], alice.discriminator.as_str());
            assert_eq!(me["global_name"].as_str(), alice.global_name.as_deref());
            assert_eq!(me["email"].as_str(), alice.email.as_deref());
            let avatar = me["avatar_url"].as_str().unwrap();
            assert!(avatar.starts_with(&fake.cdn_url()), "{avatar}");

            let guilds = json(b.get("/guilds").await).await;
            let guilds = guilds.as_array().unwrap();
            let expected: Vec<u64> = fake
                .guilds()
                .iter()
                .filter(|g| g.has_member(seed::ALICE))
                .map(|g| g.id)
                .collect();
            assert_eq!(guilds.len(), expected.len());
            for g in guilds {
                assert!(g["id"].is_string() && g["name"].is_string());
                assert!(g["owner"].is_boolean());
                assert!(g["permissions"].is_string() || g["permissions"].is_u64());
                assert!(g["icon_url"].is_null() || g["icon_url"].is_string());
                assert!(expected.contains(&g["id"].as_str().unwrap().parse().unwrap()));
            }
            let workshop = guilds
                .iter()
                .find(|g| g["id"].as_str() == Some(seed::GUILD_WORKSHOP.to_string().as_str()))
                .unwrap();
            assert_eq!(workshop["owner"], true);

            let conns = json(b.get("/connections").await).await;
            for c in conns.as_array().unwrap() {
                assert!(c["id"].is_string() && c["name"].is_string() && c["type"].is_string());
                assert!(c["verified"].is_boolean());
                assert!(c["visibility"].is_u64());
            }

            // Joining: cross-site refused, a non-browser POST (no Origin) served: 201, then 200 {}.
            let join = format!("/guilds/{}/join", seed::GUILD_QUIET);
            let refused = b.post(&join, &[("origin", "http://evil.example")]).await;
            assert_eq!(refused.status(), 403);
            let refused = b.post(&join, &[("sec-fetch-site", "cross-site")]).await;
            assert_eq!(refused.status(), 403);
            assert!(
                !fake
                    .guilds()
                    .iter()
                    .any(|g| g.id == seed::GUILD_QUIET && g.has_member(seed::ALICE)),
                "a refused POST did nothing"
            );
            let joined = b.post(&join, &[]).await;
            assert_eq!(joined.status(), 201);
            let member = json(joined).await;
            assert_eq!(member["user"]["id"], seed::ALICE.to_string());
            let again = b.post(&join, &[]).await;
            assert_eq!(again.status(), 200);
            assert_eq!(json(again).await, serde_json::json!({}));
            let bad = b.post("/guilds/not-a-snowflake/join", &[]).await;
            assert_eq!(bad.status(), 400);

            // The page shows the user and the guilds.
            let html = b.get("/").await.text().await.unwrap();
            assert!(html.contains(alice.global_name.as_deref().unwrap()));
            assert!(
                html.contains("Alice&#39;s Workshop") || html.contains("Alice&#x27;s Workshop")
            );
            assert!(html.contains("action=\"/logout\""));

            // Logout: a cross-site POST is refused and the session survives.
            let refused = b
                .post("/logout", &[("origin", "https://evil.example")])
                .await;
            assert_eq!(refused.status(), 403);
            assert_eq!(b.get("/me").await.status(), 200);
            // A same-origin POST logs out: 302 to /, token revoked at the fake, /me 401.
            let origin = demo.url();
            let out = b
                .post(
                    "/logout",
                    &[("origin", &origin), ("sec-fetch-site", "same-origin")],
                )
                .await;
            assert_eq!(out.status(), 302);
            assert_eq!(location(&out), "/");
            assert!(fake.stats().revocations >= 1, "Discord was asked to revoke");
            assert_401_json(b.get("/me").await).await;
            assert!(
                b.get("/")
                    .await
                    .text()
                    .await
                    .unwrap()
                    .contains("Login with Discord")
            );
        }

        #[tokio::test]
        async fn next_is_local_only() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let cb = b.login_as(seed::ALICE, "https://evil.example/").await;
            assert_eq!(cb.status(), 302);
            assert_eq!(location(&cb), "/");
            let cb = b.login_as(seed::ALICE, "//evil.example/x").await;
            assert_eq!(location(&cb), "/");
        }

        #[tokio::test]
        async fn callback_statuses() {
            let demo = offline().await;
            let fake = fake(&demo);
            let mut b = Browser::new(&demo);

            // Missing or mismatched state: 400, and no token request reaches Discord.
            assert_eq!(b.get("/callback?code=abc").await.status(), 400);
            assert_eq!(b.get("/callback?code=abc&state=forged").await.status(), 400);
            let query = b.authorize(seed::ALICE, "/").await;
            let forged = query
                .split('&')
                .map(|p| {
                    if p.starts_with("state=") {
                        "state=forged".to_owned()
                    } else {
                        p.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("&");
            assert_eq!(b.get(&format!("/callback?{forged}")).await.status(), 400);
            assert_eq!(fake.stats().grants_of("authorization_code"), 0);

            // The user pressed Cancel: 403.
            let resp = b.get("/login").await;
            let url = url::Url::parse(location(&resp)).unwrap();
            let state = url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .unwrap()
                .1
                .into_owned();
            let denied = b
                .get(&format!("/callback?error=access_denied&state={state}"))
                .await;
            assert_eq!(denied.status(), 403);
            assert!(json(denied).await["error"].is_string());

            // The token endpoint fails: 502 JSON.
            fake.inject_fault("POST /api/v10/oauth2/token", Fault::Status(500), 2);
            let query = b.authorize(seed::ALICE, "/").await;
            let failed = b.get(&format!("/callback?{query}")).await;
            assert_eq!(failed.status(), 502);
            assert!(json(failed).await["error"].is_string());
            fake.clear_faults();

            // A used state cannot be replayed: 400.
            let query = b.authorize(seed::ALICE, "/").await;
            assert_eq!(b.get(&format!("/callback?{query}")).await.status(), 302);
            assert_eq!(b.get(&format!("/callback?{query}")).await.status(), 400);
            // ... and the session it made is still there.
            assert_eq!(b.get("/me").await.status(), 200);
        }

        #[tokio::test]
        async fn join_without_bot_token_is_503() {
            let fake = MockDiscord::builder().start().await;
            let demo = with_credentials(&fake).await;
            assert!(demo.fake.is_none(), "credentials given: no built-in fake");
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            assert_eq!(b.get("/me").await.status(), 200);
            let resp = b
                .post(&format!("/guilds/{}/join", seed::GUILD_QUIET), &[])
                .await;
            assert_eq!(resp.status(), 503);
            assert!(json(resp).await["error"].is_string());
        }

        #[tokio::test]
        async fn upstream_failures_are_502_or_503_and_keep_the_session() {
            let demo = offline().await;
            let fake = fake(&demo);
            let route = "GET /api/v10/users/@me/connections";
            let too_long = Fault::RateLimited {
                retry_after: 60.0,
                global: false,
                scope: "user".into(),
            };
            // One user per fault: connections are cached after a success.
            for (user, fault, status) in [
                (seed::NELLY, Fault::Status(500), 502),
                (seed::QUIET, Fault::MalformedBody, 502),
                (seed::RTL, Fault::Status(503), 502),
                (seed::QUOTES, too_long, 503),
            ] {
                let mut b = Browser::new(&demo);
                assert_eq!(b.login_as(user, "/").await.status(), 302);
                fake.inject_fault(route, fault.clone(), 4);
                let resp = b.get("/connections").await;
                assert_eq!(resp.status(), status, "{fault:?}");
                if status == 503 {
                    // A 429 too long to wait out: 503 with Retry-After.
                    let retry: u64 = resp.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(retry >= 1);
                }
                assert!(json(resp).await["error"].is_string());
                fake.clear_faults();
                assert_eq!(
                    b.get("/me").await.status(),
                    200,
                    "session kept after {fault:?}"
                );
                if status == 502 {
                    assert_eq!(b.get("/connections").await.status(), 200, "{fault:?}");
                }
                // The page reports the outage without logging the user out.
                if status == 502 {
                    fake.inject_fault("GET /api/v10/users/@me/guilds", fault.clone(), 4);
                    let page = b.get("/").await;
                    assert_eq!(page.status(), 502);
                    assert!(page.text().await.unwrap().contains("id=\"error\""));
                    fake.clear_faults();
                    assert_eq!(b.get("/me").await.status(), 200);
                }
            }
        }

        #[tokio::test]
        async fn logout_answers_302_even_when_discord_revoke_fails() {
            let demo = offline().await;
            let fake = fake(&demo);
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            fake.inject_fault("POST /api/v10/oauth2/token/revoke", Fault::Status(500), 10);
            let out = b.post("/logout", &[]).await;
            assert_eq!(out.status(), 302);
            assert_eq!(location(&out), "/");
            assert_401_json(b.get("/me").await).await;
        }

        #[tokio::test]
        async fn hostile_names_are_text() {
            let demo = offline().await;
            for user in [seed::XSS, seed::QUOTES, seed::RTL, seed::ALICE] {
                let mut b = Browser::new(&demo);
                assert_eq!(b.login_as(user, "/").await.status(), 302);
                let resp = b.get("/").await;
                assert_eq!(resp.status(), 200);
                let csp = resp.headers()["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(csp.contains("default-src 'none'"));
                assert!(!csp.contains("unsafe-inline"));
                let html = resp.text().await.unwrap();
                assert!(html.contains("action=\"/logout\""), "logged in as {user}");
                assert!(!html.contains("<script"), "no script element for {user}");
                assert!(
                    !html.contains("<img src=x"),
                    "guild name escaped for {user}"
                );
                assert!(!html.contains("\" onerror"), "no live attribute for {user}");
                assert!(!html.contains("' onerror"), "no live attribute for {user}");
                // The names are there, as text.
                let text = unescape(&html);
                let name = fake_user(&demo, user).global_name.unwrap();
                assert!(text.contains(&name), "{name} shown as text");
                if user == seed::XSS || user == seed::ALICE {
                    // Both are members of the guild named `<img src=x onerror=alert(1)>`.
                    assert!(text.contains("<img src=x onerror=alert(1)>"));
                }
                if user == seed::RTL {
                    // Isolated so that U+202E cannot flip the text around it.
                    assert!(html.contains("<bdi>\u{202E}fdp.exe"));
                }
            }
        }

        fn fake_user(demo: &demo::Running, id: u64) -> discord_oauth_mock::SeedUser {
            fake(demo).users().into_iter().find(|u| u.id == id).unwrap()
        }

        /// Decodes the HTML escapes an auto-escaping engine emits.
        fn unescape(html: &str) -> String {
            html.replace("&#60;", "<")
                .replace("&lt;", "<")
                .replace("&#62;", ">")
                .replace("&gt;", ">")
                .replace("&#34;", "\"")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        }

        /// Every URL the logged-in page references points at the demo or at the fake Discord.
        #[tokio::test]
        async fn the_page_references_only_the_demo_and_the_fake() {
            let demo = offline().await;
            let fake_base = fake(&demo).base_url();
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            let html = b.get("/").await.text().await.unwrap();
            let mut urls = Vec::new();
            for attr in ["src=\"", "href=\"", "action=\""] {
                for (i, _) in html.match_indices(attr) {
                    let rest = &html[i + attr.len()..];
                    urls.push(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
            assert!(
                urls.iter().any(|u| u.starts_with(&fake_base)),
                "images from the fake: {urls:?}"
            );
            assert!(urls.len() >= 4, "{urls:?}");
            for u in &urls {
                let local = u.starts_with('/') && !u.starts_with("//");
                assert!(
                    local || u.starts_with(&format!("{fake_base}/")) || u.starts_with(&demo.url()),
                    "{u} leaves the demo and the fake"
                );
            }
            assert!(!html.contains("discord.com") && !html.contains("discordapp"));
        }

        #[test]
        fn the_request_log_redacts_code_and_state() {
            let line = demo::redact_query("code=SECRETCODE&state=SECRETSTATE&next=%2Fme&%63ode=x");
            assert!(!line.contains("SECRET"), "{line}");
            assert!(!line.contains("=x"), "{line}");
            assert!(line.contains("next=%2Fme"));
        }

        // ----- installs and linked roles ----------------------------------------------------------------

        /// The query pairs of a redirect's `Location`, checked to point at the fake's authorize page.
        fn authorize_params(
            demo: &demo::Running,
            resp: &reqwest::Response,
        ) -> HashMap<String, String> {
            assert_eq!(resp.status(), 302);
            let url = url::Url::parse(location(resp)).unwrap();
            assert_eq!(
                url.as_str().split('?').next().unwrap(),
                format!("{}/oauth2/authorize", fake(demo).base_url())
            );
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        }

        /// Approves `authorize` (an authorize URL) on the fake as `user`, with `guild_id` replaced when
        /// given (a user editing the address bar); returns the callback path and query.
        async fn approve(b: &Browser, authorize: &str, user: u64, guild_id: Option<u64>) -> String {
            let mut url = url::Url::parse(authorize).unwrap();
            let mut pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if let Some(g) = guild_id {
                for (k, v) in &mut pairs {
                    if k == "guild_id" {
                        *v = g.to_string();
                    }
                }
            }
            pairs.push(("mock_user".into(), user.to_string()));
            url.query_pairs_mut().clear().extend_pairs(pairs);
            let approved = b.http.get(url).send().await.unwrap();
            assert_eq!(approved.status(), 302, "the fake approves");
            let back = url::Url::parse(location(&approved)).unwrap();
            assert_eq!(back.path(), "/callback");
            format!("/callback?{}", back.query().unwrap())
        }

        #[tokio::test]
        async fn install_redirects_to_authorize_with_bot_commands_permissions_and_guild() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let resp = b.get("/install").await;
            let p = authorize_params(&demo, &resp);
            let scopes: Vec<&str> = p["scope"].split(' ').collect();
            assert!(scopes.contains(&"bot") && scopes.contains(&"applications.commands"));
            assert!(p["permissions"].parse::<u64>().unwrap() > 0, "an integer");
            assert_eq!(p["integration_type"], "0");
            assert!(!p.contains_key("guild_id") && !p.contains_key("disable_guild_select"));

            let resp = b
                .get(&format!("/install?guild_id={}", seed::GUILD_WORKSHOP))
                .await;
            let p = authorize_params(&demo, &resp);
            assert_eq!(p["guild_id"], seed::GUILD_WORKSHOP.to_string());
            assert_eq!(p["disable_guild_select"], "true");
            assert_eq!(p["integration_type"], "0");

            assert_eq!(b.get("/install?guild_id=nope").await.status(), 400);
        }

        #[tokio::test]
        async fn install_callback_names_the_guild_or_answers_400_when_contradicted() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let resp = b
                .get(&format!("/install?guild_id={}", seed::GUILD_WORKSHOP))
                .await;
            let back = approve(&b, location(&resp), seed::ALICE, None).await;
            let page = b.get(&back).await;
            assert_eq!(page.status(), 200);
            assert!(
                page.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            let html = page.text().await.unwrap();
            assert!(unescape(&html).contains("Alice's Workshop"), "{html}");

            // A hostile guild name is text.
            let mut x = Browser::new(&demo);
            let resp = x
                .get(&format!("/install?guild_id={}", seed::GUILD_XSS))
                .await;
            let back = approve(&x, location(&resp), seed::XSS, None).await;
            let html = x.get(&back).await.text().await.unwrap();
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(unescape(&html).contains("<img src=x onerror=alert(1)>"));

            // Pinned to the workshop, but the address was edited to another guild Alice owns.
            let mut c = Browser::new(&demo);
            let resp = c
                .get(&format!("/install?guild_id={}", seed::GUILD_WORKSHOP))
                .await;
            let back = approve(&c, location(&resp), seed::ALICE, Some(seed::GUILD_LOBBY)).await;
            assert_eq!(c.get(&back).await.status(), 400);
            assert_401_json(c.get("/me").await).await;
        }

        #[tokio::test]
        async fn linked_role_sets_the_role_connection_and_redirects_home() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let resp = b.get("/linked-role").await;
            let p = authorize_params(&demo, &resp);
            let mut scopes: Vec<&str> = p["scope"].split(' ').collect();
            scopes.sort_unstable();
            assert_eq!(scopes, ["identify", "role_connections.write"]);
            assert!(!p.contains_key("code_challenge"));
            assert!(fake(&demo).role_connection(seed::ALICE).is_none());

            let back = approve(&b, location(&resp), seed::ALICE, None).await;
            let resp = b.get(&back).await;
            assert_eq!(resp.status(), 302);
            assert_eq!(location(&resp), "/");
            let connection = fake(&demo)
                .role_connection(seed::ALICE)
                .expect("the role connection was PUT");
            assert_eq!(connection["platform_name"], "discord-oauth demo");
            assert_eq!(connection["metadata"]["demo_member"], "1");
            let puts: u64 = fake(&demo)
                .stats()
                .requests
                .iter()
                .filter(|(k, _)| k.starts_with("PUT ") && k.ends_with("/role-connection"))
                .map(|(_, n)| *n)
                .sum();
            assert_eq!(puts, 1, "one PUT of the user's role connection");
            // Home works with this session (no `guilds` scope: no list).
            let home = b.get("/").await;
            assert_eq!(home.status(), 200);
            assert!(home.text().await.unwrap().contains("action=\"/logout\""));
        }

        /// "Every response to a request that carries a session cookie has `Cache-Control: no-store`":
        /// pages and JSON alike, also when the response sets no cookie.
        #[tokio::test]
        async fn every_response_to_a_session_cookie_is_no_store() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            for path in ["/", "/me", "/guilds", "/connections", "/health"] {
                let resp = b.get(path).await;
                assert_eq!(resp.status(), 200, "{path}");
                assert!(
                    resp.headers().get("set-cookie").is_none(),
                    "{path} sets no cookie"
                );
                assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
            }
            // A garbage session cookie is a session cookie too.
            let mut garbage = Browser::new(&demo);
            garbage
                .cookies
                .insert("discord_session".to_owned(), "garbage".to_owned());
            let resp = garbage.get("/me").await;
            assert_eq!(resp.status(), 401);
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }

        // ----- GET /guilds/{guild_id}/manage ---------------------------------------------------------

        fn manage_path(guild: u64) -> String {
            format!("/guilds/{guild}/manage")
        }

        #[tokio::test]
        async fn manage_is_401_json_when_logged_out() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_401_json(b.get(&manage_path(seed::GUILD_WORKSHOP)).await).await;
            assert_401_json(b.get(&manage_path(seed::GUILD_QUIET)).await).await;
            assert_401_json(b.get("/guilds/not-a-snowflake/manage").await).await;
        }

        #[tokio::test]
        async fn manage_is_200_with_id_name_permissions_for_owner_admin_and_manage_guild() {
            let demo = offline().await;
            let fake = fake(&demo);
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            // Owner (every bit listed), owner (listed bits without MANAGE_GUILD, as in Discord's
            // example), ADMINISTRATOR, MANAGE_GUILD.
            for id in [
                seed::GUILD_WORKSHOP,
                seed::GUILD_LOBBY,
                seed::GUILD_RTL,
                seed::GUILD_LONG,
            ] {
                let resp = b.get(&manage_path(id)).await;
                assert_eq!(resp.status(), 200, "{id}");
                let body = json(resp).await;
                let seeded = fake.guilds().into_iter().find(|g| g.id == id).unwrap();
                assert_eq!(body["id"], id.to_string(), "id is a string");
                assert_eq!(body["name"], seeded.name.as_str());
                let listed = seeded
                    .members
                    .iter()
                    .find(|m| m.user_id == seed::ALICE)
                    .unwrap()
                    .permissions;
                assert_eq!(body["permissions"], listed.to_string(), "as in GET /guilds");
                assert_eq!(body["owner"], seeded.owner_id == seed::ALICE);
                let effective: u64 = body["effective_permissions"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(effective & 0x20 != 0, "MANAGE_GUILD effective in {id}");
            }
            // The same guilds as GET /guilds reports them.
            let guilds = json(b.get("/guilds").await).await;
            let long = guilds
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["id"].as_str() == Some(seed::GUILD_LONG.to_string().as_str()))
                .unwrap()
                .clone();
            let manage = json(b.get(&manage_path(seed::GUILD_LONG)).await).await;
            assert_eq!(manage["name"], long["name"]);
            assert_eq!(manage["permissions"], long["permissions"]);
        }

        #[tokio::test]
        async fn manage_is_403_json_when_not_a_member() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            let resp = b.get(&manage_path(seed::GUILD_QUIET)).await;
            assert_eq!(resp.status(), 403);
            let body = json(resp).await;
            assert_eq!(body["error"], "missing_permissions");
            // A guild that does not exist at all: the same 403, never a 404.
            let resp = b.get(&manage_path(1234)).await;
            assert_eq!(resp.status(), 403);
            assert_eq!(
                json(resp).await,
                body,
                "indistinguishable from not a member"
            );
        }

        #[tokio::test]
        async fn manage_is_403_json_without_the_permission() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            for id in [seed::GUILD_KREW, seed::GUILD_XSS] {
                let resp = b.get(&manage_path(id)).await;
                assert_eq!(resp.status(), 403, "{id}");
                assert_eq!(json(resp).await["error"], "missing_permissions");
            }
            // Another user: Nelly owns the Krew but is a plain member of the Workshop.
            let mut nelly = Browser::new(&demo);
            assert_eq!(nelly.login_as(seed::NELLY, "/").await.status(), 302);
            assert_eq!(
                nelly.get(&manage_path(seed::GUILD_KREW)).await.status(),
                200
            );
            let resp = nelly.get(&manage_path(seed::GUILD_WORKSHOP)).await;
            assert_eq!(resp.status(), 403);
            assert!(json(resp).await["error"].is_string());
        }

        #[tokio::test]
        async fn manage_is_400_json_for_a_malformed_guild_id() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            for path in [
                "/guilds/not-a-snowflake/manage",
                "/guilds/-5/manage",
                "/guilds/1.5/manage",
                "/guilds/99999999999999999999999/manage",
            ] {
                let resp = b.get(path).await;
                assert_eq!(resp.status(), 400, "{path}");
                assert!(json(resp).await["error"].is_string(), "{path}");
            }
        }

        #[tokio::test]
        async fn the_page_links_manage_only_where_the_user_may_manage() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            let html = b.get("/").await.text().await.unwrap();
            for id in [
                seed::GUILD_WORKSHOP,
                seed::GUILD_LOBBY,
                seed::GUILD_RTL,
                seed::GUILD_LONG,
            ] {
                assert!(
                    html.contains(&format!("href=\"{}\"", manage_path(id))),
                    "{id}"
                );
            }
            for id in [seed::GUILD_KREW, seed::GUILD_XSS, seed::GUILD_QUIET] {
                assert!(!html.contains(&manage_path(id)), "{id}");
            }
        }

        // ----- POST /discord/events (Discord's webhook events) -------------------------------------------

        /// The demo offline with `SESSION_STORE=store`.
        async fn offline_with_store(store: &str) -> demo::Running {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let store = store.to_owned();
            demo::start(
                move |k| match k {
                    "SECRET_KEY" => Some(KEY.to_owned()),
                    "SESSION_STORE" => Some(store.clone()),
                    _ => None,
                },
                listener,
            )
            .await
            .expect("the demo starts offline")
        }

        /// POSTs `body` to `/discord/events` with `headers`, as Discord's servers do (no cookie).
        async fn post_event(
            demo: &demo::Running,
            headers: &[(String, String)],
            body: Vec<u8>,
        ) -> u16 {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            for (k, v) in headers {
                h.insert(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            reqwest::Client::new()
                .post(format!("{}/discord/events", demo.url()))
                .headers(h)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }

        #[tokio::test]
        async fn discord_events_refuse_a_missing_or_bad_signature_with_401() {
            let demo = offline().await;
            let fake = fake(&demo);
            let ping = fake.ping_event();
            assert_eq!(
                post_event(&demo, &[], ping.clone()).await,
                401,
                "no signature"
            );
            let (headers, body) = fake.signed_event(&ping);
            for drop in ["X-Signature-Ed25519", "X-Signature-Timestamp"] {
                let kept: Vec<_> = headers.iter().filter(|(k, _)| k != drop).cloned().collect();
                assert_eq!(
                    post_event(&demo, &kept, body.clone()).await,
                    401,
                    "without {drop}"
                );
            }
            let mut tampered = body.clone();
            tampered.extend_from_slice(b" ");
            assert_eq!(
                post_event(&demo, &headers, tampered).await,
                401,
                "tampered body"
            );
            let garbage: Vec<_> = headers
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "X-Signature-Ed25519" => (k.clone(), "zz".repeat(64)),
                    _ => (k.clone(), v.clone()),
                })
                .collect();
            assert_eq!(
                post_event(&demo, &garbage, body.clone()).await,
                401,
                "garbage hex"
            );
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let (stale, body) = fake.signed_event_at(&ping, now - 3600);
            assert_eq!(
                post_event(&demo, &stale, body).await,
                401,
                "stale timestamp"
            );
            let other = MockDiscord::builder().event_key_seed([9; 32]).start().await;
            let (forged, body) = other.signed_event(&ping);
            assert_eq!(post_event(&demo, &forged, body).await, 401, "another key");
        }

        #[tokio::test]
        async fn discord_events_answer_a_signed_ping_with_204() {
            let demo = offline().await;
            let fake = fake(&demo);
            let url = format!("{}/discord/events", demo.url());
            assert_eq!(
                fake.send_event(&url, &fake.ping_event()).await.unwrap(),
                204
            );
        }

        #[tokio::test]
        async fn discord_events_deauthorization_ends_every_session_of_the_user() {
            for store in ["cookie", "memory"] {
                let demo = offline_with_store(store).await;
                let fake = fake(&demo);
                let mut alice = Browser::new(&demo);
                let mut alice_phone = Browser::new(&demo);
                let mut nelly = Browser::new(&demo);
                assert_eq!(alice.login_as(seed::ALICE, "/me").await.status(), 302);
                assert_eq!(alice_phone.login_as(seed::ALICE, "/me").await.status(), 302);
                assert_eq!(nelly.login_as(seed::NELLY, "/me").await.status(), 302);
                assert_eq!(alice.get("/me").await.status(), 200, "{store}");

                let url = format!("{}/discord/events", demo.url());
                assert_eq!(
                    fake.deauthorize_user(&url, seed::ALICE).await.unwrap(),
                    204,
                    "{store}"
                );

                assert_401_json(alice.get("/me").await).await;
                assert_401_json(alice_phone.get("/guilds").await).await;
                assert_401_json(alice.get("/me").await).await;
                assert_eq!(
                    nelly.get("/me").await.status(),
                    200,
                    "{store}: another user's session stays"
                );

                // A later login (Discord's consent again) works: created_at has a one-second
                // resolution, so the new login comes a second after the event.
                tokio::time::sleep(Duration::from_millis(1100)).await;
                let mut again = Browser::new(&demo);
                assert_eq!(again.login_as(seed::ALICE, "/me").await.status(), 302);
                assert_eq!(
                    again.get("/me").await.status(),
                    200,
                    "{store}: a new login works"
                );
                assert_401_json(alice.get("/me").await).await;
            }
        }

        #[tokio::test]
        async fn discord_events_are_503_without_a_public_key_and_use_the_configured_one() {
            let fake = MockDiscord::start().await;
            let demo = with_credentials(&fake).await;
            let (headers, body) = fake.signed_event(&fake.ping_event());
            assert_eq!(
                post_event(&demo, &headers, body).await,
                503,
                "no DISCORD_PUBLIC_KEY"
            );

            // With credentials and DISCORD_PUBLIC_KEY: that key, and no other, is trusted.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let redirect = format!("http://{}/callback", listener.local_addr().unwrap());
            fake.add_redirect_uri(&redirect);
            let env: HashMap<&str, String> = HashMap::from([
                ("DISCORD_CLIENT_ID", fake.client_id().to_string()),
                ("DISCORD_CLIENT_SECRET", fake.client_secret()),
                ("DISCORD_REDIRECT_URI", redirect),
                ("DISCORD_BASE_URL", fake.base_url()),
                ("DISCORD_CDN_URL", fake.cdn_url()),
                ("SECRET_KEY", KEY.to_owned()),
                ("DISCORD_PUBLIC_KEY", fake.public_key_hex()),
            ]);
            let demo = demo::start(|k| env.get(k).cloned(), listener)
                .await
                .unwrap();
            let url = format!("{}/discord/events", demo.url());
            assert_eq!(
                fake.send_event(&url, &fake.ping_event()).await.unwrap(),
                204
            );
            let other = MockDiscord::builder().event_key_seed([3; 32]).start().await;
            assert_eq!(
                other.send_event(&url, &other.ping_event()).await.unwrap(),
                401
            );

            // A malformed DISCORD_PUBLIC_KEY stops the demo with an error naming it.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let bad = |k: &str| match k {
                "DISCORD_PUBLIC_KEY" => Some("not-hex".to_owned()),
                "SECRET_KEY" => Some(KEY.to_owned()),
                _ => None,
            };
            let err = demo::start(bad, listener).await.err().expect("refused");
            assert!(err.to_string().contains("DISCORD_PUBLIC_KEY"), "{err}");
        }

        /// A cancelled login (`error=access_denied` with a valid state) is a friendly 403 HTML page
        /// for a browser, and stays 403 JSON for `Accept: application/json` and for no `Accept`.
        #[tokio::test]
        async fn a_cancelled_login_is_a_page_for_a_browser_and_json_otherwise() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let accepts = [
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Some("application/json"),
                None,
            ];
            for accept in accepts {
                let resp = b.get("/login").await;
                let url = url::Url::parse(location(&resp)).unwrap();
                let state = url
                    .query_pairs()
                    .find(|(k, _)| k == "state")
                    .unwrap()
                    .1
                    .into_owned();
                let headers: Vec<(&str, &str)> =
                    accept.map(|a| ("accept", a)).into_iter().collect();
                let path = format!("/callback?error=access_denied&state={state}");
                let denied = b.send(reqwest::Method::GET, &path, &headers).await;
                assert_eq!(denied.status(), 403, "{accept:?}");
                if accept.is_some_and(|a| a.starts_with("text/html")) {
                    let ct = denied.headers()["content-type"]
                        .to_str()
                        .unwrap()
                        .to_owned();
                    assert!(ct.starts_with("text/html"), "{ct}");
                    let page = denied.text().await.unwrap();
                    assert!(page.contains("You cancelled the login"), "{page}");
                    assert!(page.contains("href=\"/login\""), "{page}");
                } else {
                    assert_eq!(json(denied).await["error"], "access_denied");
                }
            }
        }

        // ----- the page's links and forms to /install, /linked-role and the joins ----------------------

        /// The page links "Add the bot" (`/install`) and linked roles (`/linked-role`), logged in or
        /// not, and logged in has one same-origin join form per listed guild (a POST the demo serves).
        #[tokio::test]
        async fn the_page_links_install_linked_roles_and_join_forms() {
            let demo = offline().await;
            let mut b = Browser::new(&demo);
            let html = b.get("/").await.text().await.unwrap();
            assert!(html.contains("href=\"/install\""), "logged out: {html}");
            assert!(html.contains("href=\"/linked-role\""), "logged out");
            assert!(!html.contains("/join\""), "no join form logged out");

            assert_eq!(b.login_as(seed::ALICE, "/").await.status(), 302);
            let html = b.get("/").await.text().await.unwrap();
            assert!(html.contains("href=\"/install\""));
            assert!(html.contains("href=\"/linked-role\""));
            let listed = fake(&demo)
                .guilds()
                .iter()
                .filter(|g| g.has_member(seed::ALICE))
                .count();
            assert_eq!(
                html.matches("<form class=\"join\" method=\"post\" action=\"/guilds/")
                    .count(),
                listed,
                "one join form per listed guild"
            );
            let action = format!("action=\"/guilds/{}/join\"", seed::GUILD_WORKSHOP);
            assert!(html.contains(&action), "{html}");
            // The links lead where the contract says.
            let install = b.get("/install").await;
            assert_eq!(install.status(), 302);
            let to = install.headers()["location"].to_str().unwrap().to_owned();
            assert!(
                to.contains("/oauth2/authorize") && to.contains("bot"),
                "{to}"
            );
            let linked = b.get("/linked-role").await;
            assert_eq!(linked.status(), 302);
            let to = linked.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.contains("role_connections.write"), "{to}");
            // The form's POST (same origin, as the page sends it) is served: Alice is already a
            // member there, so 200 `{}`.
            let path = format!("/guilds/{}/join", seed::GUILD_WORKSHOP);
            let origin = demo.url();
            let joined = b.post(&path, &[("origin", &origin)]).await;
            assert_eq!(joined.status(), 200);
        }
    };
}

mod axum_demo {
    contract_tests!(demo);
}

#[cfg(feature = "actix")]
mod actix_demo {
    contract_tests!(demo_actix);
}
