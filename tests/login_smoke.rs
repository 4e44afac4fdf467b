mod common;
use common::*;
use discord_oauth::Fetch;
use discord_oauth::{LoginOptions, Scope};

#[tokio::test]
async fn full_login_fetch_logout() {
    let mock = mock().await;
    let client = client_for(&mock);
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    let cb = login(
        &client,
        &mut browser,
        user,
        LoginOptions::new()
            .scopes([
                Scope::Identify,
                Scope::Email,
                Scope::Guilds,
                Scope::Connections,
                Scope::GuildsJoin,
            ])
            .next("/me")
            .data(serde_json::json!({"k": 1})),
    )
    .await;
    assert_eq!(cb.next, "/me");
    assert_eq!(cb.data, Some(serde_json::json!({"k": 1})));
    assert_eq!(cb.user.as_ref().unwrap().id.get(), user);
    let s = browser.session(&client);
    assert!(s.authorized().await);
    assert_eq!(s.user_id().await, Some(user));
    let u = s.fetch_user(Fetch::Cached).await.unwrap();
    assert_eq!(u.id.get(), user);
    let g = s.fetch_guilds(Fetch::Cached).await.unwrap();
    assert!(!g.is_empty());
    let c = s.fetch_connections(Fetch::Cached).await.unwrap();
    let _ = c;
    let guild = mock.guilds()[0].id;
    let joined = s.add_to_guild(guild.into(), Default::default()).await;
    println!("join: {joined:?}");
    assert!(s.revoke().await);
    browser.absorb(&s);
    let s = browser.session(&client);
    assert!(!s.authorized().await);
}
