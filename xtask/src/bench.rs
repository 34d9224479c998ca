//! `cargo xtask bench`: the benchmarks.
//!
//! Today: the criterion benches of the member crates. Load runs against real services (a
//! login storm through the web adapters, Redis and Redis Cluster under contention) belong
//! here too, as further steps after `cargo bench`, using [`crate::services`] to start what
//! they drive.

use crate::{cmd::Cmd, error::Result};

pub(crate) fn run(extra: &[String]) -> Result<()> {
    Cmd::new("cargo")
        .args(["bench", "--workspace"])
        .args(extra)
        .run()
}
