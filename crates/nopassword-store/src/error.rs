//! `RedisStoreError`: why a store could not be built.

use std::time::Duration;

/// Why a [`RedisStore`](crate::RedisStore) could not be built or connected.
///
/// Once built, the store's calls fail with [`nopassword_core::StoreError`] instead
/// (`Unavailable` or `Timeout`), which adapters answer with 503.
///
/// No variant prints a URL: a Redis URL may carry a password. Nodes are named by their
/// position in the list and by `host:port`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use nopassword_store::{RedisStore, RedisStoreError};
///
/// let error = RedisStore::connect("http://:hunter2@example.com/", "nopassword").await.unwrap_err();
/// assert!(matches!(error, RedisStoreError::InvalidUrl { node: 0, .. }));
/// assert!(!error.to_string().contains("hunter2"));
/// assert!(!format!("{error:?}").contains("hunter2"));
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// `redis_url` is not set (the in-memory store is the one to use then).
    #[error("redis_url is not set")]
    MissingUrl,
    /// A node URL is not a `redis://` or `rediss://` URL the client can use.
    #[error("Redis URL number {} is invalid", node + 1)]
    InvalidUrl {
        /// Position of the URL in the comma-separated list, from 0.
        node: usize,
        /// What the Redis client found wrong (never the URL itself).
        #[source]
        source: redis::RedisError,
    },
    /// The namespace is empty or has characters other than ASCII letters, digits, `_`, `-`, `.`.
    #[error(
        "invalid namespace {0:?}: use a non-empty name of ASCII letters, digits, `_`, `-` and `.`"
    )]
    InvalidNamespace(String),
    /// The nodes were reached but refused the connection or the handshake (authentication,
    /// TLS, cluster discovery).
    #[error("could not connect to Redis at {endpoints}")]
    Connect {
        /// The nodes tried, as `host:port` (no credentials).
        endpoints: String,
        /// The Redis client's error.
        #[source]
        source: redis::RedisError,
    },
    /// A node is `rediss://` but the application installed no rustls crypto provider. This
    /// crate never installs the process-wide provider (that is the application's choice, made
    /// once in `main`); see the crate docs, "TLS".
    #[error(
        "rediss:// needs a rustls crypto provider: install one once at start-up, before \
         connecting, e.g. `rustls::crypto::ring::default_provider().install_default()` \
         (nopassword_store::rustls with the `ring` feature)"
    )]
    NoCryptoProvider,
    /// A node is `rediss://` but the crate was built without its `tls-rustls` feature.
    #[error("rediss:// needs nopassword-store's `tls-rustls` feature")]
    TlsDisabled,
    /// Several node URLs, or [`RedisStoreBuilder::cluster`](crate::RedisStoreBuilder::cluster),
    /// but the crate was built without its `cluster` feature.
    #[error("a Redis Cluster needs nopassword-store's `cluster` feature")]
    ClusterDisabled,
    /// Connecting took longer than the connect timeout.
    #[error("Redis at {endpoints} did not answer within {timeout:?}")]
    ConnectTimeout {
        /// The nodes tried, as `host:port` (no credentials).
        endpoints: String,
        /// The connect timeout in force.
        timeout: Duration,
    },
}
