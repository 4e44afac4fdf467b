//! Linked roles
//! ([Discord: Application Role Connection Metadata](https://discord.com/developers/docs/resources/application-role-connection-metadata)):
//! the user's role connection for this application (`GET`/`PUT`/`DELETE
//! /users/@me/applications/{application}/role-connection`, the user's Bearer token with
//! `role_connections.write`) and the application's metadata records (`GET`/`PUT
//! /applications/{application}/role-connections/metadata`, the bot token, through
//! [`DiscordOAuth`](crate::DiscordOAuth)). Every body is checked against Discord's limits
//! before any call ([`Error::RoleConnection`]).

use crate::error::Error;
use crate::http::{Auth, Body, Call, Http};
use crate::models::{ApplicationId, RoleConnection, RoleConnectionMetadata};
use crate::ratelimit::Identity;
use crate::route::Route;
use crate::session::DiscordSession;

/// This application's id (the OAuth2 client id).
fn application(http: &Http) -> ApplicationId {
    ApplicationId::new(http.config().client_id())
}

/// A JSON body, or [`Error::Internal`] (the models' bodies always serialize).
fn json_body(value: &serde_json::Value) -> Result<Body, Error> {
    serde_json::to_vec(value)
        .map(|b| Body::Json(b.into()))
        .map_err(|_| Error::Internal("a role connection body could not be serialized"))
}

/// `GET /applications/{application}/role-connections/metadata` with the bot token.
pub(crate) async fn fetch_metadata(http: &Http) -> Result<Vec<RoleConnectionMetadata>, Error> {
    let mut call = Call::api(Route::role_connection_metadata(application(http)));
    call.identity = Identity::Bot;
    http.send(call, Auth::Bot).await?.json()
}

/// `PUT /applications/{application}/role-connections/metadata` with the bot token, after
/// [`RoleConnectionMetadata::validate_records`].
pub(crate) async fn register_metadata(
    http: &Http,
    records: &[RoleConnectionMetadata],
) -> Result<Vec<RoleConnectionMetadata>, Error> {
    RoleConnectionMetadata::validate_records(records)?;
    let body: Vec<serde_json::Value> = records.iter().map(RoleConnectionMetadata::body).collect();
    let mut call = Call::api(Route::update_role_connection_metadata(application(http)));
    call.identity = Identity::Bot;
    call.body = json_body(&serde_json::Value::Array(body))?;
    http.send(call, Auth::Bot).await?.json()
}

impl DiscordSession {
    /// The user's role connection for this application (`GET
    /// /users/@me/applications/{client_id}/role-connection`, scope `role_connections.write`).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// let connection = session.fetch_role_connection().await?;
    /// println!("{:?}", connection.metadata);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::MissingScope`] (checked first: no call), upstream
    /// errors.
    pub async fn fetch_role_connection(&self) -> Result<RoleConnection, Error> {
        let route = Route::role_connection(application(self.sessions().http()));
        self.send_as_user(Call::api(route)).await?.json()
    }

    /// Sets the user's role connection for this application (`PUT
    /// /users/@me/applications/{client_id}/role-connection`, scope `role_connections.write`),
    /// after checking Discord's limits ([`RoleConnection::validate`]); returns Discord's answer.
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// use discord_oauth::models::{RoleConnection, RoleConnectionValue};
    /// let connection = RoleConnection::new(
    ///     Some("Example".into()),
    ///     None,
    ///     [("level", RoleConnectionValue::Integer(7))],
    /// )?;
    /// session.update_role_connection(&connection).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::RoleConnection`] (no call), [`Error::Unauthorized`], [`Error::MissingScope`],
    /// upstream errors.
    pub async fn update_role_connection(
        &self,
        connection: &RoleConnection,
    ) -> Result<RoleConnection, Error> {
        connection.validate()?;
        let route = Route::update_role_connection(application(self.sessions().http()));
        let mut call = Call::api(route);
        call.body = json_body(&connection.body())?;
        self.send_as_user(call).await?.json()
    }

    /// Removes the user's role connection for this application (`DELETE
    /// /users/@me/applications/{client_id}/role-connection`, scope `role_connections.write`).
    ///
    /// ```no_run
    /// # async fn f(session: discord_oauth::DiscordSession) -> Result<(), discord_oauth::Error> {
    /// session.delete_role_connection().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::MissingScope`], upstream errors.
    pub async fn delete_role_connection(&self) -> Result<(), Error> {
        let route = Route::delete_role_connection(application(self.sessions().http()));
        self.send_as_user(Call::api(route)).await.map(drop)
    }
}
