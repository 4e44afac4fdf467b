//! Installing the application: [`InstallOptions`], a typed authorize request for the bot and
//! commands ([Discord: Bot Authorization Flow](https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow),
//! [Discord: Installation Context](https://discord.com/developers/docs/resources/application#installation-context)),
//! started by [`create_install`](DiscordSession::create_install) on the login machinery: the
//! same state, pending-login cookie, redirect URI and callback, which answers
//! [`Flow::Install`](super::Flow::Install).

use super::DiscordSession;
use super::login::LoginOptions;
use super::pending::PendingFlow;
use crate::error::Error;
use crate::models::{GuildId, IntegrationType};
use crate::vocab::permissions::Permissions;
use crate::vocab::scope::{Scope, Scopes};

/// Options of one install: scopes `bot` and/or `applications.commands` (both by default), the
/// bot's `permissions`, an optional pinned guild and the installation context.
///
/// ```
/// use discord_oauth::InstallOptions;
/// use discord_oauth::models::GuildId;
/// use discord_oauth::permissions::Permissions;
/// let options = InstallOptions::new()
///     .permissions(Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES)
///     .guild(GuildId::new(81384788765712384));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct InstallOptions {
    bot: bool,
    commands: bool,
    permissions: Option<Permissions>,
    guild_id: Option<GuildId>,
    integration_type: IntegrationType,
    extra: Vec<Scope>,
    next: Option<String>,
    data: Option<serde_json::Value>,
}

impl Default for InstallOptions {
    fn default() -> Self {
        Self {
            bot: true,
            commands: true,
            permissions: None,
            guild_id: None,
            integration_type: IntegrationType::GuildInstall,
            extra: Vec::new(),
            next: None,
            data: None,
        }
    }
}

impl InstallOptions {
    /// A guild install of the bot and its commands (`bot applications.commands`,
    /// `integration_type=0`), no permissions, the user picks the guild.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to ask for the `bot` scope (adds the bot user to the guild; default yes).
    pub fn bot(mut self, bot: bool) -> Self {
        self.bot = bot;
        self
    }

    /// Whether to ask for the `applications.commands` scope (default yes).
    pub fn applications_commands(mut self, commands: bool) -> Self {
        self.commands = commands;
        self
    }

    /// The bot's permissions in the guild (sent as the decimal integer `permissions`); needs
    /// the `bot` scope.
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// Pins the install to `guild` (`guild_id` with `disable_guild_select=true`). The callback
    /// then fails with [`Error::InstallGuildMismatch`] when Discord names another guild.
    pub fn guild(mut self, guild: GuildId) -> Self {
        self.guild_id = Some(guild);
        self
    }

    /// The installation context (`integration_type`; default
    /// [`IntegrationType::GuildInstall`]). A [`IntegrationType::UserInstall`] takes neither
    /// `bot`, permissions nor a guild.
    pub fn integration_type(mut self, integration_type: IntegrationType) -> Self {
        self.integration_type = integration_type;
        self
    }

    /// One more scope: `identify` (the install is then also a login), `webhook.incoming`...
    pub fn scope(mut self, scope: Scope) -> Self {
        self.extra.push(scope);
        self
    }

    /// Where to send the user after the callback (local paths only), as
    /// [`LoginOptions::next`].
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    /// Data carried through the install, as [`LoginOptions::data`].
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The login options this install amounts to, after checking that they make sense.
    fn into_login(self) -> Result<LoginOptions, Error> {
        let invalid = |m: &str| Err(Error::InvalidRequest(m.to_owned()));
        if !self.bot && !self.commands {
            return invalid("an install needs the `bot` or `applications.commands` scope");
        }
        let kind = self.integration_type;
        if !matches!(
            kind,
            IntegrationType::GuildInstall | IntegrationType::UserInstall
        ) {
            return invalid("integration_type must be 0 (guild install) or 1 (user install)");
        }
        if kind == IntegrationType::UserInstall
            && (self.bot || self.guild_id.is_some() || self.permissions.is_some())
        {
            return invalid(
                "a user install takes neither the `bot` scope, bot permissions nor a guild",
            );
        }
        if self.permissions.is_some() && !self.bot {
            return invalid("bot permissions need the `bot` scope");
        }
        let mut scopes = Scopes::new();
        if self.bot {
            scopes.insert(Scope::Bot);
        }
        if self.commands {
            scopes.insert(Scope::ApplicationsCommands);
        }
        scopes.extend(self.extra);
        let mut options = LoginOptions::new()
            .scopes(scopes)
            .param("integration_type", kind.value().to_string());
        if let Some(p) = self.permissions {
            options = options.permissions(p);
        }
        if let Some(g) = self.guild_id {
            options = options
                .param("guild_id", g.to_string())
                .param("disable_guild_select", "true");
        }
        if let Some(n) = self.next {
            options = options.next(n);
        }
        if let Some(d) = self.data {
            options = options.data(d);
        }
        Ok(options.install_flow(PendingFlow::Install {
            guild_id: self.guild_id.map(GuildId::get),
            integration_type: kind.value(),
            bot: self.bot,
        }))
    }
}

impl DiscordSession {
    /// Starts an install of the application: remembers it in the pending-login cookie as a
    /// login would (state, PKCE, `next`, `data`) and returns the authorize URL to redirect to
    /// (302), with `scope`, `permissions`, `integration_type` and, when pinned, `guild_id` and
    /// `disable_guild_select=true`. Its [`callback`](DiscordSession::callback) answers
    /// [`Flow::Install`](super::Flow::Install).
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::{InstallOptions, permissions::Permissions};
    /// let url = session.create_install(InstallOptions::new().permissions(Permissions::SEND_MESSAGES))?;
    /// # let _ = url; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for options that contradict each other (no scope, a user
    /// install with the bot, permissions without the bot) or oversized `data`.
    pub fn create_install(&self, options: InstallOptions) -> Result<url::Url, Error> {
        self.create_session(options.into_login()?)
    }
}
