//! The harness of the HTTP contract suite: a real server of one web adapter on a free loopback
//! port, a known set of users, a code store and a sender that can be switched into an outage, a
//! manual clock, and a cookie-keeping client that does not follow redirects.
//!
//! Nothing here knows a web framework: an adapter plugs in through [`Adapter`], and the test
//! bodies in [`contract`](crate::contract) speak plain HTTP.

pub mod html;

use std::{
    collections::HashMap,
    fmt,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc, PoisonError, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use nopassword_core::{
    CodeStore, LoginCodeSender, MemoryStore, NoPassword, NoPasswordBuilder, Outbox, SendError,
    Settings, StoreError, UserDirectory, async_trait,
    clock::ManualClock,
    code::LoginCode,
    error::BoxError,
    hashing::CodeKey,
    http,
    sender::OutboxMessage,
    store::{CodeRecord, StoredCode},
    user::User,
};
use reqwest::{
    Client, Method, RequestBuilder, StatusCode,
    cookie::{CookieStore, Jar},
    header::{self, HeaderMap},
    redirect::Policy,
};
use serde_json::{Value, json};

/// A web adapter under test.
pub trait Adapter {
    /// Serves `service` on `listener` (already bound, non-blocking) until the handle drops:
    /// every route of docs/HTTP.md, Routes at `mount_path`, sessions in memory, and one app route,
    /// `GET /whoami`, answering 200 `{"username": "..."}` for the session's user, else 401.
    /// It also mounts the adapter's readiness route at `GET /readyz`, and plays an app's
    /// language hook: a request with an [`APP_LOCALE_HEADER`] header carries that language
    /// tag as a `nopassword_core::locale::Locale` in its extensions (what an app's own
    /// middleware does with a user's profile or a `/es/` path), as the adapter documents.
    ///
    /// The adapter installs its default delivery (in the background, docs/HTTP.md, Login flows) unless the
    /// test's service chose otherwise. A runner that can count its server-side sessions says so
    /// with [`ServerHandle::with_session_count`], and the suite then also checks that anonymous
    /// visitors create none.
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle;

    /// The code store the suite's sites use, measuring time on the site's `clock`: `None` (the
    /// default) for core's [`MemoryStore`]. A runner returns another store (PostgreSQL, say) to
    /// run the whole contract on it; the outage switch still wraps it.
    fn code_store(clock: &ManualClock) -> Option<StoreUnderTest> {
        let _ = clock;
        None
    }
}

/// How many live entries (codes and counters) a store holds now.
type EntryCount = Arc<dyn Fn() -> usize + Send + Sync>;

/// A code store for the suite's sites ([`Adapter::code_store`]), with a way to count its live
/// entries (for "anonymous visitors store nothing").
pub struct StoreUnderTest {
    store: Arc<dyn CodeStore>,
    entries: EntryCount,
}

impl StoreUnderTest {
    /// `store`, whose live codes and counters `entries` counts.
    pub fn new(
        store: Arc<dyn CodeStore>,
        entries: impl Fn() -> usize + Send + Sync + 'static,
    ) -> Self {
        Self {
            store,
            entries: Arc::new(entries),
        }
    }
}

impl fmt::Debug for StoreUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreUnderTest").finish_non_exhaustive()
    }
}

/// How many sessions a server holds (see [`ServerHandle::with_session_count`]).
type SessionCount = Box<dyn Fn() -> usize + Send + Sync>;

/// A running server; dropping it stops the server.
pub struct ServerHandle {
    stop: Option<Box<dyn FnOnce() + Send>>,
    sessions: Option<SessionCount>,
}

impl ServerHandle {
    /// A handle that runs `stop` when dropped.
    pub fn new(stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            stop: Some(Box::new(stop)),
            sessions: None,
        }
    }

    /// Optional: how to count the sessions the server's session store holds now (live ones,
    /// expired ones purged), for the tests of "anonymous visitors store nothing" (docs/HTTP.md,
    /// Cookies). Without it those tests check only what a client can see (no session cookie, no code
    /// store entry).
    #[must_use]
    pub fn with_session_count(mut self, count: impl Fn() -> usize + Send + Sync + 'static) -> Self {
        self.sessions = Some(Box::new(count));
        self
    }

    /// The server's session count, when the runner gave a way to count.
    pub fn session_count(&self) -> Option<usize> {
        self.sessions.as_ref().map(|count| count())
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// The header an [`Adapter`]'s server turns into the app's choice of language
/// (docs/guide/i18n.md, the app's hook).
pub const APP_LOCALE_HEADER: &str = "x-app-locale";

/// The secret key of every test site.
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef-0123456789";

/// The session cookie: `{namespace}_session`.
pub const SESSION_COOKIE: &str = "nopassword_session";

/// The flow cookie: `{namespace}_flow` (docs/HTTP.md, Login flows).
pub const FLOW_COOKIE: &str = "nopassword_flow";

/// The CSRF cookie: `{namespace}_csrf` (signed double-submit, no server state).
pub const CSRF_COOKIE: &str = "nopassword_csrf";

/// The longest a background delivery may take to reach the outbox before a test gives up.
const DELIVERY_WAIT: Duration = Duration::from_secs(5);

/// How long "nothing was sent" waits for a late background delivery first.
const SETTLE: Duration = Duration::from_millis(150);

/// The test users: alice (active, e-mail), bob (inactive), and a username that needs
/// percent-encoding in a link.
pub fn users() -> Vec<User> {
    vec![
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob")
            .with_email("bob@example.com")
            .inactive(),
        User::new("3", CAROL).with_email(CAROL),
    ]
}

/// A username with `+` and `@`.
pub const CAROL: &str = "carol+test@example.com";

/// The settings every test starts from: defaults plus a secret key, with limits high enough
/// that only the rate-limit tests meet them.
pub fn base_settings() -> Settings {
    Settings {
        secret_key: Some(SECRET_KEY.into()),
        max_requests_per_ip_per_minute: 100_000,
        max_sends_per_user_per_hour: 10_000,
        ..Settings::default()
    }
}

/// The site's users, which a test may change while the server runs (an account deactivated
/// since a session began).
#[derive(Debug, Clone)]
pub struct Directory {
    users: Arc<RwLock<HashMap<String, User>>>,
}

impl Directory {
    fn new(users: impl IntoIterator<Item = User>) -> Self {
        let users = users.into_iter().map(|u| (u.id.clone(), u)).collect();
        Self {
            users: Arc::new(RwLock::new(users)),
        }
    }

    /// Marks `username` inactive: it no longer passes `verify_user`.
    pub fn deactivate(&self, username: &str) {
        let mut users = self.users.write().unwrap_or_else(PoisonError::into_inner);
        let user = users
            .values_mut()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username}"));
        user.active = false;
    }

    fn find(&self, matches: impl Fn(&User) -> bool) -> Option<User> {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        users.values().find(|u| matches(u)).cloned()
    }
}

#[async_trait]
impl UserDirectory for Directory {
    type User = User;

    async fn find_by_username(&self, username: &str) -> Result<Option<User>, BoxError> {
        Ok(self.find(|u| u.username == username))
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, BoxError> {
        Ok(self.find(|u| u.id == id))
    }
}

/// Switches the code store and the sender into an outage, or the sender into a slow one.
#[derive(Debug, Clone, Default)]
pub struct Outage {
    store: Arc<AtomicBool>,
    sender: Arc<AtomicBool>,
    sender_delay_ms: Arc<AtomicU64>,
}

impl Outage {
    /// Every store call fails (as a Redis timeout would) while `down`.
    pub fn store(&self, down: bool) {
        self.store.store(down, Ordering::SeqCst);
    }

    /// Every send fails (as an SMTP server refusing would) while `down`.
    pub fn sender(&self, down: bool) {
        self.sender.store(down, Ordering::SeqCst);
    }

    /// Every send takes `delay` first (as a slow mail server would); zero to stop.
    pub fn sender_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.sender_delay_ms.store(millis, Ordering::SeqCst);
    }
}

/// The site's code store (core's in-memory store unless the adapter chose another), failing
/// while its outage switch is on.
#[derive(Clone)]
pub struct FlakyStore {
    inner: Arc<dyn CodeStore>,
    entries: EntryCount,
    down: Arc<AtomicBool>,
}

impl fmt::Debug for FlakyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlakyStore")
            .field("down", &self.down)
            .finish_non_exhaustive()
    }
}

impl FlakyStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            // What a real outage says; none of it may reach a client.
            Err(StoreError::Timeout(Duration::from_millis(250)))
        } else {
            Ok(())
        }
    }

    /// Live entries (codes and counters), whatever the outage switch says.
    pub fn len(&self) -> usize {
        (self.entries)()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl CodeStore for FlakyStore {
    async fn put(
        &self,
        key: &CodeKey,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.put(key, record, ttl).await
    }

    async fn get(&self, key: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        self.check()?;
        self.inner.get(key).await
    }

    async fn take(&self, key: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        self.check()?;
        self.inner.take(key).await
    }

    async fn incr_code_failures(&self, key: &CodeKey) -> Result<Option<u32>, StoreError> {
        self.check()?;
        self.inner.incr_code_failures(key).await
    }

    async fn incr_user_failures(
        &self,
        user_id: &str,
        window: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.check()?;
        self.inner.incr_user_failures(user_id, window, cap).await
    }

    async fn user_failures(&self, user_id: &str) -> Result<u32, StoreError> {
        self.check()?;
        self.inner.user_failures(user_id).await
    }

    async fn clear_user_failures(&self, user_id: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.clear_user_failures(user_id).await
    }

    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError> {
        self.check()?;
        self.inner.hit(bucket, window).await
    }
    async fn health(&self) -> Result<(), StoreError> {
        self.check()
    }
}

/// The development outbox, failing while its outage switch is on and waiting while its delay
/// is set.
#[derive(Debug, Clone)]
struct FlakySender {
    outbox: Outbox,
    down: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    locales: MessageLocales,
}

/// The locale of every code handed to the sender, in order ([`LoginCode::locale`]; `None`
/// when neither the user nor the request named one).
#[derive(Debug, Clone, Default)]
pub struct MessageLocales(Arc<RwLock<Vec<UserLocale>>>);

/// A username and the language tag of a code sent to them.
pub type UserLocale = (String, Option<String>);

impl MessageLocales {
    /// `(username, locale)` of each code so far.
    pub fn all(&self) -> Vec<UserLocale> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl LoginCodeSender for FlakySender {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(SendError::new(
                "SmtpTransportError: Connection refused (os error 111) at 10.9.8.7:587",
            ));
        }
        self.locales
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push((
                code.user().username.clone(),
                code.locale().map(ToString::to_string),
            ));
        self.outbox.send_login_code(code, secure, host).await
    }
    async fn health(&self) -> Result<(), SendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SendError::new(
                "Connection refused (os error 111) at 10.9.8.7:587",
            ));
        }
        Ok(())
    }
}

/// A site under test: one adapter's server for some settings.
pub struct Site {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// The validated settings (`mount_path` normalised: `/accounts`, or empty at the root).
    pub settings: Settings,
    /// Every message sent.
    pub outbox: Outbox,
    /// The language of every message sent.
    pub locales: MessageLocales,
    /// The service's and the code store's clock.
    pub clock: ManualClock,
    /// Outage switches.
    pub outage: Outage,
    /// The users, which a test may deactivate.
    pub users: Directory,
    /// The code store the service uses (for counts a client cannot see).
    pub store: FlakyStore,
    /// The service the server runs (a clone sharing its state).
    pub service: NoPassword<User>,
    server: ServerHandle,
}

impl Site {
    /// Starts `A` with [`base_settings`] changed by `configure`.
    pub fn start<A: Adapter>(configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start_with::<A>(configure, |builder| builder)
    }

    /// Starts `A` with [`base_settings`] changed by `configure` and the service's builder
    /// changed by `build` (after the harness gave it its users, store, sender and clock), say
    /// to [`deliver_inline`](NoPasswordBuilder::deliver_inline).
    pub fn start_with<A: Adapter>(
        configure: impl FnOnce(&mut Settings),
        build: impl FnOnce(NoPasswordBuilder<User>) -> NoPasswordBuilder<User>,
    ) -> Self {
        let mut settings = base_settings();
        configure(&mut settings);
        let clock = ManualClock::new();
        let outage = Outage::default();
        let outbox = Outbox::new(10_000).quiet();
        let chosen = A::code_store(&clock).unwrap_or_else(|| {
            let memory = MemoryStore::with_clock(clock.clone());
            let count = memory.clone();
            StoreUnderTest::new(Arc::new(memory), move || count.len())
        });
        let store = FlakyStore {
            inner: chosen.store,
            entries: chosen.entries,
            down: Arc::clone(&outage.store),
        };
        let locales = MessageLocales::default();
        let sender = FlakySender {
            outbox: outbox.clone(),
            down: Arc::clone(&outage.sender),
            delay_ms: Arc::clone(&outage.sender_delay_ms),
            locales: locales.clone(),
        };
        let users = Directory::new(users());
        let builder = NoPassword::builder(settings, users.clone())
            .store(store.clone())
            .sender(sender)
            .clock(clock.clone());
        let service = build(builder).build().expect("test settings are valid");
        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr: SocketAddr = listener.local_addr().expect("local address");
        let settings = service.settings().clone();
        let server = A::serve(service.clone(), listener);
        Self {
            base: format!("http://{addr}"),
            settings,
            outbox,
            locales,
            clock,
            outage,
            users,
            store,
            service,
            server,
        }
    }

    /// Starts `A` with the default test settings.
    pub fn standard<A: Adapter>() -> Self {
        Self::start::<A>(|_| {})
    }

    /// A route of the contract as a path: `path("login/")` is `/accounts/login/`.
    pub fn path(&self, route: &str) -> String {
        format!("{}/{route}", self.settings.mount_path)
    }

    /// A route of the contract as a full URL.
    pub fn url(&self, route: &str) -> String {
        format!("{}{}", self.base, self.path(route))
    }

    /// A fresh browser: its own cookies, redirects not followed.
    pub fn browser(&self) -> Browser {
        self.browser_with(HeaderMap::new())
    }

    /// A fresh browser whose every request says `Accept-Language: {accept_language}`, as a
    /// browser set to that language does.
    pub fn browser_in(&self, accept_language: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            accept_language.parse().expect("a header value"),
        );
        self.browser_with(headers)
    }

    fn browser_with(&self, headers: HeaderMap) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .default_headers(headers)
            .cookie_provider(Arc::clone(&jar))
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Browser {
            client,
            jar,
            base: self.base.clone(),
            cookie_path: http::cookie_path(&self.settings).to_owned(),
        }
    }

    /// The number of messages sent so far (deliveries still under way not counted).
    pub fn sent(&self) -> usize {
        self.outbox.messages().len()
    }

    /// The number of messages sent, after giving a late background delivery time to land:
    /// for checking that nothing (more) was sent.
    pub async fn sent_settled(&self) -> usize {
        tokio::time::sleep(SETTLE).await;
        self.sent()
    }

    /// The newest message, which must be the only one sent after `before` messages and be
    /// for `username`. Delivery runs in the background, so it may land just after the answer:
    /// this waits up to a few seconds for it.
    #[track_caller]
    pub fn new_message_for(
        &self,
        username: &str,
        before: usize,
    ) -> impl Future<Output = OutboxMessage> + '_ {
        let caller = std::panic::Location::caller();
        let username = username.to_owned();
        async move {
            let started = Instant::now();
            let mut messages = self.outbox.messages();
            while messages.len() <= before && started.elapsed() < DELIVERY_WAIT {
                tokio::time::sleep(Duration::from_millis(5)).await;
                messages = self.outbox.messages();
            }
            assert!(
                messages.len() > before,
                "{caller}: no message for {username} arrived within {DELIVERY_WAIT:?} \
                 ({before} before)"
            );
            assert_eq!(
                messages.len(),
                before + 1,
                "{caller}: expected exactly one new message, for {username}"
            );
            let message = messages.into_iter().next().expect("a message");
            assert_eq!(message.username, username, "{caller}");
            message
        }
    }

    /// Asks for a code over the JSON API from a throwaway client and returns what was sent
    /// (the flow is thrown away with the client: the link then opens as "another browser").
    pub async fn send_code(&self, username: &str, next: Option<&str>) -> OutboxMessage {
        let (_, message, _) = self.ask_api(username, next).await;
        message
    }

    /// Asks for a code the way a person does, through the `login/` form (its CSRF cookie and
    /// token, then the POST): the browser keeps the flow cookie, so the link and the typed
    /// code are "the same browser" for it.
    pub async fn ask(&self, username: &str, next: Option<&str>) -> (Browser, OutboxMessage) {
        let browser = self.browser();
        let message = browser.ask(self, username, next).await;
        (browser, message)
    }

    /// Asks for a code over the JSON API from a fresh client: the client (which holds the flow
    /// cookie), the message, and the answer's `"flow"`.
    pub async fn ask_api(
        &self,
        username: &str,
        next: Option<&str>,
    ) -> (Browser, OutboxMessage, String) {
        let before = self.sent();
        let mut body = json!({ "username": username });
        if let Some(next) = next {
            body["next"] = next.into();
        }
        let browser = self.browser();
        let reply = browser.post_json(&self.url("api/login/"), &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let flow = reply.json()["flow"]
            .as_str()
            .unwrap_or_else(|| panic!("no \"flow\" in {}", reply.body))
            .to_owned();
        let message = self.new_message_for(username, before).await;
        (browser, message, flow)
    }

    /// A browser logged in as `username` through a link it asked for, as a person would.
    pub async fn logged_in(&self, username: &str) -> Browser {
        let (browser, message) = self.ask(username, None).await;
        browser
            .follow_link(&self.local(&message.url))
            .await
            .expect(StatusCode::FOUND);
        assert_eq!(browser.whoami().await.as_deref(), Some(username));
        browser
    }

    /// Whether a bare request carrying only the session cookie `session` is logged in, and as
    /// whom (the app's `/whoami`).
    pub async fn who_has(&self, session: &str) -> Option<String> {
        let browser = self.browser();
        let request = browser
            .request(Method::GET, "/whoami")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"));
        let reply = browser.send(request).await;
        match reply.status {
            StatusCode::OK => reply.json()["username"].as_str().map(str::to_owned),
            StatusCode::UNAUTHORIZED => None,
            other => panic!("/whoami answered {other}: {}", reply.body),
        }
    }

    /// Live entries of the code store (codes and counters).
    pub fn store_entries(&self) -> usize {
        self.store.len()
    }

    /// The server's session count, when the adapter's runner gave a way to count
    /// ([`ServerHandle::with_session_count`]).
    pub fn sessions(&self) -> Option<usize> {
        self.server.session_count()
    }

    /// A user's consecutive-failure count, straight from the store.
    pub async fn user_failures(&self, user_id: &str) -> u32 {
        self.store
            .inner
            .user_failures(user_id)
            .await
            .expect("the memory store answers")
    }

    /// The path of a login link from the outbox (whatever host it names).
    pub fn link_path(url: &str) -> String {
        let url = reqwest::Url::parse(url).expect("a login URL");
        url.path().to_owned()
    }

    /// A login link from the outbox, pointed at this server.
    pub fn local(&self, url: &str) -> String {
        format!("{}{}", self.base, Self::link_path(url))
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as text.
    pub body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        Self {
            status,
            headers,
            body,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The CSRF token of the page's form.
    pub fn csrf(&self) -> String {
        html::csrf_token(&self.body)
            .unwrap_or_else(|| panic!("no csrfmiddlewaretoken on the page: {}", self.body))
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The `Set-Cookie` of cookie `name`, if the response sets it.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The `Set-Cookie` of the session cookie, if the response sets it.
    pub fn session_set_cookie(&self) -> Option<&str> {
        self.set_cookie(SESSION_COOKIE)
    }

    /// Asserts the status, showing the body when it is not.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}

/// The value of a `Set-Cookie` (`name=value; ...` → `value`).
pub fn cookie_value(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map_or("", |(_, value)| value.trim())
}

/// The attributes of a `Set-Cookie`, lower-cased (`HttpOnly` → `httponly`,
/// `SameSite=Lax` → `samesite=lax`).
pub fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase().replace(' ', ""))
        .collect()
}

/// A client with its own cookie jar that does not follow redirects. Clones share the jar
/// (one browser, several tabs).
#[derive(Clone)]
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
    base: String,
    /// Where the flow and CSRF cookies live: `mount_path`, or `/`.
    cookie_path: String,
}

impl Browser {
    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        }
    }

    /// A request to build on (extra headers and such); `url` is a full URL or a path.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, self.absolute(url))
    }

    /// Sends a request and reads the reply.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("request reaches the server")).await
    }

    /// `GET`.
    pub async fn get(&self, url: &str) -> Reply {
        self.send(self.request(Method::GET, url)).await
    }

    /// `HEAD`.
    pub async fn head(&self, url: &str) -> Reply {
        self.send(self.request(Method::HEAD, url)).await
    }

    /// `POST` of a urlencoded form.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Reply {
        self.send(self.request(Method::POST, url).form(fields))
            .await
    }

    /// `POST` of a JSON body.
    pub async fn post_json(&self, url: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, url).json(body)).await
    }

    /// `POST` of `body` with `content_type`.
    pub async fn post_raw(&self, url: &str, content_type: &str, body: impl Into<String>) -> Reply {
        let request = self
            .request(Method::POST, url)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into());
        self.send(request).await
    }

    /// The CSRF token of the form page at `url` (a GET that does not consume codes).
    pub async fn csrf(&self, url: &str) -> String {
        self.get(url).await.expect(StatusCode::OK).csrf()
    }

    /// Asks for a code for `username` through the `login/` form (`next` posted with it, as
    /// the form's hidden field would) and returns the message sent; this browser keeps the
    /// flow cookie.
    pub async fn ask(&self, site: &Site, username: &str, next: Option<&str>) -> OutboxMessage {
        let token = self.csrf(&site.path("login/")).await;
        let mut fields = vec![
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", username),
        ];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        let before = site.sent();
        let reply = self.post_form(&site.path("login/"), &fields).await;
        reply.expect(StatusCode::OK);
        assert!(
            reply.set_cookie(FLOW_COOKIE).is_some(),
            "POST login/ sets the flow cookie: {:?}",
            reply.headers
        );
        site.new_message_for(username, before).await
    }

    /// Follows a login link as a browser with JavaScript (or a person clicking the button)
    /// would: GET the page ("Logging in..." or "Confirm login"), then POST its form.
    pub async fn follow_link(&self, url: &str) -> Reply {
        let page = self.get(url).await;
        page.expect(StatusCode::OK);
        let action = html::form_action(&page.body).expect("the page has a form");
        let token = page.csrf();
        self.post_form(&action, &[("csrfmiddlewaretoken", &token)])
            .await
    }

    /// The session's user, from the app's `/whoami`.
    pub async fn whoami(&self) -> Option<String> {
        let reply = self.get("/whoami").await;
        match reply.status {
            StatusCode::OK => Some(
                reply.json()["username"]
                    .as_str()
                    .expect("username")
                    .to_owned(),
            ),
            StatusCode::UNAUTHORIZED => None,
            other => panic!("/whoami answered {other}: {}", reply.body),
        }
    }

    /// The value of cookie `name` this browser would send to the contract's routes, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let path = self.cookie_path.trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{}{path}/", self.base)).expect("base URL");
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// The session cookie this browser holds, if any.
    pub fn session_id(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE)
    }

    /// The flow cookie this browser holds, if any.
    pub fn flow(&self) -> Option<String> {
        self.cookie(FLOW_COOKIE)
    }

    /// Puts a cookie in this browser's jar (Path=/), as a planted or forged cookie would be.
    pub fn plant_cookie(&self, name: &str, value: &str) {
        let url = reqwest::Url::parse(&self.base).expect("base URL");
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }
}
