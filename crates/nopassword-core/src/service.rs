//! `NoPassword`: the service that composes a user directory, a store and a sender into the
//! login flow.

use std::{
    fmt,
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use tracing::{Instrument, debug, field, info, info_span, warn};

use crate::{
    Clock, CodeGenerator, CodeHasher, CodeKey, CodeRecord, CodeRng, CodeStore, Error, LoginCode,
    LoginCodeSender, LoginUser, MemoryStore, Settings, SettingsError, SystemClock, SystemRng,
    UrlConfig, UserDirectory, safe_next,
};

/// A task [`Dispatch`] runs in the background.
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs delivery in the background, so that a real user's answer takes as long as an unknown
/// user's (the mail or SMS round trip no longer shows in the response time).
///
/// The price: a sender outage is then logged, not answered with 503 (the user sees "sent" and
/// gets nothing). Without a dispatcher (the default) delivery happens during the request and
/// outages answer 503. The web adapters offer a Tokio implementation.
///
/// ```
/// use nopassword_core::{BackgroundTask, Dispatch};
///
/// struct Tokio;
///
/// impl Dispatch for Tokio {
///     fn dispatch(&self, task: BackgroundTask) {
///         tokio::spawn(task);
///     }
/// }
/// ```
pub trait Dispatch: Send + Sync {
    /// Runs `task` to completion, off the caller's path.
    fn dispatch(&self, task: BackgroundTask);
}

/// The longest user id a record holds.
const MAX_USER_ID_LEN: usize = 255;

/// A request for a login code (the `POST login/` form or `POST api/login/`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginRequest<'a> {
    /// The username as typed; surrounding whitespace is ignored, the rest matched exactly.
    pub username: &'a str,
    /// Where to go after login; kept only if it is a safe same-site path.
    pub next: Option<&'a str>,
    /// The request's `Host`, used in the link only if it is an allowed host.
    pub host: Option<&'a str>,
    /// Whether the request came over HTTPS (the link then uses `https`).
    pub secure: bool,
    /// The client's address, for the per-address rate limit.
    pub client: Option<IpAddr>,
}

/// A presented code (from a login link or the typed-code form). `Debug` hides the code.
#[derive(Clone, Copy, Default)]
pub struct CodeAttempt<'a> {
    /// The username from the link or the form; `None` for `hide_username` links.
    pub username: Option<&'a str>,
    /// The code as presented.
    pub code: &'a str,
    /// The client's address, for the per-address rate limit.
    pub client: Option<IpAddr>,
}

impl fmt::Debug for CodeAttempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeAttempt")
            .field("username", &self.username)
            .field("code", &"[redacted]")
            .field("client", &self.client)
            .finish()
    }
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login<U> {
    /// Who logged in.
    pub user: U,
    /// Where to send them: the stored safe `next`, else `login_redirect_url`.
    pub next: String,
}

/// The passwordless login service. Cheap to clone; share one per app.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use nopassword_core::*;
///
/// let settings = Settings { secret_key: Some("a-long-random-secret-key-0123456789".into()), ..Settings::default() };
/// let outbox = Outbox::new(10).quiet();
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(outbox.clone())
///     .build()
///     .unwrap();
///
/// service.request_login(LoginRequest { username: "alice", ..Default::default() }).await.unwrap();
/// let message = outbox.latest_for("alice").unwrap();
///
/// let attempt = CodeAttempt { username: Some("alice"), code: message.code.expose(), client: None };
/// let login = service.authenticate(attempt).await.unwrap().expect("valid code");
/// assert_eq!(login.user.username, "alice");
/// // Single use.
/// assert!(service.authenticate(attempt).await.unwrap().is_none());
/// # });
/// ```
pub struct NoPassword<U: LoginUser> {
    inner: Arc<Inner<U>>,
}

impl<U: LoginUser> Clone for NoPassword<U> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<U: LoginUser> fmt::Debug for NoPassword<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoPassword")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

struct Inner<U: LoginUser> {
    settings: Settings,
    urls: Arc<UrlConfig>,
    generator: CodeGenerator,
    hasher: CodeHasher,
    users: Arc<dyn UserDirectory<User = U>>,
    store: Arc<dyn CodeStore>,
    sender: Arc<dyn LoginCodeSender>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn CodeRng>,
    dispatch: Option<Arc<dyn Dispatch>>,
}

/// Builds a [`NoPassword`]; see [`NoPassword::builder`].
pub struct Builder<U: LoginUser> {
    settings: Settings,
    users: Arc<dyn UserDirectory<User = U>>,
    store: Option<Arc<dyn CodeStore>>,
    sender: Option<Arc<dyn LoginCodeSender>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn CodeRng>,
    dispatch: Option<Arc<dyn Dispatch>>,
}

impl<U: LoginUser> fmt::Debug for Builder<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<U: LoginUser> Builder<U> {
    /// The code store. Default: a [`MemoryStore`] on the builder's clock.
    pub fn store(mut self, store: impl CodeStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// A shared code store.
    pub fn shared_store(mut self, store: Arc<dyn CodeStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How codes are delivered. Required.
    pub fn sender(mut self, sender: impl LoginCodeSender + 'static) -> Self {
        self.sender = Some(Arc::new(sender));
        self
    }

    /// A shared sender.
    pub fn shared_sender(mut self, sender: Arc<dyn LoginCodeSender>) -> Self {
        self.sender = Some(sender);
        self
    }

    /// The clock. Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The randomness codes come from. Default: [`SystemRng`], a CSPRNG.
    pub fn rng(mut self, rng: impl CodeRng + 'static) -> Self {
        self.rng = Arc::new(rng);
        self
    }

    /// Sends codes in the background through `dispatch` (see [`Dispatch`] for the trade-off).
    /// Default: delivery during the request.
    pub fn dispatch(mut self, dispatch: impl Dispatch + 'static) -> Self {
        self.dispatch = Some(Arc::new(dispatch));
        self
    }

    /// Validates the settings and assembles the service.
    ///
    /// Fails when a setting is invalid, `secret_key` is missing, or no sender was given.
    pub fn build(self) -> Result<NoPassword<U>, Error> {
        let settings = self.settings.validate()?;
        let Some(secret_key) = settings.secret_key.clone() else {
            return Err(SettingsError::Missing {
                key: "secret_key",
                hint: "set NOPASSWORD_SECRET_KEY to at least 32 bytes of random text",
            }
            .into());
        };
        let Some(sender) = self.sender else {
            return Err(SettingsError::Missing {
                key: "sender",
                hint: "give the builder a LoginCodeSender (e-mail, SMS, or Outbox in development)",
            }
            .into());
        };
        if settings.hide_username && settings.numeric_codes && settings.code_length < 10 {
            // Without a username, a guess may hit any user's code: short digit codes then
            // rest on the per-address rate limit alone.
            warn!(
                code_length = settings.code_length,
                "hide_username with short numeric codes: guesses are not tied to a user; \
                 use code_length >= 10 or hex codes"
            );
        }
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::with_shared_clock(Arc::clone(&self.clock))));
        Ok(NoPassword {
            inner: Arc::new(Inner {
                urls: Arc::new(UrlConfig::from_settings(&settings)),
                generator: CodeGenerator::from_settings(&settings),
                hasher: CodeHasher::new(
                    settings.hash_algorithm,
                    &secret_key,
                    &settings.secret_key_fallbacks,
                ),
                settings,
                users: self.users,
                store,
                sender,
                clock: self.clock,
                rng: self.rng,
                dispatch: self.dispatch,
            }),
        })
    }
}

/// What `verify` found.
enum Verdict<U> {
    Valid { user: U, key: CodeKey },
    Invalid,
}

impl<U: LoginUser> NoPassword<U> {
    /// Starts building a service from validated-or-not settings and the app's users.
    pub fn builder(
        settings: Settings,
        users: impl UserDirectory<User = U> + 'static,
    ) -> Builder<U> {
        Self::builder_shared(settings, Arc::new(users))
    }

    /// [`NoPassword::builder`] with a shared user directory.
    pub fn builder_shared(
        settings: Settings,
        users: Arc<dyn UserDirectory<User = U>>,
    ) -> Builder<U> {
        Builder {
            settings,
            users,
            store: None,
            sender: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(SystemRng),
            dispatch: None,
        }
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The user directory (adapters load the session's user through it).
    pub fn users(&self) -> &dyn UserDirectory<User = U> {
        &*self.inner.users
    }

    /// The code store.
    pub fn store(&self) -> &dyn CodeStore {
        &*self.inner.store
    }

    /// The shapes codes take; adapters use it to refuse malformed codes early.
    pub fn generator(&self) -> CodeGenerator {
        self.inner.generator
    }

    /// A keyed fingerprint of a user id for session integrity checks (axum-login's
    /// `session_auth_hash`): rotating `secret_key` ends every session.
    pub fn session_auth_hash(&self, user_id: &str) -> String {
        self.inner.hasher.bucket("session", user_id)
    }

    /// `next` if it is a safe same-site path, else `login_redirect_url`.
    pub fn redirect_target(&self, next: Option<&str>) -> String {
        next.and_then(safe_next)
            .unwrap_or(&self.inner.settings.login_redirect_url)
            .to_owned()
    }

    /// Sends a login code to `request.username` if that user exists and passes
    /// [`UserDirectory::verify_user`].
    ///
    /// Unknown and inactive users, and users no sender can reach (no e-mail address, say), get
    /// the same `Ok(())` as real ones, so the answer reveals nothing. Errors: [`Error::MissingUsername`], [`Error::RateLimited`] (per client address,
    /// and per username whether or not it exists), and outages of the store, directory or
    /// sender (when sending fails the stored code is withdrawn).
    pub async fn request_login(&self, request: LoginRequest<'_>) -> Result<(), Error> {
        let span = info_span!(
            "nopassword.request_login",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        self.request_login_inner(request).instrument(span).await
    }

    async fn request_login_inner(&self, request: LoginRequest<'_>) -> Result<(), Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        let username = request.username.trim();
        if username.is_empty() {
            return Err(Error::MissingUsername);
        }
        self.limit_client(request.client).await?;
        let hour = Duration::from_secs(3600);
        let sends = inner
            .store
            .hit(&inner.hasher.bucket("send", username), hour)
            .await?;
        if sends > settings.max_sends_per_user_per_hour {
            debug!("send limit reached for this username");
            return Err(Error::RateLimited { retry_after: hour });
        }
        let Some(user) = inner
            .users
            .find_by_username(username)
            .await
            .map_err(Error::Directory)?
        else {
            debug!("no such user; answering as if a code was sent");
            return Ok(());
        };
        let user_id = user.id();
        tracing::Span::current().record("user_id", field::display(&user_id));
        if !inner
            .users
            .verify_user(&user)
            .await
            .map_err(Error::Directory)?
        {
            info!("user did not pass verify_user; no code sent");
            return Ok(());
        }
        if user_id.len() > MAX_USER_ID_LEN {
            return Err(Error::Directory(
                format!("user id longer than {MAX_USER_ID_LEN} bytes").into(),
            ));
        }
        let code = inner.generator.generate(&*inner.rng);
        let hashed = inner.hasher.hash(code.expose());
        tracing::Span::current().record("code_key", field::debug(&hashed.key));
        let now = inner.clock.unix_seconds();
        let validity = settings.code_validity();
        let record = CodeRecord {
            user_id: user_id.clone(),
            verifier: hashed.verifier.clone(),
            next: request.next.and_then(safe_next).map(str::to_owned),
            created_at: now,
            expires_at: now.saturating_add(settings.login_code_timeout),
            failures_at_issue: inner.store.user_failures(&user_id).await?,
        };
        inner.store.put(&hashed.key, &record, validity).await?;
        let login_code = LoginCode::new(
            user.recipient(),
            code,
            record.next,
            UNIX_EPOCH + Duration::from_secs(record.expires_at),
            validity,
            Arc::clone(&inner.urls),
        );
        match &inner.dispatch {
            Some(dispatch) => {
                // Off the request path: a real user's answer then takes as long as an unknown
                // user's, whatever the mail server does.
                let service = self.clone();
                let host = request.host.map(str::to_owned);
                let secure = request.secure;
                let task = async move {
                    let _ = service
                        .deliver(&login_code, hashed.key, secure, host.as_deref())
                        .await;
                };
                dispatch.dispatch(Box::pin(task.instrument(tracing::Span::current())));
                Ok(())
            }
            None => {
                self.deliver(&login_code, hashed.key, request.secure, request.host)
                    .await
            }
        }
    }

    /// Hands a stored code to the sender; withdraws it when sending fails.
    async fn deliver(
        &self,
        login_code: &LoginCode,
        key: CodeKey,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        if let Err(error) = inner.sender.send_login_code(login_code, secure, host).await {
            if let Err(store_error) = inner.store.take(&key).await {
                warn!(error = %store_error, "could not withdraw the unsent code");
            }
            if error.is_unreachable_recipient() {
                // Answer as for an unknown user: the outcome must not reveal the account.
                info!(%error, "the user cannot be reached by any sender; no code sent");
                return Ok(());
            }
            warn!(%error, "sending the login code failed; code withdrawn");
            return Err(Error::Send(error));
        }
        info!("login code sent");
        Ok(())
    }

    /// Whether `attempt` names a live code that would log in, without consuming it (the GET of
    /// a login link). A miss counts as a failed try, like a wrong POST, so GET is no free oracle.
    pub async fn check(&self, attempt: CodeAttempt<'_>) -> Result<bool, Error> {
        let span = info_span!(
            "nopassword.check",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        let verdict = self.verify(attempt).instrument(span).await?;
        Ok(matches!(verdict, Verdict::Valid { .. }))
    }

    /// Logs in with a code: constant-time match of its keyed hash, expiry, attempt limits,
    /// `verify_user` again, and an atomic take so that of concurrent attempts with one code
    /// exactly one succeeds.
    ///
    /// `Ok(None)` for anything that does not log in (unknown, expired, used, mistyped, locked
    /// out), all alike. Errors: [`Error::RateLimited`] per client address, and outages.
    pub async fn authenticate(&self, attempt: CodeAttempt<'_>) -> Result<Option<Login<U>>, Error> {
        let span = info_span!(
            "nopassword.authenticate",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        async {
            let Verdict::Valid { user, key } = self.verify(attempt).await? else {
                return Ok(None);
            };
            let inner = &*self.inner;
            let Some(record) = inner.store.take(&key).await? else {
                debug!("another request used this code first");
                return Ok(None);
            };
            inner.store.clear_user_failures(&record.user_id).await?;
            info!("logged in with a login code");
            let next = self.redirect_target(record.next.as_deref());
            Ok(Some(Login { user, next }))
        }
        .instrument(span)
        .await
    }

    async fn verify(&self, attempt: CodeAttempt<'_>) -> Result<Verdict<U>, Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        self.limit_client(attempt.client).await?;

        let named = match attempt.username {
            Some(name) => match inner
                .users
                .find_by_username(name)
                .await
                .map_err(Error::Directory)?
            {
                Some(user) => Some(user),
                None => {
                    debug!("no such user");
                    return Ok(Verdict::Invalid);
                }
            },
            None => None,
        };
        if let Some(user) = &named {
            tracing::Span::current().record("user_id", field::display(user.id()));
            if self.locked_out(&user.id()).await? {
                return Ok(Verdict::Invalid);
            }
        }

        let code = inner.generator.normalise(attempt.code);
        let mut found = None;
        if inner.generator.is_well_formed(&code) {
            for hashed in inner.hasher.candidates(&code) {
                if let Some(stored) = inner.store.get(&hashed.key).await?
                    && hashed.verifies(&stored.record.verifier)
                {
                    found = Some((hashed.key, stored));
                    break;
                }
            }
        }
        let Some((key, stored)) = found else {
            debug!("no such code");
            if let Some(user) = &named {
                self.count_user_failure(&user.id()).await?;
            }
            return Ok(Verdict::Invalid);
        };
        tracing::Span::current().record("code_key", field::debug(&key));
        let record = stored.record;

        if inner.clock.unix_seconds() >= record.expires_at {
            debug!("code expired");
            inner.store.take(&key).await?;
            return Ok(Verdict::Invalid);
        }

        let user = match named {
            Some(user) if user.id() == record.user_id => user,
            Some(user) => {
                debug!("code belongs to another user");
                self.count_user_failure(&user.id()).await?;
                inner.store.incr_code_failures(&key).await?;
                return Ok(Verdict::Invalid);
            }
            None => match inner
                .users
                .find_by_id(&record.user_id)
                .await
                .map_err(Error::Directory)?
            {
                Some(user) => {
                    tracing::Span::current().record("user_id", field::display(&record.user_id));
                    if self.locked_out(&record.user_id).await? {
                        return Ok(Verdict::Invalid);
                    }
                    user
                }
                None => {
                    debug!("the code's user no longer exists");
                    inner.store.take(&key).await?;
                    return Ok(Verdict::Invalid);
                }
            },
        };

        // Tries at this code: refused uses of it, plus the user's failures since it was issued
        // (a guess at alice's code with the wrong digits cannot name the code it missed).
        let failures = inner.store.user_failures(&record.user_id).await?;
        // A count below the one at issue means the counter was reset or expired since: every
        // failure it holds came after the code was issued.
        let since_issue = failures
            .checked_sub(record.failures_at_issue)
            .unwrap_or(failures);
        let tries = stored.failures.saturating_add(since_issue);
        if tries >= settings.max_code_attempts {
            info!(tries, "code withdrawn after too many failed tries");
            inner.store.take(&key).await?;
            return Ok(Verdict::Invalid);
        }

        if !inner
            .users
            .verify_user(&user)
            .await
            .map_err(Error::Directory)?
        {
            info!("user did not pass verify_user");
            inner.store.incr_code_failures(&key).await?;
            return Ok(Verdict::Invalid);
        }
        Ok(Verdict::Valid { user, key })
    }

    async fn locked_out(&self, user_id: &str) -> Result<bool, Error> {
        let failures = self.inner.store.user_failures(user_id).await?;
        let locked = failures >= self.inner.settings.max_user_failures;
        if locked {
            warn!(failures, "user locked out after consecutive failures");
        }
        Ok(locked)
    }

    async fn count_user_failure(&self, user_id: &str) -> Result<(), Error> {
        // The count must outlive every code issued while it ran, or a code's tries (measured
        // against the count at issue) would start again from zero.
        let settings = &self.inner.settings;
        let window = Duration::from_secs(settings.lockout_seconds.max(settings.login_code_timeout));
        self.inner.store.incr_user_failures(user_id, window).await?;
        Ok(())
    }

    async fn limit_client(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(client) = client else {
            return Ok(());
        };
        let minute = Duration::from_secs(60);
        let bucket = self.inner.hasher.bucket("ip", &client_bucket(client));
        let hits = self.inner.store.hit(&bucket, minute).await?;
        if hits > self.inner.settings.max_requests_per_ip_per_minute {
            debug!("client address over its rate limit");
            return Err(Error::RateLimited {
                retry_after: minute,
            });
        }
        Ok(())
    }
}

/// IPv4 addresses count alone; IPv6 addresses by their /64, which one client usually owns whole.
fn client_bucket(client: IpAddr) -> String {
    match client {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}
