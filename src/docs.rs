//! Long-form documentation (the Flask-Discord-to-Rust table). Owns prose only; imports nothing.

pub mod seed_map {
    #![doc = include_str!("docs/seed_map.md")]
}
