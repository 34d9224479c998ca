//! The middleware an app without sessions of its own adds: actix-session's `SessionMiddleware`
//! with actix-identity's `IdentityMiddleware` inside, and `Secure` on every `Set-Cookie` of a
//! secure request. An app that has both already needs none of this (see the crate docs,
//! "Under the app's own sessions").
//!
//! Sessions begin at login (docs/HTTP.md, Login flows): the pages anonymous visitors see keep their CSRF
//! token in a signed cookie (see `cookies`), never in the session, and actix-session stores
//! nothing for a session whose state is empty and unchanged. So no anonymous page view writes
//! to the session store.

use std::{fmt, future::Future, net::IpAddr, pin::Pin, rc::Rc};

use actix_identity::IdentityMiddleware;
use actix_session::{
    SessionMiddleware,
    config::{PersistentSession, TtlExtensionPolicy},
    storage::SessionStore,
};
use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    cookie::{Key, SameSite, time::Duration},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::header::{HeaderValue, SET_COOKIE},
};
use nopassword_core::{
    LoginUser, NoPassword,
    http::{SESSION_IDLE_TIMEOUT, secure_set_cookies, session_cookie_name},
};

use crate::request_info;

/// What [`LoginService`] leaves in every request's extensions: proof that its
/// `IdentityMiddleware` runs, and the service the extractors load users through (an app with
/// its own sessions has the service in the app data `configure` registers instead).
pub(crate) struct LoginContext<U: LoginUser> {
    pub(crate) service: NoPassword<U>,
}

impl<U: LoginUser> Clone for LoginContext<U> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

/// Sessions and logins for an app that has none of its own (an app that has them mounts the
/// routes under its own instead: see the [crate docs](crate#under-the-apps-own-sessions)):
/// actix-session's `SessionMiddleware` over `store`
/// (cookie `{namespace}_session`, HttpOnly, SameSite=Lax, `Secure` when the request is secure,
/// two weeks of inactivity, its key derived from `secret_key`) with actix-identity's
/// `IdentityMiddleware` inside. `.wrap()` it on the `App`, after the routes.
///
/// `store` is any actix-session store: [`MemorySessionStore`](crate::MemorySessionStore) for one process,
/// `RedisSessionStore` (actix-session's `redis-session` feature) for several instances. Its
/// `CookieSessionStore` works too, but a cookie session cannot be revoked: a copy of a
/// logged-in cookie stays valid after logout until it expires.
///
/// ```
/// use actix_web::App;
/// use nopassword_actix::{MemorySessionStore, configure, login_middleware};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let _app = App::new()
///     .configure(configure(service.clone()).unwrap())
///     .wrap(login_middleware(&service, MemorySessionStore::default()));
/// ```
pub fn login_middleware<U, Store>(
    service: &NoPassword<U>,
    store: Store,
) -> LoginMiddleware<U, Store>
where
    U: LoginUser,
    Store: SessionStore + 'static,
{
    let settings = service.settings();
    // `build()` refuses a service without a secret key of at least 32 bytes; derive_from
    // needs exactly that. HKDF keeps the cookie key independent of the code-hashing key.
    let secret = settings
        .secret_key
        .as_ref()
        .map_or(&[][..], |key| key.expose().as_bytes());
    let key = if secret.len() >= 32 {
        Key::derive_from(secret)
    } else {
        tracing::warn!("secret_key too short for session cookies; using a random key");
        Key::generate()
    };
    let idle = Duration::seconds(i64::try_from(SESSION_IDLE_TIMEOUT.as_secs()).unwrap_or(i64::MAX));
    let sessions = SessionMiddleware::builder(store, key)
        .cookie_name(session_cookie_name(settings))
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(false)
        .cookie_path("/".into())
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(idle)
                .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build();
    LoginMiddleware {
        service: service.clone(),
        sessions,
        identity: IdentityMiddleware::default(),
        trusted: settings.trusted_proxies.clone().into(),
    }
}

/// The middleware [`login_middleware`] returns.
pub struct LoginMiddleware<U: LoginUser, Store: SessionStore> {
    service: NoPassword<U>,
    sessions: SessionMiddleware<Store>,
    identity: IdentityMiddleware,
    trusted: Rc<[IpAddr]>,
}

impl<U: LoginUser, Store: SessionStore> fmt::Debug for LoginMiddleware<U, Store> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginMiddleware").finish_non_exhaustive()
    }
}

type Identities<S> = <IdentityMiddleware as Transform<S, ServiceRequest>>::Transform;
type Sessions<S, Store> =
    <SessionMiddleware<Store> as Transform<Identities<S>, ServiceRequest>>::Transform;
type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B, U, Store> Transform<S, ServiceRequest> for LoginMiddleware<U, Store>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
    U: LoginUser,
    Store: SessionStore + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = LoginService<U, Sessions<S, Store>>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        // Both transforms are ready at once (their futures are `Ready`).
        let transformed = self
            .identity
            .new_transform(inner)
            .into_inner()
            .and_then(|inner| self.sessions.new_transform(inner).into_inner())
            .map(|inner| LoginService {
                inner,
                context: LoginContext {
                    service: self.service.clone(),
                },
                trusted: Rc::clone(&self.trusted),
            });
        std::future::ready(transformed)
    }
}

/// The service of [`LoginMiddleware`].
pub struct LoginService<U: LoginUser, S> {
    inner: S,
    context: LoginContext<U>,
    trusted: Rc<[IpAddr]>,
}

impl<U: LoginUser, S> fmt::Debug for LoginService<U, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginService").finish_non_exhaustive()
    }
}

impl<U, S, B> Service<ServiceRequest> for LoginService<U, S>
where
    U: LoginUser,
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<ServiceResponse<B>, Error>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let secure = request_info(req.request(), &self.trusted).secure;
        req.extensions_mut().insert(self.context.clone());
        let response = self.inner.call(req);
        Box::pin(async move {
            let mut response = response.await?;
            if secure {
                // One app serves HTTP in development and HTTPS behind a proxy.
                let headers = response.headers_mut();
                let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).cloned().collect();
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
