//! A user's own `TokenStore` — keyed its own way (a string key of its choosing, JSON rows),
//! knowing nothing of cookies — exercised through idle touch, refresh and logout. The session
//! layer alone decides what the cookie carries; the store only ever sees session ids.
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use discord_oauth::clock::ManualClock;
use discord_oauth::store::{SessionId, SessionRecord, StoreError, TokenStore};
use discord_oauth::{BoxFuture, DiscordOAuth, Error, Fetch, LoginOptions, Scope};

/// Rows under `"session/<debug of id>"`, as JSON text: nothing like the raw id.
#[derive(Debug, Default)]
struct JsonRows {
    rows: Mutex<HashMap<String, String>>,
    saves: AtomicUsize,
    deletes: AtomicUsize,
}

fn key(id: &SessionId) -> String {
    format!(
        "session/{}",
        id.0.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

impl TokenStore for JsonRows {
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        let mut rows = self.rows.lock().unwrap();
        let current = rows
            .get(&key(&record.id))
            .map(|json| serde_json::from_str::<SessionRecord>(json).unwrap().version);
        let result = if current == expected_version {
            rows.insert(key(&record.id), serde_json::to_string(record).unwrap());
            Ok(())
        } else {
            Err(StoreError::Conflict)
        };
        Box::pin(std::future::ready(result))
    }

    fn load<'a>(
        &'a self,
        id: &'a SessionId,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        let found = self
            .rows
            .lock()
            .unwrap()
            .get(&key(id))
            .map(|json| serde_json::from_str(json).unwrap());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.rows.lock().unwrap().remove(&key(id));
        Box::pin(std::future::ready(Ok(())))
    }
}

#[tokio::test]
async fn a_custom_store_through_idle_touch_refresh_and_logout() {
    let mock = mock().await;
    mock.set_token_lifetime(Duration::from_secs(4 * 3600));
    let clock = ManualClock::new();
    let store = Arc::new(JsonRows::default());
    let client = DiscordOAuth::builder(
        config_for(&mock)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .token_store(store.clone())
    .idle_timeout(Duration::from_secs(4 * 3600))
    .build()
    .unwrap();
    let user = mock.users()[0].id;
    let mut browser = Browser::default();
    login(
        &client,
        &mut browser,
        user,
        LoginOptions::new().scopes([Scope::Identify, Scope::Guilds]),
    )
    .await;
    let first = browser.session(&client).record().await.unwrap().unwrap();
    assert_eq!(store.rows.lock().unwrap().len(), 1);
    assert!(store.rows.lock().unwrap().contains_key(&key(&first.id)));
    // The cookie never carries the tokens, and the store never sees a cookie.
    let cookie = format!("{:?}", browser.headers());
    assert!(!cookie.contains(first.access_token.secret()));

    // Idle touch: past a quarter of the idle lifetime, `seen_at` moves and the row is saved.
    clock.advance(Duration::from_secs(3700));
    let s = browser.session(&client);
    let touched = s.record().await.unwrap().unwrap();
    browser.absorb(&s);
    assert!(touched.seen_at > first.seen_at);
    assert_eq!(touched.version, first.version + 1);
    let stored = store.load(&first.id).await.unwrap().unwrap();
    assert_eq!(stored.version, touched.version);

    // Refresh: inside the refresh margin the pair rotates and reaches the store by id.
    clock.advance(Duration::from_secs(4 * 3600 - 3700 - 100));
    let s = browser.session(&client);
    assert_eq!(s.fetch_user(Fetch::Fresh).await.unwrap().id.get(), user);
    browser.absorb(&s);
    assert_eq!(mock.stats().grants_of("refresh_token"), 1);
    let refreshed = store.load(&first.id).await.unwrap().unwrap();
    assert_ne!(refreshed.access_token, first.access_token);
    assert!(refreshed.version > touched.version);
    let s = browser.session(&client);
    assert_eq!(
        s.record().await.unwrap().unwrap().access_token,
        refreshed.access_token
    );

    // Logout: the row is deleted and the old cookie is refused without calling Discord.
    let stolen = browser.clone();
    assert!(s.revoke().await);
    assert_eq!(store.deletes.load(Ordering::SeqCst), 1);
    assert!(store.rows.lock().unwrap().is_empty());
    let before = mock.stats().total_requests;
    let replay = stolen.session(&client);
    assert!(matches!(
        replay.fetch_user(Fetch::Cached).await,
        Err(Error::Unauthorized)
    ));
    assert_eq!(mock.stats().total_requests, before);
}
