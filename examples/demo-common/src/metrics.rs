//! The demo's operations routes: `/healthz` (the process answers), `/readyz` (the adapter's
//! readiness route) and `/metrics`, nopassword's counters in Prometheus's text format through
//! `metrics-exporter-prometheus`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The `Content-Type` of `/metrics`: Prometheus's text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The body of `/healthz`.
pub const HEALTHZ_BODY: &str = "ok";

/// The process-wide Prometheus recorder, installed at the first call (every demo instance in
/// one process shares it, as they share the process's counters). When another recorder is
/// already installed the demo's `/metrics` shows an empty page, and says so in the log.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // A recorder built by hand runs no upkeep of its own: without it, every histogram
        // sample (delivery seconds) stays in memory until the next scrape, so a process that
        // nobody scrapes grows with every code it sends.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "no metrics upkeep thread; histogram samples wait for a scrape");
        }
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        nopassword_core::metrics::describe();
        handle
    })
}

/// The `/metrics` page: every nopassword counter so far.
pub fn metrics_text() -> String {
    prometheus().render()
}
