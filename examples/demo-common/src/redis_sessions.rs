//! The Redis side of the demos' session stores, on the same `redis` crate the code store uses
//! (no second Redis client library). Each framework's store (tower-sessions in axum-demo,
//! actix-session in actix-demo) encodes its sessions and keeps them here.

use std::{fmt, time::Duration};

use redis::{AsyncCommands, RedisResult, aio::ConnectionManager, cluster_async::ClusterConnection};

/// Session values in Redis (one node, or a cluster given as several URLs): each session is one
/// string under `{prefix}{id}` whose TTL ends with the session. Clones share the connection.
#[derive(Clone)]
pub struct SessionRedis {
    connection: Connection,
    prefix: String,
}

#[derive(Clone)]
enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl fmt::Debug for SessionRedis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRedis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Milliseconds for `PX`/`PEXPIRE`: at least 1 (0 is an error to Redis).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionRedis {
    /// Connects to `urls`: one `redis://` or `rediss://` URL, or several comma-separated node
    /// URLs of a cluster. Keys start with `prefix`.
    ///
    /// The connection runs on the async runtime this is awaited on, which must keep running
    /// while the sessions are used.
    pub async fn connect(urls: &str, prefix: impl Into<String>) -> RedisResult<Self> {
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
            prefix: prefix.into(),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> RedisResult<T> {
        match self.connection.clone() {
            Connection::Node(mut c) => cmd.query_async(&mut c).await,
            Connection::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
    }

    /// Stores `value` for session `id`, to expire after `ttl`, if `condition` holds. Returns
    /// whether it was stored.
    pub async fn put(
        &self,
        id: &str,
        value: &str,
        ttl: Duration,
        condition: PutIf,
    ) -> RedisResult<bool> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(id)).arg(value).arg("PX").arg(millis(ttl));
        match condition {
            PutIf::Always => {}
            PutIf::New => {
                cmd.arg("NX");
            }
            PutIf::Exists => {
                cmd.arg("XX");
            }
        }
        let reply: Option<String> = self.query(&cmd).await?;
        Ok(reply.is_some())
    }

    /// The value of session `id`, if it exists and has not expired.
    pub async fn get(&self, id: &str) -> RedisResult<Option<String>> {
        let key = self.key(id);
        match self.connection.clone() {
            Connection::Node(mut c) => c.get(key).await,
            Connection::Cluster(mut c) => c.get(key).await,
        }
    }

    /// Makes session `id` expire after `ttl` from now; returns whether it exists.
    pub async fn expire(&self, id: &str, ttl: Duration) -> RedisResult<bool> {
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(self.key(id)).arg(millis(ttl));
        let set: i64 = self.query(&cmd).await?;
        Ok(set == 1)
    }

    /// Deletes session `id`.
    pub async fn delete(&self, id: &str) -> RedisResult<()> {
        let key = self.key(id);
        match self.connection.clone() {
            Connection::Node(mut c) => c.del(key).await,
            Connection::Cluster(mut c) => c.del(key).await,
        }
    }
}

/// When [`SessionRedis::put`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutIf {
    /// Whether or not the session exists.
    Always,
    /// Only a new session (an id nobody has).
    New,
    /// Only a session that still exists.
    Exists,
}
