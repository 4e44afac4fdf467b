//! Sessions: the per-browser handle, its encrypted cookies and the storage seams.
use crate::error::Error;
use crate::http::{Call, Response};

/// The per-request session handle (placeholder while the flow lands).
#[derive(Debug)]
pub struct DiscordSession {}

impl DiscordSession {
    pub(crate) async fn send_call(&self, _call: Call) -> Result<Response, Error> {
        Err(Error::Unauthorized)
    }
}
