//! PostgreSQL for nopassword-rs, on sqlx: [`PgStore`] keeps the login codes and the abuse
//! counters, [`PgDirectory`] finds users in the app's own users table.
//!
//! For apps that already keep their users in PostgreSQL and run no Redis: several instances
//! on one database share outstanding codes, flows and counters, and a code issued by one
//! instance logs in on another, exactly once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nopassword_core::{NoPassword, Settings, settings::Config};
//! use nopassword_sqlx::{DatabaseSettings, PgDirectory, PgStore};
//!
//! // NOPASSWORD_DATABASE_URL=postgres://app:secret@127.0.0.1:5432/app
//! let mut config = Config::load();
//! let settings: Settings = config.section()?;
//! let database: DatabaseSettings = config.section()?;
//! config.finish()?;
//! let store = PgStore::from_settings(&settings, &database).await?;
//! // The app's table "users" (id, username, email, phone, active), on the store's pool.
//! let users = PgDirectory::builder("users").build(store.pool().clone())?;
//! let service = NoPassword::builder(settings, users).store(store).build()?;
//! # Ok(()) }
//! ```
//!
//! # Tables
//!
//! The store's embedded migrations create two tables under its schema (default `public`)
//! with its prefix (default `nopassword_`, from [`PgStore::from_settings`] core's
//! `namespace` and `_`), and record what they ran in `<prefix>migrations`:
//!
//! | table | row | expiry |
//! |---|---|---|
//! | `<prefix>codes` | `key` (16 bytes of the link secret's HMAC), `record` (core's encoded `CodeRecord`: user id, verifier, keyed hashes of the typed code and of the flow, `next`, times), `failures`, `expires_at` | `login_code_timeout` |
//! | `<prefix>counters` | `name` (`f:<user id>` or `r:<keyed-hash bucket>`), `count`, `expires_at` | the lockout or rate window |
//!
//! No row holds a code, a flow id, an e-mail address or a phone number. The SQL is in
//! `docs/guide/postgres.md`, for apps that create the tables with their own migrations
//! ([`PgStoreBuilder::migrate`]). Schema, prefix, table and column names are checked (plain
//! identifiers only, [`PgStoreError::InvalidIdentifier`] otherwise) and quoted: no setting can
//! inject SQL.
//!
//! # Atomicity and expiry
//!
//! `take` is one `DELETE ... WHERE key = $1 AND expires_at > $2 RETURNING record`: of any
//! number of concurrent takes, on any number of instances, exactly one gets the record. The
//! counters are single `INSERT ... ON CONFLICT DO UPDATE` statements (one row lock), so N
//! concurrent failures count N times and never pass the cap. The combined operations of
//! [`CodeStore`](nopassword_core::CodeStore) are one statement each too, never a sequence:
//! `hits` counts every bucket in one multi-row upsert; `put_counted` counts and writes the
//! code (or, over the limit, leaves none) in one CTE; `use_code` locks the code's row in a
//! CTE (`FOR UPDATE`), counts the try and takes or withdraws the code, so of concurrent
//! tries exactly one ends it and none passes the attempts; `count_user_try` resets a right
//! try's user under the same row lock, unless locked out; `take_and_reset` takes the code
//! and resets its user's failures only when it took it; `approve` swaps the record under
//! the lock. Every statement compares
//! `expires_at` with the store's clock, so an expired row is never read; a background task
//! deletes expired rows every minute in bounded batches ([`PgStore::sweep`]), so the tables
//! stay as large as the live codes.
//!
//! # Outages
//!
//! Every call is bounded by the command timeout (default 500 ms, waiting for a pooled
//! connection included): while PostgreSQL is down calls fail with
//! [`StoreError::Timeout`](nopassword_core::StoreError::Timeout) or
//! [`StoreError::Unavailable`](nopassword_core::StoreError::Unavailable), which the web
//! adapters answer with 503. After a broken connection the store pings each pooled connection
//! before use for 30 seconds, so a restarted server's stale connections are replaced rather
//! than failing requests: the store works again as soon as the database is back.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls-rustls` | yes | `sslmode=require` and stronger through rustls with ring and Mozilla's roots |

#![cfg_attr(docsrs, feature(doc_cfg))]

mod directory;
mod error;
mod schema;
mod settings;
mod store;

pub use directory::{PgDirectory, PgDirectoryBuilder};
pub use error::PgStoreError;
pub use settings::DatabaseSettings;
pub use store::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SWEEP_INTERVAL, PgStore,
    PgStoreBuilder, SWEEP_BATCH, SWEEP_BATCHES,
};

/// The sqlx this crate uses, for building a [`sqlx::PgPool`] of the same version.
///
/// ```no_run
/// # async fn demo() -> Result<(), nopassword_sqlx::sqlx::Error> {
/// let pool = nopassword_sqlx::sqlx::PgPool::connect("postgres://127.0.0.1/app").await?;
/// # Ok(()) }
/// ```
pub use sqlx;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
