//! What the PostgreSQL suites share: the server `cargo xtask test` started, unique table
//! prefixes and schemas, and a private server a fault test may kill.

#![allow(dead_code, unreachable_pub)]

use std::{
    env, fs,
    net::TcpListener,
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use nopassword_core::{
    CodeRng,
    hashing::{CodeKey, SystemRng},
    store::CodeRecord,
};
use nopassword_sqlx::PgStore;

/// A random code key.
pub fn key() -> CodeKey {
    let mut bytes = [0u8; 16];
    SystemRng.fill_bytes(&mut bytes);
    CodeKey::from_bytes(bytes)
}

/// A record of `user`'s with fixed hashes and times.
pub fn record(user: &str) -> CodeRecord {
    CodeRecord {
        user_id: user.into(),
        verifier: vec![1; 16],
        code_check: vec![2; 16],
        flow: vec![3; 16],
        next: None,
        created_at: 1_767_225_600,
        expires_at: 1_767_226_500,
        device: None,
        approved: false,
    }
}

/// The shared server's URL.
pub fn database_url() -> String {
    env::var("NOPASSWORD_TEST_DATABASE_URL").expect(
        "NOPASSWORD_TEST_DATABASE_URL is not set: run the PostgreSQL suites with `cargo xtask test`",
    )
}

/// A name no other test of this run uses: `t<pid>_<n>_<tag>`.
pub fn unique(tag: &str) -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "t{}_{}_{nanos}_{tag}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on the shared server with tables of its own (a unique prefix), no background sweep.
pub async fn store(tag: &str) -> PgStore {
    PgStore::builder()
        .prefix(format!("{}_", unique(tag)))
        .sweep_interval(None)
        .connect(&database_url())
        .await
        .expect("connect to NOPASSWORD_TEST_DATABASE_URL")
}

/// A PostgreSQL server of the test's own, in a temporary directory, that it may kill and
/// restart (the shared one is never stopped). Made from `NOPASSWORD_TEST_POSTGRES_BIN_DIR`,
/// run as `NOPASSWORD_TEST_POSTGRES_RUN_AS` when that is set (the tests run as root).
pub struct PrivateServer {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    server: Option<Child>,
}

fn id(flag: &str, user: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, user])
        .output()
        .expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no user {user}"))
}

impl PrivateServer {
    /// `initdb`s a cluster and starts it on a free port.
    pub fn start() -> Self {
        let bin = PathBuf::from(env::var("NOPASSWORD_TEST_POSTGRES_BIN_DIR").expect(
            "NOPASSWORD_TEST_POSTGRES_BIN_DIR is not set: run the PostgreSQL suites with `cargo xtask test`",
        ));
        let run_as = env::var("NOPASSWORD_TEST_POSTGRES_RUN_AS")
            .expect("NOPASSWORD_TEST_POSTGRES_RUN_AS is not set: run with `cargo xtask test`");
        let run_as = (!run_as.is_empty()).then(|| (id("-u", &run_as), id("-g", &run_as)));
        let dir = env::temp_dir().join(unique("pg"));
        fs::create_dir_all(&dir).expect("a temporary directory");
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            port,
            dir,
            bin,
            run_as,
            server: None,
        };
        let initdb = server
            .command("initdb")
            .args([
                "-U",
                "nopassword",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
                "-D",
            ])
            .arg(server.dir.join("data"))
            .output()
            .expect("run initdb");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        server.restart();
        server
    }

    fn command(&self, program: &str) -> Command {
        let mut command = match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(self.bin.join(program));
                c
            }
            None => Command::new(self.bin.join(program)),
        };
        command.current_dir(&self.dir);
        command
    }

    /// `postgres://nopassword@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://nopassword@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again) on the same port and data, and waits until it answers. Right
    /// after a kill the old backends may still hold the shared memory for a moment, and the
    /// new server then exits at once: it is started again until it stays.
    pub fn restart(&mut self) {
        assert!(self.server.is_none(), "the server is running");
        let log_path = self.dir.join(format!("server-{}.log", self.port));
        let started = Instant::now();
        let mut child = self.spawn_server(&log_path);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the private server does not start: {}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
                thread::sleep(Duration::from_millis(100));
                child = self.spawn_server(&log_path);
                continue;
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                self.server = Some(child);
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the private server did not start: {}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn spawn_server(&self, log_path: &std::path::Path) -> Child {
        let log = fs::File::create(log_path).expect("a log file");
        self.command("postgres")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-k",
            ])
            .arg(&self.dir)
            .args(["-c", "fsync=off", "-c", "max_connections=50"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start postgres")
    }

    /// `kill -KILL` of the server and every backend: what a crash or an OOM kill does.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            // Wait for the backends to be gone too, so a restart finds the shared memory free.
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5)
                && Command::new("kill")
                    .args(["-0", "--", &format!("-{}", child.id())])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            {
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
