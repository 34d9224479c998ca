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
//! # In an app with its own axum-login backend
//!
//! [`router`] logs users into [`NoPasswordBackend`]. An app that already has a backend
//! (passwords, OAuth) implements [`PasswordlessBackend`] for it (how the user a code proved
//! becomes the backend's `User`) and mounts [`router_with::<AppBackend>`](router_with), with
//! its sessions from [`LoginLayerBuilder::backend`]. A composite backend, whose `Credentials`
//! is an enum of the app's password credentials and our [`Credentials`], lets the app's own
//! handlers take codes too; docs/guide/axum.md and `examples/axum-app` show one.
//!
//! # Sessions and the login-required guard
//!
//! [`login_layer`] is [`LoginLayerBuilder`] with its defaults; the builder sets the session
//! cookie's name, `SameSite`, `Secure` ([`CookieSecurity`]), domain, lifetime
//! ([`SessionExpiry`]), and any tower-sessions store. [`login_required`] and
//! [`login_required_with`] guard the app's pages: anonymous HTML requests go to
//! `{mount_path}/login/?next=...` (a local path only), JSON requests get the API's 401.
//!
//! Every handler runs in a `tracing` span (`nopassword.login`, `nopassword.link`,
//! `nopassword.api.login_code`, ..., the names nopassword-actix uses); those that log in
//! record `user.id`.
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
//! - **Cross-device approval** (docs/HTTP.md): the "sent" page shows the flow's matching
//!   number and waits (its script polls `api/login/flow/`); the link opened on another device
//!   offers three numbers, and the right pick approves the flow without logging that device
//!   in; the asking browser then completes with `POST login/flow/complete/` (or the API's
//!   `api/login/flow/complete/`), which starts its session.
//! - `GET logout/` shows a "Log out?" page whose button posts the logout, unless
//!   `logout_on_get = true`.
//! - Logging in always renews the session id.
//!
//! # Languages
//!
//! Each request's pages and JSON messages are in its language (docs/HTTP.md, Languages):
//! the app's choice, a `nopassword_core::locale::Locale` that the app's own middleware
//! (`axum::middleware::from_fn`) put into the request's extensions; else `Accept-Language` negotiated
//! against the catalog's locales; else `default_locale`. Answers carry `Content-Language` and
//! `Vary: Accept-Language`; the code's mail and SMS follow the language of the request that
//! asked for it unless the user has one (`LoginUser::locale`). See docs/guide/i18n.md.
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
mod guard;
mod handlers;
mod health;
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
pub use backend::{Credentials, NoPasswordBackend, PasswordlessBackend, SessionUser};
pub use extract::{CurrentUser, MaybeUser};
pub use forwarded::request_info;
pub use guard::{LoginRequired, LoginRequiredLayer, login_required, login_required_with};
use handlers::{api, code, flow, login, logout};
pub use health::{READINESS_TIMEOUT, readiness, readiness_with_timeout};
pub use memory_sessions::MemorySessionStore;
pub use nopassword_core::http::RequestInfo;
use nopassword_core::{
    LoginUser, NoPassword, dispatch::Dispatcher, forms::MAX_BODY_BYTES, http::SECURITY_HEADERS,
};
pub use nopassword_core::{
    pages::{Pages, TEMPLATES},
    templates::TemplateError,
};
pub use session::{
    CSRF_FIELD, CookieSecurity, LoginLayer, LoginLayerBuilder, LoginLayerWith, SameSite,
    SecureCookieLayer, SecureCookies, SessionExpiry, login_layer,
};
use state::AppState;

/// Every route of the HTTP contract, mounted at `mount_path`, logging users into
/// [`NoPasswordBackend`]. Add [`login_layer`] to the app (outside this router) for sessions.
/// An app with its own axum-login backend mounts [`router_with`] instead.
///
/// Also makes `service` deliver codes in the background on the Tokio runtime, unless its
/// builder chose a delivery ([`Builder::dispatch`](nopassword_core::NoPasswordBuilder::dispatch) or
/// [`Builder::deliver_inline`](nopassword_core::NoPasswordBuilder::deliver_inline)); see the crate docs.
///
/// Fails when a page template or message catalog in `template_dir` does not parse, or when
/// the catalog has no `default_locale`.
pub fn router<U: LoginUser>(service: NoPassword<U>) -> Result<Router, TemplateError> {
    router_with::<NoPasswordBackend<U>>(service)
}

/// [`router`] for an app with its own axum-login backend `B` (passwords, OAuth, or a composite
/// of those and our [`Credentials`]): the routes log users into `B`, turning the user a code
/// proved into `B::User` with [`PasswordlessBackend::user_from_login`]. The app's
/// `AuthManagerLayer<B, _>` (from [`LoginLayerBuilder::backend`], or its own with a
/// [`SecureCookieLayer`] outside it) must wrap the router.
///
/// ```
/// use axum::Router;
/// use nopassword_axum::{LoginLayerBuilder, MemorySessionStore, NoPasswordBackend, router_with};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// // Here the backend is ours; an app names its own, which implements `PasswordlessBackend`.
/// let backend = NoPasswordBackend::new(service.clone());
/// let app: Router = Router::new()
///     .merge(router_with::<NoPasswordBackend<User>>(service.clone()).unwrap())
///     .layer(LoginLayerBuilder::new(&service, MemorySessionStore::default()).backend(backend).build());
/// ```
///
/// Fails when a page template or message catalog in `template_dir` does not parse, or when
/// the catalog has no `default_locale`.
pub fn router_with<B: PasswordlessBackend>(
    service: NoPassword<B::LoginUser>,
) -> Result<Router, TemplateError> {
    let pages = Pages::for_settings(service.settings())?;
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
    type U<B> = <B as PasswordlessBackend>::LoginUser;
    let routes = Router::new()
        .route(
            "/login/",
            get(login::form::<U<B>>).post(login::submit::<U<B>>),
        )
        .route(
            link,
            get(code::link_get::<B>)
                .head(code::link_head::<U<B>>)
                .post(code::link_post::<B>),
        )
        .route(
            "/login/code/",
            get(code::form::<U<B>>).post(code::submit::<B>),
        )
        .route(
            "/logout/",
            get(logout::get::<B>)
                .head(logout::head)
                .post(logout::post::<B>),
        )
        .route("/login/flow/complete/", post(flow::complete::<B>))
        .route("/api/login/", post(api::login::<B>))
        .route("/api/login/code/", post(api::login_code::<B>))
        .route("/api/login/flow/", get(api::flow_status::<U<B>>))
        .route("/api/login/flow/complete/", post(api::flow_complete::<B>))
        .route("/api/logout/", post(api::logout::<B>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            state::negotiate_locale::<U<B>>,
        ))
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
