//! The authorize URL: where `/login` sends the browser.

use url::Url;

use crate::config::Config;
use crate::error::Error;
use crate::vocab::permissions::Permissions;
use crate::vocab::scope::{Prompt, Scopes};
use crate::vocab::secret::{OAuthState, PkceVerifier};

/// Authorize parameters the library sets itself; extra parameters cannot override them.
pub const RESERVED_PARAMS: &[&str] = &[
    "state",
    "redirect_uri",
    "client_id",
    "response_type",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "permissions",
];

/// Refuses an extra authorize parameter that would override one the library sets.
///
/// # Errors
/// [`Error::InvalidRequest`] naming the parameter.
pub(crate) fn check_extra_params(params: &[(String, String)]) -> Result<(), Error> {
    for (k, _) in params {
        if RESERVED_PARAMS.iter().any(|r| r.eq_ignore_ascii_case(k))
            || k.starts_with("code_challenge")
        {
            return Err(Error::InvalidRequest(format!(
                "`{k}` is set by the library and cannot be overridden"
            )));
        }
    }
    Ok(())
}

/// Everything that goes into one authorize URL.
pub(crate) struct AuthorizeParams<'a> {
    pub(crate) scopes: &'a Scopes,
    pub(crate) state: &'a OAuthState,
    pub(crate) verifier: Option<&'a PkceVerifier>,
    pub(crate) prompt: Prompt,
    pub(crate) permissions: Option<Permissions>,
    pub(crate) extra: &'a [(String, String)],
}

/// Builds `{base}/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state...`
/// ([Discord: Authorization Code Grant](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant)).
pub(crate) fn authorize_url(config: &Config, p: &AuthorizeParams<'_>) -> Url {
    let mut url = config.authorize_url().clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id().to_string())
            .append_pair("redirect_uri", config.redirect_uri().as_str())
            .append_pair("scope", &p.scopes.to_string())
            .append_pair("state", p.state.secret());
        // Passthrough scopes always show the consent screen; `prompt=none` would be refused.
        let prompt = if p.scopes.has_passthrough() {
            Prompt::Consent
        } else {
            p.prompt
        };
        q.append_pair("prompt", prompt.as_str());
        if let Some(verifier) = p.verifier {
            q.append_pair("code_challenge", &verifier.challenge())
                .append_pair("code_challenge_method", "S256");
        }
        if let Some(perms) = p.permissions {
            q.append_pair("permissions", &perms.bits().to_string());
        }
        for (k, v) in p.extra {
            q.append_pair(k, v);
        }
    }
    // `form_urlencoded` writes spaces as `+`; Discord documents `%20` for `scope`.
    let fixed = url.as_str().replace('+', "%20");
    Url::parse(&fixed).unwrap_or(url)
}
