//! Configuration: Flask-Discord's config keys (`DISCORD_CLIENT_ID`, `DISCORD_CLIENT_SECRET`,
//! `DISCORD_REDIRECT_URI`, `DISCORD_BOT_TOKEN`, `DISCORD_USERS_CACHE_MAX_LIMIT`) plus what a
//! production client needs: where Discord and its CDN live (so a fake can stand in), a proxy,
//! one overall deadline per call, the User-Agent, the [`Clock`] and the application's public key
//! (`DISCORD_PUBLIC_KEY`, which verifies Discord's webhook events).
//!
//! Build it with [`Config::builder`] or read it with [`Config::from_env`]. A missing or malformed
//! value is a [`ConfigError`] naming the key; secret values never appear in the message.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::vocab::clock::{Clock, SystemClock};
use crate::vocab::secret::{BotToken, ClientSecret, SecretKey};

/// Discord's root (authorize at `{base}/oauth2/authorize`, REST at `{base}/api/v10`).
pub const DEFAULT_BASE_URL: &str = "https://discord.com";
/// Discord's CDN for avatars, banners and icons.
pub const DEFAULT_CDN_URL: &str = "https://cdn.discordapp.com";
/// The REST API version this crate speaks. Unversioned `/api` routes to the deprecated v6
/// ([Discord: API Versioning](https://discord.com/developers/docs/reference#api-versioning)), so
/// every call is pinned to v10.
pub const API_VERSION: u8 = 10;
/// The default size of the users cache (Flask-Discord's `DISCORD_USERS_CACHE_MAX_LIMIT`).
pub const DEFAULT_USERS_CACHE_MAX_LIMIT: u64 = 100;
/// The shortest `SECRET_KEY` accepted, in bytes: the session keys are derived from it with HKDF,
/// so it must carry at least 256 bits of entropy.
pub const MIN_SECRET_KEY_LEN: usize = 32;
/// The default overall deadline of one call, retries and rate-limit waits included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A configuration value that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct ConfigError {
    /// The configuration key (environment variable or builder field).
    pub key: &'static str,
    /// What is wrong with it. Never contains a secret value.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(key: &'static str, reason: impl Into<String>) -> Self {
        Self {
            key,
            reason: reason.into(),
        }
    }

    /// A key missing from the environment (or the lookup): says which variable to set.
    fn missing(key: &'static str) -> Self {
        Self::new(
            key,
            format!(
                "is required but missing: set the {key} environment variable{}",
                hint(key)
            ),
        )
    }

    /// A value missing from a [`ConfigBuilder`]: names the builder method to call.
    fn missing_in_builder(key: &'static str, method: &str) -> Self {
        Self::new(
            key,
            format!(
                "is required but missing: call `Config::builder().{method}(..)`{}",
                hint(key)
            ),
        )
    }
}

/// Where a required value comes from.
fn hint(key: &str) -> &'static str {
    match key {
        "DISCORD_CLIENT_ID" | "DISCORD_CLIENT_SECRET" => {
            " (the application's OAuth2 page at https://discord.com/developers/applications)"
        }
        "DISCORD_REDIRECT_URI" => {
            " (the callback URL of this app, registered on the application's OAuth2 page at \
             https://discord.com/developers/applications, e.g. `http://127.0.0.1:5000/callback`)"
        }
        _ => "",
    }
}

/// An HTTP(S) forward proxy for every call to Discord (Flask-Discord's `proxy` and `proxy_auth`).
#[derive(Clone)]
pub struct ProxyConfig {
    /// The proxy URL, e.g. `http://proxy.internal:3128`.
    pub url: Url,
    /// Basic credentials for the proxy, if any.
    pub auth: Option<(String, ClientSecret)>,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        let _ = shown.set_password(None);
        f.debug_struct("ProxyConfig")
            .field("url", &shown.as_str())
            .field(
                "auth",
                &self.auth.as_ref().map(|(user, _)| (user, "[redacted]")),
            )
            .finish()
    }
}

/// The client configuration. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Config {
    inner: Arc<ConfigInner>,
}

#[derive(Debug)]
struct ConfigInner {
    client_id: u64,
    client_secret: ClientSecret,
    redirect_uri: Url,
    bot_token: Option<BotToken>,
    users_cache_max_limit: u64,
    base_url: Url,
    cdn_url: Url,
    api_base: String,
    authorize_url: Url,
    token_url: Url,
    revoke_url: Url,
    proxy: Option<ProxyConfig>,
    request_timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    clock: Arc<dyn Clock>,
    secret_key: Option<SecretKey>,
    previous_secret_keys: Vec<SecretKey>,
    public_key: Option<[u8; 32]>,
}

impl Config {
    /// Starts a builder.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads the configuration from the environment:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `DISCORD_CLIENT_ID` | application id | required |
    /// | `DISCORD_CLIENT_SECRET` | application secret | required |
    /// | `DISCORD_REDIRECT_URI` | the callback URL registered at Discord | required |
    /// | `DISCORD_BOT_TOKEN` | bot token for bot routes | none |
    /// | `DISCORD_USERS_CACHE_MAX_LIMIT` | users kept in the cache | 100 |
    /// | `DISCORD_BASE_URL` | root of Discord | `https://discord.com` |
    /// | `DISCORD_CDN_URL` | root of the CDN | `https://cdn.discordapp.com` |
    /// | `DISCORD_PROXY_URL` | forward proxy, credentials allowed as `http://user:pass@host:port` | none |
    /// | `DISCORD_REQUEST_TIMEOUT_MS` | overall deadline per call | 10000 |
    /// | `SECRET_KEY` | key the session cookie keys are derived from (at least 32 bytes) | random per start, with a warning |
    /// | `SECRET_KEY_FALLBACKS` | comma-separated previous keys, still accepted for reading (key rotation) | none |
    /// | `DISCORD_PUBLIC_KEY` | the application's Ed25519 public key (64 hex digits), to verify webhook events | none |
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or malformed key.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`from_env`](Self::from_env) but reads keys through `lookup` (for tests and for
    /// frameworks with their own config maps, like Flask-Discord's `app.config`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or malformed key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let mut b = Config::builder();
        b.client_id = Some(parse_client_id(
            "DISCORD_CLIENT_ID",
            &get("DISCORD_CLIENT_ID").ok_or_else(|| ConfigError::missing("DISCORD_CLIENT_ID"))?,
        )?);
        b.client_secret = Some(ClientSecret::new(
            get("DISCORD_CLIENT_SECRET")
                .ok_or_else(|| ConfigError::missing("DISCORD_CLIENT_SECRET"))?,
        ));
        b.redirect_uri = Some(
            get("DISCORD_REDIRECT_URI")
                .ok_or_else(|| ConfigError::missing("DISCORD_REDIRECT_URI"))?,
        );
        b.bot_token = get("DISCORD_BOT_TOKEN").map(BotToken::new);
        if let Some(v) = get("DISCORD_USERS_CACHE_MAX_LIMIT") {
            b.users_cache_max_limit = Some(v.trim().parse().map_err(|_| {
                ConfigError::new(
                    "DISCORD_USERS_CACHE_MAX_LIMIT",
                    "must be a non-negative integer",
                )
            })?);
        }
        b.base_url = get("DISCORD_BASE_URL");
        b.cdn_url = get("DISCORD_CDN_URL");
        b.proxy_url = get("DISCORD_PROXY_URL");
        if let Some(v) = get("DISCORD_REQUEST_TIMEOUT_MS") {
            let ms: u64 = v.trim().parse().map_err(|_| {
                ConfigError::new(
                    "DISCORD_REQUEST_TIMEOUT_MS",
                    "must be a positive integer (milliseconds)",
                )
            })?;
            b.request_timeout = Some(Duration::from_millis(ms));
        }
        b.secret_key = get("SECRET_KEY").map(SecretKey::new);
        if let Some(v) = get("SECRET_KEY_FALLBACKS") {
            b.previous_secret_keys = v
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(SecretKey::new)
                .collect();
        }
        b.public_key = get("DISCORD_PUBLIC_KEY");
        b.build()
    }

    /// The application's client id.
    #[must_use]
    pub fn client_id(&self) -> u64 {
        self.inner.client_id
    }

    /// The redirect URI sent on authorize and repeated on the code exchange.
    #[must_use]
    pub fn redirect_uri(&self) -> &Url {
        &self.inner.redirect_uri
    }

    /// Checks, at start-up, that the redirect URI can bring users back to a server listening on
    /// `local_addr` (the address the app's listener is bound to), so a mismatch is said at once
    /// instead of as an empty answer after the user consents on Discord.
    ///
    /// Only a redirect URI whose host is an IP address or `localhost` can be judged; a domain
    /// name (an app behind a reverse proxy, a tunnel) is always accepted. It fails when:
    /// - the redirect URI's port (or its scheme's default port) is not `local_addr`'s port;
    /// - its host is a loopback address or `localhost` but the listener is bound to another
    ///   interface, or its host is another IP address but the listener is bound to loopback
    ///   or to a different address.
    ///
    /// A port forwarded in front of the app (a container's published port) defeats the first
    /// rule: log the error as a warning there rather than failing.
    ///
    /// ```
    /// # fn f() -> Result<(), discord_oauth::config::ConfigError> {
    /// let config = discord_oauth::Config::builder()
    ///     .client_id(1)
    ///     .client_secret("secret")
    ///     .redirect_uri("http://127.0.0.1:5000/callback")
    ///     .build()?;
    /// assert!(config.check_listener("127.0.0.1:5000".parse().unwrap()).is_ok());
    /// let err = config.check_listener("127.0.0.1:8080".parse().unwrap()).unwrap_err();
    /// assert!(err.to_string().contains("port 5000"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] for the redirect URI that says what to change.
    pub fn check_listener(&self, local_addr: std::net::SocketAddr) -> Result<(), ConfigError> {
        use std::net::IpAddr;
        let uri = &self.inner.redirect_uri;
        let key = "redirect_uri (DISCORD_REDIRECT_URI)";
        let host: Option<IpAddr> = match uri.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => None,
            _ => return Ok(()),
        };
        let loopback = host.is_none_or(|ip| ip.is_loopback());
        let Some(port) = uri.port_or_known_default() else {
            return Ok(());
        };
        let suggested = {
            let mut u = uri.clone();
            // Setting the port of an http(s) URL with a host cannot fail.
            let _ = u.set_port(Some(local_addr.port()));
            u
        };
        if port != local_addr.port() {
            return Err(ConfigError::new(
                key,
                format!(
                    "{uri} sends users back to port {port}, but this server listens on \
                     {local_addr}: set the redirect URI to {suggested} (and add it under \
                     OAuth2 > Redirects in the Discord Developer Portal), or listen on port \
                     {port}"
                ),
            ));
        }
        let bound = local_addr.ip();
        let reachable = bound.is_unspecified()
            || if loopback {
                bound.is_loopback()
            } else {
                host == Some(bound)
            };
        if !reachable {
            return Err(ConfigError::new(
                key,
                format!(
                    "{uri} sends users back to {}, but this server listens on {local_addr} \
                     only: listen on {}:{port} (or 0.0.0.0:{port}), or change the redirect URI",
                    uri.host_str().unwrap_or_default(),
                    match host {
                        Some(ip) if ip.is_ipv6() => format!("[{ip}]"),
                        Some(ip) => ip.to_string(),
                        None => "127.0.0.1".to_owned(),
                    },
                ),
            ));
        }
        Ok(())
    }

    /// Whether a bot token is configured.
    #[must_use]
    pub fn has_bot_token(&self) -> bool {
        self.inner.bot_token.is_some()
    }

    /// The users cache bound (`DISCORD_USERS_CACHE_MAX_LIMIT`).
    #[must_use]
    pub fn users_cache_max_limit(&self) -> u64 {
        self.inner.users_cache_max_limit
    }

    /// Discord's root URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The CDN root URL.
    #[must_use]
    pub fn cdn_url(&self) -> &Url {
        &self.inner.cdn_url
    }

    /// The REST base: `{base}/api/v10`, without a trailing slash.
    #[must_use]
    pub fn api_base(&self) -> &str {
        &self.inner.api_base
    }

    /// `{base}/oauth2/authorize` (no `/api`:
    /// [Discord: OAuth2 URLs](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-urls)).
    #[must_use]
    pub fn authorize_url(&self) -> &Url {
        &self.inner.authorize_url
    }

    /// `{base}/api/v10/oauth2/token`.
    #[must_use]
    pub fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// `{base}/api/v10/oauth2/token/revoke`.
    #[must_use]
    pub fn revoke_url(&self) -> &Url {
        &self.inner.revoke_url
    }

    /// The overall deadline of one call (retries and rate-limit waits included).
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    /// The User-Agent sent on every call.
    #[must_use]
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// The key sealing the cookies (`None`: a random key per process).
    pub(crate) fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.secret_key.as_ref()
    }

    /// Previous keys, accepted for reading during a rotation.
    pub(crate) fn previous_secret_keys(&self) -> &[SecretKey] {
        &self.inner.previous_secret_keys
    }

    /// The bot token, when configured.
    pub(crate) fn bot_token(&self) -> Option<&BotToken> {
        self.inner.bot_token.as_ref()
    }

    /// The client secret.
    pub(crate) fn client_secret(&self) -> &ClientSecret {
        &self.inner.client_secret
    }

    /// The outgoing proxy, when configured.
    pub(crate) fn proxy(&self) -> Option<&ProxyConfig> {
        self.inner.proxy.as_ref()
    }

    /// The TCP/TLS connect timeout.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.inner.connect_timeout
    }

    /// The clock used for every expiry decision.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The application's Ed25519 public key (`DISCORD_PUBLIC_KEY`), which verifies the
    /// signature of Discord's webhook events; `None` when not configured. Not a secret.
    #[must_use]
    pub fn public_key(&self) -> Option<&[u8; 32]> {
        self.inner.public_key.as_ref()
    }
}

/// Builder for [`Config`]. Every setter consumes and returns the builder.
#[derive(Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ConfigBuilder {
    client_id: Option<u64>,
    client_secret: Option<ClientSecret>,
    redirect_uri: Option<String>,
    bot_token: Option<BotToken>,
    users_cache_max_limit: Option<u64>,
    base_url: Option<String>,
    cdn_url: Option<String>,
    proxy_url: Option<String>,
    proxy_auth: Option<(String, ClientSecret)>,
    request_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    clock: Option<Arc<dyn Clock>>,
    secret_key: Option<SecretKey>,
    previous_secret_keys: Vec<SecretKey>,
    public_key: Option<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The application id (`DISCORD_CLIENT_ID`).
    pub fn client_id(mut self, id: u64) -> Self {
        self.client_id = Some(id);
        self
    }

    /// The client secret (`DISCORD_CLIENT_SECRET`).
    pub fn client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The redirect URI registered at Discord (`DISCORD_REDIRECT_URI`).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The bot token (`DISCORD_BOT_TOKEN`).
    pub fn bot_token(mut self, token: impl Into<BotToken>) -> Self {
        self.bot_token = Some(token.into());
        self
    }

    /// The users cache bound (`DISCORD_USERS_CACHE_MAX_LIMIT`, default 100).
    pub fn users_cache_max_limit(mut self, limit: u64) -> Self {
        self.users_cache_max_limit = Some(limit);
        self
    }

    /// Discord's root (`DISCORD_BASE_URL`), e.g. a fake Discord's `http://127.0.0.1:PORT`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The CDN root (`DISCORD_CDN_URL`).
    pub fn cdn_url(mut self, url: impl Into<String>) -> Self {
        self.cdn_url = Some(url.into());
        self
    }

    /// A forward proxy for every call (Flask-Discord's `proxy`). Credentials may be in the URL.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy_url = Some(url.into());
        self
    }

    /// Basic credentials for the proxy (Flask-Discord's `proxy_auth`).
    pub fn proxy_auth(
        mut self,
        username: impl Into<String>,
        password: impl Into<ClientSecret>,
    ) -> Self {
        self.proxy_auth = Some((username.into(), password.into()));
        self
    }

    /// The overall deadline of one call, retries and rate-limit waits included (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The TCP connect timeout of one attempt (default 5 s, never above the overall deadline).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Overrides the User-Agent. Discord requires the form `DiscordBot ($url, $version)`
    /// ([Discord: User Agent](https://discord.com/developers/docs/reference#user-agent)); anything
    /// else is rejected by `build`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// The clock for expiry decisions (default [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The key the session cookies' keys are derived from (`SECRET_KEY`, at least 32 bytes).
    /// Without one, a random key is made per start (sessions then do not survive a restart
    /// and are not shared between processes) and a warning is logged.
    pub fn secret_key(mut self, key: impl Into<SecretKey>) -> Self {
        self.secret_key = Some(key.into());
        self
    }

    /// Previous keys, still accepted when reading cookies, so that `SECRET_KEY` can be rotated
    /// without logging everyone out (`SECRET_KEY_FALLBACKS`).
    pub fn previous_secret_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.previous_secret_keys = keys.into_iter().collect();
        self
    }

    /// The application's Ed25519 public key as 64 hex digits (`DISCORD_PUBLIC_KEY`, shown on
    /// the application's page of Discord's developer portal), to verify webhook events
    /// ([Discord: Webhook Events](https://discord.com/developers/docs/events/webhook-events)).
    pub fn public_key(mut self, hex: impl Into<String>) -> Self {
        self.public_key = Some(hex.into());
        self
    }

    /// Validates and builds the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or malformed key.
    pub fn build(self) -> Result<Config, ConfigError> {
        let client_id = check_client_id(self.client_id)?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ConfigError::missing_in_builder("DISCORD_CLIENT_SECRET", "client_secret")
            })?;
        let redirect_uri = check_redirect_uri(self.redirect_uri)?;
        let bot_token = check_bot_token(self.bot_token)?;
        let base_url = parse_root(
            "DISCORD_BASE_URL",
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
        )?;
        let cdn_url = parse_root(
            "DISCORD_CDN_URL",
            self.cdn_url.as_deref().unwrap_or(DEFAULT_CDN_URL),
        )?;
        let endpoints = Endpoints::under(&base_url)?;
        let proxy = match self.proxy_url {
            None => None,
            Some(raw) => Some(proxy_config(&raw, self.proxy_auth)?),
        };
        let request_timeout = self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        if request_timeout.is_zero() {
            return Err(ConfigError::new(
                "DISCORD_REQUEST_TIMEOUT_MS",
                "must be greater than zero",
            ));
        }
        let connect_timeout = self
            .connect_timeout
            .unwrap_or(Duration::from_secs(5))
            .min(request_timeout);
        let user_agent = match self.user_agent {
            Some(ua) => check_user_agent(ua)?,
            None => default_user_agent(),
        };
        check_secret_keys(self.secret_key.as_ref(), &self.previous_secret_keys)?;
        let public_key = match self.public_key.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(hex) => Some(parse_public_key(hex)?),
        };
        Ok(Config {
            inner: Arc::new(ConfigInner {
                client_id,
                client_secret,
                redirect_uri,
                bot_token,
                users_cache_max_limit: self
                    .users_cache_max_limit
                    .unwrap_or(DEFAULT_USERS_CACHE_MAX_LIMIT),
                base_url,
                cdn_url,
                api_base: endpoints.api_base,
                authorize_url: endpoints.authorize,
                token_url: endpoints.token,
                revoke_url: endpoints.revoke,
                proxy,
                request_timeout,
                connect_timeout,
                user_agent,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                secret_key: self.secret_key,
                previous_secret_keys: self.previous_secret_keys,
                public_key,
            }),
        })
    }
}

/// `DISCORD_CLIENT_ID`: present and not zero.
fn check_client_id(id: Option<u64>) -> Result<u64, ConfigError> {
    match id {
        None => Err(ConfigError::missing_in_builder(
            "DISCORD_CLIENT_ID",
            "client_id",
        )),
        Some(0) => Err(ConfigError::new(
            "DISCORD_CLIENT_ID",
            "must be a non-zero application id",
        )),
        Some(id) => Ok(id),
    }
}

/// `DISCORD_REDIRECT_URI`: present, http(s), no fragment.
fn check_redirect_uri(raw: Option<String>) -> Result<Url, ConfigError> {
    let raw =
        raw.ok_or_else(|| ConfigError::missing_in_builder("DISCORD_REDIRECT_URI", "redirect_uri"))?;
    let url = parse_http_url("DISCORD_REDIRECT_URI", &raw)?;
    if url.fragment().is_some() {
        return Err(ConfigError::new(
            "DISCORD_REDIRECT_URI",
            "must not contain a fragment",
        ));
    }
    Ok(url)
}

/// `DISCORD_BOT_TOKEN`: optional (empty is unset), without whitespace.
fn check_bot_token(token: Option<BotToken>) -> Result<Option<BotToken>, ConfigError> {
    let token = token.filter(|t| !t.is_empty());
    if let Some(t) = &token
        && t.secret()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ConfigError::new(
            "DISCORD_BOT_TOKEN",
            "must not contain whitespace",
        ));
    }
    Ok(token)
}

/// Discord's URLs under a base URL.
struct Endpoints {
    api_base: String,
    authorize: Url,
    token: Url,
    revoke: Url,
}

impl Endpoints {
    fn under(base_url: &Url) -> Result<Self, ConfigError> {
        let root = base_url.as_str().trim_end_matches('/');
        let join = |path: &str| {
            Url::parse(&format!("{root}{path}")).map_err(|e| {
                ConfigError::new("DISCORD_BASE_URL", format!("cannot derive {path}: {e}"))
            })
        };
        Ok(Self {
            api_base: format!("{root}/api/v{API_VERSION}"),
            authorize: join("/oauth2/authorize")?,
            token: join(&format!("/api/v{API_VERSION}/oauth2/token"))?,
            revoke: join(&format!("/api/v{API_VERSION}/oauth2/token/revoke"))?,
        })
    }
}

/// The proxy of `DISCORD_PROXY_URL`; credentials in the URL move to `auth` unless given apart.
fn proxy_config(
    raw: &str,
    auth: Option<(String, ClientSecret)>,
) -> Result<ProxyConfig, ConfigError> {
    let mut url = parse_http_url("DISCORD_PROXY_URL", raw)?;
    let mut auth = auth;
    if !url.username().is_empty() && auth.is_none() {
        let user = percent_decode(url.username());
        let pass = url.password().map(percent_decode).unwrap_or_default();
        auth = Some((user, ClientSecret::new(pass)));
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(ProxyConfig { url, auth })
}

/// A user agent of the form Discord requires, that a header can carry.
fn check_user_agent(ua: String) -> Result<String, ConfigError> {
    if !ua.starts_with("DiscordBot (") || http::HeaderValue::from_str(&ua).is_err() {
        return Err(ConfigError::new(
            "user_agent",
            "must have the form `DiscordBot ($url, $versionNumber)` (Discord's rule)",
        ));
    }
    Ok(ua)
}

/// Every cookie key at least [`MIN_SECRET_KEY_LEN`] bytes long.
fn check_secret_keys(
    current: Option<&SecretKey>,
    previous: &[SecretKey],
) -> Result<(), ConfigError> {
    let keys = current
        .map(|k| ("SECRET_KEY", k))
        .into_iter()
        .chain(previous.iter().map(|k| ("SECRET_KEY_FALLBACKS", k)));
    for (key, value) in keys {
        if value.secret().len() < MIN_SECRET_KEY_LEN {
            return Err(ConfigError::new(
                key,
                format!(
                    "is too short: at least {MIN_SECRET_KEY_LEN} bytes are required; \
                     make one with `openssl rand -hex 32`"
                ),
            ));
        }
    }
    Ok(())
}

/// `DISCORD_PUBLIC_KEY`: 32 bytes as 64 hex digits (either case) and, with the `events`
/// feature, a valid Ed25519 point.
fn parse_public_key(hex: &str) -> Result<[u8; 32], ConfigError> {
    let bad = || {
        ConfigError::new(
            "DISCORD_PUBLIC_KEY",
            "must be the application's Ed25519 public key: 64 hexadecimal digits",
        )
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (out, pair) in key.iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
        *out = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    #[cfg(feature = "events")]
    if ed25519_dalek::VerifyingKey::from_bytes(&key).is_err() {
        return Err(ConfigError::new(
            "DISCORD_PUBLIC_KEY",
            "is not a valid Ed25519 public key",
        ));
    }
    Ok(key)
}

/// `DiscordBot (https://github.com/discord-oauth/discord-oauth, 0.1.0)`: the form Discord requires
/// ([Discord: User Agent](https://discord.com/developers/docs/reference#user-agent)); a bad
/// User-Agent can get a Cloudflare block (40333).
#[must_use]
pub fn default_user_agent() -> String {
    format!(
        "DiscordBot ({}, {}) discord-oauth-rs",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

fn parse_client_id(key: &'static str, raw: &str) -> Result<u64, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(ConfigError::new(
            key,
            "must be the numeric application id (a snowflake)",
        )),
        Ok(id) => Ok(id),
    }
}

fn parse_http_url(key: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new(
            key,
            format!("is not a valid URL ({e}){}", scheme_hint(key, raw)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(
            key,
            format!("must be an absolute http(s) URL{}", scheme_hint(key, raw)),
        ));
    }
    Ok(url)
}

/// For a value without a scheme (`127.0.0.1:5000/callback`, `localhost:5000/callback`): the
/// missing `http://`. The value itself is shown except for the proxy URL (it may hold a
/// password).
fn scheme_hint(key: &str, raw: &str) -> String {
    if raw.contains("://") {
        return String::new();
    }
    if key == "DISCORD_PROXY_URL" {
        "; it has no scheme: add `http://` in front".to_owned()
    } else {
        format!("; it has no scheme: did you mean `http://{raw}`?")
    }
}

fn parse_root(key: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = parse_http_url(key, raw)?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::new(
            key,
            "must be a plain root URL without query, fragment or credentials",
        ));
    }
    Ok(url)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const OK: &[(&str, &str)] = &[
        ("DISCORD_CLIENT_ID", "157730590492196864"),
        ("DISCORD_CLIENT_SECRET", "s3cr3t-value"),
        ("DISCORD_REDIRECT_URI", "http://127.0.0.1:5000/callback"),
    ];

    #[test]
    fn defaults_and_derived_urls() {
        let c = Config::from_lookup(env(OK)).unwrap();
        assert_eq!(c.client_id(), 157_730_590_492_196_864);
        assert_eq!(c.api_base(), "https://discord.com/api/v10");
        assert_eq!(
            c.authorize_url().as_str(),
            "https://discord.com/oauth2/authorize"
        );
        assert_eq!(
            c.token_url().as_str(),
            "https://discord.com/api/v10/oauth2/token"
        );
        assert_eq!(
            c.revoke_url().as_str(),
            "https://discord.com/api/v10/oauth2/token/revoke"
        );
        assert_eq!(c.cdn_url().as_str(), "https://cdn.discordapp.com/");
        assert_eq!(c.users_cache_max_limit(), 100);
        assert_eq!(c.request_timeout(), Duration::from_secs(10));
        assert!(c.user_agent().starts_with("DiscordBot (https://"));
        assert!(!c.has_bot_token());
    }

    #[test]
    fn custom_bases_for_a_fake_discord() {
        let mut pairs = OK.to_vec();
        pairs.push(("DISCORD_BASE_URL", "http://127.0.0.1:9999/"));
        pairs.push(("DISCORD_CDN_URL", "http://127.0.0.1:9999/cdn"));
        let c = Config::from_lookup(env(&pairs)).unwrap();
        assert_eq!(c.api_base(), "http://127.0.0.1:9999/api/v10");
        assert_eq!(
            c.authorize_url().as_str(),
            "http://127.0.0.1:9999/oauth2/authorize"
        );
        assert_eq!(c.cdn_url().as_str(), "http://127.0.0.1:9999/cdn");
    }

    #[test]
    fn each_missing_key_is_named() {
        for missing in [
            "DISCORD_CLIENT_ID",
            "DISCORD_CLIENT_SECRET",
            "DISCORD_REDIRECT_URI",
        ] {
            let pairs: Vec<_> = OK.iter().copied().filter(|(k, _)| *k != missing).collect();
            let err = Config::from_lookup(env(&pairs)).unwrap_err();
            assert_eq!(err.key, missing);
            assert!(err.to_string().starts_with(missing));
        }
    }

    #[test]
    fn each_malformed_key_is_named_without_its_value() {
        let cases = [
            ("DISCORD_CLIENT_ID", "not-a-number"),
            ("DISCORD_CLIENT_ID", "0"),
            ("DISCORD_REDIRECT_URI", "ftp://x/cb"),
            ("DISCORD_REDIRECT_URI", "/callback"),
            ("DISCORD_USERS_CACHE_MAX_LIMIT", "-3"),
            ("DISCORD_BASE_URL", "discord.com"),
            ("DISCORD_BASE_URL", "https://discord.com/?x=1"),
            ("DISCORD_CDN_URL", "nope"),
            ("DISCORD_PROXY_URL", "::::"),
            ("DISCORD_REQUEST_TIMEOUT_MS", "soon"),
            ("DISCORD_REQUEST_TIMEOUT_MS", "0"),
            ("DISCORD_BOT_TOKEN", "has space"),
            ("SECRET_KEY", "tiny-key"),
            ("SECRET_KEY_FALLBACKS", "tiny-old-key"),
            ("DISCORD_PUBLIC_KEY", "abc"),
            (
                "DISCORD_PUBLIC_KEY",
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            ),
            (
                "DISCORD_PUBLIC_KEY",
                "000000000000000000000000000000000000000000000000000000000000000000",
            ),
        ];
        for (key, value) in cases {
            let mut pairs = OK.to_vec();
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            let err = Config::from_lookup(env(&pairs)).unwrap_err();
            assert_eq!(err.key, key, "{key}={value}");
            if matches!(
                key,
                "DISCORD_BOT_TOKEN" | "SECRET_KEY" | "SECRET_KEY_FALLBACKS"
            ) {
                assert!(!err.to_string().contains(value));
            }
        }
    }

    #[test]
    fn the_public_key_is_read_as_hex() {
        // Discord's example key shape: 64 hex digits (this one is the Ed25519 base point).
        let hex = "5866666666666666666666666666666666666666666666666666666666666666";
        let mut pairs = OK.to_vec();
        pairs.push(("DISCORD_PUBLIC_KEY", hex));
        let c = Config::from_lookup(env(&pairs)).unwrap();
        assert_eq!(c.public_key().unwrap()[0], 0x58);
        assert!(Config::from_lookup(env(OK)).unwrap().public_key().is_none());
        let upper = hex.to_uppercase();
        let c = Config::builder()
            .client_id(1)
            .client_secret("x")
            .redirect_uri("http://127.0.0.1/cb")
            .public_key(upper)
            .build()
            .unwrap();
        assert_eq!(c.public_key().unwrap()[1], 0x66);
    }

    #[test]
    fn proxy_credentials_are_split_and_redacted() {
        let mut pairs = OK.to_vec();
        pairs.push(("DISCORD_PROXY_URL", "http://alice:pa%40ss@proxy.local:3128"));
        let c = Config::from_lookup(env(&pairs)).unwrap();
        let proxy = c.inner.proxy.as_ref().unwrap();
        assert_eq!(proxy.url.as_str(), "http://proxy.local:3128/");
        let (user, pass) = proxy.auth.as_ref().unwrap();
        assert_eq!(user, "alice");
        assert_eq!(pass.secret(), "pa@ss");
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("pa@ss") && !dbg.contains("s3cr3t-value"),
            "{dbg}"
        );
    }

    #[test]
    fn user_agent_must_follow_discords_form() {
        let b = || {
            Config::builder()
                .client_id(1)
                .client_secret("x")
                .redirect_uri("http://127.0.0.1/cb")
        };
        assert_eq!(
            b().user_agent("curl/8").build().unwrap_err().key,
            "user_agent"
        );
        assert!(
            b().user_agent("DiscordBot (https://example.com, 1.0)")
                .build()
                .is_ok()
        );
    }

    fn reason_of(r: Result<Config, ConfigError>) -> String {
        r.expect_err("the configuration is refused").to_string()
    }

    #[test]
    fn a_builder_missing_a_value_names_the_builder_method() {
        let msg = reason_of(Config::builder().build());
        assert!(msg.starts_with("DISCORD_CLIENT_ID: "), "{msg}");
        assert!(msg.contains("`Config::builder().client_id(..)`"), "{msg}");
        assert!(!msg.contains("environment variable"), "{msg}");
        let msg = reason_of(Config::builder().client_id(1).build());
        assert!(
            msg.contains("`Config::builder().client_secret(..)`"),
            "{msg}"
        );
        let msg = reason_of(Config::builder().client_id(1).client_secret("s").build());
        assert!(
            msg.contains("`Config::builder().redirect_uri(..)`"),
            "{msg}"
        );
        assert!(msg.contains("http://127.0.0.1:5000/callback"), "{msg}");
    }

    #[test]
    fn the_environment_missing_a_value_names_the_variable() {
        let msg = reason_of(Config::from_lookup(|_| None));
        assert!(
            msg.contains("set the DISCORD_CLIENT_ID environment variable"),
            "{msg}"
        );
        assert!(
            msg.contains("https://discord.com/developers/applications"),
            "{msg}"
        );
        assert!(!msg.contains("builder"), "{msg}");
        let msg = reason_of(Config::from_lookup(env(&[("DISCORD_CLIENT_ID", "1")])));
        assert!(
            msg.contains("set the DISCORD_CLIENT_SECRET environment variable"),
            "{msg}"
        );
    }

    #[test]
    fn a_url_without_scheme_suggests_http() {
        let with = |uri: &str| {
            Config::builder()
                .client_id(1)
                .client_secret("s")
                .redirect_uri(uri)
                .build()
        };
        // Not parsable at all (a scheme cannot start with a digit).
        let msg = reason_of(with("127.0.0.1:5000/callback"));
        assert!(msg.contains("is not a valid URL"), "{msg}");
        assert!(
            msg.contains("did you mean `http://127.0.0.1:5000/callback`?"),
            "{msg}"
        );
        // Parsed with `localhost` as its scheme.
        let msg = reason_of(with("localhost:5000/callback"));
        assert!(
            msg.contains("did you mean `http://localhost:5000/callback`?"),
            "{msg}"
        );
        // With a scheme: no suggestion.
        let msg = reason_of(with("ftp://example.com/callback"));
        assert!(msg.contains("must be an absolute http(s) URL"), "{msg}");
        assert!(!msg.contains("did you mean"), "{msg}");
        // The proxy URL may hold a password: never echoed.
        let msg = reason_of(
            Config::builder()
                .client_id(1)
                .client_secret("s")
                .redirect_uri("http://127.0.0.1:5000/callback")
                .proxy("user:hunter2@proxy.internal:3128")
                .build(),
        );
        assert!(msg.contains("add `http://` in front"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn a_short_secret_key_says_how_to_make_one() {
        let msg = reason_of(
            Config::builder()
                .client_id(1)
                .client_secret("s")
                .redirect_uri("http://127.0.0.1:5000/callback")
                .secret_key("short")
                .build(),
        );
        assert!(msg.starts_with("SECRET_KEY: is too short"), "{msg}");
        assert!(msg.contains("`openssl rand -hex 32`"), "{msg}");
    }

    fn with_redirect(uri: &str) -> Config {
        Config::builder()
            .client_id(1)
            .client_secret("secret")
            .redirect_uri(uri)
            .build()
            .unwrap()
    }

    #[test]
    fn the_listener_must_be_reachable_from_the_redirect_uri() {
        let ok = |uri: &str, addr: &str| with_redirect(uri).check_listener(addr.parse().unwrap());
        // Matching ports, loopback on loopback or on every interface.
        assert!(ok("http://127.0.0.1:5000/callback", "127.0.0.1:5000").is_ok());
        assert!(ok("http://localhost:5000/callback", "0.0.0.0:5000").is_ok());
        assert!(ok("http://[::1]:5000/callback", "[::1]:5000").is_ok());
        assert!(ok("http://192.168.1.4:80/cb", "0.0.0.0:80").is_ok());
        assert!(ok("http://192.168.1.4/cb", "192.168.1.4:80").is_ok());
        // A domain name cannot be judged (a reverse proxy, a tunnel).
        assert!(ok("https://app.example.com/callback", "127.0.0.1:8080").is_ok());

        // Another port: says which one, and what to set instead.
        let e = ok("http://127.0.0.1:5000/callback", "127.0.0.1:5001").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("DISCORD_REDIRECT_URI"), "{text}");
        assert!(text.contains("port 5000"), "{text}");
        assert!(text.contains("http://127.0.0.1:5001/callback"), "{text}");
        // The scheme's default port counts.
        assert!(ok("http://localhost/callback", "127.0.0.1:8080").is_err());
        // Loopback URI, listener on another interface only; and the other way round.
        let e = ok("http://127.0.0.1:5000/callback", "192.168.1.4:5000").unwrap_err();
        assert!(e.to_string().contains("127.0.0.1:5000"), "{e}");
        assert!(ok("http://192.168.1.4:5000/cb", "127.0.0.1:5000").is_err());
        assert!(ok("http://192.168.1.4:5000/cb", "192.168.1.5:5000").is_err());
    }
}
