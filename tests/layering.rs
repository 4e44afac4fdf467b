//! The architecture, checked: every module of `src/` may import only modules of a lower layer
//! (so the module graph has no cycle), the core never names a web framework, and models do no
//! I/O. The table below is the one place the layering is written down; `lib.rs` shows it too.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of `src/` and its layer: a module may import only lower layers.
const LAYERS: &[(&str, u32)] = &[
    ("vocab", 0),
    ("docs", 0),
    ("config", 1),
    ("models", 1),
    ("store", 1),
    ("error", 2),
    ("route", 3),
    ("ratelimit", 4),
    ("http", 5),
    ("oauth", 6),
    ("cache", 6),
    ("request", 6),
    ("session", 7),
    ("app_token", 7),
    ("api", 8),
    ("events", 8),
    ("__fuzz", 8),
    ("backends", 5),
    ("client", 9),
    ("web", 9),
    ("axum", 10),
    ("actix", 10),
];

/// Names of web frameworks and their plumbing: only `axum/` names axum's, only `actix/` actix's.
const FRAMEWORKS: &[&str] = &[
    "axum",
    "tower_layer",
    "tower_service",
    "actix",
    "hyper",
    "warp",
];

/// What models must never touch: they are plain data.
const IO: &[&str] = &[
    "reqwest",
    "tokio",
    "crate::http",
    "crate::session",
    "crate::store",
];

fn layer(module: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("module `{module}` is not in the LAYERS table of this test"))
}

/// The source without comments and string literals (doc links are not imports).
fn code_of(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_string = false;
    for line in source.lines() {
        let mut chars = line.chars().peekable();
        let mut prev = ' ';
        while let Some(c) = chars.next() {
            if !in_string && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' && prev != '\'' {
                in_string = !in_string;
            } else if !in_string {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Crate-root re-exports (`pub use module::{A, B}` in lib.rs): name -> module.
fn root_names(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for stmt in code_of(lib).split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    names
}

/// The modules a source file refers to through `crate::`.
fn imports(code: &str, roots: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        let rest = rest.trim_start_matches('{');
        let names: Vec<&str> = if rest.starts_with(char::is_uppercase) {
            vec![rest]
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            // A module re-exported at the root (`crate::scope` for `vocab::scope`).
            found.push(roots.get(name).cloned().unwrap_or_else(|| name.to_owned()));
            continue;
        };
        for name in names {
            let end = name
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            if let Some(module) = roots.get(&name[..end]) {
                found.push(module.clone());
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_import_goes_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let roots = root_names(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = top.trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap();
        // Unit tests (at the end of a file, by convention) may use dev-dependencies.
        let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let code = code_of(source);
        let own = layer(&module);
        for import in imports(&code, &roots) {
            if import == module {
                continue;
            }
            if layer(&import) >= own {
                violations.push(format!(
                    "{}: `{module}` (layer {own}) imports `{import}` (layer {})",
                    rel.display(),
                    layer(&import)
                ));
            }
        }
        // Each integration names its own framework, and no other.
        let own_framework: &[&str] = match module.as_str() {
            "axum" => &["axum", "tower_layer", "tower_service"],
            "actix" => &["actix"],
            _ => &[],
        };
        {
            for fw in FRAMEWORKS.iter().filter(|fw| !own_framework.contains(fw)) {
                let used = code
                    .match_indices(fw)
                    .any(|(i, _)| !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if used && code.contains(&format!("{fw}::")) {
                    violations.push(format!("{}: `{module}` names `{fw}`", rel.display()));
                }
            }
        }
        if module == "models" {
            for io in IO {
                if code.contains(&format!("{io}::")) || code.contains(&format!("use {io}")) {
                    violations.push(format!("{}: models must do no I/O (`{io}`)", rel.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_catches_an_upward_import_and_a_framework() {
    let roots = root_names("pub use client::{DiscordOAuth};\npub use error::{Error, Result};");
    let code = code_of(
        "use crate::session::DiscordSession;\nfn f() -> crate::Error { todo!() }\n// crate::api in a comment\nlet s = \"crate::client\";\nuse crate::DiscordOAuth;",
    );
    assert_eq!(imports(&code, &roots), ["session", "error", "client"]);
    assert!(layer("store") < layer("session"));
    assert!(code_of("use axum::Router; // x").contains("axum::"));
}
