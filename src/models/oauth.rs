//! OAuth2-related objects: the current authorization (`GET /oauth2/@me`), a partial application,
//! and the incoming webhook of the `webhook.incoming` flow.

use std::hash::{Hash, Hasher};

use url::Url;

use super::{
    ApplicationId, Cdn, ChannelId, GuildId, ImageFormat, User, WebhookId, model, null_default,
    opt_decimal_flags, opt_int64_flags,
};
use crate::scope::{Scope, Scopes};
use crate::secret::WebhookToken;

model! {
    /// A (partial) application object
    /// ([Discord: Application Object](https://discord.com/developers/docs/resources/application#application-object)).
    /// Only `id` is required: the
    /// partial forms (in `GET /oauth2/@me`, in integrations) carry a few fields only.
    ///
    /// Equality and hashing compare the id only.
    pub struct Application {
        /// The application id (the OAuth2 `client_id`).
        pub id: ApplicationId,
        /// The name.
        #[serde(default)]
        pub name: Option<String>,
        /// Icon hash.
        #[serde(default)]
        pub icon: Option<String>,
        /// Description.
        #[serde(default)]
        pub description: Option<String>,
        /// Whether anyone can add the bot.
        #[serde(default)]
        pub bot_public: Option<bool>,
        /// Whether adding the bot requires a full code grant.
        #[serde(default)]
        pub bot_require_code_grant: Option<bool>,
        /// Hex public key for interaction signatures.
        #[serde(default)]
        pub verify_key: Option<String>,
        /// Application flags
        /// ([Discord: Application Flags](https://discord.com/developers/docs/resources/application#application-object-application-flags)).
        #[serde(default, deserialize_with = "opt_int64_flags")]
        pub flags: Option<u64>,
        /// The same flags as a decimal string of any length (`flags_new`): its low 64 bits;
        /// a longer value stays whole in [`Application::to_json`].
        #[serde(default, deserialize_with = "opt_decimal_flags")]
        pub flags_new: Option<u64>,
        /// Registered redirect URIs.
        #[serde(default)]
        pub redirect_uris: Option<Vec<String>>,
        /// The application's bot user.
        #[serde(default)]
        pub bot: Option<User>,
        /// Approximate number of guilds the app is in.
        #[serde(default)]
        pub approximate_guild_count: Option<u64>,
    }
}

impl Application {
    /// The icon URL (PNG; application icons are never animated); `None` without an icon.
    #[must_use]
    pub fn icon_url(&self, cdn: &Cdn) -> Option<Url> {
        let hash = self.icon.as_deref()?;
        cdn.application_icon(self.id, hash, ImageFormat::Png, None)
            .ok()
    }
}

impl PartialEq for Application {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Application {}

impl Hash for Application {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

model! {
    /// The current authorization (`GET /oauth2/@me`, any Bearer token;
    /// [Discord: Get Current Authorization Information](https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information)).
    pub struct AuthorizationInfo {
        /// The application the token belongs to (partial).
        pub application: Application,
        /// The scopes the user authorized (a JSON array here, unlike the token response).
        #[serde(default, deserialize_with = "null_default")]
        pub scopes: Scopes,
        /// When the access token expires, ISO 8601 (e.g.
        /// `2021-01-23T02:33:17.017000+00:00`).
        #[serde(default, deserialize_with = "null_default")]
        pub expires: String,
        /// The user, only if the `identify` scope was authorized.
        #[serde(default)]
        pub user: Option<User>,
    }
}

impl AuthorizationInfo {
    /// Whether the authorization includes `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }
}

/// Authorizations are equal when they carry the same payload.
impl PartialEq for AuthorizationInfo {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

model! {
    /// The webhook created by a `webhook.incoming` authorization, from the token response's
    /// `webhook`
    /// ([Discord: Webhook Token Response Example](https://discord.com/developers/docs/topics/oauth2#webhooks-webhook-token-response-example)).
    /// A new webhook is created on every authorization: store [`IncomingWebhook::id`] and
    /// [`IncomingWebhook::token`].
    ///
    /// The token is a [`WebhookToken`], redacted in `Debug`. The raw payload (and so
    /// [`IncomingWebhook::to_json`], `Serialize` and [`IncomingWebhook::url`]) contains the
    /// token: treat it as a secret.
    pub struct IncomingWebhook {
        /// The webhook id.
        pub id: WebhookId,
        /// Webhook type: 1 incoming, 2 channel follower, 3 application; JSON `type`.
        #[serde(default, rename = "type", deserialize_with = "null_default")]
        pub kind: u8,
        /// The default name.
        #[serde(default)]
        pub name: Option<String>,
        /// The default avatar hash.
        #[serde(default)]
        pub avatar: Option<String>,
        /// The channel the webhook posts to.
        pub channel_id: ChannelId,
        /// The guild of the channel.
        #[serde(default)]
        pub guild_id: Option<GuildId>,
        /// The application that created the webhook.
        #[serde(default)]
        pub application_id: Option<ApplicationId>,
        /// The secret token used to execute the webhook.
        pub token: WebhookToken,
    }
}

impl IncomingWebhook {
    /// The execute URL Discord returned (`https://discord.com/api/webhooks/{id}/{token}`). It
    /// contains the token: never log it.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.raw.get("url").and_then(serde_json::Value::as_str)
    }
}

impl PartialEq for IncomingWebhook {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for IncomingWebhook {}
