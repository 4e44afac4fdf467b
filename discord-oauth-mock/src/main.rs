//! `discord-oauth-mock` binary: serves the fake Discord on 127.0.0.1 until Ctrl-C.
//!
//! Uses only the library's public API.
#![forbid(unsafe_code)]

use discord_oauth_mock::{MockDiscord, RateLimitConfig};
use std::time::Duration;

const USAGE: &str = "usage: discord-oauth-mock [--port N] [--redirect-uri URI]... [--auto-approve USER_ID] \
[--token-lifetime SECONDS] [--no-rate-limits]";

fn main() {
    let mut builder = MockDiscord::builder();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| match args.next() {
            Some(v) => v,
            None => fail(&format!("{name} needs a value")),
        };
        builder = match a.as_str() {
            "--port" => match value("--port").parse() {
                Ok(p) => builder.port(p),
                Err(_) => fail("--port must be a number from 0 to 65535"),
            },
            "--redirect-uri" => builder.redirect_uri(&value("--redirect-uri")),
            "--auto-approve" => match value("--auto-approve").parse() {
                Ok(u) => builder.auto_approve(Some(u)),
                Err(_) => fail("--auto-approve must be a user id"),
            },
            "--token-lifetime" => match value("--token-lifetime").parse() {
                Ok(s) => builder.token_lifetime(Duration::from_secs(s)),
                Err(_) => fail("--token-lifetime must be seconds"),
            },
            "--no-rate-limits" => builder.rate_limits(RateLimitConfig::disabled()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument {other}")),
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    rt.block_on(async move {
        let mock = match builder.try_start().await {
            Ok(m) => m,
            Err(e) => fail(&format!("cannot bind 127.0.0.1: {e}")),
        };
        let base = mock.base_url();
        println!("discord-oauth-mock listening on {base}");
        println!("  authorize URL : {base}/oauth2/authorize");
        println!("  API base      : {base}/api/v10");
        println!("  token URL     : {base}/api/v10/oauth2/token");
        println!("  CDN base      : {base}/cdn");
        println!("  client id     : {}", mock.client_id());
        println!("  client secret : {}", mock.client_secret());
        println!("  bot token     : {}", mock.bot_token());
        println!("  redirect URIs : {:?}", mock.redirect_uris());
        println!("  seeded users  :");
        for u in mock.users() {
            println!("    {} {:?}", u.id, u.username);
        }
        println!("control API (HTTP, JSON):");
        println!("  GET  {base}/_mock/stats | /_mock/config | /_mock/users | /_mock/guilds | /_mock/tokens/USER");
        println!("  POST {base}/_mock/reset | /_mock/reset-stats | /_mock/revoke/USER | /_mock/expire[/USER]");
        println!("  POST {base}/_mock/faults {{\"route\": \"GET /api/v10/users/@me\", \"fault\": {{\"status\": 500}}, \"times\": 1}}");
        println!("  POST {base}/_mock/token-lifetime {{\"seconds\": 60}} | /_mock/auto-approve {{\"user_id\": \"ID\"|null}}");
        println!("  POST {base}/_mock/redirect-uris {{\"uri\": \"...\"}} | /_mock/rate-limits {{\"enabled\": false}}");
        let _ = tokio::signal::ctrl_c().await;
        mock.shutdown().await;
    });
}

fn fail(msg: &str) -> ! {
    eprintln!("discord-oauth-mock: {msg}\n{USAGE}");
    std::process::exit(2)
}
