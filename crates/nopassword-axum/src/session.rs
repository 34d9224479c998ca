//! Sessions: the layer an app adds (tower-sessions + axum-login) and `Secure` cookies on secure
//! requests. Sessions begin at login: the CSRF token of anonymous pages lives in a signed
//! cookie (see [`CSRF_FIELD`]), never in the session store.

use std::{
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{HeaderValue, header::SET_COOKIE},
    response::Response,
};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder};
use nopassword_core::{
    LoginUser, NoPassword,
    http::{SESSION_IDLE_TIMEOUT, secure_set_cookies, session_cookie_name},
};
use tower::{Layer, Service, layer::util::Stack};
use tower_sessions::{
    Expiry, SessionManagerLayer, SessionStore,
    cookie::{SameSite, time::Duration},
};

use crate::{NoPasswordBackend, request_info};

/// The form field that carries the CSRF token (Django's name, so templates port over).
///
/// Every HTML form repeats the token of the `{namespace}_csrf` cookie (HttpOnly, SameSite=Lax,
/// scoped to `mount_path`) in this field: a token signed with `secret_key`, set by the first
/// page with a form, and checked on every HTML `POST` (403 otherwise). No session is needed.
pub use nopassword_core::http::CSRF_FIELD;

/// The session and login layers [`login_layer`] returns.
pub type LoginLayer<U, Store> =
    Stack<AuthManagerLayer<NoPasswordBackend<U>, Store>, SecureCookieLayer>;

/// Sessions for the whole app: a tower-sessions session in `store` (cookie `{namespace}_session`,
/// HttpOnly, SameSite=Lax, `Secure` when the request is secure, two weeks of inactivity), and
/// axum-login's auth manager with [`NoPasswordBackend`]. Add it to the app's outermost router.
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
    let settings = service.settings();
    let idle = Duration::seconds(i64::try_from(SESSION_IDLE_TIMEOUT.as_secs()).unwrap_or(i64::MAX));
    let sessions = SessionManagerLayer::new(store)
        .with_name(session_cookie_name(settings))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle));
    let auth =
        AuthManagerLayerBuilder::new(NoPasswordBackend::new(service.clone()), sessions).build();
    Stack::new(
        auth,
        SecureCookieLayer::new(settings.trusted_proxies.clone()),
    )
}

/// Adds `Secure` to every `Set-Cookie` of a response to a secure request (HTTPS directly, or
/// `X-Forwarded-Proto: https` from a trusted proxy), so one app serves both in development.
#[derive(Debug, Clone)]
pub struct SecureCookieLayer {
    trusted: Arc<[IpAddr]>,
}

impl SecureCookieLayer {
    /// A layer believing proxy headers from `trusted` only.
    pub fn new(trusted: Vec<IpAddr>) -> Self {
        Self {
            trusted: trusted.into(),
        }
    }
}

impl<S> Layer<S> for SecureCookieLayer {
    type Service = SecureCookies<S>;

    fn layer(&self, inner: S) -> SecureCookies<S> {
        SecureCookies {
            inner,
            trusted: Arc::clone(&self.trusted),
        }
    }
}

/// The service of [`SecureCookieLayer`].
#[derive(Debug, Clone)]
pub struct SecureCookies<S> {
    inner: S,
    trusted: Arc<[IpAddr]>,
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
        let secure = request_info(
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
