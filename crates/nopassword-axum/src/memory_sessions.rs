//! An in-memory tower-sessions store for one process, over nopassword-core's [`SessionMap`].

use std::{sync::Arc, time::Duration};

use nopassword_core::{async_trait, http::SessionMap};
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
/// amortised cost per save (nopassword-core's [`SessionMap`], shared with nopassword-actix).
/// Clones share the same sessions.
///
/// ```
/// use nopassword_axum::MemorySessionStore;
///
/// let store = MemorySessionStore::default();
/// assert_eq!(store.len(), 0);
/// ```
/// `Debug` shows the number of sessions, never their contents (as [`SessionMap`]'s does).
#[derive(Clone, Default, Debug)]
pub struct MemorySessionStore {
    sessions: Arc<SessionMap<Id, Record>>,
}

impl MemorySessionStore {
    /// Sessions held (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// How long a record has to live; none once its expiry date has passed.
fn ttl(record: &Record) -> Duration {
    Duration::try_from(record.expiry_date - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO)
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A collision of random ids: draw another rather than overwrite.
        while self
            .sessions
            .try_insert(record.id, record.clone(), ttl(record))
            .is_err()
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.sessions.insert(record.id, record.clone(), ttl(record));
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        Ok(self.sessions.get(id))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.sessions.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

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
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn create_never_overwrites_a_live_session() {
        let store = MemorySessionStore::default();
        let mut first = record(Duration::hours(1));
        store.create(&mut first).await.expect("create");
        let mut second = record(Duration::hours(1));
        second.id = first.id;
        store.create(&mut second).await.expect("create");
        assert_ne!(second.id, first.id, "a colliding id is drawn again");
        assert_eq!(store.len(), 2);
    }

    #[tokio::test]
    async fn expired_records_are_not_loaded() {
        let store = MemorySessionStore::default();
        let expired = record(Duration::seconds(-1));
        store.save(&expired).await.expect("save");
        assert!(store.load(&expired.id).await.expect("load").is_none());
    }
}
