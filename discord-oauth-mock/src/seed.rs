//! Seed data: users, guilds, members and connections, some with hostile names.
//!
//! Plain data: must not import any other module of the crate.
//!
//! Ids are stable, realistic snowflakes. The first user ([`ALICE`]) has a plain name and is the
//! default user of auto-approve mode and of tests.
//!
//! Beyond the six seeded users, any other snowflake ([`is_generated_id`]) is a user too:
//! [`generated_user`] derives its name, avatar, connections and e-mail from the id, and
//! [`generated_member`] its guild memberships, on demand and the same every time, so that load
//! tests can log in as many distinct users without the fake storing them.

use serde_json::{Value, json};

/// Id of the default user, "alice.dev" ("Alice Dev"): migrated username, static avatar, verified email.
pub const ALICE: u64 = 459_873_214_563_123_201;
/// Id of "Nelly#1337": legacy discriminator, `global_name` null, animated avatar, unverified email.
pub const NELLY: u64 = 302_050_872_383_242_240;
/// Id of "quiet.one": no avatar (default avatar) and `email` null.
pub const QUIET: u64 = 1_012_345_678_901_234_567;
/// Id of the user whose display name is `<script>alert(1)</script>`.
pub const XSS: u64 = 734_567_890_123_456_789;
/// Id of the user whose display name contains quotes and an `onerror=` attribute.
pub const QUOTES: u64 = 845_678_901_234_567_890;
/// Id of the user with a right-to-left display name (U+202E, Hebrew, Arabic).
pub const RTL: u64 = 956_789_012_345_678_901;

/// Guild owned by Alice; the bot is in it with `CREATE_INSTANT_INVITE`.
pub const GUILD_WORKSHOP: u64 = 613_425_648_685_547_541;
/// "1337 Krew": owned by Nelly, animated icon; Alice is a member.
pub const GUILD_KREW: u64 = 813_847_887_657_123_840;
/// Guild named `<img src=x onerror=alert(1)>`, no icon.
pub const GUILD_XSS: u64 = 887_766_554_433_221_100;
/// Guild with an Arabic/RTL name; the bot is **not** in it (PUT member gives 50001). Alice is
/// a member with ADMINISTRATOR (not the owner).
pub const GUILD_RTL: u64 = 923_456_789_012_345_678;
/// Guild with a 100-character name; the bot lacks `CREATE_INSTANT_INVITE` (PUT member gives 50013).
/// Alice is a member with MANAGE_GUILD (not ADMINISTRATOR), through its [`ROLE_LONG_MANAGER`].
pub const GUILD_LONG: u64 = 1_034_567_890_123_456_789;
/// Small guild owned by Alice with only Alice in it; the bot can add members (PUT member gives 201).
/// Like Discord's own example, the owner's listed `permissions` (`36953089`) lack MANAGE_GUILD
/// and ADMINISTRATOR: ownership alone must count as every permission.
pub const GUILD_LOBBY: u64 = 1_145_678_901_234_567_890;
/// Guild owned by quiet.one; Alice is **not** a member (member lookup gives 10004).
pub const GUILD_QUIET: u64 = 1_198_765_432_109_876_543;
/// The "Manager" role of [`GUILD_QUIET`] (MANAGE_GUILD): a member added with it may manage the guild.
pub const ROLE_QUIET_MANAGER: u64 = 1_198_765_432_109_876_600;
/// The "Admin" role of [`GUILD_QUIET`] (ADMINISTRATOR): a member added with it holds every permission.
pub const ROLE_QUIET_ADMIN: u64 = 1_198_765_432_109_876_601;
/// The "Manager" role of [`GUILD_LONG`] (MANAGE_GUILD), held by Alice.
pub const ROLE_LONG_MANAGER: u64 = 1_034_567_890_123_456_800;

/// A seeded Discord user (<https://discord.com/developers/docs/resources/user#user-object>).
#[derive(Clone, Debug, PartialEq)]
pub struct SeedUser {
    /// Snowflake id.
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// `"0"` for migrated users, a 4-digit string for legacy users and bots.
    pub discriminator: String,
    /// Display name, `None` if not set.
    pub global_name: Option<String>,
    /// Avatar hash (`a_` prefix = animated), `None` = default avatar.
    pub avatar: Option<String>,
    /// Banner hash.
    pub banner: Option<String>,
    /// Banner colour.
    pub accent_color: Option<u32>,
    /// E-mail (sent only with the `email` scope; may be `None` even then).
    pub email: Option<String>,
    /// Whether the e-mail is verified (sent only with the `email` scope).
    pub verified: bool,
    /// Locale, e.g. `en-US`.
    pub locale: String,
    /// Two-factor enabled.
    pub mfa_enabled: bool,
    /// User flags.
    pub flags: u64,
    /// Public flags.
    pub public_flags: u64,
    /// Nitro type (sent as 0 without `identify.premium`).
    pub premium_type: u8,
    /// Whether this is a bot user.
    pub bot: bool,
    /// The user's connected accounts.
    pub connections: Vec<SeedConnection>,
}

impl SeedUser {
    /// `global_name` if set, else `username` (Discord's display-name rule,
    /// <https://discord.com/developers/docs/resources/user#user-object>).
    pub fn display_name(&self) -> &str {
        self.global_name.as_deref().unwrap_or(&self.username)
    }
}

/// A connected third-party account
/// (<https://discord.com/developers/docs/resources/user#connection-object>).
#[derive(Clone, Debug, PartialEq)]
pub struct SeedConnection {
    /// Account id on the service (not a snowflake).
    pub id: String,
    /// Account name on the service.
    pub name: String,
    /// Service type, e.g. `twitch`.
    pub kind: String,
    /// Whether the connection is revoked.
    pub revoked: bool,
    /// Whether it is verified.
    pub verified: bool,
    /// Friend sync.
    pub friend_sync: bool,
    /// Show activity.
    pub show_activity: bool,
    /// Two-way link.
    pub two_way_link: bool,
    /// 0 = only the user, 1 = everyone.
    pub visibility: u8,
    /// Partial integration objects, as Discord sends them.
    pub integrations: Vec<Value>,
}

/// A guild role.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRole {
    /// Role id (the `@everyone` role has the guild's id).
    pub id: u64,
    /// Role name.
    pub name: String,
    /// Permission bits.
    pub permissions: u64,
    /// Colour.
    pub color: u32,
    /// Position.
    pub position: u32,
}

/// A guild member (<https://discord.com/developers/docs/resources/guild#guild-member-object>).
#[derive(Clone, Debug, PartialEq)]
pub struct SeedMember {
    /// The member's user id.
    pub user_id: u64,
    /// Guild nickname.
    pub nick: Option<String>,
    /// Role ids (without `@everyone`).
    pub roles: Vec<u64>,
    /// ISO8601 join time.
    pub joined_at: String,
    /// Guild-level permissions as `GET /users/@me/guilds` reports them.
    pub permissions: u64,
    /// Server-deafened.
    pub deaf: bool,
    /// Server-muted.
    pub mute: bool,
    /// Guild avatar hash.
    pub avatar: Option<String>,
    /// Boosting since.
    pub premium_since: Option<String>,
    /// Membership screening pending.
    pub pending: bool,
    /// Member flags.
    pub flags: u64,
}

/// A seeded guild with its members
/// (<https://discord.com/developers/docs/resources/user#get-current-user-guilds>).
#[derive(Clone, Debug, PartialEq)]
pub struct SeedGuild {
    /// Snowflake id.
    pub id: u64,
    /// Name (some are hostile).
    pub name: String,
    /// Icon hash (`a_` = animated).
    pub icon: Option<String>,
    /// Banner hash.
    pub banner: Option<String>,
    /// Owner's user id.
    pub owner_id: u64,
    /// Guild features.
    pub features: Vec<String>,
    /// `approximate_member_count` (with `with_counts`).
    pub approximate_member_count: u64,
    /// `approximate_presence_count` (with `with_counts`).
    pub approximate_presence_count: u64,
    /// Roles, `@everyone` first.
    pub roles: Vec<SeedRole>,
    /// Members (the bot excluded).
    pub members: Vec<SeedMember>,
    /// The bot's permissions in the guild, `None` if the bot is not in it.
    pub bot_permissions: Option<u64>,
    /// A text channel id (used for `webhook.incoming`).
    pub channel_id: u64,
}

impl SeedGuild {
    /// Whether `user` is a member (stored, or generated: see [`generated_member`]).
    pub fn has_member(&self, user: u64) -> bool {
        self.member(user).is_some()
    }

    /// The member record of `user`: a stored one (seeded or added since), else the membership a
    /// generated user has by its id ([`generated_member`]), made on demand.
    pub fn member(&self, user: u64) -> Option<std::borrow::Cow<'_, SeedMember>> {
        match self.members.iter().find(|m| m.user_id == user) {
            Some(m) => Some(std::borrow::Cow::Borrowed(m)),
            None => generated_member(self.id, user).map(std::borrow::Cow::Owned),
        }
    }
}

fn member(
    user_id: u64,
    nick: Option<&str>,
    roles: Vec<u64>,
    joined: &str,
    perms: u64,
) -> SeedMember {
    SeedMember {
        user_id,
        nick: nick.map(str::to_owned),
        roles,
        joined_at: joined.to_owned(),
        permissions: perms,
        deaf: false,
        mute: false,
        avatar: None,
        premium_since: None,
        pending: false,
        flags: 0,
    }
}

fn role(id: u64, name: &str, permissions: u64, color: u32, position: u32) -> SeedRole {
    SeedRole {
        id,
        name: name.to_owned(),
        permissions,
        color,
        position,
    }
}

#[allow(clippy::too_many_arguments)]
fn conn(
    id: &str,
    name: &str,
    kind: &str,
    verified: bool,
    visibility: u8,
    revoked: bool,
    integrations: Vec<Value>,
) -> SeedConnection {
    SeedConnection {
        id: id.to_owned(),
        name: name.to_owned(),
        kind: kind.to_owned(),
        revoked,
        verified,
        friend_sync: false,
        show_activity: true,
        two_way_link: false,
        visibility,
        integrations,
    }
}

/// Everyone permission set used in seeded guilds (view, send, read history, connect, speak...).
const EVERYONE: u64 = 104_324_673;
/// All bits 0..=50 (above 2^32), what the owner sees.
const OWNER_PERMS: u64 = 2_251_799_813_685_247;
/// The ADMINISTRATOR bit (<https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags>).
const ADMINISTRATOR: u64 = 1 << 3;
/// The MANAGE_GUILD bit.
const MANAGE_GUILD: u64 = 1 << 5;

/// The seeded users (the first one has a normal name and is the default).
pub fn users() -> Vec<SeedUser> {
    vec![alice(), nelly(), quiet(), xss(), quotes(), rtl()]
}

/// A user with only an id, names and the defaults.
fn base_user(id: u64, username: &str, disc: &str, global: Option<&str>) -> SeedUser {
    SeedUser {
        id,
        username: username.to_owned(),
        discriminator: disc.to_owned(),
        global_name: global.map(str::to_owned),
        avatar: None,
        banner: None,
        accent_color: None,
        email: None,
        verified: false,
        locale: "en-US".to_owned(),
        mfa_enabled: false,
        flags: 0,
        public_flags: 0,
        premium_type: 0,
        bot: false,
        connections: vec![],
    }
}

/// "alice.dev": everything set, four connections (one with integrations, one revoked).
fn alice() -> SeedUser {
    SeedUser {
        avatar: Some("3f5a1c9e8b7d6a5f4e3d2c1b0a998877".into()),
        banner: Some("06c16474723fe537c283b8efa61a30c8".into()),
        accent_color: Some(5_793_266),
        email: Some("alice@example.com".into()),
        verified: true,
        mfa_enabled: true,
        flags: 64,
        public_flags: 64,
        premium_type: 2,
        connections: vec![
            conn(
                "41771983423143937",
                "alice_streams",
                "twitch",
                true,
                1,
                false,
                alice_twitch_integrations(),
            ),
            conn("8932173", "alice-dev", "github", true, 1, false, vec![]),
            conn(
                "76561198000000001",
                "alice",
                "steam",
                true,
                0,
                false,
                vec![],
            ),
            conn(
                "UCalice0000000000000000",
                "Alice old",
                "youtube",
                false,
                0,
                true,
                vec![],
            ),
        ],
        ..base_user(ALICE, "alice.dev", "0", Some("Alice Dev"))
    }
}

/// The partial integrations of Alice's Twitch connection, each with the `guild` it belongs to
/// (the spec's `ConnectedAccountIntegrationResponse` requires `id`, `type`, `account` and `guild`).
fn alice_twitch_integrations() -> Vec<Value> {
    vec![
        json!({
            "id": "33590653072239123", "name": "alice_streams", "type": "twitch",
            "enabled": true, "syncing": false, "role_id": null,
            "enable_emoticons": false, "expire_behavior": 0, "expire_grace_period": 7,
            "account": { "id": "41771983423143937", "name": "alice_streams" },
            "guild": { "id": GUILD_WORKSHOP.to_string(), "name": "Alice's Workshop", "icon": "a1b2c3d4e5f60718293a4b5c6d7e8f90" },
            "synced_at": "2021-01-23T02:33:17.017000+00:00",
            "subscriber_count": 0, "revoked": false
        }),
        json!({
            "id": "290926798626357999", "name": "YouTube", "type": "youtube",
            "enabled": true, "role_id": "290926798626357250",
            "expire_behavior": 1, "expire_grace_period": 30,
            "account": { "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw", "name": "Alice" },
            "guild": { "id": GUILD_WORKSHOP.to_string(), "name": "Alice's Workshop", "icon": "a1b2c3d4e5f60718293a4b5c6d7e8f90" }
        }),
    ]
}

/// "Nelly#1337": legacy discriminator, animated avatar, unverified email.
fn nelly() -> SeedUser {
    SeedUser {
        avatar: Some("a_8342729096ea3675442027381ff50dfe".into()),
        email: Some("nelly@example.com".into()),
        verified: false,
        locale: "en-GB".into(),
        premium_type: 1,
        connections: vec![conn(
            "nellyspot",
            "Nelly",
            "spotify",
            true,
            1,
            false,
            vec![],
        )],
        ..base_user(NELLY, "Nelly", "1337", None)
    }
}

/// "quiet.one": default avatar, no email.
fn quiet() -> SeedUser {
    SeedUser {
        locale: "de".into(),
        ..base_user(QUIET, "quiet.one", "0", Some("Quiet One"))
    }
}

/// The user whose display name is a script tag.
fn xss() -> SeedUser {
    SeedUser {
        avatar: Some("b1946ac92492d2347c6235b4d2611184".into()),
        email: Some("xss@example.com".into()),
        verified: true,
        connections: vec![conn(
            "example.com",
            "<b>bold</b><img src=x onerror=alert(2)>",
            "domain",
            true,
            1,
            false,
            vec![],
        )],
        ..base_user(XSS, "xss.tester", "0", Some("<script>alert(1)</script>"))
    }
}

/// The user whose display name has quotes and an `onerror=` attribute.
fn quotes() -> SeedUser {
    SeedUser {
        avatar: Some("591785b794601e212b260e25925636fd".into()),
        email: Some("quotes@example.com".into()),
        verified: true,
        locale: "fr".into(),
        ..base_user(QUOTES, "quote.user", "0", Some("\"' onerror=alert(1) x=\""))
    }
}

/// The user with a right-to-left display name.
fn rtl() -> SeedUser {
    SeedUser {
        avatar: Some("e99a18c428cb38d5f260853678922e03".into()),
        email: Some("rtl@example.com".into()),
        verified: true,
        locale: "he".into(),
        connections: vec![conn(
            "t2_rtl",
            &format!("\u{202E}{}", "very-long-reddit-name-".repeat(6)),
            "reddit",
            false,
            1,
            false,
            vec![],
        )],
        ..base_user(RTL, "rtl.user", "0", Some("\u{202E}fdp.exe שלום مرحبا"))
    }
}

/// The seeded users' ids, [`ALICE`] first.
pub const SEEDED: [u64; 6] = [ALICE, NELLY, QUIET, XSS, QUOTES, RTL];

/// Whether `id` is a snowflake the fake mints a user for: any id from `1 << 22` (the first one
/// whose timestamp part is not zero) to `i64::MAX` (Discord's snowflakes are 63-bit,
/// <https://discord.com/developers/docs/reference#snowflakes>) that is not a seeded user.
/// Smaller ids (such as `1`) stay unknown users.
pub fn is_generated_id(id: u64) -> bool {
    (1 << 22..=i64::MAX as u64).contains(&id) && !SEEDED.contains(&id)
}

/// SplitMix64: a well-mixed 64-bit value of `x`, so that nearby ids look unrelated.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const ADJECTIVES: [&str; 16] = [
    "amber", "brave", "calm", "dusty", "eager", "fuzzy", "gentle", "hazy", "icy", "jolly", "lucky",
    "misty", "noble", "quick", "rusty", "sunny",
];
const NOUNS: [&str; 16] = [
    "otter", "falcon", "badger", "comet", "maple", "pixel", "raven", "tiger", "willow", "cobalt",
    "ember", "harbor", "lynx", "nova", "pebble", "quartz",
];
/// Locales of Discord's list (<https://discord.com/developers/docs/reference#locales>).
const LOCALES: [&str; 8] = ["en-US", "en-GB", "de", "fr", "es-ES", "pt-BR", "ja", "pl"];
/// Connection types a generated user may have (`type`, account-name prefix).
const SERVICES: [&str; 6] = ["github", "steam", "spotify", "twitch", "xbox", "reddit"];

/// 32 hex digits from `h` and `salt` (an image hash).
fn hash_hex(h: u64, salt: u64) -> String {
    format!(
        "{:016x}{:016x}",
        mix(h ^ salt),
        mix(h.rotate_left(17) ^ salt)
    )
}

/// The user the fake mints for a generated id ([`is_generated_id`]): everything derived from
/// the id, so the same id is always the same user, and nothing is stored. Username
/// `<adjective>.<noun>.<id in base 36>` (unique), a display name (none for one user in eight),
/// an avatar (the default one for one in four, animated for one in eight), an e-mail at
/// `example.com` (verified for three in four), a locale, Nitro type, and 0 to 2 connections.
pub fn generated_user(id: u64) -> SeedUser {
    let h = mix(id);
    let bits = |shift: u32, n: u64| (h >> shift) % n;
    let adj = ADJECTIVES[bits(0, 16) as usize];
    let noun = NOUNS[bits(4, 16) as usize];
    let username = format!("{adj}.{noun}.{}", base36(id));
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let global_name = (bits(8, 8) != 0).then(|| format!("{} {}", cap(adj), cap(noun)));
    let avatar = match bits(11, 8) {
        0 | 1 => None,
        2 => Some(format!("a_{}", hash_hex(h, 1))),
        _ => Some(hash_hex(h, 1)),
    };
    let connections = (0..bits(14, 3))
        .map(|i| {
            let kind = SERVICES[((h >> (16 + 3 * i)) % SERVICES.len() as u64) as usize];
            conn(
                &format!("{}{}", mix(h ^ i) % 1_000_000_000, i),
                &format!("{}_{}", username.replace('.', "_"), kind),
                kind,
                (h >> (24 + i)) & 1 == 0,
                ((h >> (26 + i)) & 1) as u8,
                false,
                vec![],
            )
        })
        .collect();
    SeedUser {
        avatar,
        banner: None,
        accent_color: (bits(28, 2) == 0).then_some((h >> 32) as u32 & 0xFF_FFFF),
        email: Some(format!("{username}@example.com")),
        verified: bits(30, 4) != 0,
        locale: LOCALES[bits(34, LOCALES.len() as u64) as usize].to_owned(),
        mfa_enabled: bits(38, 2) == 0,
        premium_type: bits(40, 4) as u8,
        connections,
        ..base_user(id, &username, "0", global_name.as_deref())
    }
}

/// `n` in base 36 (lower case).
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The seeded guilds a generated user is a member of, derived from the id: each of
/// [`GUILD_WORKSHOP`], [`GUILD_KREW`] and [`GUILD_XSS`] for one user in two, with `@everyone`'s
/// permissions only (never [`GUILD_LOBBY`], which benchmarks join). `None` for other ids.
pub fn generated_member(guild: u64, user: u64) -> Option<SeedMember> {
    if !is_generated_id(user) {
        return None;
    }
    let slot = [GUILD_WORKSHOP, GUILD_KREW, GUILD_XSS]
        .iter()
        .position(|g| *g == guild)?;
    let h = mix(user ^ 0x6775_696c_6473);
    if (h >> slot) & 1 == 0 {
        return None;
    }
    let joined = format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:00.000000+00:00",
        20 + (h >> 8) % 6,
        1 + (h >> 12) % 12,
        1 + (h >> 16) % 28,
        (h >> 24) % 24,
        (h >> 32) % 60
    );
    Some(member(user, None, vec![], &joined, EVERYONE))
}

/// The bot user of the application (its id is the application id, as for new Discord apps).
pub fn bot_user(client_id: u64) -> SeedUser {
    SeedUser {
        id: client_id,
        username: "Mock Discord Bot".into(),
        discriminator: "4821".into(),
        global_name: None,
        avatar: Some("f03590d3eb764081d154a66340ea7d6d".into()),
        banner: None,
        accent_color: None,
        email: None,
        verified: true,
        locale: "en-US".into(),
        mfa_enabled: true,
        flags: 0,
        public_flags: 0,
        premium_type: 0,
        bot: true,
        connections: vec![],
    }
}

/// The long (100 character) guild name.
fn long_name() -> String {
    let s = "The Extremely Long Guild Name That Goes On And On Forever ".repeat(3);
    s.chars().take(100).collect()
}

/// The seeded guilds with their members.
pub fn guilds() -> Vec<SeedGuild> {
    vec![
        workshop(),
        krew(),
        xss_guild(),
        rtl_guild(),
        long_guild(),
        lobby(),
        quiet_guild(),
    ]
}

/// A guild with an id, a name, an owner and the defaults (the bot in it with
/// `CREATE_INSTANT_INVITE`, `MANAGE_NICKNAMES`, `MANAGE_ROLES`, `MUTE_MEMBERS`, `DEAFEN_MEMBERS`).
fn base_guild(id: u64, name: &str, owner: u64) -> SeedGuild {
    SeedGuild {
        id,
        name: name.to_owned(),
        icon: None,
        banner: None,
        owner_id: owner,
        features: vec![],
        approximate_member_count: 2,
        approximate_presence_count: 1,
        roles: vec![role(id, "@everyone", EVERYONE, 0, 0)],
        members: vec![],
        bot_permissions: Some(EVERYONE | 1 | 134_217_728 | 268_435_456 | 4_194_304 | 8_388_608),
        channel_id: id + 1,
    }
}

/// "Alice's Workshop": owned by Alice, a Moderator role, five members.
fn workshop() -> SeedGuild {
    let mod_role = 613_425_648_685_547_600;
    SeedGuild {
        icon: Some("a1b2c3d4e5f60718293a4b5c6d7e8f90".into()),
        banner: Some("bb42bdc37653b7cf58c4c8cc622e76cb".into()),
        features: vec!["COMMUNITY".into(), "NEWS".into(), "BANNER".into()],
        approximate_member_count: 3268,
        approximate_presence_count: 784,
        roles: vec![
            role(GUILD_WORKSHOP, "@everyone", EVERYONE, 0, 0),
            role(
                mod_role,
                "Moderator",
                1_099_511_627_776 | 8192 | 2,
                3_447_003,
                1,
            ),
        ],
        members: vec![
            member(
                ALICE,
                Some("Boss"),
                vec![mod_role],
                "2019-03-14T15:09:26.535000+00:00",
                OWNER_PERMS,
            ),
            member(
                NELLY,
                None,
                vec![],
                "2019-05-01T10:00:00.000000+00:00",
                EVERYONE,
            ),
            member(
                XSS,
                Some("<svg onload=alert(3)>"),
                vec![],
                "2020-01-01T00:00:00.000000+00:00",
                EVERYONE,
            ),
            member(
                QUOTES,
                None,
                vec![],
                "2020-02-02T02:02:02.000000+00:00",
                EVERYONE,
            ),
            member(
                RTL,
                None,
                vec![],
                "2021-03-03T03:03:03.000000+00:00",
                EVERYONE,
            ),
        ],
        ..base_guild(GUILD_WORKSHOP, "Alice's Workshop", ALICE)
    }
}

/// "1337 Krew": owned by Nelly, animated icon; Alice is a member.
fn krew() -> SeedGuild {
    SeedGuild {
        icon: Some("a_f03590d3eb764081d154a66340ea7d6d".into()),
        banner: Some("c3d4e5f60718293a4b5c6d7e8f90a1b2".into()),
        features: vec![
            "COMMUNITY".into(),
            "NEWS".into(),
            "ANIMATED_ICON".into(),
            "INVITE_SPLASH".into(),
            "BANNER".into(),
            "ROLE_ICONS".into(),
        ],
        approximate_member_count: 1337,
        approximate_presence_count: 42,
        members: vec![
            member(
                NELLY,
                None,
                vec![],
                "2016-04-26T06:26:56.936000+00:00",
                OWNER_PERMS,
            ),
            member(
                ALICE,
                Some("alice in krew"),
                vec![],
                "2018-07-07T07:07:07.000000+00:00",
                36_953_089,
            ),
            member(
                QUIET,
                None,
                vec![],
                "2022-08-08T08:08:08.000000+00:00",
                EVERYONE,
            ),
        ],
        ..base_guild(GUILD_KREW, "1337 Krew", NELLY)
    }
}

/// The guild named `<img src=x onerror=alert(1)>`.
fn xss_guild() -> SeedGuild {
    SeedGuild {
        features: vec!["INVITES_DISABLED".into()],
        members: vec![
            member(
                XSS,
                None,
                vec![],
                "2020-01-01T00:00:00.000000+00:00",
                OWNER_PERMS,
            ),
            member(
                ALICE,
                None,
                vec![],
                "2020-01-02T00:00:00.000000+00:00",
                EVERYONE,
            ),
        ],
        ..base_guild(GUILD_XSS, "<img src=x onerror=alert(1)>", XSS)
    }
}

/// The guild with an Arabic/RTL name; the bot is not in it.
fn rtl_guild() -> SeedGuild {
    SeedGuild {
        features: vec!["WELCOME_SCREEN_ENABLED".into()],
        approximate_member_count: 77,
        approximate_presence_count: 7,
        bot_permissions: None,
        members: vec![
            member(
                RTL,
                None,
                vec![],
                "2021-03-03T03:03:03.000000+00:00",
                OWNER_PERMS,
            ),
            member(
                ALICE,
                None,
                vec![],
                "2021-04-04T04:04:04.000000+00:00",
                1_071_698_660_929 | ADMINISTRATOR,
            ),
        ],
        ..base_guild(GUILD_RTL, "خادم الألعاب العربي \u{202E}lanigiro", RTL)
    }
}

/// The guild with a 100-character name; the bot lacks `CREATE_INSTANT_INVITE`.
fn long_guild() -> SeedGuild {
    SeedGuild {
        icon: Some("9f86d081884c7d659a2feaa0c55ad015".into()),
        features: vec!["PARTNERED".into(), "VERIFIED".into(), "VANITY_URL".into()],
        approximate_member_count: 250_000,
        approximate_presence_count: 31_337,
        bot_permissions: Some(2048),
        roles: vec![
            role(GUILD_LONG, "@everyone", EVERYONE, 0, 0),
            role(ROLE_LONG_MANAGER, "Manager", MANAGE_GUILD, 15_844_367, 1),
        ],
        members: vec![
            member(
                QUOTES,
                None,
                vec![],
                "2020-02-02T02:02:02.000000+00:00",
                OWNER_PERMS,
            ),
            member(
                ALICE,
                None,
                vec![ROLE_LONG_MANAGER],
                "2020-02-03T02:02:02.000000+00:00",
                EVERYONE | MANAGE_GUILD,
            ),
        ],
        ..base_guild(GUILD_LONG, &long_name(), QUOTES)
    }
}

/// "Empty Lobby": owned by Alice, only Alice in it; her listed permissions are those of
/// Discord's example for an owner (`36953089`, without MANAGE_GUILD).
fn lobby() -> SeedGuild {
    SeedGuild {
        approximate_member_count: 1,
        approximate_presence_count: 1,
        members: vec![member(
            ALICE,
            None,
            vec![],
            "2023-01-01T00:00:00.000000+00:00",
            36_953_089,
        )],
        ..base_guild(GUILD_LOBBY, "Empty Lobby", ALICE)
    }
}

/// "Quiet Corner": owned by quiet.one; Alice is not a member. A "Manager" role grants MANAGE_GUILD.
fn quiet_guild() -> SeedGuild {
    SeedGuild {
        roles: vec![
            role(GUILD_QUIET, "@everyone", EVERYONE, 0, 0),
            role(
                ROLE_QUIET_MANAGER,
                "Manager",
                EVERYONE | MANAGE_GUILD,
                15_844_367,
                1,
            ),
            role(ROLE_QUIET_ADMIN, "Admin", ADMINISTRATOR, 10_181_046, 2),
        ],
        members: vec![member(
            QUIET,
            None,
            vec![],
            "2022-01-01T00:00:00.000000+00:00",
            OWNER_PERMS,
        )],
        ..base_guild(GUILD_QUIET, "Quiet Corner", QUIET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_consistent() {
        let us = users();
        assert_eq!(us[0].id, ALICE);
        assert!(
            us[0]
                .display_name()
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ')
        );
        for g in guilds() {
            assert!(g.has_member(g.owner_id), "owner of {} is a member", g.id);
            assert!(g.name.chars().count() >= 2 && g.name.chars().count() <= 100);
            for m in &g.members {
                assert!(us.iter().any(|u| u.id == m.user_id));
            }
        }
        assert_eq!(long_name().chars().count(), 100);
    }

    /// Alice covers every case of a guild permission check: owner (with and without every bit
    /// listed), ADMINISTRATOR, MANAGE_GUILD, neither, and not a member.
    #[test]
    fn alice_covers_the_guild_permission_cases() {
        let perms = |guild: u64| {
            let g = guilds().into_iter().find(|g| g.id == guild).unwrap();
            let m = g.members.iter().find(|m| m.user_id == ALICE).cloned();
            (g.owner_id == ALICE, m.map(|m| m.permissions))
        };
        assert_eq!(perms(GUILD_WORKSHOP), (true, Some(OWNER_PERMS)));
        let (owner, p) = perms(GUILD_LOBBY);
        assert!(owner && p.unwrap() & (ADMINISTRATOR | MANAGE_GUILD) == 0);
        let (owner, p) = perms(GUILD_RTL);
        assert!(!owner && p.unwrap() & ADMINISTRATOR != 0);
        let (owner, p) = perms(GUILD_LONG);
        assert!(!owner && p.unwrap() & (ADMINISTRATOR | MANAGE_GUILD) == MANAGE_GUILD);
        for g in [GUILD_KREW, GUILD_XSS] {
            let (owner, p) = perms(g);
            assert!(!owner && p.unwrap() & (ADMINISTRATOR | MANAGE_GUILD) == 0);
        }
        assert_eq!(perms(GUILD_QUIET), (false, None));
    }
}
