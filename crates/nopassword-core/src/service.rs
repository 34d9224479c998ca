//! `NoPassword`: the service that composes a user directory, a store and a sender into the
//! login flow.

use std::{
    borrow::Cow,
    fmt,
    net::IpAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tracing::{Instrument, debug, field, info, info_span, warn};

use crate::{
    Clock, CodeRng, CodeStore, Dispatch, Error, LoginCodeSender, LoginUser, MemoryStore, Settings,
    SettingsError, UserDirectory,
    clock::SystemClock,
    code::{CodeGenerator, LoginCode, UrlConfig},
    flow::FlowToken,
    hashing::{CodeHasher, CodeKey, SystemRng},
    locale::Locale,
    redirect::safe_next,
    secret::PlaintextCode,
    settings::CrossDeviceLinks,
    store::{CodeRecord, CodeUse},
};

/// The longest user id a record holds.
const MAX_USER_ID_LEN: usize = 255;

/// The window of the per-address rate limit.
const MINUTE: Duration = Duration::from_secs(60);

/// A request for a login code (the `POST login/` form or `POST api/login/`). `Debug` hides
/// the flow.
#[derive(Clone, Copy, Default)]
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
    /// The flow the client already holds (its flow cookie), if any: the new code joins that
    /// flow, so links of earlier codes still open as "the same browser".
    pub flow: Option<&'a str>,
    /// The request's locale (the adapters negotiate it): the mail and SMS go out in it unless
    /// the user has a preference of their own ([`LoginUser::locale`]).
    pub locale: Option<&'a Locale>,
    /// The request's `User-Agent`: the approval page names the device that asked by its
    /// browser and system ([`describe`](crate::device::describe)), nothing more.
    pub user_agent: Option<&'a str>,
}

impl fmt::Debug for LoginRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("next", &self.next)
            .field("host", &self.host)
            .field("secure", &self.secure)
            .field("client", &self.client)
            .field("flow", &self.flow.map(|_| "[redacted]"))
            .field("locale", &self.locale)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// A presented code: the secret of a login link ([`NoPassword::open_link`],
/// [`NoPassword::login_with_link`]) or a typed code ([`NoPassword::authenticate`]). `Debug`
/// hides the code and the flow.
#[derive(Clone, Copy, Default)]
pub struct CodeAttempt<'a> {
    /// The username from the link or the form; `None` for `hide_username` links.
    pub username: Option<&'a str>,
    /// The code (or link secret) as presented.
    pub code: &'a str,
    /// The client's address, for the per-address rate limit.
    pub client: Option<IpAddr>,
    /// The flow token the client holds (flow cookie or the API's `"flow"`), if any.
    pub flow: Option<&'a str>,
}

impl fmt::Debug for CodeAttempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeAttempt")
            .field("username", &self.username)
            .field("code", &"[redacted]")
            .field("client", &self.client)
            .field("flow", &self.flow.map(|_| "[redacted]"))
            .finish()
    }
}

/// What the `GET` of a login link should show (docs/HTTP.md, Routes and Login flows), decided from the code,
/// the client's flow, `post_redirect` and `cross_device_links`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
    /// Unknown, expired, used or malformed: 404.
    NotFound,
    /// The "Logging in..." page that posts itself (the flow's own browser, or any client
    /// under `cross_device_links = "allow"`).
    Submit,
    /// Log in right away (`post_redirect = false`, for a client allowed to).
    LogIn,
    /// Another client under `confirm`: the "Confirm login" page, no script, with its two
    /// choices (docs/HTTP.md, Cross-device approval).
    Confirm {
        /// The account the link logs into.
        username: String,
        /// When the code was requested.
        requested_at: SystemTime,
        /// The device that asked, by browser and system, when its `User-Agent` said.
        device: Option<String>,
        /// The three numbers to pick from to approve the device that asked, always the same
        /// for one flow (one of them is the flow's matching number); `None` once a wrong
        /// number was picked or the code was mistyped (approval from another device is then
        /// off for this code).
        numbers: Option<[u8; 3]>,
    },
    /// Another client under `deny`: 403, nothing spent.
    Denied,
}

impl LinkAction {
    /// The failure this action answers with (404 or 403), or `None` for a page or a login.
    pub fn failure(&self) -> Option<crate::http::Failure> {
        match self {
            Self::NotFound => Some(crate::http::Failure::NotFound),
            Self::Denied => Some(crate::http::Failure::OtherBrowser),
            Self::Submit | Self::LogIn | Self::Confirm { .. } => None,
        }
    }

    /// The status a `HEAD` of the link answers: 404, 403, else 200. `HEAD` never consumes.
    ///
    /// ```
    /// use nopassword_core::service::LinkAction;
    ///
    /// assert_eq!(LinkAction::NotFound.head_status(), 404);
    /// assert_eq!(LinkAction::Denied.head_status(), 403);
    /// assert_eq!(LinkAction::LogIn.head_status(), 200);
    /// ```
    pub fn head_status(&self) -> u16 {
        self.failure().map_or(200, |failure| failure.status())
    }
}

/// The outcome of posting a login link ([`NoPassword::login_with_link`]).
#[derive(Debug, Clone)]
pub enum LinkLogin<U> {
    /// Logged in: start the session.
    LoggedIn(Login<U>),
    /// Unknown, expired, used or malformed: 404.
    NotFound,
    /// Another client under `cross_device_links = "deny"`: 403, nothing spent.
    Denied,
}

impl<U> LinkLogin<U> {
    /// The login, or the failure to answer with (404, or 403 under `deny`).
    pub fn into_result(self) -> Result<Login<U>, crate::http::Failure> {
        match self {
            Self::LoggedIn(login) => Ok(login),
            Self::NotFound => Err(crate::http::Failure::NotFound),
            Self::Denied => Err(crate::http::Failure::OtherBrowser),
        }
    }
}

/// What a code request hands back: the flow the client must keep (a cookie, or the API's
/// `"flow"`). Unknown and inactive users get one too, of the same shape.
#[derive(Debug, Clone)]
pub struct LoginStarted {
    /// The flow token.
    pub flow: FlowToken,
    /// The flow's matching number (10 to 99): the waiting page shows it, and the approval
    /// page of another device asks for it (docs/HTTP.md, Cross-device approval).
    pub number: u8,
}

/// What a waiting login flow knows (`GET api/login/flow/`): approved or not, and nothing
/// that tells whether the account exists ([`NoPassword::flow_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowStatus {
    /// Not approved (yet): also a flow whose code is used, withdrawn or not stored, an
    /// unknown user's, and any well-formed token a stranger makes up.
    Pending,
    /// Another device approved it: the flow's holder can complete the login, once.
    Approved,
    /// The request holds no well-formed flow (the flow cookie expired with the code).
    Expired,
}

impl FlowStatus {
    /// The `"status"` of `api/login/flow/`: `pending`, `approved` or `expired`.
    ///
    /// ```
    /// assert_eq!(nopassword_core::service::FlowStatus::Approved.as_str(), "approved");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Expired => "expired",
        }
    }
}

/// The outcome of picking a number on the approval page ([`NoPassword::approve_flow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// The right number: the flow is approved and the link spent. The device that asked
    /// logs in when it next asks (its poll, or its "Continue" button).
    Approved,
    /// A wrong number: one of the code's tries is spent, and approval from another device is
    /// off for this code (the link can still log in this device). The third wrong pick
    /// withdraws the code.
    WrongNumber,
    /// Unknown, expired, used, withdrawn or already approved: 404.
    NotFound,
    /// Approval is offered only under `cross_device_links = "confirm"`: 403, nothing spent.
    Denied,
}

impl Approval {
    /// The failure this outcome answers with (404 or 403), or `None` for a page.
    pub fn failure(&self) -> Option<crate::http::Failure> {
        match self {
            Self::NotFound => Some(crate::http::Failure::NotFound),
            Self::Denied => Some(crate::http::Failure::OtherBrowser),
            Self::Approved | Self::WrongNumber => None,
        }
    }
}

/// Wrong picks on the approval page that withdraw a code (capped by `max_code_attempts`):
/// with three numbers to choose from, a third wrong pick is someone not looking at the
/// number at all.
pub const MAX_WRONG_PICKS: u32 = 3;

/// A flow's matching number and the three numbers its approval page offers, from the flow's
/// keyed hash: the same on every instance and at every view of the page (a page that drew
/// new decoys at each reload would give the right number away), and nothing a stranger can
/// compute without the flow or the key.
fn matching_numbers(flow_hash: &[u8]) -> (u8, [u8; 3]) {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"nopassword-matching-number")
        .chain_update(flow_hash)
        .finalize();
    let pick = |pair: &[u8]| -> u8 {
        let value = u16::from_le_bytes([pair[0], pair[1]]) % 90;
        10 + u8::try_from(value).unwrap_or(0)
    };
    let right = pick(&digest[0..2]);
    let mut decoys = Vec::with_capacity(2);
    for pair in digest[2..30].chunks(2) {
        let candidate = pick(pair);
        if candidate != right && !decoys.contains(&candidate) {
            decoys.push(candidate);
            if decoys.len() == 2 {
                break;
            }
        }
    }
    // 14 draws all colliding is (2/90)^13-unlikely; fixed decoys keep the shape regardless.
    while decoys.len() < 2 {
        let candidate = 10 + (right - 10 + 30 * (u8::try_from(decoys.len()).unwrap_or(0) + 1)) % 90;
        decoys.push(candidate);
    }
    let mut numbers = [decoys[0], decoys[1], right];
    let position = usize::from(digest[31] % 3);
    numbers.swap(2, position);
    (right, numbers)
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
/// use nopassword_core::{
///     NoPassword, Outbox, Settings,
///     service::{CodeAttempt, LoginRequest},
///     user::{MemoryDirectory, User},
/// };
///
/// let settings = Settings { secret_key: Some("a-long-random-secret-key-0123456789".into()), ..Settings::default() };
/// let outbox = Outbox::new(10).quiet();
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(outbox.clone())
///     .build()
///     .unwrap();
///
/// let started = service.request_login(LoginRequest { username: "alice", ..Default::default() }).await.unwrap();
/// let flow = started.flow.expose(); // the client keeps it (a cookie, or the API's "flow")
/// let message = outbox.latest_for("alice").unwrap();
///
/// let attempt = CodeAttempt { username: Some("alice"), code: message.code.expose(), flow: Some(&flow), client: None };
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
    /// `Some(dispatcher)`: background delivery; `None`: during the request. Unset until the
    /// builder or an adapter ([`NoPassword::deliver_in_background_by_default`]) chooses.
    dispatch: OnceLock<Option<Arc<dyn Dispatch>>>,
    delivery_failures: AtomicU64,
}

/// Builds a [`NoPassword`]; see [`NoPassword::builder`].
pub struct NoPasswordBuilder<U: LoginUser> {
    settings: Settings,
    users: Arc<dyn UserDirectory<User = U>>,
    store: Option<Arc<dyn CodeStore>>,
    sender: Option<Arc<dyn LoginCodeSender>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn CodeRng>,
    dispatch: OnceLock<Option<Arc<dyn Dispatch>>>,
}

impl<U: LoginUser> fmt::Debug for NoPasswordBuilder<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoPasswordBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<U: LoginUser> NoPasswordBuilder<U> {
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
    /// Default: during the request, until a web adapter mounts the service and installs its
    /// bounded [`Dispatcher`](crate::dispatch::Dispatcher) (both adapters do).
    pub fn dispatch(self, dispatch: impl Dispatch + 'static) -> Self {
        let chosen = OnceLock::new();
        let _ = chosen.set(Some(Arc::new(dispatch) as Arc<dyn Dispatch>));
        Self {
            dispatch: chosen,
            ..self
        }
    }

    /// Sends codes during the request, even under a web adapter: a sender outage is then a
    /// 503, at the cost of response times that tell real users from unknown ones
    /// (docs/SECURITY.md, Background delivery). Meant for tests and for senders that only enqueue.
    pub fn deliver_inline(self) -> Self {
        let chosen = OnceLock::new();
        let _ = chosen.set(None);
        Self {
            dispatch: chosen,
            ..self
        }
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
                delivery_failures: AtomicU64::new(0),
            }),
        })
    }
}

/// A code request past its limits, to be issued ([`NoPassword::issue`]).
struct Issue {
    username: String,
    next: Option<String>,
    host: Option<String>,
    secure: bool,
    locale: Option<Locale>,
    code: PlaintextCode,
    link: PlaintextCode,
    key: CodeKey,
    verifier: Vec<u8>,
    flow: Vec<u8>,
    device: Option<String>,
}

/// A live code found by its link secret.
struct Found<U> {
    key: CodeKey,
    record: CodeRecord,
    /// Refused tries at the code so far.
    failures: u32,
    user: U,
    same_flow: bool,
}

impl<U: LoginUser> NoPassword<U> {
    /// Starts building a service from validated-or-not settings and the app's users.
    pub fn builder(
        settings: Settings,
        users: impl UserDirectory<User = U> + 'static,
    ) -> NoPasswordBuilder<U> {
        Self::builder_shared(settings, Arc::new(users))
    }

    /// [`NoPassword::builder`] with a shared user directory.
    pub fn builder_shared(
        settings: Settings,
        users: Arc<dyn UserDirectory<User = U>>,
    ) -> NoPasswordBuilder<U> {
        NoPasswordBuilder {
            settings,
            users,
            store: None,
            sender: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(SystemRng),
            dispatch: OnceLock::new(),
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

    /// `next` (normalised) if it is a safe same-site path, else `login_redirect_url`.
    pub fn redirect_target(&self, next: Option<&str>) -> String {
        next.and_then(safe_next).map_or_else(
            || self.inner.settings.login_redirect_url.clone(),
            Cow::into_owned,
        )
    }

    /// Makes delivery run in the background through `dispatch()` unless the builder chose
    /// ([`NoPasswordBuilder::dispatch`] or [`NoPasswordBuilder::deliver_inline`]). The web adapters call it when
    /// they mount the service, so background delivery is their default. Returns whether
    /// delivery is now in the background.
    pub fn deliver_in_background_by_default(
        &self,
        dispatch: impl FnOnce() -> Arc<dyn Dispatch>,
    ) -> bool {
        self.inner
            .dispatch
            .get_or_init(|| Some(dispatch()))
            .is_some()
    }

    /// Deliveries that failed since start (in the background or not); each is also logged
    /// with the user id.
    pub fn delivery_failures(&self) -> u64 {
        self.inner.delivery_failures.load(Ordering::Relaxed)
    }

    /// Whether the service could serve logins now: the store's and the sender's
    /// [`health`](CodeStore::health) checks, run concurrently, each within `timeout`. The
    /// adapters' readiness handlers answer with it (200 when ready, 503 otherwise); failures
    /// are logged at `warn` with their error, which the report itself leaves out.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
    /// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
    /// let service = NoPassword::builder(settings, MemoryDirectory::default()).sender(Outbox::new(1)).build()?;
    /// let report = service.readiness(Duration::from_secs(2)).await;
    /// assert!(report.is_ready());
    /// assert_eq!(report.to_json(), r#"{"status":"ready","checks":{"store":"ok","sender:outbox":"ok"}}"#);
    /// # Ok::<_, nopassword_core::Error>(()) }).unwrap();
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn readiness(&self, timeout: Duration) -> crate::health::Readiness {
        use crate::health::{Check, Outcome};
        async fn timed<E: fmt::Display>(
            name: &'static str,
            channel: Option<&'static str>,
            timeout: Duration,
            check: impl std::future::Future<Output = Result<(), E>>,
        ) -> Check {
            let started = std::time::Instant::now();
            let outcome = match tokio::time::timeout(timeout, check).await {
                Ok(Ok(())) => Outcome::Ok,
                Ok(Err(error)) => {
                    warn!(check = name, channel, %error, "health check failed");
                    Outcome::Failed
                }
                Err(_) => {
                    warn!(check = name, channel, ?timeout, "health check timed out");
                    Outcome::TimedOut
                }
            };
            Check {
                name,
                channel,
                outcome,
                elapsed: started.elapsed(),
            }
        }
        let inner = &*self.inner;
        let (store, sender) = tokio::join!(
            timed("store", None, timeout, inner.store.health()),
            timed(
                "sender",
                Some(inner.sender.channel()),
                timeout,
                inner.sender.health()
            ),
        );
        crate::health::Readiness {
            checks: vec![store, sender],
        }
    }

    fn dispatcher(&self) -> Option<&Arc<dyn Dispatch>> {
        self.inner.dispatch.get().and_then(Option::as_ref)
    }

    /// A fresh CSRF token for a page's form, to be set in the CSRF cookie too (the signed
    /// double-submit pattern: no server state for anonymous visitors; see
    /// [`http::csrf_cookie_name`](crate::http::csrf_cookie_name)).
    pub fn new_csrf_token(&self) -> String {
        crate::http::new_csrf_token(&*self.inner.rng, &self.inner.hasher)
    }

    /// Whether the CSRF cookie holds a token this service signed (its own, or under a
    /// fallback key): it may then be reused for the next page.
    pub fn csrf_cookie_valid(&self, cookie: &str) -> bool {
        crate::http::csrf_signed(&self.inner.hasher, cookie)
    }

    /// The CSRF token for a page's form, given the request's CSRF cookie: the cookie's own
    /// when this service signed it, else a fresh one with the cookie to set.
    ///
    /// ```
    /// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
    ///
    /// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
    /// let service = NoPassword::builder(settings, MemoryDirectory::new([])).sender(Outbox::new(1)).build().unwrap();
    /// let first = service.page_csrf(None);
    /// let cookie = first.set_cookie.as_deref().expect("a new cookie");
    /// assert!(cookie.starts_with("nopassword_csrf="));
    /// let again = service.page_csrf(Some(&first.token));
    /// assert_eq!((again.token.as_str(), again.set_cookie), (first.token.as_str(), None));
    /// assert!(service.page_csrf(Some("forged.token")).set_cookie.is_some());
    /// ```
    pub fn page_csrf(&self, cookie: Option<&str>) -> crate::http::PageCsrf {
        match cookie {
            Some(token) if self.csrf_cookie_valid(token) => crate::http::PageCsrf {
                token: token.to_owned(),
                set_cookie: None,
            },
            _ => {
                let token = self.new_csrf_token();
                let set_cookie = crate::http::csrf_set_cookie(&self.inner.settings, &token);
                crate::http::PageCsrf {
                    token,
                    set_cookie: Some(set_cookie),
                }
            }
        }
    }

    /// Whether a form's CSRF token is the one in the CSRF cookie and was signed by this
    /// service (constant-time).
    pub fn csrf_valid(&self, cookie: Option<&str>, presented: Option<&str>) -> bool {
        crate::http::csrf_pair_valid(&self.inner.hasher, cookie, presented)
    }

    /// Sends a login code to `request.username` if that user exists and passes
    /// [`UserDirectory::verify_user`], bound to a flow the caller hands to the client
    /// (docs/HTTP.md, Login flows).
    ///
    /// Unknown and inactive users, and users no sender can reach (no e-mail address, say), get
    /// the same answer as real ones (a flow of the same shape, after the same store work), so
    /// the answer reveals nothing. Errors: [`Error::MissingUsername`], [`Error::RateLimited`]
    /// (per client address, and per username whether or not it exists), [`Error::Busy`] when
    /// the background delivery queue is full, and outages of the store, directory or sender
    /// (with delivery during the request; the stored code is then withdrawn).
    pub async fn request_login(&self, request: LoginRequest<'_>) -> Result<LoginStarted, Error> {
        let span = info_span!(
            "nopassword.request_login",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        let result = self.request_login_inner(request).instrument(span).await;
        crate::metrics::code_request(&result);
        result
    }

    async fn request_login_inner(&self, request: LoginRequest<'_>) -> Result<LoginStarted, Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        let username = request.username.trim();
        if username.is_empty() {
            return Err(Error::MissingUsername);
        }
        // Room for the delivery is taken before anything else, for every user alike: a full
        // queue refuses all, and the bound holds under concurrency.
        let reservation = match self.dispatcher().map(|d| d.reserve()) {
            Some(Err(in_flight)) => {
                warn!(in_flight, "delivery queue full; code request refused");
                return Err(Error::Busy { in_flight });
            }
            Some(Ok(reservation)) => Some(reservation),
            None => None,
        };
        // The client's and the username's counters in one store call (one round trip to a
        // server): both count, whichever refuses.
        let hour = Duration::from_secs(3600);
        let send_bucket = inner
            .hasher
            .bucket("send", &inner.users.limit_key(username));
        let client_bucket = self.client_bucket(request.client);
        let mut buckets = Vec::with_capacity(2);
        if let Some(bucket) = &client_bucket {
            buckets.push((bucket.as_str(), MINUTE));
        }
        buckets.push((send_bucket.as_str(), hour));
        let counts = inner.store.hits(&buckets).await?;
        if client_bucket.is_some() {
            self.check_client(counts.first().copied())?;
        }
        let sends = counts.last().copied().unwrap_or(0);
        if sends > settings.max_sends_per_user_per_hour {
            debug!("send limit reached for this username");
            crate::metrics::rate_limited("username");
            return Err(Error::RateLimited { retry_after: hour });
        }
        let held = request.flow.and_then(FlowToken::parse);
        let code = inner.generator.generate(&*inner.rng);
        let link = inner.generator.link_secret(&code, &*inner.rng);
        let hashed = inner.hasher.hash(link.expose());
        let flow = match &held {
            Some(held) => held.continued(hashed.key),
            None => FlowToken::new(&*inner.rng, hashed.key),
        };
        let issue = Issue {
            username: username.to_owned(),
            next: request.next.and_then(safe_next).map(Cow::into_owned),
            host: request.host.map(str::to_owned),
            secure: request.secure,
            locale: request.locale.cloned(),
            code,
            link,
            key: hashed.key,
            verifier: hashed.verifier,
            flow: inner.hasher.flow_hash(&flow.id),
            device: request.user_agent.and_then(crate::device::describe),
        };
        match self.dispatcher() {
            Some(dispatch) => {
                // Everything that depends on who the user is (the directory, `verify_user`, the
                // store write, the mail) runs off the request path: the answer takes as long
                // for a real user as for an unknown one, whatever the directory or the mail
                // server do.
                let service = self.clone();
                let task = async move {
                    let _room = reservation;
                    match service.issue(issue).await {
                        // Counted and logged where the sender failed.
                        Ok(()) | Err(Error::Send(_)) => {}
                        Err(error) => {
                            service
                                .inner
                                .delivery_failures
                                .fetch_add(1, Ordering::Relaxed);
                            warn!(%error, "issuing the login code failed");
                        }
                    }
                };
                dispatch.dispatch(Box::pin(task.instrument(tracing::Span::current())));
            }
            None => self.issue(issue).await?,
        }
        let number = self.matching_number(&flow);
        Ok(LoginStarted { flow, number })
    }

    /// Looks the user up, stores the code's record and hands it to the sender (in the
    /// background under a dispatcher). Unknown and inactive users cost the same store round
    /// trip and get nothing.
    async fn issue(&self, issue: Issue) -> Result<(), Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        let user = match inner
            .users
            .find_by_username(&issue.username)
            .await
            .map_err(Error::Directory)?
        {
            Some(user) => {
                tracing::Span::current().record("user_id", field::display(user.id()));
                if inner
                    .users
                    .verify_user(&user)
                    .await
                    .map_err(Error::Directory)?
                {
                    Some(user)
                } else {
                    info!("user did not pass verify_user; no code sent");
                    None
                }
            }
            None => {
                debug!("no such user; answering as if a code was sent");
                None
            }
        };
        let hour = Duration::from_secs(3600);
        let Some(user) = user else {
            // As much store work as a real user's code costs (the account's send count and the
            // write: two commands in one call), without touching any account's counters.
            inner
                .store
                .hit_and_get(None, &[issue.key, issue.key])
                .await?;
            return Ok(());
        };
        let user_id = user.id();
        if user_id.len() > MAX_USER_ID_LEN {
            return Err(Error::Directory(
                format!("user id longer than {MAX_USER_ID_LEN} bytes").into(),
            ));
        }
        tracing::Span::current().record("code_key", field::debug(&issue.key));
        let now = inner.clock.unix_seconds();
        let validity = settings.code_validity();
        let record = CodeRecord {
            user_id,
            verifier: issue.verifier,
            code_check: inner.hasher.typed_check(issue.code.expose()),
            flow: issue.flow,
            next: issue.next,
            created_at: now,
            expires_at: now.saturating_add(settings.login_code_timeout),
            device: issue.device,
            approved: false,
        };
        // The send limit counts the account too, not only the name as typed: a directory that
        // ignores case would otherwise give "Bob", "bob" and "BOB" ten codes an hour each.
        // Over it, nothing is stored or sent and the answer (already given) stays the same.
        // The count and the write are one store call.
        let account_bucket = inner.hasher.bucket("send-id", &record.user_id);
        let sends = inner
            .store
            .put_counted(
                &issue.key,
                &record,
                validity,
                (&account_bucket, hour),
                settings.max_sends_per_user_per_hour,
            )
            .await?;
        if sends > settings.max_sends_per_user_per_hour {
            info!("send limit reached for this account; no code sent");
            crate::metrics::rate_limited("account");
            return Ok(());
        }
        let login_code = LoginCode::new(
            user.recipient(),
            issue.code,
            record.next,
            UNIX_EPOCH + Duration::from_secs(record.expires_at),
            validity,
            Arc::clone(&inner.urls),
        )
        .with_link_secret(issue.link)
        .with_locale(user.locale().or(issue.locale));
        self.deliver(&login_code, issue.key, issue.secure, issue.host.as_deref())
            .await
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
        let sender = &*inner.sender;
        let sent = if sender.records_channel_metrics() {
            sender.send_login_code(login_code, secure, host).await
        } else {
            crate::sender::send_metered(sender, login_code, secure, host).await
        };
        if let Err(error) = sent {
            if let Err(store_error) = inner.store.take(&key).await {
                warn!(error = %store_error, "could not withdraw the unsent code");
            }
            if error.is_unreachable_recipient() {
                // Answer as for an unknown user: the outcome must not reveal the account.
                info!(%error, "the user cannot be reached by any sender; no code sent");
                return Ok(());
            }
            inner.delivery_failures.fetch_add(1, Ordering::Relaxed);
            warn!(
                user_id = %login_code.user().id,
                %error,
                "sending the login code failed; code withdrawn"
            );
            return Err(Error::Send(error));
        }
        info!("login code sent");
        Ok(())
    }

    /// What the `GET` (or `HEAD`) of a login link should do, without consuming anything: the
    /// "Logging in..." page, an immediate login, the "Confirm login" page, 403 or 404
    /// (docs/HTTP.md, Login flows). A miss spends nothing of any user's (link secrets have at least 64
    /// bits; the per-address rate limit applies).
    pub async fn open_link(&self, attempt: CodeAttempt<'_>) -> Result<LinkAction, Error> {
        let span = info_span!(
            "nopassword.open_link",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        let action = async {
            let Some(found) = self.find_link(attempt).await? else {
                return Ok(LinkAction::NotFound);
            };
            let settings = &self.inner.settings;
            let allowed = found.same_flow || settings.cross_device_links == CrossDeviceLinks::Allow;
            Ok(match (allowed, settings.cross_device_links) {
                (true, _) if settings.post_redirect => LinkAction::Submit,
                (true, _) => LinkAction::LogIn,
                (false, CrossDeviceLinks::Deny) => LinkAction::Denied,
                (false, _) => LinkAction::Confirm {
                    username: found.user.username().to_owned(),
                    requested_at: UNIX_EPOCH + Duration::from_secs(found.record.created_at),
                    numbers: (found.failures == 0).then(|| matching_numbers(&found.record.flow).1),
                    device: found.record.device,
                },
            })
        }
        .instrument(span)
        .await;
        match &action {
            Ok(LinkAction::Submit) => crate::metrics::link_view("submit"),
            Ok(LinkAction::Confirm { .. }) => crate::metrics::link_view("confirm"),
            Ok(LinkAction::Denied) => crate::metrics::link_view("denied"),
            Ok(LinkAction::NotFound) => crate::metrics::link_view("not_found"),
            Ok(LinkAction::LogIn) | Err(_) => {}
        }
        action
    }

    /// Logs in with a login link (its `POST`, or its `GET` when [`open_link`](Self::open_link)
    /// said [`LinkAction::LogIn`]): the flow's own browser always, another client unless
    /// `cross_device_links = "deny"`. Atomic single use: of concurrent posts of one link
    /// exactly one logs in.
    pub async fn login_with_link(&self, attempt: CodeAttempt<'_>) -> Result<LinkLogin<U>, Error> {
        let span = info_span!(
            "nopassword.login_with_link",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        async {
            let Some(found) = self.find_link(attempt).await? else {
                return Ok(LinkLogin::NotFound);
            };
            if !found.same_flow && self.inner.settings.cross_device_links == CrossDeviceLinks::Deny
            {
                info!("link opened outside its flow; denied");
                return Ok(LinkLogin::Denied);
            }
            // `find_link` just asked `verify_user`. The take and the reset of the user's
            // failures are one store call.
            let Some(record) = self
                .inner
                .store
                .take_and_reset(&found.key, &found.record.user_id)
                .await?
            else {
                debug!("another request used this code first");
                return Ok(LinkLogin::NotFound);
            };
            Ok(LinkLogin::LoggedIn(
                self.logged_in(found.user, &record, "link"),
            ))
        }
        .instrument(span)
        .await
    }

    /// Logs in with a typed code (`login/code/`, `api/login/code/`): only with the flow that
    /// asked for it (docs/HTTP.md, Login flows).
    ///
    /// Without that flow even the right code is refused and nothing of the user's is spent.
    /// Within it, every try counts against the code's `max_code_attempts` and the user's
    /// `max_user_failures`, atomically, and a right code logs in only through that count
    /// (`CodeStore::count_user_try`, then `CodeStore::use_code`, which counts, checks the
    /// limit and takes the code in one step), so parallel guesses can neither count as fewer
    /// nor pass a cap. `Ok(None)` for anything that does not log in, all alike.
    /// Errors: [`Error::RateLimited`] per client address, and outages.
    pub async fn authenticate(&self, attempt: CodeAttempt<'_>) -> Result<Option<Login<U>>, Error> {
        let span = info_span!(
            "nopassword.authenticate",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        self.authenticate_inner(attempt).instrument(span).await
    }

    async fn authenticate_inner(
        &self,
        attempt: CodeAttempt<'_>,
    ) -> Result<Option<Login<U>>, Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        let Some(flow) = attempt.flow.and_then(FlowToken::parse) else {
            self.limit_client(attempt.client).await?;
            debug!("typed code without a flow; refused, nothing spent");
            return Ok(None);
        };
        // The client's rate counter and the flow's codes (at most FLOW_CODES: a person who
        // asked twice may type either) in one store call.
        let bucket = self.client_bucket(attempt.client);
        let (hits, stored) = inner
            .store
            .hit_and_get(bucket.as_deref().map(|b| (b, MINUTE)), flow.code_keys())
            .await?;
        self.check_client(hits)?;
        let mut live = Vec::with_capacity(stored.len());
        for (key, stored) in flow.code_keys().iter().zip(stored) {
            let Some(stored) = stored else {
                continue;
            };
            if !inner.hasher.flow_matches(&flow.id, &stored.record.flow) {
                debug!("flow does not match the code; refused, nothing spent");
                continue;
            }
            if stored.record.approved {
                debug!("the code was spent approving this flow; it completes instead");
                continue;
            }
            if inner.clock.unix_seconds() >= stored.record.expires_at {
                debug!("code expired");
                inner.store.take(key).await?;
                continue;
            }
            live.push((*key, stored.record));
        }
        let Some((first_key, first)) = live.first() else {
            debug!("the flow has no live code");
            return Ok(None);
        };
        tracing::Span::current().record("code_key", field::debug(first_key));
        tracing::Span::current().record("user_id", field::display(&first.user_id));

        // Judged first, counted after: the store's counting decides, atomically, whether a
        // right code may log in (its user not locked out, the code within its tries), so
        // parallel guesses can neither count as fewer nor pass a cap, and a right code costs
        // one store call per counter instead of a count, a take and a reset.
        let code = inner.generator.normalise(attempt.code);
        let well_formed = inner.generator.is_well_formed(&code);
        let hit = live.iter().position(|(_, record)| {
            well_formed && inner.hasher.typed_matches(&code, &record.code_check)
        });
        let mut winner = None;
        if let Some(i) = hit {
            let (key, record) = &live[i];
            match self.code_user(key, &record.user_id).await? {
                None => {
                    live.swap_remove(i);
                }
                Some(user)
                    if attempt
                        .username
                        .is_some_and(|named| user.username() != named.trim()) =>
                {
                    debug!("code belongs to another user");
                }
                Some(user) => {
                    if inner
                        .users
                        .verify_user(&user)
                        .await
                        .map_err(Error::Directory)?
                    {
                        winner = Some((*key, user));
                    } else {
                        info!("user did not pass verify_user");
                    }
                }
            }
        }
        let winner_id = winner.as_ref().map(|(key, _)| *key);
        let winner_user = winner_id
            .and_then(|winner| live.iter().find(|(key, _)| *key == winner))
            .map(|(_, record)| record.user_id.as_str());

        // Within its flow every try counts, once against each user of the flow's codes
        // (capped; a right code resets its user's count), then against each of those codes.
        let window = Duration::from_secs(settings.lockout_seconds.max(settings.login_code_timeout));
        let mut users: Vec<(&str, bool)> = Vec::new();
        for (_, record) in &live {
            if users.iter().any(|(id, _)| *id == record.user_id) {
                continue;
            }
            let matched = winner_user == Some(record.user_id.as_str());
            let counted = inner
                .store
                .count_user_try(&record.user_id, window, settings.max_user_failures, matched)
                .await?
                .is_some();
            if !counted {
                crate::metrics::lockout();
                warn!(
                    max = settings.max_user_failures,
                    "user locked out after consecutive failures"
                );
            }
            users.push((&record.user_id, counted));
        }
        let mut taken = None;
        let mut charged = false;
        for (key, record) in &live {
            if !users
                .iter()
                .any(|(id, counted)| *id == record.user_id && *counted)
            {
                continue;
            }
            let matched = winner_id == Some(*key);
            match inner
                .store
                .use_code(key, settings.max_code_attempts, matched)
                .await?
            {
                CodeUse::Gone => debug!("another request used this code first"),
                CodeUse::Refused { .. } => charged = true,
                CodeUse::Withdrawn { tries } => {
                    charged = true;
                    info!(tries, "code withdrawn after too many failed tries");
                }
                CodeUse::Taken(record) => taken = Some(record),
            }
        }
        let (Some(record), Some((_, user))) = (taken, winner) else {
            debug!("wrong code");
            if charged {
                crate::metrics::failed_code_try();
            }
            return Ok(None);
        };
        Ok(Some(self.logged_in(user, &record, "code")))
    }

    /// The user a live code logs in; a code whose user is gone is withdrawn.
    async fn code_user(&self, key: &CodeKey, user_id: &str) -> Result<Option<U>, Error> {
        let user = self
            .inner
            .users
            .find_by_id(user_id)
            .await
            .map_err(Error::Directory)?;
        if user.is_none() {
            debug!("the code's user no longer exists");
            self.inner.store.take(key).await?;
        }
        Ok(user)
    }

    /// A live code whose link secret is `attempt.code`, with its user, or `None` (which
    /// spends nothing).
    async fn find_link(&self, attempt: CodeAttempt<'_>) -> Result<Option<Found<U>>, Error> {
        let inner = &*self.inner;
        let secret = inner.generator.normalise(attempt.code);
        if !inner.generator.is_well_formed_link(&secret) {
            self.limit_client(attempt.client).await?;
            debug!("malformed link");
            return Ok(None);
        }
        // The client's rate counter and every candidate key (one per accepted secret key) in
        // one store call.
        let candidates: Vec<_> = inner.hasher.candidates(&secret).collect();
        let keys: Vec<CodeKey> = candidates.iter().map(|hashed| hashed.key).collect();
        let bucket = self.client_bucket(attempt.client);
        let (hits, stored) = inner
            .store
            .hit_and_get(bucket.as_deref().map(|b| (b, MINUTE)), &keys)
            .await?;
        self.check_client(hits)?;
        let found = candidates.iter().zip(stored).find_map(|(hashed, stored)| {
            stored
                .filter(|stored| hashed.verifies(&stored.record.verifier))
                .map(|stored| (hashed.key, stored.record, stored.failures))
        });
        let Some((key, record, failures)) = found else {
            debug!("no such code");
            return Ok(None);
        };
        if record.approved {
            debug!("the link was spent approving another device");
            return Ok(None);
        }
        tracing::Span::current().record("code_key", field::debug(&key));
        tracing::Span::current().record("user_id", field::display(&record.user_id));
        if inner.clock.unix_seconds() >= record.expires_at {
            debug!("code expired");
            inner.store.take(&key).await?;
            return Ok(None);
        }
        let Some(user) = self.code_user(&key, &record.user_id).await? else {
            return Ok(None);
        };
        if attempt
            .username
            .is_some_and(|named| named != user.username())
        {
            debug!("link names another user");
            return Ok(None);
        }
        if !inner
            .users
            .verify_user(&user)
            .await
            .map_err(Error::Directory)?
        {
            info!("user did not pass verify_user");
            return Ok(None);
        }
        let same_flow = attempt
            .flow
            .and_then(FlowToken::parse)
            .is_some_and(|flow| inner.hasher.flow_matches(&flow.id, &record.flow));
        Ok(Some(Found {
            key,
            record,
            failures,
            user,
            same_flow,
        }))
    }

    /// The matching number of a flow (10 to 99), as the waiting page shows it: the same
    /// number the approval page of the flow's link asks for (docs/HTTP.md, Cross-device
    /// approval). Every flow has one, a stranger's or an unknown user's too.
    pub fn matching_number(&self, flow: &FlowToken) -> u8 {
        matching_numbers(&self.inner.hasher.flow_hash(&flow.id)).0
    }

    /// The matching number of the flow a client presents (its flow cookie), or `None` when
    /// it presents no well-formed flow: what the waiting page shows again after an early
    /// "Continue" (`POST login/flow/complete/` before the approval), on both adapters.
    pub fn presented_number(&self, flow: Option<&str>) -> Option<u8> {
        flow.and_then(FlowToken::parse)
            .map(|token| self.matching_number(&token))
    }

    /// Where a waiting flow stands (`GET api/login/flow/`): one store read of the flow's
    /// codes, no rate counter (a flow token is a 128-bit secret: polling it every few seconds
    /// is the point).
    ///
    /// [`FlowStatus::Approved`] when another device approved one of the flow's live codes;
    /// [`FlowStatus::Expired`] when the request holds no well-formed flow (the flow cookie
    /// expires with the code); else [`FlowStatus::Pending`], whatever the store holds. The
    /// answer never tells a real user's flow from an unknown user's, a stranger's made-up
    /// token, a code not stored yet (delivery runs in the background) or one that was used
    /// or withdrawn: anything else would tell who has an account. A client that polls with
    /// `?flow=` stops after `login_code_timeout` by itself.
    pub async fn flow_status(&self, flow: Option<&str>) -> Result<FlowStatus, Error> {
        let inner = &*self.inner;
        let Some(flow) = flow.and_then(FlowToken::parse) else {
            return Ok(FlowStatus::Expired);
        };
        let (_, stored) = inner.store.hit_and_get(None, flow.code_keys()).await?;
        let now = inner.clock.unix_seconds();
        let approved = stored.into_iter().flatten().any(|stored| {
            let record = &stored.record;
            record.approved
                && now < record.expires_at
                && inner.hasher.flow_matches(&flow.id, &record.flow)
        });
        Ok(if approved {
            FlowStatus::Approved
        } else {
            FlowStatus::Pending
        })
    }

    /// Approves the flow that asked for a link's code from the device that opened the link,
    /// when `number` is the flow's matching number (the approval page's pick; docs/HTTP.md,
    /// Cross-device approval). Only under `cross_device_links = "confirm"`.
    ///
    /// The right number replaces the code by its approved record in one store step
    /// ([`CodeStore::approve`]): the link and the code are spent, and the flow's holder
    /// completes the login with [`complete_flow`](Self::complete_flow). A wrong number spends
    /// one of the code's tries ([`MAX_WRONG_PICKS`] withdraw it) and turns approval from
    /// another device off for the code: a right pick after a wrong one (or after a mistyped
    /// code) withdraws the code, so guessing wins at most one time in three. This device is
    /// never logged in here.
    pub async fn approve_flow(
        &self,
        attempt: CodeAttempt<'_>,
        number: &str,
    ) -> Result<Approval, Error> {
        let span = info_span!(
            "nopassword.approve_flow",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        let approval = async {
            let inner = &*self.inner;
            let settings = &inner.settings;
            let Some(found) = self.find_link(attempt).await? else {
                return Ok(Approval::NotFound);
            };
            if settings.cross_device_links != CrossDeviceLinks::Confirm {
                info!("approval is offered under cross_device_links = \"confirm\" only");
                return Ok(Approval::Denied);
            }
            let right = matching_numbers(&found.record.flow).0;
            if number.trim().parse::<u8>().ok() != Some(right) {
                let max = MAX_WRONG_PICKS.min(settings.max_code_attempts);
                return Ok(match inner.store.use_code(&found.key, max, false).await? {
                    CodeUse::Refused { tries } => {
                        info!(
                            tries,
                            "wrong matching number picked; approval is off for this code"
                        );
                        Approval::WrongNumber
                    }
                    CodeUse::Withdrawn { tries } => {
                        info!(tries, "wrong matching number picked; code withdrawn");
                        Approval::WrongNumber
                    }
                    CodeUse::Gone | CodeUse::Taken(_) => Approval::NotFound,
                });
            }
            if found.failures > 0 {
                // One pick only: the right number after any refused try at the code (a wrong
                // pick, a mistyped code) withdraws it.
                inner.store.take(&found.key).await?;
                info!("right number after a refused try; code withdrawn");
                return Ok(Approval::WrongNumber);
            }
            let now = inner.clock.unix_seconds();
            let ttl = Duration::from_secs(found.record.expires_at.saturating_sub(now).max(1));
            let approved = CodeRecord {
                approved: true,
                ..found.record
            };
            Ok(
                match inner.store.approve(&found.key, &approved, ttl).await? {
                    Some(_) => {
                        info!("login flow approved from another device");
                        crate::metrics::approval("approved");
                        Approval::Approved
                    }
                    None => {
                        debug!("approved, tried or used by another request first");
                        Approval::NotFound
                    }
                },
            )
        }
        .instrument(span)
        .await;
        if matches!(approval, Ok(Approval::WrongNumber)) {
            crate::metrics::approval("wrong_number");
        }
        approval
    }

    /// Completes an approved flow for the client that holds it (`POST login/flow/complete/`,
    /// `POST api/login/flow/complete/`): takes the approved record, atomically, so of any
    /// number of concurrent completes across instances exactly one logs in. `Ok(None)` for
    /// anything else (pending, expired, unknown, a stranger's flow), all alike; no rate
    /// counter, as for [`flow_status`](Self::flow_status).
    pub async fn complete_flow(&self, flow: Option<&str>) -> Result<Option<Login<U>>, Error> {
        let span = info_span!(
            "nopassword.complete_flow",
            namespace = %self.inner.settings.namespace,
            user_id = field::Empty,
            code_key = field::Empty,
        );
        async {
            let inner = &*self.inner;
            let Some(flow) = flow.and_then(FlowToken::parse) else {
                return Ok(None);
            };
            let (_, stored) = inner.store.hit_and_get(None, flow.code_keys()).await?;
            let now = inner.clock.unix_seconds();
            let approved = flow
                .code_keys()
                .iter()
                .zip(stored)
                .find_map(|(key, stored)| {
                    stored
                        .filter(|stored| {
                            stored.record.approved
                                && now < stored.record.expires_at
                                && inner.hasher.flow_matches(&flow.id, &stored.record.flow)
                        })
                        .map(|stored| (*key, stored.record))
                });
            let Some((key, record)) = approved else {
                debug!("the flow is not approved");
                return Ok(None);
            };
            tracing::Span::current().record("code_key", field::debug(&key));
            tracing::Span::current().record("user_id", field::display(&record.user_id));
            let Some(user) = self.code_user(&key, &record.user_id).await? else {
                return Ok(None);
            };
            if !inner
                .users
                .verify_user(&user)
                .await
                .map_err(Error::Directory)?
            {
                info!("user did not pass verify_user");
                return Ok(None);
            }
            match inner.store.take_and_reset(&key, &record.user_id).await? {
                Some(taken) if taken.approved => Ok(Some(self.logged_in(user, &taken, "approval"))),
                _ => {
                    debug!("another request completed this flow first");
                    Ok(None)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The end of every login, once the code is taken: the log line, the metric and where to
    /// go. `method` (`link` or `code`) names the login in the metrics.
    fn logged_in(&self, user: U, record: &CodeRecord, method: &'static str) -> Login<U> {
        info!("logged in with a login code");
        crate::metrics::login(method);
        let next = self.redirect_target(record.next.as_deref());
        Login { user, next }
    }

    /// Counts a request against the client's address (alone, when nothing else goes to the
    /// store with it).
    async fn limit_client(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(bucket) = self.client_bucket(client) else {
            return Ok(());
        };
        let hits = self.inner.store.hit(&bucket, MINUTE).await?;
        self.check_client(Some(hits))
    }

    /// The rate bucket of a client address (a keyed hash), if the request has one.
    fn client_bucket(&self, client: Option<IpAddr>) -> Option<String> {
        client.map(|client| self.inner.hasher.bucket("ip", &client_bucket(client)))
    }

    /// Refuses a client whose address counted more requests this minute than allowed.
    fn check_client(&self, hits: Option<u32>) -> Result<(), Error> {
        if hits.is_some_and(|hits| hits > self.inner.settings.max_requests_per_ip_per_minute) {
            debug!("client address over its rate limit");
            crate::metrics::rate_limited("client");
            return Err(Error::RateLimited {
                retry_after: MINUTE,
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
