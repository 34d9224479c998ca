//! The app's own accounts and its axum-login backend. Before nopassword-rs it logged people
//! in with passwords only; now its credentials are an enum, passwords or a login code, and it
//! implements [`PasswordlessBackend`] so that our routes log into it too.

use std::{collections::HashMap, sync::Arc};

use axum_login::{AuthUser, AuthnBackend, UserId};
use nopassword_axum::{Credentials, NoPasswordBackend, PasswordlessBackend};
use nopassword_core::{LoginUser, NoPassword, UserDirectory, async_trait, error::BoxError};
use subtle::ConstantTimeEq;

/// A member of the app: what its database row would hold.
#[derive(Clone)]
pub struct Member {
    /// The primary key.
    pub id: u64,
    /// The login name.
    pub username: String,
    /// Where login codes go.
    pub email: String,
    /// The demo password; `None` for members who only ever log in with codes. (A real app
    /// keeps an argon2 hash here, never the password.)
    password: Option<&'static str>,
    /// Changes whenever the member's credentials do, which ends their other sessions: the
    /// session fingerprint axum-login checks at every request.
    session_key: Vec<u8>,
}

impl Member {
    /// A member; `password` enables the password form for them.
    pub fn new(id: u64, username: &str, email: &str, password: Option<&'static str>) -> Self {
        Self {
            id,
            username: username.to_owned(),
            email: email.to_owned(),
            password,
            session_key: format!("member-{id}-v1").into_bytes(),
        }
    }

    /// Whether `password` is this member's, compared in constant time.
    fn has_password(&self, password: &str) -> bool {
        self.password
            .is_some_and(|own| bool::from(own.as_bytes().ct_eq(password.as_bytes())))
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What nopassword-rs needs of a member: who they are and where their codes go.
impl LoginUser for Member {
    fn id(&self) -> String {
        self.id.to_string()
    }

    fn username(&self) -> &str {
        &self.username
    }

    fn email(&self) -> Option<&str> {
        Some(&self.email)
    }
}

/// What axum-login keeps in the session.
impl AuthUser for Member {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.session_key
    }
}

/// The members table (in memory here). Clones share it.
#[derive(Debug, Clone)]
pub struct Members {
    by_username: Arc<HashMap<String, Member>>,
}

impl Members {
    /// The table.
    pub fn new(members: impl IntoIterator<Item = Member>) -> Self {
        let by_username = members
            .into_iter()
            .map(|m| (m.username.clone(), m))
            .collect();
        Self {
            by_username: Arc::new(by_username),
        }
    }

    fn by_username(&self, username: &str) -> Option<Member> {
        self.by_username.get(username).cloned()
    }

    fn by_id(&self, id: u64) -> Option<Member> {
        self.by_username.values().find(|m| m.id == id).cloned()
    }
}

/// The table as nopassword-rs reads it.
#[async_trait]
impl UserDirectory for Members {
    type User = Member;

    async fn find_by_username(&self, username: &str) -> Result<Option<Member>, BoxError> {
        Ok(self.by_username(username))
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<Member>, BoxError> {
        Ok(id.parse().ok().and_then(|id| self.by_id(id)))
    }
}

/// The app's password form.
#[derive(Clone, serde::Deserialize)]
pub struct PasswordCredentials {
    /// The login name.
    pub username: String,
    /// The password as typed.
    pub password: String,
}

impl std::fmt::Debug for PasswordCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Every way into the app: the composite of its passwords and our login codes.
#[derive(Debug, Clone)]
pub enum AppCredentials {
    /// The password form.
    Password(PasswordCredentials),
    /// A typed login code with its flow (what nopassword's `api/login/code/` takes).
    Code(Credentials),
}

/// Why the backend could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// nopassword-rs could not check a code (its store or the directory failed).
    #[error(transparent)]
    NoPassword(#[from] nopassword_core::Error),
}

/// The app's axum-login backend.
#[derive(Debug, Clone)]
pub struct AppBackend {
    members: Members,
    codes: NoPasswordBackend<Member>,
}

impl AppBackend {
    /// The backend over `members`, checking codes with `service`.
    pub fn new(members: Members, service: NoPassword<Member>) -> Self {
        Self {
            members,
            codes: NoPasswordBackend::new(service),
        }
    }
}

impl AuthnBackend for AppBackend {
    type User = Member;
    type Credentials = AppCredentials;
    type Error = BackendError;

    async fn authenticate(&self, creds: AppCredentials) -> Result<Option<Member>, BackendError> {
        match creds {
            AppCredentials::Password(creds) => Ok(self
                .members
                .by_username(&creds.username)
                .filter(|member| member.has_password(&creds.password))),
            AppCredentials::Code(creds) => {
                let user = self.codes.authenticate(creds).await?;
                Ok(user.map(|session_user| session_user.user))
            }
        }
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<Member>, BackendError> {
        Ok(self.members.by_id(*id))
    }
}

/// Our routes log into this backend: the member a code proved is the session's user.
impl PasswordlessBackend for AppBackend {
    type LoginUser = Member;

    async fn user_from_login(&self, member: Member) -> Result<Member, BackendError> {
        Ok(member)
    }
}
