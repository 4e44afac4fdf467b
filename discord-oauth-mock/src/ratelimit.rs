//! Discord-like rate limiting: fixed windows per (bucket, identity, major parameter) and a global
//! window per bot, per user token and per IP without authentication, `429` answers and
//! `X-RateLimit-*` headers
//! (<https://discord.com/developers/docs/topics/rate-limits>).
//!
//! Must not import the HTTP routing or the endpoints (`routes`, `mount`, `gate`, `api`, `oauth`,
//! `rest`, `cdn`, `control`, `server`); only `state` and `util`.

use crate::state::{State, Window};
use crate::util::{Resp, json, now_unix_f64, set_header};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

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

/// Headers to add to a successful answer.
pub(crate) type Headers = Vec<(&'static str, String)>;

/// The opaque bucket id: a hash of the bucket group and its limit, so routes that share a limit
/// share a bucket id, and the id says nothing about the route
/// (<https://discord.com/developers/docs/topics/rate-limits#header-format>).
pub(crate) fn bucket_hash(group: &str, limit: u32, window: Duration) -> String {
    let mut h = Sha256::new();
    h.update(group.as_bytes());
    h.update(b":");
    h.update(limit.to_le_bytes());
    h.update(window.as_millis().to_le_bytes());
    let d = h.finalize();
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The bucket group of the OAuth2 token endpoints, which the global limit leaves alone.
pub(crate) const TOKEN_GROUP: &str = "oauth2-token";

/// Applies the global and per-route limits to one request.
///
/// `identity` is `bot`, `user:<id>` or `ip:<addr>`. The global limit applies to each of them:
/// Discord's is per bot or per user token, and per IP address when no authorization header is
/// sent (<https://discord.com/developers/docs/topics/rate-limits#global-rate-limit>; the mock
/// counts a wrong token like a missing one). The OAuth2 token endpoints, which authenticate the
/// client with its credentials rather than a token, get only their per-route limit. Both limits
/// are checked before either is counted, so a refused request uses no slot of either. Returns
/// the headers to add, or a ready 429 answer.
pub(crate) fn check(
    st: &mut State,
    route: &str,
    group: &str,
    identity: &str,
    major: u64,
) -> Result<Headers, Resp> {
    if !st.rate.enabled {
        return Ok(Vec::new());
    }
    let now = Instant::now();
    let now_unix = now_unix_f64();
    let global = group != TOKEN_GROUP && st.rate.global_limit > 0;
    if global {
        check_global(st, now, identity, route)?;
    }
    let (limit, window) = st.rate.limit_for(route);
    let hash = bucket_hash(group, limit, window);
    sweep_windows_if_due(st, now);
    let w = st
        .windows
        .entry((hash.clone(), identity.to_owned(), major))
        .or_insert_with(|| Window::open(now, window));
    if now >= w.end {
        *w = Window::open(now, window);
    }
    let after = w.end.saturating_duration_since(now).as_secs_f64();
    let full = w.count >= limit;
    if !full {
        // Both limits passed: now the request counts against both.
        w.count += 1;
    }
    let remaining = if full { 0 } else { limit - w.count };
    let headers: Headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", format!("{:.3}", now_unix + after)),
        ("x-ratelimit-reset-after", format!("{after:.3}")),
        ("x-ratelimit-bucket", hash),
    ];
    if full {
        count_429(st, route);
        return Err(too_many(after, false, "user", Some(&headers)));
    }
    if global && let Some(g) = st.global_windows.get_mut(identity) {
        g.count += 1;
    }
    Ok(headers)
}

/// The global window of `identity`: opens or renews it, and refuses the request when it is full
/// (without counting it: the caller counts it once the per-route limit passed too). Ended
/// windows are dropped whenever the map has doubled since the last sweep, so that many users
/// or addresses cannot grow it without bound.
fn check_global(st: &mut State, now: Instant, identity: &str, route: &str) -> Result<(), Resp> {
    let (gl, gw) = (st.rate.global_limit, st.rate.global_window);
    if crate::state::sweep_due(st.global_windows.len(), st.global_windows_swept_len) {
        st.global_windows.retain(|_, w| now < w.end);
        st.global_windows_swept_len = st.global_windows.len();
        st.sweeps += 1;
    }
    let w = st
        .global_windows
        .entry(identity.to_owned())
        .or_insert_with(|| Window::open(now, gw));
    if now >= w.end {
        *w = Window::open(now, gw);
    }
    if w.count < gl {
        return Ok(());
    }
    let after = w.end.saturating_duration_since(now).as_secs_f64();
    count_429(st, route);
    Err(too_many(after, true, "global", None))
}

/// An injected `429` ([`crate::Fault::RateLimited`]) for `route` of bucket group `group`, with
/// the headers a real one carries: for a per-route or shared limit the route's
/// `X-RateLimit-Limit`, `-Remaining` (0), `-Reset`, `-Reset-After` and `-Bucket`, plus
/// `Retry-After` and `X-RateLimit-Scope`; for a global one `Retry-After`, `X-RateLimit-Global`
/// and `X-RateLimit-Scope`, as in Discord's example
/// (<https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit>).
pub(crate) fn injected(
    st: &State,
    route: &str,
    group: &str,
    retry_after: f64,
    global: bool,
    scope: &str,
) -> Resp {
    if global {
        return too_many(retry_after, true, scope, None);
    }
    let (limit, window) = st.rate.limit_for(route);
    let group = if group.is_empty() { route } else { group };
    let after = retry_after.max(0.0);
    let headers: Headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", "0".to_owned()),
        (
            "x-ratelimit-reset",
            format!("{:.3}", now_unix_f64() + after),
        ),
        ("x-ratelimit-reset-after", format!("{after:.3}")),
        ("x-ratelimit-bucket", bucket_hash(group, limit, window)),
    ];
    too_many(retry_after, false, scope, Some(&headers))
}

/// The major parameter comes from the path, so the window map can grow with arbitrary guild ids:
/// ended windows are dropped whenever it has doubled since the last sweep (amortized O(1)).
fn sweep_windows_if_due(st: &mut State, now: Instant) {
    if crate::state::sweep_due(st.windows.len(), st.windows_swept_len) {
        st.windows.retain(|_, w| now < w.end);
        st.windows_swept_len = st.windows.len();
        st.sweeps += 1;
    }
}

fn count_429(st: &mut State, route: &str) {
    st.stats.total_rate_limited += 1;
    *st.stats.rate_limited.entry(route.to_owned()).or_default() += 1;
}

/// A 429 answer as Discord sends it (<https://discord.com/developers/docs/topics/rate-limits>):
/// JSON body with `message`, float `retry_after` seconds, `global` and `code` (0: the docs list
/// `code` as optional, "an error code for some limits", while the spec's `RatelimitedResponse`
/// requires it, <https://github.com/discord/discord-api-spec>; 0 satisfies both); integer
/// `Retry-After` (rounded up); `X-RateLimit-Scope`; `X-RateLimit-Global: true` on global limits.
pub(crate) fn too_many(
    retry_after: f64,
    global: bool,
    scope: &str,
    headers: Option<&Headers>,
) -> Resp {
    let retry_after = (retry_after * 1000.0).round() / 1000.0;
    let message = if scope == "shared" {
        "The resource is being rate limited."
    } else {
        "You are being rate limited."
    };
    let mut r = json(
        429,
        &serde_json::json!({
            "message": message,
            "retry_after": retry_after,
            "global": global,
            "code": 0,
        }),
    );
    if let Some(hs) = headers {
        add_headers(&mut r, hs);
    }
    set_header(
        &mut r,
        "retry-after",
        &(retry_after.ceil() as u64).to_string(),
    );
    set_header(&mut r, "x-ratelimit-scope", scope);
    if global {
        set_header(&mut r, "x-ratelimit-global", "true");
    }
    r
}

/// Adds rate-limit headers to an answer.
pub(crate) fn add_headers(r: &mut Resp, hs: &Headers) {
    for (k, v) in hs {
        set_header(r, k, v);
    }
}
