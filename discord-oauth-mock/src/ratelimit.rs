//! Discord-like rate limiting: fixed windows per (bucket, identity, major parameter) and a global
//! per-bot window, `429` answers and `X-RateLimit-*` headers
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

/// Applies the global and per-route limits to one request.
///
/// `identity` is `bot`, `user:<id>` or `ip:<addr>`; only `bot` is subject to the global limit
/// (Discord documents 50/s per bot and no number for Bearer tokens). Both limits are checked
/// before either is counted, so a refused request uses no slot of either. Returns the headers to
/// add, or a ready 429 answer.
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
    let global = identity == "bot" && st.rate.global_limit > 0;
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

/// The global per-bot window: opens or renews it, and refuses the request when it is full
/// (without counting it: the caller counts it once the per-route limit passed too).
fn check_global(st: &mut State, now: Instant, identity: &str, route: &str) -> Result<(), Resp> {
    let (gl, gw) = (st.rate.global_limit, st.rate.global_window);
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
/// JSON body with float `retry_after`
/// seconds and `global`; integer `Retry-After` (rounded up); `X-RateLimit-Scope`;
/// `X-RateLimit-Global: true` on global limits.
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
        &serde_json::json!({ "message": message, "retry_after": retry_after, "global": global }),
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
