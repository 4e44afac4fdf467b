//! Models: parsing Discord's own payloads (the golden fixtures) and realistic ones with nulls,
//! missing optional fields and unknown extras; exact `to_json()` round trips; equality by id;
//! `Display`; CDN URLs and rejections; snowflakes.

use std::collections::HashSet;
use std::path::PathBuf;

use discord_oauth::models::{
    Application, AuthorizationInfo, Cdn, CdnError, ConnectionVisibility, Guild, GuildId,
    GuildMember, ImageFormat, ImageSize, IncomingWebhook, Integration, IntegrationExpireBehavior,
    RoleConnection, RoleConnectionError, RoleConnectionMetadata, RoleConnectionMetadataType,
    RoleId, TokenGuild, User, UserConnection, UserId,
};
use discord_oauth::permissions::Permissions;
use discord_oauth::scope::Scope;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "discord-oauth-mock",
        "fixtures",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Parses `value` as `T` three ways (from a value, from text, from a nested value) and checks
/// that `to_json`-equivalent serialization gives back exactly `value`.
fn round_trip<T: DeserializeOwned + serde::Serialize>(value: &Value) -> T {
    let text = serde_json::to_string(value).unwrap();
    let from_text: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&serde_json::to_value(&from_text).unwrap(), value);
    let from_value: T = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(&serde_json::to_value(&from_value).unwrap(), value);
    from_value
}

fn cdn() -> Cdn {
    Cdn::default()
}

#[test]
fn official_user_example_parses_every_field() {
    let raw = fixture("user.json");
    let u: User = round_trip(&raw);
    assert_eq!(u.to_json(), &raw);
    assert_eq!(u.id, UserId::new(80_351_110_224_678_912));
    assert_eq!(u.username, "Nelly");
    assert_eq!(u.name(), "Nelly");
    assert_eq!(u.global_name, None);
    assert_eq!(u.display_name(), "Nelly");
    assert_eq!(u.discriminator, "1337");
    assert!(u.is_legacy());
    assert_eq!(u.to_string(), "Nelly#1337");
    assert_eq!(u.email.as_deref(), Some("nelly@discord.com"));
    assert_eq!(u.verified, Some(true));
    assert_eq!(u.flags, Some(64));
    assert_eq!(u.public_flags, Some(64));
    assert_eq!(u.premium_type, Some(0));
    assert_eq!(u.accent_color, Some(16_711_680));
    assert_eq!(
        u.banner.as_deref(),
        Some("06c16474723fe537c283b8efa61a30c8")
    );
    assert!(!u.bot && !u.system);
    assert_eq!(u.mfa_enabled, None);
    let deco = u.avatar_decoration_data.as_ref().unwrap();
    assert_eq!(
        deco.asset.as_deref(),
        Some("a_fed43ab12698df65902ba06727e20c0e")
    );
    assert_eq!(deco.sku_id.unwrap().get(), 1_144_058_844_004_233_369);
    let plate = u.collectibles.as_ref().unwrap().nameplate.as_ref().unwrap();
    assert_eq!(plate.palette.as_deref(), Some("cobalt"));
    let pg = u.primary_guild.as_ref().unwrap();
    assert_eq!(pg.tag.as_deref(), Some("DISC"));
    assert_eq!(
        pg.identity_guild_id,
        Some(GuildId::new(1_234_647_491_267_808_778))
    );
    assert_eq!(pg.identity_enabled, Some(true));
    assert!(!u.is_avatar_animated());
    assert_eq!(
        u.avatar_decoration_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/avatar-decoration-presets/a_fed43ab12698df65902ba06727e20c0e.png"
    );
}

#[test]
fn migrated_user_with_nulls_and_unknown_fields() {
    let raw = fixture("user_migrated.json");
    let u: User = round_trip(&raw);
    assert_eq!(u.to_json(), &raw);
    assert_eq!(u.to_json()["clan"], Value::Null, "unknown field kept");
    assert!(!u.is_legacy());
    assert_eq!(u.to_string(), "nelly", "no #0 for migrated users");
    assert_eq!(u.display_name(), "Nelly");
    assert!(u.is_avatar_animated());
    assert_eq!(u.email, None);
    assert_eq!(u.accent_color, None);
    assert!(u.avatar_decoration_data.is_none());
    assert_eq!(u.flags, Some(4_194_368), "undocumented bit 22 kept");
    let pg = u.primary_guild.as_ref().unwrap();
    assert_eq!((pg.identity_guild_id, pg.tag.as_deref()), (None, None));
}

#[test]
fn minimal_user_tolerates_missing_optional_fields() {
    let raw = json!({"id": "1", "username": "x"});
    let u: User = round_trip(&raw);
    assert_eq!(u.discriminator, "");
    assert!(!u.is_legacy());
    assert_eq!(u.avatar, None);
    assert_eq!(u.avatar_url(&cdn()), None);
    assert_eq!(u.to_string(), "x");
    // Nulls everywhere a value may be null, plus an unknown nested object and a numeric id.
    let raw = json!({
        "id": 80351110224678912u64, "username": "y", "discriminator": null, "global_name": null,
        "avatar": null, "bot": null, "system": null, "banner": null, "accent_color": null,
        "email": null, "avatar_decoration_data": null, "collectibles": {"nameplate": null},
        "primary_guild": null, "future_field": {"a": [1, 2, 3]}
    });
    let u: User = round_trip(&raw);
    assert_eq!(u.id.get(), 80_351_110_224_678_912);
    assert_eq!(u.to_json()["future_field"]["a"][2], 3);
    // Required fields are required.
    assert!(serde_json::from_value::<User>(json!({"username": "x"})).is_err());
    assert!(serde_json::from_value::<User>(json!({"id": "x1", "username": "x"})).is_err());
    assert!(serde_json::from_value::<User>(json!({"id": "-1", "username": "x"})).is_err());
    assert!(serde_json::from_value::<User>(json!([1])).is_err());
}

#[test]
fn default_avatar_index_new_and_legacy() {
    let cdn = Cdn::new("http://127.0.0.1:9999/cdn").unwrap();
    // (80351110224678912 >> 22) % 6 == 5 (Flask-Discord gave 0, study B11).
    let migrated: User = serde_json::from_value(
        json!({"id": "80351110224678912", "username": "n", "discriminator": "0", "avatar": null}),
    )
    .unwrap();
    assert_eq!((80_351_110_224_678_912u64 >> 22) % 6, 5);
    assert_eq!(migrated.default_avatar_index(), 5);
    assert_eq!(
        migrated.default_avatar_url(&cdn).as_str(),
        "http://127.0.0.1:9999/cdn/embed/avatars/5.png"
    );
    assert_eq!(
        migrated.avatar_url_or_default(&cdn).as_str(),
        "http://127.0.0.1:9999/cdn/embed/avatars/5.png"
    );
    assert_eq!(
        migrated.avatar_url_with(&cdn, ImageFormat::Png, None),
        Err(CdnError::NoImage)
    );
    // Legacy: discriminator % 5.
    let legacy = User::from_value(fixture("user.json")).unwrap();
    assert_eq!(u16::from(legacy.default_avatar_index()), 1337 % 5);
    assert_eq!(
        legacy.default_avatar_url(&Cdn::default()).as_str(),
        "https://cdn.discordapp.com/embed/avatars/2.png"
    );
    let bot: User = serde_json::from_value(
        json!({"id": "1", "username": "b", "discriminator": "0004", "bot": true}),
    )
    .unwrap();
    assert_eq!(bot.default_avatar_index(), 4);
    assert_eq!(bot.to_string(), "b#0004");
}

#[test]
fn avatar_urls_static_animated_and_custom_cdn() {
    let cdn = Cdn::new("http://127.0.0.1:8080").unwrap();
    assert_eq!(cdn.base().as_str(), "http://127.0.0.1:8080/");
    let u = User::from_value(fixture("user.json")).unwrap();
    let id = "80351110224678912";
    let hash = "8342729096ea3675442027381ff50dfe";
    assert_eq!(
        u.avatar_url(&cdn).unwrap().as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{hash}.png")
    );
    assert_eq!(
        u.avatar_url_with(&cdn, ImageFormat::WebP, Some(ImageSize::new(256).unwrap()))
            .unwrap()
            .as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{hash}.webp?size=256")
    );
    assert_eq!(
        u.avatar_url_with(&cdn, ImageFormat::Jpeg, None)
            .unwrap()
            .as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{hash}.jpg")
    );
    // GIF for a static hash is what Discord rejects.
    assert_eq!(
        u.avatar_url_with(&cdn, ImageFormat::Gif, None),
        Err(CdnError::NotAnimated)
    );

    let a = User::from_value(fixture("user_migrated.json")).unwrap();
    let ahash = "a_8342729096ea3675442027381ff50dfe";
    assert_eq!(
        a.avatar_url(&cdn).unwrap().as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{ahash}.webp?animated=true")
    );
    assert_eq!(
        a.avatar_url_with(&cdn, ImageFormat::Gif, Some(ImageSize::new(4096).unwrap()))
            .unwrap()
            .as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{ahash}.gif?size=4096")
    );
    assert_eq!(
        a.avatar_url_with(&cdn, ImageFormat::WebP, Some(ImageSize::MIN))
            .unwrap()
            .as_str(),
        format!("http://127.0.0.1:8080/avatars/{id}/{ahash}.webp?size=16&animated=true")
    );
    assert_eq!(a.avatar_url_or_default(&cdn), a.avatar_url(&cdn).unwrap());
    // Banners follow the same rules.
    assert_eq!(
        a.banner_url(&cdn).unwrap().as_str(),
        format!(
            "http://127.0.0.1:8080/banners/{id}/a_06c16474723fe537c283b8efa61a30c8.webp?animated=true"
        )
    );
    assert_eq!(
        u.banner_url_with(&cdn, ImageFormat::Gif, None),
        Err(CdnError::NotAnimated)
    );
    assert_eq!(
        u.banner_url(&Cdn::default()).unwrap().as_str(),
        format!("https://cdn.discordapp.com/banners/{id}/06c16474723fe537c283b8efa61a30c8.png")
    );
}

#[test]
fn cdn_rejections() {
    for bad in [0, 1, 8, 15, 17, 100, 1000, 5000, 8192, u32::MAX] {
        assert_eq!(
            ImageSize::new(bad),
            Err(CdnError::InvalidSize(bad)),
            "{bad}"
        );
    }
    for good in [16, 32, 64, 128, 256, 512, 1024, 2048, 4096] {
        assert_eq!(u32::from(ImageSize::new(good).unwrap().get()), good);
    }
    for bad in [
        "not a url",
        "ftp://cdn.example",
        "http://x/?q=1",
        "http://x/#f",
        "mailto:a@b",
    ] {
        assert_eq!(Cdn::new(bad), Err(CdnError::InvalidBase), "{bad}");
    }
    // A hash that would change the path is refused.
    let u: User = serde_json::from_value(
        json!({"id": "1", "username": "x", "discriminator": "0", "avatar": "../../evil"}),
    )
    .unwrap();
    assert_eq!(
        u.avatar_url_with(&cdn(), ImageFormat::Png, None),
        Err(CdnError::InvalidHash)
    );
    assert_eq!(u.avatar_url(&cdn()), None);
    assert_eq!(
        u.avatar_url_or_default(&cdn()).as_str(),
        "https://cdn.discordapp.com/embed/avatars/0.png"
    );
    // Application icons are never animated.
    let app = Application::from_value(json!({"id": "5", "icon": "abc"})).unwrap();
    assert_eq!(
        cdn().application_icon(app.id, "abc", ImageFormat::Gif, None),
        Err(CdnError::UnsupportedFormat(ImageFormat::Gif))
    );
    assert_eq!(
        app.icon_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/app-icons/5/abc.png"
    );
    // The default avatar is PNG and has no size.
    assert_eq!(
        cdn().default_avatar(11).as_str(),
        "https://cdn.discordapp.com/embed/avatars/5.png"
    );
}

#[test]
fn official_partial_guild_and_guild_list() {
    let raw = fixture("partial_guild.json");
    let g: Guild = round_trip(&raw);
    assert_eq!(g.to_json(), &raw);
    assert_eq!(g.to_string(), "1337 Krew");
    assert!(g.is_owner());
    assert_eq!(g.permissions.bits(), 36_953_089);
    assert!(!g.permissions.contains(Permissions::ADMINISTRATOR));
    assert_eq!(g.permissions_effective(), Permissions::all_documented());
    assert_eq!(g.features.len(), 6);
    assert!(g.has_feature("ROLE_ICONS"));
    assert_eq!(g.approximate_member_count, Some(3268));
    assert_eq!(g.approximate_presence_count, Some(784));
    assert_eq!(
        g.icon_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/icons/80351110224678912/8342729096ea3675442027381ff50dfe.png"
    );
    assert_eq!(
        g.icon_url_with(&cdn(), ImageFormat::Gif, None),
        Err(CdnError::NotAnimated)
    );
    assert_eq!(
        g.banner_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/banners/80351110224678912/bb42bdc37653b7cf58c4c8cc622e76cb.png"
    );

    let raw = fixture("guilds.json");
    let guilds: Vec<Guild> = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&guilds).unwrap(), raw);
    assert_eq!(guilds.len(), 3);
    for (g, r) in guilds.iter().zip(raw.as_array().unwrap()) {
        assert_eq!(g.to_json(), r);
    }
    let animated = &guilds[1];
    assert!(animated.is_icon_animated());
    assert_eq!(
        animated.icon_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/icons/197038439483310086/a_f64c482b807da4f539cff778d174971c.webp?animated=true"
    );
    assert_eq!(
        animated
            .icon_url_with(&cdn(), ImageFormat::Gif, Some(ImageSize::new(64).unwrap()))
            .unwrap()
            .as_str(),
        "https://cdn.discordapp.com/icons/197038439483310086/a_f64c482b807da4f539cff778d174971c.gif?size=64"
    );
    assert_eq!(animated.permissions, Permissions::all_documented());
    assert!(animated.has_feature("SOME_FUTURE_FEATURE"));
    let no_icon = &guilds[2];
    assert_eq!(no_icon.icon, None);
    assert_eq!(no_icon.icon_url(&cdn()), None);
    assert_eq!(
        no_icon.icon_url_with(&cdn(), ImageFormat::Png, None),
        Err(CdnError::NoImage)
    );
    assert!(
        no_icon
            .permissions
            .contains(Permissions::PIN_MESSAGES | Permissions::MODERATE_MEMBERS)
    );
    assert!(no_icon.permissions.bits() > u64::from(u32::MAX));
    assert_eq!(no_icon.approximate_member_count, None);
}

#[test]
fn guild_tolerates_missing_and_null_fields() {
    let g: Guild = round_trip(
        &json!({"id": "1", "name": "n", "features": null, "permissions": null, "owner": null, "icon": null, "extra": 1}),
    );
    assert!(g.features.is_empty());
    assert_eq!(g.permissions, Permissions::empty());
    assert!(!g.is_owner());
    let g: Guild = round_trip(&json!({"id": "2", "name": "m", "permissions": "8"}));
    assert_eq!(g.permissions_effective(), Permissions::all_documented());
    assert!(serde_json::from_value::<Guild>(json!({"id": "3", "permissions": "lots"})).is_err());
}

#[test]
fn equality_and_hash_by_id() {
    let a = User::from_value(fixture("user.json")).unwrap();
    let b = User::from_value(fixture("user_migrated.json")).unwrap();
    assert_eq!(a, b, "same id, different payloads");
    let c: User = serde_json::from_value(json!({"id": "2", "username": "Nelly"})).unwrap();
    assert_ne!(a, c, "same name, different ids");
    let set: HashSet<User> = [a.clone(), b, c].into_iter().collect();
    assert_eq!(set.len(), 2);

    let g1 = Guild::from_value(fixture("partial_guild.json")).unwrap();
    let g2: Guild =
        serde_json::from_value(json!({"id": "80351110224678912", "name": "renamed"})).unwrap();
    let g3: Guild = serde_json::from_value(json!({"id": "1", "name": "1337 Krew"})).unwrap();
    assert_eq!(g1, g2);
    assert_ne!(g1, g3);
    assert_eq!([g1, g2, g3].into_iter().collect::<HashSet<_>>().len(), 2);

    let c1 = UserConnection::from_value(fixture("connection.json")).unwrap();
    let mut other = fixture("connection.json");
    other["name"] = json!("renamed");
    other["integrations"] = json!([]);
    let c2 = UserConnection::from_value(other.clone()).unwrap();
    assert_eq!(c1, c2);
    other["type"] = json!("youtube");
    let c3 = UserConnection::from_value(other).unwrap();
    assert_ne!(c1, c3, "same account id on another service");
    assert_eq!([c1, c2, c3].into_iter().collect::<HashSet<_>>().len(), 2);
}

#[test]
fn connection_with_partial_integrations() {
    let raw = fixture("connection.json");
    let c: UserConnection = round_trip(&raw);
    assert_eq!(c.to_json(), &raw);
    assert_eq!(c.id, "41771983423143937");
    assert_eq!(c.kind, "twitch");
    assert!(c.verified && c.show_activity && !c.friend_sync && !c.revoked && !c.two_way_link);
    assert_eq!(c.visibility, ConnectionVisibility::Everyone);
    assert!(c.is_visible());
    assert_eq!(c.integrations.len(), 2);
    let twitch = &c.integrations[0];
    assert_eq!(twitch.role_id, None, "null role_id is None, not a crash");
    assert_eq!(
        twitch.expire_behavior,
        Some(IntegrationExpireBehavior::RemoveRole)
    );
    assert_eq!(twitch.expire_grace_period, Some(7));
    assert_eq!(twitch.account.as_ref().unwrap().name, "nelly_streams");
    assert_eq!(twitch.to_json(), &raw["integrations"][0]);
    let yt = &c.integrations[1];
    assert_eq!(yt.role_id, Some(RoleId::new(290_926_798_626_357_250)));
    assert_eq!(yt.expire_behavior, Some(IntegrationExpireBehavior::Kick));
    assert_eq!(yt.syncing, None);
    assert_eq!(yt.account.as_ref().unwrap().id, "UC_x5XG1OV2P6uZZ5FSM9Ttw");

    // Partial integration: only the id; unknown expire behaviour kept.
    let i: Integration = round_trip(
        &json!({"id": "9", "expire_behavior": 7, "scopes": ["bot", "applications.commands"]}),
    );
    assert_eq!(
        i.expire_behavior,
        Some(IntegrationExpireBehavior::Unknown(7))
    );
    assert!(i.scopes.unwrap().contains(&Scope::Bot));
    assert!(serde_json::from_value::<Integration>(json!({"name": "no id"})).is_err());

    // Minimal connection: missing booleans and integrations default; unknown visibility kept.
    let c: UserConnection = round_trip(
        &json!({"id": "abc", "name": "n", "type": "bluesky", "visibility": 2, "integrations": null}),
    );
    assert_eq!(c.visibility, ConnectionVisibility::Unknown(2));
    assert!(!c.is_visible());
    assert!(c.integrations.is_empty());
    let c: UserConnection = round_trip(&json!({"id": "abc", "name": "n", "type": "steam"}));
    assert_eq!(c.visibility, ConnectionVisibility::None);
    assert!(!c.is_visible());
}

#[test]
fn guild_member_fixture() {
    let raw = fixture("guild_member.json");
    let m: GuildMember = round_trip(&raw);
    assert_eq!(m.to_json(), &raw);
    assert_eq!(m.nick.as_deref(), Some("NOT API SUPPORT"));
    assert_eq!(m.display_name(), Some("NOT API SUPPORT"));
    assert_eq!(m.roles.len(), 2);
    assert!(m.has_role(RoleId::new(41_771_983_423_143_936)));
    assert_eq!(m.flags, 2);
    assert!(!m.deaf && !m.mute && !m.pending);
    assert_eq!(
        m.joined_at.as_deref(),
        Some("2015-04-26T06:26:56.936000+00:00")
    );
    let u = m.user.as_ref().unwrap();
    assert_eq!(u.display_name(), "Nelly");
    assert_eq!(
        u.to_json(),
        &raw["user"],
        "nested model keeps its own payload"
    );
    assert_eq!(m.avatar_url(&cdn(), GuildId::new(1)), None);

    let m: GuildMember = round_trip(
        &json!({"roles": [], "joined_at": null, "deaf": false, "mute": false, "nick": null, "avatar": "a_b", "user": {"id": "3", "username": "u", "global_name": "G"}}),
    );
    assert_eq!(m.display_name(), Some("G"));
    assert_eq!(
        m.avatar_url(&cdn(), GuildId::new(7)).unwrap().as_str(),
        "https://cdn.discordapp.com/guilds/7/users/3/avatars/a_b.webp?animated=true"
    );
}

#[test]
fn authorization_info_official_example() {
    let raw = fixture("authorization_info.json");
    let a: AuthorizationInfo = round_trip(&raw);
    assert_eq!(a.to_json(), &raw);
    assert_eq!(a.application.id.get(), 159_799_960_412_356_608);
    assert_eq!(a.application.name.as_deref(), Some("AIRHORN SOLUTIONS"));
    assert_eq!(a.application.bot_public, Some(true));
    assert_eq!(a.scopes.to_string(), "guilds.join identify");
    assert!(a.has_scope(&Scope::Identify));
    assert!(!a.has_scope(&Scope::Email));
    assert_eq!(a.expires, "2021-01-23T02:33:17.017000+00:00");
    let u = a.user.as_ref().unwrap();
    assert_eq!(u.to_string(), "discord");
    assert_eq!(u.display_name(), "Discord");
    assert_eq!(
        a.application.icon_url(&cdn()).unwrap().as_str(),
        "https://cdn.discordapp.com/app-icons/159799960412356608/f03590d3eb764081d154a66340ea7d6d.png"
    );
    // Without identify there is no user.
    let a: AuthorizationInfo = round_trip(
        &json!({"application": {"id": "1"}, "scopes": ["guilds"], "expires": "2021-01-23T02:33:17+00:00"}),
    );
    assert!(a.user.is_none());
}

#[test]
fn bot_and_webhook_token_response_objects() {
    let raw = fixture("token_response_bot.json");
    let g: TokenGuild = round_trip(&raw["guild"]);
    assert_eq!(g.id.get(), 2_909_267_986_347_357_250);
    assert_eq!(g.to_string(), "SomeTest");
    assert_eq!(g.owner_id, Some(UserId::new(53_908_232_999_183_680)));
    assert_eq!(g.roles.len(), 1);
    assert_eq!(g.roles[0].name, "@everyone");
    assert_eq!(
        g.roles[0].permissions.bits(),
        49_794_241,
        "numeric v6 permissions accepted"
    );
    assert_eq!(g.icon_url(&cdn()), None);
    assert_eq!(g.to_json()["region"], "us-east");

    let raw = fixture("token_response_webhook.json");
    let w: IncomingWebhook = round_trip(&raw["webhook"]);
    assert_eq!(w.to_json(), &raw["webhook"]);
    assert_eq!(w.id.get(), 347_114_750_880_120_863);
    assert_eq!(w.kind, 1);
    assert_eq!(w.channel_id.get(), 345_626_669_224_982_402);
    assert_eq!(w.guild_id, Some(GuildId::new(290_926_792_226_357_250)));
    assert_eq!(w.name.as_deref(), Some("testwebhook"));
    assert_eq!(w.avatar, None);
    let token = "kKDdjXa1g9tKNs0-_yOwLyALC9gydEWP6gr9sHabuK1vuofjhQDDnlOclJeRIvYK-pj_";
    assert_eq!(w.token.secret(), token);
    assert!(w.url().unwrap().ends_with(token));
    let debug = format!("{w:?}");
    assert!(
        !debug.contains(token),
        "webhook token leaked in Debug: {debug}"
    );
    assert!(debug.contains("347114750880120863"));
}

#[test]
fn debug_never_prints_the_raw_payload() {
    let u = User::from_value(fixture("user.json")).unwrap();
    let debug = format!("{u:?}");
    assert!(debug.starts_with("User {"));
    assert!(!debug.contains("raw"));
}

#[test]
fn role_connections() {
    let raw = fixture("role_connection.json");
    let rc: RoleConnection = round_trip(&raw);
    assert_eq!(rc.to_json(), &raw);
    assert_eq!(rc.platform_name.as_deref(), Some("Example Game"));
    assert_eq!(rc.metadata["matches_won"], "42");
    // Numbers and booleans are tolerated as stringified values; a null metadata is empty.
    let rc: RoleConnection =
        round_trip(&json!({"platform_name": null, "metadata": {"a": 5, "b": true}}));
    assert_eq!(rc.metadata["a"], "5");
    assert_eq!(rc.metadata["b"], "1");
    let rc: RoleConnection = round_trip(&json!({"platform_name": null, "metadata": null}));
    assert!(rc.metadata.is_empty());

    let built = RoleConnection::new(Some("Game".into()), None, [("level", "3")]).unwrap();
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"platform_name": "Game", "metadata": {"level": "3"}}),
        "a missing name is omitted, not null (as documented)"
    );
    assert_eq!(
        RoleConnection::new(Some("x".repeat(51)), None, [("a", "1")]).unwrap_err(),
        RoleConnectionError::PlatformNameTooLong
    );
    assert_eq!(
        RoleConnection::new(None, Some("x".repeat(101)), [("a", "1")]).unwrap_err(),
        RoleConnectionError::PlatformUsernameTooLong
    );
    assert!(matches!(
        RoleConnection::new(None, None, [("Bad-Key", "1")]),
        Err(RoleConnectionError::InvalidKey(_))
    ));
    assert!(matches!(
        RoleConnection::new(None, None, [("k", "x".repeat(101))]),
        Err(RoleConnectionError::ValueTooLong(_))
    ));

    let raw = fixture("role_connection_metadata.json");
    let records: Vec<RoleConnectionMetadata> = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&records).unwrap(), raw);
    assert_eq!(
        records[0].kind,
        RoleConnectionMetadataType::IntegerGreaterThanOrEqual
    );
    assert_eq!(
        records[1].kind,
        RoleConnectionMetadataType::DatetimeGreaterThanOrEqual
    );
    assert_eq!(records[2].kind, RoleConnectionMetadataType::BooleanEqual);
    assert_eq!(
        records[0].name_localizations.as_ref().unwrap()["fr"],
        "Matchs gagnés"
    );
    RoleConnectionMetadata::validate_records(&records).unwrap();

    for (n, t) in (1u8..=8).zip([
        RoleConnectionMetadataType::IntegerLessThanOrEqual,
        RoleConnectionMetadataType::IntegerGreaterThanOrEqual,
        RoleConnectionMetadataType::IntegerEqual,
        RoleConnectionMetadataType::IntegerNotEqual,
        RoleConnectionMetadataType::DatetimeLessThanOrEqual,
        RoleConnectionMetadataType::DatetimeGreaterThanOrEqual,
        RoleConnectionMetadataType::BooleanEqual,
        RoleConnectionMetadataType::BooleanNotEqual,
    ]) {
        assert_eq!(RoleConnectionMetadataType::from(n), t);
        assert_eq!(t.value(), n);
    }
    assert_eq!(
        RoleConnectionMetadataType::from(9),
        RoleConnectionMetadataType::Unknown(9)
    );

    assert!(RoleConnectionMetadata::is_valid_key("a_1"));
    for bad in ["", "A", "a-b", "a b", "é", &"a".repeat(51)] {
        assert!(!RoleConnectionMetadata::is_valid_key(bad), "{bad:?}");
    }
    assert!(RoleConnectionMetadata::is_valid_key(&"a".repeat(50)));
    let rec = |k: &str| {
        RoleConnectionMetadata::new(RoleConnectionMetadataType::IntegerEqual, k, "Name", "Desc")
            .unwrap()
    };
    let six: Vec<_> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|k| rec(k))
        .collect();
    assert_eq!(
        RoleConnectionMetadata::validate_records(&six),
        Err(RoleConnectionError::TooManyRecords(6))
    );
    RoleConnectionMetadata::validate_records(&six[..5]).unwrap();
    assert_eq!(
        RoleConnectionMetadata::validate_records(&[rec("a"), rec("a")]),
        Err(RoleConnectionError::DuplicateKey("a".into()))
    );
    assert_eq!(
        serde_json::to_value(rec("lvl")).unwrap(),
        json!({"type": 3, "key": "lvl", "name": "Name", "description": "Desc"})
    );
    assert!(matches!(
        RoleConnectionMetadata::new(RoleConnectionMetadataType::IntegerEqual, "ok", "", "d"),
        Err(RoleConnectionError::InvalidName)
    ));
    assert!(matches!(
        RoleConnectionMetadata::new(
            RoleConnectionMetadataType::IntegerEqual,
            "ok",
            "n",
            "d".repeat(201)
        ),
        Err(RoleConnectionError::InvalidDescription)
    ));
}

#[test]
fn snowflakes_serde_display_and_timestamp() {
    let id: UserId = serde_json::from_str("\"80351110224678912\"").unwrap();
    assert_eq!(id.to_string(), "80351110224678912");
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"80351110224678912\"");
    assert_eq!(
        serde_json::from_str::<UserId>("80351110224678912").unwrap(),
        id
    );
    assert_eq!("80351110224678912".parse::<UserId>().unwrap(), id);
    // (id >> 22) + Discord epoch: 2015-07-16T... for the docs' example id.
    assert_eq!(
        id.timestamp_ms(),
        (80_351_110_224_678_912u64 >> 22) + 1_420_070_400_000
    );
    assert_eq!(
        id.timestamp()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
        u128::from(id.timestamp_ms())
    );
    assert_eq!(
        serde_json::from_str::<UserId>("\"18446744073709551615\"")
            .unwrap()
            .get(),
        u64::MAX
    );
    for bad in [
        "\"\"",
        "\"-1\"",
        "\"1e3\"",
        "\"18446744073709551616\"",
        "-1",
        "1.5",
        "null",
        "\" 1\"",
        "\"+1\"",
    ] {
        assert!(serde_json::from_str::<UserId>(bad).is_err(), "{bad}");
    }
}

#[test]
fn every_fixture_parses_and_round_trips_exactly() {
    // Model-shaped fixtures: to_json / Serialize give back exactly the received JSON.
    let user = fixture("user.json");
    assert_eq!(User::from_value(user.clone()).unwrap().into_json(), user);
    let user = fixture("user_migrated.json");
    assert_eq!(User::from_value(user.clone()).unwrap().into_json(), user);
    let g = fixture("partial_guild.json");
    assert_eq!(Guild::from_value(g.clone()).unwrap().into_json(), g);
    let gs = fixture("guilds.json");
    assert_eq!(
        serde_json::to_value(serde_json::from_value::<Vec<Guild>>(gs.clone()).unwrap()).unwrap(),
        gs
    );
    let c = fixture("connection.json");
    assert_eq!(
        UserConnection::from_value(c.clone()).unwrap().into_json(),
        c
    );
    let m = fixture("guild_member.json");
    assert_eq!(GuildMember::from_value(m.clone()).unwrap().into_json(), m);
    let a = fixture("authorization_info.json");
    assert_eq!(
        AuthorizationInfo::from_value(a.clone())
            .unwrap()
            .into_json(),
        a
    );
    let b = fixture("token_response_bot.json");
    assert_eq!(
        TokenGuild::from_value(b["guild"].clone())
            .unwrap()
            .into_json(),
        b["guild"]
    );
    let w = fixture("token_response_webhook.json");
    assert_eq!(
        IncomingWebhook::from_value(w["webhook"].clone())
            .unwrap()
            .into_json(),
        w["webhook"]
    );
    let r = fixture("role_connection.json");
    assert_eq!(
        RoleConnection::from_value(r.clone()).unwrap().into_json(),
        r
    );
    let rm = fixture("role_connection_metadata.json");
    assert_eq!(
        serde_json::to_value(
            serde_json::from_value::<Vec<RoleConnectionMetadata>>(rm.clone()).unwrap()
        )
        .unwrap(),
        rm
    );

    // Token responses: the scope field parses with the scope parser.
    for (name, scope) in [
        ("token_response.json", "identify"),
        ("token_response_bot.json", "bot"),
        ("token_response_webhook.json", "webhook.incoming"),
    ] {
        let t = fixture(name);
        let scopes: discord_oauth::scope::Scopes =
            serde_json::from_value(t["scope"].clone()).unwrap();
        assert_eq!(scopes.to_string(), scope);
        assert_eq!(t["token_type"], "Bearer");
        assert_eq!(t["expires_in"], 604_800);
    }

    // Error and rate-limit bodies have the documented shapes.
    assert_eq!(
        fixture("error_401.json"),
        json!({"message": "401: Unauthorized", "code": 0})
    );
    let e = fixture("error_50035.json");
    assert_eq!(e["code"], 50035);
    assert_eq!(
        e["errors"]["access_token"]["_errors"][0]["code"],
        "BASE_TYPE_REQUIRED"
    );
    for (name, global) in [
        ("ratelimit_429.json", false),
        ("ratelimit_429_global.json", true),
    ] {
        let r = fixture(name);
        assert_eq!(r["retry_after"].as_f64(), Some(64.57));
        assert_eq!(r["global"], global);
    }

    // Every fixture file is listed in the README and used above.
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "discord-oauth-mock", "fixtures"]
        .iter()
        .collect();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            count += 1;
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} missing from README"
            );
        }
    }
    assert_eq!(count, 16);
}

// ---------------------------------------------------------------------------------------------
// Against Discord's official OpenAPI spec (https://github.com/discord/discord-api-spec): answers
// the spec allows must decode, and one odd item must never fail a whole list.

#[test]
fn spec_a_connection_with_a_null_name_does_not_fail_the_list() {
    // `ConnectedAccountResponse.name` is `string | null`.
    let list: Vec<UserConnection> = serde_json::from_value(json!([
        {"id": "1", "name": null, "type": "bluesky", "friend_sync": false, "show_activity": true,
         "two_way_link": false, "verified": true, "visibility": 1},
        {"id": "2", "name": "ann", "type": "steam", "friend_sync": false, "show_activity": true,
         "two_way_link": false, "verified": true, "visibility": 0},
    ]))
    .unwrap();
    assert_eq!(list[0].name, None);
    assert_eq!(list[1].name.as_deref(), Some("ann"));
}

#[test]
fn spec_connection_integrations_are_partial_with_a_string_id_and_a_guild() {
    // `ConnectedAccountIntegrationResponse`: `id` a string, `type`, `account`, `guild`.
    let raw = json!({
        "id": "41771983423143937", "name": "nelly", "type": "twitch",
        "friend_sync": false, "show_activity": true, "two_way_link": false, "verified": true,
        "visibility": 1,
        "integrations": [{
            "id": "twitch:41771983423143937",
            "type": "twitch",
            "account": {"id": "41771983423143937", "name": null},
            "guild": {"id": "81384788765712384", "name": "Discord Developers", "icon": null}
        }]
    });
    let c: UserConnection = round_trip(&raw);
    let i = &c.integrations[0];
    assert_eq!(i.id, "twitch:41771983423143937");
    assert_eq!(i.snowflake_id(), None);
    assert_eq!(i.kind.as_deref(), Some("twitch"));
    assert_eq!(i.account.as_ref().unwrap().name, "");
    let guild = i.guild.as_ref().unwrap();
    assert_eq!(guild.id, GuildId::new(81_384_788_765_712_384));
    assert_eq!(guild.name, "Discord Developers");
    assert_eq!(guild.icon, None);
    // A numeric id is still available as a snowflake.
    let i: Integration = round_trip(&json!({"id": "33590653072239123", "type": "discord"}));
    assert_eq!(
        i.snowflake_id().map(u64::from),
        Some(33_590_653_072_239_123)
    );
}

#[test]
fn spec_permissions_above_bit_63_do_not_fail_the_guild_list() {
    // 2^64 + 8: ADMINISTRATOR plus a bit no u64 holds; Discord documents permissions as a
    // variable-length integer string.
    let list: Vec<Guild> = serde_json::from_value(json!([
        {"id": "1", "name": "big", "icon": null, "banner": null, "owner": false,
         "permissions": "18446744073709551624", "features": []},
        {"id": "2", "name": "small", "icon": null, "banner": null, "owner": false,
         "permissions": "8", "features": []},
    ]))
    .unwrap();
    assert_eq!(list[0].permissions, Permissions::ADMINISTRATOR);
    assert!(list[0].permissions_overflowed());
    assert_eq!(list[0].to_json()["permissions"], "18446744073709551624");
    assert!(!list[1].permissions_overflowed());
    // A hundred digits, too.
    let long = format!("{}8", "9".repeat(99));
    let g: Guild = serde_json::from_value(json!({"id": "3", "permissions": long})).unwrap();
    assert!(g.permissions_overflowed());
    // Garbage is still refused.
    assert!(serde_json::from_value::<Guild>(json!({"id": "3", "permissions": "12x"})).is_err());
}

#[test]
fn spec_negative_int32_fields_decode_with_their_bits() {
    // `accent_color` and `public_flags` are `int32` in the spec; `flags` an `Int53`.
    let u: User = round_trip(&json!({
        "id": "80351110224678912", "username": "nelly", "discriminator": "0",
        "accent_color": -1, "public_flags": -2147483648, "flags": -1
    }));
    assert_eq!(u.accent_color, Some(0xFFFF_FFFF));
    assert_eq!(u.public_flags, Some(1 << 31));
    assert_eq!(u.flags, Some(u64::MAX));
    let m: GuildMember = round_trip(&json!({"roles": [], "flags": -2147483647}));
    assert_eq!(m.flags, 0x8000_0001);
    let g: TokenGuild = round_trip(&json!({"id": "1", "roles": [{"id": "2", "color": -16777216}]}));
    assert_eq!(g.roles[0].color, 0xFF00_0000);
}

#[test]
fn spec_application_flags_new_is_typed() {
    let a: Application = round_trip(&json!({"id": "1", "flags": 8388608, "flags_new": "8388608"}));
    assert_eq!(a.flags_new, Some(8_388_608));
    let a: Application = round_trip(&json!({"id": "1", "flags_new": "36893488147419103232"}));
    assert_eq!(a.flags_new, Some(0), "bits above 63 stay in to_json");
    let a: Application = round_trip(&json!({"id": "1", "flags_new": null}));
    assert_eq!(a.flags_new, None);
    let info: AuthorizationInfo = round_trip(&json!({
        "application": {"id": "1", "name": "app", "icon": null, "description": "", "type": null,
                        "verify_key": "k", "flags": 0, "flags_new": "0"},
        "expires": "2026-12-01T00:00:00+00:00", "scopes": ["identify", "rpc.video.read"]
    }));
    assert_eq!(info.application.flags_new, Some(0));
    assert!(info.has_scope(&Scope::RpcVideoRead));
}

#[test]
fn spec_role_connection_omits_a_missing_platform_name() {
    let c = RoleConnection::new(None, None, [("level", "3")]).unwrap();
    assert_eq!(c.body(), json!({"metadata": {"level": "3"}}));
    assert_eq!(c.to_json(), &json!({"metadata": {"level": "3"}}));
    let c = RoleConnection::new(Some("Game".into()), None, [("level", "3")]).unwrap();
    assert_eq!(
        c.body(),
        json!({"platform_name": "Game", "metadata": {"level": "3"}})
    );
}

#[test]
fn spec_only_scopes_need_approval() {
    for s in [
        "activities.invites.write",
        "rpc.screenshare.read",
        "rpc.screenshare.write",
        "rpc.video.read",
        "rpc.video.write",
    ] {
        let scope: Scope = s.parse().unwrap();
        assert!(scope.is_known(), "{s}");
        assert!(scope.requires_approval(), "{s}");
        assert_eq!(scope.to_string(), s);
    }
}

#[test]
fn spec_form_error_codes_are_strings_or_integers() {
    let error = discord_oauth::Error::Api {
        status: http::StatusCode::BAD_REQUEST,
        code: 50035,
        message: "Invalid Form Body".into(),
        errors: Some(Box::new(json!({
            "access_token": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]},
            "roles": {"0": {"_errors": [{"code": 50035, "message": "Invalid snowflake"}]}}
        }))),
    };
    let mut fields = error.form_errors();
    fields.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(fields.len(), 2);
    assert_eq!(
        (fields[0].path.as_str(), fields[0].code.as_str()),
        ("access_token", "BASE_TYPE_REQUIRED")
    );
    assert_eq!(
        (fields[1].path.as_str(), fields[1].code.as_str()),
        ("roles.0", "50035")
    );
    assert!(discord_oauth::Error::Unauthorized.form_errors().is_empty());
}
