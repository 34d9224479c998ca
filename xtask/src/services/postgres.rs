//! `postgres`: a throwaway PostgreSQL cluster, made by `initdb` in a temporary directory and
//! served on a free port. Never the machine's own server.
//!
//! PostgreSQL refuses to run as root, so when xtask runs as root the cluster is created and
//! served by an unprivileged user through `setpriv` (util-linux): the `postgres` user that
//! Debian's package creates, else `nobody`. The temporary directory is given to that user;
//! xtask's watchdog, which runs as the invoking user, kills the server and removes it.

use std::{
    fs,
    os::unix::fs::{PermissionsExt, chown},
    path::{Path, PathBuf},
    time::Duration,
};

use super::{Process, Running, Service, free_port};
use crate::{
    cmd::Cmd,
    error::{Context, Error, Result},
    preflight::Need,
};

pub(crate) const SERVICE: Service = Service {
    name: "postgres",
    needed_by: &[
        "crates/nopassword-sqlx",
        "crates/nopassword-axum",
        "crates/nopassword-actix",
        "examples/axum-demo",
        "examples/actix-demo",
        "examples/demo-common",
    ],
    exports: &[
        "NOPASSWORD_TEST_DATABASE_URL",
        "NOPASSWORD_TEST_POSTGRES_BIN_DIR",
        "NOPASSWORD_TEST_POSTGRES_RUN_AS",
    ],
    needs: &[INITDB, SETPRIV],
    start,
};

/// `initdb` on `PATH`, else in Debian's versioned directory (Debian's `postgresql` package puts
/// the server programs in `/usr/lib/postgresql/<major>/bin`, off `PATH`). An absolute name is
/// looked up as it is (`PATH`'s directory joined with an absolute path is that path). The
/// other programs (`postgres`, `pg_isready`, `pgbench`) are taken from the same directory.
pub(super) const INITDB: Need = Need::Program {
    names: &[
        "initdb",
        "/usr/lib/postgresql/18/bin/initdb",
        "/usr/lib/postgresql/17/bin/initdb",
        "/usr/lib/postgresql/16/bin/initdb",
        "/usr/lib/postgresql/15/bin/initdb",
        "/usr/lib/postgresql/14/bin/initdb",
        "/usr/lib/postgresql/13/bin/initdb",
    ],
    apt: "postgresql",
};

/// Drops root to the server's user.
const SETPRIV: Need = Need::Program {
    names: &["setpriv"],
    apt: "util-linux",
};

/// The role the tests connect as (trust authentication on the loopback, throwaway cluster).
const ROLE: &str = "nopassword";

/// The directory of the server programs: that of `initdb`, symbolic links resolved.
pub(crate) fn bin_dir() -> Result<PathBuf> {
    let initdb = INITDB.path()?;
    let real = fs::canonicalize(&initdb).context(format!("cannot resolve {}", initdb.display()))?;
    real.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::new(format!("{} has no directory", real.display())))
}

/// The user the server runs as: `None` to run as ourselves (not root), else a user name.
pub(crate) fn run_as() -> Result<Option<&'static str>> {
    let root = Cmd::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|uid| uid.trim() == "0");
    if !root {
        return Ok(None);
    }
    for user in ["postgres", "nobody"] {
        if Cmd::new("id").args(["-u", user]).probe() {
            return Ok(Some(user));
        }
    }
    Err(Error::new(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as; create one: useradd --system postgres",
    ))
}

/// `(uid, gid)` of `user`.
fn ids(user: &str) -> Result<(u32, u32)> {
    let number = |flag: &str| -> Result<u32> {
        let text = Cmd::new("id").args([flag, user]).read()?;
        text.trim()
            .parse()
            .map_err(|_| Error::new(format!("`id {flag} {user}` answered {text:?}")))
    };
    Ok((number("-u")?, number("-g")?))
}

fn start() -> Result<Running> {
    let port = free_port()?;
    let server = start_cluster(port)?;
    Ok(Running::new(
        "postgres",
        vec![
            ("NOPASSWORD_TEST_DATABASE_URL", url(port)),
            (
                "NOPASSWORD_TEST_POSTGRES_BIN_DIR",
                bin_dir()?.display().to_string(),
            ),
            (
                "NOPASSWORD_TEST_POSTGRES_RUN_AS",
                run_as()?.unwrap_or("").to_owned(),
            ),
        ],
        vec![server],
    ))
}

/// The URL of the cluster on `port`: the `postgres` database, as [`ROLE`].
pub(crate) fn url(port: u16) -> String {
    format!("postgres://{ROLE}@127.0.0.1:{port}/postgres")
}

/// Creates a cluster in a fresh temporary directory and serves it on `port` (127.0.0.1 and a
/// unix socket in that directory), and waits until it accepts connections.
///
/// Durability is off (`fsync`, `synchronous_commit`, `full_page_writes`): the data is thrown
/// away, and the benchmark compares the store with `pgbench` on this same server.
pub(crate) fn start_cluster(port: u16) -> Result<Process> {
    let bin = bin_dir()?;
    let user = run_as()?;
    let owner = user.map(ids).transpose()?;
    let script = format!(
        r#"set -e
cd "$1"
"{bin}/initdb" -D "$1/data" -U {ROLE} -A trust -E UTF8 --locale=C -N >"$1/initdb.log" 2>&1 || {{ cat "$1/initdb.log"; exit 1; }}
exec "{bin}/postgres" -D "$1/data" -p {port} -c listen_addresses=127.0.0.1 -k "$1" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=500 -c shared_buffers=64MB -c log_min_messages=warning"#,
        bin = bin.display()
    );
    let mut server = Process::spawn(&format!("postgres-{port}"), |dir| {
        // The server's user must own its directory (initdb insists on 0700 for the data).
        if let Some((uid, gid)) = owner {
            let _ = chown(dir, Some(uid), Some(gid));
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
        let shell = match owner {
            Some((uid, gid)) => Cmd::new("setpriv")
                .arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg("sh"),
            None => Cmd::new("sh"),
        };
        shell
            .arg("-c")
            .arg(&script)
            .arg("postgres-cluster")
            .arg(dir)
    })?;
    let isready = bin.join("pg_isready");
    server.wait_until("connections", Duration::from_secs(60), || {
        let ready = std::process::Command::new(&isready)
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", ROLE])
            .args(["-d", "postgres"])
            .status()
            .map_err(|error| format!("cannot run {}: {error}", isready.display()))?;
        if ready.success() {
            Ok(())
        } else {
            Err(format!("pg_isready: {ready}"))
        }
    })?;
    Ok(server)
}
