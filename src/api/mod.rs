//! The Discord resources a session reads and acts on, as methods of [`DiscordSession`]
//! (models do no I/O): the user, guilds and connections (one method each, with a [`Fetch`]
//! policy for the users cache), the member and authorization-info endpoints, adding the user to
//! a guild, the user's role connection (linked roles), guild permission checks
//! ([`require_guild_permissions`](DiscordSession::require_guild_permissions), [`GuildAccess`]),
//! and [`request`](DiscordSession::request) for any other route. Each checks its scope
//! locally first ([`Error::MissingScope`], no call to Discord).
//!
//! Owns: what each resource costs and where it comes from. Imports sessions, the cache, routes
//! and the pipeline; must not import the client or a web framework.

mod role_connections;

pub(crate) use role_connections::{fetch_metadata, register_metadata};

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use serde::Serialize;

use crate::cache::{self, CacheKey, CacheKind, CachedData, CachedValue};
use crate::error::Error;
use crate::http::{Auth, Body, Call, Response};
use crate::models::{AuthorizationInfo, Guild, GuildId, GuildMember, RoleId, User, UserConnection};
use crate::ratelimit::Identity;
use crate::request::{ApiRequest, Sender, UserCalls};
use crate::route::{Endpoint, Route};
use crate::session::DiscordSession;
use crate::vocab::BoxFuture;
use crate::vocab::scope::Scope;

mod guild_access;

pub use guild_access::GuildAccess;

/// Where a read of a cached resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fetch {
    /// From the users cache while fresh; a miss calls Discord once (concurrent misses of one
    /// session share the call) and stores the answer. The default.
    #[default]
    Cached,
    /// From Discord, and the answer replaces the cached one.
    Fresh,
    /// From Discord, leaving the cache as it is.
    FreshUncached,
    /// From the cache only, never calling Discord: [`Error::NotCached`] when nothing fresh is
    /// there.
    CacheOnly,
}

/// The resources the users cache holds.
pub trait Resource: Send + Sync + 'static + sealed::Sealed {
    /// Its cache kind (and so its route and scope).
    const KIND: CacheKind;
    /// This resource inside a cache entry.
    #[doc(hidden)]
    fn of(data: &CachedData) -> Option<Arc<Self>>;
    /// Wraps a decoded answer into cache data.
    #[doc(hidden)]
    fn into_data(self: Arc<Self>) -> CachedData;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::models::User {}
    impl Sealed for Vec<crate::models::Guild> {}
    impl Sealed for Vec<crate::models::UserConnection> {}
}

/// Implements [`Resource`] for a model and its cache variant.
macro_rules! resource {
    ($ty:ty, $kind:ident) => {
        impl Resource for $ty {
            const KIND: CacheKind = CacheKind::$kind;
            fn of(data: &CachedData) -> Option<Arc<Self>> {
                match data {
                    CachedData::$kind(v) => Some(Arc::clone(v)),
                    _ => None,
                }
            }
            fn into_data(self: Arc<Self>) -> CachedData {
                CachedData::$kind(self)
            }
        }
    };
}

resource!(User, User);
resource!(Vec<Guild>, Guilds);
resource!(Vec<UserConnection>, Connections);

/// A resource as read through the users cache: dereferences to the data, and carries its JSON
/// and memoized renderings. Cheap to clone (reference counted).
#[derive(Debug)]
pub struct Fetched<T> {
    data: Arc<T>,
    entry: CachedValue,
    _kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            entry: self.entry.clone(),
            _kind: PhantomData,
        }
    }
}

impl<T> Deref for Fetched<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: Resource> Fetched<T> {
    fn new(entry: CachedValue) -> Result<Self, Error> {
        let data = T::of(entry.data()).ok_or(Error::Internal(
            "the users cache returned data of another kind",
        ))?;
        Ok(Self {
            data,
            entry,
            _kind: PhantomData,
        })
    }

    /// The data, shared.
    #[must_use]
    pub fn shared(&self) -> Arc<T> {
        Arc::clone(&self.data)
    }

    /// The data as JSON (serialized once per fetch from Discord, then shared).
    #[must_use]
    pub fn json(&self) -> &Bytes {
        self.entry.json()
    }

    /// The rendering `view` of the data (a response body, say), computed by `render` the first
    /// time and memoized with the cache entry: once per fetch from Discord, not once per
    /// request. `render` must depend only on the data.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::Fetch;
    /// let user = session.fetch_user(Fetch::Cached).await?;
    /// let body = user.memo("page/name", |u| bytes::Bytes::from(u.display_name().to_owned()));
    /// # let _ = body; Ok(()) }
    /// ```
    pub fn memo(&self, view: &'static str, render: impl FnOnce(&T) -> bytes::Bytes) -> Bytes {
        self.entry.rendered(view, |_| render(&self.data))
    }

    /// When the data stops being served from the cache (Unix seconds on the client's clock).
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.entry.expires_at()
    }
}

/// Options of [`DiscordSession::add_to_guild`] (the body of
/// [Discord: Add Guild Member](https://discord.com/developers/docs/resources/guild#add-guild-member)). Each needs a bot permission: `nick` MANAGE_NICKNAMES, `roles` MANAGE_ROLES, `mute`
/// MUTE_MEMBERS, `deaf` DEAFEN_MEMBERS, `flags` the permission its flag asks for.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<u64>,
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

    /// The member's guild member flags
    /// ([Discord: Guild Member Flags](https://discord.com/developers/docs/resources/guild#guild-member-object-guild-member-flags);
    /// e.g. `1 << 2`, BYPASSES_VERIFICATION, which needs MODERATE_MEMBERS).
    pub fn flags(mut self, flags: u64) -> Self {
        self.flags = Some(flags);
        self
    }
}

#[derive(Serialize)]
struct AddMemberBody<'a> {
    access_token: &'a str,
    #[serde(flatten)]
    options: &'a AddMemberOptions,
}

impl UserCalls for DiscordSession {
    fn send_as_user(&self, call: Call) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(DiscordSession::send_as_user(self, call))
    }
}

impl DiscordSession {
    /// The logged-in user (`GET /users/@me`, scope `identify`; `email` adds the address).
    /// With [`Fetch::Cached`], from the users cache while fresh (seeded at login, so the first
    /// page costs no call).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::Fetch;
    /// let user = session.fetch_user(Fetch::Cached).await?;
    /// println!("{} ({})", user.display_name(), user.id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::MissingScope`] (checked first: no call, no refresh),
    /// [`Error::NotCached`] with [`Fetch::CacheOnly`], upstream errors.
    pub async fn fetch_user(&self, fetch: Fetch) -> Result<Fetched<User>, Error> {
        self.fetch(fetch).await
    }

    /// The user's guilds (`GET /users/@me/guilds`, scope `guilds`). Discord returns up to 200,
    /// the most a user can join, so no pagination is needed.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::Fetch;
    /// for guild in session.fetch_guilds(Fetch::Fresh).await?.iter() {
    ///     println!("{}", guild.name);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds(&self, fetch: Fetch) -> Result<Fetched<Vec<Guild>>, Error> {
        self.fetch(fetch).await
    }

    /// The user's guilds with their approximate member and online counts (`GET
    /// /users/@me/guilds?with_counts=true`, scope `guilds`): every guild's
    /// [`approximate_member_count`](Guild::approximate_member_count) and
    /// [`approximate_presence_count`](Guild::approximate_presence_count) are set.
    ///
    /// It shares the users cache's guilds entry with [`fetch_guilds`](Self::fetch_guilds)
    /// (the answer with counts is the same list, with two more fields): with
    /// [`Fetch::Cached`] a cached list is served only if it has the counts, else Discord is
    /// asked once and its answer replaces the cached list; [`Fetch::CacheOnly`] answers
    /// [`Error::NotCached`] for a cached list without counts.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::Fetch;
    /// for guild in session.fetch_guilds_with_counts(Fetch::Cached).await?.iter() {
    ///     println!("{}: {:?} members", guild.name, guild.approximate_member_count);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_guilds_with_counts(
        &self,
        fetch: Fetch,
    ) -> Result<Fetched<Vec<Guild>>, Error> {
        let kind = CacheKind::Guilds;
        let record = self.require_scope_shared(&kind.scope()).await?;
        let key = CacheKey::new(record.id, record.user_id.unwrap_or(0), kind);
        let cache = self.sessions().cache();
        if matches!(fetch, Fetch::Cached | Fetch::CacheOnly) {
            if let Some(entry) = cache.get(key).await.filter(|v| v.expires_at() > self.now()) {
                let guilds = Fetched::<Vec<Guild>>::new(entry)?;
                let counted = |g: &Guild| {
                    g.approximate_member_count.is_some() && g.approximate_presence_count.is_some()
                };
                if guilds.iter().all(counted) {
                    return Ok(guilds);
                }
            }
            if fetch == Fetch::CacheOnly {
                return Err(Error::NotCached);
            }
        }
        let entry =
            Box::pin(self.load_entry(Route::current_user_guilds_with_counts(), kind)).await?;
        if fetch != Fetch::FreshUncached {
            cache.insert(key, entry.clone()).await;
        }
        Fetched::new(entry)
    }

    /// The user's connections (`GET /users/@me/connections`, scope `connections`).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::Fetch;
    /// let cached = session.fetch_connections(Fetch::CacheOnly).await.ok();
    /// # let _ = cached; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user).
    pub async fn fetch_connections(
        &self,
        fetch: Fetch,
    ) -> Result<Fetched<Vec<UserConnection>>, Error> {
        self.fetch(fetch).await
    }

    /// Reads a cached resource per `fetch`.
    async fn fetch<T: Resource>(&self, fetch: Fetch) -> Result<Fetched<T>, Error> {
        let record = self.require_scope_shared(&T::KIND.scope()).await?;
        let key = CacheKey::new(record.id, record.user_id.unwrap_or(0), T::KIND);
        let cache = self.sessions().cache();
        let entry = match fetch {
            Fetch::Cached => self.cached_entry(key).await?,
            Fetch::CacheOnly => cache
                .get(key)
                .await
                .filter(|v| v.expires_at() > self.now())
                .ok_or(Error::NotCached)?,
            Fetch::Fresh | Fetch::FreshUncached => {
                // Boxed: the pipeline's future is large, and the cached path should not carry it.
                let v = Box::pin(self.load_entry_of(T::KIND)).await?;
                if fetch == Fetch::Fresh {
                    cache.insert(key, v.clone()).await;
                }
                v
            }
        };
        Fetched::new(entry)
    }

    /// The entry of `key` while fresh on our clock, else one (coalesced) load from Discord.
    async fn cached_entry(&self, key: CacheKey) -> Result<CachedValue, Error> {
        let cache = self.sessions().cache();
        // A hit needs no load future (a large allocation): look first.
        if let Some(v) = cache.get(key).await
            && v.expires_at() > self.now()
        {
            return Ok(v);
        }
        let load = || -> BoxFuture<'_, Result<CachedValue, Error>> {
            Box::pin(self.load_entry_of(key.kind))
        };
        let v = cache.get_or_load(key, load()).await?;
        if v.expires_at() > self.now() {
            return Ok(v);
        }
        // Past its TTL on our clock (whatever the cache implementation kept): reload.
        cache.invalidate(key).await;
        cache.get_or_load(key, load()).await
    }

    /// One call to Discord for `kind`, decoded and serialized for the cache.
    async fn load_entry_of(&self, kind: CacheKind) -> Result<CachedValue, Error> {
        self.load_entry(kind.route(), kind).await
    }

    /// One call to Discord on `route`, whose answer is of `kind`.
    async fn load_entry(&self, route: Route, kind: CacheKind) -> Result<CachedValue, Error> {
        let response = self.send_as_user(Call::api(route)).await?;
        let data = match kind {
            CacheKind::Guilds => Arc::new(response.json::<Vec<Guild>>()?).into_data(),
            CacheKind::Connections => Arc::new(response.json::<Vec<UserConnection>>()?).into_data(),
            _ => Arc::new(response.json::<User>()?).into_data(),
        };
        cache::entry(data, self.sessions().cache_ttls(), self.now())
    }

    /// The user's member object in a guild (`GET /users/@me/guilds/{guild}/member`, scope
    /// `guilds.members.read`).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let member = session.fetch_guild_member(81384788765712384.into()).await?;
    /// # let _ = member; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`fetch_user`](Self::fetch_user); [`Error::Api`] 404/10004 when not a member.
    pub async fn fetch_guild_member(&self, guild_id: GuildId) -> Result<GuildMember, Error> {
        self.send_as_user(Call::api(Route::current_user_guild_member(guild_id)))
            .await?
            .json()
    }

    /// The current authorization (`GET /oauth2/@me`): application, scopes, expiry, user.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let info = session.fetch_authorization_info().await?;
    /// # let _ = info; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`], upstream errors.
    pub async fn fetch_authorization_info(&self) -> Result<AuthorizationInfo, Error> {
        self.send_as_user(Call::api(Route::current_authorization()))
            .await?
            .json()
    }

    /// Adds the user to a guild (Flask-Discord's `User.add_to_guild`): `PUT
    /// /guilds/{guild}/members/{user}` with the bot token and the user's `guilds.join` token.
    /// Returns the new member, or `None` when the user already was one (204).
    ///
    /// A `403` with code 50025 (Discord's answer for a stale user token there) refreshes the
    /// user's token once and tries again.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::api::AddMemberOptions;
    /// let joined = session.add_to_guild(81384788765712384.into(), AddMemberOptions::new().nick("new")).await?;
    /// # let _ = joined; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingScope`] without `guilds.join`, [`Error::NoBotToken`],
    /// [`Error::BotUnauthorized`], [`Error::Api`] (e.g. 50001 bot not in the guild).
    pub async fn add_to_guild(
        &self,
        guild_id: GuildId,
        options: AddMemberOptions,
    ) -> Result<Option<GuildMember>, Error> {
        let scope = Endpoint::AddGuildMember
            .required_scope()
            .unwrap_or(&Scope::GuildsJoin);
        let record = self.require_scope(scope).await?;
        if !self.sessions().config().has_bot_token() {
            return Err(Error::NoBotToken);
        }
        let user_id = match record.user_id {
            Some(id) => id,
            None => self.fetch_user(Fetch::Cached).await?.id.get(),
        };
        let http = self.sessions().http();
        let options = &options;
        let response = self
            .with_user_token(record, |record, _| async move {
                let body = serde_json::to_vec(&AddMemberBody {
                    access_token: record.access_token.secret(),
                    options,
                })
                .map_err(|_| Error::Internal("the add-member body could not be serialized"))?;
                let mut call = Call::api(Route::add_guild_member(guild_id, user_id));
                call.identity = Identity::Bot;
                // Refused joins count against this user's share of the invalid-request budget.
                call.actor = Some(user_id);
                call.body = Body::Json(body.into());
                http.send(call, Auth::Bot).await
            })
            .await?;
        if response.status() == http::StatusCode::NO_CONTENT || response.bytes().is_empty() {
            return Ok(None);
        }
        response.json().map(Some)
    }

    /// A call with the user's Bearer token (Flask-Discord's `request(route, method)`); refreshes
    /// the token when needed.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let guilds: serde_json::Value = session
    ///     .request(http::Method::GET, "/users/@me/guilds?with_counts=true")
    ///     .send_json()
    ///     .await?;
    /// # let _ = guilds; Ok(()) }
    /// ```
    pub fn request(&self, method: Method, route: impl AsRef<str>) -> ApiRequest<'_> {
        ApiRequest::new(Sender::User(self), method, route.as_ref())
    }

    /// A call with the bot token (Flask-Discord's `bot_request`).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let guild: serde_json::Value = session.bot_request(http::Method::GET, "/guilds/81384788765712384").send_json().await?;
    /// # let _ = guild; Ok(()) }
    /// ```
    pub fn bot_request(&self, method: Method, route: impl AsRef<str>) -> ApiRequest<'_> {
        ApiRequest::new(Sender::Bot(self.sessions().http()), method, route.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_member_flags_are_sent_only_when_set() {
        let body = |o: &AddMemberOptions| {
            serde_json::to_value(AddMemberBody {
                access_token: "t",
                options: o,
            })
            .unwrap()
        };
        assert_eq!(
            body(&AddMemberOptions::new()),
            serde_json::json!({"access_token": "t"})
        );
        assert_eq!(
            body(&AddMemberOptions::new().flags(1 << 2).mute(true)),
            serde_json::json!({"access_token": "t", "mute": true, "flags": 4})
        );
    }
}
