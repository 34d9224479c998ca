//! `PgStore`: the `CodeStore` implementation, and its builder.

use std::{
    fmt,
    future::Future,
    str::FromStr,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, UNIX_EPOCH},
};

use nopassword_core::{
    Clock, CodeStore, Settings, StoreError, async_trait,
    clock::SystemClock,
    hashing::CodeKey,
    store::{CodeRecord, CodeUse, StoredCode},
};
use sqlx::{
    Connection, PgPool, Postgres, Row,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tracing::{Instrument, debug, debug_span, field, warn};

use crate::{DatabaseSettings, PgStoreError, schema::Tables};

/// The default limit on each store call: an outage answers 503 within it.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// The default limit on connecting (and migrating) at start-up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the background sweep deletes expired rows, by default.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// The most rows one sweep statement deletes; a sweep runs at most [`SWEEP_BATCHES`] of them
/// per table, so it never holds locks or the pool for long.
pub const SWEEP_BATCH: i64 = 1_000;
/// Batches per table per sweep.
pub const SWEEP_BATCHES: u32 = 10;
/// How long after a broken connection every connection is pinged before use, so the stale
/// connections of a pool whose server restarted are replaced instead of failing a request each.
const RECOVERY_WINDOW: Duration = Duration::from_secs(30);

/// Codes and counters in PostgreSQL, shared by every app instance on the database.
///
/// Two tables under a schema and a table prefix of your choice (`public` and `nopassword_`
/// by default), created by the store's embedded migrations: `codes` (one row per outstanding
/// code: its keyed hash, the encoded record, its failure count and its expiry) and `counters`
/// (per-user failures and rate windows). Every [`CodeStore`] operation is one statement (one
/// round trip), combined ones included (`hits`, `put_counted`, `count_user_try`, `use_code`,
/// `take_and_reset`, `approve`, `hit_and_get`: CTEs, `ON CONFLICT`, `FOR UPDATE`). `take` is one `DELETE ... RETURNING`, so of any number of concurrent
/// takes of a code, across instances, exactly one wins; every read checks the expiry, and a
/// bounded background sweep deletes expired rows. Every call is bounded by the
/// command timeout (default 500 ms) and fails with [`StoreError::Timeout`] or
/// [`StoreError::Unavailable`] while PostgreSQL is down; once it is back the same store works
/// again. Cheap to clone: clones share the pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use nopassword_core::{NoPassword, Settings, user::MemoryDirectory};
/// use nopassword_sqlx::PgStore;
///
/// let store = PgStore::connect("postgres://app:secret@127.0.0.1/app").await?;
/// let service = NoPassword::builder(Settings::default(), MemoryDirectory::default())
///     .store(store)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    tables: Tables,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    /// When the store was built: the origin of `broken_at`.
    origin: Instant,
    /// Milliseconds after `origin` of the last broken connection, plus one (0: never).
    broken_at: AtomicU64,
    endpoint: String,
}

impl fmt::Debug for PgStore {
    // The URL may hold a password: show only where the server is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("endpoint", &self.inner.endpoint)
            .field("schema", &self.inner.tables.schema)
            .field("prefix", &self.inner.tables.prefix)
            .field("command_timeout", &self.inner.timeout)
            .finish()
    }
}

/// Builds a [`PgStore`]: schema, table prefix, timeouts, clock, sweep, and where the
/// connections come from (a URL, or the app's own [`PgPool`]).
///
/// ```no_run
/// # async fn demo(pool: sqlx::PgPool) -> Result<(), nopassword_sqlx::PgStoreError> {
/// use std::time::Duration;
///
/// use nopassword_sqlx::PgStore;
///
/// // The app's own pool, tables "auth"."np_codes" and "auth"."np_counters":
/// let store = PgStore::builder()
///     .schema("auth")
///     .prefix("np_")
///     .command_timeout(Duration::from_millis(300))
///     .pool(pool)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PgStoreBuilder {
    schema: String,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    max_connections: u32,
    sweep: Option<Duration>,
    migrate: bool,
    clock: Arc<dyn Clock>,
}

impl Default for PgStoreBuilder {
    fn default() -> Self {
        Self {
            schema: "public".into(),
            prefix: "nopassword_".into(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_connections: 16,
            sweep: Some(DEFAULT_SWEEP_INTERVAL),
            migrate: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl PgStoreBuilder {
    /// The schema of the store's tables (default `public`; created if missing). A plain
    /// identifier, used exactly as written.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The prefix of the store's table names (default `nopassword_`; may be empty). Settings
    /// usually pass core's `namespace` followed by `_`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The limit on each store call (default [`DEFAULT_COMMAND_TIMEOUT`]), waiting for a
    /// pooled connection included.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The limit on connecting and migrating at start-up (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The size of the pool [`connect`](Self::connect) opens (default 16). Ignored for the
    /// app's own pool.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How often the background task deletes expired rows (default
    /// [`DEFAULT_SWEEP_INTERVAL`]); `None` for no task (call [`PgStore::sweep`] yourself).
    /// Expired rows are never read either way: every statement checks the expiry.
    pub fn sweep_interval(mut self, every: Option<Duration>) -> Self {
        self.sweep = every;
        self
    }

    /// Whether building runs the embedded migrations (default `true`). Turn it off when the
    /// tables are created by your own migrations from the SQL in `docs/guide/postgres.md`.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The clock expiry is measured on (default: the system's). Every instance sharing the
    /// tables should have a synchronised clock, as NTP gives.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Connects to `url` with a pool of its own, runs the migrations and starts the sweep.
    pub async fn connect(self, url: &str) -> Result<PgStore, PgStoreError> {
        let tables = Tables::new(&self.schema, &self.prefix)?;
        let options = connect_options(url)?;
        let endpoint = endpoint(&options);
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.timeout)
            // A ping per call would double the round trips; broken connections are
            // detected and replaced instead (see `RECOVERY_WINDOW`).
            .test_before_acquire(false)
            .connect_lazy_with(options);
        let connected = tokio::time::timeout(self.connect_timeout, async {
            let mut conn = pool.acquire().await?;
            conn.ping().await
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(source)) => return Err(PgStoreError::Connect { endpoint, source }),
            Err(_) => {
                return Err(PgStoreError::ConnectTimeout {
                    endpoint,
                    timeout: self.connect_timeout,
                });
            }
        }
        self.finish(pool, tables, endpoint).await
    }

    /// Uses the app's own pool (its size, TLS and timeouts are the app's), runs the migrations
    /// and starts the sweep.
    pub async fn pool(self, pool: PgPool) -> Result<PgStore, PgStoreError> {
        let tables = Tables::new(&self.schema, &self.prefix)?;
        let endpoint = endpoint(&pool.connect_options());
        self.finish(pool, tables, endpoint).await
    }

    async fn finish(
        self,
        pool: PgPool,
        tables: Tables,
        endpoint: String,
    ) -> Result<PgStore, PgStoreError> {
        if self.migrate {
            let migrator = tables.migrator();
            match tokio::time::timeout(self.connect_timeout, migrator.run(&pool)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Err(PgStoreError::Migrate(error)),
                Err(_) => {
                    return Err(PgStoreError::ConnectTimeout {
                        endpoint,
                        timeout: self.connect_timeout,
                    });
                }
            }
        }
        let store = PgStore {
            inner: Arc::new(Inner {
                pool,
                tables,
                timeout: self.timeout,
                clock: self.clock,
                origin: Instant::now(),
                broken_at: AtomicU64::new(0),
                endpoint,
            }),
        };
        if let Some(every) = self.sweep {
            spawn_sweeper(Arc::downgrade(&store.inner), every);
        }
        Ok(store)
    }
}

fn connect_options(url: &str) -> Result<PgConnectOptions, PgStoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(PgStoreError::InvalidUrl(
            "expected postgres://user:password@host:port/database".into(),
        ));
    }
    // The driver's message names the part that is wrong, never the URL itself.
    PgConnectOptions::from_str(url).map_err(|error| PgStoreError::InvalidUrl(error.to_string()))
}

fn endpoint(options: &PgConnectOptions) -> String {
    format!("{}:{}", options.get_host(), options.get_port())
}

/// Sweeps every `every` while the store lives; stops when the last clone is dropped.
fn spawn_sweeper(store: Weak<Inner>, every: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        warn!("no Tokio runtime: the expired-row sweep does not run");
        return;
    };
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(inner) = store.upgrade() else {
                return;
            };
            if let Err(error) = (PgStore { inner }).sweep().await {
                debug!(%error, "expired-row sweep failed; trying again later");
            }
        }
    });
}

impl PgStore {
    /// Connects to `url` with the default schema (`public`), prefix (`nopassword_`) and
    /// timeouts, runs the migrations and starts the sweep.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_sqlx::PgStoreError> {
    /// let store = nopassword_sqlx::PgStore::connect("postgres://app:secret@127.0.0.1/app").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, PgStoreError> {
        PgStoreBuilder::default().connect(url).await
    }

    /// Builds from the app's existing pool with the defaults.
    ///
    /// ```no_run
    /// # async fn demo(pool: sqlx::PgPool) -> Result<(), nopassword_sqlx::PgStoreError> {
    /// let store = nopassword_sqlx::PgStore::from_pool(pool).await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_pool(pool: PgPool) -> Result<Self, PgStoreError> {
        PgStoreBuilder::default().pool(pool).await
    }

    /// Connects with the settings: [`DatabaseSettings`]' `database_url`, and core's
    /// `namespace` as the table prefix (`nopassword` gives `nopassword_codes`);
    /// [`PgStoreError::MissingUrl`] when `database_url` is unset.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use nopassword_core::Settings;
    /// use nopassword_sqlx::{DatabaseSettings, PgStore};
    ///
    /// let database = DatabaseSettings { database_url: Some("postgres://127.0.0.1/app".into()) };
    /// let store = PgStore::from_settings(&Settings::default(), &database).await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_settings(
        settings: &Settings,
        database: &DatabaseSettings,
    ) -> Result<Self, PgStoreError> {
        let url = database
            .database_url
            .as_ref()
            .ok_or(PgStoreError::MissingUrl)?;
        PgStoreBuilder::default()
            .prefix(format!("{}_", settings.namespace.replace(['-', '.'], "_")))
            .connect(url.expose())
            .await
    }

    /// A builder, for the schema, the prefix, timeouts or the app's own pool.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_sqlx::PgStoreError> {
    /// let store = nopassword_sqlx::PgStore::builder()
    ///     .schema("auth")
    ///     .connect("postgres://127.0.0.1/app")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> PgStoreBuilder {
        PgStoreBuilder::default()
    }

    /// The pool the store uses (the app's own, or the one it opened).
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) -> Result<(), sqlx::Error> {
    /// let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(store.pool()).await?;
    /// # Ok(()) }
    /// ```
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The quoted, schema-qualified names of the store's tables: `(codes, counters)`.
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) {
    /// assert_eq!(store.tables(), ("\"public\".\"nopassword_codes\"", "\"public\".\"nopassword_counters\""));
    /// # }
    /// ```
    pub fn tables(&self) -> (&str, &str) {
        (&self.inner.tables.codes, &self.inner.tables.counters)
    }

    /// `host:port` of the server (no credentials): for logs.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_sqlx::PgStoreError> {
    /// let store = nopassword_sqlx::PgStore::connect("postgres://app:pw@127.0.0.1:5432/app").await?;
    /// assert_eq!(store.endpoint(), "127.0.0.1:5432");
    /// # Ok(()) }
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The limit on each call.
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) {
    /// assert_eq!(store.command_timeout(), nopassword_sqlx::DEFAULT_COMMAND_TIMEOUT);
    /// # }
    /// ```
    pub fn command_timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Deletes expired rows, at most [`SWEEP_BATCHES`] batches of [`SWEEP_BATCH`] per table,
    /// and returns how many it deleted. The background task calls it every sweep interval.
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) -> Result<(), nopassword_core::StoreError> {
    /// let deleted = store.sweep().await?;
    /// # Ok(()) }
    /// ```
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        let now = self.now();
        let sql = &self.inner.tables.sql;
        let mut deleted = 0;
        for statement in [&sql.sweep_codes, &sql.sweep_counters] {
            for _ in 0..SWEEP_BATCHES {
                let statement = statement.clone();
                let rows = self
                    .call("sweep", &"", |mut conn| {
                        let query = sqlx::query(statement.clone()).bind(now).bind(SWEEP_BATCH);
                        async move {
                            query
                                .execute(&mut *conn)
                                .await
                                .map(|done| done.rows_affected())
                        }
                    })
                    .await?;
                deleted += rows;
                if rows < u64::try_from(SWEEP_BATCH).unwrap_or(u64::MAX) {
                    break;
                }
            }
        }
        if deleted > 0 {
            debug!(deleted, "expired rows swept");
        }
        Ok(deleted)
    }

    /// How many codes and counters are live now (not expired on the store's clock), as
    /// `(codes, counters)`: for a gauge of outstanding codes, or a test.
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) -> Result<(), nopassword_core::StoreError> {
    /// let (codes, counters) = store.live_rows().await?;
    /// # Ok(()) }
    /// ```
    pub async fn live_rows(&self) -> Result<(u64, u64), StoreError> {
        let now = self.now();
        let sql = self.inner.tables.sql.live_rows.clone();
        let (codes, counters) = self
            .call("live_rows", &"", |mut conn| {
                let query = sqlx::query_as::<_, (i64, i64)>(sql.clone()).bind(now);
                async move { query.fetch_one(&mut *conn).await }
            })
            .await?;
        let rows = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok((rows(codes), rows(counters)))
    }

    /// `SELECT 1` within the command timeout: a readiness check, and the store's
    /// [`CodeStore::health`].
    ///
    /// ```no_run
    /// # async fn demo(store: nopassword_sqlx::PgStore) -> Result<(), nopassword_core::StoreError> {
    /// store.ping().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call("ping", &"", |mut conn| async move {
            sqlx::query("SELECT 1").execute(&mut *conn).await.map(drop)
        })
        .await
    }

    fn now(&self) -> i64 {
        let millis = self
            .inner
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        i64::try_from(millis).unwrap_or(i64::MAX)
    }

    fn recovering(&self) -> bool {
        let broken = self.inner.broken_at.load(Ordering::Relaxed);
        broken != 0 && {
            let since_origin =
                u64::try_from(self.inner.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
            since_origin.saturating_sub(broken - 1) < millis(RECOVERY_WINDOW)
        }
    }

    fn mark_broken(&self) {
        let since_origin =
            u64::try_from(self.inner.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.inner
            .broken_at
            .store(since_origin.saturating_add(1), Ordering::Relaxed);
    }

    /// A pooled connection. Within [`RECOVERY_WINDOW`] of a broken one, each is pinged first
    /// and closed if dead, so a restarted server's stale connections fail no request.
    async fn acquire(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let pool = &self.inner.pool;
        if !self.recovering() {
            return pool.acquire().await;
        }
        loop {
            let mut conn = pool.acquire().await?;
            match conn.ping().await {
                Ok(()) => return Ok(conn),
                Err(error) => {
                    debug!(%error, "closing a dead pooled connection");
                    conn.close_on_drop();
                }
            }
        }
    }

    /// Runs one store operation under a span and the command timeout.
    async fn call<T, F, Fut>(
        &self,
        name: &'static str,
        subject: &(dyn fmt::Debug + Sync),
        op: F,
    ) -> Result<T, StoreError>
    where
        F: Fn(PoolConnection<Postgres>) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let inner = &*self.inner;
        let span = debug_span!(
            "nopassword_sqlx",
            op = name,
            prefix = inner.tables.prefix.as_str(),
            subject = ?subject,
            error = field::Empty,
        );
        let attempt = async {
            match op(self.acquire().await?).await {
                // A connection the server closed (a restart, a failover): mark the pool for
                // checking and try once more on a checked connection. The error class cannot
                // tell whether the statement ran (usually it did not: a restarted server's
                // stale connection; but a server that dies between commit and reply looks
                // the same), so every operation is written to be safe to repeat: a repeat
                // never grants more than one run would. `put`, `clear_user_failures` and a
                // right `count_user_try` are idempotent; `take`, `take_and_reset`, `approve`
                // and `use_code` end a code at most once (a repeat finds it gone or approved:
                // the login fails closed, the code is still used once); a counter counted
                // twice (`hit`, `hits`, `incr_*`, a wrong `count_user_try`, a refused
                // `use_code`) errs on the strict side; `put_counted` counts again and, over
                // the limit, withdraws the code it wrote, as the count it returns says.
                Err(error)
                    if breaks_connection(&error) && !matches!(error, sqlx::Error::PoolTimedOut) =>
                {
                    debug!(%error, "broken connection; retrying once on a checked one");
                    self.mark_broken();
                    op(self.acquire().await?).await
                }
                other => other,
            }
        };
        async {
            let error = match tokio::time::timeout(inner.timeout, attempt).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => {
                    if breaks_connection(&error) {
                        self.mark_broken();
                    }
                    store_error(error, inner.timeout)
                }
                Err(_) => {
                    self.mark_broken();
                    StoreError::Timeout(inner.timeout)
                }
            };
            tracing::Span::current().record("error", field::display(&error));
            debug!("PostgreSQL call failed");
            Err(error)
        }
        .instrument(span)
        .await
    }
}

/// Whether the error means the connection (or the server) is gone rather than the statement
/// failing.
fn breaks_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, class 08.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

fn store_error(error: sqlx::Error, limit: Duration) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut => StoreError::Timeout(limit),
        other => StoreError::Unavailable(Box::new(other)),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A window in whole milliseconds, at least 1, as a bind parameter.
fn window(duration: Duration) -> i64 {
    i64::try_from(millis(duration)).unwrap_or(i64::MAX).max(1)
}

fn count(n: i32) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl PgStore {
    /// Reads codes and their failure counts with one `SELECT ... WHERE key = ANY($1)`, in the
    /// order of `keys` (absent or expired ones as `None`).
    async fn get_many(&self, keys: &[CodeKey]) -> Result<Vec<Option<StoredCode>>, StoreError> {
        let (key_values, now): (Vec<Vec<u8>>, _) =
            (keys.iter().map(key_bytes).collect(), self.now());
        let sql = self.inner.tables.sql.get_many.clone();
        let rows = self
            .call("get_many", &keys, |mut conn| {
                let query = sqlx::query_as::<_, (Vec<u8>, Vec<u8>, i32)>(sql.clone())
                    .bind(key_values.clone())
                    .bind(now);
                async move { query.fetch_all(&mut *conn).await }
            })
            .await?;
        key_values
            .iter()
            .map(|wanted| {
                rows.iter()
                    .find(|(key, _, _)| key == wanted)
                    .map(|(_, bytes, failures)| {
                        Ok(StoredCode {
                            record: CodeRecord::decode(bytes)?,
                            failures: count(*failures),
                        })
                    })
                    .transpose()
            })
            .collect()
    }
}

fn key_bytes(key: &CodeKey) -> Vec<u8> {
    key.as_bytes().to_vec()
}

#[async_trait]
impl CodeStore for PgStore {
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let expires_at = self.now().saturating_add(window(ttl));
        let (key_value, value) = (key_bytes(key), record.encode());
        let sql = self.inner.tables.sql.put.clone();
        self.call("put", key, |mut conn| {
            let query = sqlx::query(sql.clone())
                .bind(key_value.clone())
                .bind(value.clone())
                .bind(expires_at);
            async move { query.execute(&mut *conn).await.map(drop) }
        })
        .await
    }

    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        let (key_value, now) = (key_bytes(key), self.now());
        let sql = self.inner.tables.sql.get.clone();
        let row = self
            .call("get", key, |mut conn| {
                let query = sqlx::query(sql.clone()).bind(key_value.clone()).bind(now);
                async move {
                    let row = query.fetch_optional(&mut *conn).await?;
                    row.map(|row| {
                        Ok::<_, sqlx::Error>((
                            row.try_get::<Vec<u8>, _>(0)?,
                            row.try_get::<i32, _>(1)?,
                        ))
                    })
                    .transpose()
                }
            })
            .await?;
        let Some((bytes, failures)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredCode {
            record: CodeRecord::decode(&bytes)?,
            failures: count(failures),
        }))
    }

    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        let (key_value, now) = (key_bytes(key), self.now());
        let sql = self.inner.tables.sql.take.clone();
        // One statement: PostgreSQL locks the row, the first DELETE wins, and every other
        // finds it gone once the winner commits.
        let bytes = self
            .call("take", key, |mut conn| {
                let query = sqlx::query_scalar::<_, Vec<u8>>(sql.clone())
                    .bind(key_value.clone())
                    .bind(now);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        bytes
            .map(|bytes| CodeRecord::decode(&bytes).map_err(StoreError::from))
            .transpose()
    }

    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError> {
        let (key_value, now) = (key_bytes(key), self.now());
        let sql = self.inner.tables.sql.incr_code_failures.clone();
        let n = self
            .call("incr_code_failures", key, |mut conn| {
                let query = sqlx::query_scalar::<_, i32>(sql.clone())
                    .bind(key_value.clone())
                    .bind(now);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        Ok(n.map(count))
    }

    async fn incr_user_failures(
        &self,
        user_id: &str,
        window_length: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        if cap == 0 {
            return Ok(None);
        }
        let name = format!("f:{user_id}");
        let (now, length) = (self.now(), window(window_length));
        let cap = i32::try_from(cap).unwrap_or(i32::MAX);
        let sql = self.inner.tables.sql.incr_capped.clone();
        let n = self
            .call("incr_user_failures", &user_id, |mut conn| {
                let query = sqlx::query_scalar::<_, i32>(sql.clone())
                    .bind(name.clone())
                    .bind(now)
                    .bind(length)
                    .bind(cap);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        Ok(n.map(count))
    }

    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError> {
        let (name, now) = (format!("f:{user_id}"), self.now());
        let sql = self.inner.tables.sql.read_counter.clone();
        let n = self
            .call("user_failures", &user_id, |mut conn| {
                let query = sqlx::query_scalar::<_, i32>(sql.clone())
                    .bind(name.clone())
                    .bind(now);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        Ok(n.map_or(0, count))
    }

    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError> {
        let name = format!("f:{user_id}");
        let sql = self.inner.tables.sql.clear_counter.clone();
        self.call("clear_user_failures", &user_id, |mut conn| {
            let query = sqlx::query(sql.clone()).bind(name.clone());
            async move { query.execute(&mut *conn).await.map(drop) }
        })
        .await
    }

    async fn hit(&self, bucket: &str, window_length: Duration) -> Result<u32, StoreError> {
        let name = format!("r:{bucket}");
        let (now, length) = (self.now(), window(window_length));
        let sql = self.inner.tables.sql.hit.clone();
        let n = self
            .call("hit", &bucket, |mut conn| {
                let query = sqlx::query_scalar::<_, i32>(sql.clone())
                    .bind(name.clone())
                    .bind(now)
                    .bind(length);
                async move { query.fetch_one(&mut *conn).await }
            })
            .await?;
        Ok(count(n))
    }

    /// The rate counter and every code in one statement (a CTE for the hit, then `key =
    /// ANY(...)`): a typed code's first step is one round trip, and a flow's poll (no counter)
    /// too, however many codes the flow names. A repeat after a lost reply counts the hit
    /// again (the strict side) and reads the same codes.
    async fn hit_and_get(
        &self,
        bucket: Option<(&str, Duration)>,
        keys: &[CodeKey],
    ) -> Result<(Option<u32>, Vec<Option<StoredCode>>), StoreError> {
        let Some((bucket, window_length)) = bucket else {
            return match keys {
                [] => Ok((None, Vec::new())),
                [one] => Ok((None, vec![self.get(one).await?])),
                _ => Ok((None, self.get_many(keys).await?)),
            };
        };
        if keys.is_empty() {
            return Ok((Some(self.hit(bucket, window_length).await?), Vec::new()));
        }
        let name = format!("r:{bucket}");
        let (now, length) = (self.now(), window(window_length));
        let key_values: Vec<Vec<u8>> = keys.iter().map(key_bytes).collect();
        let sql = self.inner.tables.sql.hit_and_get.clone();
        let rows = self
            .call("hit_and_get", &bucket, |mut conn| {
                let query =
                    sqlx::query_as::<_, (i32, Option<Vec<u8>>, Option<Vec<u8>>, Option<i32>)>(
                        sql.clone(),
                    )
                    .bind(name.clone())
                    .bind(now)
                    .bind(length)
                    .bind(key_values.clone());
                async move { query.fetch_all(&mut *conn).await }
            })
            .await?;
        // The hit's row is always there (the LEFT JOIN keeps it); were it missing, the
        // request fails rather than pass the rate limit uncounted.
        let hits = rows.first().map(|row| count(row.0)).ok_or_else(|| {
            StoreError::Unavailable("the rate counter's statement returned no row".into())
        })?;
        let codes = key_values
            .iter()
            .map(|wanted| {
                rows.iter()
                    .find(|(_, key, _, _)| key.as_ref() == Some(wanted))
                    .and_then(|(_, _, bytes, failures)| Some((bytes.as_ref()?, *failures)))
                    .map(|(bytes, failures)| {
                        Ok(StoredCode {
                            record: CodeRecord::decode(bytes)?,
                            failures: count(failures.unwrap_or(0)),
                        })
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((Some(hits), codes))
    }

    /// One statement (one round trip): the approved record replaces the code's, with the
    /// code's own expiry (`ttl` is not used), so a poll never finds the code missing.
    async fn approve(
        &self,
        key: &CodeKey,
        approved: &CodeRecord,
        _ttl: Duration,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let (key_value, value, now) = (key_bytes(key), approved.encode(), self.now());
        let sql = self.inner.tables.sql.approve.clone();
        let bytes = self
            .call("approve", key, |mut conn| {
                let query = sqlx::query_scalar::<_, Vec<u8>>(sql.clone())
                    .bind(key_value.clone())
                    .bind(value.clone())
                    .bind(now);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        bytes
            .map(|bytes| CodeRecord::decode(&bytes).map_err(StoreError::from))
            .transpose()
    }

    /// Every bucket in one statement (one round trip): an `INSERT ... SELECT FROM unnest(...)
    /// ON CONFLICT DO UPDATE` over the distinct buckets, sorted so that concurrent calls lock
    /// their rows in one order. A bucket named twice counts twice, each occurrence with its
    /// own count, as one [`hit`](CodeStore::hit) after the other would give (the first
    /// occurrence's window starts a new window). A repeat after a lost reply counts again
    /// (stricter, never looser).
    async fn hits(&self, buckets: &[(&str, Duration)]) -> Result<Vec<u32>, StoreError> {
        if buckets.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = buckets.iter().map(|(b, _)| format!("r:{b}")).collect();
        // Distinct names, sorted, each with the window of its first occurrence and its hits.
        let mut distinct: Vec<(String, i64, i32)> = Vec::with_capacity(names.len());
        for (name, (_, length)) in names.iter().zip(buckets) {
            match distinct.iter_mut().find(|(seen, _, _)| seen == name) {
                Some((_, _, hits)) => *hits = hits.saturating_add(1),
                None => distinct.push((name.clone(), window(*length), 1)),
            }
        }
        distinct.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<String> = distinct.iter().map(|d| d.0.clone()).collect();
        let windows: Vec<i64> = distinct.iter().map(|d| d.1).collect();
        let hits: Vec<i32> = distinct.iter().map(|d| d.2).collect();
        let now = self.now();
        let sql = self.inner.tables.sql.hits.clone();
        let rows = self
            .call("hits", &buckets, |mut conn| {
                let query = sqlx::query_as::<_, (String, i32)>(sql.clone())
                    .bind(sorted.clone())
                    .bind(now)
                    .bind(windows.clone())
                    .bind(hits.clone());
                async move { query.fetch_all(&mut *conn).await }
            })
            .await?;
        // Per distinct name, the count before this call's hits; each occurrence, in the
        // callers' order, then gets the next one.
        let mut before = Vec::with_capacity(distinct.len());
        for (name, _, hits) in &distinct {
            let (_, total) = rows.iter().find(|(row, _)| row == name).ok_or_else(|| {
                StoreError::Unavailable(format!("no count came back for {name:?}").into())
            })?;
            before.push(total - hits);
        }
        Ok(names
            .iter()
            .map(|name| {
                let i = distinct
                    .iter()
                    .position(|(d, _, _)| d == name)
                    .unwrap_or_default();
                before[i] += 1;
                count(before[i])
            })
            .collect())
    }

    /// One statement (one round trip): a CTE counts the hit, then writes the code within
    /// `limit` or deletes whatever `key` holds over it, so over the limit no code stays, and
    /// the count and the write cannot be separated by a failure between them. A repeat after
    /// a lost reply counts again: within the limit it writes the same record again (the code
    /// has not been sent yet), over it it withdraws the code, and the count it returns says
    /// so; never a code over the limit.
    async fn put_counted(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
        bucket: (&str, Duration),
        limit: u32,
    ) -> Result<u32, StoreError> {
        let name = format!("r:{}", bucket.0);
        let now = self.now();
        let (length, expires_at) = (window(bucket.1), now.saturating_add(window(ttl)));
        let (key_value, value) = (key_bytes(key), record.encode());
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let sql = self.inner.tables.sql.put_counted.clone();
        let n = self
            .call("put_counted", key, |mut conn| {
                let query = sqlx::query_scalar::<_, i32>(sql.clone())
                    .bind(name.clone())
                    .bind(now)
                    .bind(length)
                    .bind(key_value.clone())
                    .bind(value.clone())
                    .bind(expires_at)
                    .bind(limit);
                async move { query.fetch_one(&mut *conn).await }
            })
            .await?;
        Ok(count(n))
    }

    /// One statement (one round trip). A wrong try is
    /// [`incr_user_failures`](CodeStore::incr_user_failures). A right one locks the user's
    /// counter in a CTE (`FOR UPDATE`) and deletes it unless it is live and at `cap`: it
    /// never counts, so concurrent right tries cannot lock each other out the way the
    /// default's count-then-clear can, and a concurrent failure is either counted before the
    /// reset (and reset) or after it. A repeat after a lost reply resets again, or counts
    /// again (stricter).
    async fn count_user_try(
        &self,
        user_id: &str,
        window_length: Duration,
        cap: u32,
        matched: bool,
    ) -> Result<Option<u32>, StoreError> {
        if !matched || cap == 0 {
            return self.incr_user_failures(user_id, window_length, cap).await;
        }
        let (name, now) = (format!("f:{user_id}"), self.now());
        let cap = i32::try_from(cap).unwrap_or(i32::MAX);
        let sql = self.inner.tables.sql.reset_uncapped.clone();
        let reset = self
            .call("count_user_try", &user_id, |mut conn| {
                let query = sqlx::query_scalar::<_, bool>(sql.clone())
                    .bind(name.clone())
                    .bind(now)
                    .bind(cap);
                async move { query.fetch_one(&mut *conn).await }
            })
            .await?;
        Ok(reset.then_some(0))
    }

    /// One statement (one round trip): a CTE locks the live code (`FOR UPDATE`) and reads
    /// its tries; the code is deleted on a right try or a wrong one that reaches
    /// `max_attempts`, else its count goes up. Concurrent tries queue on the row lock: each
    /// sees the count its predecessor left, and once one of them ended the code the rest
    /// find it gone, so exactly one ends it (one [`CodeUse::Taken`] or
    /// [`CodeUse::Withdrawn`]) and no count passes the attempts. A repeat after a lost reply
    /// finds a taken or withdrawn code gone (the login fails closed; the code is still used
    /// once) or counts a refused try again (stricter).
    async fn use_code(
        &self,
        key: &CodeKey,
        max_attempts: u32,
        matched: bool,
    ) -> Result<CodeUse, StoreError> {
        let (key_value, now) = (key_bytes(key), self.now());
        let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        let sql = self.inner.tables.sql.use_code.clone();
        let row = self
            .call("use_code", key, |mut conn| {
                let query = sqlx::query_as::<_, (i32, Option<Vec<u8>>)>(sql.clone())
                    .bind(key_value.clone())
                    .bind(now)
                    .bind(max)
                    .bind(matched);
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        let Some((tries, record)) = row else {
            return Ok(CodeUse::Gone);
        };
        let tries = count(tries);
        // The statement's judgement, read back: it returned the record only when it took
        // the code.
        Ok(if tries > max_attempts {
            CodeUse::Withdrawn { tries }
        } else if matched {
            let bytes = record.ok_or_else(|| {
                StoreError::Unavailable("a taken code came back without its record".into())
            })?;
            CodeUse::Taken(CodeRecord::decode(&bytes)?)
        } else if tries >= max_attempts {
            CodeUse::Withdrawn { tries }
        } else {
            CodeUse::Refused { tries }
        })
    }

    /// One statement (one round trip): a CTE takes the code (as [`take`](CodeStore::take))
    /// and, only when this call took it, deletes the user's failure count. Of concurrent
    /// calls exactly one gets the record. A repeat after a lost reply finds the code gone
    /// (the login fails closed; the code is still used once).
    async fn take_and_reset(
        &self,
        key: &CodeKey,
        user_id: &str,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let (key_value, now, name) = (key_bytes(key), self.now(), format!("f:{user_id}"));
        let sql = self.inner.tables.sql.take_and_reset.clone();
        let bytes = self
            .call("take_and_reset", key, |mut conn| {
                let query = sqlx::query_scalar::<_, Vec<u8>>(sql.clone())
                    .bind(key_value.clone())
                    .bind(now)
                    .bind(name.clone());
                async move { query.fetch_optional(&mut *conn).await }
            })
            .await?;
        bytes
            .map(|bytes| CodeRecord::decode(&bytes).map_err(StoreError::from))
            .transpose()
    }

    /// [`PgStore::ping`].
    async fn health(&self) -> Result<(), StoreError> {
        self.ping().await
    }
}
