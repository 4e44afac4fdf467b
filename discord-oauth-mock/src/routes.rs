//! The route table: every path the fake answers, as an axum [`Router`].
//!
//! | Paths | Served by |
//! |---|---|
//! | `/oauth2/authorize` (`GET`, `POST`) | [`crate::oauth::authorize`] |
//! | `/api/v10`, `/api/v9` and `/api` + `/oauth2/token`, `/oauth2/token/revoke` (`POST`) | [`crate::oauth::token`], [`crate::oauth::revoke`] |
//! | `/api/v10` and `/api/v9` + the REST paths below | [`crate::rest`] |
//! | `/cdn/<first segment of cdn::FILES>/...` (`GET`, `HEAD`); other `/cdn/...`: `404` | [`cdn`] |
//! | `/_mock/...` (not counted, no faults) | [`control`] |
//! | anything else: `404`, or `400` code 50041 for another `/api/v<n>` | [`unmatched`] |
//!
//! The unversioned `/api` prefix is Discord's deprecated default version: only the token
//! endpoints are served there, so that an app forgetting `/v10` on REST calls fails loudly
//! (<https://discord.com/developers/docs/reference#api-versioning>).
//!
//! Must not import `server`.

use crate::api;
use crate::cdn;
use crate::control;
use crate::mount::{Mount, Route};
use crate::oauth::{authorize, revoke, token};
use crate::rest::{applications, guilds, role_connections, users};
use crate::state::Shared;
use crate::util::{Resp, discord_error, not_found};
use axum::Router;
use axum::http::{Method, request::Parts};
use std::sync::Arc;

/// The API versions served, and the unversioned prefix (token endpoints only).
const VERSIONS: &[&str] = &["/api/v10", "/api/v9"];
const UNVERSIONED: &str = "/api";

/// An `/api` route: path after the version prefix, rate-limit bucket group (routes of a group
/// share a bucket), and one endpoint per method.
type ApiRoute = (
    &'static str,
    &'static str,
    &'static [(Method, api::Handler)],
);

/// The OAuth2 token endpoints, served under every prefix.
const TOKEN: &[ApiRoute] = &[
    (
        "/oauth2/token",
        "oauth2-token",
        &[(Method::POST, token::token)],
    ),
    (
        "/oauth2/token/revoke",
        "oauth2-token",
        &[(Method::POST, revoke::revoke)],
    ),
];

/// The REST endpoints (<https://discord.com/developers/docs/resources/user>,
/// <https://discord.com/developers/docs/resources/guild#get-guild>,
/// <https://discord.com/developers/docs/resources/guild#get-guild-member>,
/// <https://discord.com/developers/docs/resources/guild#add-guild-member>,
/// <https://discord.com/developers/docs/resources/application>), served under the versions.
const REST: &[ApiRoute] = &[
    ("/users/@me", "users-me", &[(Method::GET, users::me)]),
    (
        "/users/@me/guilds",
        "users-me-guilds",
        &[(Method::GET, users::my_guilds)],
    ),
    (
        "/users/@me/connections",
        "users-me-connections",
        &[(Method::GET, users::my_connections)],
    ),
    (
        "/users/@me/guilds/{guild_id}/member",
        "users-me-guild-member",
        &[(Method::GET, guilds::my_member)],
    ),
    (
        "/users/@me/applications/{application_id}/role-connection",
        "role-connection",
        &[
            (Method::GET, role_connections::get_connection),
            (Method::PUT, role_connections::put_connection),
            (Method::DELETE, role_connections::delete_connection),
        ],
    ),
    ("/users/{user_id}", "users", &[(Method::GET, users::get)]),
    (
        "/oauth2/@me",
        "oauth2-me",
        &[(Method::GET, applications::authorization)],
    ),
    (
        "/oauth2/applications/@me",
        "applications-me",
        &[(Method::GET, applications::current)],
    ),
    (
        "/applications/@me",
        "applications-me",
        &[(Method::GET, applications::current)],
    ),
    (
        "/guilds/{guild_id}/members/{user_id}",
        "guild-member",
        &[
            (Method::GET, guilds::get_member),
            (Method::PUT, guilds::add_member),
        ],
    ),
    (
        "/guilds/{guild_id}",
        "guild",
        &[(Method::GET, guilds::get_guild)],
    ),
    (
        "/applications/{application_id}/role-connections/metadata",
        "role-metadata",
        &[
            (Method::GET, role_connections::get_metadata),
            (Method::PUT, role_connections::put_metadata),
        ],
    ),
];

/// The whole application: Discord's routes, the CDN and the control API.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let mut m = Mount::new(shared.clone()).page(
        Route::page("/oauth2/authorize", "/oauth2/authorize"),
        &[
            (Method::GET, authorize::show),
            (Method::POST, authorize::submit),
        ],
    );
    for prefix in VERSIONS.iter().chain([&UNVERSIONED]) {
        m = api_routes(m, prefix, TOKEN);
    }
    for prefix in VERSIONS {
        m = api_routes(m, prefix, REST);
    }
    m = cdn_routes(m);
    m.finish(unmatched).merge(control::router(shared))
}

/// Mounts `routes` under `prefix`.
fn api_routes(m: Mount, prefix: &str, routes: &[ApiRoute]) -> Mount {
    routes.iter().fold(m, |m, (path, group, handlers)| {
        m.api(Route::api(prefix, path, group), handlers)
    })
}

/// The CDN: for each known first segment, the segment itself, the segment with a slash, and
/// everything below it share the route name `/cdn/<segment>`; any other `/cdn/` path is named
/// `/cdn/UNMATCHED` (so that clients cannot create statistics keys) and is `404`.
fn cdn_routes(mut m: Mount) -> Mount {
    let get_head = |page| [(Method::GET, page), (Method::HEAD, page)];
    for (segment, page) in cdn::FILES {
        let name = format!("/cdn/{segment}");
        for path in [
            name.clone(),
            format!("{name}/"),
            format!("{name}/{{*path}}"),
        ] {
            m = m.page(Route::page(&path, &name), &get_head(*page));
        }
    }
    for path in ["/cdn/", "/cdn/{*path}"] {
        m = m.page(
            Route::page(path, "/cdn/UNMATCHED"),
            &get_head(cdn::not_found),
        );
    }
    m
}

/// A path no route matches: Discord's `404`, or `400` code 50041 for an API version it does not
/// serve (`/api/v8/...`, `/api/v1`, and `/api/v10` without a path).
pub(crate) fn unmatched(_: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let Some(rest) = parts.uri.path().strip_prefix("/api/") else {
        return not_found();
    };
    let served = rest.starts_with("v10/") || rest.starts_with("v9/");
    let version = rest.starts_with('v') && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    if version && !served {
        return discord_error(400, 50041, "Invalid API version");
    }
    not_found()
}
