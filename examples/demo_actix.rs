//! The discord-oauth demo app on actix-web: the same app as `examples/demo.rs` (axum), following
//! the same HTTP contract (every variable, route and status; see README.md, "Use a real Discord
//! application"), with the same pages, views and handlers' bodies (`examples/demo_shared/`).
//! Only the wiring differs: [`DiscordMiddleware`] instead of `DiscordLayer`, actix-web's
//! extractors and `HttpServer` instead of axum's.
//!
//! ```sh
//! cargo run --example demo_actix --all-features   # offline: starts the built-in fake Discord
//! ```
//!
//! Variables: as `examples/demo.rs` (`DISCORD_*`, `SECRET_KEY`, `BIND`, `SESSION_STORE`,
//! `REDIS_URL`, `RUST_LOG`, `SESSION_RECHECK_MS`); `TOKIO_WORKER_THREADS` is the number of
//! actix-web workers (default 2).
//!
//! The integration tests include this file (`#[path = "../examples/demo_actix.rs"] mod
//! demo_actix;`) and drive [`start`] on a loopback port, the same tests as the axum demo.
#![forbid(unsafe_code)]
#![allow(dead_code)] // the tests include this file and use only part of it

#[path = "demo_shared/mod.rs"]
mod shared;

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service as _, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use discord_oauth::actix::{
    DiscordMiddleware, ErrorPages, ManageGuild, RequireGuildPermission, SameOrigin,
};
use discord_oauth::{DiscordOAuth, DiscordSession, Error};
use discord_oauth_mock::MockDiscord;

use shared::{Reply, Site};
#[allow(unused_imports)] // `redact_query`: for the tests
pub use shared::{StartError, redact_query};

/// A running demo.
pub struct Running {
    /// The address the demo listens on.
    pub addr: SocketAddr,
    /// The fake Discord, when running offline.
    pub fake: Option<MockDiscord>,
    /// The library client the demo uses.
    pub client: DiscordOAuth,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Stops the server's workers.
    handle: actix_web::dev::ServerHandle,
}

impl Running {
    /// The demo's root URL, e.g. `http://127.0.0.1:5000`.
    pub fn url(&self) -> String {
        format!("http://{}", shared::display_addr(self.addr))
    }
}

impl Drop for Running {
    /// The workers are threads of their own: asked to stop with the demo (the command is sent
    /// at once; nothing waits for it).
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Builds the configuration and client from `lookup` (the environment in `main`), starting
/// the fake Discord when no `DISCORD_CLIENT_ID` is set, and serves the app on `listener`.
///
/// # Errors
/// A configuration error naming the variable, or a failure to start the fake Discord.
pub async fn start(
    lookup: impl Fn(&str) -> Option<String>,
    listener: tokio::net::TcpListener,
) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let workers = lookup("TOKIO_WORKER_THREADS")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2);
    let shared::Prepared { client, fake } = shared::prepare(lookup, addr).await?;
    let site = web::Data::new(Site::new(&client, fake.is_some())?);
    let middleware = DiscordMiddleware::new(client.clone());
    let events = web::Data::new(client.clone());
    let listener = listener.into_std()?;
    let server = HttpServer::new(move || app(site.clone(), events.clone(), middleware.clone()))
        .workers(workers)
        .disable_signals()
        .listen(listener)?
        .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(Running {
        addr,
        fake,
        client,
        task,
        handle,
    })
}

/// The demo's app: every route of the contract behind the request logger, the security
/// headers and the [`DiscordMiddleware`].
pub fn app(
    site: web::Data<Site>,
    client: web::Data<DiscordOAuth>,
    middleware: DiscordMiddleware,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let frame_site = site.clone();
    App::new()
        .app_data(site)
        .app_data(client)
        .service(web::resource("/").route(web::get().to(index)))
        .service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/login").route(web::get().to(login)))
        .service(web::resource("/callback").route(web::get().to(callback)))
        .service(web::resource("/me").route(web::get().to(me)))
        .service(web::resource("/guilds").route(web::get().to(guilds)))
        .service(web::resource("/connections").route(web::get().to(connections)))
        .service(web::resource("/guilds/{guild_id}/join").route(web::post().to(join)))
        .service(web::resource("/guilds/{guild_id}/manage").route(web::get().to(manage)))
        .service(web::resource("/logout").route(web::post().to(logout)))
        .service(web::resource("/install").route(web::get().to(install)))
        .service(web::resource("/linked-role").route(web::get().to(linked_role)))
        .service(web::resource("/discord/events").route(web::post().to(discord_events)))
        .wrap(middleware)
        // Request log (with `code` and `state` redacted) and security headers, for every route.
        .wrap_fn(move |req, srv| {
            let started = Instant::now();
            let line =
                shared::log_line(req.method().as_str(), req.path(), Some(req.query_string()));
            let site = frame_site.clone();
            let served = srv.call(req);
            async move {
                let mut response = served.await?;
                let headers = response.headers_mut();
                for (name, value) in site.security_headers() {
                    if let Ok(value) = HeaderValue::from_str(value) {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                }
                shared::log_served(line, response.status().as_u16(), started);
                Ok(response)
            }
        })
}

/// The response of a shared handler's [`Reply`].
fn respond(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = HttpResponse::build(status);
    if let Some(ct) = reply.content_type {
        r.insert_header((header::CONTENT_TYPE, ct));
    }
    if let Some(location) = reply.location {
        r.insert_header((header::LOCATION, location));
    }
    if let Some(secs) = reply.retry_after {
        r.insert_header((header::RETRY_AFTER, secs));
    }
    r.body(reply.body)
}

fn done(reply: Result<Reply, Error>) -> Result<HttpResponse, Error> {
    reply.map(respond)
}

fn query(req: &HttpRequest) -> Option<&str> {
    Some(req.query_string()).filter(|q| !q.is_empty())
}

// ----- handlers: the wiring of the shared bodies ----------------------------------------------

async fn health() -> HttpResponse {
    respond(shared::health())
}

async fn index(site: web::Data<Site>, session: DiscordSession) -> HttpResponse {
    respond(shared::index(&site, &session).await)
}

async fn me(site: web::Data<Site>, session: DiscordSession) -> Result<HttpResponse, Error> {
    done(shared::me(&site, &session).await)
}

async fn guilds(site: web::Data<Site>, session: DiscordSession) -> Result<HttpResponse, Error> {
    done(shared::guilds(&site, &session).await)
}

async fn connections(session: DiscordSession) -> Result<HttpResponse, Error> {
    done(shared::connections(&session).await)
}

async fn login(session: DiscordSession, req: HttpRequest) -> Result<HttpResponse, Error> {
    done(shared::login(&session, query(&req)))
}

/// A page for a browser's failed callback (a cancel), JSON otherwise.
async fn callback(session: DiscordSession, req: HttpRequest) -> HttpResponse {
    match shared::callback(&session, query(&req)).await {
        Ok(reply) => respond(reply),
        Err(e) => ErrorPages::html().respond(&req, &e),
    }
}

async fn logout(_same_origin: SameOrigin, session: DiscordSession) -> HttpResponse {
    respond(shared::logout(&session).await)
}

async fn join(
    _same_origin: SameOrigin,
    session: DiscordSession,
    guild_id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    done(shared::join(&session, &guild_id).await)
}

async fn install(session: DiscordSession, req: HttpRequest) -> Result<HttpResponse, Error> {
    done(shared::install(&session, query(&req)))
}

async fn linked_role(session: DiscordSession) -> Result<HttpResponse, Error> {
    done(shared::linked_role(&session))
}

async fn manage(guard: RequireGuildPermission<ManageGuild>) -> HttpResponse {
    respond(shared::manage(&guard.guild))
}

async fn discord_events(
    client: web::Data<DiscordOAuth>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let headers = discord_oauth::actix::http_headers(req.headers());
    done(shared::discord_events(&client, &headers, &body).await)
}

// ----- main -----------------------------------------------------------------------------------

fn main() -> std::process::ExitCode {
    shared::main_with(run)
}

async fn run() -> Result<(), StartError> {
    let running = start(|k| std::env::var(k).ok(), shared::bind().await?).await?;
    shared::announce(running.fake.as_ref(), &running.url());
    let mut running = running;
    tokio::select! {
        result = &mut running.task => { result??; }
        _ = tokio::signal::ctrl_c() => { println!("demo: shutting down"); }
    }
    running.handle.stop(true).await;
    if let Some(fake) = running.fake.take() {
        fake.shutdown().await;
    }
    Ok(())
}
