//! An in-memory actix-session store for one process, over nopassword-core's [`SessionMap`].

use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use nopassword_core::{CodeRng, hashing::SystemRng, http::SessionMap};

/// A session's state, as actix-session hands it to stores.
type SessionState = HashMap<String, String>;

/// Session states kept in this process's memory: sessions end at logout and expire after
/// their TTL, and nothing is shared between processes (use actix-session's
/// `RedisSessionStore` for several instances). Clones share the same sessions.
///
/// Sessions are spread over 16 independently locked shards, and expired ones are dropped: a
/// shard is swept when it has doubled since its last sweep, so memory follows the live
/// sessions (nopassword-core's [`SessionMap`], shared with nopassword-axum).
///
/// ```
/// use nopassword_actix::MemorySessionStore;
///
/// let store = MemorySessionStore::default();
/// assert!(store.is_empty());
/// ```
/// `Debug` shows the number of sessions, never their contents (as [`SessionMap`]'s does).
#[derive(Clone, Default, Debug)]
pub struct MemorySessionStore {
    sessions: Arc<SessionMap<String, SessionState>>,
}

impl MemorySessionStore {
    /// The number of sessions held (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Stores `state` under a fresh random key (256 bits, in hex).
    fn insert(&self, mut state: SessionState, ttl: &Duration) -> SessionKey {
        loop {
            let key = new_session_key();
            match self
                .sessions
                .try_insert(key.as_ref().to_owned(), state, std_ttl(ttl))
            {
                Ok(()) => return key,
                // A collision of random keys: draw another rather than overwrite.
                Err(back) => state = back,
            }
        }
    }
}

/// A fresh actix-session key: 256 bits from the system's CSPRNG, as 64 lower-case hex
/// digits. For session stores of the app's own, as [`MemorySessionStore`] uses it.
///
/// ```
/// let key = nopassword_actix::new_session_key();
/// assert_eq!(key.as_ref().len(), 64);
/// assert_ne!(key.as_ref(), nopassword_actix::new_session_key().as_ref());
/// ```
pub fn new_session_key() -> SessionKey {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 32];
    SystemRng.fill_bytes(&mut bytes);
    // One pass over a table: `format!` per byte cost a login 16,000 instructions (the
    // profile of issue 14), a tenth of an in-memory login on actix.
    let mut key = String::with_capacity(64);
    for byte in bytes {
        key.push(char::from(DIGITS[usize::from(byte >> 4)]));
        key.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    SessionKey::try_from(key).expect("64 hex digits make a valid session key")
}

/// actix-session's TTL as the map's; a negative one has expired.
fn std_ttl(ttl: &Duration) -> StdDuration {
    StdDuration::try_from(*ttl).unwrap_or(StdDuration::ZERO)
}

impl SessionStore for MemorySessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        Ok(self.sessions.get(session_key.as_ref()))
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        Ok(self.insert(session_state, ttl))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self
            .sessions
            .replace(session_key.as_ref(), session_state, std_ttl(ttl))
        {
            Ok(()) => Ok(session_key),
            // Expired or deleted meanwhile: a fresh key, never the client's.
            Err(session_state) => Ok(self.insert(session_state, ttl)),
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        self.sessions.touch(session_key.as_ref(), std_ttl(ttl));
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        self.sessions.remove(session_key.as_ref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's futures need no runtime of their own; actix-web's `test` macro needs a
    /// feature we leave off.
    fn run<T>(test: impl Future<Output = T>) -> T {
        actix_web::rt::System::new().block_on(test)
    }

    fn state(cart: &str) -> SessionState {
        HashMap::from([("cart".to_owned(), cart.to_owned())])
    }

    #[test]
    fn round_trip_update_and_delete() {
        run(async {
            let store = MemorySessionStore::default();
            let hour = Duration::hours(1);
            let key = store.save(state("apples"), &hour).await.expect("save");
            assert_eq!(key.as_ref().len(), 64);
            assert_eq!(store.load(&key).await.expect("load"), Some(state("apples")));
            let same = store
                .update(key, state("pears"), &hour)
                .await
                .expect("update");
            assert_eq!(store.load(&same).await.expect("load"), Some(state("pears")));
            let debug = format!("{store:?}");
            assert!(
                !debug.contains("pears") && !debug.contains(same.as_ref()),
                "{debug}"
            );
            store.delete(&same).await.expect("delete");
            assert_eq!(store.load(&same).await.expect("load"), None);
            assert!(store.is_empty());
        });
    }

    #[test]
    fn an_update_of_a_gone_session_gets_a_fresh_key() {
        run(async {
            let store = MemorySessionStore::default();
            let planted = SessionKey::try_from("0".repeat(64)).expect("a key");
            let key = store
                .update(planted, state("apples"), &Duration::hours(1))
                .await
                .expect("update");
            assert_ne!(key.as_ref(), "0".repeat(64));
            assert_eq!(store.load(&key).await.expect("load"), Some(state("apples")));
        });
    }

    #[test]
    fn expired_sessions_are_not_loaded() {
        run(async {
            let store = MemorySessionStore::default();
            let key = store
                .save(state("apples"), &Duration::seconds(-1))
                .await
                .expect("save");
            assert_eq!(store.load(&key).await.expect("load"), None);
            let live = store
                .save(state("pears"), &Duration::hours(1))
                .await
                .expect("save");
            store
                .update_ttl(&live, &Duration::seconds(-1))
                .await
                .expect("update_ttl");
            assert_eq!(store.load(&live).await.expect("load"), None);
        });
    }
}
