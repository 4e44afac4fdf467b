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

/// [`check_same_origin`] on the three headers it reads.
pub(crate) fn check(
    fetch_site: Option<&HeaderValue>,
    origin: Option<&HeaderValue>,
    host: Option<&HeaderValue>,
    app_origins: &[String],
) -> Result<(), Error> {
    if let Some(site) = fetch_site.and_then(|v| v.to_str().ok()) {
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
    if origin.eq_ignore_ascii_case("null") {
        return Err(Error::CrossSite);
    }
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .ok_or(Error::CrossSite)?;
    let host = host.and_then(|v| v.to_str().ok()).map(str::trim);
    if host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host)) {
        return Ok(());
    }
    if app_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return Ok(());
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
        assert!(
            check_same_origin(
                &h(&[
                    ("host", "127.0.0.1:5000"),
                    ("origin", "http://127.0.0.1:5000")
                ]),
                &app
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
}
