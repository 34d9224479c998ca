//! `cargo run -p axum-app`: the app on `127.0.0.1:8000` (`NOPASSWORD_SECRET_KEY` required),
//! login codes printed to the terminal.

use axum_app::App;
use nopassword_core::{Outbox, Settings};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let app = App::build(Settings::load()?, Outbox::new(50))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    tracing::info!(
        "serving on http://127.0.0.1:8000 (alice's password is axum_app::DEMO_PASSWORD)"
    );
    axum_app::serve(listener, app.router).await?;
    Ok(())
}
