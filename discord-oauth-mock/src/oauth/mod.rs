//! OAuth2 (<https://discord.com/developers/docs/topics/oauth2>), one module per endpoint:
//! [`authorize`] (`/oauth2/authorize`: the consent page and its form), [`token`]
//! (`/api/v10/oauth2/token`) and [`revoke`] (`/api/v10/oauth2/token/revoke`). The other modules
//! are what they share: the validated authorization request, the consent page, the page frame,
//! the scopes, and client authentication.
//!
//! Token rules (single-use codes, rotation, revocation) live in [`crate::state`]; JSON shapes in
//! [`crate::objects`]. Must not import `rest`, `cdn`, `control`, `routes`, `mount`, `gate` or
//! `server`.

pub(crate) mod authorize;
mod client;
mod consent;
mod pages;
mod request;
pub(crate) mod revoke;
mod scopes;
pub(crate) mod token;
