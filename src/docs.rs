//! Long-form documentation (the Flask-Discord-to-Rust table). Owns prose only; imports nothing.

pub mod flask_discord {
    #![doc = include_str!("docs/seed_map.md")]
}
