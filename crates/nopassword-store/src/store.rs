//! `RedisStore`: the `CodeStore` implementation.

use std::{
    fmt,
    future::Future,
    sync::{Arc, LazyLock},
    time::Duration,
};

use nopassword_core::{
    CodeStore, Settings, StoreError, async_trait,
    hashing::CodeKey,
    store::{CodeRecord, CodeUse, StoredCode},
};
use redis::{RedisError, RedisResult, Script};
use tracing::{Instrument, debug, debug_span, field};

use crate::{Connection, RedisSettings, RedisStoreBuilder, RedisStoreError, keys::Keys};

/// Codes and counters in Redis or a Redis Cluster, shared by every app instance.
///
/// Each key's Redis TTL is its validity (a code's TTL is `login_code_timeout`), so Redis
/// itself forgets expired codes. `take` is one atomic server-side step, so of any number of
/// concurrent takes of a code, across instances, exactly one wins. Every call is bounded by
/// the command timeout (default 500 ms) and fails with [`StoreError::Timeout`] or
/// [`StoreError::Unavailable`] while Redis is down; once Redis is back the same store works
/// again. Cheap to clone: clones share the connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use nopassword_core::{NoPassword, Settings, user::MemoryDirectory};
/// use nopassword_store::{RedisSettings, RedisStore};
///
/// let settings = Settings::default();
/// let redis = RedisSettings { redis_url: Some("redis://127.0.0.1:6379/".into()) };
/// let store = RedisStore::from_settings(&settings, &redis).await?;
/// let service = NoPassword::builder(settings, MemoryDirectory::default()).store(store).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Connection,
    keys: Keys,
    endpoints: String,
    timeout: Duration,
}

impl fmt::Debug for RedisStore {
    // The URLs may hold a password: show only where the nodes are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("namespace", &self.inner.keys.namespace())
            .field("cluster", &self.is_cluster())
            .field("endpoints", &self.inner.endpoints)
            .field("command_timeout", &self.inner.timeout)
            .finish()
    }
}

/// The Lua scripts, each touching only keys of one slot.
struct Scripts {
    /// KEYS: record, its failure counter. ARGV: record bytes, TTL in ms.
    put: Script,
    /// KEYS: record, its failure counter. Counts a refused use only while the record lives,
    /// and lets the counter die with it.
    incr_code_failures: Script,
    /// KEYS: counter. ARGV: window in ms, cap. Counts only while below the cap (nil once the
    /// count has reached it, which then stays); every counted failure renews the window.
    incr_capped: Script,
    /// KEYS: counter. ARGV: window in ms. Fixed: the window starts at the first hit.
    incr_fixed: Script,
    /// KEYS: counter. ARGV: window in ms, cap, `1` for a right try. Nil while the count is at
    /// the cap; a wrong try counts as in `incr_capped`, a right one resets the count (0).
    count_user_try: Script,
    /// KEYS: record, its failure counter. ARGV: max attempts, `1` for a right try. Nil when
    /// the record is gone; else `{outcome, tries, record or ''}`: 0 refused (the counter
    /// follows the record's TTL), 1 withdrawn, 2 taken (both keys deleted).
    use_code: Script,
    /// KEYS: record, its failure counter. ARGV: the approved record's bytes. Nil when the
    /// record is gone, approved already (version 4, flags bit 0x02), has a refused try or is
    /// of no known version; else the replaced record, the approved one now in its place with
    /// the same TTL (`KEEPTTL`).
    approve: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    put: Script::new(
        "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) \
         redis.call('DEL', KEYS[2]) \
         return 1",
    ),
    incr_code_failures: Script::new(
        "local ttl = redis.call('PTTL', KEYS[1]) \
         if ttl == -2 then return false end \
         local n = redis.call('INCR', KEYS[2]) \
         if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end \
         return n",
    ),
    // GET, compare, INCR and PEXPIRE run as one step on the counter's node, so no number of
    // concurrent calls counts fewer failures than were made or passes the cap.
    incr_capped: Script::new(
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
         if n >= tonumber(ARGV[2]) then return false end \
         n = redis.call('INCR', KEYS[1]) \
         redis.call('PEXPIRE', KEYS[1], ARGV[1]) \
         return n",
    ),
    incr_fixed: Script::new(
        "local n = redis.call('INCR', KEYS[1]) \
         if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
         return n",
    ),
    count_user_try: Script::new(
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
         if n >= tonumber(ARGV[2]) then return false end \
         if ARGV[3] == '1' then redis.call('DEL', KEYS[1]) return 0 end \
         n = redis.call('INCR', KEYS[1]) \
         redis.call('PEXPIRE', KEYS[1], ARGV[1]) \
         return n",
    ),
    // The count, the judgement against the attempts and the take run as one step on the
    // code's node: of concurrent right tries exactly one gets the record, and no number of
    // tries passes the limit.
    use_code: Script::new(
        "local ttl = redis.call('PTTL', KEYS[1]) \
         if ttl == -2 then return false end \
         local n = redis.call('INCR', KEYS[2]) \
         local max = tonumber(ARGV[1]) \
         local right = ARGV[2] == '1' \
         if n > max or (not right and n >= max) then \
           redis.call('DEL', KEYS[1], KEYS[2]) return {1, n, ''} end \
         if right then \
           local record = redis.call('GET', KEYS[1]) \
           redis.call('DEL', KEYS[1], KEYS[2]) return {2, n, record} end \
         if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end \
         return {0, n, ''}",
    ),
    // The read, both checks and the replacement run as one step on the code's node: of
    // concurrent approvals exactly one replaces the record, and the key is never empty.
    // Byte 1 of a record is its version, byte 2 its flags (`CodeRecord::encode`).
    approve: Script::new(
        "local old = redis.call('GET', KEYS[1]) \
         if not old then return false end \
         local version, flags = string.byte(old, 1, 2) \
         if flags == nil or (version ~= 3 and version ~= 4) then return false end \
         if version == 4 and math.floor(flags / 2) % 2 == 1 then return false end \
         if tonumber(redis.call('GET', KEYS[2]) or '0') ~= 0 then return false end \
         redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') \
         return old",
    ),
});

impl RedisStore {
    /// Connects to `urls` with keys under `namespace` and the default timeouts.
    ///
    /// `urls` is one `redis://` or `rediss://` URL (a single node), or several comma-separated
    /// node URLs (a Redis Cluster: any reachable subset of its nodes will do).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// use nopassword_store::RedisStore;
    ///
    /// let single = RedisStore::connect("redis://127.0.0.1:6379/", "nopassword").await?;
    /// let cluster = RedisStore::connect(
    ///     "redis://10.0.0.1:7000/,redis://10.0.0.2:7000/,redis://10.0.0.3:7000/",
    ///     "nopassword",
    /// )
    /// .await?;
    /// assert!(!single.is_cluster() && cluster.is_cluster());
    /// # Ok(()) }
    /// ```
    pub async fn connect(urls: &str, namespace: &str) -> Result<Self, RedisStoreError> {
        RedisStoreBuilder::new(urls)
            .namespace(namespace)
            .connect()
            .await
    }

    /// Connects with the settings: [`RedisSettings`]' `redis_url`, and core's `namespace`;
    /// [`RedisStoreError::MissingUrl`] when `redis_url` is unset.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use nopassword_core::Settings;
    /// use nopassword_store::{RedisSettings, RedisStore};
    ///
    /// let redis = RedisSettings { redis_url: Some("redis://127.0.0.1:6379/".into()) };
    /// let store = RedisStore::from_settings(&Settings::default(), &redis).await?;
    /// assert_eq!(store.namespace(), "nopassword");
    /// # Ok(()) }
    /// ```
    pub async fn from_settings(
        settings: &Settings,
        redis: &RedisSettings,
    ) -> Result<Self, RedisStoreError> {
        RedisStoreBuilder::from_settings(settings, redis)?
            .connect()
            .await
    }

    /// A builder, for timeouts or to treat one URL as a cluster seed.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// use std::time::Duration;
    ///
    /// let store = nopassword_store::RedisStore::builder("redis://127.0.0.1:6379/")
    ///     .command_timeout(Duration::from_millis(200))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(urls: impl Into<nopassword_core::secret::SecretString>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(urls)
    }

    pub(crate) fn new(
        conn: Connection,
        namespace: &str,
        endpoints: String,
        timeout: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                conn,
                keys: Keys::new(namespace),
                endpoints,
                timeout,
            }),
        }
    }

    /// The prefix of this store's keys.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// let store = nopassword_store::RedisStore::connect("redis://127.0.0.1/", "shop").await?;
    /// assert_eq!(store.namespace(), "shop");
    /// # Ok(()) }
    /// ```
    pub fn namespace(&self) -> &str {
        self.inner.keys.namespace()
    }

    /// Whether this store talks to a Redis Cluster.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// let store = nopassword_store::RedisStore::connect("redis://127.0.0.1/", "nopassword").await?;
    /// assert!(!store.is_cluster());
    /// # Ok(()) }
    /// ```
    pub fn is_cluster(&self) -> bool {
        match self.inner.conn {
            Connection::Single(_) => false,
            #[cfg(feature = "cluster")]
            Connection::Cluster(_) => true,
        }
    }

    /// The configured nodes as `host:port`, comma-separated (no credentials): for logs.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// let store = nopassword_store::RedisStore::connect("redis://:pw@127.0.0.1:6379/", "nopassword").await?;
    /// assert_eq!(store.endpoints(), "127.0.0.1:6379");
    /// # Ok(()) }
    /// ```
    pub fn endpoints(&self) -> &str {
        &self.inner.endpoints
    }

    /// The limit on each call.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// let store = nopassword_store::RedisStore::connect("redis://127.0.0.1/", "nopassword").await?;
    /// assert_eq!(store.command_timeout(), nopassword_store::DEFAULT_COMMAND_TIMEOUT);
    /// # Ok(()) }
    /// ```
    pub fn command_timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Asks Redis for a `PONG`, within the command timeout: a readiness check. On a cluster
    /// the `PING` goes to every master and succeeds only if all answer. It is also the
    /// store's [`CodeStore::health`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = nopassword_store::RedisStore::connect("redis://127.0.0.1/", "nopassword").await?;
    /// store.ping().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call("ping", &"", |mut conn| async move {
            redis::cmd("PING").query_async::<()>(&mut conn).await
        })
        .await
    }

    /// Runs one store operation under a span and the command timeout.
    ///
    /// `op` builds the request on a connection handle; it runs a second time only if the first
    /// try found the connection refused (the request was never sent, so a retry is safe), which
    /// lets the first call after Redis returns succeed instead of only starting the
    /// reconnection.
    async fn call<T, F, Fut>(
        &self,
        name: &'static str,
        subject: &(dyn fmt::Debug + Sync),
        op: F,
    ) -> Result<T, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let inner = &*self.inner;
        let span = debug_span!(
            "nopassword_store",
            op = name,
            namespace = inner.keys.namespace(),
            subject = ?subject,
            error = field::Empty,
        );
        let attempt = async {
            match op(inner.conn.clone()).await {
                Err(error) if error.is_connection_refusal() => {
                    debug!(%error, "connection refused; retrying once on a fresh connection");
                    op(inner.conn.clone()).await
                }
                other => other,
            }
        };
        async {
            let result = match tokio::time::timeout(inner.timeout, attempt).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => store_error(error, inner.timeout),
                Err(_) => StoreError::Timeout(inner.timeout),
            };
            tracing::Span::current().record("error", field::display(&result));
            debug!("Redis call failed");
            Err(result)
        }
        .instrument(span)
        .await
    }
}

fn store_error(error: RedisError, limit: Duration) -> StoreError {
    if error.is_timeout() {
        StoreError::Timeout(limit)
    } else {
        StoreError::Unavailable(Box::new(error))
    }
}

/// A TTL in whole milliseconds, at least 1 (Redis refuses 0).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[async_trait]
impl CodeStore for RedisStore {
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        let value = record.encode();
        let ms = millis(ttl);
        self.call("put", key, |mut conn| {
            let mut invocation = SCRIPTS.put.key(&record_key);
            invocation.key(&failures_key).arg(&value).arg(ms);
            async move { invocation.invoke_async::<()>(&mut conn).await }
        })
        .await
    }

    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        let (bytes, failures) = self
            .call("get", key, |mut conn| {
                let mut cmd = redis::cmd("MGET");
                cmd.arg(&record_key).arg(&failures_key);
                async move {
                    cmd.query_async::<(Option<Vec<u8>>, Option<u32>)>(&mut conn)
                        .await
                }
            })
            .await?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        Ok(Some(StoredCode {
            record: CodeRecord::decode(&bytes)?,
            failures: failures.unwrap_or(0),
        }))
    }

    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        // GETDEL is the atomic step: one taker gets the bytes. The counter goes in the same
        // round trip (same slot); if that DEL were lost it would still expire with the code.
        let bytes = self
            .call("take", key, |mut conn| {
                let mut pipe = redis::pipe();
                pipe.cmd("GETDEL")
                    .arg(&record_key)
                    .cmd("DEL")
                    .arg(&failures_key)
                    .ignore();
                async move { pipe.query_async::<(Option<Vec<u8>>,)>(&mut conn).await }
            })
            .await?
            .0;
        bytes
            .map(|bytes| CodeRecord::decode(&bytes).map_err(StoreError::from))
            .transpose()
    }

    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        let n = self
            .call("incr_code_failures", key, |mut conn| {
                let mut invocation = SCRIPTS.incr_code_failures.key(&record_key);
                invocation.key(&failures_key);
                async move { invocation.invoke_async::<Option<i64>>(&mut conn).await }
            })
            .await?;
        Ok(n.map(count))
    }

    async fn incr_user_failures(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        let counter = self.inner.keys.user_failures(user_id);
        let ms = millis(window);
        let n = self
            .call("incr_user_failures", &user_id, |mut conn| {
                let mut invocation = SCRIPTS.incr_capped.key(&counter);
                invocation.arg(ms).arg(cap);
                async move { invocation.invoke_async::<Option<i64>>(&mut conn).await }
            })
            .await?;
        Ok(n.map(count))
    }

    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError> {
        let counter = self.inner.keys.user_failures(user_id);
        let n = self
            .call("user_failures", &user_id, |mut conn| {
                let mut cmd = redis::cmd("GET");
                cmd.arg(&counter);
                async move { cmd.query_async::<Option<i64>>(&mut conn).await }
            })
            .await?;
        Ok(n.map_or(0, count))
    }

    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError> {
        let counter = self.inner.keys.user_failures(user_id);
        self.call("clear_user_failures", &user_id, |mut conn| {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(&counter);
            async move { cmd.query_async::<()>(&mut conn).await }
        })
        .await
    }

    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError> {
        let counter = self.inner.keys.rate(bucket);
        let ms = millis(window);
        let n = self
            .call("hit", &bucket, |mut conn| {
                let mut invocation = SCRIPTS.incr_fixed.key(&counter);
                invocation.arg(ms);
                async move { invocation.invoke_async::<i64>(&mut conn).await }
            })
            .await?;
        Ok(count(n))
    }

    /// The rate counter and the reads go out together (one round trip); all the codes are
    /// read by one `MGET` of their records and failure counters.
    async fn hit_and_get(
        &self,
        bucket: Option<(&str, Duration)>,
        keys: &[CodeKey],
    ) -> Result<(Option<u32>, Vec<Option<StoredCode>>), StoreError> {
        let hit = async {
            match bucket {
                Some((bucket, window)) => self.hit(bucket, window).await.map(Some),
                None => Ok(None),
            }
        };
        tokio::try_join!(hit, self.get_many(keys))
    }

    /// Every counter goes out at once (one round trip).
    async fn hits(&self, buckets: &[(&str, Duration)]) -> Result<Vec<u32>, StoreError> {
        match buckets {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![self.hit(one.0, one.1).await?]),
            [first, second] => {
                let (a, b) =
                    tokio::try_join!(self.hit(first.0, first.1), self.hit(second.0, second.1))?;
                Ok(vec![a, b])
            }
            [first, rest @ ..] => {
                let (a, mut rest) = tokio::try_join!(self.hit(first.0, first.1), self.hits(rest))?;
                rest.insert(0, a);
                Ok(rest)
            }
        }
    }

    /// The counter and the write go out together (one round trip); over the limit the code
    /// is withdrawn at once (a second one, only then). Nobody can know the code meanwhile: it
    /// has not been sent.
    async fn put_counted(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
        bucket: (&str, Duration),
        limit: u32,
    ) -> Result<u32, StoreError> {
        let (count, ()) =
            tokio::try_join!(self.hit(bucket.0, bucket.1), self.put(key, record, ttl))?;
        if count > limit {
            self.take(key).await?;
        }
        Ok(count)
    }

    /// One script on the user's counter.
    async fn count_user_try(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
        matched: bool,
    ) -> Result<Option<u32>, StoreError> {
        let counter = self.inner.keys.user_failures(user_id);
        let ms = millis(window);
        let n = self
            .call("count_user_try", &user_id, |mut conn| {
                let mut invocation = SCRIPTS.count_user_try.key(&counter);
                invocation.arg(ms).arg(cap).arg(u8::from(matched));
                async move { invocation.invoke_async::<Option<i64>>(&mut conn).await }
            })
            .await?;
        Ok(n.map(count))
    }

    /// One script on the code's slot.
    async fn use_code(
        &self,
        key: &CodeKey,
        max_attempts: u32,
        matched: bool,
    ) -> Result<CodeUse, StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        let reply = self
            .call("use_code", key, |mut conn| {
                let mut invocation = SCRIPTS.use_code.key(&record_key);
                invocation
                    .key(&failures_key)
                    .arg(max_attempts)
                    .arg(u8::from(matched));
                async move {
                    invocation
                        .invoke_async::<Option<(i64, i64, Vec<u8>)>>(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(match reply {
            None => CodeUse::Gone,
            Some((0, tries, _)) => CodeUse::Refused {
                tries: count(tries),
            },
            Some((2, _, bytes)) => CodeUse::Taken(CodeRecord::decode(&bytes)?),
            Some((_, tries, _)) => CodeUse::Withdrawn {
                tries: count(tries),
            },
        })
    }

    /// One script on the code's slot (one round trip): the approved record takes the code's
    /// place with the code's own remaining TTL (`SET ... KEEPTTL`; `ttl` is not used), so a
    /// poll never finds the key empty.
    async fn approve(
        &self,
        key: &CodeKey,
        approved: &CodeRecord,
        _ttl: Duration,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let (record_key, failures_key) = self.inner.keys.code_pair(key);
        let value = approved.encode();
        let replaced = self
            .call("approve", key, |mut conn| {
                let mut invocation = SCRIPTS.approve.key(&record_key);
                invocation.key(&failures_key).arg(&value);
                async move { invocation.invoke_async::<Option<Vec<u8>>>(&mut conn).await }
            })
            .await?;
        replaced
            .map(|bytes| CodeRecord::decode(&bytes).map_err(StoreError::from))
            .transpose()
    }

    /// The take and the reset go out together (one round trip).
    async fn take_and_reset(
        &self,
        key: &CodeKey,
        user_id: &str,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let (record, ()) = tokio::try_join!(self.take(key), self.clear_user_failures(user_id))?;
        Ok(record)
    }

    /// [`RedisStore::ping`].
    async fn health(&self) -> Result<(), StoreError> {
        self.ping().await
    }
}

impl RedisStore {
    /// Reads codes and their failure counts with one `MGET` (on a cluster the client splits
    /// it by node).
    async fn get_many(&self, keys: &[CodeKey]) -> Result<Vec<Option<StoredCode>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            let (record_key, failures_key) = self.inner.keys.code_pair(key);
            cmd.arg(record_key).arg(failures_key);
        }
        let values = self
            .call("get_many", &keys, |mut conn| {
                let cmd = cmd.clone();
                async move { cmd.query_async::<Vec<Option<Vec<u8>>>>(&mut conn).await }
            })
            .await?;
        values
            .chunks(2)
            .map(|pair| match pair {
                [Some(bytes), failures] => Ok(Some(StoredCode {
                    record: CodeRecord::decode(bytes)?,
                    failures: failures
                        .as_deref()
                        .and_then(|f| std::str::from_utf8(f).ok())
                        .and_then(|f| f.parse().ok())
                        .unwrap_or(0),
                })),
                _ => Ok(None),
            })
            .collect()
    }
}
