//! Passwordless login for actix-web: every route of the nopassword-rs HTTP contract, HTML pages
//! and a JSON API, with sessions through actix-session and logins through actix-identity.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use nopassword_actix::{MaybeUser, MemorySessionStore, configure, login_middleware};
//! use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
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
//! // /accounts/login/, /accounts/login-code/..., /accounts/api/... (templates load once here)
//! let routes = configure(service.clone())?;
//! let sessions = MemorySessionStore::default(); // or actix-session's RedisSessionStore
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/", web::get().to(home))
//!         .configure(routes.clone())
//!         .wrap(login_middleware(&service, sessions.clone()))
//! })
//! .bind("127.0.0.1:8000")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! [`login_middleware`] is actix-session's `SessionMiddleware` (cookie `{namespace}_session`,
//! HttpOnly, SameSite=Lax, `Secure` on secure requests, two weeks of inactivity) with
//! actix-identity's `IdentityMiddleware` inside it: a login through these routes is an
//! actix-identity login, so `Identity` works in the app's own handlers too.
//!
//! # Login flows (docs/HTTP.md, Login flows)
//!
//! Every code is bound to the browser (or API client) that asked for it:
//!
//! - `POST login/` and `POST api/login/` set the **flow cookie** `{namespace}_flow` (HttpOnly,
//!   SameSite=Lax, `Path={mount_path}`, living as long as the code); `api/login/` also answers
//!   it as `"flow"`, for clients without a cookie jar. Unknown and inactive users get one too.
//! - A login link opened with that cookie works as before: the "Logging in..." page, whose
//!   POST logs in (or an immediate login with `post_redirect = false`). Opened by any other
//!   client it shows "Confirm login", naming the account, with a button and no script
//!   (`cross_device_links = "confirm"`, the default), answers 403 (`"deny"`), or works as
//!   before (`"allow"`). `GET` and `HEAD` of a link never consume it, except a `GET` that logs
//!   in at once.
//! - A typed code (`login/code/`, `api/login/code/`) counts only with its flow: the cookie, or
//!   the `"flow"` of the JSON body.
//! - `GET logout/` shows a "Log out?" form whose POST logs out, unless `logout_on_get` is on.
//! - Every login renews the session id, whatever session the request carried.
//!
//! # CSRF without sessions
//!
//! Anonymous visitors store nothing on the server: the sessions of [`login_middleware`] begin
//! at login. The forms' CSRF protection is a signed double-submit cookie instead:
//! `{namespace}_csrf` (HttpOnly, SameSite=Lax, `Path={mount_path}`) holds a token signed with
//! `secret_key`, which every form repeats in its [`CSRF_FIELD`]; a POST whose field is not the
//! cookie's signed token gets 403. The cookie is set by the first page with a form and reused
//! while its signature holds (rotating `secret_key` into `secret_key_fallbacks` keeps it).
//! Every `Set-Cookie` gets `Secure` on secure requests.
//!
//! # Background delivery
//!
//! [`configure`] makes the service deliver codes off the request path, on the Tokio runtime
//! actix-web runs on, through a bounded [`Dispatcher`]: a real
//! user's answer then takes as long as an unknown user's, whatever the mail server does. A
//! full queue is a 503 for everyone alike; a failed delivery is logged and counted
//! ([`NoPassword::delivery_failures`]) instead of answered with 503. An app that chose with
//! [`Builder::dispatch`](nopassword_core::NoPasswordBuilder::dispatch) or
//! [`Builder::deliver_inline`](nopassword_core::NoPasswordBuilder::deliver_inline) keeps its choice.

mod assets;
mod cookies;
mod extract;
mod forwarded;
mod handlers;
mod memory_store;
mod middleware;
mod session;
mod state;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix_web::{
    middleware::DefaultHeaders,
    web::{self, ServiceConfig},
};
pub use extract::{CurrentUser, MaybeUser};
pub use forwarded::request_info;
use handlers::{api, code, login, logout};
pub use memory_store::MemorySessionStore;
pub use middleware::{LoginMiddleware, LoginService, login_middleware};
pub use nopassword_core::http::{CSRF_FIELD, RequestInfo};
use nopassword_core::{
    LoginUser, NoPassword, dispatch::Dispatcher, http::SECURITY_HEADERS, pages::STATIC_ROUTE,
};
pub use nopassword_core::{
    pages::{Pages, TEMPLATES},
    templates::TemplateError,
};
use state::AppState;

/// Every route of the HTTP contract at `mount_path`, as an [`App::configure`] argument. Add
/// [`login_middleware`] to the app for sessions.
///
/// The page templates load (and `template_dir` overrides are checked) here, once; the
/// returned function is cheap to clone into each worker's `App`. Each route is registered
/// at its full path (no scope), so the app's own routes beside or under `mount_path` keep
/// working, even with `mount_path = "/"`.
///
/// Mounting the service also makes its delivery run in the background by default (see the
/// [crate docs](crate#background-delivery)): a [`Dispatcher`] of
/// [`Dispatcher::DEFAULT_CAPACITY`] on the Tokio runtime of the actix-web workers, unless the
/// builder chose otherwise.
///
/// Fails when a page template in `template_dir` does not parse.
///
/// ```
/// use actix_web::App;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let routes = nopassword_actix::configure(service).unwrap();
/// let _app = App::new().configure(routes.clone());
/// ```
///
/// [`App::configure`]: actix_web::App::configure
pub fn configure<U: LoginUser>(
    service: NoPassword<U>,
) -> Result<impl Fn(&mut ServiceConfig) + Clone + Send + 'static, TemplateError> {
    let pages = Pages::load(service.settings().template_dir.as_deref())?;
    service.deliver_in_background_by_default(|| {
        Arc::new(Dispatcher::tokio(Dispatcher::DEFAULT_CAPACITY))
    });
    let state = web::Data::new(AppState { service, pages });
    Ok(move |cfg: &mut ServiceConfig| {
        let settings = state.service.settings();
        let at = |route: &str| format!("{}/{route}", settings.mount_path);
        let link = if settings.hide_username {
            "login-code/{code}/"
        } else {
            "login-code/{username}/{code}/"
        };
        let resource = |route: &str| {
            web::resource(at(route))
                .app_data(state.clone())
                .wrap(security_headers())
        };
        cfg.service(
            resource("login/")
                .route(web::get().to(login::form::<U>))
                .route(web::head().to(login::form::<U>))
                .route(web::post().to(login::submit::<U>)),
        )
        .service(
            resource(link)
                .route(web::get().to(code::link_get::<U>))
                .route(web::head().to(code::link_head::<U>))
                .route(web::post().to(code::link_post::<U>)),
        )
        .service(
            resource("login/code/")
                .route(web::get().to(code::form::<U>))
                .route(web::head().to(code::form::<U>))
                .route(web::post().to(code::submit::<U>)),
        )
        .service(
            resource("logout/")
                .route(web::get().to(logout::get::<U>))
                .route(web::head().to(logout::head))
                .route(web::post().to(logout::post::<U>)),
        )
        .service(resource("api/login/").route(web::post().to(api::login::<U>)))
        .service(resource("api/login/code/").route(web::post().to(api::login_code::<U>)))
        .service(resource("api/logout/").route(web::post().to(api::logout::<U>)))
        // Without the security headers: the pages' static files are cached, not `no-store`.
        .service(
            web::resource(format!("{}{STATIC_ROUTE}", settings.mount_path))
                .route(web::get().to(assets::serve))
                .route(web::head().to(assets::serve)),
        );
    })
}

/// `Cache-Control: no-store`, the Content-Security-Policy, `Referrer-Policy: no-referrer`,
/// nosniff and `X-Frame-Options: DENY` on every answer of the contract's routes.
fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |headers, &header| {
            headers.add(header)
        })
}
