//! Typed routes: what a Discord REST call is, parsed once and read by every layer.
//!
//! A [`Route`] carries the method, the validated path, the [`Endpoint`] it matches in one
//! table (with the OAuth2 scope a Bearer call to it needs and the cache kind of its answer),
//! and the rate-limit key Discord's rules ask for (the route template and the major
//! parameter). The pipeline, the limiter, the session's scope check and the cache all read
//! these fields; nothing downstream parses the path again.
//!
//! Owns: the route table, the route guard (a route can only name a path under the API base),
//! the template and major-parameter rules, path redaction for logs. Imports only the
//! vocabulary and model ids; must not import the pipeline, the limiter or any session code.

mod guard;
mod template;

use http::Method;

use crate::models::{ApplicationId, GuildId};
use crate::vocab::scope::Scope;

pub(crate) use template::redact_path;

/// What a cache entry holds: the answer of one of the three cached endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheKind {
    /// `GET /users/@me`.
    User,
    /// `GET /users/@me/guilds`.
    Guilds,
    /// `GET /users/@me/connections`.
    Connections,
}

impl CacheKind {
    /// Every kind (what an invalidation of an authorization removes).
    pub const ALL: [CacheKind; 3] = [CacheKind::User, CacheKind::Guilds, CacheKind::Connections];

    /// The route whose answer this kind caches.
    #[must_use]
    pub fn route(self) -> Route {
        match self {
            Self::User => Route::current_user(),
            Self::Guilds => Route::current_user_guilds(),
            Self::Connections => Route::current_user_connections(),
        }
    }

    /// The scope a session needs to read this kind.
    #[must_use]
    pub fn scope(self) -> Scope {
        let endpoint = match self {
            Self::User => Endpoint::GetCurrentUser,
            Self::Guilds => Endpoint::GetCurrentUserGuilds,
            Self::Connections => Endpoint::GetCurrentUserConnections,
        };
        endpoint.info().scope.clone().unwrap_or(Scope::Identify)
    }
}

/// The Discord endpoints the library knows by name; everything else is [`Endpoint::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /users/@me` ([Get Current User](https://discord.com/developers/docs/resources/user#get-current-user)).
    GetCurrentUser,
    /// `GET /users/@me/guilds` ([Get Current User Guilds](https://discord.com/developers/docs/resources/user#get-current-user-guilds)).
    GetCurrentUserGuilds,
    /// `GET /users/@me/connections` ([Get Current User Connections](https://discord.com/developers/docs/resources/user#get-current-user-connections)).
    GetCurrentUserConnections,
    /// `GET /users/@me/guilds/{guild}/member` ([Get Current User Guild Member](https://discord.com/developers/docs/resources/user#get-current-user-guild-member)).
    GetCurrentUserGuildMember,
    /// `GET /users/@me/applications/{application}/role-connection` ([Get Current User Application Role Connection](https://discord.com/developers/docs/resources/user#get-current-user-application-role-connection)).
    GetRoleConnection,
    /// `PUT /users/@me/applications/{application}/role-connection` ([Update Current User Application Role Connection](https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection)).
    UpdateRoleConnection,
    /// `DELETE /users/@me/applications/{application}/role-connection` ([Delete Current User Application Role Connection](https://discord.com/developers/docs/resources/user#delete-current-user-application-role-connection)).
    DeleteRoleConnection,
    /// `GET /applications/{application}/role-connections/metadata` with the bot token ([Get Application Role Connection Metadata Records](https://discord.com/developers/docs/resources/application-role-connection-metadata#get-application-role-connection-metadata-records)).
    GetRoleConnectionMetadata,
    /// `PUT /applications/{application}/role-connections/metadata` with the bot token ([Update Application Role Connection Metadata Records](https://discord.com/developers/docs/resources/application-role-connection-metadata#update-application-role-connection-metadata-records)).
    UpdateRoleConnectionMetadata,
    /// `GET /oauth2/@me` ([Get Current Authorization Information](https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information)).
    GetCurrentAuthorization,
    /// `PUT /guilds/{guild}/members/{user}` with the bot token ([Add Guild Member](https://discord.com/developers/docs/resources/guild#add-guild-member)).
    AddGuildMember,
    /// `GET /guilds/{guild}` with the bot token ([Get Guild](https://discord.com/developers/docs/resources/guild#get-guild)).
    GetGuild,
    /// `GET /guilds/{guild}/members/{user}` with the bot token ([Get Guild Member](https://discord.com/developers/docs/resources/guild#get-guild-member)).
    GetGuildMember,
    /// `POST /oauth2/token`: code exchange and refresh ([OAuth2](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-access-token-response)).
    Token,
    /// `POST /oauth2/token/revoke` ([OAuth2](https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-token-revocation-example)).
    Revoke,
    /// Any other route, given by the application to `request` or `bot_request`.
    Other,
}

/// One row of the route table.
#[derive(Debug)]
pub(crate) struct EndpointInfo {
    endpoint: Endpoint,
    /// `METHOD /template`, as the limiter keys it before Discord names the bucket.
    template: &'static str,
    /// The scope a Bearer call needs, checked locally: without it Discord answers 401, which
    /// looks like an expired token and would burn a refresh
    /// ([Discord: OAuth2 scopes](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes)).
    scope: Option<Scope>,
    /// The cache kind of the answer, for the three cached endpoints.
    cache: Option<CacheKind>,
}

/// The route table: every named endpoint, its template, scope and cache kind.
static TABLE: &[EndpointInfo] = &[
    row(
        Endpoint::GetCurrentUser,
        "GET /users/@me",
        Some(Scope::Identify),
        Some(CacheKind::User),
    ),
    row(
        Endpoint::GetCurrentUserGuilds,
        "GET /users/@me/guilds",
        Some(Scope::Guilds),
        Some(CacheKind::Guilds),
    ),
    row(
        Endpoint::GetCurrentUserConnections,
        "GET /users/@me/connections",
        Some(Scope::Connections),
        Some(CacheKind::Connections),
    ),
    row(
        Endpoint::GetCurrentUserGuildMember,
        "GET /users/@me/guilds/{guild}/member",
        Some(Scope::GuildsMembersRead),
        None,
    ),
    row(
        Endpoint::GetRoleConnection,
        "GET /users/@me/applications/{id}/role-connection",
        Some(Scope::RoleConnectionsWrite),
        None,
    ),
    row(
        Endpoint::UpdateRoleConnection,
        "PUT /users/@me/applications/{id}/role-connection",
        Some(Scope::RoleConnectionsWrite),
        None,
    ),
    row(
        Endpoint::DeleteRoleConnection,
        "DELETE /users/@me/applications/{id}/role-connection",
        Some(Scope::RoleConnectionsWrite),
        None,
    ),
    row(
        Endpoint::GetRoleConnectionMetadata,
        "GET /applications/{id}/role-connections/metadata",
        None,
        None,
    ),
    row(
        Endpoint::UpdateRoleConnectionMetadata,
        "PUT /applications/{id}/role-connections/metadata",
        None,
        None,
    ),
    row(
        Endpoint::GetCurrentAuthorization,
        "GET /oauth2/@me",
        None,
        None,
    ),
    row(
        Endpoint::AddGuildMember,
        "PUT /guilds/{guild}/members/{id}",
        Some(Scope::GuildsJoin),
        None,
    ),
    row(Endpoint::GetGuild, "GET /guilds/{guild}", None, None),
    row(
        Endpoint::GetGuildMember,
        "GET /guilds/{guild}/members/{id}",
        None,
        None,
    ),
    row(Endpoint::Token, "POST /oauth2/token", None, None),
    row(Endpoint::Revoke, "POST /oauth2/token/revoke", None, None),
];

const fn row(
    endpoint: Endpoint,
    template: &'static str,
    scope: Option<Scope>,
    cache: Option<CacheKind>,
) -> EndpointInfo {
    EndpointInfo {
        endpoint,
        template,
        scope,
        cache,
    }
}

static OTHER: EndpointInfo = row(Endpoint::Other, "", None, None);

impl Endpoint {
    /// The scope a Bearer call to this endpoint needs (for a join, the user's token's scope).
    #[must_use]
    pub fn required_scope(self) -> Option<&'static Scope> {
        self.info().scope.as_ref()
    }

    fn info(self) -> &'static EndpointInfo {
        TABLE.iter().find(|r| r.endpoint == self).unwrap_or(&OTHER)
    }

    fn of_template(template: &str) -> Self {
        TABLE
            .iter()
            .find(|r| r.template == template)
            .map_or(Self::Other, |r| r.endpoint)
    }
}

/// A Discord REST call's route: parsed and validated once, then read by every layer.
///
/// ```
/// use discord_oauth::route::{CacheKind, Endpoint, Route};
/// use discord_oauth::Scope;
/// let route = Route::parse(http::Method::GET, "/users/@me/guilds?limit=5").unwrap();
/// assert_eq!(route.endpoint(), Endpoint::GetCurrentUserGuilds);
/// assert_eq!(route.required_scope(), Some(&Scope::Guilds));
/// assert_eq!(route.cache_kind(), Some(CacheKind::Guilds));
/// assert_eq!(route.template(), "GET /users/@me/guilds");
/// assert!(Route::parse(http::Method::GET, "https://evil.example/x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    method: Method,
    /// The path under the API base, starting with `/`, without the query.
    path: String,
    /// A query string given inline with the route (`?limit=5`).
    query: Option<String>,
    endpoint: Endpoint,
    template: String,
    major: String,
    global_exempt: bool,
}

impl Route {
    /// Parses a route given by the application (`request`, `bot_request`): a relative path
    /// under the API base, with an optional query string. Absolute URLs, `//host`, dot
    /// segments, backslashes, control characters and fragments are refused, so a token can
    /// never be sent to another host or outside `/api/v10`.
    ///
    /// # Errors
    /// [`Error::InvalidRoute`](crate::Error::InvalidRoute) naming what was wrong.
    pub fn parse(method: Method, route: &str) -> Result<Self, crate::Error> {
        let (path, query) = guard::check_route(route)?;
        let mut parsed = Self::from_checked(method, path, query);
        // The token endpoints are the library's own calls (sent to the configured URLs, with
        // OAuth2 error mapping); an application's route of the same path stays an API route.
        if parsed.is_oauth() {
            parsed.endpoint = Endpoint::Other;
        }
        Ok(parsed)
    }

    /// A route of the library itself, from a path built from typed ids (always valid).
    fn known(method: Method, path: String) -> Self {
        Self::from_checked(method, path, None)
    }

    fn from_checked(method: Method, path: String, query: Option<String>) -> Self {
        let key = template::route_key(&method, &path);
        Self {
            endpoint: Endpoint::of_template(&key.route),
            method,
            path,
            query,
            template: key.route,
            major: key.major,
            global_exempt: key.global_exempt,
        }
    }

    /// `GET /users/@me`.
    #[must_use]
    pub fn current_user() -> Self {
        Self::known(Method::GET, "/users/@me".to_owned())
    }

    /// `GET /users/@me/guilds`.
    #[must_use]
    pub fn current_user_guilds() -> Self {
        Self::known(Method::GET, "/users/@me/guilds".to_owned())
    }

    /// `GET /users/@me/guilds?with_counts=true`: the guilds with their
    /// `approximate_member_count` and `approximate_presence_count`.
    #[must_use]
    pub fn current_user_guilds_with_counts() -> Self {
        Self::from_checked(
            Method::GET,
            "/users/@me/guilds".to_owned(),
            Some("with_counts=true".to_owned()),
        )
    }

    /// `GET /users/@me/connections`.
    #[must_use]
    pub fn current_user_connections() -> Self {
        Self::known(Method::GET, "/users/@me/connections".to_owned())
    }

    /// `GET /users/@me/guilds/{guild}/member`.
    #[must_use]
    pub fn current_user_guild_member(guild: GuildId) -> Self {
        Self::known(Method::GET, format!("/users/@me/guilds/{guild}/member"))
    }

    /// `GET /users/@me/applications/{application}/role-connection`.
    #[must_use]
    pub fn role_connection(application: ApplicationId) -> Self {
        Self::known(
            Method::GET,
            format!("/users/@me/applications/{application}/role-connection"),
        )
    }

    /// `PUT /users/@me/applications/{application}/role-connection`.
    #[must_use]
    pub fn update_role_connection(application: ApplicationId) -> Self {
        Self::known(
            Method::PUT,
            format!("/users/@me/applications/{application}/role-connection"),
        )
    }

    /// `DELETE /users/@me/applications/{application}/role-connection`.
    #[must_use]
    pub fn delete_role_connection(application: ApplicationId) -> Self {
        Self::known(
            Method::DELETE,
            format!("/users/@me/applications/{application}/role-connection"),
        )
    }

    /// `GET /applications/{application}/role-connections/metadata` (bot token).
    #[must_use]
    pub fn role_connection_metadata(application: ApplicationId) -> Self {
        Self::known(
            Method::GET,
            format!("/applications/{application}/role-connections/metadata"),
        )
    }

    /// `PUT /applications/{application}/role-connections/metadata` (bot token).
    #[must_use]
    pub fn update_role_connection_metadata(application: ApplicationId) -> Self {
        Self::known(
            Method::PUT,
            format!("/applications/{application}/role-connections/metadata"),
        )
    }

    /// `GET /oauth2/@me`.
    #[must_use]
    pub fn current_authorization() -> Self {
        Self::known(Method::GET, "/oauth2/@me".to_owned())
    }

    /// `PUT /guilds/{guild}/members/{user}`.
    #[must_use]
    pub fn add_guild_member(guild: GuildId, user: u64) -> Self {
        Self::known(Method::PUT, format!("/guilds/{guild}/members/{user}"))
    }

    /// `GET /guilds/{guild}` (bot token).
    #[must_use]
    pub fn guild(guild: GuildId) -> Self {
        Self::known(Method::GET, format!("/guilds/{guild}"))
    }

    /// `GET /guilds/{guild}/members/{user}` (bot token).
    #[must_use]
    pub fn guild_member(guild: GuildId, user: u64) -> Self {
        Self::known(Method::GET, format!("/guilds/{guild}/members/{user}"))
    }

    /// `POST /oauth2/token` (its URL comes from the configuration, not the API base).
    #[must_use]
    pub fn token() -> Self {
        Self::known(Method::POST, "/oauth2/token".to_owned())
    }

    /// `POST /oauth2/token/revoke` (its URL comes from the configuration).
    #[must_use]
    pub fn revoke() -> Self {
        Self::known(Method::POST, "/oauth2/token/revoke".to_owned())
    }

    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path under the API base, without the query (`/users/@me/guilds`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string given inline with the route, if any.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The named endpoint this route is, or [`Endpoint::Other`].
    #[must_use]
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// `METHOD /template` with ids replaced by placeholders
    /// (`PUT /guilds/{guild}/members/{id}`): the rate-limit key before Discord names the
    /// bucket ([Discord: Rate Limits](https://discord.com/developers/docs/topics/rate-limits)).
    #[must_use]
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The major parameter (`g<guild id>`, `c<channel id>`, `w<webhook id>:<token fingerprint>`),
    /// empty when the route has none.
    #[must_use]
    pub fn major(&self) -> &str {
        &self.major
    }

    /// Whether the route is exempt from the bot's global limit (interaction endpoints).
    #[must_use]
    pub fn is_global_exempt(&self) -> bool {
        self.global_exempt
    }

    /// The scope a Bearer call to this route needs, when the route is in the table.
    #[must_use]
    pub fn required_scope(&self) -> Option<&Scope> {
        self.endpoint.info().scope.as_ref()
    }

    /// The cache kind of this route's answer, for the cached endpoints.
    #[must_use]
    pub fn cache_kind(&self) -> Option<CacheKind> {
        self.endpoint.info().cache
    }

    /// The path with webhook and interaction tokens replaced by `{token}`: safe to log.
    #[must_use]
    pub fn redacted_path(&self) -> String {
        redact_path(&self.path)
    }

    /// Whether this is one of the OAuth2 token endpoints (code exchange, refresh, revoke).
    #[must_use]
    pub fn is_oauth(&self) -> bool {
        matches!(self.endpoint, Endpoint::Token | Endpoint::Revoke)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_reachable_from_its_constructor() {
        let g = GuildId::new(81_384_788_765_712_384);
        let a = ApplicationId::new(42);
        for (route, endpoint) in [
            (Route::current_user(), Endpoint::GetCurrentUser),
            (Route::current_user_guilds(), Endpoint::GetCurrentUserGuilds),
            (
                Route::current_user_connections(),
                Endpoint::GetCurrentUserConnections,
            ),
            (
                Route::current_user_guild_member(g),
                Endpoint::GetCurrentUserGuildMember,
            ),
            (Route::role_connection(a), Endpoint::GetRoleConnection),
            (
                Route::update_role_connection(a),
                Endpoint::UpdateRoleConnection,
            ),
            (
                Route::delete_role_connection(a),
                Endpoint::DeleteRoleConnection,
            ),
            (
                Route::role_connection_metadata(a),
                Endpoint::GetRoleConnectionMetadata,
            ),
            (
                Route::update_role_connection_metadata(a),
                Endpoint::UpdateRoleConnectionMetadata,
            ),
            (
                Route::current_authorization(),
                Endpoint::GetCurrentAuthorization,
            ),
            (Route::add_guild_member(g, 7), Endpoint::AddGuildMember),
            (Route::guild(g), Endpoint::GetGuild),
            (Route::guild_member(g, 7), Endpoint::GetGuildMember),
            (Route::token(), Endpoint::Token),
            (Route::revoke(), Endpoint::Revoke),
        ] {
            assert_eq!(route.endpoint(), endpoint, "{}", route.template());
        }
        assert_eq!(TABLE.len(), 15);
        assert_eq!(Route::guild(g).major(), "g81384788765712384");
        assert_eq!(Route::guild_member(g, 7).major(), "g81384788765712384");
    }

    #[test]
    fn parsed_routes_find_their_row() {
        let r = Route::parse(Method::GET, "users/@me/guilds/81384788765712384/member").unwrap();
        assert_eq!(r.endpoint(), Endpoint::GetCurrentUserGuildMember);
        assert_eq!(r.required_scope(), Some(&Scope::GuildsMembersRead));
        assert_eq!(r.major(), "g81384788765712384");
        let r = Route::parse(Method::POST, "/oauth2/token?x=1").unwrap();
        assert_eq!(
            r.endpoint(),
            Endpoint::Other,
            "never the library's token call"
        );
        assert!(!r.is_oauth());
        let r = Route::parse(Method::POST, "/channels/1/messages").unwrap();
        assert_eq!(r.endpoint(), Endpoint::Other);
        assert_eq!(r.required_scope(), None);
        assert_eq!(r.template(), "POST /channels/{channel}/messages");
        for kind in CacheKind::ALL {
            assert_eq!(kind.route().cache_kind(), Some(kind));
            assert_eq!(kind.route().required_scope(), Some(&kind.scope()));
        }
    }
}
