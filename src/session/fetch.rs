//! The seed's model methods that call Discord, as methods of the session (models do no I/O):
//! `fetch_user`, `fetch_guilds`, `fetch_connections`, `add_to_guild`, plus the member,
//! authorization-info and role-connection endpoints. Each checks its scope locally first
//! ([`Error::MissingScope`], no call to Discord).

use http::Method;
use serde::Serialize;

use super::{DiscordSession, SessionRecord};
use crate::error::Error;
use crate::http::{Auth, Call};
use crate::models::{AuthorizationInfo, Guild, GuildId, GuildMember, RoleId, User, UserConnection};
use crate::scope::Scope;

/// Options of [`DiscordSession::add_to_guild`] (Discord's Add Guild Member body, discord-api.md
/// §2.2). Each needs a bot permission: `nick` MANAGE_NICKNAMES, `roles` MANAGE_ROLES, `mute`
/// MUTE_MEMBERS, `deaf` DEAFEN_MEMBERS.
#[derive(Debug, Clone, Default, Serialize)]
#[must_use]
pub struct AddMemberOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    nick: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<RoleId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mute: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deaf: Option<bool>,
}

impl AddMemberOptions {
    /// No options: just add the member.
    pub fn new() -> Self {
        Self::default()
    }

    /// The member's nickname.
    pub fn nick(mut self, nick: impl Into<String>) -> Self {
        self.nick = Some(nick.into());
        self
    }

    /// Roles to give.
    pub fn roles(mut self, roles: impl IntoIterator<Item = RoleId>) -> Self {
        self.roles = Some(roles.into_iter().collect());
        self
    }

    /// Server-mute the member.
    pub fn mute(mut self, mute: bool) -> Self {
        self.mute = Some(mute);
        self
    }

    /// Server-deafen the member.
    pub fn deaf(mut self, deaf: bool) -> Self {
        self.deaf = Some(deaf);
        self
    }
}

#[derive(Serialize)]
struct AddMemberBody<'a> {
    access_token: &'a str,
    #[serde(flatten)]
    options: &'a AddMemberOptions,
}

impl DiscordSession {
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        scope: Scope,
        route: &str,
    ) -> Result<T, Error> {
        self.require_scope(&scope).await?;
        self.send_call(Call::api(Method::GET, route)).await?.json()
    }

    /// The logged-in user (`GET /users/@me`, scope `identify`; `email` adds the address).
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::MissingScope`], upstream errors.
    pub async fn fetch_user(&self) -> Result<User, Error> {
        self.get_json(Scope::Identify, "/users/@me").await
    }

    /// The user's guilds (`GET /users/@me/guilds`, scope `guilds`). Discord returns up to 200,
    /// the most a user can join, so no pagination is needed.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds(&self) -> Result<Vec<Guild>, Error> {
        self.get_json(Scope::Guilds, "/users/@me/guilds").await
    }

    /// The user's connections (`GET /users/@me/connections`, scope `connections`).
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_connections(&self) -> Result<Vec<UserConnection>, Error> {
        self.get_json(Scope::Connections, "/users/@me/connections")
            .await
    }

    /// The user's member object in a guild (`GET /users/@me/guilds/{guild}/member`, scope
    /// `guilds.members.read`).
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user); [`Error::Api`] 404/10004 when not a member.
    pub async fn fetch_guild_member(&self, guild_id: GuildId) -> Result<GuildMember, Error> {
        self.get_json(
            Scope::GuildsMembersRead,
            &format!("/users/@me/guilds/{guild_id}/member"),
        )
        .await
    }

    /// The current authorization (`GET /oauth2/@me`): application, scopes, expiry, user.
    ///
    /// # Errors
    /// [`Error::Unauthorized`], upstream errors.
    pub async fn fetch_authorization_info(&self) -> Result<AuthorizationInfo, Error> {
        self.send_call(Call::api(Method::GET, "/oauth2/@me"))
            .await?
            .json()
    }

    /// Adds the user to a guild (the seed's `User.add_to_guild`): `PUT
    /// /guilds/{guild}/members/{user}` with the bot token and the user's `guilds.join` token.
    /// Returns the new member, or `None` when the user already was one (204).
    ///
    /// A `403` with code 50025 (Discord's answer for a stale user token there) refreshes the
    /// user's token once and tries again.
    ///
    /// # Errors
    /// [`Error::MissingScope`] without `guilds.join`, [`Error::NoBotToken`],
    /// [`Error::BotUnauthorized`], [`Error::Api`] (e.g. 50001 bot not in the guild).
    pub async fn add_to_guild(
        &self,
        guild_id: GuildId,
        options: AddMemberOptions,
    ) -> Result<Option<GuildMember>, Error> {
        let mut record = self.require_scope(&Scope::GuildsJoin).await?;
        if !self.client().config().has_bot_token() {
            return Err(Error::NoBotToken);
        }
        let now = self.now();
        let mut refreshed = false;
        if record.expires_at <= now + self.client().inner.settings.refresh_margin {
            record = self.refresh(&record).await?;
            refreshed = true;
        }
        let user_id = match record.user_id {
            Some(id) => id,
            None => self.fetch_user().await?.id.get(),
        };
        loop {
            let response = self.put_member(&record, guild_id, user_id, &options).await;
            match response {
                Err(Error::Api { code: 50025, .. })
                    if !refreshed && record.refresh_token.is_some() =>
                {
                    record = self.refresh(&record).await?;
                    refreshed = true;
                }
                Err(e) => return Err(e),
                Ok(resp)
                    if resp.status() == http::StatusCode::NO_CONTENT || resp.bytes().is_empty() =>
                {
                    return Ok(None);
                }
                Ok(resp) => return resp.json().map(Some),
            }
        }
    }

    async fn put_member(
        &self,
        record: &SessionRecord,
        guild_id: GuildId,
        user_id: u64,
        options: &AddMemberOptions,
    ) -> Result<crate::http::Response, Error> {
        let body = serde_json::to_vec(&AddMemberBody {
            access_token: record.access_token.secret(),
            options,
        })
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let mut call = Call::api(Method::PUT, format!("/guilds/{guild_id}/members/{user_id}"));
        call.identity = crate::ratelimit::Identity::Bot;
        call.body = crate::http::Body::Json(body.into());
        self.client().inner.http.send(call, Auth::Bot).await
    }

    /// Seeds caches with a user fetched at login.
    pub(super) async fn cache_fresh_user(&self, _record: &SessionRecord, _user: &User) {}

    /// Drops cached data of an authorization that ended.
    pub(super) fn forget_cached(&self, _record: &SessionRecord) {}
}
