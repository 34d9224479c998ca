//! [`SessionMap`]: the in-memory session map behind both web adapters' `MemorySessionStore`.

use std::{
    borrow::Borrow,
    collections::HashMap,
    fmt,
    hash::{BuildHasher, Hash, RandomState},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

/// Independently locked shards: requests for different sessions rarely wait for each other.
const SHARDS: usize = 16;

/// A shard holding this many entries is swept for expired ones on its next insert; after a
/// sweep the next one waits until the shard has doubled, so sweeping costs O(1) amortised per
/// insert and memory follows the live sessions.
const SWEEP_AT: usize = 256;

/// Sessions by key, each with its own time to live, in this process's memory: the storage of
/// the web adapters' in-memory session stores (nopassword-axum's and nopassword-actix's
/// `MemorySessionStore`), written once.
///
/// Entries are spread over 16 shards, each behind its own (synchronous, never held across an
/// `.await`) lock. An expired entry is never returned; it is dropped when it is read, or by
/// the bounded sweep of its shard. Share it behind an `Arc`.
///
/// ```
/// use std::time::Duration;
///
/// use nopassword_core::http::SessionMap;
///
/// let sessions = SessionMap::new();
/// sessions.insert("k1".to_owned(), "state", Duration::from_secs(3600));
/// assert_eq!(sessions.get("k1"), Some("state"));
///
/// // A zero TTL has already expired.
/// sessions.insert("k2".to_owned(), "gone", Duration::ZERO);
/// assert_eq!(sessions.get("k2"), None);
/// assert_eq!(sessions.len(), 1);
/// ```
pub struct SessionMap<K, V> {
    shards: [Mutex<Shard<K, V>>; SHARDS],
    hasher: RandomState,
}

struct Shard<K, V> {
    entries: HashMap<K, Entry<V>>,
    sweep_at: usize,
}

struct Entry<V> {
    value: V,
    deadline: Instant,
}

/// When an entry stored now for `ttl` expires.
fn deadline(ttl: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    // A TTL beyond what `Instant` can hold is as good as forever.
    now.checked_add(ttl)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

impl<V> Entry<V> {
    fn new(value: V, ttl: Duration) -> Self {
        Self {
            value,
            deadline: deadline(ttl),
        }
    }

    fn live(&self, now: Instant) -> bool {
        self.deadline > now
    }
}

impl<K: Hash + Eq, V> Shard<K, V> {
    /// Inserts, first sweeping the shard when it has reached its threshold.
    fn insert(&mut self, key: K, entry: Entry<V>) {
        if self.entries.len() >= self.sweep_at.max(SWEEP_AT) {
            let now = Instant::now();
            self.entries.retain(|_, entry| entry.live(now));
            self.sweep_at = (self.entries.len() * 2).max(SWEEP_AT);
        }
        self.entries.insert(key, entry);
    }

    /// The live entry under `key`; an expired one is removed.
    fn live<Q>(&mut self, key: &Q) -> Option<&mut Entry<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self
            .entries
            .get(key)
            .is_some_and(|entry| !entry.live(Instant::now()))
        {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }
}

impl<K, V> Default for SessionMap<K, V> {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| {
                Mutex::new(Shard {
                    entries: HashMap::new(),
                    sweep_at: SWEEP_AT,
                })
            }),
            hasher: RandomState::new(),
        }
    }
}

impl<K, V> fmt::Debug for SessionMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Session states are secrets: only their number shows.
        f.debug_struct("SessionMap")
            .field("sessions", &self.len())
            .finish()
    }
}

impl<K, V> SessionMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries held, expired ones included until they are read or swept.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| Self::lock(shard).entries.len())
            .sum()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(shard: &Mutex<Shard<K, V>>) -> MutexGuard<'_, Shard<K, V>> {
        // A panic while a shard was locked leaves it consistent: every change is one call.
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Hash + Eq, V> SessionMap<K, V> {
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, Shard<K, V>> {
        // The low bits of a SipHash are uniform whatever the keys look like.
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        Self::lock(&self.shards[index])
    }

    /// The value under `key`, unless it has expired (an expired entry is dropped).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use nopassword_core::http::SessionMap;
    /// let sessions = SessionMap::new();
    /// sessions.insert(7, vec!["cart"], Duration::from_secs(60));
    /// assert_eq!(sessions.get(&7), Some(vec!["cart"]));
    /// assert_eq!(sessions.get(&8), None);
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.shard(key).live(key).map(|entry| entry.value.clone())
    }

    /// Stores `value` under `key` for `ttl`, replacing what was there.
    pub fn insert(&self, key: K, value: V, ttl: Duration) {
        self.shard(&key).insert(key, Entry::new(value, ttl));
    }

    /// Stores `value` under `key` for `ttl` unless a live entry holds the key; then hands the
    /// value back (a collision of random session ids: the caller draws another).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use nopassword_core::http::SessionMap;
    /// let sessions = SessionMap::new();
    /// let ttl = Duration::from_secs(60);
    /// assert_eq!(sessions.try_insert(1, "first", ttl), Ok(()));
    /// assert_eq!(sessions.try_insert(1, "second", ttl), Err("second"));
    /// assert_eq!(sessions.get(&1), Some("first"));
    /// ```
    pub fn try_insert(&self, key: K, value: V, ttl: Duration) -> Result<(), V> {
        let mut shard = self.shard(&key);
        if shard.live(&key).is_some() {
            return Err(value);
        }
        shard.insert(key, Entry::new(value, ttl));
        Ok(())
    }

    /// Replaces the value of a live entry and restarts its `ttl`; hands the value back when
    /// there is none (expired or removed meanwhile), so that the caller stores it under a
    /// fresh key rather than under one a client chose.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use nopassword_core::http::SessionMap;
    /// let sessions = SessionMap::new();
    /// let ttl = Duration::from_secs(60);
    /// assert_eq!(sessions.replace(&1, "planted", ttl), Err("planted"));
    /// sessions.insert(1, "old", ttl);
    /// assert_eq!(sessions.replace(&1, "new", ttl), Ok(()));
    /// assert_eq!(sessions.get(&1), Some("new"));
    /// ```
    pub fn replace<Q>(&self, key: &Q, value: V, ttl: Duration) -> Result<(), V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.shard(key).live(key) {
            Some(entry) => {
                *entry = Entry::new(value, ttl);
                Ok(())
            }
            None => Err(value),
        }
    }

    /// Restarts the `ttl` of a live entry; `false` when there is none.
    pub fn touch<Q>(&self, key: &Q, ttl: Duration) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.shard(key).live(key) {
            Some(entry) => {
                entry.deadline = deadline(ttl);
                true
            }
            None => false,
        }
    }

    /// Removes the entry under `key`; its value when it was live.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entry = self.shard(key).entries.remove(key)?;
        entry.live(Instant::now()).then_some(entry.value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn round_trip_replace_touch_and_remove() {
        let sessions = SessionMap::new();
        sessions.insert("a".to_owned(), 1, HOUR);
        assert_eq!(sessions.get("a"), Some(1));
        assert_eq!(sessions.replace("a", 2, HOUR), Ok(()));
        assert_eq!(sessions.get("a"), Some(2));
        assert!(sessions.touch("a", HOUR));
        assert_eq!(sessions.remove("a"), Some(2));
        assert_eq!(sessions.get("a"), None);
        assert!(!sessions.touch("a", HOUR));
        assert_eq!(sessions.replace("a", 3, HOUR), Err(3));
        assert!(sessions.is_empty());
    }

    #[test]
    fn debug_shows_the_number_of_sessions_never_their_contents() {
        let sessions = SessionMap::new();
        sessions.insert("key-secret".to_owned(), "state-secret", HOUR);
        let debug = format!("{sessions:?}");
        assert_eq!(debug, "SessionMap { sessions: 1 }");
    }

    #[test]
    fn expired_entries_are_neither_read_nor_revived() {
        let sessions = SessionMap::new();
        sessions.insert(1, "expired", Duration::ZERO);
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions.get(&1), None);
        assert_eq!(sessions.len(), 0, "reading an expired entry drops it");

        sessions.insert(2, "expired", Duration::ZERO);
        assert_eq!(sessions.replace(&2, "revived", HOUR), Err("revived"));
        sessions.insert(3, "expired", Duration::ZERO);
        assert!(!sessions.touch(&3, HOUR));
        assert_eq!(sessions.get(&3), None);
        sessions.insert(4, "expired", Duration::ZERO);
        assert_eq!(sessions.remove(&4), None);
        // An expired entry does not block its key.
        sessions.insert(5, "expired", Duration::ZERO);
        assert_eq!(sessions.try_insert(5, "new", HOUR), Ok(()));
        assert_eq!(sessions.get(&5), Some("new"));
    }

    #[test]
    fn a_touched_entry_gets_its_new_ttl() {
        let sessions = SessionMap::new();
        sessions.insert(1, (), HOUR);
        assert!(sessions.touch(&1, Duration::ZERO));
        assert_eq!(sessions.get(&1), None);
    }

    #[test]
    fn a_huge_ttl_is_forever() {
        let sessions = SessionMap::new();
        sessions.insert(1, (), Duration::MAX);
        assert_eq!(sessions.get(&1), Some(()));
    }

    #[test]
    fn expired_entries_are_swept_within_a_bound() {
        let sessions = SessionMap::new();
        for key in 0..10_000 {
            sessions.insert(key, (), Duration::ZERO);
        }
        // Each shard sweeps when it reaches its threshold, so at most a threshold's worth of
        // expired entries per shard remains.
        assert!(
            sessions.len() <= SHARDS * SWEEP_AT,
            "{} entries kept",
            sessions.len()
        );
    }

    #[test]
    fn live_entries_survive_the_sweep_and_the_threshold_follows_them() {
        let sessions = SessionMap::new();
        for key in 0..5_000 {
            sessions.insert(key, key, HOUR);
        }
        for key in 5_000..20_000 {
            sessions.insert(key, key, Duration::ZERO);
        }
        assert!((0..5_000).all(|key| sessions.get(&key) == Some(key)));
        // The live 5,000 set each shard's threshold at twice its share, so the expired ones
        // kept are bounded by that, not by their number.
        assert!(
            sessions.len() <= 3 * 5_000 + SHARDS * SWEEP_AT,
            "{} entries kept",
            sessions.len()
        );
    }

    #[test]
    fn keys_spread_over_the_shards() {
        let sessions = SessionMap::new();
        for key in 0..1_600 {
            sessions.insert(key, (), HOUR);
        }
        let sizes: Vec<usize> = sessions
            .shards
            .iter()
            .map(|shard| SessionMap::lock(shard).entries.len())
            .collect();
        assert!(sizes.iter().all(|&size| size > 0), "{sizes:?}");
    }

    #[test]
    fn threads_share_it() {
        let sessions = Arc::new(SessionMap::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sessions = Arc::clone(&sessions);
                std::thread::spawn(move || {
                    for i in 0..1_000 {
                        sessions.insert(t * 1_000 + i, i, HOUR);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic");
        }
        assert_eq!(sessions.len(), 4_000);
    }
}
