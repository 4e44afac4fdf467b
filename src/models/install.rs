//! Installing the application: the installation context asked for
//! ([Discord: Installation Context](https://discord.com/developers/docs/resources/application#installation-context))
//! and what the callback of an install learned
//! ([Discord: Bot Authorization Flow](https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow)).

use super::{GuildId, IncomingWebhook, TokenGuild, int_enum};
use crate::permissions::Permissions;

int_enum! {
    /// Where an application is installed: the authorize URL's `integration_type`.
    pub enum IntegrationType: u8 {
        /// 0: installed to a guild (the `bot` scope adds the bot user there).
        GuildInstall = 0,
        /// 1: installed to the user's account (commands anywhere; no bot user, no guild).
        UserInstall = 1,
    }
}

/// What a completed install returned ([`Flow::Install`](crate::session::Flow::Install)).
/// Returned, never stored.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Install {
    /// The installation context asked for.
    pub integration_type: IntegrationType,
    /// The guild the bot was added to, from the token response's `guild` (authoritative).
    pub guild: Option<TokenGuild>,
    /// The guild's id: the token response's guild, else the redirect's `guild_id` hint.
    pub guild_id: Option<GuildId>,
    /// The bot permissions the user granted, as the redirect reported them (`permissions`;
    /// the token response does not repeat them). `None` when absent or malformed.
    pub permissions: Option<Permissions>,
    /// The incoming webhook created (`webhook.incoming`), with its id, channel and token.
    pub webhook: Option<IncomingWebhook>,
}

impl Install {
    /// Builds an install result (for tests of code that handles one).
    #[must_use]
    pub fn new(
        integration_type: IntegrationType,
        guild: Option<TokenGuild>,
        guild_id: Option<GuildId>,
        permissions: Option<Permissions>,
        webhook: Option<IncomingWebhook>,
    ) -> Self {
        Self {
            integration_type,
            guild,
            guild_id,
            permissions,
            webhook,
        }
    }

    /// The guild's name, when Discord sent the guild.
    #[must_use]
    pub fn guild_name(&self) -> Option<&str> {
        self.guild.as_ref().map(|g| g.name.as_str())
    }
}
