//! The route guard: a `route` given to `request`/`bot_request` must be a relative path under the
//! API base. Absolute URLs, scheme-relative `//host` paths and `..` segments are refused, so a
//! token can never be sent to another host or outside `/api/v10`.

use crate::error::Error;

/// Validates `route` and splits off an inline query string.
///
/// Returns `(path, query)`, where `path` starts with `/`.
pub(crate) fn check_route(route: &str) -> Result<(String, Option<String>), Error> {
    let bad = |why: &str| Err(Error::InvalidRoute(format!("{why}: {}", truncate(route))));
    if route.is_empty() {
        return bad("empty route");
    }
    if route.contains("://") || route.starts_with("//") || route.starts_with("\\") {
        return bad("routes are paths under the API base, not URLs");
    }
    if route
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '#')
    {
        return bad("whitespace, control characters, backslashes and fragments are not allowed");
    }
    let (path, query) = match route.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (route, None),
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if path.contains("//") {
        return bad("empty path segments are not allowed");
    }
    for segment in path.split('/') {
        let lowered = segment.to_ascii_lowercase().replace("%2e", ".");
        if lowered == ".." || lowered == "." || segment.contains('%') && lowered.contains("%2f") {
            return bad("dot segments are not allowed");
        }
    }
    if path.contains(':') && path.split('/').nth(1).is_some_and(|s| s.contains(':')) {
        return bad("routes are paths under the API base, not URLs");
    }
    Ok((path, query))
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::check_route;

    #[test]
    fn accepts_relative_paths() {
        assert_eq!(check_route("/users/@me").unwrap().0, "/users/@me");
        assert_eq!(check_route("users/@me").unwrap().0, "/users/@me");
        let (p, q) = check_route("/users/@me/guilds?limit=5").unwrap();
        assert_eq!(
            (p.as_str(), q.as_deref()),
            ("/users/@me/guilds", Some("limit=5"))
        );
    }

    #[test]
    fn rejects_escapes() {
        for r in [
            "https://evil.example/users/@me",
            "http://127.0.0.1/x",
            "//evil.example/x",
            "/users/../../evil",
            "/users/%2e%2e/x",
            "/users/%2E%2E/x",
            "..",
            "/a//b",
            "/a/./b",
            "\\\\evil",
            "/a b",
            "/a\nb",
            "/a#frag",
            "",
            "javascript:alert(1)",
        ] {
            assert!(check_route(r).is_err(), "{r:?} should be rejected");
        }
    }
}
