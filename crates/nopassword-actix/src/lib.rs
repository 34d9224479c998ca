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
//! actix-identity login, so `Identity` works in the app's own handlers too. It is for apps
//! without sessions of their own.
//!
//! # Under the app's own sessions
//!
//! An app that already wraps actix-session's `SessionMiddleware` and actix-identity's
//! `IdentityMiddleware` mounts the routes under them and leaves [`login_middleware`] out:
//!
//! ```
//! use actix_identity::IdentityMiddleware;
//! use actix_session::SessionMiddleware;
//! use actix_web::{App, cookie::{Key, SameSite}};
//! use nopassword_actix::{MemorySessionStore, configure};
//! use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
//!
//! let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
//! let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
//!     .sender(Outbox::new(10))
//!     .build()
//!     .unwrap();
//! let routes = configure(service).unwrap();
//! let (store, key) = (MemorySessionStore::default(), Key::generate()); // the app's own
//! let _app = App::new()
//!     .configure(routes.clone())
//!     .wrap(IdentityMiddleware::default())
//!     .wrap(
//!         SessionMiddleware::builder(store, key)
//!             .cookie_http_only(true)
//!             .cookie_same_site(SameSite::Lax)
//!             .cookie_secure(true)
//!             .build(),
//!     );
//! ```
//!
//! A login through the routes is `Identity::login` under the app's `IdentityMiddleware` (its
//! `id_key`, deadlines), stores the user's [`LoginUser::id`], and renews the session id; a
//! logout is `Identity::logout` (the app's `LogoutBehavior`: purge the session, by default, or
//! only forget the login). [`CurrentUser`], [`MaybeUser`], [`LoggedIn`] and [`LoginRequired`]
//! count the app's own `Identity::login` logins too, as user ids of the same directory.
//! Beside the identity, a login through the routes keeps a keyed fingerprint of the user id in
//! the session (`nopassword.auth_hash`): rotating `secret_key` ends those logins.
//!
//! What changes against [`login_middleware`]: the session cookie is the app's (its name,
//! `Secure`, `SameSite`, expiry: we recommend HttpOnly, SameSite=Lax, `Secure` behind HTTPS,
//! and a server-side store, so that logout revokes a session); sessions start when the app's
//! handlers or a login first write to them (our pages write nothing); the flow and CSRF
//! cookies are ours either way, and get `Secure` on secure requests. Without an
//! `IdentityMiddleware` around them the routes answer 503 and log why, before any code is
//! spent (actix-identity panics when asked without it; the routes catch that panic, so an app
//! built with `panic = "abort"` must not forget it).
//!
//! # Login required
//!
//! [`LoginRequired`] (middleware, for a scope or the whole app) and [`LoggedIn`] (extractor,
//! for one handler) let only logged-in users through: a browser is redirected (302) to
//! `{mount_path}/login/?next=<the page it asked for>`, and comes back there after the login; a
//! JSON client (an `Accept` preferring JSON to HTML, or a JSON body) gets the API's 401
//! (docs/HTTP.md, Login required).
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
//! - Cross-device approval (docs/HTTP.md, Cross-device approval): the "Confirm login" page of
//!   another device offers three numbers; picking the one the asking browser's waiting page
//!   shows (`api/login/` answers it as `"number"`) approves that browser, and logs the picking
//!   device in nowhere. The waiting page polls `api/login/flow/` (`?flow=`, else the cookie)
//!   and completes through `POST login/flow/complete/`; API clients complete through
//!   `POST api/login/flow/complete/` (`{"flow"?}`), which answers as `api/login/code/`.
//! - `GET logout/` shows a "Log out?" form whose POST logs out, unless `logout_on_get` is on.
//! - Every login renews the session id, whatever session the request carried.
//!
//! # Languages
//!
//! Each request's pages and JSON messages are in its language (docs/HTTP.md, Languages):
//! the app's choice, a `nopassword_core::locale::Locale` that the app's own middleware
//! (`actix_web::middleware::from_fn`) put into the request's extensions; else `Accept-Language` negotiated
//! against the catalog's locales; else `default_locale`. Answers carry `Content-Language` and
//! `Vary: Accept-Language`; the code's mail and SMS follow the language of the request that
//! asked for it unless the user has one (`LoginUser::locale`). See docs/guide/i18n.md.
//!
//! # CSRF without sessions
//!
//! Anonymous visitors store nothing on the server: the routes write nothing to the session
//! before a login, so the sessions of [`login_middleware`] begin at login. The forms' CSRF protection is a signed double-submit cookie instead:
//! `{namespace}_csrf` (HttpOnly, SameSite=Lax, `Path={mount_path}`) holds a token signed with
//! `secret_key`, which every form repeats in its [`CSRF_FIELD`]; a POST whose field is not the
//! cookie's signed token gets 403. The cookie is set by the first page with a form and reused
//! while its signature holds (rotating `secret_key` into `secret_key_fallbacks` keeps it).
//! Every `Set-Cookie` of these routes gets `Secure` on secure requests (and under
//! [`login_middleware`], every `Set-Cookie` of the app).
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
mod guard;
mod handlers;
mod health;
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
pub use guard::{LoggedIn, LoginRequired, LoginRequiredService};
use handlers::{api, code, flow, login, logout};
pub use health::{READINESS_TIMEOUT, readiness, readiness_with_timeout};
pub use memory_store::{MemorySessionStore, new_session_key};
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

/// Every route of the HTTP contract at `mount_path`, as an [`App::configure`] argument. The
/// app needs sessions around them: its own actix-session `SessionMiddleware` and
/// actix-identity `IdentityMiddleware` (see the [crate docs](crate#under-the-apps-own-sessions)),
/// or [`login_middleware`].
///
/// The service is also registered as app data, so that the extractors ([`CurrentUser`],
/// [`MaybeUser`], [`LoggedIn`]) in the app's own handlers find it.
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
/// Fails when a page template or message catalog in `template_dir` does not parse, or when
/// the catalog has no `default_locale`.
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
    let pages = Pages::for_settings(service.settings())?;
    service.deliver_in_background_by_default(|| {
        Arc::new(Dispatcher::tokio(Dispatcher::DEFAULT_CAPACITY))
    });
    let state = web::Data::new(AppState { service, pages });
    Ok(move |cfg: &mut ServiceConfig| {
        // App data too: the extractors in the app's own handlers find the service here.
        cfg.app_data(state.clone());
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
                .wrap(actix_web::middleware::from_fn(state::negotiate_locale::<U>))
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
        .service(resource("login/flow/complete/").route(web::post().to(flow::complete::<U>)))
        .service(resource("api/login/").route(web::post().to(api::login::<U>)))
        .service(resource("api/login/code/").route(web::post().to(api::login_code::<U>)))
        .service(
            resource("api/login/flow/")
                .route(web::get().to(api::flow_status::<U>))
                .route(web::head().to(api::flow_status::<U>)),
        )
        .service(
            resource("api/login/flow/complete/").route(web::post().to(api::flow_complete::<U>)),
        )
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
