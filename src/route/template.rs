//! Route templates and major parameters, the rate-limit keys of
//! [Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits).
//!
//! Before Discord names a route's bucket (`X-RateLimit-Bucket`), a call is keyed on
//! `METHOD + route template`, where the major parameter (`channel_id`, `guild_id`,
//! `webhook_id` + webhook token) is kept apart and every other id is replaced by a placeholder.
//! Once the bucket is known, the key is `bucket hash + major parameter` (+ the identity, since
//! limits apply per bot token and per user).

use std::fmt::Write as _;

/// The route template and major parameter of a path under the API base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteKey {
    /// `METHOD /template`, e.g. `GET /guilds/{guild}/members/{id}`.
    pub(crate) route: String,
    /// The major parameter, e.g. `g81384788765712384`; empty when the route has none.
    pub(crate) major: String,
    /// Interaction endpoints are exempt from the global limit ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits)).
    pub(crate) global_exempt: bool,
}

fn is_id(segment: &str) -> bool {
    !segment.is_empty() && segment.len() <= 20 && segment.bytes().all(|b| b.is_ascii_digit())
}

/// A path safe to log or to put in an error: webhook and interaction tokens become `{token}`
/// (ids stay, they are not secrets).
pub(crate) fn redact_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = String::with_capacity(path.len());
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let is_token = i >= 2
            && matches!(segments[i - 2], "webhooks" | "interactions")
            && is_id(segments[i - 1]);
        out.push_str(if is_token { "{token}" } else { segment });
    }
    out
}

/// Splits `path` (no query) into its template and major parameter.
pub(crate) fn route_key(method: &http::Method, path: &str) -> RouteKey {
    let mut route = String::with_capacity(path.len() + 8);
    route.push_str(method.as_str());
    route.push(' ');
    let mut major = String::new();
    let mut prev: &str = "";
    let mut prev_prev: &str = "";
    let mut first = true;
    let global_exempt = path.trim_start_matches('/').starts_with("interactions/");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        route.push('/');
        let templ: &str = if is_id(segment) {
            match prev {
                "guilds" | "channels" | "webhooks" if major.is_empty() => {
                    let tag = match prev {
                        "guilds" => 'g',
                        "channels" => 'c',
                        _ => 'w',
                    };
                    major.push(tag);
                    major.push_str(segment);
                    match prev {
                        "guilds" => "{guild}",
                        "channels" => "{channel}",
                        _ => "{webhook}",
                    }
                }
                _ => "{id}",
            }
        } else if (prev_prev == "webhooks" || prev_prev == "interactions") && is_id(prev) && !first
        {
            // A webhook or interaction token: part of the major parameter for webhooks
            // (`webhook_id + webhook_token`), never stored in clear (it is a secret).
            if prev_prev == "webhooks" && major.starts_with('w') {
                let _ = write!(
                    major,
                    ":{:016x}",
                    crate::vocab::secret::Fingerprint::of(segment).short()
                );
            }
            "{token}"
        } else if prev == "reactions" && segment != "@me" {
            "{emoji}"
        } else {
            segment
        };
        route.push_str(templ);
        prev_prev = prev;
        prev = segment;
        first = false;
    }
    if route.ends_with(' ') {
        route.push('/');
    }
    RouteKey {
        route,
        major,
        global_exempt,
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_path, route_key};
    use http::Method;

    #[test]
    fn tokens_are_redacted_from_paths() {
        assert_eq!(
            redact_path("/webhooks/123/s3cr3t-token/messages/9"),
            "/webhooks/123/{token}/messages/9"
        );
        assert_eq!(
            redact_path("/interactions/55/itoken/callback"),
            "/interactions/55/{token}/callback"
        );
        assert_eq!(redact_path("/users/@me/guilds"), "/users/@me/guilds");
    }

    #[test]
    fn majors_and_placeholders() {
        let k = route_key(
            &Method::PUT,
            "/guilds/81384788765712384/members/53908232506183680",
        );
        assert_eq!(k.route, "PUT /guilds/{guild}/members/{id}");
        assert_eq!(k.major, "g81384788765712384");
        let k = route_key(&Method::GET, "/users/@me/guilds/81384788765712384/member");
        assert_eq!(k.route, "GET /users/@me/guilds/{guild}/member");
        assert_eq!(k.major, "g81384788765712384");
        let k = route_key(&Method::GET, "/channels/1/messages/2");
        assert_eq!(
            (k.route.as_str(), k.major.as_str()),
            ("GET /channels/{channel}/messages/{id}", "c1")
        );
        let k = route_key(&Method::GET, "/users/@me");
        assert_eq!((k.route.as_str(), k.major.as_str()), ("GET /users/@me", ""));
        let k = route_key(&Method::POST, "/webhooks/9/secret-token");
        assert_eq!(k.route, "POST /webhooks/{webhook}/{token}");
        assert!(k.major.starts_with("w9:"));
        assert!(!k.major.contains("secret"));
        let k = route_key(&Method::POST, "/interactions/5/tok/callback");
        assert_eq!(k.route, "POST /interactions/{id}/{token}/callback");
        assert!(k.global_exempt);
        let k = route_key(
            &Method::PUT,
            "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me",
        );
        assert_eq!(
            k.route,
            "PUT /channels/{channel}/messages/{id}/reactions/{emoji}/@me"
        );
    }
}
