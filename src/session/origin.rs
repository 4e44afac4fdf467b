//! Cross-site request refusal for state-changing routes: a request whose `Origin` or
//! `Sec-Fetch-Site` shows another site is refused (403); a request carrying neither (a
//! non-browser client, which has no ambient cookies to abuse) passes. SameSite=Lax cookies
//! already stop most cross-site POSTs; this is the second wall.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};

use crate::error::Error;

/// Checks a state-changing request. `app_origins` are extra origins considered the same site
/// (e.g. the redirect URI's origin behind a proxy that rewrites `Host`).
///
/// # Errors
/// [`Error::CrossSite`] when the request shows another site.
pub fn check_same_origin(headers: &HeaderMap, app_origins: &[String]) -> Result<(), Error> {
    check(
        headers.get("sec-fetch-site"),
        headers.get(ORIGIN),
        headers.get(HOST),
        app_origins,
    )
}

/// [`check_same_origin`] on the three headers it reads. The request's `Origin` must equal,
/// as a whole (scheme, host and port), one of the application's origins, or the origin made
/// of the request's `Host` with the scheme of the application's origins. A `Sec-Fetch-Site`
/// that cannot be read counts as another site.
pub(crate) fn check(
    fetch_site: Option<&HeaderValue>,
    origin: Option<&HeaderValue>,
    host: Option<&HeaderValue>,
    app_origins: &[String],
) -> Result<(), Error> {
    if let Some(site) = fetch_site {
        let site = site.to_str().map_err(|_| Error::CrossSite)?;
        match site.trim().to_ascii_lowercase().as_str() {
            "same-origin" | "none" => {}
            // same-site (a sibling subdomain) and cross-site are both another site here.
            _ => return Err(Error::CrossSite),
        }
    }
    let Some(origin) = origin else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| Error::CrossSite)?.trim();
    let origin = match url::Url::parse(origin) {
        Ok(url) if !origin.eq_ignore_ascii_case("null") => url.origin(),
        _ => return Err(Error::CrossSite),
    };
    if !origin.is_tuple() {
        return Err(Error::CrossSite);
    }
    let apps: Vec<url::Origin> = app_origins
        .iter()
        .filter_map(|o| url::Url::parse(o.trim()).ok())
        .map(|u| u.origin())
        .collect();
    if apps.contains(&origin) {
        return Ok(());
    }
    let host = host.and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(host) = host.filter(|h| !h.is_empty() && !h.contains(['/', '@', '?', '#'])) {
        let same = apps.iter().any(|app| match app {
            url::Origin::Tuple(scheme, ..) => {
                url::Url::parse(&format!("{scheme}://{host}")).is_ok_and(|u| u.origin() == origin)
            }
            url::Origin::Opaque(_) => false,
        });
        if same {
            return Ok(());
        }
    }
    Err(Error::CrossSite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn cases() {
        let app = vec!["https://app.example".to_owned()];
        assert!(
            check_same_origin(&h(&[]), &app).is_ok(),
            "no Origin, no Sec-Fetch-Site"
        );
        // The request's own host, with the application's scheme.
        assert!(
            check_same_origin(
                &h(&[
                    ("host", "127.0.0.1:5000"),
                    ("origin", "http://127.0.0.1:5000")
                ]),
                &["http://localhost:5000".to_owned()]
            )
            .is_ok()
        );
        assert!(
            check_same_origin(
                &h(&[("host", "internal:80"), ("origin", "https://app.example")]),
                &app
            )
            .is_ok()
        );
        assert!(
            check_same_origin(
                &h(&[
                    ("host", "127.0.0.1:5000"),
                    ("origin", "http://evil.example")
                ]),
                &app
            )
            .is_err()
        );
        assert!(check_same_origin(&h(&[("origin", "null")]), &app).is_err());
        assert!(check_same_origin(&h(&[("sec-fetch-site", "cross-site")]), &app).is_err());
        assert!(check_same_origin(&h(&[("sec-fetch-site", "same-site")]), &app).is_err());
        assert!(check_same_origin(&h(&[("sec-fetch-site", "same-origin")]), &app).is_ok());
    }

    #[test]
    fn the_whole_origin_counts() {
        let app = vec!["https://app.example".to_owned()];
        // The right host with another scheme, or another port, is another origin.
        for (host, origin) in [
            ("app.example", "http://app.example"),
            ("app.example", "https://app.example:8443"),
            ("app.example:8443", "http://app.example:8443"),
            ("internal:80", "http://app.example"),
            ("app.example", "https://app.example.evil"),
        ] {
            assert!(
                check_same_origin(&h(&[("host", host), ("origin", origin)]), &app).is_err(),
                "{host} {origin}"
            );
        }
        for (host, origin) in [
            ("app.example", "https://app.example"),
            ("app.example:443", "https://app.example"),
            ("APP.example", "https://app.example:443"),
            ("other:1", "https://app.example/"),
        ] {
            assert!(
                check_same_origin(&h(&[("host", host), ("origin", origin)]), &app).is_ok(),
                "{host} {origin}"
            );
        }
    }

    #[test]
    fn an_unreadable_sec_fetch_site_is_another_site() {
        let app = vec!["http://127.0.0.1:5000".to_owned()];
        let mut m = HeaderMap::new();
        m.insert(
            "sec-fetch-site",
            HeaderValue::from_bytes(b"same-origin\xff").unwrap(),
        );
        assert!(check_same_origin(&m, &app).is_err());
        m.insert(
            "sec-fetch-site",
            HeaderValue::from_bytes("s\u{e4}me-origin".as_bytes()).unwrap(),
        );
        assert!(check_same_origin(&m, &app).is_err());
    }
}
