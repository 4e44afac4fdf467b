//! Small helpers: responses, request bodies and path parameters, forms, HTML escaping, random
//! tokens, time formatting.
//!
//! A leaf: it must not import any other module of the crate.

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use std::time::{SystemTime, UNIX_EPOCH};

/// The response type of every handler.
pub(crate) type Resp = Response<Body>;

/// A JSON response with the given status.
pub(crate) fn json(status: u16, value: &serde_json::Value) -> Resp {
    raw(
        status,
        "application/json",
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// A response with an arbitrary content type and body.
pub(crate) fn raw(status: u16, content_type: &str, body: impl Into<Body>) -> Resp {
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// `204 No Content`, empty body.
pub(crate) fn no_content() -> Resp {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// An HTML page.
pub(crate) fn html(status: u16, body: String) -> Resp {
    let mut r = raw(status, "text/html; charset=utf-8", body);
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            // No `form-action`: browsers apply it to the redirect that follows the consent form,
            // which goes to the app's origin.
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    r.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// `302 Found` to `location`.
pub(crate) fn redirect(location: &str) -> Resp {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Sets a header (silently skips values that are not valid header text).
pub(crate) fn set_header(r: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

/// Discord's generic error body `{"message": ..., "code": ...}`
/// (<https://discord.com/developers/docs/reference#error-messages>).
pub(crate) fn discord_error(status: u16, code: u64, message: &str) -> Resp {
    json(
        status,
        &serde_json::json!({ "message": message, "code": code }),
    )
}

/// `401 {"message": "401: Unauthorized", "code": 0}`, Discord's answer to a missing, wrong, expired
/// or revoked token (<https://discord.com/developers/docs/reference#error-messages>).
pub(crate) fn unauthorized() -> Resp {
    discord_error(401, 0, "401: Unauthorized")
}

/// `404 {"message": "404: Not Found", "code": 0}` for unknown routes
/// (<https://discord.com/developers/docs/reference#error-messages>).
pub(crate) fn not_found() -> Resp {
    discord_error(404, 0, "404: Not Found")
}

/// `405 {"message": "405: Method Not Allowed", "code": 0}`
/// (<https://discord.com/developers/docs/reference#error-messages>).
pub(crate) fn method_not_allowed() -> Resp {
    discord_error(405, 0, "405: Method Not Allowed")
}

/// `400` Invalid Form Body (code 50035) with one field error
/// (<https://discord.com/developers/docs/reference#error-messages>).
///
/// The field errors' `code`s are strings such as `BASE_TYPE_REQUIRED`, as in the docs' example;
/// the spec's `Error` schema types every `code` as an integer
/// (<https://github.com/discord/discord-api-spec>). The fake follows the docs (and so does the
/// schema copy under `spec/`, see `spec/extract.py`).
pub(crate) fn form_error(field: &str, code: &str, message: &str) -> Resp {
    let mut errors = serde_json::Map::new();
    errors.insert(
        field.to_owned(),
        serde_json::json!({ "_errors": [ { "code": code, "message": message } ] }),
    );
    json(
        400,
        &serde_json::json!({ "code": 50035, "errors": errors, "message": "Invalid Form Body" }),
    )
}

/// `400` Invalid Form Body (code 50035) for an error about the whole request body, not one field:
/// `errors._errors[...]` (<https://discord.com/developers/docs/reference#error-messages>: a
/// top-level request error is `errors._errors`).
pub(crate) fn form_error_top(code: &str, message: &str) -> Resp {
    json(
        400,
        &serde_json::json!({
            "code": 50035,
            "errors": { "_errors": [ { "code": code, "message": message } ] },
            "message": "Invalid Form Body",
        }),
    )
}

/// The longest lifetime or window the mock accepts (10 years); longer values are capped, so that
/// `Instant + lifetime` can never overflow.
pub(crate) const MAX_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(10 * 365 * 24 * 3600);

/// `now + d`, capped at [`MAX_LIFETIME`] (never panics on overflow).
pub(crate) fn deadline(now: std::time::Instant, d: std::time::Duration) -> std::time::Instant {
    now.checked_add(d.min(MAX_LIFETIME)).unwrap_or(now)
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte); `None` when
/// the result is not UTF-8. Used for the HTTP Basic client id and secret (RFC 6749 §2.3.1).
pub(crate) fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An RFC 6749 error body for the OAuth2 token endpoints
/// (<https://discord.com/developers/docs/topics/oauth2#authorization-code-grant>).
pub(crate) fn oauth_error(status: u16, error: &str, description: Option<&str>) -> Resp {
    let v = match description {
        Some(d) => serde_json::json!({ "error": error, "error_description": d }),
        None => serde_json::json!({ "error": error }),
    };
    json(status, &v)
}

/// Parses `application/x-www-form-urlencoded` text into pairs.
pub(crate) fn parse_form(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input).into_owned().collect()
}

/// First value of `key` in parsed pairs.
pub(crate) fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `n` random characters from `[A-Za-z0-9]` (Discord's tokens look like this).
pub(crate) fn random_token(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // Fall back to the clock; tokens are for a loopback test server only.
        let seed = now_unix_f64().to_bits();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed.rotate_left(i as u32 % 64) as u8).wrapping_add(i as u8);
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// A random u64 (for snowflakes of created webhooks).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Seconds since the Unix epoch, with sub-second precision.
pub(crate) fn now_unix_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Formats Unix milliseconds as Discord's ISO8601 form `2021-01-23T02:33:17.017000+00:00`.
pub(crate) fn iso8601(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}000+00:00",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

#[cfg(test)]
/// The creation time of a snowflake, as ISO8601: `(id >> 22) + 1420070400000` milliseconds
/// (<https://discord.com/developers/docs/reference#snowflakes>).
pub(crate) fn snowflake_time(id: u64) -> String {
    iso8601(((id >> 22) + 1_420_070_400_000) as i64)
}

/// The largest request body read (1 MiB); a longer one is refused with `413`.
const MAX_BODY: usize = 1 << 20;

/// Reads a whole request body, or answers Discord's `413 {"code": 40005}` when it is too long.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, Resp> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| discord_error(413, 40005, "Request entity too large"))
}

/// The raw (not percent-decoded) value of path parameter `{name}` of `template` in `path`, found
/// by segment position: `path_param("/users/{user_id}", "/users/12", "user_id") == Some("12")`.
/// Both must have as many segments (the router guarantees it for the routes it matched).
pub(crate) fn path_param<'p>(template: &str, path: &'p str, name: &str) -> Option<&'p str> {
    template
        .split('/')
        .zip(path.split('/'))
        .find(|(t, _)| t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) == Some(name))
        .map(|(_, v)| v)
}

/// Parses a snowflake (decimal u64).
pub(crate) fn snowflake(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The 50035 error for a path or query value that is not a snowflake.
pub(crate) fn not_snowflake(field: &str, value: &str) -> Resp {
    form_error(
        field,
        "NUMBER_TYPE_COERCE",
        &format!("Value \"{value}\" is not snowflake."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_values() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            iso8601(1_611_369_197_017),
            "2021-01-23T02:33:17.017000+00:00"
        );
        // Discord epoch.
        assert_eq!(snowflake_time(0), "2015-01-01T00:00:00.000000+00:00");
    }

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            esc("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%3Ac%25").as_deref(), Some("a b:c%"));
        assert_eq!(form_decode("plain-id_1").as_deref(), Some("plain-id_1"));
        assert_eq!(form_decode("100%").as_deref(), Some("100%"));
        assert_eq!(form_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(form_decode("%ff"), None);
    }

    #[test]
    fn deadlines_never_overflow() {
        let now = std::time::Instant::now();
        assert_eq!(
            deadline(now, std::time::Duration::MAX),
            deadline(now, MAX_LIFETIME)
        );
        assert!(deadline(now, std::time::Duration::MAX) > now);
    }

    #[test]
    fn path_params_are_raw_segments() {
        let t = "/api/v10/guilds/{guild_id}/members/{user_id}";
        assert_eq!(
            path_param(t, "/api/v10/guilds/1/members/%32", "guild_id"),
            Some("1")
        );
        assert_eq!(
            path_param(t, "/api/v10/guilds/1/members/%32", "user_id"),
            Some("%32")
        );
        assert_eq!(
            path_param(t, "/api/v10/guilds//members/", "user_id"),
            Some("")
        );
        assert_eq!(path_param(t, "/api/v10/guilds/1/members/2", "nope"), None);
    }

    #[test]
    fn tokens_are_alphanumeric() {
        let t = random_token(30);
        assert_eq!(t.len(), 30);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(t, random_token(30));
    }
}
