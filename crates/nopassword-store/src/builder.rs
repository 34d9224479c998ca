//! `RedisStoreBuilder`: URLs, namespace, timeouts, and connecting.

use std::{fmt, time::Duration};

use nopassword_core::{Settings, secret::SecretString};
#[cfg(feature = "tls-rustls")]
use redis::TlsCertificates;
#[cfg(feature = "cluster")]
use redis::cluster::ClusterClient;
use redis::{
    ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use tracing::{debug, info};

use crate::{Connection, RedisSettings, RedisStore, RedisStoreError, keys::valid_namespace};

/// Default limit for establishing a connection (TCP, TLS, AUTH, cluster discovery).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default limit for each store call, retries and reconnection included.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// Configures and connects a [`RedisStore`].
///
/// ```no_run
/// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
/// use std::time::Duration;
/// use nopassword_store::RedisStore;
///
/// let store = RedisStore::builder("rediss://:password@redis.internal:6380/")
///     .namespace("shop")
///     .connect_timeout(Duration::from_secs(2))
///     .command_timeout(Duration::from_millis(250))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStoreBuilder {
    urls: SecretString,
    namespace: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    cluster: bool,
    root_certificates: Option<Vec<u8>>,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("urls", &self.urls)
            .field("namespace", &self.namespace)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("cluster", &self.cluster)
            .field("root_certificates", &self.root_certificates.is_some())
            .finish()
    }
}

impl RedisStoreBuilder {
    /// A builder for `urls`: one `redis://` or `rediss://` URL for a single node, or several
    /// comma-separated node URLs for a Redis Cluster. The namespace defaults to `"nopassword"`.
    ///
    /// ```
    /// use nopassword_store::RedisStoreBuilder;
    ///
    /// let builder = RedisStoreBuilder::new("redis://:secret@127.0.0.1:6379/");
    /// assert!(!format!("{builder:?}").contains("secret"));
    /// ```
    pub fn new(urls: impl Into<SecretString>) -> Self {
        Self {
            urls: urls.into(),
            namespace: "nopassword".to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            cluster: false,
            root_certificates: None,
        }
    }

    /// A builder from the settings: [`RedisSettings`]' `redis_url`, and core's `namespace`.
    ///
    /// ```
    /// use nopassword_core::Settings;
    /// use nopassword_store::{RedisSettings, RedisStoreBuilder, RedisStoreError};
    ///
    /// let unset = RedisStoreBuilder::from_settings(&Settings::default(), &RedisSettings::default());
    /// assert!(matches!(unset, Err(RedisStoreError::MissingUrl)));
    ///
    /// let redis = RedisSettings { redis_url: Some("redis://127.0.0.1:6379/".into()) };
    /// assert!(RedisStoreBuilder::from_settings(&Settings::default(), &redis).is_ok());
    /// ```
    pub fn from_settings(
        settings: &Settings,
        redis: &RedisSettings,
    ) -> Result<Self, RedisStoreError> {
        let urls = redis
            .redis_url
            .clone()
            .filter(|url| !url.expose().trim().is_empty())
            .ok_or(RedisStoreError::MissingUrl)?;
        Ok(Self::new(urls).namespace(settings.namespace.clone()))
    }

    /// The installation's name, the prefix of every key (see the [crate docs](crate#key-layout)).
    ///
    /// ```
    /// let builder = nopassword_store::RedisStoreBuilder::new("redis://127.0.0.1/").namespace("shop");
    /// ```
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Limit for establishing a connection, at start-up and on each reconnection attempt.
    /// Default 1 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = nopassword_store::RedisStoreBuilder::new("redis://127.0.0.1/")
    ///     .connect_timeout(Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for each store call, including waiting for a reconnection and any retry: past
    /// it the call fails with `StoreError::Timeout`. Default 500 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = nopassword_store::RedisStoreBuilder::new("redis://127.0.0.1/")
    ///     .command_timeout(Duration::from_millis(200));
    /// ```
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Treats a single URL as a seed node of a Redis Cluster (several URLs always mean a
    /// cluster). Needs the `cluster` feature (a default): without it `connect` fails with
    /// [`RedisStoreError::ClusterDisabled`].
    ///
    /// ```
    /// let builder = nopassword_store::RedisStoreBuilder::new("redis://10.0.0.5:7000/").cluster(true);
    /// ```
    pub fn cluster(mut self, cluster: bool) -> Self {
        self.cluster = cluster;
        self
    }

    /// Trusts the CA certificates in `pem` (PEM, one or more) for `rediss://` instead of the
    /// system's roots: for a Redis whose certificate comes from a private CA.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let ca = std::fs::read("/etc/redis/tls/ca.crt")?;
    /// let store = nopassword_store::RedisStore::builder("rediss://:password@redis.internal:6380/")
    ///     .tls_root_certificates(ca)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(pem.into());
        self
    }

    /// Checks the settings and connects: the store is returned once Redis answered (a single
    /// node) or the cluster's slot map was read.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nopassword_store::RedisStoreError> {
    /// let store = nopassword_store::RedisStoreBuilder::new(
    ///     "redis://10.0.0.1:7000/,redis://10.0.0.2:7000/,redis://10.0.0.3:7000/",
    /// )
    /// .connect()
    /// .await?;
    /// assert!(store.is_cluster());
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> Result<RedisStore, RedisStoreError> {
        if !valid_namespace(&self.namespace) {
            return Err(RedisStoreError::InvalidNamespace(self.namespace));
        }
        let nodes = parse_nodes(self.urls.expose())?;
        let endpoints = nodes
            .iter()
            .map(|node| node.addr().to_string())
            .collect::<Vec<_>>()
            .join(",");
        if nodes
            .iter()
            .any(|node| matches!(node.addr(), ConnectionAddr::TcpTls { .. }))
        {
            check_tls()?;
        }
        let cluster = self.cluster || nodes.len() > 1;
        if cluster && !cfg!(feature = "cluster") {
            return Err(RedisStoreError::ClusterDisabled);
        }
        debug!(%endpoints, cluster, namespace = %self.namespace, "connecting to Redis");
        #[cfg(feature = "tls-rustls")]
        let certificates = self.root_certificates.map(|pem| TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        });
        // Without TLS no node is `rediss://` (`check_tls` refused it): nothing to verify.
        #[cfg(not(feature = "tls-rustls"))]
        let certificates: Option<TlsCertificates> = None;
        let (connect_timeout, command_timeout) = (self.connect_timeout, self.command_timeout);
        let connecting = async {
            #[cfg(feature = "cluster")]
            if cluster {
                return connect_cluster(nodes, certificates, connect_timeout, command_timeout)
                    .await;
            }
            let node = nodes
                .into_iter()
                .next()
                .ok_or(RedisStoreError::MissingUrl)?;
            connect_single(node, certificates, connect_timeout, command_timeout).await
        };
        let conn = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(RedisStoreError::Connect { source, .. })) => {
                return Err(RedisStoreError::Connect { endpoints, source });
            }
            Ok(Err(other)) => return Err(other),
            Err(_) => {
                return Err(RedisStoreError::ConnectTimeout {
                    endpoints,
                    timeout: self.connect_timeout,
                });
            }
        };
        info!(%endpoints, cluster, namespace = %self.namespace, "connected to Redis");
        Ok(RedisStore::new(
            conn,
            &self.namespace,
            endpoints,
            self.command_timeout,
        ))
    }
}

/// Built without TLS there are never root certificates to pass on.
#[cfg(not(feature = "tls-rustls"))]
type TlsCertificates = std::convert::Infallible;

/// Whether a `rediss://` node can be reached: the crate was built with `tls-rustls`, and the
/// application installed rustls's process-wide crypto provider.
///
/// The Redis client builds its rustls configuration from that process default. Were none
/// installed, rustls would either install one itself (when exactly one provider is compiled
/// in), after which the application's own `install_default` fails, or panic. So the store
/// installs none and asks the application for one instead (see the crate docs, "TLS").
fn check_tls() -> Result<(), RedisStoreError> {
    #[cfg(feature = "tls-rustls")]
    {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(RedisStoreError::NoCryptoProvider);
        }
        Ok(())
    }
    #[cfg(not(feature = "tls-rustls"))]
    Err(RedisStoreError::TlsDisabled)
}

/// Splits a comma-separated list of node URLs and parses each.
fn parse_nodes(urls: &str) -> Result<Vec<ConnectionInfo>, RedisStoreError> {
    let urls: Vec<&str> = urls.split(',').map(str::trim).collect();
    if urls.iter().all(|url| url.is_empty()) {
        return Err(RedisStoreError::MissingUrl);
    }
    urls.into_iter()
        .enumerate()
        .map(|(node, url)| {
            // Without TLS the client cannot even parse `rediss://`: say which feature is missing.
            if !cfg!(feature = "tls-rustls")
                && url
                    .get(..7)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss:"))
            {
                return Err(RedisStoreError::TlsDisabled);
            }
            url.into_connection_info()
                .map_err(|source| RedisStoreError::InvalidUrl { node, source })
        })
        .collect()
}

async fn connect_single(
    node: ConnectionInfo,
    certificates: Option<TlsCertificates>,
    connect_timeout: Duration,
    command_timeout: Duration,
) -> Result<Connection, RedisStoreError> {
    let client = match certificates {
        #[cfg(feature = "tls-rustls")]
        Some(certificates) => redis::Client::build_with_tls(node, certificates),
        _ => redis::Client::open(node),
    }
    .map_err(|source| RedisStoreError::InvalidUrl { node: 0, source })?;
    // Few, short reconnection retries: a call waits for at most one reconnection and is bounded
    // by the command timeout anyway; the next call starts a fresh attempt.
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(command_timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(20))
        .set_max_delay(Duration::from_millis(200));
    let manager = ConnectionManager::new_with_config(client, config)
        .await
        .map_err(connect_error)?;
    Ok(Connection::Single(manager))
}

#[cfg(feature = "cluster")]
async fn connect_cluster(
    nodes: Vec<ConnectionInfo>,
    certificates: Option<TlsCertificates>,
    connect_timeout: Duration,
    command_timeout: Duration,
) -> Result<Connection, RedisStoreError> {
    let builder = ClusterClient::builder(nodes)
        .connection_timeout(connect_timeout)
        .response_timeout(command_timeout)
        .retries(2)
        .min_retry_wait(10)
        .max_retry_wait(200);
    #[cfg(feature = "tls-rustls")]
    let builder = match certificates {
        Some(certificates) => builder.certs(certificates),
        None => builder,
    };
    #[cfg(not(feature = "tls-rustls"))]
    let _ = certificates;
    let client = builder
        .build()
        .map_err(|source| RedisStoreError::InvalidUrl { node: 0, source })?;
    let conn = client.get_async_connection().await.map_err(connect_error)?;
    Ok(Connection::Cluster(conn))
}

fn connect_error(source: redis::RedisError) -> RedisStoreError {
    RedisStoreError::Connect {
        endpoints: String::new(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lists() {
        assert_eq!(
            parse_nodes("redis://127.0.0.1:6379/").expect("one").len(),
            1
        );
        let three =
            parse_nodes(" redis://a:7000/ , redis://b:7001/,redis://c:7002/ ").expect("three");
        let addrs: Vec<String> = three.iter().map(|n| n.addr().to_string()).collect();
        assert_eq!(addrs, ["a:7000", "b:7001", "c:7002"]);
        assert!(matches!(parse_nodes(""), Err(RedisStoreError::MissingUrl)));
        assert!(matches!(
            parse_nodes(" , "),
            Err(RedisStoreError::MissingUrl)
        ));
        assert!(matches!(
            parse_nodes("redis://a:1/,nonsense"),
            Err(RedisStoreError::InvalidUrl { node: 1, .. })
        ));
    }

    #[test]
    fn rediss_urls_parse_with_tls() {
        let nodes = parse_nodes("rediss://:pw@cache.example.com:6380/").expect("parses");
        assert!(matches!(nodes[0].addr(), ConnectionAddr::TcpTls { .. }));
        assert_eq!(nodes[0].addr().to_string(), "cache.example.com:6380");
    }

    #[tokio::test]
    async fn invalid_namespaces_are_refused_before_connecting() {
        let error = RedisStoreBuilder::new("redis://127.0.0.1:1/")
            .namespace("a{b}")
            .connect()
            .await
            .expect_err("refused");
        assert!(matches!(error, RedisStoreError::InvalidNamespace(_)));
    }

    #[tokio::test]
    async fn connect_errors_name_no_password() {
        // Port 1 on localhost refuses at once.
        let error = RedisStoreBuilder::new("redis://:hunter2@127.0.0.1:1/")
            .connect()
            .await
            .expect_err("nothing listens on port 1");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
    }
}
