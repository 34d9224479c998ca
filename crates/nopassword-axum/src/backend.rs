//! The axum-login backend: credentials are a username and a code.

use std::{fmt, net::IpAddr};

use axum_login::{AuthUser, AuthnBackend, UserId};
use nopassword_core::{CodeAttempt, Error, LoginUser, NoPassword};

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

/// What an axum-login app passes to `AuthSession::authenticate`.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The username (`None` for `hide_username` codes).
    pub username: Option<String>,
    /// The code from the link or the form.
    pub code: String,
    /// The client's address, for the rate limit.
    pub client: Option<IpAddr>,
}

/// An [`AuthnBackend`] that logs users in with login codes: add it to an axum-login app and
/// passwordless login works with `AuthSession::authenticate` and `login`.
///
/// ```
/// use nopassword_axum::{Credentials, NoPasswordBackend};
/// use nopassword_core::{MemoryDirectory, NoPassword, Outbox, Settings, User};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let backend = NoPasswordBackend::new(service);
/// let _creds = Credentials { username: Some("alice".into()), code: "...".into(), client: None };
/// # let _ = backend;
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
