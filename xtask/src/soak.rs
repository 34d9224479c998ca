//! `cargo xtask soak [-- --duration SECS] [--rate N]`: the soak run (not in CI). Starts a Redis
//! server and runs axum-demo's `soak` bench against it: ten minutes (or `--duration`) of a mix
//! of code requests, logins, whoami and logouts with Redis codes and Redis sessions, at half
//! the mix's measured maximum (or `--rate` requests/s); see `demo_common::soak`.

use crate::{cmd::Cmd, error::Result, preflight, services};

pub(crate) fn run(extra: &[String]) -> Result<()> {
    let wanted: Vec<_> = services::ALL
        .into_iter()
        .filter(|service| service.name == "redis")
        .collect();
    preflight::ensure(&services::needs(&wanted))?;
    let running = services::start(&wanted)?;
    let result = Cmd::new("cargo")
        .envs(services::env(&running))
        .args([
            "bench",
            "-p",
            "axum-demo",
            "--bench",
            "soak",
            "--",
            "--soak",
        ])
        .args(extra)
        .run();
    drop(running);
    result
}
