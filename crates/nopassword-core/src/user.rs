//! Users: the `LoginUser` an app already has, and the `UserDirectory` that finds them.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;

use crate::{code::Recipient, error::BoxError, locale::Locale};

/// What nopassword needs to know about an app's user type.
///
/// ```
/// use nopassword_core::LoginUser;
///
/// #[derive(Clone)]
/// struct Member { id: i64, name: String, mail: String }
///
/// impl LoginUser for Member {
///     fn id(&self) -> String { self.id.to_string() }
///     fn username(&self) -> &str { &self.name }
///     fn email(&self) -> Option<&str> { Some(&self.mail) }
/// }
/// ```
pub trait LoginUser: Clone + Send + Sync + 'static {
    /// A stable identifier (what the session stores).
    fn id(&self) -> String;
    /// The name typed at login (matched exactly, case-sensitively).
    fn username(&self) -> &str;
    /// E-mail address for the e-mail sender.
    fn email(&self) -> Option<&str> {
        None
    }
    /// Phone number (E.164) for the SMS sender.
    fn phone(&self) -> Option<&str> {
        None
    }
    /// Whether the account may log in; the default
    /// [`UserDirectory::verify_user`] asks this. Default `true`.
    fn is_active(&self) -> bool {
        true
    }

    /// The user's own language, if the app knows it (a profile setting): pages shown to
    /// this user and the login mail and SMS use it before the request's `Accept-Language`
    /// (docs/guide/i18n.md). Default `None`.
    ///
    /// ```
    /// use nopassword_core::{LoginUser, locale::Locale};
    ///
    /// #[derive(Clone)]
    /// struct Member { name: String, language: Option<String> }
    ///
    /// impl LoginUser for Member {
    ///     fn id(&self) -> String { self.name.clone() }
    ///     fn username(&self) -> &str { &self.name }
    ///     fn locale(&self) -> Option<Locale> { self.language.as_deref()?.parse().ok() }
    /// }
    ///
    /// let ana = Member { name: "ana".into(), language: Some("es".into()) };
    /// assert_eq!(ana.locale().map(|l| l.to_string()), Some("es".into()));
    /// ```
    fn locale(&self) -> Option<Locale> {
        None
    }

    /// What a sender needs.
    fn recipient(&self) -> Recipient {
        Recipient {
            id: self.id(),
            username: self.username().to_owned(),
            email: self.email().map(str::to_owned),
            phone: self.phone().map(str::to_owned),
        }
    }
}

/// Where users are looked up: the app's database, an LDAP server, a static list.
///
/// Usable as `Arc<dyn UserDirectory<User = U>>`.
///
/// ```
/// use async_trait::async_trait;
/// use nopassword_core::{UserDirectory, error::BoxError, user::User};
///
/// /// Asks another system whether the account is still active, as the original's
/// /// "verify users" section suggests.
/// struct Hr;
///
/// #[async_trait]
/// impl UserDirectory for Hr {
///     type User = User;
///     async fn find_by_username(&self, username: &str) -> Result<Option<User>, BoxError> {
///         Ok((username == "alice").then(|| User::new("1", "alice").with_email("alice@example.com")))
///     }
///     async fn find_by_id(&self, id: &str) -> Result<Option<User>, BoxError> {
///         Ok((id == "1").then(|| User::new("1", "alice").with_email("alice@example.com")))
///     }
///     async fn verify_user(&self, user: &User) -> Result<bool, BoxError> {
///         Ok(user.username != "alice-who-left")
///     }
/// }
/// ```
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The app's user type.
    type User: LoginUser;

    /// The user whose username is exactly `username`.
    async fn find_by_username(&self, username: &str) -> Result<Option<Self::User>, BoxError>;

    /// The user with this id.
    async fn find_by_id(&self, id: &str) -> Result<Option<Self::User>, BoxError>;

    /// Whether `user` may log in now. Asked before a code is sent and again when it is used.
    /// Default: [`LoginUser::is_active`].
    async fn verify_user(&self, user: &Self::User) -> Result<bool, BoxError> {
        Ok(user.is_active())
    }

    /// The form of a typed username that the per-username send limit
    /// (`max_sends_per_user_per_hour`) counts under. Default: the name as typed, for
    /// directories that match names exactly. A directory that matches names without regard to
    /// case returns the name it compares (lower case, say), so `Bob`, `bob` and `BOB` share
    /// one limit even when no account has that name. (The limits of a found account are
    /// counted under its id as well.)
    ///
    /// ```
    /// use std::borrow::Cow;
    ///
    /// use nopassword_core::{UserDirectory, user::MemoryDirectory};
    ///
    /// let exact = MemoryDirectory::default();
    /// assert_eq!(exact.limit_key("Bob"), Cow::Borrowed("Bob"));
    /// ```
    fn limit_key<'a>(&self, username: &'a str) -> std::borrow::Cow<'a, str> {
        std::borrow::Cow::Borrowed(username)
    }
}

/// A plain user record: enough for demos, tests and small apps.
///
/// ```
/// use nopassword_core::{LoginUser, user::User};
///
/// let bob = User::new("2", "bob").with_email("bob@example.com").inactive();
/// assert!(!bob.is_active());
/// assert_eq!(bob.email(), Some("bob@example.com"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// Identifier.
    pub id: String,
    /// Login name.
    pub username: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number, E.164.
    #[serde(default)]
    pub phone: Option<String>,
    /// Whether the account may log in.
    #[serde(default = "active_default")]
    pub active: bool,
    /// The user's language (a language tag), if known: [`LoginUser::locale`].
    #[serde(default)]
    pub locale: Option<Locale>,
}

fn active_default() -> bool {
    true
}

impl User {
    /// An active user with no e-mail or phone.
    pub fn new(id: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            email: None,
            phone: None,
            active: true,
            locale: None,
        }
    }

    /// With a preferred language.
    ///
    /// ```
    /// use nopassword_core::{LoginUser, user::User};
    ///
    /// let ana = User::new("3", "ana").with_locale("es".parse()?);
    /// assert_eq!(ana.locale().map(|l| l.to_string()).as_deref(), Some("es"));
    /// # Ok::<_, nopassword_core::locale::LocaleError>(())
    /// ```
    pub fn with_locale(mut self, locale: Locale) -> Self {
        self.locale = Some(locale);
        self
    }

    /// With an e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// With a phone number.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// Marked inactive.
    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }
}

impl LoginUser for User {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn username(&self) -> &str {
        &self.username
    }
    fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
    fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }
    fn is_active(&self) -> bool {
        self.active
    }
    fn locale(&self) -> Option<Locale> {
        self.locale.clone()
    }
}

/// A fixed set of users held in memory.
///
/// ```
/// # tokio_test_block_on(async {
/// use nopassword_core::{UserDirectory, user::{MemoryDirectory, User}};
///
/// let users = MemoryDirectory::new([User::new("1", "alice")]);
/// assert!(users.find_by_username("alice").await.unwrap().is_some());
/// assert!(users.find_by_username("Alice").await.unwrap().is_none());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    by_username: HashMap<String, User>,
    username_by_id: HashMap<String, String>,
}

impl MemoryDirectory {
    /// A directory of these users (a later duplicate username or id replaces an earlier one).
    pub fn new(users: impl IntoIterator<Item = User>) -> Self {
        let mut dir = Self::default();
        for user in users {
            dir.username_by_id
                .insert(user.id.clone(), user.username.clone());
            dir.by_username.insert(user.username.clone(), user);
        }
        dir
    }

    /// Every user.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.by_username.values()
    }
}

#[async_trait]
impl UserDirectory for MemoryDirectory {
    type User = User;

    async fn find_by_username(&self, username: &str) -> Result<Option<User>, BoxError> {
        Ok(self.by_username.get(username).cloned())
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, BoxError> {
        Ok(self
            .username_by_id
            .get(id)
            .and_then(|name| self.by_username.get(name))
            .cloned())
    }
}
