//! Sessions: the middleware an app adds (actix-session + actix-identity), `Secure` cookies on
//! secure requests, the login itself, and an in-memory session store for development and tests.
//!
//! Sessions begin at login (SPEC section 8): the pages anonymous visitors see keep their CSRF
//! token in a signed cookie (see `cookies`), never in the session, and actix-session stores
//! nothing for a session whose state is empty and unchanged. So no anonymous page view writes
//! to the session store.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    net::IpAddr,
    pin::Pin,
    rc::Rc,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration as StdDuration, Instant},
};

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::{
    Session, SessionExt, SessionMiddleware,
    config::{PersistentSession, TtlExtensionPolicy},
    storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError},
};
use actix_web::{
    Error, HttpMessage, HttpRequest,
    body::MessageBody,
    cookie::{Key, SameSite, time::Duration},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::header::{HeaderValue, SET_COOKIE},
};
use nopassword_core::{
    CodeRng, LoginUser, NoPassword, SecretString, SystemRng,
    http::{Failure, SESSION_IDLE_TIMEOUT, secure_set_cookie, session_cookie_name},
};

use crate::request_info;

/// Session key of the keyed fingerprint of the logged-in user's id: rotating `secret_key` ends
/// every session (axum-login's `session_auth_hash`).
pub(crate) const AUTH_HASH_KEY: &str = "nopassword.auth_hash";

/// Session key of actix-identity's user id (its default `id_key`, which
/// [`login_middleware`] keeps).
const ID_KEY: &str = "actix_identity.user_id";

/// What [`LoginService`] leaves in every request's extensions: proof that the middleware is
/// installed, and the service the extractors load users through.
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

/// Sessions and logins for the whole app: actix-session's `SessionMiddleware` over `store`
/// (cookie `{namespace}_session`, HttpOnly, SameSite=Lax, `Secure` when the request is secure,
/// two weeks of inactivity, its key derived from `secret_key`) with actix-identity's
/// `IdentityMiddleware` inside. `.wrap()` it on the `App`, after the routes.
///
/// `store` is any actix-session store: [`MemorySessionStore`] for one process,
/// `RedisSessionStore` (actix-session's `redis-session` feature) for several instances. Its
/// `CookieSessionStore` works too, but a cookie session cannot be revoked: a copy of a
/// logged-in cookie stays valid after logout until it expires.
///
/// ```
/// use actix_web::App;
/// use nopassword_actix::{MemorySessionStore, configure, login_middleware};
/// use nopassword_core::{MemoryDirectory, NoPassword, Outbox, Settings, User};
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
                for cookie in cookies {
                    let secured = cookie
                        .to_str()
                        .ok()
                        .and_then(secure_set_cookie)
                        .and_then(|text| HeaderValue::from_str(&text).ok())
                        .unwrap_or(cookie);
                    headers.append(SET_COOKIE, secured);
                }
            }
            Ok(response)
        })
    }
}

/// 503 unless [`login_middleware`] is installed: without it no login could be kept.
pub(crate) fn require_middleware<U: LoginUser>(req: &HttpRequest) -> Result<(), Failure> {
    if req.extensions().get::<LoginContext<U>>().is_none() {
        tracing::error!("nopassword_actix::login_middleware is missing from the app");
        return Err(Failure::Unavailable);
    }
    Ok(())
}

/// The request's session, when [`login_middleware`] is installed. Reading it writes nothing:
/// actix-session stores a session only when its state changes.
pub(crate) fn session<U: LoginUser>(req: &HttpRequest) -> Result<Session, Failure> {
    require_middleware::<U>(req)?;
    Ok(req.get_session())
}

fn unavailable(error: impl fmt::Display) -> Failure {
    tracing::error!(%error, "session unavailable");
    Failure::Unavailable
}

/// Logs `user` in, always under a new session id, whatever the request carried (no session,
/// a session of another user or of a user now inactive, a planted cookie): a fixed session id
/// is worthless.
///
/// A session that belonged to someone else (another user id, or a fingerprint that no longer
/// matches) is emptied first, so nothing of theirs carries over (Django's `flush`); an
/// anonymous session keeps its state under the new id (Django's `cycle_key`). Then the
/// actix-identity login, the user's keyed fingerprint, and the renewal: actix-session deletes
/// the old entry and saves the state under a fresh key.
pub(crate) fn start_session<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
    user: &U,
) -> Result<(), Failure> {
    let session = session::<U>(req)?;
    let id = user.id();
    let hash = service.session_auth_hash(&id);
    // Whether the session holds another value under `key`; an unreadable one is not kept.
    let differs = |key: &str, ours: &str| match session.get::<String>(key) {
        Ok(None) => false,
        Ok(Some(held)) => SecretString::new(held) != SecretString::new(ours.to_owned()),
        Err(_) => true,
    };
    if differs(ID_KEY, &id) || differs(AUTH_HASH_KEY, &hash) {
        session.clear();
    }
    Identity::login(&req.extensions(), id).map_err(unavailable)?;
    session.insert(AUTH_HASH_KEY, hash).map_err(unavailable)?;
    // `Identity::login` renews too; this keeps the guarantee here, whatever it does.
    session.renew();
    Ok(())
}

/// Ends the session (and its login) entirely.
pub(crate) fn end_session<U: LoginUser>(req: &HttpRequest) -> Result<(), Failure> {
    session::<U>(req)?.purge();
    Ok(())
}

/// The id of the session's user, if the fingerprint still matches the service's key.
pub(crate) fn session_user_id<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
) -> Option<String> {
    use actix_identity::IdentityExt;

    let id = req.get_identity().ok()?.id().ok()?;
    let stored = req.get_session().get::<String>(AUTH_HASH_KEY).ok()??;
    (SecretString::new(stored) == SecretString::new(service.session_auth_hash(&id))).then_some(id)
}

/// Session states kept in this process's memory: sessions end at logout and expire after
/// their TTL, and nothing is shared between processes (use actix-session's
/// `RedisSessionStore` for several instances). Clones share the same sessions.
///
/// ```
/// use nopassword_actix::MemorySessionStore;
///
/// let store = MemorySessionStore::default();
/// assert!(store.is_empty());
/// ```
#[derive(Clone, Default)]
pub struct MemorySessionStore {
    sessions: Arc<Mutex<SessionMap>>,
}

/// A session's state, as actix-session hands it to stores.
type SessionState = HashMap<String, String>;

/// Session key → state and deadline, and the size at which the next sweep runs.
#[derive(Default)]
struct SessionMap {
    sessions: HashMap<String, (SessionState, Instant)>,
    sweep_at: usize,
}

impl std::ops::Deref for SessionMap {
    type Target = HashMap<String, (SessionState, Instant)>;
    fn deref(&self) -> &Self::Target {
        &self.sessions
    }
}

impl std::ops::DerefMut for SessionMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.sessions
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("sessions", &self.len())
            .finish()
    }
}

/// Sessions that outgrow this many are swept for expired ones on the next save; after a sweep
/// the next one waits until the live sessions double, so sweeping costs O(1) per save amortised.
const SWEEP_AT: usize = 1024;

impl MemorySessionStore {
    /// The number of sessions held (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionMap> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deadline(ttl: &Duration) -> Instant {
        let seconds = u64::try_from(ttl.whole_seconds()).unwrap_or(0);
        Instant::now() + StdDuration::from_secs(seconds)
    }

    fn new_key() -> String {
        let mut bytes = [0u8; 32];
        SystemRng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn insert(&self, state: HashMap<String, String>, ttl: &Duration) -> SessionKey {
        let key = Self::new_key();
        let mut sessions = self.lock();
        if sessions.len() >= sessions.sweep_at.max(SWEEP_AT) {
            let now = Instant::now();
            sessions.retain(|_, (_, deadline)| *deadline > now);
            sessions.sweep_at = (sessions.len() * 2).max(SWEEP_AT);
        }
        sessions.insert(key.clone(), (state, Self::deadline(ttl)));
        SessionKey::try_from(key).expect("64 hex digits make a valid session key")
    }
}

impl SessionStore for MemorySessionStore {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let mut sessions = self.lock();
        let key = session_key.as_ref();
        match sessions.get(key) {
            Some((state, deadline)) if *deadline > Instant::now() => Ok(Some(state.clone())),
            Some(_) => {
                sessions.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        Ok(self.insert(session_state, ttl))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let mut sessions = self.lock();
        if let Some(entry) = sessions.get_mut(session_key.as_ref()) {
            *entry = (session_state, Self::deadline(ttl));
            return Ok(session_key);
        }
        drop(sessions);
        // Expired or deleted meanwhile: a fresh key, never the client's.
        Ok(self.insert(session_state, ttl))
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        if let Some((_, deadline)) = self.lock().get_mut(session_key.as_ref()) {
            *deadline = Self::deadline(ttl);
        }
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        self.lock().remove(session_key.as_ref());
        Ok(())
    }
}
