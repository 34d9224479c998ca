//! `MemoryStore`: the embedded default store.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

use async_trait::async_trait;

use crate::{
    Clock, CodeStore, StoreError,
    clock::SystemClock,
    hashing::CodeKey,
    store::{CodeRecord, CodeUse, StoredCode},
};

/// Codes and counters in process memory, for one instance (use a shared store such as
/// `nopassword-store`'s Redis store when several instances serve one site).
///
/// Entries expire with their TTL, measured on the injected [`Clock`]. Expired entries are
/// purged as time passes: every operation first drains its shard's expiry queue ordered by
/// deadline, so memory stays proportional to what is live, at O(log n) per entry. A take is
/// atomic: each entry lives in one of 16 shards behind its own mutex, held for microseconds and
/// never across an await (sharding keeps concurrent requests from queueing on one lock).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use nopassword_core::{CodeStore, MemoryStore, hashing::CodeHasher, store::CodeRecord, settings::HashAlgorithm, clock::ManualClock, secret::SecretString};
///
/// let clock = ManualClock::new();
/// let store = MemoryStore::with_clock(clock.clone());
/// let hashed = CodeHasher::new(HashAlgorithm::Sha256, &SecretString::new("k".repeat(32)), &[]).hash("code");
/// let record = CodeRecord { user_id: "1".into(), verifier: hashed.verifier.clone(),
///     code_check: vec![0; 16], flow: vec![0; 16], next: None, created_at: 0, expires_at: 900, device: None, approved: false };
/// store.put(&hashed.key, &record, Duration::from_secs(900)).await.unwrap();
/// assert!(store.get(&hashed.key).await.unwrap().is_some());
/// clock.advance(Duration::from_secs(900));
/// assert!(store.take(&hashed.key).await.unwrap().is_none());
/// assert_eq!(store.len(), 0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStore {
    shards: Arc<[Mutex<State>]>,
    clock: Arc<dyn Clock>,
}

/// How many independently locked parts the store has.
const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct State {
    codes: HashMap<CodeKey, Entry<StoredCode>>,
    counters: HashMap<String, Entry<u32>>,
    /// Deadlines in order; an item whose entry has since changed deadline is skipped.
    queue: BinaryHeap<Reverse<(SystemTime, Slot)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Code(CodeKey),
    Counter(String),
}

#[derive(Debug)]
struct Entry<T> {
    value: T,
    expires: SystemTime,
}

impl State {
    fn purge(&mut self, now: SystemTime) {
        while let Some(Reverse((deadline, _))) = self.queue.peek() {
            if *deadline > now {
                break;
            }
            let Some(Reverse((deadline, slot))) = self.queue.pop() else {
                break;
            };
            // Remove only if the entry still carries this deadline (it may have been renewed).
            match slot {
                Slot::Code(key) => {
                    if self.codes.get(&key).is_some_and(|e| e.expires == deadline) {
                        self.codes.remove(&key);
                    }
                }
                Slot::Counter(name) => {
                    if self
                        .counters
                        .get(&name)
                        .is_some_and(|e| e.expires == deadline)
                    {
                        self.counters.remove(&name);
                    }
                }
            }
        }
        // Renewed counters leave stale queue items behind; rebuild when they dominate.
        let live = self.codes.len() + self.counters.len();
        if self.queue.len() > 64 && self.queue.len() > 4 * live {
            self.queue = self
                .codes
                .iter()
                .map(|(k, e)| Reverse((e.expires, Slot::Code(*k))))
                .chain(
                    self.counters
                        .iter()
                        .map(|(k, e)| Reverse((e.expires, Slot::Counter(k.clone())))),
                )
                .collect();
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// A store on `clock` (give it the service's clock so both agree).
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self::with_shared_clock(Arc::new(clock))
    }

    /// A store on a shared clock.
    pub fn with_shared_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            clock,
        }
    }

    /// Live entries (codes and counters) after purging expired ones.
    pub fn len(&self) -> usize {
        (0..SHARDS)
            .map(|i| {
                let (state, _) = self.lock(i);
                state.codes.len() + state.counters.len()
            })
            .sum()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Locks shard `index` and purges what has expired in it.
    fn lock(&self, index: usize) -> (MutexGuard<'_, State>, SystemTime) {
        let now = self.clock.now();
        let mut state = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.purge(now);
        (state, now)
    }

    /// The shard of a code: its key is a keyed hash, so its first byte is uniform.
    fn code_shard(&self, key: &CodeKey) -> (MutexGuard<'_, State>, SystemTime) {
        self.lock(usize::from(key.as_bytes()[0]) % SHARDS)
    }

    /// The shard of a counter.
    fn counter_shard(&self, name: &str) -> (MutexGuard<'_, State>, SystemTime) {
        use std::hash::BuildHasher;
        let hash =
            std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(name);
        self.lock(usize::try_from(hash % SHARDS as u64).unwrap_or(0))
    }
}

fn deadline(now: SystemTime, ttl: Duration) -> SystemTime {
    now.checked_add(ttl).unwrap_or(now)
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let (mut state, now) = self.code_shard(key);
        let expires = deadline(now, ttl);
        let value = StoredCode {
            record: record.clone(),
            failures: 0,
        };
        state.codes.insert(*key, Entry { value, expires });
        state.queue.push(Reverse((expires, Slot::Code(*key))));
        Ok(())
    }

    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        let (state, _) = self.code_shard(key);
        Ok(state.codes.get(key).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        let (mut state, _) = self.code_shard(key);
        Ok(state.codes.remove(key).map(|e| e.value.record))
    }

    /// One step under the shard's lock: the approved record replaces the code with the
    /// code's own deadline, so a poll never sees the key empty.
    async fn approve(
        &self,
        key: &CodeKey,
        approved: &CodeRecord,
        _ttl: Duration,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let (mut state, _) = self.code_shard(key);
        match state.codes.get_mut(key) {
            Some(entry) if !entry.value.record.approved && entry.value.failures == 0 => Ok(Some(
                std::mem::replace(&mut entry.value.record, approved.clone()),
            )),
            _ => Ok(None),
        }
    }

    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError> {
        let (mut state, _) = self.code_shard(key);
        Ok(state.codes.get_mut(key).map(|e| {
            e.value.failures = e.value.failures.saturating_add(1);
            e.value.failures
        }))
    }

    async fn incr_user_failures(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        let name = format!("f:{user_id}");
        let (mut state, now) = self.counter_shard(&name);
        if state.counters.get(&name).map_or(0, |e| e.value) >= cap {
            return Ok(None);
        }
        let expires = deadline(now, window);
        let entry = state
            .counters
            .entry(name.clone())
            .or_insert(Entry { value: 0, expires });
        entry.value = entry.value.saturating_add(1);
        entry.expires = expires;
        let count = entry.value;
        state.queue.push(Reverse((expires, Slot::Counter(name))));
        Ok(Some(count))
    }

    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError> {
        let name = format!("f:{user_id}");
        let (state, _) = self.counter_shard(&name);
        Ok(state.counters.get(&name).map_or(0, |e| e.value))
    }

    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError> {
        let name = format!("f:{user_id}");
        let (mut state, _) = self.counter_shard(&name);
        state.counters.remove(&name);
        Ok(())
    }

    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError> {
        let name = format!("r:{bucket}");
        let (mut state, now) = self.counter_shard(&name);
        if let Some(entry) = state.counters.get_mut(&name) {
            entry.value = entry.value.saturating_add(1);
            return Ok(entry.value);
        }
        let expires = deadline(now, window);
        state
            .counters
            .insert(name.clone(), Entry { value: 1, expires });
        state.queue.push(Reverse((expires, Slot::Counter(name))));
        Ok(1)
    }

    /// One step under the counter's shard: a failure that reaches the cap is never reset by
    /// a right try counted at the same moment (the default's count-then-reset could).
    async fn count_user_try(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
        matched: bool,
    ) -> Result<Option<u32>, StoreError> {
        if !matched {
            return self.incr_user_failures(user_id, window, cap).await;
        }
        let name = format!("f:{user_id}");
        let (mut state, _) = self.counter_shard(&name);
        if state.counters.get(&name).map_or(0, |e| e.value) >= cap {
            return Ok(None);
        }
        state.counters.remove(&name);
        Ok(Some(0))
    }

    /// One step under the code's shard: of concurrent tries exactly one ends the code, and
    /// only that one reports it (taken or withdrawn).
    async fn use_code(
        &self,
        key: &CodeKey,
        max_attempts: u32,
        matched: bool,
    ) -> Result<CodeUse, StoreError> {
        let (mut state, _) = self.code_shard(key);
        let Some(entry) = state.codes.get_mut(key) else {
            return Ok(CodeUse::Gone);
        };
        let tries = entry.value.failures.saturating_add(1);
        if tries > max_attempts || (!matched && tries >= max_attempts) {
            state.codes.remove(key);
            return Ok(CodeUse::Withdrawn { tries });
        }
        if matched {
            return Ok(state
                .codes
                .remove(key)
                .map_or(CodeUse::Gone, |e| CodeUse::Taken(e.value.record)));
        }
        entry.value.failures = tries;
        Ok(CodeUse::Refused { tries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn record() -> CodeRecord {
        CodeRecord {
            user_id: "1".into(),
            verifier: vec![1; 16],
            code_check: vec![2; 16],
            flow: vec![3; 16],
            next: None,
            created_at: 0,
            expires_at: 0,
            device: None,
            approved: false,
        }
    }

    #[tokio::test]
    async fn expired_entries_are_purged() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(clock.clone());
        for i in 0..10_000u32 {
            let mut key = [0u8; 16];
            key[..4].copy_from_slice(&i.to_be_bytes());
            store
                .put(
                    &CodeKey::from_bytes(key),
                    &record(),
                    Duration::from_secs(60),
                )
                .await
                .expect("put");
            store
                .hit(&format!("ip:{i}"), Duration::from_secs(60))
                .await
                .expect("hit");
            store
                .incr_user_failures(&i.to_string(), Duration::from_secs(60), 100)
                .await
                .expect("fail");
        }
        assert_eq!(store.len(), 30_000);
        clock.advance(Duration::from_secs(61));
        assert_eq!(store.len(), 0);
        for shard in store.shards.iter() {
            assert!(shard.lock().expect("lock").queue.is_empty());
        }
    }

    #[tokio::test]
    async fn renewed_user_failures_outlive_their_first_deadline() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(clock.clone());
        let window = Duration::from_secs(10);
        store
            .incr_user_failures("u", window, 100)
            .await
            .expect("fail");
        clock.advance(Duration::from_secs(8));
        assert_eq!(
            store
                .incr_user_failures("u", window, 100)
                .await
                .expect("fail"),
            Some(2)
        );
        clock.advance(Duration::from_secs(8));
        assert_eq!(store.user_failures("u").await.expect("read"), 2);
        clock.advance(Duration::from_secs(3));
        assert_eq!(store.user_failures("u").await.expect("read"), 0);
    }

    #[tokio::test]
    async fn stale_queue_items_do_not_grow_without_bound() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(clock.clone());
        for _ in 0..10_000 {
            store
                .incr_user_failures("u", Duration::from_secs(10), u32::MAX)
                .await
                .expect("fail");
        }
        let queued: usize = store
            .shards
            .iter()
            .map(|s| s.lock().expect("lock").queue.len())
            .sum();
        assert!(queued <= 64 + 4, "queue grew to {queued}");
    }
}
