//! Installs and linked roles against the fake Discord: the install URL with and without a
//! pinned guild, an install round trip returning the typed guild, a contradicted pinned guild
//! (400, no session), every linked-roles validation rule refused before any call, and a
//! linked-role round trip (login with `role_connections.write`, PUT, GET, DELETE).
mod common;

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use common::*;
use discord_oauth::models::{
    GuildId, IntegrationType, RoleConnection, RoleConnectionError, RoleConnectionMetadata,
    RoleConnectionMetadataType as T, RoleConnectionValue,
};
use discord_oauth::permissions::Permissions;
use discord_oauth::{Error, Flow, InstallOptions, LoginOptions, Scope};
use discord_oauth_mock::{MockDiscord, seed};
use serde_json::json;

const PERMS: Permissions = Permissions::VIEW_CHANNEL.union(Permissions::SEND_MESSAGES);

fn params(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The authorize URL with `key` set to `value` (what a user editing the address bar does).
fn with_param(url: &url::Url, key: &str, value: &str) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .map(|(k, v)| {
            if k == key {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// Requests the fake has seen (control API excluded).
fn calls(mock: &MockDiscord) -> u64 {
    mock.stats().total_requests
}

#[tokio::test]
async fn install_url_without_and_with_a_pinned_guild() {
    let mock = mock().await;
    let client = client_for(&mock);
    let s = Browser::default().session(&client);

    let url = s
        .create_install(InstallOptions::new().permissions(PERMS))
        .unwrap();
    let p = params(&url);
    let scopes: Vec<&str> = p["scope"].split(' ').collect();
    assert!(scopes.contains(&"bot") && scopes.contains(&"applications.commands"));
    assert_eq!(p["permissions"], PERMS.bits().to_string());
    assert_eq!(p["integration_type"], "0");
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["redirect_uri"], REDIRECT);
    assert_eq!(p["prompt"], "consent", "the bot scope always asks");
    assert!(!p["state"].is_empty());
    assert!(!p.contains_key("guild_id") && !p.contains_key("disable_guild_select"));

    let url = s
        .create_install(
            InstallOptions::new()
                .permissions(PERMS)
                .guild(GuildId::new(seed::GUILD_WORKSHOP)),
        )
        .unwrap();
    let p = params(&url);
    assert_eq!(p["guild_id"], seed::GUILD_WORKSHOP.to_string());
    assert_eq!(p["disable_guild_select"], "true");
    assert_eq!(p["integration_type"], "0");

    // A user install: commands only, integration_type=1.
    let url = s
        .create_install(
            InstallOptions::new()
                .bot(false)
                .integration_type(IntegrationType::UserInstall),
        )
        .unwrap();
    let p = params(&url);
    assert_eq!(p["scope"], "applications.commands");
    assert_eq!(p["integration_type"], "1");
    assert!(!p.contains_key("permissions"));
}

#[tokio::test]
async fn contradictory_install_options_are_refused() {
    let mock = mock().await;
    let client = client_for(&mock);
    let s = Browser::default().session(&client);
    for bad in [
        InstallOptions::new()
            .bot(false)
            .applications_commands(false),
        InstallOptions::new().integration_type(IntegrationType::UserInstall),
        InstallOptions::new()
            .bot(false)
            .integration_type(IntegrationType::UserInstall)
            .guild(GuildId::new(seed::GUILD_WORKSHOP)),
        InstallOptions::new().bot(false).permissions(PERMS),
        InstallOptions::new().integration_type(IntegrationType::Unknown(7)),
    ] {
        let e = s.create_install(bad.clone()).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{bad:?}: {e:?}");
        assert_eq!(e.status(), 400);
    }
}

#[tokio::test]
async fn install_round_trip_returns_the_typed_guild_and_keeps_the_session() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    // Logged in first: a bare install must not replace that session.
    login(&client, &mut browser, seed::ALICE, LoginOptions::new()).await;
    let before = browser.session(&client).record().await.unwrap().unwrap();

    let s = browser.session(&client);
    let url = s
        .create_install(
            InstallOptions::new()
                .permissions(PERMS)
                .guild(GuildId::new(seed::GUILD_WORKSHOP)),
        )
        .unwrap();
    browser.absorb(&s);
    let query = authorize(&url, seed::ALICE).await;
    let s = browser.session(&client);
    let done = s.callback(&query).await.unwrap();
    browser.absorb(&s);
    let Flow::Install(install) = &done.flow else {
        panic!("an install: {:?}", done.flow);
    };
    assert_eq!(install.guild_id, Some(GuildId::new(seed::GUILD_WORKSHOP)));
    assert_eq!(install.guild_name(), Some("Alice's Workshop"));
    assert_eq!(install.permissions, Some(PERMS));
    assert_eq!(install.integration_type, IntegrationType::GuildInstall);
    assert!(install.webhook.is_none());
    assert!(done.user.is_none());
    let bot = mock
        .guilds()
        .into_iter()
        .find(|g| g.id == seed::GUILD_WORKSHOP)
        .unwrap()
        .bot_permissions;
    assert_eq!(bot, Some(PERMS.bits()), "the fake added the bot with them");
    let after = browser.session(&client).record().await.unwrap().unwrap();
    assert_eq!(after.id, before.id, "the login session is kept");
    assert_eq!(after.user_id, Some(seed::ALICE));

    // With `identify` (and a webhook) the install is also a login.
    let mut fresh = Browser::default();
    let s = fresh.session(&client);
    let url = s
        .create_install(
            InstallOptions::new()
                .scope(Scope::Identify)
                .scope(Scope::WebhookIncoming),
        )
        .unwrap();
    fresh.absorb(&s);
    let query = authorize(&url, seed::ALICE).await;
    let s = fresh.session(&client);
    let done = s.callback(&query).await.unwrap();
    fresh.absorb(&s);
    let Flow::Install(install) = &done.flow else {
        panic!("an install");
    };
    assert!(install.guild_id.is_some());
    let webhook = install.webhook.as_ref().expect("webhook.incoming");
    assert_eq!(webhook.guild_id, install.guild_id);
    assert_eq!(done.user.as_ref().map(|u| u.id.get()), Some(seed::ALICE));
    assert_eq!(fresh.session(&client).user_id().await, Some(seed::ALICE));
}

#[tokio::test]
async fn a_contradicted_pinned_guild_is_400_and_no_session() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s
        .create_install(
            InstallOptions::new()
                .scope(Scope::Identify)
                .guild(GuildId::new(seed::GUILD_WORKSHOP)),
        )
        .unwrap();
    browser.absorb(&s);
    // The user edits the address: another guild Alice owns.
    let tampered = with_param(&url, "guild_id", &seed::GUILD_LOBBY.to_string());
    let query = authorize(&tampered, seed::ALICE).await;
    let s = browser.session(&client);
    let e = s.callback(&query).await.unwrap_err();
    browser.absorb(&s);
    assert!(
        matches!(
            e,
            Error::InstallGuildMismatch { expected, got }
                if expected.get() == seed::GUILD_WORKSHOP && got.map(GuildId::get) == Some(seed::GUILD_LOBBY)
        ),
        "{e:?}"
    );
    assert_eq!(e.status(), 400);
    assert_eq!(e.kind(), "install_guild_mismatch");
    assert!(
        !browser.session(&client).authorized().await,
        "no session although `identify` was granted"
    );
    // The state was used up: replaying the callback is refused before any token request.
    let s = browser.session(&client);
    assert!(matches!(
        s.callback(&query).await,
        Err(Error::InvalidState(_))
    ));
}

#[tokio::test]
async fn every_role_connection_rule_is_checked_before_any_call() {
    let mock = mock().await;
    let client = client_for(&mock);
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        seed::ALICE,
        LoginOptions::linked_role(),
    )
    .await;
    let s = browser.session(&client);

    // The user's role connection: built by `new` (refused at once) and given as JSON to
    // `update_role_connection` (refused there, with no request to the fake).
    let long = |n: usize| "x".repeat(n);
    let values = |n: usize| {
        (0..n)
            .map(|i| (format!("k{i}"), json!("1")))
            .collect::<serde_json::Map<_, _>>()
    };
    let cases: Vec<(serde_json::Value, RoleConnectionError)> = vec![
        (
            json!({"platform_name": long(51)}),
            RoleConnectionError::PlatformNameTooLong,
        ),
        (
            json!({"platform_username": long(101)}),
            RoleConnectionError::PlatformUsernameTooLong,
        ),
        (
            json!({"metadata": {"Bad-Key": "1"}}),
            RoleConnectionError::InvalidKey("Bad-Key".into()),
        ),
        (
            json!({"metadata": {long(51): "1"}}),
            RoleConnectionError::InvalidKey(long(51)),
        ),
        (
            json!({"metadata": {"k": ""}}),
            RoleConnectionError::EmptyValue("k".into()),
        ),
        (
            json!({"metadata": {"k": long(101)}}),
            RoleConnectionError::ValueTooLong("k".into()),
        ),
        (
            json!({"metadata": values(6)}),
            RoleConnectionError::TooManyValues(6),
        ),
    ];
    for (body, expected) in cases {
        let c = RoleConnection::from_value(body.clone()).unwrap();
        assert_eq!(c.validate(), Err(expected.clone()), "{body}");
        let before = calls(&mock);
        let e = s.update_role_connection(&c).await.unwrap_err();
        assert!(
            matches!(&e, Error::RoleConnection(got) if *got == expected),
            "{body}: {e:?}"
        );
        assert_eq!(e.status(), 400);
        assert_eq!(calls(&mock), before, "no request for {body}");
    }
    // Exactly at the limits: accepted (and the fake agrees).
    let at_limits = RoleConnection::new(
        Some(long(50)),
        Some(long(100)),
        (0..5).map(|i| (format!("{}{i}", "k".repeat(49)), long(100))),
    )
    .unwrap();
    s.update_role_connection(&at_limits).await.unwrap();

    // Values against the declared records: undeclared keys and wrong types.
    let records = [
        RoleConnectionMetadata::new(T::IntegerGreaterThanOrEqual, "level", "Level", "Level")
            .unwrap(),
        RoleConnectionMetadata::new(T::DatetimeLessThanOrEqual, "since", "Since", "Since").unwrap(),
        RoleConnectionMetadata::new(T::BooleanEqual, "member", "Member", "Member").unwrap(),
    ];
    let ok = RoleConnection::new(
        None,
        None,
        [
            ("level", RoleConnectionValue::Integer(-3)),
            (
                "since",
                RoleConnectionValue::Datetime(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            ),
            ("member", RoleConnectionValue::Boolean(false)),
        ],
    )
    .unwrap();
    assert_eq!(ok.metadata["since"], "2023-11-14T22:13:20+00:00");
    assert_eq!(ok.metadata["member"], "0");
    ok.validate_against(&records).unwrap();
    for (key, value) in [("level", "high"), ("since", "yesterday"), ("member", "yes")] {
        let c = RoleConnection::new(None, None, [(key, value)]).unwrap();
        assert!(
            matches!(c.validate_against(&records), Err(RoleConnectionError::WrongValueType { key: k, .. }) if k == key),
            "{key}={value}"
        );
    }
    let c = RoleConnection::new(None, None, [("other", "1")]).unwrap();
    assert_eq!(
        c.validate_against(&records),
        Err(RoleConnectionError::UndeclaredKey("other".into()))
    );

    // Metadata records: each rule, by `new`/the setters and by registration (no request).
    assert_eq!(
        RoleConnectionMetadata::new(T::Unknown(9), "k", "n", "d").unwrap_err(),
        RoleConnectionError::InvalidType(9)
    );
    assert!(matches!(
        RoleConnectionMetadata::new(T::IntegerEqual, "", "n", "d"),
        Err(RoleConnectionError::InvalidKey(_))
    ));
    assert_eq!(
        RoleConnectionMetadata::new(T::IntegerEqual, "k", long(101), "d").unwrap_err(),
        RoleConnectionError::InvalidName
    );
    assert_eq!(
        RoleConnectionMetadata::new(T::IntegerEqual, "k", "n", "").unwrap_err(),
        RoleConnectionError::InvalidDescription
    );
    let rec = RoleConnectionMetadata::new(T::IntegerEqual, "k", "n", "d").unwrap();
    assert!(matches!(
        rec.clone().name_localizations([("fr", long(101))]),
        Err(RoleConnectionError::InvalidLocalization {
            field: "name_localizations",
            ..
        })
    ));
    assert!(matches!(
        rec.clone().description_localizations([("fr", "")]),
        Err(RoleConnectionError::InvalidLocalization {
            field: "description_localizations",
            ..
        })
    ));
    assert!(matches!(
        rec.clone().name_localizations([("", "n")]),
        Err(RoleConnectionError::InvalidLocalization { .. })
    ));
    let record = |v: serde_json::Value| RoleConnectionMetadata::from_value(v).unwrap();
    let good = json!({"type": 1, "key": "k", "name": "n", "description": "d"});
    let with = |k: &str, v: serde_json::Value| {
        let mut g = good.clone();
        g[k] = v;
        record(g)
    };
    let sets: Vec<(Vec<RoleConnectionMetadata>, RoleConnectionError)> = vec![
        (
            (0..6)
                .map(|i| with("key", json!(format!("k{i}"))))
                .collect(),
            RoleConnectionError::TooManyRecords(6),
        ),
        (
            vec![with("key", json!("Bad Key"))],
            RoleConnectionError::InvalidKey("Bad Key".into()),
        ),
        (
            vec![record(good.clone()), record(good.clone())],
            RoleConnectionError::DuplicateKey("k".into()),
        ),
        (
            vec![with("type", json!(0))],
            RoleConnectionError::InvalidType(0),
        ),
        (
            vec![with("name", json!(""))],
            RoleConnectionError::InvalidName,
        ),
        (
            vec![with("description", json!(long(201)))],
            RoleConnectionError::InvalidDescription,
        ),
        (
            vec![with("name_localizations", json!({"fr": long(101)}))],
            RoleConnectionError::InvalidLocalization {
                field: "name_localizations",
                locale: "fr".into(),
                max: 100,
            },
        ),
        (
            vec![with("description_localizations", json!({"de": ""}))],
            RoleConnectionError::InvalidLocalization {
                field: "description_localizations",
                locale: "de".into(),
                max: 200,
            },
        ),
    ];
    for (records, expected) in sets {
        let before = calls(&mock);
        let e = client
            .register_role_connection_metadata(&records)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::RoleConnection(got) if *got == expected),
            "{expected:?}: {e:?}"
        );
        assert_eq!(e.status(), 400);
        assert_eq!(calls(&mock), before, "no request for {expected:?}");
    }
}

#[tokio::test]
async fn linked_role_round_trip() {
    let mock = mock().await;
    let client = client_for(&mock);

    // The application declares its records with the bot token.
    let records = vec![
        RoleConnectionMetadata::new(
            T::IntegerGreaterThanOrEqual,
            "level",
            "Level",
            "Level reached",
        )
        .unwrap()
        .name_localizations([("fr", "Niveau")])
        .unwrap(),
        RoleConnectionMetadata::new(T::BooleanEqual, "member", "Member", "Is a member").unwrap(),
    ];
    let stored = client
        .register_role_connection_metadata(&records)
        .await
        .unwrap();
    assert_eq!(stored, records);
    assert_eq!(
        client.fetch_role_connection_metadata().await.unwrap(),
        records
    );

    let mut browser = Browser::default();
    let s = browser.session(&client);
    let url = s.create_session(LoginOptions::linked_role()).unwrap();
    browser.absorb(&s);
    let p = params(&url);
    let mut scopes: Vec<&str> = p["scope"].split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["identify", "role_connections.write"]);
    assert!(
        !p.contains_key("code_challenge"),
        "Discord refuses PKCE here"
    );
    let query = authorize(&url, seed::ALICE).await;
    let s = browser.session(&client);
    let done = s.callback(&query).await.unwrap();
    browser.absorb(&s);
    assert!(matches!(done.flow, Flow::LinkedRole), "{:?}", done.flow);
    assert!(done.scopes.contains(&Scope::RoleConnectionsWrite));

    let s = browser.session(&client);
    let empty = s.fetch_role_connection().await.unwrap();
    assert!(empty.metadata.is_empty() && empty.platform_name.is_none());
    let connection = RoleConnection::new(
        Some("Example Game".into()),
        Some("alice#game".into()),
        [
            ("level", RoleConnectionValue::Integer(12)),
            ("member", RoleConnectionValue::Boolean(true)),
        ],
    )
    .unwrap();
    connection.validate_against(&records).unwrap();
    let answer = s.update_role_connection(&connection).await.unwrap();
    assert_eq!(answer.metadata, connection.metadata);
    let read = s.fetch_role_connection().await.unwrap();
    assert_eq!(read.platform_name.as_deref(), Some("Example Game"));
    assert_eq!(read.platform_username.as_deref(), Some("alice#game"));
    assert_eq!(read.metadata["level"], "12");
    assert_eq!(read.metadata["member"], "1");
    assert_eq!(
        mock.role_connection(seed::ALICE).unwrap()["metadata"]["level"],
        "12"
    );

    s.delete_role_connection().await.unwrap();
    assert!(mock.role_connection(seed::ALICE).is_none());
    assert!(s.fetch_role_connection().await.unwrap().metadata.is_empty());

    // A session without `role_connections.write` is refused locally.
    let mut other = Browser::default();
    login(&client, &mut other, seed::ALICE, LoginOptions::new()).await;
    let before = calls(&mock);
    let e = other
        .session(&client)
        .update_role_connection(&connection)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::MissingScope(Scope::RoleConnectionsWrite)),
        "{e:?}"
    );
    assert_eq!(calls(&mock), before);
}
