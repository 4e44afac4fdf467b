//! The seed's model methods that call Discord, as methods of the session (models do no I/O):
//! `fetch_user`, `fetch_guilds`, `fetch_connections`, `add_to_guild`, plus the member,
//! authorization-info and role-connection endpoints. Each checks its scope locally first
//! ([`Error::MissingScope`], no call to Discord).

use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use serde::Serialize;

use super::{DiscordSession, SessionRecord};
use crate::cache::{CacheKey, CacheKind, CachedData, CachedValue};
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

    /// The logged-in user (`GET /users/@me`, scope `identify`; `email` adds the address),
    /// from the users cache when fresh enough (seeded at login; see [`crate::cache`]).
    /// Concurrent misses of one session share one call to Discord.
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::MissingScope`] (checked first: no call, no refresh),
    /// upstream errors.
    pub async fn fetch_user(&self) -> Result<Arc<User>, Error> {
        let v = self.cached(CacheKind::User, Fetch::Cached).await?;
        user_of(&v)
    }

    /// The logged-in user straight from Discord (bypassing the cache), stored in the cache.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_user_fresh(&self) -> Result<Arc<User>, Error> {
        let v = self
            .cached(CacheKind::User, Fetch::Fresh { store: true })
            .await?;
        user_of(&v)
    }

    /// The logged-in user as JSON bytes, from the cache when fresh: the hot path of a `/me`
    /// page (one cookie decrypt, one cache hit, bytes written as they are).
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_user_json_bytes(&self) -> Result<Bytes, Error> {
        Ok(self.cached(CacheKind::User, Fetch::Cached).await?.json)
    }

    /// The logged-in user rendered by `render` (e.g. a `/me` response body), memoized with the
    /// cache entry under the name `view`: `render` runs once per fetch from Discord, and every
    /// later request costs one cookie decrypt, one cache hit and a reference-count increment.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_user_rendered(
        &self,
        view: &'static str,
        render: impl FnOnce(&User) -> Bytes,
    ) -> Result<Bytes, Error> {
        let v = self.cached(CacheKind::User, Fetch::Cached).await?;
        let user = user_of(&v)?;
        Ok(v.rendered(view, |_| render(&user)))
    }

    /// The user's guilds rendered by `render`, memoized like
    /// [`fetch_user_rendered`](Self::fetch_user_rendered).
    ///
    /// # Errors
    /// As [`fetch_guilds`](Self::fetch_guilds).
    pub async fn fetch_guilds_rendered(
        &self,
        view: &'static str,
        render: impl FnOnce(&[Guild]) -> Bytes,
    ) -> Result<Bytes, Error> {
        let v = self.cached(CacheKind::Guilds, Fetch::Cached).await?;
        let guilds = guilds_of(&v)?;
        Ok(v.rendered(view, |_| render(&guilds)))
    }

    /// The user's connections rendered by `render`, memoized like
    /// [`fetch_user_rendered`](Self::fetch_user_rendered).
    ///
    /// # Errors
    /// As [`fetch_connections`](Self::fetch_connections).
    pub async fn fetch_connections_rendered(
        &self,
        view: &'static str,
        render: impl FnOnce(&[UserConnection]) -> Bytes,
    ) -> Result<Bytes, Error> {
        let v = self.cached(CacheKind::Connections, Fetch::Cached).await?;
        let connections = connections_of(&v)?;
        Ok(v.rendered(view, |_| render(&connections)))
    }

    /// The seed's `User.get_from_cache()`: the cached user of this session, if any and still
    /// fresh. Never calls Discord; `None` without a session or without a cached user.
    pub async fn get_user_from_cache(&self) -> Option<Arc<User>> {
        let v = self.peek(CacheKind::User).await?;
        user_of(&v).ok()
    }

    /// The seed's `User.fetch_from_api(guilds=False, connections=False)`: the user fresh from
    /// Discord, and optionally the guilds and connections too (also fresh); all go to the cache.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user); [`Error::MissingScope`] when `guilds` or
    /// `connections` is asked without its scope.
    pub async fn fetch_user_with(
        &self,
        guilds: bool,
        connections: bool,
    ) -> Result<FetchedUser, Error> {
        if guilds {
            self.require_scope(&Scope::Guilds).await?;
        }
        if connections {
            self.require_scope(&Scope::Connections).await?;
        }
        let user = self.fetch_user_fresh().await?;
        let guilds = if guilds {
            Some(self.fetch_guilds_fresh().await?)
        } else {
            None
        };
        let connections = if connections {
            Some(self.fetch_connections_fresh().await?)
        } else {
            None
        };
        Ok(FetchedUser {
            user,
            guilds,
            connections,
        })
    }

    /// The user's guilds (`GET /users/@me/guilds`, scope `guilds`), from the cache when fresh
    /// (default 60 s). Discord returns up to 200, the most a user can join, so no pagination is
    /// needed. Concurrent misses of one session share one call to Discord.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds(&self) -> Result<Arc<Vec<Guild>>, Error> {
        let v = self.cached(CacheKind::Guilds, Fetch::Cached).await?;
        guilds_of(&v)
    }

    /// The seed's `User.fetch_guilds()`: the guilds fresh from Discord, stored in the cache.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds_fresh(&self) -> Result<Arc<Vec<Guild>>, Error> {
        self.fetch_guilds_with_cache(true).await
    }

    /// The seed's `Guild.fetch_from_api(cache=True)`: the guilds fresh from Discord; `cache`
    /// says whether the cache is updated with them.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds_with_cache(&self, cache: bool) -> Result<Arc<Vec<Guild>>, Error> {
        let v = self
            .cached(CacheKind::Guilds, Fetch::Fresh { store: cache })
            .await?;
        guilds_of(&v)
    }

    /// The seed's `User.guilds` property: the cached guilds, if fresh. Never calls Discord.
    pub async fn cached_guilds(&self) -> Option<Arc<Vec<Guild>>> {
        guilds_of(&self.peek(CacheKind::Guilds).await?).ok()
    }

    /// The user's connections (`GET /users/@me/connections`, scope `connections`), from the
    /// cache when fresh (default 60 s).
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_connections(&self) -> Result<Arc<Vec<UserConnection>>, Error> {
        let v = self.cached(CacheKind::Connections, Fetch::Cached).await?;
        connections_of(&v)
    }

    /// The seed's `User.fetch_connections()`: the connections fresh from Discord, stored in the
    /// cache.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_connections_fresh(&self) -> Result<Arc<Vec<UserConnection>>, Error> {
        self.fetch_connections_with_cache(true).await
    }

    /// The seed's `UserConnection.fetch_from_api(cache=True)`: the connections fresh from
    /// Discord; `cache` says whether the cache is updated with them.
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_connections_with_cache(
        &self,
        cache: bool,
    ) -> Result<Arc<Vec<UserConnection>>, Error> {
        let v = self
            .cached(CacheKind::Connections, Fetch::Fresh { store: cache })
            .await?;
        connections_of(&v)
    }

    /// The seed's `User.connections` property: the cached connections, if fresh. Never calls
    /// Discord.
    pub async fn cached_connections(&self) -> Option<Arc<Vec<UserConnection>>> {
        connections_of(&self.peek(CacheKind::Connections).await?).ok()
    }

    /// A cached entry of this session, if fresh; no call to Discord.
    async fn peek(&self, kind: CacheKind) -> Option<CachedValue> {
        let record = self.record().await.ok().flatten()?;
        if !record.scopes.contains(&scope_of(kind)) {
            return None;
        }
        let v = self
            .client()
            .inner
            .users_cache
            .get(key_of(&record, kind))
            .await?;
        (v.expires_at > self.now()).then_some(v)
    }

    /// Reads `kind` through the cache (scope checked first).
    async fn cached(&self, kind: CacheKind, fetch: Fetch) -> Result<CachedValue, Error> {
        let record = self.require_scope_shared(&scope_of(kind)).await?;
        let client = self.client().inner.clone();
        let key = key_of(&record, kind);
        match fetch {
            Fetch::Fresh { store } => {
                let v = self.load_value(kind).await?;
                if store {
                    client.users_cache.insert(key, v.clone()).await;
                }
                Ok(v)
            }
            Fetch::Cached => {
                // A hit needs no load future (a large allocation): look first.
                if let Some(v) = client.users_cache.get(key).await
                    && v.expires_at > self.now()
                {
                    return Ok(v);
                }
                let v = client
                    .users_cache
                    .get_or_load(key, Box::pin(self.load_value(kind)))
                    .await?;
                if v.expires_at > self.now() {
                    return Ok(v);
                }
                // Past its TTL on our clock (whatever the cache implementation kept): reload.
                client.users_cache.invalidate(key).await;
                client
                    .users_cache
                    .get_or_load(key, Box::pin(self.load_value(kind)))
                    .await
            }
        }
    }

    /// One call to Discord for `kind`, decoded and re-serialized for the cache.
    async fn load_value(&self, kind: CacheKind) -> Result<CachedValue, Error> {
        let route = match kind {
            CacheKind::Guilds => "/users/@me/guilds",
            CacheKind::Connections => "/users/@me/connections",
            _ => "/users/@me",
        };
        let response = self.send_call(Call::api(Method::GET, route)).await?;
        let data = match kind {
            CacheKind::Guilds => CachedData::Guilds(Arc::new(response.json()?)),
            CacheKind::Connections => CachedData::Connections(Arc::new(response.json()?)),
            _ => CachedData::User(Arc::new(response.json()?)),
        };
        self.value_of(kind, data)
    }

    fn value_of(&self, kind: CacheKind, data: CachedData) -> Result<CachedValue, Error> {
        let json = match &data {
            CachedData::User(u) => serde_json::to_vec(&**u),
            CachedData::Guilds(g) => serde_json::to_vec(&**g),
            CachedData::Connections(c) => serde_json::to_vec(&**c),
        }
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let ttl = self.client().inner.cache_ttls.of(kind).as_secs();
        Ok(CachedValue::new(data, Bytes::from(json), self.now() + ttl))
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
        let record = self.require_scope(&Scope::GuildsJoin).await?;
        if !self.client().config().has_bot_token() {
            return Err(Error::NoBotToken);
        }
        let (mut record, mut refreshed) = self.refreshed_if_due(record).await?;
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
        // Refused joins count against this user's share of the invalid-request budget.
        call.actor = Some(user_id);
        call.body = crate::http::Body::Json(body.into());
        self.client().inner.http.send(call, Auth::Bot).await
    }

    /// Seeds the cache with the user fetched at login (so the first `/me` costs no call).
    pub(super) async fn cache_fresh_user(&self, record: &SessionRecord, user: &User) {
        if let Ok(v) = self.value_of(CacheKind::User, CachedData::User(Arc::new(user.clone()))) {
            self.client()
                .inner
                .users_cache
                .insert(key_of(record, CacheKind::User), v)
                .await;
        }
    }

    /// Drops the cached data of an authorization that ended (logout, revocation, re-login):
    /// its three keys, O(1).
    pub(super) async fn forget_cached(&self, record: &SessionRecord) {
        let cache = &self.client().inner.users_cache;
        for kind in CacheKind::ALL {
            cache.invalidate(key_of(record, kind)).await;
        }
    }
}

/// What [`DiscordSession::fetch_user_with`] returns (the seed's `User.fetch_from_api`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchedUser {
    /// The user.
    pub user: Arc<User>,
    /// The guilds, when asked for.
    pub guilds: Option<Arc<Vec<Guild>>>,
    /// The connections, when asked for.
    pub connections: Option<Arc<Vec<UserConnection>>>,
}

/// How a read uses the cache.
#[derive(Debug, Clone, Copy)]
enum Fetch {
    /// Cache first; a miss loads (coalesced) and stores.
    Cached,
    /// Straight from Discord; `store` updates the cache.
    Fresh { store: bool },
}

fn key_of(record: &SessionRecord, kind: CacheKind) -> CacheKey {
    CacheKey::new(record.id, record.user_id.unwrap_or(0), kind)
}

fn scope_of(kind: CacheKind) -> Scope {
    match kind {
        CacheKind::Guilds => Scope::Guilds,
        CacheKind::Connections => Scope::Connections,
        _ => Scope::Identify,
    }
}

fn mismatch() -> Error {
    Error::InvalidRequest("the users cache returned data of another kind".into())
}

fn user_of(v: &CachedValue) -> Result<Arc<User>, Error> {
    match &v.data {
        CachedData::User(u) => Ok(Arc::clone(u)),
        _ => Err(mismatch()),
    }
}

fn guilds_of(v: &CachedValue) -> Result<Arc<Vec<Guild>>, Error> {
    match &v.data {
        CachedData::Guilds(g) => Ok(Arc::clone(g)),
        _ => Err(mismatch()),
    }
}

fn connections_of(v: &CachedValue) -> Result<Arc<Vec<UserConnection>>, Error> {
    match &v.data {
        CachedData::Connections(c) => Ok(Arc::clone(c)),
        _ => Err(mismatch()),
    }
}
