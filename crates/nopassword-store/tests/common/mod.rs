//! Shared helpers: the servers `cargo xtask test` starts, and servers a test starts itself.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use nopassword_core::{CodeRng, hashing::SystemRng};

/// An environment variable that `cargo xtask test` exports; panics with how to get it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: these tests need real Redis servers. Run them with \
             `cargo xtask test`, which starts the servers and exports {name} \
             (or start them yourself and export the NOPASSWORD_TEST_REDIS_* variables)"
        ),
    }
}

/// `redis://127.0.0.1:P/`: the single node of the test run.
pub fn redis_url() -> String {
    required_env("NOPASSWORD_TEST_REDIS_URL")
}

/// The comma-separated node URLs of the 3-master test cluster.
pub fn cluster_urls() -> String {
    required_env("NOPASSWORD_TEST_REDIS_CLUSTER_URLS")
}

/// A namespace no other test uses, so tests can share one server.
pub fn unique_namespace(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    SystemRng.fill_bytes(&mut bytes);
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{suffix}")
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind an ephemeral port")
}

/// A `redis-server` this test owns: started on a port, killed on drop.
pub struct OwnRedis {
    bin: String,
    port: u16,
    dir: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts `NOPASSWORD_TEST_REDIS_SERVER_BIN` on a free port, without persistence, and
    /// waits until it answers.
    pub fn start() -> Self {
        Self::start_with(|_, _| Vec::new())
    }

    /// Like [`OwnRedis::start`], with more arguments made from the port and the server's
    /// directory (later arguments override earlier ones, `--port` included).
    pub fn start_with(extra_args: impl FnOnce(u16, &Path) -> Vec<String>) -> Self {
        Self::start_on(free_port(), extra_args)
    }

    /// Like [`OwnRedis::start_with`], on `port`.
    pub fn start_on(port: u16, extra_args: impl FnOnce(u16, &Path) -> Vec<String>) -> Self {
        let bin = required_env("NOPASSWORD_TEST_REDIS_SERVER_BIN");
        let dir = std::env::temp_dir().join(format!(
            "nopassword-store-test-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the server's directory");
        let extra_args = extra_args(port, &dir);
        let mut server = Self {
            bin,
            port,
            dir,
            extra_args,
            child: None,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:P/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it was started on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its working directory, removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The running server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", self.bin));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Redis Cluster's bus listens on the client port plus this.
const BUS_OFFSET: u16 = 10_000;

/// `count` ports that were free a moment ago, each with its cluster bus port (port + 10000)
/// free as well. Every port is held until all are chosen, so they are distinct.
pub fn free_cluster_ports(count: usize) -> Vec<u16> {
    let mut held = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..200 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("its address").port();
        let Some(bus) = port.checked_add(BUS_OFFSET) else {
            continue;
        };
        if let Ok(bus_listener) = TcpListener::bind(("127.0.0.1", bus)) {
            ports.push(port);
            held.push(listener);
            held.push(bus_listener);
            if ports.len() == count {
                return ports;
            }
        }
    }
    panic!("found no {count} free ports P with P+{BUS_OFFSET} free too, in 200 tries")
}

/// A Redis Cluster this test owns: masters without replicas, each an [`OwnRedis`] with
/// `nodes-<port>.conf` in its own directory, so that a node killed and restarted (same port,
/// same directory) rejoins with its slots. Every node is killed on drop.
pub struct OwnCluster {
    nodes: Vec<OwnRedis>,
}

impl OwnCluster {
    /// Starts `masters` nodes with `cluster-node-timeout` set to `node_timeout` and then
    /// `extra_args`, joins them with `redis-cli --cluster create` (no replicas) and waits until
    /// every node reports `cluster_state:ok`.
    pub async fn start(masters: usize, node_timeout: Duration, extra_args: &[&str]) -> Self {
        let nodes: Vec<OwnRedis> = free_cluster_ports(masters)
            .into_iter()
            .map(|port| {
                OwnRedis::start_on(port, |port, _| {
                    let cluster = [
                        "--cluster-enabled".to_owned(),
                        "yes".to_owned(),
                        "--cluster-config-file".to_owned(),
                        format!("nodes-{port}.conf"),
                        "--cluster-node-timeout".to_owned(),
                        node_timeout.as_millis().to_string(),
                    ];
                    cluster
                        .into_iter()
                        .chain(extra_args.iter().map(|arg| (*arg).to_owned()))
                        .collect()
                })
            })
            .collect();
        let cli = required_env("NOPASSWORD_TEST_REDIS_CLI_BIN");
        let created = Command::new(&cli)
            .args(["--cluster", "create"])
            .args(
                nodes
                    .iter()
                    .map(|node| format!("127.0.0.1:{}", node.port())),
            )
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("run {cli}: {error}"));
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed:\n{}{}",
            String::from_utf8_lossy(&created.stdout),
            String::from_utf8_lossy(&created.stderr)
        );
        let cluster = Self { nodes };
        cluster.wait_until_ok(Duration::from_secs(30)).await;
        cluster
    }

    /// The nodes' URLs, comma-separated (what `RedisStore::connect` takes).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(OwnRedis::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node listening on `port`.
    pub fn node_mut(&mut self, port: u16) -> &mut OwnRedis {
        self.nodes
            .iter_mut()
            .find(|node| node.port() == port)
            .unwrap_or_else(|| panic!("no node of this cluster listens on {port}"))
    }

    /// Waits until every node reports `cluster_state:ok` and knows all the others.
    pub async fn wait_until_ok(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let known = format!("cluster_known_nodes:{}", self.nodes.len());
        for node in &self.nodes {
            loop {
                let info = match redis::Client::open(node.url())
                    .expect("parse the URL")
                    .get_multiplexed_async_connection()
                    .await
                {
                    Ok(mut conn) => redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query_async::<String>(&mut conn)
                        .await
                        .unwrap_or_else(|error| error.to_string()),
                    Err(error) => error.to_string(),
                };
                if info.contains("cluster_state:ok") && info.contains(&known) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} is not ok within {within:?}: {}",
                    node.port(),
                    info.replace("\r\n", " ")
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// A raw connection for looking at what the store wrote.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("parse the URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

/// Every key of one node whose name contains `namespace`.
pub async fn keys_of(
    conn: &mut redis::aio::MultiplexedConnection,
    namespace: &str,
) -> Vec<Vec<u8>> {
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("*{namespace}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}
