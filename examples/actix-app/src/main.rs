//! `cargo run -p actix-app`: the example on http://127.0.0.1:8080. Log in at `/login` with a
//! demo user (alice, bob) and the password `correct horse battery staple`, or at
//! `/accounts/login/` with a code (printed in this terminal); `/account` needs a login.

use std::process::ExitCode;

use actix_app::{AppError, ExampleApp, demo_users};
use actix_web::{App, HttpServer, rt::System};
use nopassword_core::Settings;
use tracing_subscriber::EnvFilter;

/// For trying the example only: a real app reads its secret from its configuration.
const DEVELOPMENT_SECRET: &str = "actix-app-development-secret-not-for-production";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match System::new().block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), AppError> {
    let secret = std::env::var("NOPASSWORD_SECRET_KEY").unwrap_or_else(|_| {
        tracing::warn!("NOPASSWORD_SECRET_KEY is not set; using the example's development key");
        DEVELOPMENT_SECRET.into()
    });
    let settings = Settings {
        secret_key: Some(secret.into()),
        ..Settings::default()
    };
    let example = ExampleApp::new(settings, demo_users(), false)?;
    tracing::info!("actix-app on http://127.0.0.1:8080/");
    HttpServer::new(move || {
        App::new()
            .configure(|cfg| example.configure(cfg))
            .wrap(example.identity_middleware())
            .wrap(example.session_middleware())
    })
    .bind("127.0.0.1:8080")?
    .run()
    .await?;
    Ok(())
}
