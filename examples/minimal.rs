//! Log in with Discord in one file; reads DISCORD_CLIENT_ID/_SECRET/_REDIRECT_URI, SECRET_KEY.
use axum::{Json, Router, extract::RawQuery, response::Redirect, routing::get, routing::post};
use discord_oauth::axum::{Authorized, DiscordLayer, SameOrigin};
use discord_oauth::{Config, DiscordOAuth, DiscordSession, Error, Fetch, LoginOptions, Scope};

async fn login(session: DiscordSession) -> Result<Redirect, Error> {
    let url = session.create_session(LoginOptions::new().scopes([Scope::Identify]))?;
    Ok(Redirect::to(url.as_str()))
}

async fn callback(session: DiscordSession, RawQuery(q): RawQuery) -> Result<Redirect, Error> {
    Ok(Redirect::to(
        &session.callback(q.as_deref().unwrap_or("")).await?.next,
    ))
}

async fn me(auth: Authorized) -> Result<Json<serde_json::Value>, Error> {
    let user = auth.session.fetch_user(Fetch::Cached).await?;
    Ok(Json(
        serde_json::json!({ "id": user.id, "name": user.display_name() }),
    ))
}

async fn logout(_: SameOrigin, session: DiscordSession) -> Redirect {
    session.revoke().await;
    Redirect::to("/")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .layer(DiscordLayer::new(DiscordOAuth::new(Config::from_env()?)?));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    Ok(axum::serve(listener, app).await?)
}
