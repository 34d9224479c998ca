//! `cargo run -p actix-demo`: the demo login site on actix-web, http://127.0.0.1:8000 by
//! default, with nothing else installed (in-memory store, mail shown in the terminal and at
//! `/outbox`). The same environment variables as `axum-demo`.

use std::process::ExitCode;

use actix_demo::{Demo, DemoConfig, DemoError};
use actix_web::rt::System;
use tracing_subscriber::EnvFilter;

/// glibc's malloc contends under concurrent logins; mimalloc's per-thread heaps do not (as in
/// axum-demo).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    // actix-web's own runtime; Redis connections made in `run` live on it too.
    let result = match System::new().block_on(run()) {
        Ok(()) => return ExitCode::SUCCESS,
        Err(error) => error,
    };
    tracing::error!(error = %result, "the demo could not start");
    eprintln!("error: {result}");
    ExitCode::FAILURE
}

async fn run() -> Result<(), DemoError> {
    let config = DemoConfig::from_env()?;
    let demo = Demo::connect(config.settings, config.users).await?;
    let listener = std::net::TcpListener::bind(config.bind)?;
    let mount = &demo.service.settings().mount_path;
    tracing::info!(
        "nopassword demo (actix-web) on http://{}/ (log in at {mount}/login/, messages at /outbox)",
        listener.local_addr()?
    );
    demo.server(listener)?.await?;
    Ok(())
}
