//! Guild permission checks: "may this user manage that guild?", answered from the user's own
//! guild list (`GET /users/@me/guilds`, scope `guilds`), whose `permissions` are the user's
//! computed guild-level permissions
//! ([Discord: Get Current User Guilds](https://discord.com/developers/docs/resources/user#get-current-user-guilds)).
//! The guild owner and ADMINISTRATOR hold every permission
//! ([Discord: Permissions](https://discord.com/developers/docs/topics/permissions#permission-overwrites)); a
//! guild the user is not in is refused exactly like a missing permission
//! ([`Error::MissingPermissions`], 403; never a 404 that would tell guilds apart).
//!
//! Owns [`GuildAccess`] and [`DiscordSession::require_guild_permissions`]. Imports models, the
//! vocabulary, the error and sessions (through the parent module's [`Fetch`]); must not import
//! the client or a web framework (`axum::RequireGuildPermission` is the axum form).

use crate::error::Error;
use crate::models::{Guild, GuildId};
use crate::session::DiscordSession;
use crate::vocab::permissions::Permissions;

use super::Fetch;

/// A guild in which the user holds the permissions a check asked for: the guild as Discord
/// listed it and the user's effective permissions there.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GuildAccess {
    /// The guild as listed by `GET /users/@me/guilds` (id, name, icon, `owner`, and
    /// `permissions` exactly as Discord sent them).
    pub guild: Guild,
    /// The user's effective guild-level permissions: every permission (unknown bits kept) for
    /// the owner or an administrator, else Discord's `permissions`
    /// ([`Guild::permissions_effective`]).
    pub permissions: Permissions,
}

impl GuildAccess {
    /// The guild id.
    #[must_use]
    pub fn id(&self) -> GuildId {
        self.guild.id
    }

    /// The guild name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.guild.name
    }

    /// Whether the user owns the guild.
    #[must_use]
    pub fn is_owner(&self) -> bool {
        self.guild.owner
    }

    /// Whether `guild` (an entry of the user's guild list) grants every permission of
    /// `required`: always for the owner or ADMINISTRATOR, else when Discord's `permissions`
    /// contain them all. [`Permissions::empty()`] asks for membership only. No I/O: use it to
    /// show a link only where the guard would let the user through.
    ///
    /// ```
    /// use discord_oauth::api::GuildAccess;
    /// use discord_oauth::models::Guild;
    /// use discord_oauth::permissions::Permissions;
    /// let owner = Guild::from_value(serde_json::json!({
    ///     "id": "81384788765712384", "name": "Mine", "owner": true, "permissions": "36953089"
    /// })).unwrap();
    /// // Discord's bits for an owner may lack MANAGE_GUILD; the owner has it anyway.
    /// assert!(GuildAccess::allows(&owner, Permissions::MANAGE_GUILD));
    /// ```
    #[must_use]
    pub fn allows(guild: &Guild, required: Permissions) -> bool {
        guild.owner
            || guild.permissions.contains(Permissions::ADMINISTRATOR)
            || guild.permissions.contains(required)
    }

    /// Finds `guild_id` in the user's guild list and checks `required` there (no I/O).
    ///
    /// # Errors
    /// [`Error::MissingPermissions`] with the missing permissions, or with all of `required`
    /// when the user is not a member.
    pub fn check(
        guilds: &[Guild],
        guild_id: GuildId,
        required: Permissions,
    ) -> Result<Self, Error> {
        let Some(guild) = guilds.iter().find(|g| g.id == guild_id) else {
            return Err(Error::MissingPermissions(required));
        };
        if !Self::allows(guild, required) {
            return Err(Error::MissingPermissions(
                required.difference(guild.permissions),
            ));
        }
        Ok(Self {
            permissions: guild.permissions_effective(),
            guild: guild.clone(),
        })
    }
}

impl DiscordSession {
    /// Checks that the user holds every permission of `required` in guild `guild_id`, from the
    /// user's guild list (scope `guilds`) read per `fetch`, and returns the guild. The owner and
    /// ADMINISTRATOR hold every permission; not being a member is refused like a missing
    /// permission.
    ///
    /// `fetch` says how fresh the decision is: [`Fetch::Cached`] answers from the users cache
    /// (no call to Discord on a hit, but a permission taken away at Discord still counts until
    /// the cache entry expires); [`Fetch::Fresh`] asks Discord now (one `GET
    /// /users/@me/guilds`, which Discord rate-limits per user) and refreshes the cache: use it
    /// for decisions that must not be stale, typically before a change rather than on every page
    /// view. A refusal from the cache can be retried with [`Fetch::Fresh`] when the user may
    /// have just been given the permission.
    ///
    /// The check reads the user's own view (`permissions` of `GET /users/@me/guilds`: guild
    /// level, without channel overwrites); it does not ask the bot for the member and its roles.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::Fetch;
    /// use discord_oauth::permissions::Permissions;
    /// let guild = session
    ///     .require_guild_permissions(81384788765712384.into(), Permissions::MANAGE_GUILD, Fetch::Fresh)
    ///     .await?;
    /// println!("{} may be managed (permissions {})", guild.name(), guild.permissions);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingPermissions`] (403) when refused, [`Error::Unauthorized`],
    /// [`Error::MissingScope`] without `guilds`, [`Error::NotCached`] with
    /// [`Fetch::CacheOnly`], upstream errors.
    pub async fn require_guild_permissions(
        &self,
        guild_id: GuildId,
        required: Permissions,
        fetch: Fetch,
    ) -> Result<GuildAccess, Error> {
        let guilds = self.fetch_guilds(fetch).await?;
        GuildAccess::check(&guilds, guild_id, required)
    }
}
