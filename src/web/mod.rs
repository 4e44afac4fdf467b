//! The framework-neutral half of the web integrations ([`axum`](crate::axum) and
//! [`actix`](crate::actix)): everything they do that does not depend on the framework, written
//! once here, so that each integration is only glue.
//!
//! - [`pages`]: content negotiation ([`prefers_html`]), the JSON error body, `Retry-After`, the
//!   built-in HTML error page and [`ErrorPages`] (JSON always, or a page for a browser);
//! - [`routes`]: the ready-made login, callback and logout routes ([`LoginRoutes`]): which
//!   request they serve and what they answer;
//! - [`guard`]: what the extractors and guards decide: [`Authorized`], [`SameOrigin`],
//!   [`RequireGuildPermission`] with its [`GuildRequirement`]s, and why a request is refused
//!   ([`Rejection`], [`UnauthorizedBehavior`]).
//!
//! Each integration turns these decisions into its framework's requests and responses (the
//! types here implement the framework's extractor traits in the integration's module).
//!
//! Owns: the neutral web decisions. Imports only lower layers (api, session, config, error,
//! models, vocab) and `http`; never a web framework, never `client`.

pub mod guard;
pub mod pages;
pub mod routes;

pub use guard::{
    Administrator, Authorized, GuildRequirement, ManageGuild, ManageGuildByBot, ManageGuildFresh,
    Rejection, RequireGuildPermission, SameOrigin, UnauthorizedBehavior, guild_id_from_path,
    guild_id_in_path,
};
pub use pages::{ErrorPageFn, ErrorPages, accepts_html, error_page_html, prefers_html};
pub use routes::LoginRoutes;
