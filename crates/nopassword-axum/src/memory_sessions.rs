//! An in-memory tower-sessions store for one process: sharded, with expired sessions swept.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use nopassword_core::async_trait;
use tower_sessions::{
    SessionStore,
    cookie::time::OffsetDateTime,
    session::{Id, Record},
    session_store::Result,
};

/// Sessions in this process's memory (use a shared store, such as Redis, for several
/// instances). Compared with tower-sessions' own `MemoryStore` it spreads sessions over 16
/// independently locked shards, takes no async lock, and drops expired sessions: a shard is
/// swept when it has doubled since its last sweep, so memory follows the live sessions at O(1)
/// amortised cost per save.
///
/// ```
/// use nopassword_axum::MemorySessionStore;
///
/// let store = MemorySessionStore::default();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone)]
pub struct MemorySessionStore {
    shards: Arc<[Mutex<Shard>]>,
}

const SHARDS: usize = 16;
const SWEEP_AT: usize = 256;

#[derive(Default)]
struct Shard {
    sessions: HashMap<Id, Record>,
    sweep_at: usize,
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("sessions", &self.len())
            .finish()
    }
}

impl MemorySessionStore {
    /// Sessions held (expired ones included until their shard is swept).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .sessions
                    .len()
            })
            .sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, id: &Id) -> std::sync::MutexGuard<'_, Shard> {
        // Session ids are random 128-bit numbers: their low bits are uniform.
        let index = usize::try_from(id.0.rem_euclid(SHARDS as i128)).unwrap_or(0);
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(shard: &mut Shard, record: &Record) {
        if shard.sessions.len() >= shard.sweep_at.max(SWEEP_AT) {
            let now = OffsetDateTime::now_utc();
            shard.sessions.retain(|_, r| r.expiry_date > now);
            shard.sweep_at = (shard.sessions.len() * 2).max(SWEEP_AT);
        }
        shard.sessions.insert(record.id, record.clone());
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let mut shard = self.shard(&record.id);
            if !shard.sessions.contains_key(&record.id) {
                Self::insert(&mut shard, record);
                return Ok(());
            }
            drop(shard);
            // A collision of random ids: draw another rather than overwrite.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        Self::insert(&mut self.shard(&record.id), record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let mut shard = self.shard(id);
        match shard.sessions.get(id) {
            Some(record) if record.expiry_date > OffsetDateTime::now_utc() => {
                Ok(Some(record.clone()))
            }
            Some(_) => {
                shard.sessions.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.shard(id).sessions.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tower_sessions::cookie::time::Duration;

    use super::*;

    fn record(expires_in: Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn round_trip_and_delete() {
        let store = MemorySessionStore::default();
        let mut r = record(Duration::hours(1));
        store.create(&mut r).await.expect("create");
        assert_eq!(
            store.load(&r.id).await.expect("load").map(|l| l.id),
            Some(r.id)
        );
        store.delete(&r.id).await.expect("delete");
        assert!(store.load(&r.id).await.expect("load").is_none());
    }

    #[tokio::test]
    async fn expired_sessions_are_not_loaded_and_are_swept() {
        let store = MemorySessionStore::default();
        for _ in 0..10_000 {
            store
                .save(&record(Duration::seconds(-1)))
                .await
                .expect("save");
        }
        // Each shard sweeps when it reaches its threshold, so at most a threshold's worth of
        // expired sessions per shard remains.
        assert!(
            store.len() <= SHARDS * SWEEP_AT,
            "{} sessions kept",
            store.len()
        );
        let expired = record(Duration::seconds(-1));
        store.save(&expired).await.expect("save");
        assert!(store.load(&expired.id).await.expect("load").is_none());
    }
}
