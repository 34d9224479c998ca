//! Sessions: the layer an app adds (tower-sessions + axum-login) and `Secure` cookies on secure
//! requests. Sessions begin at login: the CSRF token of anonymous pages lives in a signed
//! cookie (see [`CSRF_FIELD`]), never in the session store.

use std::{
    fmt,
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::Request,
    http::{HeaderValue, header::SET_COOKIE},
    response::Response,
};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthnBackend};
use nopassword_core::{
    LoginUser, NoPassword,
    http::{SESSION_IDLE_TIMEOUT, secure_set_cookies, session_cookie_name},
};
use tower::{Layer, Service, layer::util::Stack};
pub use tower_sessions::cookie::SameSite;
use tower_sessions::{
    Expiry, SessionManagerLayer, SessionStore, cookie::time::Duration as TimeDuration,
};

#[cfg(doc)]
use crate::PasswordlessBackend;
use crate::{NoPasswordBackend, request_info};

/// The form field that carries the CSRF token (Django's name, so templates port over).
///
/// Every HTML form repeats the token of the `{namespace}_csrf` cookie (HttpOnly, SameSite=Lax,
/// scoped to `mount_path`) in this field: a token signed with `secret_key`, set by the first
/// page with a form, and checked on every HTML `POST` (403 otherwise). No session is needed.
pub use nopassword_core::http::CSRF_FIELD;

/// The session and login layers [`login_layer`] returns.
pub type LoginLayer<U, Store> = LoginLayerWith<NoPasswordBackend<U>, Store>;

/// The session and login layers of [`LoginLayerBuilder::build`], for the axum-login backend
/// `B`: [`SecureCookieLayer`] outside axum-login's auth manager (which holds the session layer).
pub type LoginLayerWith<B, Store> = Stack<AuthManagerLayer<B, Store>, SecureCookieLayer>;

/// Sessions for the whole app: a tower-sessions session in `store` (cookie `{namespace}_session`,
/// HttpOnly, SameSite=Lax, path `/`, `Secure` when the request is secure, ending two weeks after
/// login), and axum-login's auth manager with [`NoPasswordBackend`]. Add it to the app's
/// outermost router. [`LoginLayerBuilder`] changes any of these, or the backend.
///
/// The store sees a session only from login on (with a fresh id at every login): the pages of
/// [`router`](crate::router) write nothing to it for anonymous visitors.
///
/// ```
/// use axum::Router;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
/// use nopassword_axum::MemorySessionStore;
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let app: Router = Router::new()
///     .merge(nopassword_axum::router(service.clone()).unwrap())
///     .layer(nopassword_axum::login_layer(&service, MemorySessionStore::default()));
/// ```
pub fn login_layer<U, Store>(service: &NoPassword<U>, store: Store) -> LoginLayer<U, Store>
where
    U: LoginUser,
    Store: SessionStore + Clone,
{
    LoginLayerBuilder::new(service, store).build()
}

/// When cookies carry `Secure` (browsers then send them over HTTPS only, and to `localhost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieSecurity {
    /// On the answers to secure requests: HTTPS, or `X-Forwarded-Proto: https` from one of
    /// `trusted_proxies`. One app then serves plain HTTP in development. The default.
    #[default]
    ByRequest,
    /// On every cookie of every answer (session, flow and CSRF cookies), whatever the request
    /// says: for sites served over HTTPS only, behind a proxy that does not say so.
    Always,
}

/// How long a login session lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionExpiry {
    /// Ends after this long without a request. Every request that carries the session renews
    /// it: the cookie's `Max-Age` and the store's copy are written again each time (one store
    /// write per logged-in request).
    Inactivity(Duration),
    /// Ends this long after login (or after the app's own last write to the session), however
    /// active the user: the cookie's `Max-Age` and the store's expiry. The default is two weeks
    /// ([`SESSION_IDLE_TIMEOUT`]).
    Fixed(Duration),
    /// Ends when the browser closes: a cookie without `Max-Age`. The store still drops the
    /// session two weeks after it was last written.
    BrowserSession,
}

impl Default for SessionExpiry {
    fn default() -> Self {
        Self::Fixed(SESSION_IDLE_TIMEOUT)
    }
}

/// tower-sessions' expiry, and whether every request saves the session.
fn tower_expiry(expiry: SessionExpiry) -> (Expiry, bool) {
    let time = |d: Duration| TimeDuration::try_from(d).unwrap_or(TimeDuration::MAX);
    match expiry {
        SessionExpiry::Inactivity(d) => (Expiry::OnInactivity(time(d)), true),
        SessionExpiry::Fixed(d) => (Expiry::OnInactivity(time(d)), false),
        SessionExpiry::BrowserSession => (Expiry::OnSessionEnd, false),
    }
}

/// Builds the session and login layers: [`login_layer`] with other cookie settings, another
/// session lifetime, or the app's own axum-login backend.
///
/// The session cookie is always HttpOnly with path `/`. Every option defaults to what
/// [`login_layer`] does: name `{namespace}_session`, [`SameSite::Lax`], no `Domain` (this host
/// only), [`CookieSecurity::ByRequest`], [`SessionExpiry::Fixed`] two weeks, [`NoPasswordBackend`].
///
/// ```
/// use std::time::Duration;
///
/// use axum::Router;
/// use nopassword_axum::{CookieSecurity, LoginLayerBuilder, MemorySessionStore, SameSite, SessionExpiry};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let sessions = LoginLayerBuilder::new(&service, MemorySessionStore::default())
///     .cookie_name("__Host-sid")
///     .same_site(SameSite::Strict)
///     .secure(CookieSecurity::Always)
///     .expiry(SessionExpiry::Inactivity(Duration::from_secs(30 * 60)))
///     .build();
/// let app: Router = Router::new()
///     .merge(nopassword_axum::router(service.clone()).unwrap())
///     .layer(sessions);
/// ```
///
/// `SameSite::None` makes the session cookie `Secure` whatever [`CookieSecurity`] says
/// (browsers refuse it otherwise). `SameSite::Strict` keeps the session from the first page
/// reached from another site (a bookmark opened from a mail or a chat).
pub struct LoginLayerBuilder<B, Store> {
    backend: B,
    store: Store,
    cookie_name: String,
    same_site: SameSite,
    security: CookieSecurity,
    domain: Option<String>,
    expiry: SessionExpiry,
    trusted: Vec<IpAddr>,
}

impl<B, Store> fmt::Debug for LoginLayerBuilder<B, Store> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginLayerBuilder")
            .field("cookie_name", &self.cookie_name)
            .field("same_site", &self.same_site)
            .field("security", &self.security)
            .field("domain", &self.domain)
            .field("expiry", &self.expiry)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl<U, Store> LoginLayerBuilder<NoPasswordBackend<U>, Store>
where
    U: LoginUser,
    Store: SessionStore + Clone,
{
    /// [`login_layer`]'s defaults: sessions in `store` for [`NoPasswordBackend`] on `service`,
    /// whose settings give the cookie name (`namespace`) and the `trusted_proxies`.
    pub fn new(service: &NoPassword<U>, store: Store) -> Self {
        let settings = service.settings();
        Self {
            backend: NoPasswordBackend::new(service.clone()),
            store,
            cookie_name: session_cookie_name(settings),
            same_site: SameSite::Lax,
            security: CookieSecurity::default(),
            domain: None,
            expiry: SessionExpiry::default(),
            trusted: settings.trusted_proxies.clone(),
        }
    }
}

impl<B, Store> LoginLayerBuilder<B, Store>
where
    B: AuthnBackend,
    Store: SessionStore + Clone,
{
    /// Logs users into the app's own axum-login backend instead (a [`PasswordlessBackend`]
    /// for the routes of [`router_with`](crate::router_with)).
    pub fn backend<B2: AuthnBackend>(self, backend: B2) -> LoginLayerBuilder<B2, Store> {
        LoginLayerBuilder {
            backend,
            store: self.store,
            cookie_name: self.cookie_name,
            same_site: self.same_site,
            security: self.security,
            domain: self.domain,
            expiry: self.expiry,
            trusted: self.trusted,
        }
    }

    /// The session cookie's name (default `{namespace}_session`). A `__Host-` name needs
    /// [`CookieSecurity::Always`] and no [`domain`](Self::domain).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The session cookie's `SameSite` (default `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// When cookies carry `Secure` (default [`CookieSecurity::ByRequest`]).
    pub fn secure(mut self, security: CookieSecurity) -> Self {
        self.security = security;
        self
    }

    /// The session cookie's `Domain`, to share the login with subdomains (default none: this
    /// host only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// How long a session lasts (default [`SessionExpiry::Fixed`] two weeks).
    pub fn expiry(mut self, expiry: SessionExpiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// The layers: add them to the app's outermost router.
    pub fn build(self) -> LoginLayerWith<B, Store> {
        let (expiry, always_save) = tower_expiry(self.expiry);
        let secure = self.security == CookieSecurity::Always || self.same_site == SameSite::None;
        let mut sessions = SessionManagerLayer::new(self.store)
            .with_name(self.cookie_name)
            .with_http_only(true)
            .with_same_site(self.same_site)
            .with_secure(secure)
            .with_path("/")
            .with_expiry(expiry)
            .with_always_save(always_save);
        if let Some(domain) = self.domain {
            sessions = sessions.with_domain(domain);
        }
        let auth = AuthManagerLayerBuilder::new(self.backend, sessions).build();
        let mut cookies = SecureCookieLayer::new(self.trusted);
        if self.security == CookieSecurity::Always {
            cookies = cookies.always();
        }
        Stack::new(auth, cookies)
    }
}

/// Adds `Secure` to every `Set-Cookie` of a response to a secure request (HTTPS directly, or
/// `X-Forwarded-Proto: https` from a trusted proxy), so one app serves both in development; or,
/// made [`always`](Self::always), to every response.
///
/// [`login_layer`] includes it. An app that builds its own axum-login `AuthManagerLayer` adds
/// it outside that layer, so the flow and CSRF cookies of the routes get `Secure` too:
///
/// ```
/// use axum::Router;
/// use nopassword_axum::SecureCookieLayer;
/// use nopassword_core::Settings;
///
/// let settings = Settings::default();
/// let app: Router = Router::new() /* .layer(the app's AuthManagerLayer) */
///     .layer(SecureCookieLayer::new(settings.trusted_proxies.clone()));
/// ```
#[derive(Debug, Clone)]
pub struct SecureCookieLayer {
    trusted: Arc<[IpAddr]>,
    always: bool,
}

impl SecureCookieLayer {
    /// A layer believing proxy headers from `trusted` only.
    pub fn new(trusted: Vec<IpAddr>) -> Self {
        Self {
            trusted: trusted.into(),
            always: false,
        }
    }

    /// Adds `Secure` to the cookies of every response, secure request or not
    /// ([`CookieSecurity::Always`]).
    pub fn always(mut self) -> Self {
        self.always = true;
        self
    }
}

impl<S> Layer<S> for SecureCookieLayer {
    type Service = SecureCookies<S>;

    fn layer(&self, inner: S) -> SecureCookies<S> {
        SecureCookies {
            inner,
            trusted: Arc::clone(&self.trusted),
            always: self.always,
        }
    }
}

/// The service of [`SecureCookieLayer`].
#[derive(Debug, Clone)]
pub struct SecureCookies<S> {
    inner: S,
    trusted: Arc<[IpAddr]>,
    always: bool,
}

impl<S> Service<Request> for SecureCookies<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let secure = self.always
            || request_info(
                request.headers(),
                request.uri(),
                request.extensions(),
                &self.trusted,
            )
            .secure;
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            if secure {
                let headers = response.headers_mut();
                let cookies: Vec<HeaderValue> =
                    headers.get_all(SET_COOKIE).iter().cloned().collect();
                headers.remove(SET_COOKIE);
                let secured = secure_set_cookies(
                    cookies,
                    |value| value.to_str().ok(),
                    |text| HeaderValue::try_from(text).ok(),
                );
                for cookie in secured {
                    headers.append(SET_COOKIE, cookie);
                }
            }
            Ok(response)
        })
    }
}
