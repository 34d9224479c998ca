//! Passwordless login for axum: every route of the nopassword-rs HTTP contract, HTML pages and
//! a JSON API, with sessions through tower-sessions and axum-login.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use nopassword_axum::{MaybeUser, login_layer, router};
//! use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
//! use nopassword_axum::MemorySessionStore;
//!
//! async fn home(MaybeUser(user): MaybeUser<User>) -> String {
//!     user.map_or("Hello, stranger".into(), |u| format!("Hello, {}", u.username))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings::load()?; // nopassword.toml + NOPASSWORD_* (secret_key required)
//! let users = MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]);
//! let service = NoPassword::builder(settings, users).sender(Outbox::new(50)).build()?;
//!
//! let app = Router::new()
//!     .route("/", get(home))
//!     .merge(router(service.clone())?) // /accounts/login/, /accounts/login-code/..., /accounts/api/...
//!     .layer(login_layer(&service, MemorySessionStore::default()));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! Serve with `into_make_service_with_connect_info::<SocketAddr>()` so the per-address rate
//! limit sees client addresses; without it that limit is off, and the first request without
//! a client address logs a warning saying so ([`request_info`]).
//!
//! # Login flows (docs/HTTP.md, Login flows)
//!
//! Every code is bound to the browser (or API client) that asked for it:
//!
//! - `POST login/` and `POST api/login/` start a **flow**: a random token in the
//!   `{namespace}_flow` cookie (HttpOnly, SameSite=Lax, scoped to `mount_path`, living as long
//!   as the code). `api/login/` also answers it as `"flow"`, for clients without a cookie jar,
//!   and `api/login/code/` takes it back as `"flow"` in the body (else the cookie counts).
//! - A login link opened in the flow's own browser works as before (the "Logging in..." page
//!   that posts itself). Opened anywhere else (another device, a mail scanner), it follows
//!   `cross_device_links`: `confirm` (default) shows a "Confirm login" page with a button and no
//!   script, `allow` behaves as in the flow's browser, `deny` answers 403. `GET` and `HEAD`
//!   never consume a code, except `GET` with `post_redirect = false` where login is allowed.
//! - Typed codes (`login/code/`, `api/login/code/`, [`NoPasswordBackend`]) count only within
//!   their flow; a stranger's guesses spend nothing of the user's.
//! - `GET logout/` shows a "Log out?" page whose button posts the logout, unless
//!   `logout_on_get = true`.
//! - Logging in always renews the session id.
//!
//! # CSRF without sessions
//!
//! HTML forms are protected by a signed double-submit cookie, `{namespace}_csrf`: the first
//! page with a form sets a token signed with `secret_key`, the form repeats it in
//! [`CSRF_FIELD`], and every HTML `POST` must present both (403 otherwise). Anonymous visitors
//! therefore write nothing to the session store: a session begins at login.
//!
//! # Background delivery
//!
//! [`router`] makes the service deliver codes off the request path, through a bounded
//! [`Dispatcher`] on the Tokio runtime ([`Dispatcher::DEFAULT_CAPACITY`] deliveries in flight;
//! a full queue answers 503). Answers then take as long for unknown users as for real ones,
//! whatever the mail server's latency; a failed delivery is logged and counted
//! ([`NoPassword::delivery_failures`]). An app that chose otherwise on the builder keeps its
//! choice: [`Builder::dispatch`](nopassword_core::NoPasswordBuilder::dispatch) for its own queue,
//! [`Builder::deliver_inline`](nopassword_core::NoPasswordBuilder::deliver_inline) to send during the
//! request (a sender outage is then a 503).

mod assets;
mod backend;
mod cookies;
mod extract;
mod forwarded;
mod handlers;
mod memory_sessions;
mod session;
mod state;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue},
    middleware,
    response::Response,
    routing::{get, post},
};
pub use backend::{Credentials, NoPasswordBackend, SessionUser};
pub use extract::{CurrentUser, MaybeUser};
pub use forwarded::request_info;
use handlers::{api, code, login, logout};
pub use memory_sessions::MemorySessionStore;
pub use nopassword_core::http::RequestInfo;
use nopassword_core::{
    LoginUser, NoPassword, dispatch::Dispatcher, forms::MAX_BODY_BYTES, http::SECURITY_HEADERS,
};
pub use nopassword_core::{
    pages::{Pages, TEMPLATES},
    templates::TemplateError,
};
pub use session::{CSRF_FIELD, LoginLayer, SecureCookieLayer, SecureCookies, login_layer};
use state::AppState;

/// Every route of the HTTP contract, mounted at `mount_path`. Add [`login_layer`] to the app
/// (outside this router) for sessions.
///
/// Also makes `service` deliver codes in the background on the Tokio runtime, unless its
/// builder chose a delivery ([`Builder::dispatch`](nopassword_core::NoPasswordBuilder::dispatch) or
/// [`Builder::deliver_inline`](nopassword_core::NoPasswordBuilder::deliver_inline)); see the crate docs.
///
/// Fails when a page template in `template_dir` does not parse.
pub fn router<U: LoginUser>(service: NoPassword<U>) -> Result<Router, TemplateError> {
    let pages = Pages::load(service.settings().template_dir.as_deref())?;
    service.deliver_in_background_by_default(|| {
        Arc::new(Dispatcher::tokio(Dispatcher::DEFAULT_CAPACITY))
    });
    let settings = service.settings().clone();
    let state = AppState {
        service,
        pages: Arc::new(pages),
    };
    let link = if settings.hide_username {
        "/login-code/{code}/"
    } else {
        "/login-code/{username}/{code}/"
    };
    let routes = Router::new()
        .route("/login/", get(login::form::<U>).post(login::submit::<U>))
        .route(
            link,
            get(code::link_get::<U>)
                .head(code::link_head::<U>)
                .post(code::link_post::<U>),
        )
        .route("/login/code/", get(code::form::<U>).post(code::submit::<U>))
        .route(
            "/logout/",
            get(logout::get::<U>)
                .head(logout::head)
                .post(logout::post::<U>),
        )
        .route("/api/login/", post(api::login::<U>))
        .route("/api/login/code/", post(api::login_code::<U>))
        .route("/api/logout/", post(api::logout::<U>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(security_headers))
        // After the layer: the pages' static files are cached, not `no-store`.
        .route(nopassword_core::pages::STATIC_ROUTE, get(assets::serve))
        .with_state(state);
    Ok(if settings.mount_path.is_empty() {
        routes
    } else {
        Router::new().nest(&settings.mount_path, routes)
    })
}

/// Pages that carry codes or CSRF tokens are never cached and never leak the URL as a referrer
/// (nopassword-core's `SECURITY_HEADERS`, the same on both adapters).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
