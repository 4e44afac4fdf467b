//! Guild permission checks: "may this user manage that guild?", answered from the user's own
//! guild list (`GET /users/@me/guilds`, scope `guilds`), whose `permissions` are the user's
//! computed guild-level permissions
//! ([Discord: Get Current User Guilds](https://discord.com/developers/docs/resources/user#get-current-user-guilds)).
//! The guild owner and ADMINISTRATOR hold every permission
//! ([Discord: Permissions](https://discord.com/developers/docs/topics/permissions#permission-overwrites)); a
//! guild the user is not in is refused exactly like a missing permission
//! ([`Error::MissingPermissions`], 403; never a 404 that would tell guilds apart).
//!
//!
//! The live form, [`DiscordSession::require_guild_permissions_by_bot`], asks the bot instead:
//! the guild (`owner_id`, roles and their permissions;
//! [Discord: Get Guild](https://discord.com/developers/docs/resources/guild#get-guild)) and the
//! member (its role ids;
//! [Discord: Get Guild Member](https://discord.com/developers/docs/resources/guild#get-guild-member)),
//! and computes the guild-level permissions as Discord does
//! ([Discord: Permission Hierarchy](https://discord.com/developers/docs/topics/permissions#permission-hierarchy)).
//!
//! Owns [`GuildAccess`], [`DiscordSession::require_guild_permissions`] and
//! [`DiscordSession::require_guild_permissions_by_bot`]. Imports models, the vocabulary, the
//! error, routes, the pipeline and sessions (through the parent module's [`Fetch`]); must not
//! import the client or a web framework (`axum::RequireGuildPermission` is the axum form).

use crate::error::Error;
use crate::http::{Auth, Call};
use crate::models::{Guild, GuildId, GuildMember, TokenGuild};
use crate::ratelimit::Identity;
use crate::route::Route;
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

    /// Computes `user`'s guild-level permissions from the bot's view of the guild and of the
    /// member, as Discord does: the owner holds every permission; otherwise the `@everyone`
    /// role (whose id is the guild's) OR every role of the member, and ADMINISTRATOR holds
    /// every permission
    /// ([Discord: Permission Hierarchy](https://discord.com/developers/docs/topics/permissions#permission-hierarchy)).
    /// Role ids the guild does not list are ignored. Then checks `required` (no I/O).
    ///
    /// ```
    /// use discord_oauth::api::GuildAccess;
    /// use discord_oauth::models::{GuildMember, TokenGuild};
    /// use discord_oauth::permissions::Permissions;
    /// let guild = TokenGuild::from_value(serde_json::json!({
    ///     "id": "1", "name": "G", "owner_id": "9",
    ///     "roles": [
    ///         {"id": "1", "name": "@everyone", "permissions": "1024"},
    ///         {"id": "5", "name": "Manager", "permissions": "32"}
    ///     ]
    /// })).unwrap();
    /// let member = GuildMember::from_value(serde_json::json!({"roles": ["5"]})).unwrap();
    /// let access = GuildAccess::check_member(&guild, &member, 7, Permissions::MANAGE_GUILD).unwrap();
    /// assert_eq!(access.permissions, Permissions::MANAGE_GUILD | Permissions::VIEW_CHANNEL);
    /// assert!(!access.is_owner());
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingPermissions`] with the missing permissions.
    pub fn check_member(
        guild: &TokenGuild,
        member: &GuildMember,
        user: u64,
        required: Permissions,
    ) -> Result<Self, Error> {
        let owner = guild.owner_id.is_some_and(|id| id.get() == user);
        let base = guild
            .roles
            .iter()
            .filter(|role| role.id.get() == guild.id.get() || member.roles.contains(&role.id))
            .fold(Permissions::empty(), |acc, role| acc | role.permissions);
        let permissions = base.effective_for_guild(owner);
        if !permissions.contains(required) {
            return Err(Error::MissingPermissions(required.difference(permissions)));
        }
        let listed = serde_json::json!({
            "id": guild.id.to_string(),
            "name": guild.name,
            "icon": guild.icon,
            "banner": guild.banner,
            "owner": owner,
            "permissions": permissions.bits().to_string(),
            "features": guild.features,
        });
        let guild = Guild::from_value(listed)
            .map_err(|_| Error::Internal("a checked guild could not be built"))?;
        Ok(Self { guild, permissions })
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
    /// level, without channel overwrites); it does not ask the bot for the member and its roles
    /// ([`require_guild_permissions_by_bot`](Self::require_guild_permissions_by_bot) does).
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

impl DiscordSession {
    /// Checks, live with the bot, that the user holds every permission of `required` in guild
    /// `guild_id`, and returns the guild: the bot reads the member (`GET
    /// /guilds/{guild}/members/{user}`, its role ids) and the guild (`GET /guilds/{guild}`,
    /// `owner_id` and the roles' permissions), and the permissions are computed as Discord does
    /// ([`GuildAccess::check_member`]). Nothing is cached: a role given or taken away a second
    /// ago counts. Use it for decisions that must not be stale; it needs no user scope (the
    /// user id is known from the login) but the bot must be in the guild.
    ///
    /// Not a member (Discord's 10007 Unknown Member), a guild Discord does not know (10004) and
    /// a guild the bot is not in (50001 Missing Access) are all refused like a missing
    /// permission ([`Error::MissingPermissions`], 403), so that the answer never tells guilds
    /// apart.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::permissions::Permissions;
    /// let guild = session
    ///     .require_guild_permissions_by_bot(81384788765712384.into(), Permissions::MANAGE_GUILD)
    ///     .await?;
    /// println!("{} may be managed (permissions {})", guild.name(), guild.permissions);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingPermissions`] (403) when refused, [`Error::Unauthorized`] without a live
    /// session, [`Error::NoBotToken`] (503, no call) without a bot token,
    /// [`Error::BotUnauthorized`], upstream errors.
    pub async fn require_guild_permissions_by_bot(
        &self,
        guild_id: GuildId,
        required: Permissions,
    ) -> Result<GuildAccess, Error> {
        let record = self.shared_record().await?.ok_or(Error::Unauthorized)?;
        if !self.sessions().config().has_bot_token() {
            return Err(Error::NoBotToken);
        }
        let user = match record.user_id {
            Some(id) => id,
            None => self.fetch_user(super::Fetch::Cached).await?.id.get(),
        };
        let refused = |e: Error| match e {
            Error::Api {
                code: 10004 | 10007 | 50001,
                ..
            } => Error::MissingPermissions(required),
            e => e,
        };
        // The member first: for someone who is not in the guild, one call decides.
        let member: GuildMember = self
            .bot_get(Route::guild_member(guild_id, user), user)
            .await
            .and_then(|r| r.json())
            .map_err(refused)?;
        let guild: TokenGuild = self
            .bot_get(Route::guild(guild_id), user)
            .await
            .and_then(|r| r.json())
            .map_err(refused)?;
        if guild.id != guild_id {
            return Err(Error::MissingPermissions(required));
        }
        GuildAccess::check_member(&guild, &member, user, required)
    }

    /// A `GET` with the bot token on behalf of `user` (whose share of the invalid-request
    /// budget a refusal counts against).
    async fn bot_get(&self, route: Route, user: u64) -> Result<crate::http::Response, Error> {
        let mut call = Call::api(route);
        call.identity = Identity::Bot;
        call.actor = Some(user);
        self.sessions().http().send(call, Auth::Bot).await
    }
}
