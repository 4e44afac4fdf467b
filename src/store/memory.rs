//! In-memory stores for one process: [`MemoryTokenStore`], [`MemoryRevocationList`] and
//! [`MemoryConsumedStates`], bounded and pruned as they grow, with expiry on a [`Clock`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::{
    ConsumedStates, RefreshCoordination, RevocationList, SessionId, SessionRecord, StoreError,
    TokenStore,
};
use crate::vocab::BoxFuture;
use crate::vocab::clock::{self, Clock};

/// Most live sessions one user keeps in a [`MemoryTokenStore`]: a new login beyond it drops
/// that user's oldest session, so one account cannot grow the store without bound.
pub(crate) const MAX_SESSIONS_PER_USER: usize = 64;

/// Records in process memory, by id. Entries expire after their TTL and the map is pruned as
/// it grows; each user keeps at most 64 live sessions (a new login beyond that drops the
/// user's oldest session), so one account cannot grow the store without bound.
#[derive(Debug)]
pub struct MemoryTokenStore {
    records: RwLock<Records>,
    clock: Arc<dyn Clock>,
}

/// The records, and each user's session ids, oldest first.
#[derive(Debug, Default)]
struct Records {
    by_id: HashMap<SessionId, (SessionRecord, u64)>,
    by_user: HashMap<u64, std::collections::VecDeque<SessionId>>,
}

impl Records {
    /// Notes that `id` belongs to `user`; drops the user's ids that are gone or expired and,
    /// beyond [`MAX_SESSIONS_PER_USER`], the user's oldest sessions.
    fn note_user(&mut self, user: u64, id: SessionId, now: u64) {
        let Self { by_id, by_user } = self;
        let ids = by_user.entry(user).or_default();
        if !ids.contains(&id) {
            ids.push_back(id);
        }
        ids.retain(|i| {
            by_id
                .get(i)
                .is_some_and(|(r, exp)| *exp > now && r.user_id == Some(user))
                || *i == id
        });
        while ids.len() > MAX_SESSIONS_PER_USER {
            if let Some(oldest) = ids.pop_front() {
                by_id.remove(&oldest);
            }
        }
    }

    /// Drops expired records (and the users left without any).
    fn prune(&mut self, now: u64) {
        self.by_id.retain(|_, (_, exp)| *exp > now);
        let by_id = &self.by_id;
        self.by_user.retain(|_, ids| {
            ids.retain(|i| by_id.contains_key(i));
            !ids.is_empty()
        });
    }
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::with_clock(clock::system())
    }
}

impl MemoryTokenStore {
    /// An empty store on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose expiry follows `clock`.
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            records: RwLock::default(),
            clock,
        }
    }

    fn now(&self) -> u64 {
        self.clock.unix_now()
    }

    /// Number of live records.
    #[must_use]
    pub fn len(&self) -> usize {
        let now = self.now();
        read(&self.records)
            .by_id
            .values()
            .filter(|(_, exp)| *exp > now)
            .count()
    }

    /// Whether the store holds no live record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TokenStore for MemoryTokenStore {
    fn save<'a>(
        &'a self,
        record: &'a SessionRecord,
        expected_version: Option<u64>,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = self.now();
        let mut records = write(&self.records);
        let current = records
            .by_id
            .get(&record.id)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.version);
        let result = if current == expected_version {
            let len = records.by_id.len();
            if len > 1024 && len.is_power_of_two() {
                records.prune(now);
            }
            records
                .by_id
                .insert(record.id, (record.clone(), now.saturating_add(ttl_secs)));
            if let Some(user) = record.user_id {
                records.note_user(user, record.id, now);
            }
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
        let now = self.now();
        let found = read(&self.records)
            .by_id
            .get(id)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut records = write(&self.records);
        if let Some((record, _)) = records.by_id.remove(id)
            && let Some(user) = record.user_id
            && let Some(ids) = records.by_user.get_mut(&user)
        {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                records.by_user.remove(&user);
            }
        }
        drop(records);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Nothing but this process changes it.
    fn is_shared(&self) -> bool {
        false
    }

    /// The user's live records, from a per-user index.
    fn user_sessions<'a>(
        &'a self,
        user_id: u64,
    ) -> BoxFuture<'a, Result<Vec<SessionId>, StoreError>> {
        let now = self.now();
        let records = read(&self.records);
        let ids = records
            .by_user
            .get(&user_id)
            .into_iter()
            .flatten()
            .filter(|id| {
                records
                    .by_id
                    .get(*id)
                    .is_some_and(|(r, exp)| *exp > now && r.user_id == Some(user_id))
            })
            .copied()
            .collect();
        Box::pin(std::future::ready(Ok(ids)))
    }
}

/// [`RefreshCoordination`] in process memory: what the shared implementations do, for tests
/// and for custom stores to compare against. One process does not need it (its sessions
/// coordinate refreshes in memory already).
#[derive(Debug, Default)]
pub struct MemoryRefreshCoordination {
    /// Lease key → (owner, until in Unix ms).
    leases: Mutex<HashMap<Key, (Key, u64)>>,
    /// Old refresh-token fingerprint → (sealed record, until in Unix seconds).
    rotations: Mutex<HashMap<Key, (Vec<u8>, u64)>>,
}

/// A 16-byte fingerprint.
type Key = [u8; 16];

impl MemoryRefreshCoordination {
    /// No lease, no rotation.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl RefreshCoordination for MemoryRefreshCoordination {
    fn try_lock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
        now_ms: u64,
        lease_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut leases = lock(&self.leases);
        leases.retain(|_, (_, until)| *until > now_ms);
        let taken = match leases.get(key) {
            Some((holder, _)) => holder == owner,
            None => true,
        };
        if taken {
            leases.insert(*key, (*owner, now_ms.saturating_add(lease_ms)));
        }
        Box::pin(std::future::ready(Ok(taken)))
    }

    fn unlock<'a>(
        &'a self,
        key: &'a [u8; 16],
        owner: &'a [u8; 16],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut leases = lock(&self.leases);
        if leases.get(key).is_some_and(|(holder, _)| holder == owner) {
            leases.remove(key);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn put_rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        sealed: &'a [u8],
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        lock(&self.rotations).insert(*key, (sealed.to_vec(), until));
        Box::pin(std::future::ready(Ok(())))
    }

    fn rotation<'a>(
        &'a self,
        key: &'a [u8; 16],
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        let mut rotations = lock(&self.rotations);
        rotations.retain(|_, (_, until)| *until > now);
        let found = rotations.get(key).map(|(bytes, _)| bytes.clone());
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// Users whose sessions are revoked up to a time (see [`RevocationList::revoke_user`]), in
/// process memory: the whole user-level list of [`MemoryRevocationList`], and the local record
/// of this process's own revocations in the shared lists (answered without a round trip).
///
/// An empty list (the usual case) is answered by one atomic load, without the lock.
#[derive(Debug, Default)]
pub(crate) struct UserRevocations {
    /// User id → (revoked at, entry dead at), Unix seconds.
    users: RwLock<rustc_hash::FxHashMap<u64, (u64, u64)>>,
    any: std::sync::atomic::AtomicBool,
}

impl UserRevocations {
    /// Revokes the sessions of `user_id` created at or before `at`, until `until`; keeps the
    /// later `at` of two revocations. Dead entries are pruned as the map grows.
    pub(crate) fn revoke(&self, user_id: u64, at: u64, until: u64, now: u64) {
        let mut users = write(&self.users);
        if users.len() >= 4096 && users.len().is_power_of_two() {
            users.retain(|_, (_, dead_at)| *dead_at > now);
        }
        let entry = users.entry(user_id).or_insert((at, until));
        entry.0 = entry.0.max(at);
        entry.1 = entry.1.max(until);
        self.any.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether a session of `user_id` created at `created_at` is revoked at `now`.
    pub(crate) fn is_revoked(&self, user_id: u64, created_at: u64, now: u64) -> bool {
        if !self.any.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        read(&self.users)
            .get(&user_id)
            .is_some_and(|(at, until)| created_at <= *at && *until > now)
    }

    /// Number of entries held (live or not yet pruned).
    pub(crate) fn len(&self) -> usize {
        read(&self.users).len()
    }
}

/// Most revoked session ids one user keeps in a [`MemoryRevocationList`]: one more logout folds
/// them into a single user-level revocation (see [`MemoryRevocationList`]).
pub const MAX_REVOKED_PER_USER: usize = 64;

/// Most revoked ids a [`MemoryRevocationList`] holds (live entries; expired ones are dropped
/// first).
pub const MAX_REVOKED_IDS: usize = 1 << 17;

/// In-memory [`RevocationList`]: session ids, and users who deauthorized the application
/// (answered synchronously, so the hot path stays a lookup). Bounded:
///
/// - expired entries are dropped as the list grows;
/// - per user: past [`MAX_REVOKED_PER_USER`] live revoked sessions of one Discord user
///   ([`revoke_session`](RevocationList::revoke_session), what a logout calls), they are
///   replaced by one user-level revocation of everything that user created up to the newest
///   of them. Nothing revoked comes back; a session of that user older than the newest
///   revoked one ends too (the user logged out 65 times within a session lifetime);
/// - overall: past [`MAX_REVOKED_IDS`] live ids, every user's ids are folded the same way,
///   then, if still full, the ids revoked without a user (sessions without `identify`, refused
///   refresh tokens) closest to expiry are dropped, with a warning. Such a session would be
///   accepted again; with a server-side [`TokenStore`](super::TokenStore) its record is
///   deleted at logout, so only sealed-cookie sessions are exposed.
#[derive(Debug)]
pub struct MemoryRevocationList {
    revoked: RwLock<RevokedIds>,
    users: UserRevocations,
    clock: Arc<dyn Clock>,
    per_user: usize,
    capacity: usize,
}

/// Revoked ids, and the ids of each user with (created at, until).
#[derive(Debug, Default)]
struct RevokedIds {
    by_id: HashMap<SessionId, u64>,
    by_user: HashMap<u64, Vec<(SessionId, u64, u64)>>,
}

impl RevokedIds {
    /// Drops expired entries.
    fn prune(&mut self, now: u64) {
        self.by_id.retain(|_, until| *until > now);
        self.by_user.retain(|_, ids| {
            ids.retain(|(_, _, until)| *until > now);
            !ids.is_empty()
        });
    }

    /// Replaces the ids of `user` by one user-level revocation covering all of them.
    fn fold_user(&mut self, user: u64, users: &UserRevocations, now: u64) {
        let Some(ids) = self.by_user.remove(&user) else {
            return;
        };
        let at = ids
            .iter()
            .map(|(_, created, _)| *created)
            .max()
            .unwrap_or(now);
        let until = ids.iter().map(|(_, _, until)| *until).max().unwrap_or(now);
        users.revoke(user, at, until, now);
        for (id, _, _) in ids {
            self.by_id.remove(&id);
        }
    }
}

impl Default for MemoryRevocationList {
    fn default() -> Self {
        Self::with_clock(clock::system())
    }
}

impl MemoryRevocationList {
    /// An empty list on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list whose pruning follows `clock`.
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            revoked: RwLock::default(),
            users: UserRevocations::default(),
            clock,
            per_user: MAX_REVOKED_PER_USER,
            capacity: MAX_REVOKED_IDS,
        }
    }

    /// The same list with other bounds (at least 1 each): `per_user` revoked sessions of one
    /// user, `capacity` revoked ids in all.
    #[must_use]
    pub fn with_limits(mut self, per_user: usize, capacity: usize) -> Self {
        self.per_user = per_user.max(1);
        self.capacity = capacity.max(1);
        self
    }

    /// Number of entries held (live or not yet pruned), session ids and users together.
    #[must_use]
    pub fn len(&self) -> usize {
        read(&self.revoked).by_id.len() + self.users.len()
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `id`, keeping the bounds.
    fn add(&self, id: SessionId, user: Option<(u64, u64)>, until: u64) {
        let now = self.clock.unix_now();
        let mut list = write(&self.revoked);
        if list.by_id.len() >= self.capacity {
            list.prune(now);
        }
        list.by_id.insert(id, until);
        if let Some((user, created_at)) = user {
            let ids = list.by_user.entry(user).or_default();
            ids.retain(|(i, _, u)| *u > now && *i != id);
            ids.push((id, created_at, until));
            if ids.len() > self.per_user {
                list.fold_user(user, &self.users, now);
            }
        }
        if list.by_id.len() > self.capacity {
            let users: Vec<u64> = list.by_user.keys().copied().collect();
            for user in users {
                list.fold_user(user, &self.users, now);
            }
        }
        if list.by_id.len() > self.capacity {
            let mut anonymous: Vec<(u64, SessionId)> =
                list.by_id.iter().map(|(id, until)| (*until, *id)).collect();
            anonymous.sort_unstable_by_key(|(until, _)| *until);
            let excess = list.by_id.len() - self.capacity * 3 / 4;
            tracing::warn!(
                dropped = excess,
                "the in-memory revocation list is full: dropping the revoked ids closest to expiry"
            );
            for (_, id) in anonymous.into_iter().take(excess) {
                list.by_id.remove(&id);
            }
        }
    }
}

impl RevocationList for MemoryRevocationList {
    fn revoke<'a>(
        &'a self,
        id: &'a SessionId,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.add(*id, None, until);
        Box::pin(std::future::ready(Ok(())))
    }

    fn revoke_session<'a>(
        &'a self,
        id: &'a SessionId,
        user_id: Option<u64>,
        created_at: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.add(*id, user_id.map(|u| (u, created_at)), until);
        Box::pin(std::future::ready(Ok(())))
    }

    fn is_revoked<'a>(
        &'a self,
        id: &'a SessionId,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let hit = self.is_revoked_now(id, now).unwrap_or(false);
        Box::pin(std::future::ready(Ok(hit)))
    }

    fn is_revoked_now(&self, id: &SessionId, now: u64) -> Option<bool> {
        Some(
            read(&self.revoked)
                .by_id
                .get(id)
                .is_some_and(|until| *until > now),
        )
    }

    fn revoke_user<'a>(
        &'a self,
        user_id: u64,
        at: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.users.revoke(user_id, at, until, self.clock.unix_now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn is_user_revoked<'a>(
        &'a self,
        user_id: u64,
        created_at: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let hit = self.users.is_revoked(user_id, created_at, now);
        Box::pin(std::future::ready(Ok(hit)))
    }

    fn is_user_revoked_now(&self, user_id: u64, created_at: u64, now: u64) -> Option<bool> {
        Some(self.users.is_revoked(user_id, created_at, now))
    }
}

/// In-memory [`ConsumedStates`], bounded: expired entries are dropped first; when full of live
/// entries the oldest goes (it is the closest to expiry, and its pending cookie too).
#[derive(Debug)]
pub struct MemoryConsumedStates {
    inner: Mutex<ConsumedInner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct ConsumedInner {
    seen: HashMap<[u8; 16], u64>,
    order: std::collections::VecDeque<[u8; 16]>,
}

impl MemoryConsumedStates {
    /// A set holding at most `capacity` live states.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }
}

impl Default for MemoryConsumedStates {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl ConsumedStates for MemoryConsumedStates {
    fn consume<'a>(
        &'a self,
        state_hash: &'a [u8; 16],
        until: u64,
        now: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = &mut *g;
        while let Some(front) = inner.order.front().copied() {
            let expired = inner.seen.get(&front).is_none_or(|exp| *exp <= now);
            if expired || inner.seen.len() >= self.capacity {
                inner.order.pop_front();
                inner.seen.remove(&front);
            } else {
                break;
            }
        }
        let fresh = match inner.seen.get(state_hash) {
            Some(exp) if *exp > now => false,
            _ => {
                inner.seen.insert(*state_hash, until);
                inner.order.push_back(*state_hash);
                true
            }
        };
        Box::pin(std::future::ready(Ok(fresh)))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_revocation_ends_the_sessions_created_until_then() {
        let list = MemoryRevocationList::new();
        let (user, other) = (80_351_110_224_678_912, 41_771_983_423_143_937);
        assert_eq!(list.is_user_revoked_now(user, 100, 150), Some(false));
        futures_ready(list.revoke_user(user, 200, 1_000)).unwrap();
        // Created before or in the same second: revoked; after (a new login): not.
        assert_eq!(list.is_user_revoked_now(user, 100, 250), Some(true));
        assert_eq!(list.is_user_revoked_now(user, 200, 250), Some(true));
        assert_eq!(list.is_user_revoked_now(user, 201, 250), Some(false));
        assert_eq!(list.is_user_revoked_now(other, 100, 250), Some(false));
        assert!(futures_ready(list.is_user_revoked(user, 150, 250)).unwrap());
        // Past `until` every such session has expired anyway: the entry is dead.
        assert_eq!(list.is_user_revoked_now(user, 100, 1_000), Some(false));
        // A second revocation keeps the later time.
        futures_ready(list.revoke_user(user, 300, 1_100)).unwrap();
        futures_ready(list.revoke_user(user, 250, 1_050)).unwrap();
        assert_eq!(list.is_user_revoked_now(user, 290, 400), Some(true));
        assert_eq!(list.len(), 1);
    }

    fn record(user: u64, created_at: u64) -> SessionRecord {
        SessionRecord {
            id: SessionId::random(),
            version: 0,
            access_token: crate::vocab::secret::AccessToken::new("at"),
            refresh_token: None,
            scopes: crate::vocab::scope::Scopes::default(),
            user_id: Some(user),
            expires_at: created_at + 3600,
            created_at,
            seen_at: created_at,
        }
    }

    #[test]
    fn one_user_keeps_at_most_64_sessions() {
        let clock = Arc::new(clock::ManualClock::new());
        let store = MemoryTokenStore::with_clock(clock.clone());
        let (user, other) = (80_351_110_224_678_912, 41_771_983_423_143_937);
        let theirs = record(other, 1);
        futures_ready(store.save(&theirs, None, 3600)).unwrap();
        let mut ids = Vec::new();
        for i in 0..(MAX_SESSIONS_PER_USER + 10) {
            let r = record(user, i as u64);
            futures_ready(store.save(&r, None, 3600)).unwrap();
            ids.push(r.id);
        }
        assert_eq!(store.len(), MAX_SESSIONS_PER_USER + 1);
        let live = futures_ready(store.user_sessions(user)).unwrap();
        assert_eq!(live, ids[10..].to_vec(), "the oldest went first");
        for gone in &ids[..10] {
            assert_eq!(futures_ready(store.load(gone)).unwrap(), None);
        }
        assert!(futures_ready(store.load(&theirs.id)).unwrap().is_some());
        // Updating a live session does not drop anything.
        let mut newest = futures_ready(store.load(&ids[MAX_SESSIONS_PER_USER + 9]))
            .unwrap()
            .unwrap();
        newest.version += 1;
        futures_ready(store.save(&newest, Some(0), 3600)).unwrap();
        assert_eq!(store.len(), MAX_SESSIONS_PER_USER + 1);
        futures_ready(store.delete(&ids[20])).unwrap();
        assert_eq!(
            futures_ready(store.user_sessions(user)).unwrap().len(),
            MAX_SESSIONS_PER_USER - 1
        );
    }

    /// The output of a future that is ready at once (the memory stores' futures are).
    fn futures_ready<T>(f: BoxFuture<'_, T>) -> T {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = f;
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("a memory store future was pending"),
        }
    }
}
