//! Scopes, prompt and permissions: exact strings, injection rejection, Flask-Discord name mapping, serde.

use discord_oauth::permissions::Permissions;
use discord_oauth::scope::{InvalidScope, Prompt, SEED_SCOPE_NAMES, Scope, Scopes};

/// The 29 official scopes of
/// [Discord: OAuth2 Scopes](https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes)
/// plus the three Social SDK ones and the five more of Discord's OpenAPI spec.
const OFFICIAL: [&str; 37] = [
    "activities.read",
    "activities.write",
    "applications.builds.read",
    "applications.builds.upload",
    "applications.commands",
    "applications.commands.update",
    "applications.commands.permissions.update",
    "applications.entitlements",
    "applications.store.update",
    "bot",
    "connections",
    "dm_channels.read",
    "email",
    "gdm.join",
    "guilds",
    "guilds.join",
    "guilds.members.read",
    "identify",
    "identify.premium",
    "messages.read",
    "relationships.read",
    "role_connections.write",
    "rpc",
    "rpc.activities.write",
    "rpc.notifications.read",
    "rpc.voice.read",
    "rpc.voice.write",
    "voice",
    "webhook.incoming",
    "openid",
    "sdk.social_layer_presence",
    "sdk.social_layer",
    "activities.invites.write",
    "rpc.video.read",
    "rpc.video.write",
    "rpc.screenshare.read",
    "rpc.screenshare.write",
];

#[test]
fn every_official_scope_round_trips_as_a_named_variant() {
    assert_eq!(Scope::ALL_KNOWN.len(), OFFICIAL.len());
    for s in OFFICIAL {
        let scope: Scope = s.parse().unwrap();
        assert!(scope.is_known(), "{s} parsed as Other");
        assert_eq!(scope.as_str(), s);
        assert_eq!(scope.to_string(), s);
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        assert!(Scope::ALL_KNOWN.contains(&scope));
    }
    // ALL_KNOWN has no duplicates.
    let set: Scopes = Scope::ALL_KNOWN.iter().cloned().collect();
    assert_eq!(set.len(), 37);
}

#[test]
fn unknown_well_formed_scopes_become_other_and_round_trip() {
    for s in [
        "presences.read",
        "rpc.api",
        "dm_channels.messages.write",
        "x:y-z",
    ] {
        let scope: Scope = s.parse().unwrap();
        assert!(matches!(scope, Scope::Other(_)), "{s}");
        assert_eq!(scope.to_string(), s);
        assert!(!scope.requires_approval());
        let back: Scope = serde_json::from_str(&serde_json::to_string(&scope).unwrap()).unwrap();
        assert_eq!(back, scope);
    }
    // `Other` never aliases a named scope.
    assert_eq!(Scope::other("identify").unwrap(), Scope::Identify);
}

#[test]
fn injected_scopes_are_rejected_with_a_typed_error() {
    assert_eq!("".parse::<Scope>(), Err(InvalidScope::Empty));
    assert!(matches!(
        "identify%20email".parse::<Scope>(),
        Err(InvalidScope::InvalidChar { ch: '%', index: 8 })
    ));
    assert!(matches!(
        "identify email".parse::<Scope>(),
        Err(InvalidScope::InvalidChar { ch: ' ', .. })
    ));
    assert!(matches!(
        "a\n".parse::<Scope>(),
        Err(InvalidScope::InvalidChar { ch: '\n', index: 1 })
    ));
    for bad in [
        "identify&prompt=none",
        "identify#x",
        "a+b",
        "é",
        "\u{0}",
        "a\tb",
        "id/../x",
    ] {
        assert!(bad.parse::<Scope>().is_err(), "{bad:?} accepted");
        assert!(serde_json::from_value::<Scope>(serde_json::json!(bad)).is_err());
    }
    let long = "a".repeat(101);
    assert_eq!(
        long.parse::<Scope>(),
        Err(InvalidScope::TooLong { len: 101 })
    );
    // A scope list cannot smuggle an encoded item either.
    assert!(Scopes::parse("identify identify%20email").is_err());
}

#[test]
fn scope_properties_follow_discord_docs() {
    assert!(Scope::Bot.is_passthrough());
    assert!(Scope::WebhookIncoming.is_passthrough());
    assert!(!Scope::Identify.is_passthrough());
    assert!(Scope::RoleConnectionsWrite.forbids_pkce());
    assert!(!Scope::Identify.forbids_pkce());
    for s in [
        Scope::Rpc,
        Scope::RpcVoiceWrite,
        Scope::Voice,
        Scope::DmChannelsRead,
        Scope::IdentifyPremium,
        Scope::ApplicationsBuildsUpload,
        Scope::ActivitiesRead,
        Scope::RelationshipsRead,
    ] {
        assert!(s.requires_approval(), "{s}");
    }
    for s in [
        Scope::Identify,
        Scope::Email,
        Scope::Guilds,
        Scope::GuildsJoin,
        Scope::GuildsMembersRead,
        Scope::Connections,
        Scope::Bot,
    ] {
        assert!(!s.requires_approval(), "{s}");
    }
}

#[test]
fn seed_scope_names_map_to_todays_strings() {
    let names: Vec<&str> = SEED_SCOPE_NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), 23);
    assert_eq!(
        Scope::from_seed_name("READ_MESSAGES"),
        Some(Scope::MessagesRead)
    );
    assert_eq!(Scope::MessagesRead.as_str(), "messages.read");
    assert_eq!(
        Scope::from_seed_name("INCOMING_WEBHOOK").unwrap().as_str(),
        "webhook.incoming"
    );
    assert_eq!(
        Scope::from_seed_name("JOIN_GROUP_DM").unwrap().as_str(),
        "gdm.join"
    );
    assert_eq!(Scope::from_seed_name("NOPE"), None);
    // Flask-Discord's duplicated READ_RPC_VOICE: first is read, second is write.
    let rpc_voice: Vec<&Scope> = SEED_SCOPE_NAMES
        .iter()
        .filter(|(n, _)| *n == "READ_RPC_VOICE")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(rpc_voice, [&Scope::RpcVoiceRead, &Scope::RpcVoiceWrite]);
    assert_eq!(rpc_voice[1].as_str(), "rpc.voice.write");
    // Every Flask-Discord member named in the Flask-Discord API reference file has a row.
    if let Ok(seed) = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/seeds/flask-discord-api-reference.txt"
    )) {
        let start = seed.find("class flask_discord.DiscordOAuth2Scope").unwrap();
        let end = seed[start..].find("class flask_discord._http").unwrap() + start;
        let members: Vec<&str> = seed[start..end]
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            })
            .collect();
        assert_eq!(members, names);
    }
}

#[test]
fn scopes_set_parses_token_response_scope_strings() {
    let s = Scopes::parse("  identify   guilds email identify\tguilds.join ").unwrap();
    assert_eq!(s.to_string(), "identify guilds email guilds.join");
    assert_eq!(s.len(), 4);
    assert!(s.contains(&Scope::Email));
    assert!(!s.contains(&Scope::Bot));
    let needed: Scopes = [Scope::Identify, Scope::Guilds].into();
    assert!(s.is_superset(&needed));
    assert!(!needed.is_superset(&s));
    assert_eq!(needed.missing(&s), vec![&Scope::Email, &Scope::GuildsJoin]);
    assert_eq!(Scopes::parse("").unwrap(), Scopes::new());
    assert_eq!("bot".parse::<Scopes>().unwrap().to_string(), "bot");
    assert!(
        "bot webhook.incoming"
            .parse::<Scopes>()
            .unwrap()
            .has_passthrough()
    );

    let mut m = Scopes::new();
    assert!(m.insert(Scope::Guilds));
    assert!(!m.insert(Scope::Guilds));
    assert!(m.remove(&Scope::Guilds));
    assert!(m.is_empty());

    // serde: the space-separated string; arrays (GET /oauth2/@me) accepted on input.
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, "\"identify guilds email guilds.join\"");
    assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), s);
    let from_array: Scopes = serde_json::from_str(r#"["guilds.join","identify"]"#).unwrap();
    assert_eq!(from_array.to_string(), "guilds.join identify");
    assert!(serde_json::from_str::<Scopes>(r#"["a b"]"#).is_err());
    assert!(serde_json::from_str::<Scopes>("42").is_err());
    let iterated: Vec<&str> = s.iter().map(Scope::as_str).collect();
    assert_eq!(iterated, ["identify", "guilds", "email", "guilds.join"]);
}

#[test]
fn prompt_default_is_none_and_strings_are_exact() {
    assert_eq!(Prompt::default(), Prompt::None);
    assert_eq!(Prompt::Consent.as_str(), "consent");
    assert_eq!(Prompt::None.to_string(), "none");
    assert_eq!("consent".parse::<Prompt>().unwrap(), Prompt::Consent);
    assert!("true".parse::<Prompt>().is_err());
    assert_eq!(
        serde_json::to_string(&Prompt::Consent).unwrap(),
        "\"consent\""
    );
}

#[test]
fn permission_bits_match_discord_table() {
    assert_eq!(Permissions::all_documented().bits(), 8_866_461_766_385_663);
    assert_eq!(Permissions::all_documented().bits(), 0x1F_7FFF_FFFF_FFFF);
    assert_eq!(Permissions::all_documented().iter().count(), 52);
    assert_eq!(Permissions::ADMINISTRATOR.bits(), 8);
    assert_eq!(Permissions::REQUEST_TO_SPEAK.bits(), 4_294_967_296);
    assert_eq!(Permissions::MODERATE_MEMBERS.bits(), 1_099_511_627_776);
    assert_eq!(
        Permissions::SET_VOICE_CHANNEL_STATUS.bits(),
        281_474_976_710_656
    );
    assert_eq!(Permissions::BYPASS_SLOWMODE.bits(), 4_503_599_627_370_496);
    assert!(!Permissions::all_documented().contains(Permissions::from_bits_retain(1 << 47)));
    // The 2FA set (marked * in the docs): 11 permissions.
    assert_eq!(Permissions::REQUIRES_2FA.iter().count(), 11);
    assert!(Permissions::REQUIRES_2FA.contains(Permissions::MANAGE_THREADS));
    assert!(!Permissions::REQUIRES_2FA.contains(Permissions::MODERATE_MEMBERS));
    assert!(Permissions::KICK_MEMBERS.requires_2fa());
    assert!(!Permissions::SEND_MESSAGES.requires_2fa());
}

#[test]
fn permissions_serde_uses_decimal_strings_and_keeps_unknown_bits() {
    let high = Permissions::MANAGE_EVENTS | Permissions::PIN_MESSAGES | Permissions::VIEW_CHANNEL;
    let json = serde_json::to_string(&high).unwrap();
    assert_eq!(
        json,
        format!("\"{}\"", (1u64 << 33) | (1 << 51) | (1 << 10))
    );
    assert_eq!(serde_json::from_str::<Permissions>(&json).unwrap(), high);

    // Unknown bits (47, 60) survive parsing and serializing.
    let raw = (1u64 << 60) | (1 << 47) | 8;
    let p: Permissions = serde_json::from_str(&format!("\"{raw}\"")).unwrap();
    assert_eq!(p.bits(), raw);
    assert_eq!(p.unknown_bits(), (1 << 60) | (1 << 47));
    assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{raw}\""));
    assert_eq!(p.to_string(), raw.to_string());

    // A JSON number is accepted too (v6 leftovers), up to u64::MAX.
    assert_eq!(
        serde_json::from_str::<Permissions>("49794241")
            .unwrap()
            .bits(),
        49_794_241
    );
    assert_eq!(
        serde_json::from_str::<Permissions>(&u64::MAX.to_string())
            .unwrap()
            .bits(),
        u64::MAX
    );
    // A string past 64 bits (Discord's permissions are variable-length) decodes to its low
    // 64 bits, never failing the payload; the overflow is reported by
    // `from_decimal_str_overflowing`.
    assert_eq!(
        serde_json::from_str::<Permissions>("\"18446744073709551616\"").unwrap(),
        Permissions::empty()
    );
    assert_eq!(
        Permissions::from_decimal_str_overflowing("18446744073709551616"),
        Ok((Permissions::empty(), true))
    );
    // Bad input is an error, never a panic.
    for bad in [
        "\"-1\"", "\"1.5\"", "\"\"", "\" 8\"", "\"0x8\"", "-1", "1.5", "null", "true",
    ] {
        assert!(serde_json::from_str::<Permissions>(bad).is_err(), "{bad}");
    }
    assert_eq!(
        "36953089".parse::<Permissions>().unwrap().bits(),
        36_953_089
    );
}

#[test]
fn owner_and_administrator_rules() {
    let official = Permissions::from_bits_retain(36_953_089);
    assert!(!official.contains(Permissions::ADMINISTRATOR));
    assert_eq!(official.effective_for_guild(false), official);
    assert_eq!(
        official.effective_for_guild(true),
        Permissions::all_documented()
    );
    assert!(!official.has(Permissions::BAN_MEMBERS));

    let admin = Permissions::ADMINISTRATOR | Permissions::from_bits_retain(1 << 60);
    assert!(admin.has(Permissions::BAN_MEMBERS | Permissions::BYPASS_SLOWMODE));
    let eff = admin.effective_for_guild(false);
    assert!(eff.contains(Permissions::all_documented()));
    assert_eq!(eff.unknown_bits(), 1 << 60, "unknown bits kept");

    let base = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES;
    let after = base.apply_overwrite(Permissions::ATTACH_FILES, Permissions::SEND_MESSAGES);
    assert_eq!(after, Permissions::VIEW_CHANNEL | Permissions::ATTACH_FILES);
}
