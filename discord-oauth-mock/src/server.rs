//! Accept loop (able to drop a connection without answering), routing and dispatch.

use crate::state::Shared;
use crate::util::{Resp, discord_error, json, method_not_allowed, not_found, not_snowflake, raw};
use crate::{Fault, api, cdn, control, oauth, ratelimit};
use axum::body::{Body, Bytes};
use axum::http::{Method, request::Parts};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// Serves until `shutdown` says so (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let conn_shutdown = shutdown.clone();
    loop {
        tokio::select! {
            r = listener.accept() => {
                let (stream, peer) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("discord-oauth-mock: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let mut sd = conn_shutdown.clone();
                tokio::spawn(async move {
                    let kill = Arc::new(Notify::new());
                    let k2 = kill.clone();
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        let kill = k2.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req, peer, kill).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc);
                    // Dropping `conn` closes the socket at once, without an answer.
                    tokio::select! {
                        _ = conn => {}
                        _ = kill.notified() => {}
                        _ = stopped(&mut sd) => {}
                    }
                });
            }
            _ = stopped(&mut shutdown) => break,
        }
    }
}

/// Completes when shutdown is requested or the last handle is gone.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// What a path resolved to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Authorize,
    Token,
    Revoke,
    UsersMe,
    MyGuilds,
    MyConnections,
    MyGuildMember(u64),
    OAuth2Me,
    ApplicationsMe,
    GetUser(u64),
    AddMember(u64, u64),
    RoleConnection(u64),
    RoleMetadata(u64),
    Cdn,
}

pub(crate) struct Matched {
    pub kind: Kind,
    pub template: String,
    pub group: String,
    pub major: u64,
}

pub(crate) enum Miss {
    NotFound,
    MethodNotAllowed(String),
    BadSnowflake(String, String, String),
    BadVersion,
}

impl Miss {
    fn template(&self) -> String {
        match self {
            Miss::NotFound | Miss::BadVersion => "UNMATCHED".to_owned(),
            Miss::MethodNotAllowed(t) | Miss::BadSnowflake(t, _, _) => t.clone(),
        }
    }
    fn response(&self) -> Resp {
        match self {
            Miss::NotFound => not_found(),
            Miss::MethodNotAllowed(_) => method_not_allowed(),
            Miss::BadSnowflake(_, field, value) => not_snowflake(field, value),
            Miss::BadVersion => discord_error(400, 50041, "Invalid API version"),
        }
    }
}

/// The first path segments the CDN serves (see `cdn::serve`); the route names of CDN requests.
const CDN_PREFIXES: &[&str] = &[
    "embed",
    "avatars",
    "banners",
    "icons",
    "guilds",
    "avatar-decoration-presets",
    "app-icons",
    "role-icons",
    "team-icons",
    "splashes",
    "discovery-splashes",
    "guild-tag-badges",
    "clan-badges",
];

/// The methods that may appear in a route name; any other (extension) method is a miss, so that
/// a client cannot create statistics keys by inventing methods.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// `"GET /api/v10/users/@me"` -> `"GET /users/@me"` (the form used for rate-limit overrides).
pub(crate) fn short_template(t: &str) -> String {
    let (method, path) = t.split_once(' ').unwrap_or(("", t));
    let path = path
        .strip_prefix("/api/v10")
        .or_else(|| path.strip_prefix("/api/v9"))
        .or_else(|| path.strip_prefix("/api"))
        .unwrap_or(path);
    format!("{method} {path}")
}

fn snow(field: &str, v: &str, template: &str) -> Result<u64, Miss> {
    crate::util::snowflake(v)
        .ok_or_else(|| Miss::BadSnowflake(template.to_owned(), field.to_owned(), v.to_owned()))
}

/// Resolves a request path.
pub(crate) fn resolve(method: &Method, path: &str) -> Result<Matched, Miss> {
    let m = method.as_str();
    if !METHODS.contains(&m) {
        return Err(Miss::NotFound);
    }
    let matched = |kind: Kind, tpl: String, group: &str, major: u64, allowed: &[&str]| {
        let template = format!("{m} {tpl}");
        if allowed.contains(&m) {
            Ok(Matched {
                kind,
                template,
                group: group.to_owned(),
                major,
            })
        } else {
            Err(Miss::MethodNotAllowed(template))
        }
    };
    if path == "/oauth2/authorize" {
        return matched(
            Kind::Authorize,
            path.to_owned(),
            "authorize",
            0,
            &["GET", "POST"],
        );
    }
    if let Some(rest) = path.strip_prefix("/cdn/") {
        // Only the known CDN prefixes name a route: a client-chosen first segment must not create
        // a statistics key of its own (the keys would grow without bound).
        // Unknown prefixes share `/cdn/UNMATCHED` (the CDN answers them 404).
        let first = rest.split('/').next().unwrap_or("");
        let prefix = CDN_PREFIXES
            .iter()
            .find(|p| **p == first)
            .unwrap_or(&"UNMATCHED");
        return matched(
            Kind::Cdn,
            format!("/cdn/{prefix}"),
            "cdn",
            0,
            &["GET", "HEAD"],
        );
    }
    let Some(rest) = path.strip_prefix("/api/") else {
        return Err(Miss::NotFound);
    };
    let (prefix, tail) = if let Some(t) = rest.strip_prefix("v10/") {
        ("/api/v10", t)
    } else if let Some(t) = rest.strip_prefix("v9/") {
        ("/api/v9", t)
    } else if rest.starts_with('v') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(Miss::BadVersion);
    } else {
        ("/api", rest)
    };
    let segs: Vec<&str> = tail.split('/').collect();
    let versioned = prefix != "/api";
    let t = |s: &str| format!("{prefix}{s}");
    match segs.as_slice() {
        ["oauth2", "token"] => matched(
            Kind::Token,
            t("/oauth2/token"),
            "oauth2-token",
            0,
            &["POST"],
        ),
        ["oauth2", "token", "revoke"] => matched(
            Kind::Revoke,
            t("/oauth2/token/revoke"),
            "oauth2-token",
            0,
            &["POST"],
        ),
        // The unversioned prefix is Discord's deprecated v6: only the token endpoints are served
        // there, so that an app forgetting `/v10` on REST calls fails loudly.
        _ if !versioned => Err(Miss::NotFound),
        ["users", "@me"] => matched(Kind::UsersMe, t("/users/@me"), "users-me", 0, &["GET"]),
        ["users", "@me", "guilds"] => matched(
            Kind::MyGuilds,
            t("/users/@me/guilds"),
            "users-me-guilds",
            0,
            &["GET"],
        ),
        ["users", "@me", "connections"] => matched(
            Kind::MyConnections,
            t("/users/@me/connections"),
            "users-me-connections",
            0,
            &["GET"],
        ),
        ["users", "@me", "guilds", g, "member"] => {
            let tpl = t("/users/@me/guilds/{guild_id}/member");
            let g = snow("guild_id", g, &format!("{m} {tpl}"))?;
            matched(
                Kind::MyGuildMember(g),
                tpl,
                "users-me-guild-member",
                g,
                &["GET"],
            )
        }
        ["users", "@me", "applications", a, "role-connection"] => {
            let tpl = t("/users/@me/applications/{application_id}/role-connection");
            let a = snow("application_id", a, &format!("{m} {tpl}"))?;
            matched(
                Kind::RoleConnection(a),
                tpl,
                "role-connection",
                0,
                &["GET", "PUT", "DELETE"],
            )
        }
        ["users", u] if *u != "@me" => {
            let tpl = t("/users/{user_id}");
            let u = snow("user_id", u, &format!("{m} {tpl}"))?;
            matched(Kind::GetUser(u), tpl, "users", 0, &["GET"])
        }
        ["oauth2", "@me"] => matched(Kind::OAuth2Me, t("/oauth2/@me"), "oauth2-me", 0, &["GET"]),
        ["oauth2", "applications", "@me"] => matched(
            Kind::ApplicationsMe,
            t("/oauth2/applications/@me"),
            "applications-me",
            0,
            &["GET"],
        ),
        ["applications", "@me"] => matched(
            Kind::ApplicationsMe,
            t("/applications/@me"),
            "applications-me",
            0,
            &["GET"],
        ),
        ["guilds", g, "members", u] => {
            let tpl = t("/guilds/{guild_id}/members/{user_id}");
            let full = format!("{m} {tpl}");
            let g = snow("guild_id", g, &full)?;
            let u = snow("user_id", u, &full)?;
            matched(Kind::AddMember(g, u), tpl, "guild-member-add", g, &["PUT"])
        }
        ["applications", a, "role-connections", "metadata"] => {
            let tpl = t("/applications/{application_id}/role-connections/metadata");
            let a = snow("application_id", a, &format!("{m} {tpl}"))?;
            matched(
                Kind::RoleMetadata(a),
                tpl,
                "role-metadata",
                0,
                &["GET", "PUT"],
            )
        }
        _ => Err(Miss::NotFound),
    }
}

async fn read_body(body: Body) -> Result<Bytes, Resp> {
    axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|_| discord_error(413, 40005, "Request entity too large"))
}

/// Handles one request.
async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    kill: Arc<Notify>,
) -> Resp {
    let (parts, body) = req.into_parts();
    let body = Body::new(body);
    let path = parts.uri.path().to_owned();
    if path == "/_mock" || path.starts_with("/_mock/") {
        let body = match read_body(body).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        return control::handle(&shared, &parts, &path, &body);
    }
    let resolved = resolve(&parts.method, &path);
    let template = match &resolved {
        Ok(m) => m.template.clone(),
        Err(miss) => miss.template(),
    };
    let fault = {
        let mut st = shared.lock();
        st.stats.total_requests += 1;
        *st.stats.requests.entry(template.clone()).or_default() += 1;
        let f = st.take_fault(&template);
        if f.is_some() {
            st.stats.faults_served += 1;
        }
        if let Some(Fault::RateLimited { .. }) = f {
            st.stats.total_rate_limited += 1;
            *st.stats.rate_limited.entry(template.clone()).or_default() += 1;
        }
        f
    };
    if let Some(f) = fault {
        match f {
            Fault::Delay(d) => tokio::time::sleep(d).await,
            Fault::DropConnection => {
                kill.notify_one();
                // The connection task drops this future together with the connection.
                std::future::pending::<()>().await;
            }
            other => return fault_response(&other),
        }
    }
    let m = match resolved {
        Ok(m) => m,
        Err(miss) => return miss.response(),
    };
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match m.kind {
        Kind::Authorize => oauth::authorize(&shared, &parts, &body),
        Kind::Cdn => cdn::serve(&shared, &parts),
        _ => api_request(&shared, &m, &parts, &body, peer),
    }
}

/// An `/api` request: authentication, rate limits, then the endpoint.
fn api_request(
    shared: &Shared,
    m: &Matched,
    parts: &Parts,
    body: &Bytes,
    peer: SocketAddr,
) -> Resp {
    let mut st = shared.lock();
    let auth = api::authenticate(shared, &st, &parts.headers);
    let identity = match &auth {
        api::Auth::Bearer(a) => format!("user:{}", a.user_id),
        api::Auth::Bot => "bot".to_owned(),
        _ => format!("ip:{}", peer.ip()),
    };
    let headers = match ratelimit::check(&mut st, &m.template, &m.group, &identity, m.major) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let mut resp = match &m.kind {
        Kind::Token => oauth::token(shared, &mut st, parts, body),
        Kind::Revoke => oauth::revoke(shared, &mut st, parts, body),
        kind => api::rest(shared, &mut st, kind, &auth, parts, body),
    };
    ratelimit::add_headers(&mut resp, &headers);
    resp
}

/// The answer for an injected fault (Delay and DropConnection are handled by the caller).
fn fault_response(f: &Fault) -> Resp {
    match f {
        Fault::Status(s) if *s == 204 || *s == 304 => {
            let mut r = raw(*s, "application/json", Body::empty());
            r.headers_mut().remove(axum::http::header::CONTENT_TYPE);
            r
        }
        Fault::Status(s) => {
            let reason = axum::http::StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Error");
            json(
                *s,
                &serde_json::json!({ "message": format!("{s}: {reason}"), "code": 0 }),
            )
        }
        Fault::RateLimited {
            retry_after,
            global,
            scope,
        } => ratelimit::too_many(*retry_after, *global, scope, None),
        Fault::MalformedBody => raw(
            200,
            "application/json",
            "{\"id\": \"459873214563123201\", \"username\": \"alice.dev\", \"discrim",
        ),
        Fault::Delay(_) | Fault::DropConnection => not_found(),
    }
}
