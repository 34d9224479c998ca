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
        let bin = required_env("NOPASSWORD_TEST_REDIS_SERVER_BIN");
        let port = free_port();
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
