//! The HTTP contract suite (docs/HTTP.md) against nopassword-axum: a real server on a
//! free port, driven over plain HTTP.
//!
//! The suite lives in `nopassword-conformance` and knows no web framework; this file is the
//! only axum-specific part: how an app assembles nopassword-axum.

use std::net::SocketAddr;

use axum::{Json, Router, extract::Request, middleware::Next, response::Response, routing::get};
use nopassword_axum::{CurrentUser, MemorySessionStore, login_layer, router};
use nopassword_conformance::{
    conformance_tests,
    support::{APP_LOCALE_HEADER, Adapter, ServerHandle, StoreUnderTest},
};
use std::sync::Arc;

use nopassword_core::{NoPassword, clock::ManualClock, locale::Locale, user::User};
use nopassword_sqlx::PgStore;
use serde_json::{Value, json};

/// nopassword-axum, assembled as an app does: the router, `login_layer` over the crate's
/// [`MemorySessionStore`] (whose size the suite reads, to check that anonymous visitors create
/// no session), and the app's own `/whoami` using [`CurrentUser`].
struct Axum;

async fn whoami(CurrentUser(user): CurrentUser<User>) -> Json<Value> {
    Json(json!({ "username": user.username }))
}

/// The app's language hook: a middleware of the app puts its choice into the request's
/// extensions (here from a test header; a real app reads its user's profile or the path).
async fn app_locale(mut request: Request, next: Next) -> Response {
    let chosen = request
        .headers()
        .get(APP_LOCALE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|tag| tag.parse::<Locale>().ok());
    if let Some(locale) = chosen {
        request.extensions_mut().insert(locale);
    }
    next.run(request).await
}

impl Adapter for Axum {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        let sessions = MemorySessionStore::default();
        let app = Router::new()
            .route("/whoami", get(whoami))
            .route("/readyz", nopassword_axum::readiness(service.clone()))
            .merge(router(service.clone()).expect("built-in templates parse"))
            .layer(login_layer(&service, sessions.clone()))
            .layer(axum::middleware::from_fn(app_locale));
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the server runs");
        });
        ServerHandle::new(move || server.abort()).with_session_count(move || sessions.len())
    }
}

conformance_tests!(Axum);

/// The same adapter with codes and counters in PostgreSQL: a [`PgStore`] with tables of its
/// own per site, on the site's manual clock, on the server `cargo xtask test` starts.
struct AxumOnPostgres;

impl Adapter for AxumOnPostgres {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        Axum::serve(service, listener)
    }

    fn code_store(clock: &ManualClock) -> Option<StoreUnderTest> {
        Some(postgres_store(clock))
    }
}

/// Sites are built in synchronous code on the test's multi-threaded runtime: its async work
/// runs there, in place.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

fn postgres_store(clock: &ManualClock) -> StoreUnderTest {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SITES: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var("NOPASSWORD_TEST_DATABASE_URL").expect(
        "NOPASSWORD_TEST_DATABASE_URL is not set: run the PostgreSQL suites with `cargo xtask test`",
    );
    let prefix = format!(
        "httpaxum_{}_{}_",
        std::process::id(),
        SITES.fetch_add(1, Ordering::Relaxed)
    );
    let store = block_on(
        PgStore::builder()
            .prefix(prefix)
            .sweep_interval(None)
            .clock(clock.clone())
            .connect(&url),
    )
    .expect("connect to NOPASSWORD_TEST_DATABASE_URL");
    let counted = store.clone();
    StoreUnderTest::new(Arc::new(store), move || {
        let (codes, counters) = block_on(counted.live_rows()).expect("count live rows");
        usize::try_from(codes + counters).unwrap_or(usize::MAX)
    })
}

/// The whole contract again, on PostgreSQL.
mod postgres {
    nopassword_conformance::conformance_tests!(super::AxumOnPostgres);
}
