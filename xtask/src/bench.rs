//! `cargo xtask bench`: the benchmarks.
//!
//! The criterion benches and load runs of the member crates (`cargo bench --workspace`), with
//! a Redis server and a 3-master Redis Cluster started for them (see [`crate::services`]): the
//! store's throughput bench runs beside `redis-benchmark` on the server, and the demos' load
//! benches go on from the in-memory store to Redis codes and Redis sessions on the server and
//! on the cluster, each beside `redis-benchmark` on the same Redis in the same run.
//! nopassword-sqlx's bench compares `PgStore` with `pgbench` on a throwaway PostgreSQL.

use crate::{cmd::Cmd, error::Result, preflight, services};

/// The services the benches use: Redis and the cluster for the store and the demos' Redis
/// runs, PostgreSQL for nopassword-sqlx's bench beside pgbench.
const SERVICES: [&str; 3] = ["redis", "redis-cluster", "postgres"];

pub(crate) fn run(extra: &[String]) -> Result<()> {
    let wanted: Vec<_> = services::ALL
        .into_iter()
        .filter(|service| SERVICES.contains(&service.name))
        .collect();
    preflight::ensure(&services::needs(&wanted))?;
    let running = services::start(&wanted)?;
    // `-p` names packages itself (`cargo xtask bench -- -p axum-demo --bench load`); cargo
    // ignores it beside `--workspace`.
    let names_packages = extra
        .iter()
        .any(|arg| arg.starts_with("-p") || arg.starts_with("--package"));
    let result = Cmd::new("cargo")
        .envs(services::env(&running))
        .arg("bench")
        .args(if names_packages {
            &[][..]
        } else {
            &["--workspace"][..]
        })
        .args(extra)
        .run();
    drop(running);
    result
}
