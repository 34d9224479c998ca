//! The real services the integration suites run against, started by `cargo xtask test`.
//!
//! # The environment contract
//!
//! `cargo xtask test` starts each service on free ports on 127.0.0.1, waits until it is ready,
//! and passes these variables to every test process (nextest, `cargo test`, doctests):
//!
//! | variable | service | value |
//! |---|---|---|
//! | `NOPASSWORD_TEST_REDIS_URL` | `redis` | `redis://127.0.0.1:P/`: one empty Redis server for the whole run, no persistence |
//! | `NOPASSWORD_TEST_REDIS_SERVER_BIN` | `redis` | absolute path of `redis-server`, for fault tests that start and stop a server of their own |
//! | `NOPASSWORD_TEST_REDIS_CLI_BIN` | `redis` | absolute path of `redis-cli` |
//! | `NOPASSWORD_TEST_REDIS_CLUSTER_URLS` | `redis-cluster` | `redis://127.0.0.1:P1/,redis://127.0.0.1:P2/,redis://127.0.0.1:P3/`: three masters, no replicas, all 16384 slots assigned, `cluster_state:ok` on every node |
//! | `NOPASSWORD_TEST_REDIS_FAILOVER_URLS` | `redis-failover` | six comma-separated node URLs: three masters with one replica each (in sync), `cluster_state:ok`; for the one test that kills a master |
//! | `NOPASSWORD_TEST_REDIS_FAILOVER_NODE_TIMEOUT_MS` | `redis-failover` | that cluster's `cluster-node-timeout` in milliseconds |
//! | `NOPASSWORD_TEST_SMTP_URL` | `smtp` | `smtp://127.0.0.1:P`: plain SMTP (no TLS); AUTH PLAIN/LOGIN is offered and any credentials are accepted |
//! | `NOPASSWORD_TEST_SMTP_MAILDIR` | `smtp` | directory of accepted mail: `N.eml` is the raw DATA of message N, `N.json` its envelope `{"mail_from": "...", "rcpt_tos": ["..."]}`; the `.json` appears before the `.eml` and each file appears whole (written, then renamed). `RCPT TO` an address whose local part starts with `reject` (any case) gets `550 5.1.1 Mailbox unavailable`; a message to a local part starting with `slow` is answered after 50 ms |
//! | `NOPASSWORD_TEST_TWILIO_MOCK_URL` | `twilio-mock` | `http://127.0.0.1:P`: a Prism mock of Twilio's REST API 2010-04-01 that validates each request against the OpenAPI document (see `twilio_mock.rs` for what it refuses) |
//! | `NOPASSWORD_TEST_TWILIO_OPENAPI` | `twilio-mock` | absolute path of Twilio's `twilio_api_v2010.json` OpenAPI document the mock serves |
//! | `NOPASSWORD_TEST_WEBDRIVER_URL` | `browser` | `http://127.0.0.1:P`: chromedriver (W3C WebDriver) |
//! | `NOPASSWORD_TEST_CHROMIUM_BIN` | `browser` | absolute path of Chromium, to pass as `goog:chromeOptions.binary` |
//! | `NOPASSWORD_TEST_CHROMIUM_ARGS` | `browser` | space-separated arguments every session must pass to Chromium; add a fresh `--user-data-dir=` of your own |
//! | `NOPASSWORD_TEST_DATABASE_URL` | `postgres` | `postgres://nopassword@127.0.0.1:P/postgres`: a throwaway cluster made by `initdb` for this run (trust authentication, durability off); create your own schema or tables under unique names |
//! | `NOPASSWORD_TEST_POSTGRES_BIN_DIR` | `postgres` | absolute directory of `initdb`, `postgres`, `pg_isready` and `pgbench`, for fault tests that start and kill a server of their own |
//! | `NOPASSWORD_TEST_POSTGRES_RUN_AS` | `postgres` | the user such a server must run as (through `setpriv`) when the tests run as root, else empty |
//!
//! A service starts only when a selected workspace member's tests use it ([`Service::needed_by`],
//! kept true by a unit test that reads each member's sources for the variables above), so
//! `cargo xtask test -- -E 'package(nopassword-email)'` starts the SMTP server and nothing else.
//!
//! Rules for tests:
//!
//! - Never skip. A test that needs a service reads its variable and panics when it is absent,
//!   naming the variable and the command that sets it:
//!
//!   ```
//!   let url = std::env::var("NOPASSWORD_TEST_REDIS_URL")
//!       .expect("NOPASSWORD_TEST_REDIS_URL is not set: run the Redis suites with `cargo xtask test`");
//!   ```
//!
//! - Services are shared by every test of the run, and tests run in parallel: use unique keys
//!   and recipients per test, never `FLUSHALL`, never stop a shared server (a fault test starts
//!   its own from `NOPASSWORD_TEST_REDIS_SERVER_BIN` on a port it picked by binding port 0).
//! - Assume nothing about ports, paths or the contents left by other tests.

mod browser;
mod http;
pub(crate) mod postgres;
mod redis;
mod redis_cluster;
mod redis_failover;
mod smtp;
mod twilio_mock;

use std::{
    env,
    fs::{self, File},
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use crate::{
    cmd::Cmd,
    error::{Context, Error, Result},
    preflight::Need,
    root,
};

/// A service some test suite needs: what it needs installed, and how it starts.
pub(crate) struct Service {
    pub(crate) name: &'static str,
    /// Workspace member directories whose tests use this service: exactly the members whose
    /// sources, or the sources of a member they depend on, read one of [`Service::exports`]
    /// (checked by a test).
    pub(crate) needed_by: &'static [&'static str],
    /// The variables the service passes to the tests.
    pub(crate) exports: &'static [&'static str],
    /// What preflight must make sure is installed.
    pub(crate) needs: &'static [Need],
    /// Starts the service on free ports and returns once it is ready.
    pub(crate) start: fn() -> Result<Running>,
}

/// Every service, in start order.
pub(crate) const ALL: [&Service; 7] = [
    &redis::SERVICE,
    &redis_cluster::SERVICE,
    &redis_failover::SERVICE,
    &smtp::SERVICE,
    &twilio_mock::SERVICE,
    &browser::SERVICE,
    &postgres::SERVICE,
];

/// The services the selected packages need (every package when `selected` is `None`), among
/// the workspace members that exist today.
pub(crate) fn needed(selected: Option<&[String]>) -> Vec<&'static Service> {
    ALL.into_iter()
        .filter(|service| {
            service.needed_by.iter().any(|member| {
                root().join(member).is_dir()
                    && selected.is_none_or(|packages| {
                        packages
                            .iter()
                            .any(|package| member_package(member) == package)
                    })
            })
        })
        .collect()
}

/// The package name of a member directory: its last component (`crates/nopassword-store` is
/// `nopassword-store`), which the tidy test holds true for every member.
fn member_package(member: &str) -> &str {
    member.rsplit('/').next().unwrap_or(member)
}

/// Everything preflight must install for these services.
pub(crate) fn needs(services: &[&'static Service]) -> Vec<&'static Need> {
    services
        .iter()
        .flat_map(|service| service.needs.iter())
        .collect()
}

/// Starts each service in turn. If one fails, those already started are stopped.
pub(crate) fn start(services: &[&'static Service]) -> Result<Vec<Running>> {
    let mut running = Vec::new();
    for service in services {
        println!("starting service {}", service.name);
        let started = Instant::now();
        let service_running =
            (service.start)().context(format!("service {} did not start", service.name))?;
        // `exports` is what the needed_by test reads sources for: keep it the truth.
        if let Some((undeclared, _)) = service_running
            .env
            .iter()
            .find(|(name, _)| !service.exports.contains(name))
        {
            return Err(Error::new(format!(
                "service {} passes {undeclared}, which its `exports` does not list",
                service.name
            )));
        }
        println!(
            "service {} ready in {:.1}s",
            service.name,
            started.elapsed().as_secs_f64()
        );
        running.push(service_running);
    }
    Ok(running)
}

/// The variables the running services export to the tests.
pub(crate) fn env(running: &[Running]) -> Vec<(&'static str, String)> {
    running
        .iter()
        .flat_map(|service| service.env.iter().cloned())
        .collect()
}

/// A started service. Dropping it stops its processes and removes their directories.
pub(crate) struct Running {
    name: &'static str,
    env: Vec<(&'static str, String)>,
    processes: Vec<Process>,
}

impl Running {
    pub(crate) fn new(
        name: &'static str,
        env: Vec<(&'static str, String)>,
        processes: Vec<Process>,
    ) -> Self {
        Running {
            name,
            env,
            processes,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        println!("stopping service {}", self.name);
        self.processes.clear();
    }
}

/// Kills the service's process group and removes its directory once its stdin (a pipe held by
/// xtask alone) closes, which happens when xtask drops the [`Process`], exits, panics, or is
/// killed by Ctrl-C or `kill -9`. It sits in its own process group and ignores signals so that
/// Ctrl-C, which reaches xtask's group, cannot kill it before it has cleaned up.
const WATCHDOG: &str = r#"trap '' INT TERM HUP QUIT
read _
kill -s KILL -- "-$1" 2>/dev/null
rm -rf -- "$2""#;

/// The file a service process writes its stdout and stderr to, in its directory.
const LOG: &str = "output.log";

/// A service process, started in its own process group with its own temporary directory.
pub(crate) struct Process {
    label: String,
    dir: PathBuf,
    child: Child,
    watchdog: Child,
}

impl Process {
    /// Creates a fresh temporary directory, builds the command with it (`build` may point the
    /// service's data there), and spawns it with stdout and stderr going to `output.log` there.
    pub(crate) fn spawn(label: &str, build: impl FnOnce(&Path) -> Cmd) -> Result<Self> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = env::temp_dir().join(format!(
            "nopassword-xtask-{}-{}-{label}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).context(format!("cannot create {}", dir.display()))?;
        let cmd = build(&dir);
        println!("$ {cmd}");
        let shown = cmd.to_string();
        let spawned = Self::spawn_in(label, &dir, &shown, cmd.into_command());
        if spawned.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        spawned
    }

    fn spawn_in(label: &str, dir: &Path, shown: &str, mut command: Command) -> Result<Self> {
        let log = File::create(dir.join(LOG))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .context(format!("cannot start `{shown}`"))?;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("xtask-watchdog")
            .arg(child.id().to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        match watchdog {
            Ok(watchdog) => Ok(Process {
                label: label.to_owned(),
                dir: dir.to_owned(),
                child,
                watchdog,
            }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(Error::new(format!(
                    "cannot start the watchdog (sh): {error}"
                )))
            }
        }
    }

    /// The process's temporary directory, removed when it stops.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Calls `probe` until it succeeds. Fails as soon as the process exits, or after `timeout`,
    /// with the probe's last error and the end of the process's output.
    pub(crate) fn wait_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Result<T, String>,
    ) -> Result<T> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::new(format!(
                    "{} exited ({status}) before {what}; its output:\n{}",
                    self.label,
                    self.log_tail()
                )));
            }
            match probe() {
                Ok(value) => return Ok(value),
                Err(last) if started.elapsed() >= timeout => {
                    return Err(Error::new(format!(
                        "{}: no {what} after {}s (last check: {last}); its output:\n{}",
                        self.label,
                        timeout.as_secs(),
                        self.log_tail()
                    )));
                }
                Err(_) => thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The last lines the process printed.
    pub(crate) fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join(LOG)).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing the watchdog's stdin makes it kill the group and remove the directory.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now, chosen by the kernel.
pub(crate) fn free_port() -> Result<u16> {
    Ok(free_listener()?.local_addr()?.port())
}

fn free_listener() -> Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").context("cannot bind a free port on 127.0.0.1")
}

/// The path of a file that ships with xtask (next to its `Cargo.toml`).
pub(crate) fn xtask_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every workspace member directory, read from the root `Cargo.toml`'s `members` list.
    fn members() -> Vec<String> {
        let manifest = fs::read_to_string(root().join("Cargo.toml")).expect("root Cargo.toml");
        let list = manifest
            .split_once("members = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .expect("a members list")
            .0;
        list.lines()
            .map(str::trim)
            .filter(|line| line.starts_with('"'))
            .map(|line| line.trim_matches(|c| c == '"' || c == ',').to_owned())
            .collect()
    }

    /// The text of every `.rs` file below `dir`.
    fn sources(dir: &Path, into: &mut String) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|name| name != "target") {
                sources(&path, into);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                into.push_str(&fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }

    #[test]
    fn each_service_is_needed_by_exactly_the_members_that_read_its_variables() {
        let members = members();
        assert!(members.len() >= 8, "members: {members:?}");
        // (member, all its sources, its library's sources)
        let texts: Vec<(String, String, String)> = members
            .iter()
            .filter(|member| member.as_str() != "xtask")
            .map(|member| {
                let (mut all, mut lib) = (String::new(), String::new());
                sources(&root().join(member), &mut all);
                sources(&root().join(member).join("src"), &mut lib);
                (member.clone(), all, lib)
            })
            .collect();
        let depends_on = |member: &str, other: &str| {
            let manifest =
                fs::read_to_string(root().join(member).join("Cargo.toml")).unwrap_or_default();
            let name = member_package(other);
            manifest.lines().any(|line| {
                line.trim_start()
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(['.', ' ', '=']))
            })
        };
        for service in ALL {
            let reads = |text: &str| service.exports.iter().any(|var| text.contains(var));
            // Libraries that read a variable, directly or through a library they depend on
            // (the demos' tests run demo-common's end-to-end scenarios).
            let mut libraries: BTreeSet<&str> = texts
                .iter()
                .filter(|(_, _, lib)| reads(lib))
                .map(|(member, _, _)| member.as_str())
                .collect();
            loop {
                let more: Vec<&str> = texts
                    .iter()
                    .map(|(member, _, _)| member.as_str())
                    .filter(|member| !libraries.contains(member))
                    .filter(|member| libraries.iter().any(|lib| depends_on(member, lib)))
                    .collect();
                if more.is_empty() {
                    break;
                }
                libraries.extend(more);
            }
            let reading: BTreeSet<&str> = texts
                .iter()
                .filter(|(member, all, _)| {
                    reads(all)
                        || libraries
                            .iter()
                            .any(|lib| lib == member || depends_on(member, lib))
                })
                .map(|(member, _, _)| member.as_str())
                .collect();
            let declared: BTreeSet<&str> = service.needed_by.iter().copied().collect();
            assert_eq!(
                declared, reading,
                "service {}: needed_by must list exactly the members whose sources read {:?}",
                service.name, service.exports
            );
        }
    }

    #[test]
    fn a_member_directory_is_named_after_its_package() {
        for member in members() {
            let manifest = fs::read_to_string(root().join(&member).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{member}/Cargo.toml: {e}"));
            let name = format!("name = \"{}\"", member_package(&member));
            assert!(manifest.contains(&name), "{member}: expected `{name}`");
        }
    }

    #[test]
    fn a_selection_starts_only_what_it_needs() {
        let email = needed(Some(&["nopassword-email".to_owned()]));
        let names: Vec<&str> = email.iter().map(|service| service.name).collect();
        assert_eq!(names, ["smtp"]);
        assert!(needed(Some(&["nopassword-core".to_owned()])).is_empty());
        assert_eq!(needed(None).len(), ALL.len());
    }
}
