//! discord-oauth (tour written below once the modules land).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod models;
pub mod oauth;
pub mod permissions;
pub mod ratelimit;
pub mod scope;
pub mod secret;
pub mod session;

pub use client::{ApiRequest, DiscordOAuth, DiscordOAuthBuilder};
pub use config::Config;
pub use error::{Error, Result};
pub use scope::{Prompt, Scope, Scopes};
pub use session::{Callback, DiscordSession, LoginOptions};
