//! The OAuth2 protocol with Discord: the authorize URL (state, PKCE S256, prompt, bot and
//! webhook parameters), and the three calls to the token endpoint — code exchange, refresh and
//! revoke — all sent through the crate's one HTTP pipeline, form-encoded (the only body type
//! Discord's token endpoints take, discord-api.md §1.4) with the client authenticated by HTTP
//! Basic.
//!
//! Why not the `oauth2` crate: Discord's token answers carry `guild` and `webhook`, name the type
//! `"Bearer"` (which `oauth2`'s `BasicTokenType` does not map), and a 429 on the token endpoint
//! must become [`Error::RateLimited`]; each call here is ten lines through the shared pipeline,
//! where the deadline, the limiter and the no-retry rule already apply.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::Error;
use crate::http::{Auth, Call, Http, Target};
use crate::models::{IncomingWebhook, TokenGuild};
use crate::permissions::Permissions;
use crate::scope::{Prompt, Scopes};
use crate::secret::{AccessToken, RefreshToken};

/// Authorize parameters the library sets itself; `params` cannot override them.
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

/// A PKCE verifier: 32 random bytes, base64url (43 characters, the minimum Discord accepts;
/// discord-api.md §1.6) and its S256 challenge.
pub(crate) fn pkce_pair() -> (String, String) {
    let verifier = crate::session::crypto::random_token::<32>();
    let challenge = pkce_challenge(&verifier);
    (verifier, challenge)
}

/// `base64url(sha256(verifier))`, unpadded (RFC 7636 §4.2, S256 — the only method Discord takes).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Everything that goes into one authorize URL.
pub(crate) struct AuthorizeParams<'a> {
    pub(crate) scopes: &'a Scopes,
    pub(crate) state: &'a str,
    pub(crate) code_challenge: Option<&'a str>,
    pub(crate) prompt: Prompt,
    pub(crate) permissions: Option<Permissions>,
    pub(crate) extra: &'a [(String, String)],
}

/// Builds `{base}/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state...`.
pub(crate) fn authorize_url(http: &Http, p: &AuthorizeParams<'_>) -> Url {
    let config = http.config();
    let mut url = config.authorize_url().clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id().to_string())
            .append_pair("redirect_uri", config.redirect_uri().as_str())
            .append_pair("scope", &p.scopes.to_string())
            .append_pair("state", p.state);
        // Passthrough scopes always show the consent screen; `prompt=none` would be refused.
        let prompt = if p.scopes.has_passthrough() {
            Prompt::Consent
        } else {
            p.prompt
        };
        q.append_pair("prompt", prompt.as_str());
        if let Some(challenge) = p.code_challenge {
            q.append_pair("code_challenge", challenge)
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

/// Discord's token response (discord-api.md §1.4).
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
        match &self.token_type {
            Some(t) if !t.eq_ignore_ascii_case("bearer") => Err(Error::Decode {
                route: "/oauth2/token".into(),
                reason: format!("unexpected token_type `{t}`"),
            }),
            _ if self.access_token.is_empty() => Err(Error::Decode {
                route: "/oauth2/token".into(),
                reason: "empty access_token".into(),
            }),
            _ => Ok(self),
        }
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

/// `grant_type=authorization_code`. Never retried.
pub(crate) async fn exchange_code(
    http: &Http,
    code: &str,
    verifier: Option<&str>,
) -> Result<TokenResponse, Error> {
    let redirect = http.config().redirect_uri().to_string();
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
    ];
    if let Some(v) = verifier {
        pairs.push(("code_verifier", v));
    }
    let call = Call::oauth(Target::Token, form(&pairs));
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
    let call = Call::oauth(
        Target::Token,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ]),
    );
    http.send_json::<TokenResponse>(call, Auth::Client)
        .await?
        .check()
}

/// Revokes the whole authorization: Discord ends every access and refresh token of the grant,
/// "regardless of the token and token_type_hint" (discord-api.md §1.5) — the user is logged
/// out of this application on every device.
pub(crate) async fn revoke(
    http: &Http,
    token: &str,
    hint: &str,
    deadline: tokio::time::Instant,
) -> Result<(), Error> {
    let mut call = Call::oauth(
        Target::Revoke,
        form(&[("token", token), ("token_type_hint", hint)]),
    );
    call.deadline = Some(deadline);
    http.send(call, Auth::Client).await.map(drop)
}
