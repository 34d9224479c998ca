//! The nopassword-rs demo login site on actix-web, as a library so tests and benchmarks build
//! the same app the binary serves. It is `axum-demo` on another framework: the same routes,
//! pages and environment variables. Everything that is not actix glue (configuration, users,
//! senders, the Redis code store, the pages' HTML) comes from `demo-common`.
//!
//! actix-web runs on its own runtime, actix-rt (`actix_web::rt`): one single-threaded tokio
//! runtime per worker thread, and a `System` that owns them.
//!
//! ```no_run
//! use actix_demo::{Demo, DemoConfig};
//! use actix_web::rt::System;
//!
//! System::new().block_on(async {
//!     let config = DemoConfig::from_env()?;
//!     let demo = Demo::connect(config.settings, config.users).await?;
//!     let listener = std::net::TcpListener::bind(config.bind)?;
//!     demo.server(listener)?.await?;
//!     Ok::<_, actix_demo::DemoError>(())
//! })?;
//! # Ok::<_, actix_demo::DemoError>(())
//! ```

mod sessions;

use std::{
    fmt, io,
    net::{SocketAddr, TcpListener},
    sync::mpsc,
    thread,
};

use actix_web::{
    App, HttpResponse, HttpServer,
    dev::{Server, ServerHandle},
    http::header::ContentType,
    rt::System,
    web::{self, ServiceConfig},
};
pub use demo_common::{DemoConfig, DemoError, DemoSettings, demo_users};
use demo_common::{
    DemoParts, HEALTHZ_BODY, METRICS_CONTENT_TYPE, OUTBOX_HEADERS, home_html, metrics_text,
    not_logged_in_json, outbox_html, outbox_json, prometheus, whoami_json,
};
use nopassword_actix::{LoginMiddleware, MaybeUser, MemorySessionStore, login_middleware};
use nopassword_core::{NoPassword, Outbox, user::User};
pub use sessions::{DemoSessions, RedisSessions};

/// The assembled demo: the service, its outbox and sessions, and the routes each actix worker
/// mounts.
#[derive(Clone)]
pub struct Demo {
    /// The service behind the site.
    pub service: NoPassword<User>,
    /// The development outbox the `/outbox` page shows.
    pub outbox: Outbox,
    /// Where sessions live (shared by every worker).
    pub sessions: DemoSessions,
    site: web::Data<Site>,
    routes: Box<dyn Routes>,
}

impl fmt::Debug for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Demo")
            .field("service", &self.service)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

/// What the demo's own pages need.
struct Site {
    mount: String,
    outbox: Outbox,
    /// Whether `/outbox` is served: only while no real sender is configured.
    outbox_served: bool,
}

/// nopassword-actix's routes (what `configure` returns), boxed so that [`Demo`] can hold and
/// clone them into each worker.
trait Routes: Fn(&mut ServiceConfig) + Send + 'static {
    fn boxed_clone(&self) -> Box<dyn Routes>;
}

impl<F: Fn(&mut ServiceConfig) + Clone + Send + 'static> Routes for F {
    fn boxed_clone(&self) -> Box<dyn Routes> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Routes> {
    fn clone(&self) -> Self {
        (**self).boxed_clone()
    }
}

impl Demo {
    /// The demo over [`DemoParts::configured`] (real e-mail when `smtp_url` is set, else the
    /// development outbox; SMS through Twilio when `twilio_sid` is set). Codes and sessions
    /// live in memory.
    pub fn build(settings: impl Into<DemoSettings>, users: Vec<User>) -> Result<Self, DemoError> {
        Self::assemble(
            DemoParts::configured(settings, users)?,
            DemoSessions::Memory(MemorySessionStore::default()),
        )
    }

    /// [`Demo::build`], plus Redis when `redis_url` is set: codes in nopassword-store's
    /// `RedisStore` ([`DemoParts::connected`]) and sessions in [`RedisSessions`], so several
    /// instances sharing one Redis and one `secret_key` accept each other's codes and logins.
    /// With `database_url` instead: codes, users and sessions in PostgreSQL, shared the same
    /// way ([`DemoParts::connected`]).
    ///
    /// The Redis connections run on the runtime this is awaited on, which must keep running
    /// while the demo serves (the binary's `System`, or a test's tokio runtime).
    pub async fn connect(
        settings: impl Into<DemoSettings>,
        users: Vec<User>,
    ) -> Result<Self, DemoError> {
        Self::from_connected_parts(DemoParts::connected(settings, users).await?).await
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
            (Some(postgres), _) => DemoSessions::Redis(RedisSessions::postgres(postgres)),
            (None, Some((url, namespace))) => {
                DemoSessions::Redis(RedisSessions::connect(url, namespace).await?)
            }
            (None, None) => DemoSessions::Memory(MemorySessionStore::default()),
        };
        Self::assemble(parts, sessions)
    }

    /// The demo over given parts (a benchmark's null sender, say), with its sessions in
    /// memory.
    pub fn from_parts(parts: DemoParts) -> Result<Self, DemoError> {
        Self::assemble(parts, DemoSessions::Memory(MemorySessionStore::default()))
    }

    fn assemble(parts: DemoParts, sessions: DemoSessions) -> Result<Self, DemoError> {
        let served = parts.outbox_served();
        // Installed before the service counts anything.
        prometheus();
        let (service, outbox) = parts.into_service()?;
        let routes = nopassword_actix::configure(service.clone()).map_err(DemoError::template)?;
        let site = web::Data::new(Site {
            mount: service.settings().mount_path.clone(),
            outbox: outbox.clone(),
            outbox_served: served,
        });
        Ok(Self {
            service,
            outbox,
            sessions,
            site,
            routes: Box::new(routes),
        })
    }

    /// Every route of the site, for [`App::configure`]: `/`, `/whoami`, `/outbox` and
    /// `/outbox.json` (only while no real sender is configured: they show live codes),
    /// `/healthz`, `/readyz` and `/metrics`, and nopassword's under `mount_path`. The app also
    /// needs [`Demo::login_middleware`].
    pub fn configure(&self, cfg: &mut ServiceConfig) {
        cfg.app_data(self.site.clone())
            .route("/", web::get().to(home))
            .route("/whoami", web::get().to(whoami))
            // Operations: the process answers; the store and senders answer; the counters.
            .route("/healthz", web::get().to(|| async { HEALTHZ_BODY }))
            .service(nopassword_actix::readiness("/readyz", self.service.clone()))
            .route("/metrics", web::get().to(metrics_page));
        if self.site.outbox_served {
            cfg.route("/outbox", web::get().to(outbox_page))
                .route("/outbox.json", web::get().to(outbox_list));
        }
        (self.routes)(cfg);
    }

    /// Sessions and logins over the demo's session store (one per worker; the store is shared).
    pub fn login_middleware(&self) -> LoginMiddleware<User, DemoSessions> {
        login_middleware(&self.service, self.sessions.clone())
    }

    /// The site on `listener`, with actix-web's defaults (a worker per core; Ctrl-C and SIGTERM
    /// stop it gracefully). Call it inside an actix `System` and await the server.
    pub fn server(&self, listener: TcpListener) -> io::Result<Server> {
        self.http_server(listener, None, true)
    }

    /// Serves the site on `listener` from a thread of its own, with its own actix `System` and
    /// `workers` worker threads, no signal handling; returns once the server is listening.
    /// Dropping the returned [`Running`] stops it. For tests and benchmarks.
    pub fn spawn(&self, listener: TcpListener, workers: usize) -> io::Result<Running> {
        let addr = listener.local_addr()?;
        let demo = self.clone();
        let (started, handle) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(format!("actix-demo-{addr}"))
            .spawn(move || {
                System::new().block_on(async move {
                    let server = demo.http_server(listener, Some(workers), false);
                    match server {
                        Ok(server) => {
                            let _ = started.send(Ok(server.handle()));
                            server.await
                        }
                        Err(error) => {
                            let _ = started.send(Err(error));
                            Ok(())
                        }
                    }
                })
            })?;
        let handle = handle
            .recv()
            .map_err(|_| io::Error::other("the demo server thread ended before it started"))??;
        Ok(Running {
            addr,
            handle,
            thread: Some(thread),
        })
    }

    fn http_server(
        &self,
        listener: TcpListener,
        workers: Option<usize>,
        signals: bool,
    ) -> io::Result<Server> {
        let demo = self.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .configure(|cfg| demo.configure(cfg))
                .wrap(demo.login_middleware())
        });
        if let Some(workers) = workers {
            server = server.workers(workers.max(1));
        }
        if !signals {
            server = server.disable_signals();
        }
        Ok(server.listen(listener)?.run())
    }
}

/// A demo server running in a thread of its own ([`Demo::spawn`]); dropping it stops the
/// server and waits for the thread.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<io::Result<()>>>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The stop command goes out at once; the future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "the demo server failed"),
                Err(_) => tracing::error!("the demo server thread panicked"),
            }
        }
    }
}

async fn home(MaybeUser(user): MaybeUser<User>, site: web::Data<Site>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(home_html(user.as_ref(), &site.mount, site.outbox_served))
}

async fn whoami(MaybeUser(user): MaybeUser<User>) -> HttpResponse {
    match user {
        Some(user) => HttpResponse::Ok().json(whoami_json(&user)),
        None => HttpResponse::Unauthorized().json(not_logged_in_json()),
    }
}

async fn metrics_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, METRICS_CONTENT_TYPE))
        .body(metrics_text())
}

async fn outbox_page(site: web::Data<Site>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for header in OUTBOX_HEADERS {
        response.insert_header(header);
    }
    response
        .content_type(ContentType::html())
        .body(outbox_html(&site.outbox))
}

async fn outbox_list(site: web::Data<Site>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for header in OUTBOX_HEADERS {
        response.insert_header(header);
    }
    response.json(outbox_json(&site.outbox))
}
