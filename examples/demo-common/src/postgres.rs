//! The demo on PostgreSQL (`database_url`): codes and counters in a [`PgStore`], users in the
//! demo's own table (created and filled from the users file) read by a [`PgDirectory`], and
//! the sessions of both demos in a table ([`SessionPg`]), so several instances on one database
//! share codes, flows, users and logins.

use std::time::Duration;

use nopassword_core::user::User;
use nopassword_sqlx::{
    PgDirectory, PgStore,
    sqlx::{self, AssertSqlSafe, PgPool},
};

use crate::{DemoError, DemoSettings, PutIf};

/// What the demo keeps in PostgreSQL.
#[derive(Debug, Clone)]
pub struct DemoPostgres {
    /// Codes and counters.
    pub store: PgStore,
    /// The demo's users table `"<prefix>users"`.
    pub users: PgDirectory,
    /// The store's pool, which the sessions use too.
    pub pool: PgPool,
    /// `namespace` with `-` and `.` made `_`, then `_`: the prefix of every demo table.
    pub prefix: String,
}

/// The demo's table prefix for `namespace`.
fn prefix(namespace: &str) -> String {
    format!("{}_", namespace.replace(['-', '.'], "_"))
}

/// Connects with `database_url`, runs the store's migrations, and creates and fills the demo's
/// users table from `users` (by id: a second instance's seeding changes nothing). `None` when
/// `database_url` is unset.
pub async fn connect_postgres(
    settings: &DemoSettings,
    users: &[User],
) -> Result<Option<DemoPostgres>, DemoError> {
    if settings.database.database_url.is_none() {
        return Ok(None);
    }
    let store = PgStore::from_settings(&settings.core, &settings.database).await?;
    let pool = store.pool().clone();
    let prefix = prefix(&settings.core.namespace);
    // The prefix passed the store's identifier check (it made its tables from it).
    let table = format!("\"{prefix}users\"");
    for statement in [
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, username text NOT NULL UNIQUE, \
             email text, phone text, active boolean NOT NULL DEFAULT true)"
        ),
        // A table made by an earlier version of the demo gains the language column.
        format!("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS locale text"),
        format!(
            "CREATE TABLE IF NOT EXISTS \"{prefix}sessions\" (id text PRIMARY KEY, \
             value text NOT NULL, expires_at timestamptz NOT NULL)"
        ),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .map_err(DemoError::Database)?;
    }
    let insert = format!(
        "INSERT INTO {table} (id, username, email, phone, active, locale) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"
    );
    for user in users {
        sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(&user.id)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.phone)
            .bind(user.active)
            .bind(
                user.locale
                    .as_ref()
                    .map(|locale| locale.as_str().to_owned()),
            )
            .execute(&pool)
            .await
            .map_err(DemoError::Database)?;
    }
    let directory = PgDirectory::builder(format!("{prefix}users"))
        .locale("locale")
        .build(pool.clone())?;
    tracing::info!(
        endpoint = store.endpoint(),
        "login codes, users and sessions live in PostgreSQL"
    );
    Ok(Some(DemoPostgres {
        store,
        users: directory,
        pool,
        prefix,
    }))
}

/// Sessions in the demo's `"<prefix>sessions"` table (id, JSON value, expiry), for both demos'
/// session stores; the same operations as [`SessionRedis`](crate::SessionRedis).
#[derive(Debug, Clone)]
pub struct SessionPg {
    pool: PgPool,
    put_new: String,
    put_always: String,
    put_existing: String,
    get: String,
    expire: String,
    delete: String,
    sweep: String,
}

fn seconds(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

impl SessionPg {
    /// The sessions of the demo on `postgres`.
    pub fn new(postgres: &DemoPostgres) -> Self {
        let table = format!("\"{}sessions\"", postgres.prefix);
        let expiry = "now() + make_interval(secs => $3)";
        Self {
            pool: postgres.pool.clone(),
            put_new: format!(
                "INSERT INTO {table} (id, value, expires_at) VALUES ($1, $2, {expiry}) \
                 ON CONFLICT (id) DO NOTHING"
            ),
            put_always: format!(
                "INSERT INTO {table} (id, value, expires_at) VALUES ($1, $2, {expiry}) \
                 ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at"
            ),
            put_existing: format!(
                "UPDATE {table} SET value = $2, expires_at = {expiry} \
                 WHERE id = $1 AND expires_at > now()"
            ),
            get: format!("SELECT value FROM {table} WHERE id = $1 AND expires_at > now()"),
            expire: format!(
                "UPDATE {table} SET expires_at = now() + make_interval(secs => $2) \
                 WHERE id = $1 AND expires_at > now()"
            ),
            delete: format!("DELETE FROM {table} WHERE id = $1"),
            sweep: format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(\
                 SELECT ctid FROM {table} WHERE expires_at <= now() LIMIT 100))"
            ),
        }
    }

    /// Stores `value` under `id` for `ttl` if `condition` holds; whether it was stored.
    /// Each write also deletes up to 100 expired sessions.
    pub async fn put(
        &self,
        id: &str,
        value: &str,
        ttl: Duration,
        condition: PutIf,
    ) -> Result<bool, sqlx::Error> {
        let sql = match condition {
            PutIf::Always => &self.put_always,
            PutIf::New => &self.put_new,
            PutIf::Exists => &self.put_existing,
        };
        let done = sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(id)
            .bind(value)
            .bind(seconds(ttl))
            .execute(&self.pool)
            .await?;
        sqlx::query(AssertSqlSafe(self.sweep.clone()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live value under `id`.
    pub async fn get(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(AssertSqlSafe(self.get.clone()))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Gives the live session `id` a new `ttl`; whether it was live.
    pub async fn expire(&self, id: &str, ttl: Duration) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(AssertSqlSafe(self.expire.clone()))
            .bind(id)
            .bind(seconds(ttl))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the session `id`.
    pub async fn delete(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(self.delete.clone()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map(drop)
    }
}

/// Where a demo's shared sessions live: Redis or PostgreSQL, with the same operations.
#[derive(Debug, Clone)]
pub enum SharedSessions {
    /// In Redis.
    Redis(crate::SessionRedis),
    /// In PostgreSQL.
    Postgres(SessionPg),
}

/// Why a shared session store failed.
#[derive(Debug, thiserror::Error)]
pub enum SharedSessionsError {
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    /// PostgreSQL failed.
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
}

impl SharedSessions {
    /// [`SessionRedis::put`](crate::SessionRedis::put) or [`SessionPg::put`].
    pub async fn put(
        &self,
        id: &str,
        value: &str,
        ttl: Duration,
        condition: PutIf,
    ) -> Result<bool, SharedSessionsError> {
        Ok(match self {
            Self::Redis(redis) => redis.put(id, value, ttl, condition).await?,
            Self::Postgres(pg) => pg.put(id, value, ttl, condition).await?,
        })
    }

    /// The live value under `id`.
    pub async fn get(&self, id: &str) -> Result<Option<String>, SharedSessionsError> {
        Ok(match self {
            Self::Redis(redis) => redis.get(id).await?,
            Self::Postgres(pg) => pg.get(id).await?,
        })
    }

    /// Gives the live session `id` a new `ttl`; whether it was live.
    pub async fn expire(&self, id: &str, ttl: Duration) -> Result<bool, SharedSessionsError> {
        Ok(match self {
            Self::Redis(redis) => redis.expire(id, ttl).await?,
            Self::Postgres(pg) => pg.expire(id, ttl).await?,
        })
    }

    /// Deletes the session `id`.
    pub async fn delete(&self, id: &str) -> Result<(), SharedSessionsError> {
        match self {
            Self::Redis(redis) => redis.delete(id).await?,
            Self::Postgres(pg) => pg.delete(id).await?,
        }
        Ok(())
    }
}
