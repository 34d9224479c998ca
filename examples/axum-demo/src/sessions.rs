//! Sessions in Redis (or PostgreSQL), so several demo instances behind one load balancer share
//! logins.
//!
//! A small tower-sessions store over demo-common's [`SessionRedis`], on the same `redis` crate
//! the code store uses (no second Redis client library): each session is one JSON value under
//! `{namespace}:s:{id}` whose TTL ends with the session. With `database_url` the same store
//! keeps them in the demo's PostgreSQL sessions table instead ([`SessionPg`]).

use async_trait::async_trait;
use demo_common::{PutIf, SessionPg, SessionRedis, SharedSessions, SharedSessionsError};
use tower_sessions::{
    SessionStore,
    cookie::time::OffsetDateTime,
    session::{Id, Record},
    session_store::{Error, Result},
};

/// A tower-sessions store in Redis (one node, or a cluster given as several URLs), or in
/// PostgreSQL ([`RedisSessions::postgres`]).
#[derive(Debug, Clone)]
pub struct RedisSessions {
    redis: SharedSessions,
}

fn backend(error: SharedSessionsError) -> Error {
    Error::Backend(error.to_string())
}

impl RedisSessions {
    /// Connects to `urls`: one `redis://` or `rediss://` URL, or several comma-separated node
    /// URLs of a cluster.
    pub async fn connect(urls: &str, namespace: &str) -> redis::RedisResult<Self> {
        let redis = SessionRedis::connect(urls, format!("{namespace}:s:")).await?;
        Ok(Self {
            redis: SharedSessions::Redis(redis),
        })
    }

    /// Sessions in the demo's PostgreSQL sessions table.
    pub fn postgres(sessions: SessionPg) -> Self {
        Self {
            redis: SharedSessions::Postgres(sessions),
        }
    }

    /// Stores `record` if `condition` holds. Returns whether it was stored.
    async fn write(&self, record: &Record, condition: PutIf) -> Result<bool> {
        let ttl = record.expiry_date - OffsetDateTime::now_utc();
        let Ok(ttl) = std::time::Duration::try_from(ttl) else {
            return Ok(true); // already expired: nothing to keep
        };
        let value = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        self.redis
            .put(&record.id.to_string(), &value, ttl, condition)
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are random; on the rare collision, draw another rather than overwrite.
        while !self.write(record, PutIf::New).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, PutIf::Always).await.map(drop)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let value = self.redis.get(&id.to_string()).await.map_err(backend)?;
        value
            .map(|v| serde_json::from_str(&v).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.redis.delete(&id.to_string()).await.map_err(backend)
    }
}
