//! The token endpoint: code exchange, refresh and revoke, each exactly one attempt.

use serde::Deserialize;

use crate::error::Error;
use crate::http::{Auth, Body, Call, Http};
use crate::models::{IncomingWebhook, TokenGuild};
use crate::route::Route;
use crate::vocab::scope::Scopes;
use crate::vocab::secret::{AccessToken, PkceVerifier, RefreshToken};

/// How long an access token lives when Discord's answer omits `expires_in`: 7 days, the value
/// Discord sends
/// ([Discord: Access Token Response](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-response)).
pub(crate) const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 604_800;

/// The longest access-token lifetime believed (400 days): a larger `expires_in` is cut to it.
pub(crate) const MAX_TOKEN_LIFETIME_SECS: u64 = 400 * 24 * 3600;

/// Discord's token response.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: AccessToken,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
    #[serde(default)]
    pub(crate) refresh_token: Option<RefreshToken>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) guild: Option<TokenGuild>,
    #[serde(default)]
    pub(crate) webhook: Option<IncomingWebhook>,
}

impl TokenResponse {
    pub(crate) fn check(self) -> Result<Self, Error> {
        let malformed = |reason: String| {
            Err(Error::Decode {
                route: "/oauth2/token".into(),
                reason,
            })
        };
        if let Some(t) = &self.token_type
            && !t.eq_ignore_ascii_case("bearer")
        {
            return malformed(format!("unexpected token_type `{t}`"));
        }
        if self.access_token.is_empty() {
            return malformed("empty access_token".into());
        }
        // A token travels in a header (`Authorization: Bearer ...`) and in form bodies: one
        // that is not visible ASCII would fail there, after the session was saved.
        let header_safe = |t: &str| t.bytes().all(|b| b.is_ascii_graphic());
        if !header_safe(self.access_token.secret())
            || !self
                .refresh_token
                .as_ref()
                .is_none_or(|t| header_safe(t.secret()))
        {
            return malformed("a token with characters a header cannot carry".into());
        }
        Ok(self)
    }

    /// When the access token expires (Unix seconds), seen at `now`. Discord's number is not
    /// trusted beyond [`MAX_TOKEN_LIFETIME_SECS`] (and never overflows).
    pub(crate) fn expires_at(&self, now: u64) -> u64 {
        let lifetime = self
            .expires_in
            .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS)
            .min(MAX_TOKEN_LIFETIME_SECS);
        now.saturating_add(lifetime)
    }

    /// The granted scopes; unknown or malformed entries are skipped, never trusted.
    pub(crate) fn scopes(&self) -> Scopes {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split_ascii_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// One call to the token endpoint with a form body, client-authenticated, never retried.
fn token_call(route: Route, pairs: &[(&str, &str)]) -> Call {
    Call::oauth(route, Body::Form(form(pairs)))
}

/// `grant_type=authorization_code`. Never retried: a second exchange of the same code fails.
pub(crate) async fn exchange_code(
    http: &Http,
    code: &str,
    verifier: Option<&PkceVerifier>,
) -> Result<TokenResponse, Error> {
    let redirect = http.config().redirect_uri().to_string();
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
    ];
    if let Some(v) = verifier {
        pairs.push(("code_verifier", v.secret()));
    }
    let call = token_call(Route::token(), &pairs);
    http.send_json::<TokenResponse>(call, Auth::Client)
        .await?
        .check()
}

/// `grant_type=authorization_code` without `redirect_uri`: the code of an Activity, which the
/// Embedded App SDK's `authorize` command issued without a redirect
/// ([Discord: How Activities Work](https://discord.com/developers/docs/activities/how-activities-work)).
/// Never retried, as [`exchange_code`].
pub(crate) async fn exchange_activity_code(
    http: &Http,
    code: &str,
) -> Result<TokenResponse, Error> {
    let call = token_call(
        Route::token(),
        &[("grant_type", "authorization_code"), ("code", code)],
    );
    http.send_json::<TokenResponse>(call, Auth::Client)
        .await?
        .check()
}

/// `grant_type=client_credentials`: a token for the application's owner with `scopes`, no
/// refresh token
/// ([Discord: Client Credentials Grant](https://discord.com/developers/docs/topics/oauth2#client-credentials-grant)).
/// One attempt: the caller decides whether to ask again.
pub(crate) async fn client_credentials(
    http: &Http,
    scopes: &Scopes,
) -> Result<TokenResponse, Error> {
    let scope = scopes.to_string();
    let call = token_call(
        Route::token(),
        &[("grant_type", "client_credentials"), ("scope", &scope)],
    );
    http.send_json::<TokenResponse>(call, Auth::Client)
        .await?
        .check()
}

/// `grant_type=refresh_token`. Never retried: Discord rotates the refresh token, so a second
/// attempt after the first reached Discord would fail with `invalid_grant`.
pub(crate) async fn refresh(
    http: &Http,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse, Error> {
    let call = token_call(
        Route::token(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ],
    );
    http.send_json::<TokenResponse>(call, Auth::Client)
        .await?
        .check()
}

/// Revokes the whole authorization: Discord ends every access and refresh token of the grant,
/// "regardless of the token and token_type_hint"
/// ([Discord: Token Revocation](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example))
/// — the user is logged out of this application on every device.
pub(crate) async fn revoke(
    http: &Http,
    token: &str,
    hint: &str,
    deadline: tokio::time::Instant,
) -> Result<(), Error> {
    let mut call = token_call(
        Route::revoke(),
        &[("token", token), ("token_type_hint", hint)],
    );
    call.deadline = Some(deadline);
    http.send(call, Auth::Client).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_expires_in_is_cut_and_never_overflows() {
        let answer = |expires_in: u64| -> TokenResponse {
            serde_json::from_value(serde_json::json!({
                "access_token": "a", "token_type": "Bearer", "expires_in": expires_in,
            }))
            .unwrap()
        };
        assert_eq!(answer(u64::MAX).expires_at(0), MAX_TOKEN_LIFETIME_SECS);
        assert_eq!(answer(u64::MAX).expires_at(u64::MAX - 5), u64::MAX);
        assert_eq!(answer(604_800).expires_at(u64::MAX), u64::MAX);
        assert_eq!(answer(604_800).expires_at(10), 604_810);
    }
}
