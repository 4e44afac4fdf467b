//! What the extractors and guards of the integrations decide, framework-neutral: a live session
//! ([`Authorized`]), a same-site request ([`SameOrigin`]), guild permissions
//! ([`RequireGuildPermission`] with a [`GuildRequirement`]), and why a request is refused
//! ([`Rejection`], answered per [`UnauthorizedBehavior`] without a session).
//!
//! The types here implement the framework's extractor traits in each integration's module
//! (`FromRequestParts` in [`axum`](crate::axum), `FromRequest` in [`actix`](crate::actix)).
//!
//! Owns: the guards' decisions. Imports only lower layers (api, session, error, models, vocab)
//! and `http`.

use std::marker::PhantomData;

use http::request::Parts;

use crate::api::{Fetch, GuildAccess};
use crate::error::Error;
use crate::models::GuildId;
use crate::session::DiscordSession;
use crate::vocab::permissions::Permissions;
use crate::vocab::scope::Scope;

/// What the guards answer to a request without a session.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum UnauthorizedBehavior {
    /// `401` with a JSON body (APIs). The default.
    #[default]
    Json401,
    /// `302` to this login path, with `?next=<original path>` (pages).
    RedirectToLogin(String),
}

impl UnauthorizedBehavior {
    /// The `Location` of the login redirect for a request to `next` (path and query).
    pub(crate) fn login_location(login: &str, next: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("{login}?next={encoded}")
    }
}

/// The integration's settings the extractors read from the request (a request extension set
/// by the middleware).
#[derive(Clone, Debug, Default)]
pub(crate) struct GuardConfig {
    pub(crate) unauthorized: UnauthorizedBehavior,
}

/// Why an extractor or a guard refused a request. Renders as the response the demo contract
/// expects: JSON `{"error", "message"}` with the status, or a redirect to the login.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// The integration's middleware (axum's `DiscordLayer`, actix-web's `DiscordMiddleware`) is
    /// not installed (a programming error): 500.
    MissingLayer,
    /// No live session: answered per [`UnauthorizedBehavior`] (401 JSON by default), with the
    /// path and query to come back to.
    Unauthorized(UnauthorizedBehavior, String),
    /// The request was refused with a typed error (cross-site, missing scope, store down...).
    Error(Error),
}

impl Rejection {
    /// The message of [`Rejection::MissingLayer`].
    pub(crate) const MISSING_LAYER: &'static str =
        "the Discord middleware (DiscordLayer, DiscordMiddleware) is not installed on this app";

    /// The refusal of a request to `next` (path and query) without a session, per `config`.
    pub(crate) fn unauthorized(config: Option<&GuardConfig>, next: &str) -> Self {
        let behavior = config.map(|c| c.unauthorized.clone()).unwrap_or_default();
        Self::Unauthorized(behavior, next.to_owned())
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingLayer => f.write_str(Self::MISSING_LAYER),
            Self::Unauthorized(..) => f.write_str("no live session"),
            Self::Error(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Rejection {}

impl From<Error> for Rejection {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

/// What a guard found wrong, before the framework names the request to come back to.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No live session (or the authorization ended at Discord).
    Unauthorized,
    /// A typed error.
    Error(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

impl Refusal {
    /// As a [`Rejection`] of a request to `next` under `config`.
    pub(crate) fn rejection(self, config: Option<&GuardConfig>, next: &str) -> Rejection {
        match self {
            Self::Unauthorized => Rejection::unauthorized(config, next),
            Self::Error(e) => Rejection::Error(e),
        }
    }
}

/// Flask-Discord's `requires_authorization` as an extractor: the request has a live session.
/// Without one it answers per [`UnauthorizedBehavior`].
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The session.
    pub session: DiscordSession,
    /// The Discord user id, when known.
    pub user_id: Option<u64>,
}

impl Authorized {
    /// The session, when it is live.
    pub(crate) async fn of(session: DiscordSession) -> Result<Option<Self>, Error> {
        Ok(session.record().await?.map(|record| Self {
            user_id: record.user_id,
            session,
        }))
    }
}

/// `requires_authorization` with scopes: a live session that was granted every one of `scopes`
/// (a missing one: 403 [`Error::MissingScope`], without calling Discord). Used by axum's
/// `RequireAuthorizationLayer` (actix-web has no group guard yet).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) async fn require_authorization(
    session: &DiscordSession,
    scopes: &[Scope],
) -> Result<(), Refusal> {
    match session.record().await? {
        Some(record) => match scopes.iter().find(|s| !record.scopes.contains(s)) {
            Some(missing) => Err(Refusal::Error(Error::MissingScope(missing.clone()))),
            None => Ok(()),
        },
        None => Err(Refusal::Unauthorized),
    }
}

/// Refuses a request whose `Origin` or `Sec-Fetch-Site` shows another site (403); use it on
/// every state-changing route (`POST /logout`, `POST /guilds/{id}/join`).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

/// What a [`RequireGuildPermission`] guard requires: the permissions, how fresh the user's
/// guild list must be, and where the request names its guild.
///
/// ```
/// use discord_oauth::Fetch;
/// use discord_oauth::web::GuildRequirement;
/// use discord_oauth::permissions::Permissions;
///
/// /// Banning needs BAN_MEMBERS, checked with Discord at each request.
/// struct CanBan;
/// impl GuildRequirement for CanBan {
///     const PERMISSIONS: Permissions = Permissions::BAN_MEMBERS;
///     const FETCH: Fetch = Fetch::Fresh;
/// }
/// ```
pub trait GuildRequirement: Send + Sync + 'static {
    /// The permissions the user must hold in the guild (all of them; the owner and
    /// ADMINISTRATOR hold every one). [`Permissions::empty()`] requires membership only.
    const PERMISSIONS: Permissions;
    /// How fresh the user's guild list must be: [`Fetch::Cached`] (the default) or
    /// [`Fetch::Fresh`] for decisions that must not be stale (see
    /// [`DiscordSession::require_guild_permissions`]).
    const FETCH: Fetch = Fetch::Cached;
    /// Whether to ask the bot live for the member and its roles instead of reading the user's
    /// guild list (see [`DiscordSession::require_guild_permissions_by_bot`]; then
    /// [`FETCH`](Self::FETCH) is not used). Default `false`.
    const BY_BOT: bool = false;

    /// The guild the request is about (the request's method, URI and headers). The default,
    /// [`guild_id_from_path`], reads the path segment after `guilds`
    /// (`/guilds/{guild_id}/...`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (400) for an id that is not a snowflake.
    fn guild_id(parts: &Parts) -> Result<GuildId, Error> {
        guild_id_from_path(parts)
    }
}

/// Requires MANAGE_GUILD, from the users cache.
#[derive(Debug, Clone, Copy)]
pub struct ManageGuild;

impl GuildRequirement for ManageGuild {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
}

/// Requires MANAGE_GUILD, asking Discord at each request (for changes that must not rest on a
/// stale answer).
#[derive(Debug, Clone, Copy)]
pub struct ManageGuildFresh;

impl GuildRequirement for ManageGuildFresh {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
    const FETCH: Fetch = Fetch::Fresh;
}

/// Requires MANAGE_GUILD, checked live with the bot at each request (the member and its roles;
/// see [`DiscordSession::require_guild_permissions_by_bot`]): a role given or taken away at
/// Discord counts at once. Needs a bot token in the guild (without a bot token: 503).
#[derive(Debug, Clone, Copy)]
pub struct ManageGuildByBot;

impl GuildRequirement for ManageGuildByBot {
    const PERMISSIONS: Permissions = Permissions::MANAGE_GUILD;
    const BY_BOT: bool = true;
}

/// Requires ADMINISTRATOR (or ownership), from the users cache.
#[derive(Debug, Clone, Copy)]
pub struct Administrator;

impl GuildRequirement for Administrator {
    const PERMISSIONS: Permissions = Permissions::ADMINISTRATOR;
}

/// The guild id of a `/guilds/{guild_id}/...` request: [`guild_id_in_path`] of its path.
///
/// # Errors
/// As [`guild_id_in_path`].
pub fn guild_id_from_path(parts: &Parts) -> Result<GuildId, Error> {
    guild_id_in_path(parts.uri.path())
}

/// The guild id of a `/guilds/{guild_id}/...` path: the segment after the first `guilds`
/// segment (a nested router's prefix before it does not matter).
///
/// # Errors
/// [`Error::InvalidRequest`] (400) when that segment is not a snowflake;
/// [`Error::Internal`] (500) when the path has no such segment (the guard is on a route
/// without a guild id).
pub fn guild_id_in_path(path: &str) -> Result<GuildId, Error> {
    let mut segments = path.split('/');
    let id = segments
        .find(|s| *s == "guilds")
        .and_then(|_| segments.next())
        .ok_or(Error::Internal(
            "a guild guard is installed on a route without a /guilds/{guild_id} segment",
        ))?;
    id.parse()
        .map_err(|_| Error::InvalidRequest("the guild id must be a snowflake".into()))
}

/// How a guild guard checks: the permissions, and the user's guild list per `fetch` or live
/// with the bot for `None`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuildCheck {
    pub(crate) required: Permissions,
    /// `None`: live with the bot.
    pub(crate) fetch: Option<Fetch>,
}

impl GuildCheck {
    /// The check of requirement `R`.
    pub(crate) fn of<R: GuildRequirement>() -> Self {
        Self {
            required: R::PERMISSIONS,
            fetch: if R::BY_BOT { None } else { Some(R::FETCH) },
        }
    }

    /// The guard: a live session first (401 or the login redirect), then the guild id (400),
    /// then the permissions (403 [`Error::MissingPermissions`], also for a guild the user is
    /// not in).
    pub(crate) async fn run(
        self,
        session: &DiscordSession,
        guild_id: impl FnOnce() -> Result<GuildId, Error>,
    ) -> Result<GuildAccess, Refusal> {
        if session.record().await?.is_none() {
            return Err(Refusal::Unauthorized);
        }
        let guild_id = guild_id()?;
        let checked = match self.fetch {
            Some(fetch) => {
                session
                    .require_guild_permissions(guild_id, self.required, fetch)
                    .await
            }
            None => {
                session
                    .require_guild_permissions_by_bot(guild_id, self.required)
                    .await
            }
        };
        match checked {
            Ok(access) => Ok(access),
            // The authorization ended at Discord: answered like no session at all.
            Err(Error::Unauthorized) => Err(Refusal::Unauthorized),
            Err(e) => Err(Refusal::Error(e)),
        }
    }
}

/// A guard extractor: the request has a live session whose user holds
/// [`R::PERMISSIONS`](GuildRequirement::PERMISSIONS) in the guild of the path (the owner and
/// ADMINISTRATOR hold every permission). Refusals are typed [`Rejection`]s: no session → per
/// [`UnauthorizedBehavior`] (401 JSON by default); a guild id that is not a snowflake → 400;
/// missing permissions or not a member → 403 [`Error::MissingPermissions`] (never 404).
/// The user's guild list needs the `guilds` scope (without it: 403 [`Error::MissingScope`]).
#[derive(Debug, Clone)]
pub struct RequireGuildPermission<R> {
    /// The session.
    pub session: DiscordSession,
    /// The guild, with the user's effective permissions there.
    pub guild: GuildAccess,
    requirement: PhantomData<fn() -> R>,
}

impl<R: GuildRequirement> RequireGuildPermission<R> {
    /// Runs the guard of `R` for `session` on the request `parts`.
    pub(crate) async fn check(session: DiscordSession, parts: &Parts) -> Result<Self, Refusal> {
        let guild = GuildCheck::of::<R>()
            .run(&session, || R::guild_id(parts))
            .await?;
        Ok(Self {
            session,
            guild,
            requirement: PhantomData,
        })
    }
}
