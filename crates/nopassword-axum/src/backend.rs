//! The axum-login backend: credentials are a username, a code and the flow that asked for it.

use std::{fmt, net::IpAddr};

use axum_login::{AuthUser, AuthnBackend, UserId};
use nopassword_core::{Error, LoginUser, NoPassword, service::CodeAttempt};

/// A logged-in user as axum-login keeps it: the app's user plus the session fingerprint.
#[derive(Clone)]
pub struct SessionUser<U> {
    /// The app's user.
    pub user: U,
    id: String,
    auth_hash: Vec<u8>,
}

impl<U: LoginUser> SessionUser<U> {
    /// Wraps `user`, fingerprinted with the service's key.
    pub fn new(service: &NoPassword<U>, user: U) -> Self {
        let id = user.id();
        let auth_hash = service.session_auth_hash(&id).into_bytes();
        Self {
            user,
            id,
            auth_hash,
        }
    }
}

impl<U> fmt::Debug for SessionUser<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUser")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<U: LoginUser> AuthUser for SessionUser<U> {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// What an axum-login app passes to `AuthSession::authenticate`: a typed code, which counts
/// only with the flow that asked for it (docs/HTTP.md, Login flows). `Debug` hides the code and the flow.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The username (`None` for `hide_username` codes).
    pub username: Option<String>,
    /// The code from the form.
    pub code: String,
    /// The client's address, for the rate limit.
    pub client: Option<IpAddr>,
    /// The flow token the client holds: the value of the `{namespace}_flow` cookie
    /// ([`flow_cookie_name`](nopassword_core::http::flow_cookie_name)), or the `"flow"` that
    /// `api/login/` answered. Without it even the right code is refused.
    pub flow: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("code", &"[redacted]")
            .field("client", &self.client)
            .field("flow", &self.flow.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// An [`AuthnBackend`] that logs users in with typed login codes: add it to an axum-login app
/// and passwordless login works with `AuthSession::authenticate` and `login`. The code counts
/// only with the flow of the request that asked for it (its flow cookie, or the `"flow"` of
/// `api/login/`); login links go through [`router`](crate::router)'s `login-code/` routes.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use axum_login::AuthnBackend;
/// use nopassword_axum::{Credentials, NoPasswordBackend};
/// use nopassword_core::{NoPassword, Outbox, Settings, service::LoginRequest, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let outbox = Outbox::new(10).quiet();
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(outbox.clone())
///     .build()
///     .unwrap();
/// let started = service
///     .request_login(LoginRequest { username: "alice", ..Default::default() })
///     .await
///     .unwrap();
/// let code = outbox.latest_for("alice").unwrap().code.expose().to_owned();
///
/// let backend = NoPasswordBackend::new(service);
/// let creds = Credentials {
///     username: Some("alice".into()),
///     code,
///     flow: Some(started.flow.expose()), // the flow cookie's value, in a web app
///     ..Default::default()
/// };
/// let user = backend.authenticate(creds).await.unwrap().expect("a valid code in its flow");
/// assert_eq!(user.user.username, "alice");
/// # });
/// ```
pub struct NoPasswordBackend<U: LoginUser> {
    service: NoPassword<U>,
}

impl<U: LoginUser> Clone for NoPasswordBackend<U> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

impl<U: LoginUser> fmt::Debug for NoPasswordBackend<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoPasswordBackend").finish_non_exhaustive()
    }
}

impl<U: LoginUser> NoPasswordBackend<U> {
    /// A backend on `service`.
    pub fn new(service: NoPassword<U>) -> Self {
        Self { service }
    }

    /// The service.
    pub fn service(&self) -> &NoPassword<U> {
        &self.service
    }
}

impl<U: LoginUser> AuthnBackend for NoPasswordBackend<U> {
    type User = SessionUser<U>;
    type Credentials = Credentials;
    type Error = Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<SessionUser<U>>, Error> {
        let attempt = CodeAttempt {
            username: creds.username.as_deref(),
            code: &creds.code,
            client: creds.client,
            flow: creds.flow.as_deref(),
        };
        let login = self.service.authenticate(attempt).await?;
        Ok(login.map(|login| SessionUser::new(&self.service, login.user)))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<SessionUser<U>>, Error> {
        let user = self
            .service
            .users()
            .find_by_id(id)
            .await
            .map_err(Error::Directory)?;
        // A deactivated account's sessions end at its next request.
        Ok(user
            .filter(LoginUser::is_active)
            .map(|user| SessionUser::new(&self.service, user)))
    }
}
