//! The callback: Discord's redirect back to `redirect_uri`, with `code` and `state` (and, in the
//! bot flow, `guild_id` and `permissions`), or `error` and `error_description`
//! ([Discord: Authorization Code Grant](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-redirect-url-example)).

use crate::error::Error;

/// The callback's query string, parsed once. Unknown parameters are ignored; a repeated
/// parameter keeps its last value. `Debug` never shows the code or the state.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackQuery {
    /// The authorization code (a credential: never logged).
    pub code: Option<String>,
    /// The state (a credential: never logged).
    pub state: Option<String>,
    /// An RFC 6749 error code (`access_denied` when the user pressed Cancel).
    pub error: Option<String>,
    /// The error's description.
    pub error_description: Option<String>,
    /// Bot flow: the guild the bot was added to, as a hint (the token response's `guild` is
    /// authoritative).
    pub guild_id: Option<String>,
    /// Bot flow: the permissions the user granted the bot (a decimal integer).
    pub permissions: Option<String>,
}

impl std::fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("guild_id", &self.guild_id)
            .field("permissions", &self.permissions)
            .finish()
    }
}

impl CallbackQuery {
    /// Parses a query string (`code=...&state=...`), without the leading `?`.
    #[must_use]
    pub fn parse(query: &str) -> Self {
        let mut q = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match &*k {
                "code" => &mut q.code,
                "state" => &mut q.state,
                "error" => &mut q.error,
                "error_description" => &mut q.error_description,
                "guild_id" => &mut q.guild_id,
                "permissions" => &mut q.permissions,
                _ => continue,
            };
            *slot = Some(v.into_owned());
        }
        q
    }

    /// The error Discord redirected with, as a typed [`Error`]: [`Error::AccessDenied`] for
    /// Cancel, [`Error::OAuth`] for anything else (answered 502: Discord refused the
    /// authorization). The values come from the browser's query string, so they reach the
    /// error (and any log of it) escaped: no raw CR, LF, ESC or other control character, and
    /// at most 256 bytes each.
    #[must_use]
    pub fn error(&self) -> Option<Error> {
        let error = escaped(self.error.as_deref()?);
        let description = self.error_description.as_deref().map(escaped);
        Some(if error == "access_denied" {
            Error::AccessDenied { description }
        } else {
            Error::OAuth {
                status: http::StatusCode::BAD_REQUEST,
                error,
                description,
            }
        })
    }

    /// The non-empty state, if any.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref().filter(|s| !s.is_empty())
    }

    /// The non-empty code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref().filter(|c| !c.is_empty())
    }
}

/// Longest `error` or `error_description` value kept (escaped and cut beyond).
pub(crate) const MAX_ERROR_LEN: usize = 256;

/// A value from the query string made safe for logs: control and other non-printable
/// characters escaped (`\n`, `\u{1b}`...), cut to [`MAX_ERROR_LEN`] bytes.
fn escaped(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        // Escapes backslashes, quotes, control and other non-printable characters (U+2028...).
        let piece: String = c.escape_debug().collect();
        if out.len() + piece.len() > MAX_ERROR_LEN {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// Whether `code` can be an authorization code: 1 to 512 characters of `[A-Za-z0-9._~-]`
/// (Discord's codes are 30 alphanumeric characters). Anything else is refused before a token
/// request is spent on it.
pub(crate) fn is_plausible_code(code: &str) -> bool {
    (1..=512).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts() {
        let q = CallbackQuery::parse("code=abc&state=xyz&foo=1");
        assert_eq!((q.code(), q.state()), (Some("abc"), Some("xyz")));
        assert!(q.error().is_none());
        let shown = format!("{q:?}");
        assert!(!shown.contains("abc") && !shown.contains("xyz"), "{shown}");
        let q = CallbackQuery::parse("error=access_denied&state=");
        assert!(matches!(q.error(), Some(Error::AccessDenied { .. })));
        assert_eq!(q.state(), None);
        let q = CallbackQuery::parse("error=invalid_scope&error_description=bad%20scope");
        assert!(
            matches!(q.error(), Some(Error::OAuth { ref error, .. }) if error == "invalid_scope")
        );
    }

    #[test]
    fn error_values_are_escaped() {
        let q = CallbackQuery::parse(
            "error=x%0D%0Ainjected%1B%5B31m&error_description=a%0Ab%E2%80%A8c%5C",
        );
        let Some(Error::OAuth {
            error, description, ..
        }) = q.error()
        else {
            panic!("an OAuth error");
        };
        let description = description.unwrap();
        for s in [&error, &description] {
            assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
            assert!(!s.contains('\u{2028}'), "{s:?}");
        }
        assert_eq!(error, "x\\r\\ninjected\\u{1b}[31m");
        assert_eq!(description, "a\\nb\\u{2028}c\\\\");
        let long = CallbackQuery::parse(&format!("error={}", "%0A".repeat(1000)));
        let Some(Error::OAuth { error, .. }) = long.error() else {
            panic!("an OAuth error");
        };
        assert!(error.len() <= MAX_ERROR_LEN);
    }

    #[test]
    fn plausible_codes() {
        assert!(is_plausible_code("NhhvTDYsFcdgNLnnLijcl7Ku7bEEeee"));
        assert!(is_plausible_code("a.b_c~d-e"));
        assert!(is_plausible_code(&"a".repeat(512)));
        for bad in [
            "",
            "bo gus",
            "a\nb",
            "é",
            "a/b",
            "a+b",
            "a%20b",
            &"a".repeat(513),
        ] {
            assert!(!is_plausible_code(bad), "{bad:?}");
        }
    }
}
