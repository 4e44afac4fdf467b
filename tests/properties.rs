//! Property tests (proptest) of the parsers that take outside input: scope strings,
//! permission strings of any length, snowflakes, and the `next` check. Bad input is a typed
//! error, never a panic. Case counts stay modest so the suite stays fast; the sealed cookie and
//! the `next` encoder, which are crate-private, have their properties in their own modules.

use discord_oauth::models::{DISCORD_EPOCH_MS, GuildId, UserId};
use discord_oauth::permissions::Permissions;
use discord_oauth::scope::{MAX_SCOPE_LEN, Scope, Scopes};
use discord_oauth::session::is_local_path;
use proptest::prelude::*;

const APP: &str = "https://app.example/some/page?x=1";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Pieces an attacker strings together to leave the origin.
fn nasty_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just("\\".to_owned()),
        Just("/\\".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{2029}".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\u{ff0f}".to_owned()),
        Just("\u{0}".to_owned()),
        Just(" ".to_owned()),
        Just("%2F".to_owned()),
        Just("%2f".to_owned()),
        Just("%5C".to_owned()),
        Just("%09".to_owned()),
        Just("%0A".to_owned()),
        Just("%252F".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("@".to_owned()),
        Just(":".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("evil.example".to_owned()),
        Just("http:".to_owned()),
        Just("https://evil.example".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        "[a-z0-9]{1,4}",
        any::<char>().prop_map(String::from),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_piece(), 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    // ---- scopes -----------------------------------------------------------------------------

    #[test]
    fn scope_parse_never_panics_and_round_trips(s in "\\PC{0,120}") {
        match s.parse::<Scope>() {
            Ok(scope) => {
                prop_assert_eq!(scope.as_str(), s.as_str());
                prop_assert_eq!(scope.to_string().parse::<Scope>().unwrap(), scope);
            }
            Err(_) => prop_assert!(
                s.is_empty()
                    || s.len() > MAX_SCOPE_LEN
                    || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
            ),
        }
    }

    #[test]
    fn well_formed_unknown_scopes_are_kept(s in "[A-Za-z0-9._:-]{1,100}") {
        let scope: Scope = s.parse().unwrap();
        prop_assert_eq!(scope.is_known(), Scope::ALL_KNOWN.contains(&scope));
        prop_assert_eq!(scope.to_string(), s.clone());
        let json = serde_json::to_string(&scope).unwrap();
        prop_assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
    }

    #[test]
    fn scope_sets_round_trip(
        known in prop::collection::vec(prop::sample::select(Scope::ALL_KNOWN), 0..10),
        other in prop::collection::vec("[a-z]{1,8}\\.[a-z]{1,8}", 0..4),
        sep in "[ \t\n]{1,3}",
    ) {
        let mut parts: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        parts.extend(other);
        let text = parts.join(&sep);
        let set = Scopes::parse(&text).unwrap();
        let again = Scopes::parse(&set.to_string()).unwrap();
        prop_assert_eq!(&again, &set);
        for p in &parts {
            prop_assert!(set.contains(&p.parse().unwrap()));
        }
    }

    // ---- permissions --------------------------------------------------------------------------

    #[test]
    fn any_decimal_string_decodes_to_its_low_64_bits(s in "[0-9]{1,38}") {
        let value: u128 = s.parse().unwrap();
        let (p, high) = Permissions::from_decimal_str_overflowing(&s).unwrap();
        // Truncation to the low 64 bits is the point.
        #[allow(clippy::cast_possible_truncation)]
        let low = value as u64;
        prop_assert_eq!(p.bits(), low);
        prop_assert_eq!(high, value > u128::from(u64::MAX));
        // The serde path agrees, and never fails a payload over the width.
        let via_json: Permissions = serde_json::from_value(serde_json::json!(s)).unwrap();
        prop_assert_eq!(via_json, p);
    }

    #[test]
    fn decimal_strings_of_any_length_never_fail(s in "[0-9]{1,400}") {
        let (p, high) = Permissions::from_decimal_str_overflowing(&s).unwrap();
        let trimmed = s.trim_start_matches('0');
        if trimmed.len() <= 19 {
            prop_assert!(!high);
            prop_assert_eq!(p.bits(), trimmed.parse::<u64>().unwrap_or(0));
        }
    }

    #[test]
    fn permission_strings_never_panic(s in "\\PC{0,60}") {
        let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        prop_assert_eq!(Permissions::from_decimal_str(&s).is_ok(), ok);
        let _ = serde_json::from_value::<Permissions>(serde_json::json!(s));
    }

    #[test]
    fn known_permission_bits_round_trip(bits in any::<u64>()) {
        let known = Permissions::from_bits_truncate(bits);
        prop_assert_eq!(known.to_string().parse::<Permissions>().unwrap(), known);
        let all = Permissions::from_bits_retain(bits);
        prop_assert_eq!(Permissions::from_decimal_str(&all.to_string()).unwrap(), all);
        let json = serde_json::to_value(all).unwrap();
        prop_assert_eq!(json.as_str().map(str::to_owned), Some(bits.to_string()));
        prop_assert_eq!(serde_json::from_value::<Permissions>(json).unwrap(), all);
        prop_assert_eq!(all.unknown_bits() | known.bits(), bits);
    }

    // ---- snowflakes ---------------------------------------------------------------------------

    #[test]
    fn snowflakes_round_trip_with_their_timestamp(v in any::<u64>()) {
        let id = UserId::new(v);
        prop_assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
        prop_assert_eq!(id.timestamp_ms(), (v >> 22) + DISCORD_EPOCH_MS);
        let since_epoch = id
            .timestamp()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        prop_assert_eq!(u64::try_from(since_epoch.as_millis()).unwrap(), id.timestamp_ms());
        let json = serde_json::to_value(id).unwrap();
        prop_assert_eq!(json.as_str().map(str::to_owned), Some(v.to_string()));
        prop_assert_eq!(serde_json::from_value::<UserId>(json).unwrap(), id);
        prop_assert_eq!(serde_json::from_value::<GuildId>(serde_json::json!(v)).unwrap().get(), v);
    }

    #[test]
    fn snowflake_strings_are_checked(s in "\\PC{0,24}") {
        let expected = (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten();
        prop_assert_eq!(s.parse::<UserId>().ok().map(UserId::get), expected);
        prop_assert_eq!(
            serde_json::from_value::<UserId>(serde_json::json!(s)).ok().map(UserId::get),
            expected
        );
    }

    #[test]
    fn snowflakes_past_u64_are_refused(extra in 1u128..=u128::from(u64::MAX)) {
        let s = (u128::from(u64::MAX) + extra).to_string();
        prop_assert!(s.parse::<UserId>().is_err());
        prop_assert!(serde_json::from_value::<UserId>(serde_json::json!(s)).is_err());
    }

    #[test]
    fn negative_snowflakes_are_refused(v in i64::MIN..0) {
        prop_assert!(serde_json::from_value::<UserId>(serde_json::json!(v)).is_err());
        prop_assert!(v.to_string().parse::<UserId>().is_err());
    }

    // ---- next ---------------------------------------------------------------------------------

    #[test]
    fn an_accepted_next_never_leaves_the_origin(s in nasty_string()) {
        if is_local_path(&s) {
            let base = url::Url::parse(APP).unwrap();
            let joined = base.join(&s).unwrap();
            prop_assert_eq!(joined.origin(), base.origin(), "{:?} -> {}", s, joined);
        }
    }

    #[test]
    fn an_accepted_next_never_leaves_the_origin_arbitrary(s in "/\\PC{0,40}") {
        if is_local_path(&s) {
            let base = url::Url::parse(APP).unwrap();
            let joined = base.join(&s).unwrap();
            prop_assert_eq!(joined.origin(), base.origin(), "{:?} -> {}", s, joined);
        }
    }
}
