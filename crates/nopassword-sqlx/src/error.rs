//! `PgStoreError`: why a store or a directory could not be built.

use std::time::Duration;

/// Why a [`PgStore`](crate::PgStore) or [`PgDirectory`](crate::PgDirectory) could not be built.
///
/// Once built, the store's calls fail with [`nopassword_core::StoreError`] instead
/// (`Unavailable` or `Timeout`), which the web adapters answer with 503.
///
/// No variant prints the database URL: it may carry a password.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use nopassword_sqlx::{PgStore, PgStoreError};
///
/// let error = PgStore::builder().schema("auth; DROP TABLE users").connect("postgres://localhost/app").await.unwrap_err();
/// assert!(matches!(error, PgStoreError::InvalidIdentifier { what: "schema", .. }));
///
/// let error = PgStore::connect("mysql://app:hunter2@localhost/app").await.unwrap_err();
/// assert!(matches!(error, PgStoreError::InvalidUrl(_)));
/// assert!(!format!("{error} {error:?}").contains("hunter2"));
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// `database_url` is not set (the in-memory store is the one to use then).
    #[error("database_url is not set")]
    MissingUrl,
    /// The URL is not a `postgres://` (or `postgresql://`) URL the driver can use.
    #[error("the database URL is invalid: {0}")]
    InvalidUrl(String),
    /// A schema, prefix, table or column name that is not a plain identifier: 1 to 63 ASCII
    /// letters, digits, `_` and `$`, not starting with a digit or `$` (a table may be
    /// `schema.table`). Names are refused, never escaped, so no setting can inject SQL.
    #[error(
        "invalid {what} name {name:?}: use 1 to 63 ASCII letters, digits, `_` and `$`, starting with a letter or `_`"
    )]
    InvalidIdentifier {
        /// What the name is for (`"schema"`, `"table prefix"`, `"table"`, `"column"`).
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// The server was reached but refused the connection (authentication, TLS, no such
    /// database), or could not be reached at all.
    #[error("could not connect to PostgreSQL at {endpoint}")]
    Connect {
        /// `host:port` (no credentials).
        endpoint: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Connecting took longer than the connect timeout.
    #[error("PostgreSQL at {endpoint} did not answer within {timeout:?}")]
    ConnectTimeout {
        /// `host:port` (no credentials).
        endpoint: String,
        /// The connect timeout in force.
        timeout: Duration,
    },
    /// The store's migrations failed (no right to create the schema or tables, or tables of
    /// another shape under the same names).
    #[error("the nopassword-sqlx migrations failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}
