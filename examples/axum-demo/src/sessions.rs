//! Sessions in Redis, so several demo instances behind one load balancer share logins.
//!
//! A small tower-sessions store on the same `redis` crate the code store uses (no second Redis
//! client library): each session is one JSON value under `{namespace}:s:{id}` whose TTL ends
//! with the session.

use std::fmt;

use async_trait::async_trait;
use redis::{AsyncCommands, aio::ConnectionManager, cluster_async::ClusterConnection};
use tower_sessions::{
    SessionStore,
    cookie::time::OffsetDateTime,
    session::{Id, Record},
    session_store::{Error, Result},
};

/// A tower-sessions store in Redis (one node, or a cluster given as several URLs).
#[derive(Clone)]
pub struct RedisSessions {
    connection: Connection,
    prefix: String,
}

#[derive(Clone)]
enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(error: impl fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

impl RedisSessions {
    /// Connects to `urls`: one `redis://` or `rediss://` URL, or several comma-separated node
    /// URLs of a cluster.
    pub async fn connect(urls: &str, namespace: &str) -> redis::RedisResult<Self> {
        let nodes: Vec<&str> = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        let connection = if nodes.len() > 1 {
            let client = redis::cluster::ClusterClient::new(nodes)?;
            Connection::Cluster(client.get_async_connection().await?)
        } else {
            let client = redis::Client::open(nodes.first().copied().unwrap_or(urls))?;
            Connection::Node(ConnectionManager::new(client).await?)
        };
        Ok(Self {
            connection,
            prefix: format!("{namespace}:s:"),
        })
    }

    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// Stores `record`; with `only_new`, only if no session has its id yet. Returns whether
    /// it was stored.
    async fn write(&self, record: &Record, only_new: bool) -> Result<bool> {
        let ttl_ms = (record.expiry_date - OffsetDateTime::now_utc()).whole_milliseconds();
        let Ok(ttl_ms) = u64::try_from(ttl_ms) else {
            return Ok(true); // already expired: nothing to keep
        };
        let value = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(&record.id))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms.max(1));
        if only_new {
            cmd.arg("NX");
        }
        let reply: Option<String> = match self.connection.clone() {
            Connection::Node(mut c) => cmd.query_async(&mut c).await,
            Connection::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
        .map_err(backend)?;
        Ok(reply.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are random; on the rare collision, draw another rather than overwrite.
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, false).await.map(drop)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let key = self.key(id);
        let value: Option<String> = match self.connection.clone() {
            Connection::Node(mut c) => c.get(key).await,
            Connection::Cluster(mut c) => c.get(key).await,
        }
        .map_err(backend)?;
        value
            .map(|v| serde_json::from_str(&v).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let key = self.key(id);
        let _: () = match self.connection.clone() {
            Connection::Node(mut c) => c.del(key).await,
            Connection::Cluster(mut c) => c.del(key).await,
        }
        .map_err(backend)?;
        Ok(())
    }
}
