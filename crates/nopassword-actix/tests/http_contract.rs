//! The HTTP contract suite (docs/HTTP.md) against nopassword-actix: a real actix-web
//! server on a free port, driven over plain HTTP.
//!
//! The suite lives in `nopassword-conformance` and knows no web framework; this file is the
//! only actix-specific part: how an app assembles nopassword-actix.

use std::{sync::mpsc, thread};

use actix_web::{
    App, HttpMessage, HttpResponse, HttpServer,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::{Next, from_fn},
    rt::System,
    web,
};
use nopassword_actix::{CurrentUser, MemorySessionStore, configure, login_middleware};
use nopassword_conformance::{
    conformance_tests,
    support::{APP_LOCALE_HEADER, Adapter, ServerHandle, StoreUnderTest},
};
use std::sync::Arc;

use nopassword_core::{NoPassword, clock::ManualClock, locale::Locale, user::User};
use nopassword_sqlx::PgStore;
use serde_json::json;

/// nopassword-actix, assembled as an app does: the routes (with their default background
/// delivery), `login_middleware` over a `MemorySessionStore`, and the app's own `/whoami` using
/// [`CurrentUser`]. The store's size is the session count the suite checks anonymous visits
/// against.
struct Actix;

async fn whoami(CurrentUser(user): CurrentUser<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "username": user.username }))
}

/// The app's language hook: a middleware of the app puts its choice into the request's
/// extensions (here from a test header; a real app reads its user's profile or the path).
async fn app_locale(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let chosen = request
        .headers()
        .get(APP_LOCALE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|tag| tag.parse::<Locale>().ok());
    if let Some(locale) = chosen {
        request.extensions_mut().insert(locale);
    }
    next.call(request).await
}

impl Adapter for Actix {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        let routes = configure(service.clone()).expect("built-in templates parse");
        let sessions = MemorySessionStore::default();
        let counted = sessions.clone();
        let (started, handle) = mpsc::channel();
        // actix-web runs on its own runtime (actix-rt), beside the test's tokio runtime.
        thread::spawn(move || {
            System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .route("/whoami", web::get().to(whoami))
                        .service(nopassword_actix::readiness("/readyz", service.clone()))
                        .configure(routes.clone())
                        .wrap(login_middleware(&service, sessions.clone()))
                        .wrap(from_fn(app_locale))
                })
                .workers(2)
                .disable_signals()
                .listen(listener)
                .expect("serve on the listener")
                .run();
                started.send(server.handle()).expect("the test waits");
                server.await.expect("the server runs");
            });
        });
        let handle = handle.recv().expect("the server started");
        ServerHandle::new(move || {
            // Sends the stop command at once; the server thread then ends by itself.
            drop(handle.stop(false));
        })
        .with_session_count(move || counted.len())
    }
}

conformance_tests!(Actix);

/// The same adapter with codes and counters in PostgreSQL: a [`PgStore`] with tables of its
/// own per site, on the site's manual clock, on the server `cargo xtask test` starts.
struct ActixOnPostgres;

impl Adapter for ActixOnPostgres {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        Actix::serve(service, listener)
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
        "httpactix_{}_{}_",
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
    nopassword_conformance::conformance_tests!(super::ActixOnPostgres);
}
