//! `POST /api/v10/oauth2/token/revoke` (and `/api/v9`, `/api`): revoking any token of an
//! authorization revokes every access and refresh token the user gave the application, and
//! answers `200 {}`; an unknown token is not an error (RFC 7009;
//! <https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example>).
//!
//! Must not import `authorize` or `token`.

use super::client::{ClientAuth, client_auth, form};
use crate::api::Call;
use crate::util::{Resp, get, json, oauth_error};

/// The endpoint. A public client may revoke without its secret.
pub(crate) fn revoke(call: &mut Call<'_>) -> Resp {
    let form = form(call.parts, call.body);
    match client_auth(call.shared, call.parts, &form) {
        ClientAuth::Confidential => {}
        ClientAuth::NoSecret if call.st.public_client => {}
        _ => return oauth_error(401, "invalid_client", None),
    }
    let Some(token) = get(&form, "token") else {
        return oauth_error(400, "invalid_request", Some("Missing \"token\""));
    };
    let st = &mut *call.st;
    let user = st.access.get(token).map(|a| a.user_id).or_else(|| {
        st.refresh
            .get(token)
            .and_then(|g| st.grants.get(g))
            .map(|g| g.user_id)
    });
    if let Some(u) = user {
        st.revoke_user(u);
    }
    json(200, &serde_json::json!({}))
}
