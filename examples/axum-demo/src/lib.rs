//! The nopassword-rs demo login site, as a library so tests and benchmarks build the same app
//! the binary serves. What is not axum glue (configuration, users, senders, the Redis code
//! store, the pages' HTML) lives in `demo-common`, shared with `actix-demo`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = axum_demo::DemoConfig::from_env()?;
//! let demo = axum_demo::Demo::build(config.settings, config.users)?;
//! let listener = tokio::net::TcpListener::bind(config.bind).await?;
//! axum_demo::serve(listener, demo.app).await?;
//! # Ok(()) }
//! ```

mod sessions;

use std::net::SocketAddr;

use axum::{
    Json, Router,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
pub use demo_common::{DemoConfig, DemoError, DemoSettings, demo_users};
use demo_common::{
    DemoParts, HEALTHZ_BODY, METRICS_CONTENT_TYPE, OUTBOX_HEADERS, home_html, metrics_text,
    not_logged_in_json, outbox_html, outbox_json, prometheus, whoami_json,
};
use nopassword_axum::{CurrentUser, MaybeUser, login_layer, router};
use nopassword_core::{NoPassword, Outbox, user::User};
pub use sessions::RedisSessions;

/// The assembled demo.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The whole site.
    pub app: Router,
    /// The service behind it.
    pub service: NoPassword<User>,
    /// The development outbox the `/outbox` page shows.
    pub outbox: Outbox,
}

impl Demo {
    /// The site over [`DemoParts::configured`]: the senders the settings configure, codes
    /// and sessions in memory.
    pub fn build(settings: impl Into<DemoSettings>, users: Vec<User>) -> Result<Self, DemoError> {
        Self::assemble(DemoParts::configured(settings, users)?, None)
    }

    /// [`Demo::build`], plus Redis when `redis_url` is set: codes in nopassword-store's
    /// `RedisStore` ([`DemoParts::connected`]) and sessions in [`RedisSessions`], so several
    /// instances sharing one Redis and one `secret_key` accept each other's codes and logins.
    /// With `database_url` instead: codes, users and sessions in PostgreSQL, shared the same
    /// way ([`DemoParts::connected`]).
    pub async fn connect(
        settings: impl Into<DemoSettings>,
        users: Vec<User>,
    ) -> Result<Self, DemoError> {
        Self::from_connected_parts(DemoParts::connected(settings, users).await?).await
    }

    /// The site over given parts (a benchmark's null sender, say), sessions in memory.
    pub fn from_parts(parts: DemoParts) -> Result<Self, DemoError> {
        Self::assemble(parts, None)
    }

    /// The site over given parts, with sessions in PostgreSQL when their settings set
    /// `database_url`, else in [`RedisSessions`] when they set `redis_url`
    /// ([`DemoParts::shared_sessions`]), as [`Demo::connect`] does, else in memory:
    /// the load benchmark's Redis runs.
    ///
    /// The Redis connection runs on the async runtime this is awaited on, which must keep
    /// running while the demo serves.
    pub async fn from_connected_parts(parts: DemoParts) -> Result<Self, DemoError> {
        let sessions = match (parts.postgres_sessions(), parts.shared_sessions()) {
            (Some(postgres), _) => Some(RedisSessions::postgres(postgres)),
            (None, Some((url, namespace))) => Some(RedisSessions::connect(url, namespace).await?),
            (None, None) => None,
        };
        Self::assemble(parts, sessions)
    }

    fn assemble(parts: DemoParts, sessions: Option<RedisSessions>) -> Result<Self, DemoError> {
        let served = parts.outbox_served();
        // Installed before the service counts anything.
        prometheus();
        let (service, outbox) = parts.into_service()?;
        let mount = service.settings().mount_path.clone();
        let outbox_page = outbox.clone();
        let outbox_list = outbox.clone();
        let mut app = Router::new()
            .route("/", get(move |user| home(user, mount.clone(), served)))
            .route("/whoami", get(whoami))
            // Operations: the process answers; the store and senders answer; the counters.
            .route("/healthz", get(|| async { HEALTHZ_BODY }))
            .route("/readyz", nopassword_axum::readiness(service.clone()))
            .route(
                "/metrics",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
                        metrics_text(),
                    )
                }),
            );
        // The outbox shows live codes: only while no real sender is configured.
        if served {
            app = app
                .route(
                    "/outbox",
                    get(move || async move { (OUTBOX_HEADERS, Html(outbox_html(&outbox_page))) }),
                )
                .route(
                    "/outbox.json",
                    get(move || async move { (OUTBOX_HEADERS, Json(outbox_json(&outbox_list))) }),
                );
        }
        let app = app.merge(router(service.clone()).map_err(DemoError::template)?);
        let app = match sessions {
            Some(sessions) => app.layer(login_layer(&service, sessions)),
            None => app.layer(login_layer(
                &service,
                nopassword_axum::MemorySessionStore::default(),
            )),
        };
        Ok(Self {
            app,
            service,
            outbox,
        })
    }
}

/// Serves `app` with client addresses (for rate limits) until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

async fn home(MaybeUser(user): MaybeUser<User>, mount: String, outbox: bool) -> Html<String> {
    Html(home_html(user.as_ref(), &mount, outbox))
}

async fn whoami(user: Result<CurrentUser<User>, Response>) -> Response {
    match user {
        Ok(CurrentUser(user)) => Json(whoami_json(&user)).into_response(),
        Err(_) => (StatusCode::UNAUTHORIZED, Json(not_logged_in_json())).into_response(),
    }
}
