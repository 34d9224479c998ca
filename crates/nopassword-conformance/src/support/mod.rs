//! The harness of the HTTP contract suite: a real server of one web adapter on a free loopback
//! port, a known set of users, a code store and a sender that can be switched into an outage, a
//! manual clock, and a cookie-keeping client that does not follow redirects.
//!
//! Nothing here knows a web framework: an adapter plugs in through [`Adapter`], and the test
//! bodies in [`contract`](crate::contract) speak plain HTTP.

pub mod html;

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use nopassword_core::{
    CodeKey, CodeRecord, CodeStore, LoginCode, LoginCodeSender, ManualClock, MemoryDirectory,
    MemoryStore, NoPassword, Outbox, OutboxMessage, SendError, Settings, StoreError, StoredCode,
    User, async_trait,
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
    /// every route of SPEC section 5 at `mount_path`, sessions in memory, and one app route,
    /// `GET /whoami`, answering 200 `{"username": "..."}` for the session's user, else 401.
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle;
}

/// A running server; dropping it stops the server.
pub struct ServerHandle {
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl ServerHandle {
    /// A handle that runs `stop` when dropped.
    pub fn new(stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            stop: Some(Box::new(stop)),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// The secret key of every test site.
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef-0123456789";

/// The session cookie: `{namespace}_session`.
pub const SESSION_COOKIE: &str = "nopassword_session";

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

/// Switches the code store and the sender into an outage.
#[derive(Debug, Clone, Default)]
pub struct Outage {
    store: Arc<AtomicBool>,
    sender: Arc<AtomicBool>,
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
}

/// The in-memory store, failing while its outage switch is on.
#[derive(Debug, Clone)]
pub struct FlakyStore {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
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

    async fn incr_user_failures(&self, user_id: &str, window: Duration) -> Result<u32, StoreError> {
        self.check()?;
        self.inner.incr_user_failures(user_id, window).await
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
}

/// The development outbox, failing while its outage switch is on.
#[derive(Debug, Clone)]
struct FlakySender {
    outbox: Outbox,
    down: Arc<AtomicBool>,
}

#[async_trait]
impl LoginCodeSender for FlakySender {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SendError::new(
                "SmtpTransportError: Connection refused (os error 111) at 10.9.8.7:587",
            ));
        }
        self.outbox.send_login_code(code, secure, host).await
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
    /// The service's and the code store's clock.
    pub clock: ManualClock,
    /// Outage switches.
    pub outage: Outage,
    _server: ServerHandle,
}

impl Site {
    /// Starts `A` with [`base_settings`] changed by `configure`.
    pub fn start<A: Adapter>(configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = base_settings();
        configure(&mut settings);
        let clock = ManualClock::new();
        let outage = Outage::default();
        let outbox = Outbox::new(1_000).quiet();
        let store = FlakyStore {
            inner: MemoryStore::with_clock(clock.clone()),
            down: Arc::clone(&outage.store),
        };
        let sender = FlakySender {
            outbox: outbox.clone(),
            down: Arc::clone(&outage.sender),
        };
        let service = NoPassword::builder(settings, MemoryDirectory::new(users()))
            .store(store)
            .sender(sender)
            .clock(clock.clone())
            .build()
            .expect("test settings are valid");
        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr: SocketAddr = listener.local_addr().expect("local address");
        let settings = service.settings().clone();
        let server = A::serve(service, listener);
        Self {
            base: format!("http://{addr}"),
            settings,
            outbox,
            clock,
            outage,
            _server: server,
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
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Browser {
            client,
            jar,
            base: self.base.clone(),
        }
    }

    /// The number of messages sent so far.
    pub fn sent(&self) -> usize {
        self.outbox.messages().len()
    }

    /// The newest message, which must have been sent to `username` after `before` messages.
    pub fn new_message_for(&self, username: &str, before: usize) -> OutboxMessage {
        let messages = self.outbox.messages();
        assert_eq!(
            messages.len(),
            before + 1,
            "expected exactly one new message, for {username}"
        );
        let message = messages.into_iter().next().expect("a message");
        assert_eq!(message.username, username);
        message
    }

    /// Asks for a code over the JSON API from a throwaway client and returns what was sent.
    pub async fn send_code(&self, username: &str, next: Option<&str>) -> OutboxMessage {
        let before = self.sent();
        let mut body = json!({ "username": username });
        if let Some(next) = next {
            body["next"] = next.into();
        }
        let reply = self
            .browser()
            .post_json(&self.url("api/login/"), &body)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        self.new_message_for(username, before)
    }

    /// A fresh browser logged in as `username` through a link, as a person would.
    pub async fn logged_in(&self, username: &str) -> Browser {
        let link = self.local(&self.send_code(username, None).await.url);
        let browser = self.browser();
        browser.follow_link(&link).await.expect(StatusCode::FOUND);
        assert_eq!(browser.whoami().await.as_deref(), Some(username));
        browser
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

    /// The `Set-Cookie` of the session cookie, if the response sets it.
    pub fn session_set_cookie(&self) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
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

/// A client with its own cookie jar that does not follow redirects.
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
    base: String,
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

    /// Follows a login link as a browser with JavaScript would: GET the "Logging in..." page,
    /// then POST its form.
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

    /// The session cookie this browser holds, if any.
    pub fn session_id(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.base).expect("base URL");
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.to_owned())
    }
}
