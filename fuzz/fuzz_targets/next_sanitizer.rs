//! The `next` sanitizer (what a login's `next` becomes in the callback's `Location`), checked
//! against WHATWG URL resolution (the `url` crate): whatever it returns, joined onto the app's
//! URL, stays on the app's origin; it is plain ASCII, a valid header value, at most 512 bytes;
//! and it accepts only what `is_local_path` accepts. `is_local_path` itself is checked the
//! same way on the raw input.
#![no_main]

use discord_oauth::__fuzz;
use discord_oauth::session::is_local_path;
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use url::Url;

/// Bases a `Location` may be resolved against: the callback's URL, deeper paths, https.
const BASES: &[&str] = &[
    "http://127.0.0.1:5000/callback?code=x&state=y",
    "https://app.example.com/deep/er/path/",
    "https://app.example.com:8443/a;b?c#d",
];

fn same_origin(base: &Url, next: &str) {
    let joined = base
        .join(next)
        .unwrap_or_else(|e| panic!("{next:?} does not resolve against {base}: {e}"));
    assert_eq!(
        joined.origin(),
        base.origin(),
        "{next:?} leaves {base}: {joined}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(next) = std::str::from_utf8(data) else {
        return;
    };
    let bases: Vec<Url> = BASES.iter().map(|b| Url::parse(b).unwrap()).collect();
    let local = is_local_path(next);
    if local {
        for base in &bases {
            same_origin(base, next);
        }
    }
    if let Some(out) = __fuzz::sanitize_next(next) {
        assert!(local, "{next:?} accepted but not a local path");
        assert!(out.is_ascii() && out.len() <= 512, "{out:?}");
        assert!(out.starts_with('/') && !out.starts_with("//"), "{out:?}");
        HeaderValue::from_str(&out).expect("a header value");
        for base in &bases {
            same_origin(base, &out);
            // The browser resolves the percent-encoded form to the same place as the raw one;
            // except trailing spaces, which WHATWG strips from a raw string but which the
            // sanitizer keeps as `%20` (the path the caller asked for).
            if next.ends_with(' ') {
                continue;
            }
            assert_eq!(
                base.join(&out).unwrap().as_str(),
                base.join(next).unwrap().as_str(),
                "{next:?} -> {out:?}"
            );
        }
    }
});
