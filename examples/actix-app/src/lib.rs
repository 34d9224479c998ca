//! An actix-web app that already has sessions, logins and a password form, and adds
//! passwordless login beside them. It is what docs/guide/actix.md, "Under the app's own
//! sessions", describes, as a crate that runs and is tested:
//!
//! - the app's own actix-session `SessionMiddleware` (its cookie name, its store, its key) and
//!   actix-identity `IdentityMiddleware`, and no `login_middleware`;
//! - its own password login (`POST /login`, a toy check against [`DEMO_PASSWORD`]) that logs in
//!   with `Identity::login`, as such apps do;
//! - nopassword-actix's routes under `/accounts`, sharing that session and identity;
//! - a page only logged-in users see (`/account`, behind [`LoginRequired`]) and a logout;
//! - `/readyz` (nopassword's readiness route) and `/metrics` (nopassword's counters and the
//!   app's own [`PASSWORD_LOGINS`], in Prometheus's text format), outside the guard.
//!
//! ```no_run
//! use actix_app::{ExampleApp, demo_users};
//! use actix_web::{App, HttpServer, rt::System};
//! use nopassword_core::Settings;
//!
//! System::new().block_on(async {
//!     let settings = Settings {
//!         secret_key: Some("change-me-change-me-change-me-change-me".into()),
//!         ..Settings::default()
//!     };
//!     let example = ExampleApp::new(settings, demo_users(), false)?;
//!     HttpServer::new(move || {
//!         App::new()
//!             .configure(|cfg| example.configure(cfg))
//!             .wrap(example.identity_middleware())
//!             .wrap(example.session_middleware())
//!     })
//!     .bind("127.0.0.1:8080")?
//!     .run()
//!     .await?;
//!     Ok::<_, actix_app::AppError>(())
//! })?;
//! # Ok::<_, actix_app::AppError>(())
//! ```

use std::{
    fmt, io,
    sync::{Arc, OnceLock},
};

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::{SessionMiddleware, config::PersistentSession};
use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    cookie::{Key, SameSite, time::Duration},
    http::header::{self, ContentType},
    web::{self, ServiceConfig},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use nopassword_actix::{LoggedIn, LoginRequired, MaybeUser, MemorySessionStore, TemplateError};
use nopassword_core::{
    LoginUser, NoPassword, Outbox, Settings,
    redirect::safe_next,
    user::{MemoryDirectory, User},
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// Every demo user's password for the app's own password form. A toy: a real app keeps a
/// password hash per user (argon2, say).
pub const DEMO_PASSWORD: &str = "correct horse battery staple";

/// The app's session cookie, named by the app (nopassword's own would be `nopassword_session`).
pub const SESSION_COOKIE: &str = "app_session";

/// The `Content-Type` of `/metrics`: Prometheus's text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The app's own counter, beside nopassword's: logins with the password form.
pub const PASSWORD_LOGINS: &str = "app_password_logins_total";

/// The process-wide Prometheus recorder behind `/metrics`, installed at the first call (every
/// app in one process shares it, as they share the process's counters). When another recorder
/// is already installed, `/metrics` stays empty, and the log says so.
///
/// ```
/// metrics::counter!(actix_app::PASSWORD_LOGINS).increment(1);
/// let page = actix_app::prometheus().render();
/// # let _ = page;
/// ```
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
        metrics::describe_counter!(PASSWORD_LOGINS, "Logins with the app's password form.");
        handle
    })
}

/// What can stop the app from starting.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The settings are not valid, or the service could not be built.
    #[error(transparent)]
    Service(#[from] nopassword_core::Error),
    /// A page template in `template_dir` does not parse.
    #[error(transparent)]
    Templates(#[from] TemplateError),
    /// The server could not bind or run.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The demo's users: alice and bob, with e-mail addresses.
pub fn demo_users() -> Vec<User> {
    vec![
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob").with_email("bob@example.com"),
    ]
}

type Routes = Arc<dyn Fn(&mut ServiceConfig) + Send + Sync>;

/// The app: the service behind its passwordless login, the development outbox its codes go
/// to, and its sessions. Clone it into each actix worker.
#[derive(Clone)]
pub struct ExampleApp {
    /// The passwordless login service.
    pub service: NoPassword<User>,
    /// Where codes go (shown in the terminal); a real app sets an `EmailSender`.
    pub outbox: Outbox,
    /// The app's session store, shared by every worker.
    pub sessions: MemorySessionStore,
    key: Key,
    secure_cookies: bool,
    routes: Routes,
}

impl fmt::Debug for ExampleApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExampleApp")
            .field("service", &self.service)
            .field("sessions", &self.sessions)
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

impl ExampleApp {
    /// The app over `users`, with codes going to an [`Outbox`]. `secure_cookies`: whether the
    /// session cookie carries `Secure` (on in production behind HTTPS; browsers also keep
    /// `Secure` cookies from `http://localhost`).
    pub fn new(
        settings: Settings,
        users: Vec<User>,
        secure_cookies: bool,
    ) -> Result<Self, AppError> {
        // Installed before anything counts (the facade drops what comes before).
        prometheus();
        let outbox = Outbox::new(100);
        let service = NoPassword::builder(settings, MemoryDirectory::new(users))
            .sender(outbox.clone())
            .build()?;
        let routes = nopassword_actix::configure(service.clone())?;
        Ok(Self {
            service,
            outbox,
            sessions: MemorySessionStore::default(),
            key: Key::generate(),
            secure_cookies,
            routes: Arc::new(routes),
        })
    }

    /// The app's routes (`/`, `/login`, `/account`, `/logout`, `/readyz`, `/metrics`) and
    /// nopassword's under `mount_path`, for [`App::configure`](actix_web::App::configure).
    pub fn configure(&self, cfg: &mut ServiceConfig) {
        cfg.app_data(web::Data::new(self.service.clone()))
            .route("/", web::get().to(home))
            .route("/login", web::get().to(password_form))
            .route("/login", web::post().to(password_login))
            .route("/logout", web::post().to(logout))
            .service(
                web::scope("/account")
                    .wrap(LoginRequired::new(&self.service))
                    .route("", web::get().to(account)),
            )
            .route("/settings", web::get().to(settings_page))
            // Outside the guard: the orchestrator and Prometheus log in to nothing. (A real app
            // keeps /metrics off the public listener.)
            .service(nopassword_actix::readiness("/readyz", self.service.clone()))
            .route("/metrics", web::get().to(metrics_page));
        (self.routes)(cfg);
    }

    /// The app's own sessions: actix-session over a server-side store, cookie
    /// [`SESSION_COOKIE`], HttpOnly, SameSite=Lax, `Secure` as chosen, two weeks. What
    /// nopassword-actix asks of it is in docs/guide/actix.md.
    pub fn session_middleware(&self) -> SessionMiddleware<MemorySessionStore> {
        SessionMiddleware::builder(self.sessions.clone(), self.key.clone())
            .cookie_name(SESSION_COOKIE.into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(self.secure_cookies)
            .session_lifecycle(PersistentSession::default().session_ttl(Duration::weeks(2)))
            .build()
    }

    /// The app's own logins (actix-identity, its defaults: logout purges the session).
    pub fn identity_middleware(&self) -> IdentityMiddleware {
        IdentityMiddleware::default()
    }
}

/// Minimal HTML escaping for the few values the pages print.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1>{body}</body></html>"
        ))
}

/// Every counter so far, in Prometheus's text format.
async fn metrics_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, METRICS_CONTENT_TYPE))
        .body(prometheus().render())
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn home(MaybeUser(user): MaybeUser<User>) -> HttpResponse {
    match user {
        Some(user) => page(
            "Home",
            &format!(
                "<p>Logged in as {}.</p><p><a href=\"/account\">Your account</a></p>\
                 <form method=\"post\" action=\"/logout\"><button>Log out</button></form>",
                escape(&user.username)
            ),
        ),
        None => page(
            "Home",
            "<p><a href=\"/login\">Log in with a password</a> or \
             <a href=\"/accounts/login/?next=/account\">get a login link</a>.</p>",
        ),
    }
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

async fn password_form(query: web::Query<NextQuery>) -> HttpResponse {
    password_page(query.next.as_deref(), "")
}

fn password_page(next: Option<&str>, error: &str) -> HttpResponse {
    let next = next.and_then(safe_next).unwrap_or_default();
    page(
        "Log in",
        &format!(
            "<p>{error}</p><form method=\"post\" action=\"/login\">\
             <input name=\"username\" autocomplete=\"username\">\
             <input name=\"password\" type=\"password\" autocomplete=\"current-password\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\"><button>Log in</button></form>\
             <p>No password? <a href=\"/accounts/login/\">Get a login link</a>.</p>",
            escape(&next)
        ),
    )
}

// No Debug: it holds a password.
#[derive(Deserialize)]
struct PasswordForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Whether a POST came from this site: browsers send `Origin` with every cross-site form POST,
/// so one that names another host is refused (the app's own forms carry no CSRF token; the
/// session cookie's SameSite=Lax keeps logged-in cross-site posts out, this keeps login CSRF
/// out).
fn same_origin(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    match (header(header::ORIGIN), header(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, origin_host)| origin_host == host),
        (Some(_), None) => false,
    }
}

/// The app's own login: a toy password check, then `Identity::login`, which renews the
/// session id. nopassword's extractors and guard see this login as they see their own.
async fn password_login(
    req: HttpRequest,
    service: web::Data<NoPassword<User>>,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    if !same_origin(&req) {
        return HttpResponse::Forbidden().finish();
    }
    let form = form.into_inner();
    let user = match service.users().find_by_username(&form.username).await {
        Ok(user) => user.filter(LoginUser::is_active),
        Err(error) => {
            tracing::error!(%error, "user directory unavailable");
            return HttpResponse::ServiceUnavailable().finish();
        }
    };
    // Compared whatever the user, so an unknown name takes as long as a wrong password.
    let matches: bool = form
        .password
        .as_bytes()
        .ct_eq(DEMO_PASSWORD.as_bytes())
        .into();
    let Some(user) = user.filter(|_| matches) else {
        return password_page(form.next.as_deref(), "Wrong username or password.");
    };
    if let Err(error) = Identity::login(&req.extensions(), user.id()) {
        tracing::error!(%error, "session unavailable");
        return HttpResponse::ServiceUnavailable().finish();
    }
    metrics::counter!(PASSWORD_LOGINS).increment(1);
    see_other(&service.redirect_target(form.next.as_deref()))
}

/// Logs out however the user logged in (`Identity::logout` purges the session).
async fn logout(req: HttpRequest, identity: Option<Identity>) -> HttpResponse {
    if !same_origin(&req) {
        return HttpResponse::Forbidden().finish();
    }
    if let Some(identity) = identity {
        identity.logout();
    }
    see_other("/")
}

/// The page behind [`LoginRequired`]: the guard loaded the user, `LoggedIn` reads it.
async fn account(LoggedIn(user): LoggedIn<User>) -> HttpResponse {
    page(
        "Your account",
        &format!(
            "<p>Account of {} ({}).</p>",
            escape(&user.username),
            escape(user.email.as_deref().unwrap_or("no e-mail"))
        ),
    )
}

/// A page guarded by the extractor alone, without the middleware.
async fn settings_page(LoggedIn(user): LoggedIn<User>) -> HttpResponse {
    page(
        "Settings",
        &format!("<p>Settings of {}.</p>", escape(&user.username)),
    )
}
