//! discord-oauth (tour written below once the modules land).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod models;
pub mod permissions;
pub mod scope;
pub mod secret;
