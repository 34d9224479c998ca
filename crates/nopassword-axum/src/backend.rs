//! The axum-login backend: credentials are a username, a code and the flow that asked for it.
//! [`PasswordlessBackend`] lets an app's own backend (passwords, OAuth) take our logins too.

use std::{fmt, future::Future, net::IpAddr};

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

/// An axum-login backend that users can also log into with a login code: it says how the
/// [`LoginUser`] a code proved becomes the backend's own `User`, which the routes of
/// [`router_with`](crate::router_with) then pass to `AuthSession::login`.
///
/// [`NoPasswordBackend`] implements it (its users are [`SessionUser`]s); an app with its own
/// axum-login backend implements it for that backend and mounts
/// `router_with::<AppBackend>(service)`. The backend's `get_user` decides, at every request,
/// whether a session still counts (an account deactivated since), as it does for the app's
/// other logins. A composite backend, whose `Credentials` is an enum of the app's password
/// credentials and our [`Credentials`], implements it the same way (see the crate docs).
///
/// ```
/// use axum_login::{AuthUser, AuthnBackend, UserId};
/// use nopassword_axum::PasswordlessBackend;
/// use nopassword_core::user::User;
///
/// /// The app's user, as its session keeps it.
/// #[derive(Debug, Clone)]
/// struct Member { id: String, hash: Vec<u8> }
///
/// impl AuthUser for Member {
///     type Id = String;
///     fn id(&self) -> String { self.id.clone() }
///     fn session_auth_hash(&self) -> &[u8] { &self.hash }
/// }
///
/// #[derive(Clone)]
/// struct AppBackend;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("database unavailable")]
/// struct DbError;
///
/// impl AuthnBackend for AppBackend {
///     type User = Member;
///     type Credentials = (String, String); // the app's own password form
///     type Error = DbError;
///     async fn authenticate(&self, _: (String, String)) -> Result<Option<Member>, DbError> {
///         Ok(None)
///     }
///     async fn get_user(&self, id: &UserId<Self>) -> Result<Option<Member>, DbError> {
///         Ok(Some(Member { id: id.clone(), hash: b"password hash".to_vec() }))
///     }
/// }
///
/// impl PasswordlessBackend for AppBackend {
///     type LoginUser = User;
///     async fn user_from_login(&self, user: User) -> Result<Member, DbError> {
///         // Usually a look-up in the app's own table; the same hash `get_user` gives.
///         Ok(Member { id: user.id, hash: b"password hash".to_vec() })
///     }
/// }
/// ```
pub trait PasswordlessBackend: AuthnBackend + 'static {
    /// The users of the [`NoPassword`] service whose routes log into this backend.
    type LoginUser: LoginUser;

    /// The backend's user for `user`, who has just proved they hold a login code (their
    /// account is known and active). An error ends the request with 503 and is logged; the
    /// code is spent either way.
    fn user_from_login(
        &self,
        user: Self::LoginUser,
    ) -> impl Future<Output = Result<Self::User, Self::Error>> + Send;
}

impl<U: LoginUser> PasswordlessBackend for NoPasswordBackend<U> {
    type LoginUser = U;

    async fn user_from_login(&self, user: U) -> Result<SessionUser<U>, Error> {
        Ok(SessionUser::new(&self.service, user))
    }
}
