//! How one Discord route is put on the axum [`Router`]: its path template (plus the form with an
//! empty last parameter, which axum would not match), its methods, the [`gate`] in
//! front, then, in this order: the path ids (`400` code `50035` when one is not a snowflake, even
//! before the method is checked), the method (`405`), the body (`413` above 1 MiB) and the
//! endpoint, through the [`api`] pipeline for `/api` routes.
//!
//! Methods are dispatched by axum, with two Discord rules its defaults do not follow: `HEAD` is not
//! implied by `GET`, and a wrong method gets Discord's `405` JSON body without an `Allow` header.
//!
//! Must not import the endpoint groups (`oauth`, `rest`, `cdn`, `control`), `routes` or `server`.

use crate::api::{self, Ids, Limited};
use crate::gate::{self, Gate};
use crate::state::Shared;
use crate::util::{Resp, method_not_allowed, read_body};
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{Method, request::Parts};
use axum::routing::{MethodFilter, MethodRouter, any};
use std::net::SocketAddr;
use std::sync::Arc;

/// A page or file outside `/api` (no authentication, no rate limits).
pub(crate) type Page = fn(&Shared, &Parts, &[u8]) -> Resp;

/// What a route runs for one of its methods.
#[derive(Clone, Copy)]
enum Endpoint {
    /// An `/api` endpoint, run through [`api::run`].
    Api(api::Handler),
    /// A page or a CDN file.
    Page(Page),
}

/// One route.
pub(crate) struct Route {
    /// The path template axum matches, e.g. `/api/v10/guilds/{guild_id}/members/{user_id}`.
    path: String,
    /// The route's name in statistics, faults and rate limits (without the method): the path
    /// template, or `/cdn/<first segment>` for the CDN.
    name: Arc<str>,
    /// Rate-limit bucket group (routes of one group share a bucket).
    group: &'static str,
    /// Whether the path parameters are snowflakes, checked before anything else.
    ids: bool,
}

impl Route {
    /// An `/api` route: named by its template, snowflake parameters.
    pub(crate) fn api(prefix: &str, path: &str, group: &'static str) -> Route {
        let path = format!("{prefix}{path}");
        Route {
            name: path.as_str().into(),
            path,
            group,
            ids: true,
        }
    }

    /// A route outside `/api` with its own statistics name.
    pub(crate) fn page(path: &str, name: &str) -> Route {
        Route {
            path: path.to_owned(),
            name: name.into(),
            group: "",
            ids: false,
        }
    }
}

/// Everything a mounted route needs at request time.
struct Mounted {
    shared: Arc<Shared>,
    route: Route,
}

/// Builds the router of the Discord routes, one [`Route`] at a time.
pub(crate) struct Mount {
    router: Router,
    shared: Arc<Shared>,
}

impl Mount {
    /// An empty router over `shared`.
    pub(crate) fn new(shared: Arc<Shared>) -> Mount {
        Mount {
            router: Router::new(),
            shared,
        }
    }

    /// Adds an `/api` route with one handler per allowed method.
    pub(crate) fn api(self, route: Route, handlers: &[(Method, api::Handler)]) -> Mount {
        let eps: Vec<_> = handlers
            .iter()
            .map(|(m, h)| (m.clone(), Endpoint::Api(*h)))
            .collect();
        self.add(route, &eps)
    }

    /// Adds a route outside `/api` with one page per allowed method.
    pub(crate) fn page(self, route: Route, pages: &[(Method, Page)]) -> Mount {
        let eps: Vec<_> = pages
            .iter()
            .map(|(m, p)| (m.clone(), Endpoint::Page(*p)))
            .collect();
        self.add(route, &eps)
    }

    /// Adds a route: its path (and the empty-last-parameter form), gated.
    fn add(self, route: Route, endpoints: &[(Method, Endpoint)]) -> Mount {
        let paths = route_paths(&route);
        let gate = Gate {
            shared: self.shared.clone(),
            name: Some(route.name.clone()),
            group: route.group,
        };
        let mounted = Arc::new(Mounted {
            shared: self.shared.clone(),
            route,
        });
        let methods = method_router(&mounted, endpoints)
            .layer(axum::middleware::from_fn_with_state(gate, gate::track));
        let mut router = self.router;
        for p in paths {
            router = router.route(&p, methods.clone());
        }
        Mount {
            router,
            shared: self.shared,
        }
    }

    /// The router, with the gated fallback for unknown paths (`unmatched`).
    pub(crate) fn finish(self, unmatched: Page) -> Router {
        let gate = Gate {
            shared: self.shared.clone(),
            name: None,
            group: "",
        };
        let shared = self.shared.clone();
        let fallback = any(move |req: Request| async move {
            let (parts, _) = req.into_parts();
            unmatched(&shared, &parts, &[])
        })
        .layer(axum::middleware::from_fn_with_state(gate, gate::track));
        self.router.fallback_service(fallback)
    }
}

/// The path of a route, plus the same path with its last parameter empty when it ends with one
/// (`/users/` for `/users/{user_id}`): axum matches an empty parameter inside a path but not at
/// its end, and Discord answers both forms the same way (here a `50035` on the empty id).
fn route_paths(route: &Route) -> Vec<String> {
    let mut paths = vec![route.path.clone()];
    if route.ids
        && let Some((head, last)) = route.path.rsplit_once('/')
        && last.starts_with('{')
    {
        paths.push(format!("{head}/"));
    }
    paths
}

/// The methods of a route: its endpoints, and Discord's `405` for every other method (`HEAD`
/// included, which axum would otherwise send to the `GET` endpoint).
fn method_router(mounted: &Arc<Mounted>, endpoints: &[(Method, Endpoint)]) -> MethodRouter {
    let m = mounted.clone();
    let mut router = any(move |req: Request| wrong_method(m.clone(), req));
    for (method, ep) in endpoints {
        let (m, ep) = (mounted.clone(), *ep);
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            continue;
        };
        router = router.on(filter, move |req: Request| serve(m.clone(), ep, req));
    }
    if !endpoints.iter().any(|(m, _)| *m == Method::HEAD) {
        let m = mounted.clone();
        router = router.head(move |req: Request| wrong_method(m.clone(), req));
    }
    router
}

/// The path ids of a request, or the `400` for the first one that is not a snowflake.
fn ids(mounted: &Mounted, parts: &Parts) -> Result<Ids, Resp> {
    if !mounted.route.ids {
        return Ok(Ids::default());
    }
    Ids::parse(&mounted.route.path, parts.uri.path())
}

/// A method the route does not take: `405`, after the path ids were checked.
async fn wrong_method(mounted: Arc<Mounted>, req: Request) -> Resp {
    let (parts, _) = req.into_parts();
    match ids(&mounted, &parts) {
        Ok(_) => method_not_allowed(),
        Err(r) => r,
    }
}

/// A method the route takes: path ids, body, then the endpoint.
async fn serve(mounted: Arc<Mounted>, endpoint: Endpoint, req: Request) -> Resp {
    let (parts, body) = req.into_parts();
    let ids = match ids(&mounted, &parts) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match endpoint {
        Endpoint::Page(page) => page(&mounted.shared, &parts, &body),
        Endpoint::Api(handler) => {
            let template = format!("{} {}", parts.method, mounted.route.name);
            let limited = Limited {
                template: &template,
                group: mounted.route.group,
                peer: peer(&parts),
            };
            api::run(&mounted.shared, &limited, &parts, &body, &ids, handler)
        }
    }
}

/// The peer address the server recorded for the connection.
fn peer(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |c| c.0)
}
