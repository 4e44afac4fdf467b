//! Guild permission checks against the fake Discord: the table of cases (owner, owner whose
//! listed bits lack the permission, ADMINISTRATOR, MANAGE_GUILD, neither, not a member), a stale
//! cached answer against a live re-check (both ways), and the axum extractor and layer.
mod common;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use common::*;
use discord_oauth::api::GuildAccess;
use discord_oauth::axum::{
    DiscordLayer, ManageGuild, ManageGuildFresh, RequireGuildPermission,
    RequireGuildPermissionLayer, UnauthorizedBehavior,
};
use discord_oauth::models::{GuildId, RoleId};
use discord_oauth::permissions::Permissions;
use discord_oauth::{AddMemberOptions, DiscordOAuth, Error, Fetch, LoginOptions, Scope};
use discord_oauth_mock::seed;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const GUILDS_ROUTE: &str = "GET /api/v10/users/@me/guilds";

async fn alice(client: &DiscordOAuth, scopes: &[Scope]) -> Browser {
    let mut browser = Browser::default();
    let options = LoginOptions::new().scopes(scopes.iter().cloned());
    login(client, &mut browser, seed::ALICE, options).await;
    browser
}

fn guild(id: u64) -> GuildId {
    GuildId::new(id)
}

/// Every case of the check, from the users cache: one call to Discord for the whole table.
#[tokio::test]
async fn the_table_owner_admin_manage_guild_none_not_a_member() {
    let mock = mock().await;
    let client = client_for(&mock);
    let browser = alice(&client, &[Scope::Identify, Scope::Guilds]).await;
    let session = browser.session(&client);
    let manage = Permissions::MANAGE_GUILD;
    // (guild, allowed, why)
    let table = [
        (seed::GUILD_WORKSHOP, true, "owner, every bit listed"),
        (
            seed::GUILD_LOBBY,
            true,
            "owner, listed bits lack MANAGE_GUILD",
        ),
        (seed::GUILD_RTL, true, "ADMINISTRATOR, not owner"),
        (seed::GUILD_LONG, true, "MANAGE_GUILD only"),
        (seed::GUILD_KREW, false, "member without the permission"),
        (seed::GUILD_XSS, false, "member with @everyone only"),
        (seed::GUILD_QUIET, false, "not a member"),
    ];
    for (id, allowed, why) in table {
        let result = session
            .require_guild_permissions(guild(id), manage, Fetch::Cached)
            .await;
        if allowed {
            let access = result.unwrap_or_else(|e| panic!("{why}: refused with {e}"));
            assert_eq!(access.id(), guild(id), "{why}");
            let listed = mock.guilds().into_iter().find(|g| g.id == id).unwrap();
            assert_eq!(access.name(), listed.name, "{why}");
            assert!(access.permissions.contains(manage), "{why}");
            assert_eq!(access.is_owner(), listed.owner_id == seed::ALICE, "{why}");
            if id == seed::GUILD_LONG {
                // Not owner nor admin: the effective permissions are Discord's bits.
                assert_eq!(access.permissions, access.guild.permissions, "{why}");
                assert!(!access.permissions.contains(Permissions::ADMINISTRATOR));
            } else {
                assert!(access.permissions.contains(Permissions::all()), "{why}");
            }
        } else {
            let e = result.expect_err(why);
            assert!(
                matches!(e, Error::MissingPermissions(m) if m == manage),
                "{why}: {e:?}"
            );
            // The same refusal for "not a member" and "lacks the permission": 403, never 404.
            assert_eq!(e.status(), StatusCode::FORBIDDEN, "{why}");
            assert_eq!(e.kind(), "missing_permissions");
            assert_eq!(
                e.to_string(),
                "not allowed in this guild: missing MANAGE_GUILD"
            );
        }
    }
    assert_eq!(
        mock.stats().requests_to(GUILDS_ROUTE),
        1,
        "the whole table from one cached guild list"
    );
}

#[tokio::test]
async fn several_permissions_membership_only_and_missing_scope() {
    let mock = mock().await;
    let client = client_for(&mock);
    let browser = alice(&client, &[Scope::Identify, Scope::Guilds]).await;
    let session = browser.session(&client);
    // MANAGE_GUILD is held in the long guild, BAN_MEMBERS is not: only the latter is missing.
    let both = Permissions::MANAGE_GUILD | Permissions::BAN_MEMBERS;
    let e = session
        .require_guild_permissions(guild(seed::GUILD_LONG), both, Fetch::Cached)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingPermissions(m) if m == Permissions::BAN_MEMBERS));
    // ADMINISTRATOR holds them all.
    session
        .require_guild_permissions(guild(seed::GUILD_RTL), both, Fetch::Cached)
        .await
        .unwrap();
    // Empty: membership only.
    session
        .require_guild_permissions(guild(seed::GUILD_KREW), Permissions::empty(), Fetch::Cached)
        .await
        .unwrap();
    let e = session
        .require_guild_permissions(
            guild(seed::GUILD_QUIET),
            Permissions::empty(),
            Fetch::Cached,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingPermissions(m) if m.is_empty()));
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    assert_eq!(e.to_string(), "not allowed in this guild");

    // Without the `guilds` scope: refused locally, no call.
    let browser = alice(&client, &[Scope::Identify]).await;
    let before = mock.stats().requests_to(GUILDS_ROUTE);
    let e = browser
        .session(&client)
        .require_guild_permissions(
            guild(seed::GUILD_WORKSHOP),
            Permissions::MANAGE_GUILD,
            Fetch::Cached,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingScope(Scope::Guilds)), "{e:?}");
    assert_eq!(mock.stats().requests_to(GUILDS_ROUTE), before);
}

/// A permission given at Discord after the guild list was cached: the cached check still
/// refuses, the live one (Fetch::Fresh) lets through and refreshes the cache.
#[tokio::test]
async fn a_live_recheck_sees_a_permission_the_cache_does_not() {
    let mock = mock().await;
    let client = client_for(&mock);
    let scopes = [Scope::Identify, Scope::Guilds, Scope::GuildsJoin];
    let browser = alice(&client, &scopes).await;
    let session = browser.session(&client);
    let quiet = guild(seed::GUILD_QUIET);
    let manage = Permissions::MANAGE_GUILD;
    let refused = session
        .require_guild_permissions(quiet, manage, Fetch::Cached)
        .await;
    assert!(matches!(refused, Err(Error::MissingPermissions(_))));

    // The bot adds Alice to the guild with its Manager role (MANAGE_GUILD).
    let member = session
        .add_to_guild(
            quiet,
            AddMemberOptions::new().roles([RoleId::new(seed::ROLE_QUIET_MANAGER)]),
        )
        .await
        .unwrap();
    assert!(member.is_some(), "added");

    let calls = mock.stats().requests_to(GUILDS_ROUTE);
    let stale = session
        .require_guild_permissions(quiet, manage, Fetch::Cached)
        .await;
    assert!(
        matches!(stale, Err(Error::MissingPermissions(_))),
        "the cache still has the old list"
    );
    assert_eq!(mock.stats().requests_to(GUILDS_ROUTE), calls, "no call");

    let live = session
        .require_guild_permissions(quiet, manage, Fetch::Fresh)
        .await
        .expect("the live list has the new membership");
    assert_eq!(live.id(), quiet);
    assert_eq!(live.name(), "Quiet Corner");
    assert!(!live.is_owner());
    assert!(live.permissions.contains(manage));
    assert!(!live.permissions.contains(Permissions::ADMINISTRATOR));
    assert_eq!(
        mock.stats().requests_to(GUILDS_ROUTE),
        calls + 1,
        "one call"
    );

    // Fresh replaced the cached list: the cached check now agrees, without a call.
    session
        .require_guild_permissions(quiet, manage, Fetch::Cached)
        .await
        .unwrap();
    assert_eq!(mock.stats().requests_to(GUILDS_ROUTE), calls + 1);
}

/// The other way: a grant revoked at Discord still passes from the cache, not live.
#[tokio::test]
async fn a_live_recheck_sees_a_revoked_grant_the_cache_does_not() {
    let mock = mock().await;
    let client = client_for(&mock);
    let browser = alice(&client, &[Scope::Identify, Scope::Guilds]).await;
    let session = browser.session(&client);
    let workshop = guild(seed::GUILD_WORKSHOP);
    let manage = Permissions::MANAGE_GUILD;
    session
        .require_guild_permissions(workshop, manage, Fetch::Cached)
        .await
        .unwrap();
    mock.revoke_user_grants(seed::ALICE);
    session
        .require_guild_permissions(workshop, manage, Fetch::Cached)
        .await
        .expect("stale: from the cache");
    let e = session
        .require_guild_permissions(workshop, manage, Fetch::Fresh)
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
}

// ----- axum -------------------------------------------------------------------------------------

async fn manage(guard: RequireGuildPermission<ManageGuild>) -> String {
    format!("{}:{}", guard.guild.id(), guard.guild.name())
}

async fn manage_fresh(guard: RequireGuildPermission<ManageGuildFresh>) -> String {
    guard.guild.id().to_string()
}

async fn settings(access: GuildAccess) -> String {
    format!("settings:{}", access.id())
}

fn app(client: DiscordOAuth, layer: Option<DiscordLayer>) -> Router {
    let layered = Router::new()
        .route("/api/guilds/{guild_id}/settings", get(settings))
        .route_layer(RequireGuildPermissionLayer::new(Permissions::MANAGE_GUILD));
    Router::new()
        .route("/guilds/{guild_id}/manage", get(manage))
        .route("/guilds/{guild_id}/manage-live", get(manage_fresh))
        .route("/no-guild", get(manage))
        .route("/unguarded/{guild_id}", get(settings))
        .merge(layered)
        .layer(layer.unwrap_or_else(|| DiscordLayer::new(client)))
}

async fn call(app: &Router, path: &str, headers: &HeaderMap) -> Response {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    *req.headers_mut() = headers.clone();
    app.clone().oneshot(req).await.unwrap()
}

async fn text(resp: Response) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn error_kind(resp: Response) -> String {
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    let body: serde_json::Value = serde_json::from_str(&text(resp).await).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_extractor_and_the_layer_answer_401_400_403_and_let_managers_through() {
    let mock = mock().await;
    let client = client_for(&mock);
    let app = app(client.clone(), None);
    let nobody = HeaderMap::new();
    let workshop = seed::GUILD_WORKSHOP;
    for path in [
        format!("/guilds/{workshop}/manage"),
        format!("/api/guilds/{workshop}/settings"),
        "/guilds/not-a-snowflake/manage".to_owned(),
    ] {
        let resp = call(&app, &path, &nobody).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(error_kind(resp).await, "unauthorized");
    }

    let browser = alice(&client, &[Scope::Identify, Scope::Guilds]).await;
    let h = browser.headers();
    for (id, allowed) in [
        (seed::GUILD_WORKSHOP, true),
        (seed::GUILD_LOBBY, true),
        (seed::GUILD_RTL, true),
        (seed::GUILD_LONG, true),
        (seed::GUILD_KREW, false),
        (seed::GUILD_QUIET, false),
    ] {
        for path in [
            format!("/guilds/{id}/manage"),
            format!("/guilds/{id}/manage-live"),
            format!("/api/guilds/{id}/settings"),
        ] {
            let resp = call(&app, &path, &h).await;
            if allowed {
                assert_eq!(resp.status(), StatusCode::OK, "{path}");
                assert!(text(resp).await.contains(&id.to_string()), "{path}");
            } else {
                assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
                assert_eq!(error_kind(resp).await, "missing_permissions", "{path}");
            }
        }
    }
    for path in [
        "/guilds/not-a-snowflake/manage",
        "/guilds/-1/manage",
        "/guilds/99999999999999999999999/manage",
        "/api/guilds/12ab/settings",
    ] {
        let resp = call(&app, path, &h).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_kind(resp).await, "invalid_request", "{path}");
    }
    // Misconfigurations are 500s, not a pass: a guard without a guild id in the path, and
    // GuildAccess without the layer.
    let resp = call(&app, "/no-guild", &h).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let resp = call(&app, &format!("/unguarded/{workshop}"), &h).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // A grant revoked at Discord: the live guard answers like a missing session.
    mock.revoke_user_grants(seed::ALICE);
    let resp = call(&app, &format!("/guilds/{workshop}/manage-live"), &h).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_guard_redirects_to_the_login_when_configured() {
    let mock = mock().await;
    let client = client_for(&mock);
    let layer = DiscordLayer::new(client.clone())
        .unauthorized(UnauthorizedBehavior::RedirectToLogin("/login".into()));
    let app = app(client, Some(layer));
    let path = format!("/guilds/{}/manage", seed::GUILD_WORKSHOP);
    let resp = call(&app, &path, &HeaderMap::new()).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        resp.headers()[header::LOCATION],
        format!("/login?next=%2Fguilds%2F{}%2Fmanage", seed::GUILD_WORKSHOP).as_str()
    );
}

#[test]
fn allows_is_the_rule_the_guard_applies() {
    let g = |owner: bool, permissions: u64| {
        discord_oauth::models::Guild::from_value(serde_json::json!({
            "id": "1", "name": "g", "owner": owner, "permissions": permissions.to_string()
        }))
        .unwrap()
    };
    let manage = Permissions::MANAGE_GUILD;
    assert!(GuildAccess::allows(&g(true, 0), manage));
    assert!(GuildAccess::allows(&g(false, 8), manage));
    assert!(GuildAccess::allows(&g(false, 32), manage));
    assert!(!GuildAccess::allows(&g(false, 36_953_089), manage));
    assert!(GuildAccess::allows(&g(false, 0), Permissions::empty()));
    let list = [g(false, 32)];
    let e = GuildAccess::check(&list, GuildId::new(2), manage).unwrap_err();
    assert!(matches!(e, Error::MissingPermissions(m) if m == manage));
}

// ----- live with the bot ------------------------------------------------------------------------

const BOT_MEMBER_ROUTE: &str = "GET /api/v10/guilds/{guild_id}/members/{user_id}";
const BOT_GUILD_ROUTE: &str = "GET /api/v10/guilds/{guild_id}";

/// The table of the cached check, answered by the bot from the guild's roles and the member's
/// role ids: owner, MANAGE_GUILD through a role, none, not a member; plus a guild the bot is
/// not in (refused alike), and ADMINISTRATOR through a role once the bot added Alice with it.
#[tokio::test]
async fn the_bot_check_answers_the_table_from_roles() {
    let mock = mock().await;
    let client = client_for(&mock);
    let scopes = [Scope::Identify, Scope::GuildsJoin];
    let browser = alice(&client, &scopes).await;
    let session = browser.session(&client);
    let manage = Permissions::MANAGE_GUILD;
    let table = [
        (seed::GUILD_WORKSHOP, true, "owner"),
        (seed::GUILD_LOBBY, true, "owner, no role with MANAGE_GUILD"),
        (seed::GUILD_LONG, true, "MANAGE_GUILD through a role"),
        (seed::GUILD_KREW, false, "member without the permission"),
        (seed::GUILD_XSS, false, "member with @everyone only"),
        (seed::GUILD_QUIET, false, "not a member (10007)"),
        (
            seed::GUILD_RTL,
            false,
            "the bot is not in the guild (50001)",
        ),
        (1234, false, "unknown guild (10004)"),
    ];
    for (id, allowed, why) in table {
        let result = session
            .require_guild_permissions_by_bot(guild(id), manage)
            .await;
        if allowed {
            let access = result.unwrap_or_else(|e| panic!("{why}: refused with {e}"));
            let seeded = mock.guilds().into_iter().find(|g| g.id == id).unwrap();
            assert_eq!(access.id(), guild(id), "{why}");
            assert_eq!(access.name(), seeded.name, "{why}");
            assert_eq!(access.is_owner(), seeded.owner_id == seed::ALICE, "{why}");
            assert_eq!(access.guild.permissions, access.permissions, "{why}");
            if id == seed::GUILD_LONG {
                // @everyone | Manager, computed from the roles.
                let member = seeded
                    .members
                    .iter()
                    .find(|m| m.user_id == seed::ALICE)
                    .unwrap();
                assert_eq!(access.permissions.bits(), member.permissions, "{why}");
                assert!(!access.permissions.contains(Permissions::ADMINISTRATOR));
            } else {
                assert!(access.permissions.contains(Permissions::all()), "{why}");
            }
        } else {
            let e = result.expect_err(why);
            assert!(
                matches!(e, Error::MissingPermissions(m) if m == manage),
                "{why}: {e:?}"
            );
            assert_eq!(e.status(), StatusCode::FORBIDDEN, "{why}");
        }
    }
    let stats = mock.stats();
    assert_eq!(stats.requests_to(GUILDS_ROUTE), 0, "no guild list read");
    // One member call per case; the guild only where the member was found.
    assert_eq!(stats.requests_to(BOT_MEMBER_ROUTE), 8);
    assert_eq!(stats.requests_to(BOT_GUILD_ROUTE), 5);

    // ADMINISTRATOR through a role: the bot adds Alice to the quiet guild with its Admin role.
    let quiet = guild(seed::GUILD_QUIET);
    session
        .add_to_guild(
            quiet,
            AddMemberOptions::new().roles([RoleId::new(seed::ROLE_QUIET_ADMIN)]),
        )
        .await
        .unwrap();
    let both = Permissions::MANAGE_GUILD | Permissions::BAN_MEMBERS;
    let access = session
        .require_guild_permissions_by_bot(quiet, both)
        .await
        .expect("ADMINISTRATOR holds every permission");
    assert!(!access.is_owner());
    assert!(access.permissions.contains(Permissions::all()));
    // Several permissions: only the missing one is reported.
    let e = session
        .require_guild_permissions_by_bot(guild(seed::GUILD_LONG), both)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MissingPermissions(m) if m == Permissions::BAN_MEMBERS));
}

/// A role given after the user's guild list was cached: the cached check still refuses, the
/// bot check sees it at once (and leaves the users cache alone).
#[tokio::test]
async fn the_bot_check_sees_a_role_granted_after_the_list_was_cached() {
    let mock = mock().await;
    let client = client_for(&mock);
    let scopes = [Scope::Identify, Scope::Guilds, Scope::GuildsJoin];
    let browser = alice(&client, &scopes).await;
    let session = browser.session(&client);
    let quiet = guild(seed::GUILD_QUIET);
    let manage = Permissions::MANAGE_GUILD;
    assert!(matches!(
        session
            .require_guild_permissions(quiet, manage, Fetch::Cached)
            .await,
        Err(Error::MissingPermissions(_))
    ));
    session
        .add_to_guild(
            quiet,
            AddMemberOptions::new().roles([RoleId::new(seed::ROLE_QUIET_MANAGER)]),
        )
        .await
        .unwrap()
        .expect("added");
    let calls = mock.stats().requests_to(GUILDS_ROUTE);
    let live = session
        .require_guild_permissions_by_bot(quiet, manage)
        .await
        .expect("the bot sees the new role");
    assert_eq!(live.name(), "Quiet Corner");
    assert!(live.permissions.contains(manage));
    assert!(!live.permissions.contains(Permissions::ADMINISTRATOR));
    assert!(
        session
            .require_guild_permissions(quiet, manage, Fetch::Cached)
            .await
            .is_err(),
        "the cached list is unchanged"
    );
    assert_eq!(mock.stats().requests_to(GUILDS_ROUTE), calls);
}

/// Without a bot token: 503 `NoBotToken`, no call; the axum requirement answers 503 too, and
/// with the bot token lets a manager through and refuses a non-member with 403.
#[tokio::test]
async fn the_bot_check_needs_the_bot_token_and_drives_the_axum_guard() {
    use discord_oauth::axum::ManageGuildByBot;
    let mock = mock().await;
    let no_bot = DiscordOAuth::new(
        discord_oauth::Config::builder()
            .client_id(mock.client_id())
            .client_secret(mock.client_secret())
            .redirect_uri(REDIRECT)
            .base_url(mock.base_url())
            .cdn_url(mock.cdn_url())
            .secret_key("k".repeat(48))
            .build()
            .unwrap(),
    )
    .unwrap();
    let browser = alice(&no_bot, &[Scope::Identify]).await;
    let e = browser
        .session(&no_bot)
        .require_guild_permissions_by_bot(guild(seed::GUILD_WORKSHOP), Permissions::MANAGE_GUILD)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoBotToken), "{e:?}");
    assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(mock.stats().requests_to(BOT_MEMBER_ROUTE), 0);

    async fn by_bot(guard: RequireGuildPermission<ManageGuildByBot>) -> String {
        guard.guild.id().to_string()
    }
    async fn layered(access: GuildAccess) -> String {
        format!("layer:{}", access.id())
    }
    let router = |client: DiscordOAuth| {
        let layer = Router::new()
            .route("/l/guilds/{guild_id}", get(layered))
            .route_layer(RequireGuildPermissionLayer::new(Permissions::MANAGE_GUILD).by_bot());
        Router::new()
            .route("/guilds/{guild_id}/manage", get(by_bot))
            .merge(layer)
            .layer(DiscordLayer::new(client))
    };
    let h = browser.headers();
    let app = router(no_bot);
    for path in [
        format!("/guilds/{}/manage", seed::GUILD_WORKSHOP),
        format!("/l/guilds/{}", seed::GUILD_WORKSHOP),
    ] {
        let resp = call(&app, &path, &h).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }

    let client = client_for(&mock);
    let app = router(client.clone());
    let resp = call(
        &app,
        &format!("/guilds/{}/manage", seed::GUILD_LONG),
        &HeaderMap::new(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let browser = alice(&client, &[Scope::Identify]).await;
    let h = browser.headers();
    for (id, allowed) in [
        (seed::GUILD_WORKSHOP, true),
        (seed::GUILD_LONG, true),
        (seed::GUILD_KREW, false),
        (seed::GUILD_QUIET, false),
    ] {
        for path in [format!("/guilds/{id}/manage"), format!("/l/guilds/{id}")] {
            let resp = call(&app, &path, &h).await;
            if allowed {
                assert_eq!(resp.status(), StatusCode::OK, "{path}");
                assert!(text(resp).await.contains(&id.to_string()), "{path}");
            } else {
                assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
                assert_eq!(error_kind(resp).await, "missing_permissions", "{path}");
            }
        }
    }
    assert_eq!(
        mock.stats().requests_to(GUILDS_ROUTE),
        0,
        "the guild list is never read"
    );
}
