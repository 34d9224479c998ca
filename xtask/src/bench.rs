//! `cargo xtask bench`: the benchmarks.
//!
//! Today: the criterion benches of the member crates. Load runs against real services (a
//! login storm through the web adapters, Redis and Redis Cluster under contention) belong
//! here too, as further steps after `cargo bench`, using [`crate::services`] to start what
//! they drive.

use crate::{cmd::Cmd, error::Result, preflight, services};

pub(crate) fn run(extra: &[String]) -> Result<()> {
    // nopassword-sqlx's bench compares PgStore with pgbench on a throwaway PostgreSQL.
    let postgres = [&services::postgres::SERVICE];
    preflight::ensure(&services::needs(&postgres))?;
    let running = services::start(&postgres)?;
    // `-p` names packages itself; cargo ignores it beside `--workspace`.
    let packages = extra
        .iter()
        .any(|arg| arg.starts_with("-p") || arg.starts_with("--package"));
    let result = Cmd::new("cargo")
        .envs(services::env(&running))
        .arg("bench")
        .args(if packages {
            &[][..]
        } else {
            &["--workspace"][..]
        })
        .args(extra)
        .run();
    drop(running);
    result
}
