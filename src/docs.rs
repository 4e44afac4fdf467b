//! Long-form documentation.

pub mod seed_map {
    #![doc = include_str!("docs/seed_map.md")]
}
