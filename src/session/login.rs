//! Logging in: [`create_session`](DiscordSession::create_session) starts a login (or, through
//! [`create_install`](DiscordSession::create_install), an install) and remembers it in the
//! pending-login cookie; [`callback`](DiscordSession::callback) checks the state, exchanges the
//! code, replaces the session and tells which [`Flow`] ended.

use super::DiscordSession;
use super::cookie::Purpose;
use super::pending::{self, PendingFlow, PendingLogin, PendingSlots, local_next};
use super::refresh::record_from_grant;
use crate::error::{Error, StateError};
use crate::http::{Auth, Call};
use crate::models::{GuildId, IncomingWebhook, Install, IntegrationType, TokenGuild, User};
use crate::oauth::{self, CallbackQuery};
use crate::ratelimit::Identity;
use crate::route::Route;
use crate::store::SessionRecord;
use crate::vocab::permissions::Permissions;
use crate::vocab::scope::{Prompt, Scope, Scopes};
use crate::vocab::secret::{Fingerprint, OAuthState, PkceVerifier};

/// How long a login may stay pending (Discord codes live ~100 s; users are slower).
pub const PENDING_LIFETIME_SECS: u64 = 600;

/// Options of one login (Flask-Discord's `create_session(scopes, data, prompt, permissions, **params)`).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct LoginOptions {
    scopes: Option<Scopes>,
    data: Option<serde_json::Value>,
    prompt: Prompt,
    permissions: Option<Permissions>,
    params: Vec<(String, String)>,
    next: Option<String>,
    flow: PendingFlow,
}

impl LoginOptions {
    /// Default options: scope `identify`, [`Prompt::None`], no data.
    ///
    /// ```no_run
    /// let options = discord_oauth::LoginOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A linked-roles login
    /// ([Discord: Linked Roles](https://discord.com/developers/docs/resources/application-role-connection-metadata)):
    /// scopes `role_connections.write` and `identify`, without PKCE (Discord refuses it with
    /// this scope). Its callback answers [`Flow::LinkedRole`]; then set the user's values
    /// with [`update_role_connection`](DiscordSession::update_role_connection). Setting other
    /// scopes later keeps `role_connections.write`.
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let url = session.create_session(discord_oauth::LoginOptions::linked_role())?;
    /// # let _ = url; Ok(()) }
    /// ```
    pub fn linked_role() -> Self {
        Self {
            scopes: Some(Scopes::from([Scope::RoleConnectionsWrite, Scope::Identify])),
            flow: PendingFlow::LinkedRole,
            ..Self::default()
        }
    }

    /// Marks the login as an install (used by [`InstallOptions`](super::InstallOptions)).
    pub(super) fn install_flow(mut self, flow: PendingFlow) -> Self {
        self.flow = flow;
        self
    }

    /// The scopes to request (default: `identify`). Scopes never come from the request's query
    /// string (Flask-Discord's bug B16).
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.scopes([Scope::Identify, Scope::Email, Scope::Guilds])
    /// # }
    /// ```
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = Some(scopes.into_iter().collect());
        self
    }

    /// Data carried through the login in the encrypted pending cookie and returned by
    /// [`DiscordSession::callback`] (at most 1 KiB of JSON). Never in the URL.
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.data(serde_json::json!({ "plan": "pro" }))
    /// # }
    /// ```
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The consent prompt (default [`Prompt::None`]; passthrough scopes always prompt).
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.prompt(Prompt::Consent)
    /// # }
    /// ```
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = prompt;
        self
    }

    /// Bot permissions for the `bot` scope (the authorize URL's `permissions`).
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.permissions(Permissions::SEND_MESSAGES)
    /// # }
    /// ```
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// An extra authorize parameter (`guild_id`, `disable_guild_select`, `integration_type`...).
    /// Reserved keys ([`RESERVED_PARAMS`](crate::oauth::RESERVED_PARAMS)) are refused by
    /// `create_session`.
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.param("integration_type", "0")
    /// # }
    /// ```
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Where to send the user after the callback. Local paths only; anything else is ignored.
    /// [`Callback::next`] gives it back percent-encoded (plain ASCII, fit for `Location`).
    ///
    /// ```no_run
    /// # fn f(o: discord_oauth::LoginOptions) -> discord_oauth::LoginOptions {
    /// # use discord_oauth::{Prompt, Scope, permissions::Permissions};
    /// o.next("/settings")
    /// # }
    /// ```
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }
}

/// Which flow a callback completed, as remembered in the pending-login cookie (so one
/// `redirect_uri` serves every flow).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Flow {
    /// A login started by [`DiscordSession::create_session`].
    Login,
    /// An install started by [`DiscordSession::create_install`], with what Discord answered.
    Install(Box<Install>),
    /// A linked-roles login ([`LoginOptions::linked_role`]): the session now holds a token with
    /// `role_connections.write`.
    LinkedRole,
}

/// What a successful callback returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Callback {
    /// The `data` given to `create_session`, and nothing else.
    pub data: Option<serde_json::Value>,
    /// The local path to continue to (`/` when none was given), percent-encoded: plain ASCII,
    /// fit for a `Location` header, resolving to the same path as the one given.
    pub next: String,
    /// The logged-in user, when the `identify` scope was granted.
    pub user: Option<User>,
    /// The guild the bot was added to (bot flow). Returned, never stored.
    pub guild: Option<TokenGuild>,
    /// The incoming webhook created (`webhook.incoming`), with its token. Returned, never stored.
    pub webhook: Option<IncomingWebhook>,
    /// The scopes Discord granted.
    pub scopes: Scopes,
    /// Which flow ended: a login, an install (with its result), a linked-roles login.
    pub flow: Flow,
}

impl DiscordSession {
    /// The pending logins of this browser (none for a missing, forged or undecodable cookie).
    fn read_pending(&self) -> PendingSlots {
        let sessions = self.sessions();
        self.pending_cookie()
            .and_then(|raw| {
                sessions
                    .keys
                    .open(Purpose::Pending, &sessions.policy.pending_cookie, raw)
            })
            .and_then(|(bytes, _)| PendingSlots::decode(&bytes))
            .unwrap_or_default()
    }

    /// Writes the pending-login cookie (cleared when no login is pending). Browsers drop a
    /// cookie over 4 KiB (and `open` refuses one): the oldest logins give way until it fits.
    fn write_pending(&self, mut slots: PendingSlots) {
        let sessions = self.sessions();
        let name = &sessions.policy.pending_cookie;
        if slots.slots.is_empty() {
            self.clear_cookie(name);
            return;
        }
        loop {
            let sealed = sessions.keys.seal(Purpose::Pending, name, &slots.encode());
            if sealed.len() + name.len() <= pending::MAX_COOKIE_BYTES || slots.slots.len() <= 1 {
                self.push_cookie(name, &sealed, PENDING_LIFETIME_SECS);
                return;
            }
            slots.slots.remove(0);
        }
    }

    /// Starts a login (Flask-Discord's `create_session`): remembers state, PKCE verifier, `next`
    /// and `data` in the encrypted pending-login cookie and returns the Discord authorize URL to
    /// redirect to (302).
    ///
    /// ```no_run
    /// # fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::{LoginOptions, Scope};
    /// let url = session.create_session(LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]).next("/me"))?;
    /// // answer 302 with `Location: url`, and the session's Set-Cookie values
    /// # let _ = url; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Throttled`] when the [`LoginThrottle`](crate::session::LoginThrottle) refuses
    /// (nothing is minted); [`Error::InvalidRequest`] for a reserved `param` or oversized `data`.
    pub fn create_session(&self, options: LoginOptions) -> Result<url::Url, Error> {
        let span = tracing::info_span!(
            "discord.login",
            flow = ?options.flow,
            scopes = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        let _entered = span.enter();
        let result = self.create_session_in_span(options);
        if let Err(e) = &result {
            span.record("error", tracing::field::display(e));
        }
        result
    }

    /// Warns once per client when a login is started on another host than the redirect URI's:
    /// the pending-login cookie is set for the host the browser used, so it does not come back
    /// to the callback on the redirect URI's host and the login fails with an invalid state.
    /// Judged only for a redirect URI on an IP address or `localhost` (local development);
    /// behind a reverse proxy the `Host` an app sees may rightly differ.
    fn warn_if_another_host(&self) {
        let redirect = self.sessions().http().config().redirect_uri();
        let local = match redirect.host() {
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        let Some(host) = self.inner.host.as_ref() else {
            return;
        };
        let Some(expected) = redirect.host_str().filter(|_| local) else {
            return;
        };
        let expected = match redirect.port() {
            Some(port) => format!("{expected}:{port}"),
            None => expected.to_owned(),
        };
        if host.as_bytes().eq_ignore_ascii_case(expected.as_bytes())
            || self
                .sessions()
                .other_host_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let scheme = redirect.scheme();
        // The Host header is client input: shown escaped.
        let seen = String::from_utf8_lossy(host.as_bytes())
            .escape_debug()
            .to_string();
        tracing::warn!(
            "a login was started on {seen} but DISCORD_REDIRECT_URI sends users back to \
             {expected}: the browser will not bring the login cookie there and the callback \
             will fail with an invalid state; open the app at {scheme}://{expected} or change the \
             redirect URI (reported once)"
        );
    }

    /// [`create_session`](Self::create_session) inside its span.
    fn create_session_in_span(&self, options: LoginOptions) -> Result<url::Url, Error> {
        self.throttle(super::LoginStep::Login)?;
        oauth::check_extra_params(&options.params)?;
        self.warn_if_another_host();
        let mut scopes = options
            .scopes
            .unwrap_or_else(|| Scopes::from(Scope::Identify));
        if options.flow == PendingFlow::LinkedRole {
            scopes.insert(Scope::RoleConnectionsWrite);
        }
        if scopes.is_empty() {
            return Err(Error::InvalidRequest(
                "at least one scope is required".into(),
            ));
        }
        tracing::Span::current().record("scopes", tracing::field::display(&scopes));
        let data = match &options.data {
            Some(v) => {
                // A `serde_json::Value` always serializes.
                let s = v.to_string();
                if s.len() > pending::MAX_DATA_LEN {
                    return Err(Error::InvalidRequest(format!(
                        "login data must be at most {} bytes of JSON",
                        pending::MAX_DATA_LEN
                    )));
                }
                Some(s)
            }
            None => None,
        };
        let pkce = !scopes.iter().any(Scope::forbids_pkce);
        let verifier = pkce.then(PkceVerifier::random);
        let state = OAuthState::random();
        let now = self.now();
        let url = oauth::authorize_url(
            self.sessions().config(),
            &oauth::AuthorizeParams {
                scopes: &scopes,
                state: &state,
                verifier: verifier.as_ref(),
                prompt: options.prompt,
                permissions: options.permissions,
                extra: &options.params,
            },
        );
        let mut slots = self.read_pending();
        slots.push(
            PendingLogin {
                state,
                verifier,
                next: options.next.as_deref().and_then(local_next),
                data,
                scopes: scopes.to_string(),
                created_at: now,
                flow: options.flow,
            },
            now,
            PENDING_LIFETIME_SECS,
        );
        self.write_pending(slots);
        Ok(url)
    }

    /// Completes a login (Flask-Discord's `callback`) from the callback's query string: checks
    /// the state, exchanges the code (with the PKCE verifier), replaces the session and returns
    /// the caller's `data` and the [`Flow`] that ended.
    ///
    /// An install ([`Flow::Install`]) is checked first: when it was pinned to a guild and
    /// Discord's `guild` names another one, the callback fails with
    /// [`Error::InstallGuildMismatch`] and no session is created or replaced. An install that
    /// asked only for `bot`, `applications.commands` or `webhook.incoming` leaves the
    /// browser's session as it was (that token can read nothing of the user); with more
    /// scopes (`identify`...) it is also a login.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession, query: &str) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::session::Flow;
    /// let done = session.callback(query).await?;
    /// match &done.flow {
    ///     Flow::Install(install) => println!("added to {:?}", install.guild_name()),
    ///     _ => { /* answer 302 to `done.next`, with the session's Set-Cookie values */ }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cost and throttling
    /// The state is checked first, then the code's shape (1 to 512 characters of
    /// `[A-Za-z0-9._~-]`): a missing or foreign state, or a malformed code, is refused without
    /// any request to Discord. A well-formed code with a valid state costs one token request,
    /// and anyone can get a valid state from the login route: to bound what unauthenticated
    /// clients can make the application spend, give the builder a
    /// [`LoginThrottle`](crate::session::LoginThrottle), asked first here and in
    /// [`create_session`](Self::create_session) ([`Error::Throttled`], 429, when it refuses);
    /// Discord's own limits on the token endpoint are enforced by the library either way.
    ///
    /// # Errors
    /// [`Error::Throttled`] when the [`LoginThrottle`](crate::session::LoginThrottle) refuses
    /// (the state is left unused); then
    /// [`Error::InvalidState`] for a missing, forged, expired or reused state, whatever else
    /// the query holds (no token request is sent); then [`Error::AccessDenied`] when the user
    /// pressed Cancel; [`Error::InvalidRequest`] for a missing or malformed code (no token
    /// request is sent); [`Error::OAuth`] for a bad code; [`Error::InstallGuildMismatch`];
    /// upstream failures.
    pub async fn callback(&self, query: &str) -> Result<Callback, Error> {
        let span = tracing::info_span!(
            "discord.callback",
            user = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        super::traced(span, self.callback_in_span(query)).await
    }

    /// [`callback`](Self::callback) inside its span.
    async fn callback_in_span(&self, query: &str) -> Result<Callback, Error> {
        // Before the state is used up: a throttled callback can be retried.
        self.throttle(super::LoginStep::Callback)?;
        let query = CallbackQuery::parse(query);
        let now = self.now();
        let pending = self.take_pending(&query, now).await?;
        let Some(code) = query.code() else {
            return Err(Error::InvalidRequest("the callback has no code".into()));
        };
        let token =
            oauth::exchange_code(self.sessions().http(), code, pending.verifier.as_ref()).await?;
        let guild = token.guild.clone();
        let webhook = token.webhook.clone();
        let flow = flow_of(pending.flow, &query, guild.as_ref(), webhook.as_ref())?;
        let mut record = record_from_grant(token, None, now);
        if record.scopes.is_empty() {
            record.scopes = pending.scopes.parse().unwrap_or_default();
        }
        let login = !matches!(flow, Flow::Install(_))
            || record.scopes.iter().any(|s| {
                !matches!(
                    s,
                    Scope::Bot | Scope::ApplicationsCommands | Scope::WebhookIncoming
                )
            });
        let user = if login {
            self.fetch_login_user(&mut record).await
        } else {
            None
        };
        if login {
            // Replace any previous session of this browser: new id, old one ended.
            if let Some(old) = self.record().await.ok().flatten() {
                self.end_locally(&old).await;
            }
            self.save_record(&record, None).await?;
            tracing::Span::current().record("user", record.user_id);
            tracing::info!(user = record.user_id, scopes = %record.scopes, "logged in with Discord");
            if let Some(u) = &user {
                crate::cache::seed_user(
                    self.sessions().cache(),
                    self.sessions().cache_ttls(),
                    &record.id,
                    u,
                    now,
                )
                .await;
            }
        }
        Ok(Callback {
            data: pending.data.and_then(|s| serde_json::from_str(&s).ok()),
            next: pending
                .next
                .as_deref()
                .and_then(local_next)
                .unwrap_or_else(|| "/".to_owned()),
            user,
            guild,
            webhook,
            scopes: record.scopes,
            flow,
        })
    }

    /// The pending login the callback's state names, used up whatever happens next. The state
    /// is checked first, whatever else the query holds: a missing, forged, expired or reused
    /// state is [`Error::InvalidState`], and an `error` or a `code` that arrive with it are
    /// never acted on. Only then Discord's error counts, and a malformed code is refused
    /// before any token request.
    async fn take_pending(&self, query: &CallbackQuery, now: u64) -> Result<PendingLogin, Error> {
        let Some(state) = query.state() else {
            return Err(Error::InvalidState(StateError::Missing));
        };
        let mut slots = self.read_pending();
        let Some(pending) = slots.take(state) else {
            return Err(Error::InvalidState(StateError::Mismatch));
        };
        self.write_pending(slots);
        let until = pending.created_at.saturating_add(PENDING_LIFETIME_SECS);
        if until <= now || pending.created_at > now.saturating_add(60) {
            return Err(Error::InvalidState(StateError::Expired));
        }
        if let Some(error) = query.error() {
            return Err(error);
        }
        let Some(code) = query.code() else {
            return Err(Error::InvalidRequest("the callback has no code".into()));
        };
        if !oauth::is_plausible_code(code) {
            return Err(Error::InvalidRequest(
                "the callback's code is malformed".into(),
            ));
        }
        let fresh = self
            .sessions()
            .consumed
            .consume(Fingerprint::of(state).as_bytes(), until, now)
            .await?;
        if !fresh {
            return Err(Error::InvalidState(StateError::Reused));
        }
        Ok(pending)
    }

    /// The user of a new login (`identify` granted), fetched once to know their id; a failure
    /// is logged and the login goes on without it.
    async fn fetch_login_user(&self, record: &mut SessionRecord) -> Option<User> {
        if !record.scopes.contains(&Scope::Identify) {
            return None;
        }
        let mut call = Call::api(Route::current_user());
        call.identity = Identity::Token(Fingerprint::of(record.access_token.secret()).short());
        match self
            .sessions()
            .http()
            .send_json::<User>(call, Auth::Bearer(&record.access_token))
            .await
        {
            Ok(user) => {
                record.user_id = Some(user.id.get());
                Some(user)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch the user after login; continuing without");
                None
            }
        }
    }
}

/// The flow a callback completed; for a pinned install, fails unless Discord's answer names the
/// pinned guild (the token response's `guild` is authoritative, the redirect's `guild_id` a
/// hint).
fn flow_of(
    pending: PendingFlow,
    query: &CallbackQuery,
    guild: Option<&TokenGuild>,
    webhook: Option<&IncomingWebhook>,
) -> Result<Flow, Error> {
    let (pinned, integration_type, bot) = match pending {
        PendingFlow::Login => return Ok(Flow::Login),
        PendingFlow::LinkedRole => return Ok(Flow::LinkedRole),
        PendingFlow::Install {
            guild_id,
            integration_type,
            bot,
        } => (guild_id.map(GuildId::new), integration_type, bot),
    };
    let hint = query
        .guild_id
        .as_deref()
        .and_then(|g| g.parse::<GuildId>().ok());
    // With `bot`, Discord names the guild in the token response: only that counts. Without
    // it, the redirect's hint is all there is.
    let answered = if bot {
        guild.map(|g| g.id)
    } else {
        guild.map(|g| g.id).or(hint)
    };
    if let Some(expected) = pinned
        && answered != Some(expected)
        && (answered.is_some() || bot)
    {
        return Err(Error::InstallGuildMismatch {
            expected,
            got: answered,
        });
    }
    let answered = answered.or(hint);
    let permissions = query
        .permissions
        .as_deref()
        .and_then(|p| Permissions::from_decimal_str(p).ok());
    Ok(Flow::Install(Box::new(Install::new(
        IntegrationType::from(integration_type),
        guild.cloned(),
        answered,
        permissions,
        webhook.cloned(),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(guild_id: Option<u64>, bot: bool) -> PendingFlow {
        PendingFlow::Install {
            guild_id,
            integration_type: 0,
            bot,
        }
    }

    fn guild(id: u64) -> TokenGuild {
        TokenGuild::from_value(serde_json::json!({ "id": id.to_string(), "name": "G" })).unwrap()
    }

    fn mismatch(r: Result<Flow, Error>) -> Option<(u64, Option<u64>)> {
        match r {
            Err(Error::InstallGuildMismatch { expected, got }) => {
                Some((expected.get(), got.map(GuildId::get)))
            }
            _ => None,
        }
    }

    #[test]
    fn the_token_guild_decides_a_pinned_bot_install() {
        let q = CallbackQuery::parse("guild_id=1&permissions=3072");
        assert!(matches!(
            flow_of(install(Some(1), true), &q, Some(&guild(1)), None),
            Ok(Flow::Install(i)) if i.permissions.map(|p| p.bits()) == Some(3072)
        ));
        assert_eq!(
            mismatch(flow_of(install(Some(1), true), &q, Some(&guild(2)), None)),
            Some((1, Some(2)))
        );
        // The bot was asked for but no guild came back: the hint alone is not trusted.
        assert_eq!(
            mismatch(flow_of(install(Some(1), true), &q, None, None)),
            Some((1, None))
        );
        // Without the bot, the hint is checked when present.
        let other = CallbackQuery::parse("guild_id=2");
        assert_eq!(
            mismatch(flow_of(install(Some(1), false), &other, None, None)),
            Some((1, Some(2)))
        );
        assert!(
            flow_of(
                install(Some(1), false),
                &CallbackQuery::default(),
                None,
                None
            )
            .is_ok()
        );
        // Not pinned: whatever guild the user chose.
        assert!(matches!(
            flow_of(install(None, true), &q, Some(&guild(9)), None),
            Ok(Flow::Install(i)) if i.guild_id == Some(GuildId::new(9))
        ));
        assert!(matches!(
            flow_of(PendingFlow::Login, &q, Some(&guild(9)), None),
            Ok(Flow::Login)
        ));
    }
}
