//! An axum-login app that had its own password login and added nopassword-rs beside it: the
//! same members log in with their password or with a login code (link or typed), the members'
//! page is behind the "login required" guard, and one logout ends either session. `/readyz`
//! (nopassword's readiness route) and `/metrics` (nopassword's counters and the app's own
//! [`PASSWORD_LOGINS`], in Prometheus's text format) sit outside the guard.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use axum_app::App;
//! use nopassword_core::{Outbox, Settings};
//!
//! let app = App::build(Settings::load()?, Outbox::new(50))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum_app::serve(listener, app.router).await?;
//! # Ok(()) }
//! ```

mod members;

use std::{net::SocketAddr, sync::OnceLock};

use axum::{
    Form, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use axum_login::AuthSession;
pub use members::{AppBackend, AppCredentials, BackendError, Member, Members, PasswordCredentials};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use nopassword_axum::{
    LoginLayerBuilder, MemorySessionStore, TemplateError, login_required_with, router_with,
};
use nopassword_core::{NoPassword, Outbox, Settings, redirect::safe_next};
use serde::Deserialize;

/// The assembled app.
#[derive(Debug, Clone)]
pub struct App {
    /// Every route, with sessions.
    pub router: Router,
    /// The passwordless service (its settings say where our routes are mounted).
    pub service: NoPassword<Member>,
}

/// Why the app cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The nopassword settings are invalid (a missing `secret_key`, say).
    #[error(transparent)]
    Settings(#[from] nopassword_core::Error),
    /// A page template in `template_dir` does not parse.
    #[error(transparent)]
    Templates(#[from] TemplateError),
}

/// The demo members: alice has a password and an e-mail address, bob only an address (codes
/// are his only way in).
pub fn demo_members() -> Members {
    Members::new([
        Member::new(1, "alice", "alice@example.com", Some(DEMO_PASSWORD)),
        Member::new(2, "bob", "bob@example.com", None),
    ])
}

/// alice's password in the demo.
pub const DEMO_PASSWORD: &str = "correct horse battery staple";

type Auth = AuthSession<AppBackend>;

/// The `Content-Type` of `/metrics`: Prometheus's text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The app's own counter, beside nopassword's: logins with the password form.
pub const PASSWORD_LOGINS: &str = "app_password_logins_total";

/// The process-wide Prometheus recorder behind `/metrics`, installed at the first call (every
/// app in one process shares it, as they share the process's counters). When another recorder
/// is already installed, `/metrics` stays empty, and the log says so.
///
/// ```
/// metrics::counter!(axum_app::PASSWORD_LOGINS).increment(1);
/// let page = axum_app::prometheus().render();
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

/// Where nopassword's routes are mounted.
#[derive(Debug, Clone)]
struct Mount(std::sync::Arc<str>);

impl App {
    /// The app for [`demo_members`], codes sent through `sender` (an [`Outbox`] here; the app
    /// would use nopassword-email's `EmailSender`).
    pub fn build(settings: Settings, sender: Outbox) -> Result<Self, AppError> {
        let members = demo_members();
        let service = NoPassword::builder(settings, members.clone())
            .sender(sender)
            .build()?;
        // Installed before anything counts (the facade drops what comes before).
        prometheus();
        let backend = AppBackend::new(members, service.clone());
        let sessions = LoginLayerBuilder::new(&service, MemorySessionStore::default())
            .backend(backend)
            .build();

        // Where our routes are (`/accounts` by default), for the pages' links.
        let mount = Mount(service.settings().mount_path.clone().into());
        let protected = Router::new()
            .route("/members/", get(members_page))
            .route_layer(login_required_with::<AppBackend>(&service));
        let router = Router::new()
            .route("/", get(home))
            .route("/login", get(password_form).post(password_login))
            // Outside the guard: the orchestrator and Prometheus log in to nothing. (A real app
            // keeps /metrics off the public listener.)
            .route("/readyz", nopassword_axum::readiness(service.clone()))
            .route("/metrics", get(metrics_page))
            .merge(protected)
            .with_state(mount)
            .merge(router_with::<AppBackend>(service.clone())?)
            .layer(sessions);
        Ok(Self { router, service })
    }
}

/// Serves `router` with client addresses (for the per-address rate limit) until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// `text` as a query value (RFC 3986 unreserved characters kept).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of `text` for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Every counter so far, in Prometheus's text format.
async fn metrics_page() -> Response {
    let page = prometheus().render();
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], page).into_response()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n"
    ))
}

async fn home(State(Mount(mount)): State<Mount>, auth: Auth) -> Html<String> {
    match auth.user {
        Some(member) => page(
            "Home",
            &format!(
                "<p>Logged in as {}.</p><p><a href=\"/members/\">Members</a> · <a href=\"{mount}/logout/\">Log out</a></p>",
                escape(&member.username)
            ),
        ),
        None => page(
            "Home",
            &format!(
                "<p><a href=\"/login\">Log in with a password</a> · <a href=\"{mount}/login/\">Email me a login code</a></p>"
            ),
        ),
    }
}

async fn members_page(State(Mount(mount)): State<Mount>, auth: Auth) -> Html<String> {
    let name = auth.user.map(|m| m.username).unwrap_or_default();
    page(
        "Members",
        &format!(
            "<p>Welcome, {}.</p><p><a href=\"{mount}/logout/\">Log out</a></p>",
            escape(&name)
        ),
    )
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The password form. (A real app protects it with its CSRF middleware.)
async fn password_form(State(Mount(mount)): State<Mount>, query: Query<NextQuery>) -> Html<String> {
    password_page(&mount, query.next.as_deref(), "")
}

fn password_page(mount: &str, next: Option<&str>, error: &str) -> Html<String> {
    let next = next.and_then(safe_next).unwrap_or_default();
    page(
        "Log in",
        &format!(
            "{error}<form method=\"post\" action=\"/login\">\n\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
             <label>Username <input name=\"username\" autocomplete=\"username\"></label>\n\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\n\
             <button>Log in</button></form>\n\
             <p>No password? <a href=\"{mount}/login/?next={}\">Email me a login code</a>.</p>",
            escape(&next),
            escape(&encode(&next)),
        ),
    )
}

/// The password form's POST.
#[derive(Deserialize)]
struct PasswordPost {
    #[serde(flatten)]
    creds: PasswordCredentials,
    next: Option<String>,
}

async fn password_login(
    State(Mount(mount)): State<Mount>,
    mut auth: Auth,
    Form(form): Form<PasswordPost>,
) -> Response {
    let next = form
        .next
        .as_deref()
        .and_then(safe_next)
        .map(|n| n.into_owned());
    let member = match auth
        .authenticate(AppCredentials::Password(form.creds))
        .await
    {
        Ok(Some(member)) => member,
        Ok(None) => {
            let error = "<p role=\"alert\">Wrong username or password.</p>";
            let page = password_page(&mount, next.as_deref(), error);
            return (StatusCode::UNAUTHORIZED, page).into_response();
        }
        Err(error) => {
            tracing::error!(%error, "password login failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    if let Err(error) = auth.login(&member).await {
        tracing::error!(%error, "could not store the login");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    metrics::counter!(PASSWORD_LOGINS).increment(1);
    Redirect::to(next.as_deref().unwrap_or("/")).into_response()
}
