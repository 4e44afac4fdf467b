//! The OAuth2 protocol with Discord
//! ([Discord: OAuth2](https://discord.com/developers/docs/topics/oauth2)): the authorize URL
//! (state, PKCE S256, prompt, bot and webhook parameters), the callback's query parsed into a
//! typed [`CallbackQuery`], and the calls to the token endpoint — code exchange (with or without
//! `redirect_uri`), refresh, client credentials and revoke — all sent through the crate's one HTTP pipeline, form-encoded (the only body type
//! Discord's token endpoints take) with the client authenticated by HTTP Basic.
//!
//! Why not the `oauth2` crate: Discord's token answers carry `guild` and `webhook`, name the type
//! `"Bearer"` (which `oauth2`'s `BasicTokenType` does not map), and a 429 on the token endpoint
//! must become [`Error::RateLimited`](crate::Error::RateLimited); each call here is ten lines
//! through the shared pipeline, where the deadline, the limiter and the no-retry rule already
//! apply.
//!
//! Owns: the protocol's messages. Imports the pipeline, the configuration and the models; must
//! not import sessions, stores or cookies (what a login remembers is the session's business).

mod authorize;
mod callback;
mod grant;

pub use authorize::RESERVED_PARAMS;
pub(crate) use authorize::{AuthorizeParams, authorize_url, check_extra_params};
pub use callback::CallbackQuery;
pub(crate) use callback::is_plausible_code;
pub(crate) use grant::{
    TokenResponse, client_credentials, exchange_activity_code, exchange_code, refresh, revoke,
};
