//! Memory per session in the in-memory session store at 100,000 sessions.
//!
//! ```sh
//! cargo bench --bench store_memory
//! ```
//!
//! Saves `SESSIONS` realistic records (Discord-sized tokens, five scopes, a user id) into a
//! [`MemoryTokenStore`] and reports the growth of the process's resident memory (`VmRSS` from
//! `/proc/self/status`, Linux) divided by the number of sessions: what the store, its map and
//! the allocator's overhead cost together. Records are built before the first reading so that
//! only the store's own copies are counted.
use std::hint::black_box;

use discord_oauth::store::{MemoryTokenStore, SessionId, SessionRecord, TokenStore};

const SESSIONS: usize = 100_000;

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn record(i: usize) -> SessionRecord {
    // A record as the callback makes it: Discord's tokens are 30 characters.
    let mut r = base();
    r.id = SessionId::random();
    r.user_id = Some(80_351_110_224_678_912 + i as u64);
    r
}

fn base() -> SessionRecord {
    let json = serde_json::json!({
        "id": vec![0u8; 16], "version": 1,
        "access_token": "6qrZcUqja7812RVdnEKjpzOL4CvHBF",
        "refresh_token": "D43f5y0ahjqew82jZ4NViEr2YafMKh",
        "scopes": "identify email guilds connections guilds.join",
        "user_id": 1, "expires_at": 1_900_000_000u64, "created_at": 1_800_000_000u64,
        "seen_at": 1_800_000_000u64
    });
    serde_json::from_value(json).expect("a valid record")
}

fn main() {
    let Some(_) = rss_bytes() else {
        println!(
            "store_memory: /proc/self/status is not readable here (not Linux?); nothing measured"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let records: Vec<SessionRecord> = (0..SESSIONS).map(record).collect();
    let store = MemoryTokenStore::new();
    let before = rss_bytes().unwrap_or(0);
    runtime.block_on(async {
        for r in &records {
            store.save(r, None, 3600).await.expect("saved");
        }
    });
    let after = rss_bytes().unwrap_or(0);
    black_box(&store);
    assert_eq!(store.len(), SESSIONS);
    let per = after.saturating_sub(before) as f64 / SESSIONS as f64;
    println!(
        "memory store: {SESSIONS} sessions, resident memory +{:.1} MiB = {per:.0} bytes per session",
        after.saturating_sub(before) as f64 / (1024.0 * 1024.0)
    );
}
