//! The actix-web integration (`discord_oauth::actix`, feature `actix`): the session extractor,
//! the guards' refusals and their statuses, `Set-Cookie` with `Cache-Control: no-store`, JSON or
//! an HTML page by `Accept`, and the ready-made routes login → callback → logout against the
//! fake Discord. The same behaviours as tests/axum_layer.rs and tests/ready_routes.rs for axum.
#![cfg(feature = "actix")]
mod common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{App, HttpResponse, test, web};
use common::{Browser, client_for, mock};
use discord_oauth::actix::{
    Authorized, DiscordMiddleware, ErrorPages, LoginRoutes, ManageGuild, RequireAuthorization,
    RequireGuildPermission, SameOrigin, UnauthorizedBehavior,
};
use discord_oauth::{DiscordSession, Error, LoginOptions, Scope};
use discord_oauth_mock::seed;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn app(
    middleware: Option<DiscordMiddleware>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let app = App::new()
        .route(
            "/me",
            web::get().to(|auth: Authorized| async move { auth.user_id.unwrap_or(0).to_string() }),
        )
        .route(
            "/start",
            web::get().to(|s: DiscordSession| async move {
                s.create_session(LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]))
                    .map(|url| {
                        HttpResponse::Found()
                            .insert_header((header::LOCATION, url.as_str()))
                            .finish()
                    })
            }),
        )
        .route(
            "/bye",
            web::post().to(|_: SameOrigin, s: DiscordSession| async move {
                s.logout_local().await;
                "bye"
            }),
        )
        .route(
            "/guilds/{guild_id}/manage",
            web::get().to(|g: RequireGuildPermission<ManageGuild>| async move {
                g.guild.name().to_owned()
            }),
        )
        .route(
            "/limited",
            web::get().to(|| async {
                Err::<HttpResponse, Error>(Error::RateLimited {
                    retry_after: std::time::Duration::from_millis(2500),
                    global: false,
                    scope: None,
                    bucket: None,
                    message: "You are being rate limited.".into(),
                    json: None,
                    headers: Box::default(),
                })
            }),
        )
        .route("/health", web::get().to(|| async { "ok" }));
    app.wrap(middleware.unwrap_or_else(|| DiscordMiddleware::new(client_stub())))
}

/// A client for the routes that never reach Discord (the fake is not needed).
fn client_stub() -> discord_oauth::DiscordOAuth {
    let config = discord_oauth::Config::builder()
        .client_id(1u64)
        .client_secret("s")
        .redirect_uri(common::REDIRECT)
        .secret_key("k".repeat(48))
        .build()
        .unwrap();
    discord_oauth::DiscordOAuth::new(config).unwrap()
}

/// Sends `method path` with the browser's cookies and `extra` headers; absorbs its cookies.
async fn send<S, B>(
    app: &S,
    browser: &mut Browser,
    method: Method,
    path: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, actix_web::http::header::HeaderMap, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::default().method(method).uri(path);
    for (k, v) in browser.headers().iter() {
        req = req.insert_header((k.as_str(), v.to_str().unwrap()));
    }
    for (k, v) in extra {
        req = req.insert_header((*k, *v));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    for c in headers.get_all(header::SET_COOKIE) {
        browser.absorb_header(c.to_str().unwrap());
    }
    let body = test::read_body(resp).await;
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn location(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

fn content_type(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Logs `user` in through `login` (a path answering 302 to Discord) and `callback`.
async fn log_in<S, B>(app: &S, b: &mut Browser, login: &str, callback: &str, user: u64) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, headers, _) = send(app, b, Method::GET, login, &[]).await;
    assert_eq!(status, StatusCode::FOUND, "login redirects to Discord");
    let url = url::Url::parse(&location(&headers)).unwrap();
    let query = common::authorize(&url, user).await;
    let (status, headers, _) = send(app, b, Method::GET, &format!("{callback}?{query}"), &[]).await;
    assert_eq!(status, StatusCode::FOUND, "the callback lands");
    location(&headers)
}

#[tokio::test]
async fn the_session_extractor_and_authorized_answer_401_json_then_the_user() {
    let fake = mock().await;
    let client = client_for(&fake);
    let svc = test::init_service(app(Some(
        DiscordMiddleware::new(client.clone()).routes(LoginRoutes::new()),
    )))
    .await;
    let mut b = Browser::default();
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&headers), "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "unauthorized", "{json}");

    log_in(&svc, &mut b, "/start", "/callback", seed::ALICE).await;
    let (status, _, body) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, seed::ALICE.to_string());
}

#[tokio::test]
async fn without_the_middleware_the_extractors_answer_500_json() {
    let svc = test::init_service(
        App::new().route("/me", web::get().to(|_: DiscordSession| async { "never" })),
    )
    .await;
    let mut b = Browser::default();
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(content_type(&headers), "application/json");
    assert!(body.contains("\"configuration\""), "{body}");
}

#[tokio::test]
async fn set_cookie_comes_with_no_store_and_a_plain_answer_has_neither() {
    let svc = test::init_service(app(None)).await;
    let mut b = Browser::default();
    let (status, headers, _) = send(&svc, &mut b, Method::GET, "/health", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(headers.get(header::CACHE_CONTROL).is_none());

    // Starting a login sets the state cookie: never kept by a shared cache.
    let (status, headers, _) = send(&svc, &mut b, Method::GET, "/start", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(headers.get(header::SET_COOKIE).is_some());
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
}

#[tokio::test]
async fn errors_are_json_by_default_and_a_page_for_a_browser_with_error_pages() {
    // Default: always JSON, with the status and Retry-After.
    let svc = test::init_service(app(None)).await;
    let mut b = Browser::default();
    let accept = [("accept", BROWSER_ACCEPT)];
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/limited", &accept).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "3");
    assert_eq!(content_type(&headers), "application/json");
    assert!(body.contains("\"error\""), "{body}");

    // With ErrorPages::html: a page for a browser, JSON for an API client or no Accept.
    let mw = DiscordMiddleware::new(client_stub()).error_pages(ErrorPages::html());
    let svc = test::init_service(app(Some(mw))).await;
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/limited", &accept).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        headers.get(header::RETRY_AFTER).unwrap(),
        "3",
        "headers are kept"
    );
    assert_eq!(content_type(&headers), "text/html; charset=utf-8");
    assert!(body.contains("<h1>503 Service Unavailable</h1>"), "{body}");
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/me", &accept).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&headers), "text/html; charset=utf-8");
    assert!(body.contains("href=\"/login\""), "{body}");
    for api in [&[("accept", "application/json")][..], &[][..]] {
        let (status, headers, _) = send(&svc, &mut b, Method::GET, "/me", api).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(content_type(&headers), "application/json", "{api:?}");
    }

    // The app's own page.
    let mw = DiscordMiddleware::new(client_stub()).error_pages(ErrorPages::custom(|e| {
        HttpResponse::Ok()
            .content_type("text/html")
            .body(format!("<p>mine {}</p>", e.status().as_u16()))
    }));
    let svc = test::init_service(app(Some(mw))).await;
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/me", &accept).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the status stays the error's"
    );
    assert_eq!(content_type(&headers), "text/html");
    assert_eq!(body, "<p>mine 401</p>");
}

#[tokio::test]
async fn same_origin_refuses_a_cross_site_post_with_403() {
    let svc = test::init_service(app(None)).await;
    let mut b = Browser::default();
    let cross = [("origin", "https://evil.example")];
    let (status, headers, _) = send(&svc, &mut b, Method::POST, "/bye", &cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(content_type(&headers), "application/json");
    let site = [("sec-fetch-site", "cross-site")];
    let (status, _, _) = send(&svc, &mut b, Method::POST, "/bye", &site).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No Origin at all (a non-browser client) is served.
    let (status, _, body) = send(&svc, &mut b, Method::POST, "/bye", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "bye");
}

#[tokio::test]
async fn the_guild_guard_answers_401_400_403_and_lets_managers_through() {
    let fake = mock().await;
    let client = client_for(&fake);
    let svc = test::init_service(app(Some(
        DiscordMiddleware::new(client.clone()).routes(LoginRoutes::new()),
    )))
    .await;
    let mut b = Browser::default();
    let path = |g: u64| format!("/guilds/{g}/manage");
    let (status, _, _) = send(&svc, &mut b, Method::GET, &path(seed::GUILD_LONG), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    log_in(&svc, &mut b, "/start", "/callback", seed::ALICE).await;
    let (status, _, body) = send(&svc, &mut b, Method::GET, &path(seed::GUILD_LONG), &[]).await;
    assert_eq!(status, StatusCode::OK, "MANAGE_GUILD: {body}");
    let (status, _, _) = send(&svc, &mut b, Method::GET, &path(seed::GUILD_WORKSHOP), &[]).await;
    assert_eq!(status, StatusCode::OK, "owner");
    for denied in [seed::GUILD_KREW, seed::GUILD_QUIET] {
        let (status, headers, _) = send(&svc, &mut b, Method::GET, &path(denied), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{denied}");
        assert_eq!(content_type(&headers), "application/json");
    }
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/guilds/abc/manage", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_redirect_behaviour_sends_to_the_login_with_next() {
    let mw = DiscordMiddleware::new(client_stub())
        .unauthorized(UnauthorizedBehavior::RedirectToLogin("/login".into()));
    let svc = test::init_service(app(Some(mw))).await;
    let mut b = Browser::default();
    let (status, headers, _) = send(&svc, &mut b, Method::GET, "/me?tab=2", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/login?next=%2Fme%3Ftab%3D2");
}

#[tokio::test]
async fn the_ready_made_routes_log_in_with_next_and_log_out() {
    let fake = mock().await;
    let client = client_for(&fake);
    let routes = LoginRoutes::new().scopes([Scope::Identify]);
    let svc = test::init_service(app(Some(DiscordMiddleware::new(client).routes(routes)))).await;
    let mut b = Browser::default();

    // Login with next, callback at the redirect URI's path, back to next.
    let (status, headers, _) = send(&svc, &mut b, Method::GET, "/login?next=%2Fme", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let url = url::Url::parse(&location(&headers)).unwrap();
    assert!(url.path().ends_with("/oauth2/authorize"));
    let scope = url.query_pairs().find(|(k, _)| k == "scope").unwrap().1;
    assert_eq!(scope, "identify");
    let query = common::authorize(&url, seed::ALICE).await;
    let (status, headers, _) = send(
        &svc,
        &mut b,
        Method::GET,
        &format!("/callback?{query}"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/me");
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let (status, _, body) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, seed::ALICE.to_string());

    // A replayed callback: 400 (a page for a browser, the routes' default).
    let accept = [("accept", BROWSER_ACCEPT)];
    let (status, headers, _) = send(
        &svc,
        &mut b.clone(),
        Method::GET,
        &format!("/callback?{query}"),
        &accept,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type(&headers), "text/html; charset=utf-8");

    // A cross-site logout is refused and the session lives on.
    let cross = [("origin", "https://evil.example")];
    let (status, _, _) = send(&svc, &mut b, Method::POST, "/logout", &cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(fake.stats().revocations, 0);
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::OK);

    // A same-origin logout revokes at Discord and ends the session, the old cookie too.
    let old = b.clone();
    let (status, headers, _) = send(&svc, &mut b, Method::POST, "/logout", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/");
    assert_eq!(fake.stats().revocations, 1);
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/me", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&svc, &mut old.clone(), Method::GET, "/me", &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old cookie is dead too"
    );

    // Another method on a ready-made path goes on to the app (here: no such route).
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/logout", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Refuses the client named `blocked` (429, one minute); records the keys it was asked about.
#[derive(Debug, Default)]
struct BlockOne(std::sync::Mutex<Vec<Option<String>>>);

impl discord_oauth::session::LoginThrottle for BlockOne {
    fn check(
        &self,
        _step: discord_oauth::session::LoginStep,
        client: Option<&str>,
    ) -> Result<(), std::time::Duration> {
        self.0.lock().unwrap().push(client.map(str::to_owned));
        match client {
            Some("blocked") => Err(std::time::Duration::from_secs(60)),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn the_client_key_names_the_request_for_the_login_throttle() {
    let throttle = std::sync::Arc::new(BlockOne::default());
    let config = discord_oauth::Config::builder()
        .client_id(1u64)
        .client_secret("s")
        .redirect_uri(common::REDIRECT)
        .secret_key("k".repeat(48))
        .build()
        .unwrap();
    let client = discord_oauth::DiscordOAuth::builder(config)
        .login_throttle(throttle.clone())
        .build()
        .unwrap();
    let mw = DiscordMiddleware::new(client)
        .routes(LoginRoutes::new())
        .client_key(|req| {
            req.headers()
                .get("x-client")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    let svc = test::init_service(app(Some(mw))).await;
    let mut b = Browser::default();
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/login", &[("x-client", "ok")]).await;
    assert_eq!(status, StatusCode::FOUND);
    let (status, headers, _) = send(
        &svc,
        &mut b,
        Method::GET,
        "/login",
        &[("x-client", "blocked")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "60");
    assert_eq!(
        *throttle.0.lock().unwrap(),
        vec![Some("ok".to_owned()), Some("blocked".to_owned())]
    );
}

#[tokio::test]
async fn require_authorization_guards_a_whole_scope() {
    let fake = mock().await;
    let client = client_for(&fake);
    let routes = LoginRoutes::new().scopes([Scope::Identify]);
    let page = || async { HttpResponse::Ok().body("settings") };
    let guarded = |mw: DiscordMiddleware| {
        App::new()
            .service(
                web::scope("/account")
                    .wrap(RequireAuthorization::new())
                    .route("/settings", web::get().to(page)),
            )
            .service(
                web::scope("/servers")
                    .wrap(RequireAuthorization::new().scopes([Scope::Guilds]))
                    .route("/list", web::get().to(page)),
            )
            .route("/open", web::get().to(page))
            .wrap(mw)
    };
    let svc = test::init_service(guarded(
        DiscordMiddleware::new(client.clone()).routes(routes),
    ))
    .await;
    let mut b = Browser::default();

    // Logged out: the scope answers 401 JSON (a page for a browser is the middleware's choice),
    // the open route 200.
    let (status, headers, body) = send(&svc, &mut b, Method::GET, "/account/settings", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(content_type(&headers).starts_with("application/json"));
    let (status, _, _) = send(&svc, &mut b, Method::GET, "/open", &[]).await;
    assert_eq!(status, StatusCode::OK);

    // Logged in with `identify`: the first scope lets through, the one needing `guilds` is 403.
    log_in(&svc, &mut b, "/login", "/callback", seed::ALICE).await;
    let (status, _, body) = send(&svc, &mut b, Method::GET, "/account/settings", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "settings"));
    let (status, _, body) = send(&svc, &mut b, Method::GET, "/servers/list", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("guilds"), "{body}");

    // With the redirect behaviour: to the login, with `next`.
    let mw = DiscordMiddleware::new(client)
        .unauthorized(UnauthorizedBehavior::RedirectToLogin("/login".into()));
    let svc = test::init_service(guarded(mw)).await;
    let mut b = Browser::default();
    let (status, headers, _) = send(&svc, &mut b, Method::GET, "/account/settings", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/login?next=%2Faccount%2Fsettings");

    // Without the middleware: 500, said plainly.
    let svc = test::init_service(
        App::new().service(
            web::scope("/account")
                .wrap(RequireAuthorization::new())
                .route("/settings", web::get().to(page)),
        ),
    )
    .await;
    let (status, _, body) = send(&svc, &mut b, Method::GET, "/account/settings", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body.contains("DiscordMiddleware") || body.contains("middleware"),
        "{body}"
    );
}
