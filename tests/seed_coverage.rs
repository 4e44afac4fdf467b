//! Every item of Flask-Discord's API reference has a row in the Flask-Discord-to-Rust table
//! (`src/docs/seed_map.md`, part of the crate docs).

use std::path::Path;

const MAP: &str = include_str!("../src/docs/seed_map.md");

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Items of Flask-Discord: classes, their constructor parameters, methods, properties, attributes,
/// comparison operators, the decorator, the exceptions and the config keys.
fn seed_items(seed: &str) -> Vec<String> {
    let lines: Vec<&str> = seed.lines().map(str::trim).collect();
    let mut items: Vec<String> = Vec::new();
    let mut ctx: Option<String> = None;
    let push = |items: &mut Vec<String>, s: String| {
        if !items.contains(&s) {
            items.push(s);
        }
    };
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("class flask_discord.") {
            let rest = rest
                .trim_start_matches("_http.")
                .trim_start_matches("models.");
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            push(&mut items, name.clone());
            if let Some(params) = rest
                .strip_prefix(&*name)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.split(')').next())
            {
                for p in params.split(',') {
                    let p = p.trim().split('=').next().unwrap_or("").trim();
                    if ident(p)
                        && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && !["value", "payload", "json", "headers"].contains(&p)
                    {
                        push(&mut items, format!("{name}.{p}"));
                    }
                }
            }
            ctx = Some(name);
            continue;
        }
        if let Some(rest) = line.strip_prefix("@flask_discord.") {
            push(
                &mut items,
                rest.split('[').next().unwrap_or(rest).to_owned(),
            );
            continue;
        }
        if line.starts_with("DISCORD_") && ident(line) {
            push(&mut items, (*line).to_owned());
            continue;
        }
        let Some(ctx) = ctx.as_deref() else { continue };
        let stripped = line
            .trim_start_matches("static ")
            .trim_start_matches("classmethod ");
        if let Some((name, _)) = stripped.split_once('(')
            && ident(name)
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && stripped.contains(')')
        {
            push(&mut items, format!("{ctx}.{name}"));
            continue;
        }
        if let Some(name) = line.strip_prefix("property ") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            push(&mut items, format!("{ctx}.{name}"));
            continue;
        }
        if let Some(rest) = line.strip_prefix("• ")
            && let Some((name, _)) = rest.split_once(" (")
            && ident(name)
        {
            push(&mut items, format!("{ctx}.{name}"));
            continue;
        }
        if *line == "x == y" || *line == "x != y" {
            push(&mut items, format!("{ctx}.{line}"));
            continue;
        }
        if ident(line) {
            let typed = lines[i + 1..lines.len().min(i + 6)].contains(&"Type:");
            let scope_member = ctx == "DiscordOAuth2Scope"
                && line.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if typed || scope_member {
                push(&mut items, format!("{ctx}.{line}"));
            }
        }
    }
    items
}

#[test]
fn every_seed_item_has_a_row() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/seeds/flask-discord-api-reference.txt");
    let Ok(seed) = std::fs::read_to_string(&path) else {
        skipped(format!(
            "SKIPPED: the seed file {} is not present on this machine",
            path.display()
        ));
        return;
    };
    let items = seed_items(&seed);
    assert!(
        items.len() >= 147,
        "the seed parser found only {} items",
        items.len()
    );
    let rows: Vec<&str> = MAP.lines().filter(|l| l.starts_with("| `")).collect();
    let missing: Vec<&String> = items
        .iter()
        .filter(|item| !rows.iter().any(|r| r.starts_with(&format!("| `{item}` |"))))
        .collect();
    assert!(
        missing.is_empty(),
        "seed items without a row in src/docs/seed_map.md: {missing:?}"
    );
}

#[test]
fn parser_finds_known_items() {
    let sample = "class flask_discord.models.User(payload)[source]\n\nid\n\nThe id.\n\nType:\n\nint\n\nproperty avatar_url\n\nclassmethod fetch_from_api(guilds=False)[source]\n\nDISCORD_BOT_TOKEN\n";
    let items = seed_items(sample);
    for want in [
        "User",
        "User.id",
        "User.avatar_url",
        "User.fetch_from_api",
        "DISCORD_BOT_TOKEN",
    ] {
        assert!(items.iter().any(|i| i == want), "{want} not in {items:?}");
    }
}

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture, so the line shows even when the test "passes".
fn skipped(message: String) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}
