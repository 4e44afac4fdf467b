//! The first thing every Discord route runs (the control API excepted), as axum middleware:
//! count the request in the statistics under its route name, then serve an injected fault if one
//! is queued for that name (see [`crate::MockDiscord::inject_fault`]). Only then does the route
//! look at the method, the path ids, the body or the caller.
//!
//! Route names are `METHOD /path-template` for the methods of [`METHODS`] and `UNMATCHED` for
//! unknown paths and any other (extension) method, so that clients cannot create statistics
//! keys. Must not import `routes`, `mount`, `api`, `oauth`, `rest`, `cdn`, `control` or `server`.

use crate::Fault;
use crate::ratelimit;
use crate::state::Shared;
use crate::util::{Resp, json, not_found, raw};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use std::sync::Arc;
use tokio::sync::Notify;

/// The methods that may appear in a route name; any other method is refused with `404` and
/// counted as `UNMATCHED`.
pub(crate) const METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// The statistics key of requests no route names.
pub(crate) const UNMATCHED: &str = "UNMATCHED";

/// Closes the request's TCP connection without an answer (a request extension set by the
/// server for each connection; see [`Fault::DropConnection`]).
#[derive(Clone)]
pub(crate) struct KillSwitch(pub Arc<Notify>);

/// The gate of one route: the shared state and the route's path template (`None` for the
/// fallback of unknown paths).
#[derive(Clone)]
pub(crate) struct Gate {
    pub shared: Arc<Shared>,
    pub name: Option<Arc<str>>,
    /// The route's rate-limit bucket group (empty outside `/api`), for injected `429`s.
    pub group: &'static str,
}

impl Gate {
    /// The statistics key of a request with `method`.
    fn key(&self, method: &Method) -> String {
        match &self.name {
            Some(name) if METHODS.contains(method) => format!("{method} {name}"),
            _ => UNMATCHED.to_owned(),
        }
    }
}

/// The middleware: statistics, faults, then the route (or `404` for an unknown method).
pub(crate) async fn track(State(gate): State<Gate>, req: Request, next: Next) -> Resp {
    let key = gate.key(req.method());
    let fault = count_and_take_fault(&gate.shared, &key);
    match fault {
        None => {}
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropConnection) => {
            drop_connection(req.extensions().get::<KillSwitch>().cloned()).await
        }
        Some(Fault::RateLimited {
            retry_after,
            global,
            scope,
        }) => {
            let st = gate.shared.lock();
            return ratelimit::injected(&st, &key, gate.group, retry_after, global, &scope);
        }
        Some(other) => return fault_response(&other),
    }
    if !METHODS.contains(req.method()) {
        return not_found();
    }
    next.run(req).await
}

/// Counts the request under `key` and takes one use of a fault queued for it (or for `*`).
fn count_and_take_fault(shared: &Shared, key: &str) -> Option<Fault> {
    let mut st = shared.lock();
    st.stats.total_requests += 1;
    *st.stats.requests.entry(key.to_owned()).or_default() += 1;
    let f = st.take_fault(key);
    if f.is_some() {
        st.stats.faults_served += 1;
    }
    if let Some(Fault::RateLimited { .. }) = f {
        st.stats.total_rate_limited += 1;
        *st.stats.rate_limited.entry(key.to_owned()).or_default() += 1;
    }
    f
}

/// Asks the connection task to close the socket, then waits for it to drop this request.
async fn drop_connection(kill: Option<KillSwitch>) {
    if let Some(KillSwitch(kill)) = kill {
        kill.notify_one();
    }
    // The connection task drops this future together with the connection.
    std::future::pending::<()>().await;
}

/// The answer for an injected fault (Delay, DropConnection and RateLimited are handled by the
/// caller).
fn fault_response(f: &Fault) -> Resp {
    match f {
        Fault::Status(s) if *s == 204 || *s == 304 => {
            let mut r = raw(*s, "application/json", Body::empty());
            r.headers_mut().remove(header::CONTENT_TYPE);
            r
        }
        Fault::Status(s) => {
            let reason = StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Error");
            json(
                *s,
                &serde_json::json!({ "message": format!("{s}: {reason}"), "code": 0 }),
            )
        }
        Fault::MalformedBody => raw(
            200,
            "application/json",
            "{\"id\": \"459873214563123201\", \"username\": \"alice.dev\", \"discrim",
        ),
        Fault::Delay(_) | Fault::DropConnection | Fault::RateLimited { .. } => not_found(),
    }
}
