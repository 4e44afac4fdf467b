//! The HTTP control API under `/_mock/...`: the same controls as the Rust API of
//! [`MockDiscord`](crate::MockDiscord), for the binary. One module per group: [`views`] (what the
//! mock holds), [`settings`] (configuration and resets), [`faults`] and [`tokens`].
//!
//! Not Discord: no statistics, no faults, no rate limits. Every request body is read first (`413`
//! above 1 MiB), and any unknown path or method is `404`. Paths are taken after
//! [`canonical_uri`] (extra slashes and repeated `/_mock` prefixes dropped).
//!
//! Must not import `oauth`, `rest`, `cdn`, `api`, `routes`, `mount`, `gate` or `server`.

mod faults;
mod settings;
mod tokens;
mod views;

use crate::state::Shared;
use crate::util::{Resp, json, not_found, path_param, read_body};
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::routing::{MethodFilter, MethodRouter, any};
use serde_json::{Value, json};
use std::sync::Arc;

/// What a control endpoint gets: the body and the raw `{user_id}` of the path, if any.
pub(super) struct Ctl<'a> {
    pub body: &'a [u8],
    pub user_id: Option<&'a str>,
}

/// A control endpoint.
type Handler = fn(&Shared, &Ctl<'_>) -> Resp;

/// The routes: path and one endpoint per method.
const ROUTES: &[(&str, &[(Method, Handler)])] = &[
    ("/_mock/stats", &[(Method::GET, views::stats)]),
    ("/_mock/store-sizes", &[(Method::GET, views::store_sizes)]),
    ("/_mock/users", &[(Method::GET, views::users)]),
    ("/_mock/guilds", &[(Method::GET, views::guilds)]),
    ("/_mock/tokens/{user_id}", &[(Method::GET, views::tokens)]),
    ("/_mock/config", &[(Method::GET, views::config)]),
    ("/_mock/reset", &[(Method::POST, settings::reset)]),
    (
        "/_mock/reset-stats",
        &[(Method::POST, settings::reset_stats)],
    ),
    (
        "/_mock/token-lifetime",
        &[(Method::POST, settings::token_lifetime)],
    ),
    (
        "/_mock/public-client",
        &[(Method::POST, settings::public_client)],
    ),
    (
        "/_mock/auto-approve",
        &[(Method::POST, settings::auto_approve)],
    ),
    (
        "/_mock/redirect-uris",
        &[(Method::POST, settings::redirect_uri)],
    ),
    (
        "/_mock/rate-limits",
        &[(Method::POST, settings::rate_limits)],
    ),
    (
        "/_mock/faults",
        &[(Method::POST, faults::add), (Method::DELETE, faults::clear)],
    ),
    ("/_mock/revoke/{user_id}", &[(Method::POST, tokens::revoke)]),
    ("/_mock/expire", &[(Method::POST, tokens::expire_all)]),
    (
        "/_mock/expire/{user_id}",
        &[(Method::POST, tokens::expire_user)],
    ),
    ("/_mock/", &[]),
    ("/_mock/{*rest}", &[]),
];

/// The control API's router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    ROUTES
        .iter()
        .fold(Router::new(), |router, (path, handlers)| {
            router.route(path, methods(&shared, path, handlers))
        })
}

/// `/_mock` paths with the extra slashes and repeated `/_mock` prefixes dropped
/// (`/_mock//stats/` is `/_mock/stats`), or `None` when the URI is not a `/_mock` path or
/// already canonical. Applied before routing.
pub(crate) fn canonical_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if path != "/_mock" && !path.starts_with("/_mock/") {
        return None;
    }
    let canonical = format!(
        "/_mock/{}",
        path.trim_start_matches("/_mock").trim_matches('/')
    );
    if canonical == path {
        return None;
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// The methods of one path: its endpoints, `404` for any other method (`HEAD` included).
fn methods(
    shared: &Arc<Shared>,
    path: &'static str,
    handlers: &[(Method, Handler)],
) -> MethodRouter {
    let mut router = any(endpoint(shared, path, unknown));
    for (method, handler) in handlers {
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            continue;
        };
        router = router.on(filter, endpoint(shared, path, *handler));
    }
    if handlers.iter().any(|(m, _)| *m == Method::GET) {
        router = router.head(endpoint(shared, path, unknown));
    }
    router
}

/// An axum handler running `handler` once the body is read.
fn endpoint(
    shared: &Arc<Shared>,
    path: &'static str,
    handler: Handler,
) -> impl Fn(Request) -> std::pin::Pin<Box<dyn Future<Output = Resp> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    let shared = shared.clone();
    move |req: Request| {
        let shared = shared.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = match read_body(body).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let ctl = Ctl {
                body: &body,
                user_id: path_param(path, parts.uri.path(), "user_id"),
            };
            handler(&shared, &ctl)
        })
    }
}

/// An unknown path or method.
fn unknown(_: &Shared, _: &Ctl<'_>) -> Resp {
    not_found()
}

/// `400 {"error": msg}`.
fn bad(msg: &str) -> Resp {
    json(400, &json!({ "error": msg }))
}

/// `200 {"ok": true}`.
fn ok() -> Resp {
    json(200, &json!({ "ok": true }))
}

/// The body as JSON (`null` when it is not JSON).
fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

impl Ctl<'_> {
    /// The `{user_id}` of the path as a snowflake.
    fn user(&self) -> Option<u64> {
        self.user_id.and_then(crate::util::snowflake)
    }
}
