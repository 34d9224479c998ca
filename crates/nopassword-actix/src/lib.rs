//! Passwordless login for actix-web: every route of the nopassword-rs HTTP contract, HTML pages
//! and a JSON API, with sessions through actix-session and logins through actix-identity.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use nopassword_actix::{MaybeUser, MemorySessionStore, configure, login_middleware};
//! use nopassword_core::{MemoryDirectory, NoPassword, Outbox, Settings, User};
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

mod extract;
mod forwarded;
mod handlers;
mod pages;
mod session;
mod state;

use actix_web::{
    middleware::DefaultHeaders,
    web::{self, ServiceConfig},
};
pub use extract::{CurrentUser, MaybeUser};
pub use forwarded::request_info;
use handlers::{api, code, login, logout};
pub use nopassword_core::http::{CSRF_FIELD, RequestInfo};
use nopassword_core::{LoginUser, NoPassword, http::SECURITY_HEADERS};
pub use pages::{Pages, TEMPLATES, TemplateError};
pub use session::{LoginMiddleware, LoginService, MemorySessionStore, login_middleware};
use state::AppState;

/// Every route of the HTTP contract at `mount_path`, as an [`App::configure`] argument. Add
/// [`login_middleware`] to the app for sessions.
///
/// The page templates load (and `template_dir` overrides are checked) here, once; the
/// returned function is cheap to clone into each worker's `App`. Each route is registered
/// at its full path (no scope), so the app's own routes beside or under `mount_path` keep
/// working, even with `mount_path = "/"`.
///
/// Fails when a page template in `template_dir` does not parse.
///
/// ```
/// use actix_web::App;
/// use nopassword_core::{MemoryDirectory, NoPassword, Outbox, Settings, User};
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
        .service(resource("api/logout/").route(web::post().to(api::logout::<U>)));
    })
}

/// `Cache-Control: no-store`, `Referrer-Policy: no-referrer`, nosniff and `X-Frame-Options:
/// DENY` on every answer of the contract's routes.
fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |headers, &header| {
            headers.add(header)
        })
}
