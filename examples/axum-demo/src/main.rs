//! `cargo run -p axum-demo`: a working passwordless login site on http://127.0.0.1:8000 with
//! nothing else installed (in-memory store, mail shown in the terminal and at `/outbox`).

use std::process::ExitCode;

use axum_demo::{Demo, DemoConfig, serve};
use tracing_subscriber::EnvFilter;

/// glibc's malloc spent a quarter of the CPU under concurrent logins; mimalloc's per-thread
/// heaps do not contend.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the demo could not start");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), axum_demo::DemoError> {
    let config = DemoConfig::from_env()?;
    let demo = Demo::connect(config.settings, config.users).await?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let mount = &demo.service.settings().mount_path;
    tracing::info!(
        "nopassword demo on http://{}/ (log in at {mount}/login/, messages at /outbox)",
        config.bind
    );
    serve(listener, demo.app).await?;
    Ok(())
}
