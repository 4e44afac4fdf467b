//! Log in with Discord in one file; reads DISCORD_CLIENT_ID/_SECRET/_REDIRECT_URI, SECRET_KEY.
//! The whole app (login, callback, logout, a protected `/me`) is 14 lines of user code, counted
//! from `pub fn app` to the end of the file (signatures, braces and `#[tokio::main]` included,
//! imports and blank lines not): `app` 5, `me` 4, `main` 5.
//! A cancelled login shows a small HTML page in a browser, JSON to API clients.
#![allow(dead_code)] // the tests include this file and use `app` only
use axum::{Json, Router, routing::get};
use discord_oauth::axum::{Authorized, DiscordLayer, LoginRoutes};
use discord_oauth::{Config, DiscordOAuth, Error, Fetch, Scope};
use serde_json::{Value, json};

pub fn app(discord: DiscordOAuth) -> Router {
    let routes = LoginRoutes::new().scopes([Scope::Identify]);
    let app = Router::new().route("/me", get(me));
    app.layer(DiscordLayer::new(discord).routes(routes))
}

async fn me(auth: Authorized) -> Result<Json<Value>, Error> {
    let user = auth.session.fetch_user(Fetch::Cached).await?;
    Ok(Json(json!({ "id": user.id, "name": user.display_name() })))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    Ok(axum::serve(listener, app(DiscordOAuth::new(Config::from_env()?)?)).await?)
}
