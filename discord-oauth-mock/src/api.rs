//! The pipeline of every `/api` route (REST and the OAuth2 token endpoints), in Discord's order
//! and under one lock of the state: read the `Authorization` header
//! (<https://discord.com/developers/docs/reference#authentication>), apply the rate limits
//! (<https://discord.com/developers/docs/topics/rate-limits>), run the endpoint, then add the
//! `X-RateLimit-*` headers to its answer. Owns [`Auth`], [`Ids`] and [`Call`], what every `/api`
//! endpoint receives.
//!
//! Must not import the endpoint groups (`oauth`, `rest`), `cdn`, `control`, `routes`, `mount`,
//! `gate` or `server`: they build on this, not the other way round.

use crate::ratelimit;
use crate::state::{Access, Shared, State};
use crate::util::{Resp, not_snowflake, path_param, snowflake};
use axum::http::{HeaderMap, header, request::Parts};
use std::net::SocketAddr;
use std::time::Instant;

/// Who is calling.
pub(crate) enum Auth {
    /// No `Authorization` header.
    None,
    /// The right bot token.
    Bot,
    /// `Bot <wrong token>`.
    BadBot,
    /// A live (unexpired, unrevoked) access token.
    Bearer(Access),
    /// `Bearer <unknown, expired or revoked token>`.
    BadBearer,
    /// Anything else.
    Other,
}

impl Auth {
    /// A Bearer token carrying `scope`, else `None` (the caller answers 401: Discord does so for a
    /// missing scope, <https://discord.com/developers/docs/reference#error-messages>).
    pub(crate) fn bearer(&self, scope: &str) -> Option<&Access> {
        match self {
            Auth::Bearer(a) if a.has(scope) => Some(a),
            _ => None,
        }
    }

    /// The rate-limit identity: the user of a Bearer token, the bot, or else the peer address.
    fn identity(&self, peer: SocketAddr) -> String {
        match self {
            Auth::Bearer(a) => format!("user:{}", a.user_id),
            Auth::Bot => "bot".to_owned(),
            _ => format!("ip:{}", peer.ip()),
        }
    }
}

/// Reads the `Authorization` header: `Bot <token>` or `Bearer <token>`.
pub(crate) fn authenticate(shared: &Shared, st: &State, headers: &HeaderMap) -> Auth {
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::None;
    };
    if let Some(t) = h.strip_prefix("Bot ") {
        return if t == shared.bot_token {
            Auth::Bot
        } else {
            Auth::BadBot
        };
    }
    let Some(t) = h.strip_prefix("Bearer ") else {
        return Auth::Other;
    };
    match st.access.get(t) {
        Some(a) if !a.expired(Instant::now()) => Auth::Bearer(a.clone()),
        _ => Auth::BadBearer,
    }
}

/// The snowflakes of a route's path parameters (`{guild_id}`, `{user_id}`, ...), by name.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Ids(Vec<(String, u64)>);

impl Ids {
    /// Parses every `{name}` of `template` found in `path` as a snowflake, in path order; the
    /// first one that is not a snowflake gives Discord's `400` code `50035` for that field.
    pub(crate) fn parse(template: &str, path: &str) -> Result<Ids, Resp> {
        let mut ids = Vec::new();
        for seg in template.split('/') {
            let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                continue;
            };
            let raw = path_param(template, path, name).unwrap_or("");
            match snowflake(raw) {
                Some(id) => ids.push((name.to_owned(), id)),
                None => return Err(not_snowflake(name, raw)),
            }
        }
        Ok(Ids(ids))
    }

    /// The id named `name` (0 when the route has no such parameter).
    pub(crate) fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, id)| *id)
    }
}

/// What an `/api` endpoint gets: the state (locked for the whole call), the caller and the request.
pub(crate) struct Call<'a> {
    pub shared: &'a Shared,
    pub st: &'a mut State,
    pub auth: Auth,
    pub parts: &'a Parts,
    pub body: &'a [u8],
    pub ids: &'a Ids,
}

impl Call<'_> {
    /// The query string (empty when there is none).
    pub(crate) fn query(&self) -> &str {
        self.parts.uri.query().unwrap_or("")
    }
}

/// An `/api` endpoint.
pub(crate) type Handler = fn(&mut Call<'_>) -> Resp;

/// The route facts the rate limiter needs.
pub(crate) struct Limited<'a> {
    /// `METHOD /path-template`, e.g. `GET /api/v10/users/@me`.
    pub template: &'a str,
    /// Routes of one group share a bucket.
    pub group: &'a str,
    /// Where the request comes from (the identity of unauthenticated calls).
    pub peer: SocketAddr,
}

/// Runs an `/api` endpoint: authentication, rate limits, the endpoint, rate-limit headers. The
/// major parameter of the rate limits is the `guild_id` of the path (0 when none).
pub(crate) fn run(
    shared: &Shared,
    route: &Limited<'_>,
    parts: &Parts,
    body: &[u8],
    ids: &Ids,
    handler: Handler,
) -> Resp {
    let mut st = shared.lock();
    let auth = authenticate(shared, &st, &parts.headers);
    let identity = auth.identity(route.peer);
    let major = ids.get("guild_id");
    let headers = match ratelimit::check(&mut st, route.template, route.group, &identity, major) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let mut call = Call {
        shared,
        st: &mut st,
        auth,
        parts,
        body,
        ids,
    };
    let mut resp = handler(&mut call);
    ratelimit::add_headers(&mut resp, &headers);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_path_order() {
        let t = "/api/v10/guilds/{guild_id}/members/{user_id}";
        let ids = Ids::parse(t, "/api/v10/guilds/12/members/34").unwrap();
        assert_eq!(
            (ids.get("guild_id"), ids.get("user_id"), ids.get("x")),
            (12, 34, 0)
        );
        // The guild is checked first; raw (not percent-decoded) values are reported.
        let e = Ids::parse(t, "/api/v10/guilds/x/members/y").unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(Ids::parse(t, "/api/v10/guilds/1/members/%32").is_err());
        assert!(Ids::parse(t, "/api/v10/guilds/1/members/").is_err());
    }
}
