//! Sessions in Redis, so several demo instances behind one load balancer share logins.
//!
//! A small actix-session store over demo-common's [`SessionRedis`], on the same `redis` crate
//! the code store uses (no second Redis client library, and not actix-session's own
//! `redis-session` feature, which would pull in another major version of it): each session is
//! one JSON object under `{namespace}:actix-s:{key}` whose TTL ends with the session.

use std::{collections::HashMap, time::Duration as StdDuration};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use demo_common::{PutIf, SessionPg, SessionRedis, SharedSessions};
use nopassword_actix::MemorySessionStore;

/// A session's state, as actix-session hands it to stores.
type SessionState = HashMap<String, String>;

/// An actix-session store in Redis (one node, or a cluster given as several URLs).
#[derive(Debug, Clone)]
pub struct RedisSessions {
    redis: SharedSessions,
}

impl RedisSessions {
    /// Connects to `urls`: one `redis://` or `rediss://` URL, or several comma-separated node
    /// URLs of a cluster.
    pub async fn connect(urls: &str, namespace: &str) -> redis::RedisResult<Self> {
        let redis = SessionRedis::connect(urls, format!("{namespace}:actix-s:")).await?;
        Ok(Self {
            redis: SharedSessions::Redis(redis),
        })
    }

    /// Sessions in the demo's PostgreSQL sessions table (`database_url`), shared the same way.
    pub fn postgres(sessions: SessionPg) -> Self {
        Self {
            redis: SharedSessions::Postgres(sessions),
        }
    }

    /// A fresh session key: 256 random bits in hex.
    fn new_key() -> SessionKey {
        nopassword_actix::new_session_key()
    }

    /// Stores `state` under a new key (drawing another on the rare collision).
    async fn insert(&self, value: &str, ttl: StdDuration) -> anyhow::Result<SessionKey> {
        loop {
            let key = Self::new_key();
            if self.redis.put(key.as_ref(), value, ttl, PutIf::New).await? {
                return Ok(key);
            }
        }
    }
}

/// actix-session's TTLs are signed; a negative one keeps the session for the shortest time.
fn std_ttl(ttl: &Duration) -> StdDuration {
    StdDuration::try_from(*ttl).unwrap_or(StdDuration::ZERO)
}

impl SessionStore for RedisSessions {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let value = self
            .redis
            .get(session_key.as_ref())
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        value
            .map(|v| serde_json::from_str(&v).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let value = serde_json::to_string(&session_state)
            .map_err(|e| SaveError::Serialization(e.into()))?;
        self.insert(&value, std_ttl(ttl))
            .await
            .map_err(SaveError::Other)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let value = serde_json::to_string(&session_state)
            .map_err(|e| UpdateError::Serialization(e.into()))?;
        let ttl = std_ttl(ttl);
        let updated = self
            .redis
            .put(session_key.as_ref(), &value, ttl, PutIf::Exists)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if updated {
            return Ok(session_key);
        }
        // Expired or deleted meanwhile: a fresh key, never the client's.
        self.insert(&value, ttl).await.map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        self.redis
            .expire(session_key.as_ref(), std_ttl(ttl))
            .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        Ok(self.redis.delete(session_key.as_ref()).await?)
    }
}

/// Where the demo keeps sessions: in this process, or in Redis.
#[derive(Debug, Clone)]
pub enum DemoSessions {
    /// nopassword-actix's in-memory store (one instance).
    Memory(MemorySessionStore),
    /// Redis (several instances share logins).
    Redis(RedisSessions),
}

impl SessionStore for DemoSessions {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        match self {
            Self::Memory(store) => store.load(session_key).await,
            Self::Redis(store) => store.load(session_key).await,
        }
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        match self {
            Self::Memory(store) => store.save(session_state, ttl).await,
            Self::Redis(store) => store.save(session_state, ttl).await,
        }
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self {
            Self::Memory(store) => store.update(session_key, session_state, ttl).await,
            Self::Redis(store) => store.update(session_key, session_state, ttl).await,
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        match self {
            Self::Memory(store) => store.update_ttl(session_key, ttl).await,
            Self::Redis(store) => store.update_ttl(session_key, ttl).await,
        }
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        match self {
            Self::Memory(store) => store.delete(session_key).await,
            Self::Redis(store) => store.delete(session_key).await,
        }
    }
}
