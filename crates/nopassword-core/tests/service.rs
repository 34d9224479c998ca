//! The login flow of docs/ARCHITECTURE.md and docs/HTTP.md, Login flows, driven through `NoPassword` with an injected clock
//! and RNG and the in-memory store: typed codes count only within the flow that asked for
//! them, links opened by another client follow `cross_device_links`, and every limit holds
//! under concurrency.

use std::{
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, UNIX_EPOCH},
};

use async_trait::async_trait;
use nopassword_core::{
    Clock, CodeStore, Dispatch, Error, LoginCodeSender, MemoryStore, NoPassword, Outbox, SendError,
    Settings, StoreError,
    clock::ManualClock,
    code::{CodeGenerator, LoginCode},
    dispatch::{BackgroundTask, Dispatcher},
    flow::FlowToken,
    hashing::{CodeKey, SeededRng},
    secret::SecretString,
    sender::AllSenders,
    service::{
        Approval, CodeAttempt, FlowStatus, LinkAction, LinkLogin, LoginRequest, LoginStarted,
    },
    settings::CrossDeviceLinks,
    store::{CodeRecord, StoredCode},
    user::{MemoryDirectory, User},
};

const KEY: &str = "test-secret-key-0123456789abcdef0123456789";

fn users() -> MemoryDirectory {
    MemoryDirectory::new([
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob")
            .with_email("bob@example.com")
            .inactive(),
        User::new("3", "carol+test@example.com").with_email("carol+test@example.com"),
    ])
}

fn settings() -> Settings {
    Settings {
        secret_key: Some(KEY.into()),
        ..Settings::default()
    }
}

/// Six-digit codes: under 64 bits, so their links carry a separate secret.
fn numeric() -> Settings {
    Settings {
        numeric_codes: true,
        code_length: 6,
        ..settings()
    }
}

/// A well-formed six-digit code other than `code`.
fn wrong_for(code: &str) -> &'static str {
    if code == "000000" { "000001" } else { "000000" }
}

/// The secret a login URL carries: its last path segment.
fn link_secret(url: &str) -> String {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("a path segment")
        .to_owned()
}

/// `token` with its flow id replaced: the right shape, pointing at the same code, another flow.
fn forged(token: &str) -> String {
    assert_eq!(token.len(), FlowToken::MIN_LEN);
    let id: String = token[..32]
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let forged = format!("{id}{}", &token[32..]);
    assert!(FlowToken::parse(&forged).is_some(), "a well-formed token");
    forged
}

/// A token of the right shape that points at no code at all.
const STRANGER_FLOW: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The newest message the outbox holds for `username`: (typed code, link secret).
fn latest(outbox: &Outbox, username: &str) -> (String, String) {
    let message = outbox.latest_for(username).expect("sent");
    (message.code.expose().to_owned(), link_secret(&message.url))
}

/// Whether `code`, typed in `flow`, logs `username` in.
async fn logs_in(service: &NoPassword<User>, username: &str, code: &str, flow: &str) -> bool {
    let attempt = CodeAttempt {
        username: Some(username),
        code,
        flow: Some(flow),
        ..Default::default()
    };
    service
        .authenticate(attempt)
        .await
        .expect("no outage")
        .is_some()
}

/// What one code request handed out: the flow token the client keeps, and the code and link
/// secret the message carried.
#[derive(Debug, Clone)]
struct Started {
    flow: String,
    code: String,
    link: String,
    number: u8,
}

/// A `MemoryStore` that notes the calls made to it and, if `yielding`, yields to the scheduler
/// around each one, so concurrent requests interleave between store calls as they would on a
/// networked store (a check-then-increment race then shows).
#[derive(Clone)]
struct Instrumented {
    inner: MemoryStore,
    calls: Arc<Mutex<Vec<&'static str>>>,
    yielding: bool,
}

impl Instrumented {
    fn new(inner: MemoryStore, yielding: bool) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            yielding,
        }
    }

    async fn note(&self, call: &'static str) {
        self.calls.lock().expect("lock").push(call);
        if self.yielding {
            tokio::task::yield_now().await;
        }
    }

    fn drain(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().expect("lock"))
    }
}

#[async_trait]
impl CodeStore for Instrumented {
    async fn put(&self, k: &CodeKey, r: &CodeRecord, ttl: Duration) -> Result<(), StoreError> {
        self.note("put").await;
        self.inner.put(k, r, ttl).await
    }
    async fn get(&self, k: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        self.note("get").await;
        self.inner.get(k).await
    }
    async fn take(&self, k: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        self.note("take").await;
        self.inner.take(k).await
    }
    async fn incr_code_failures(&self, k: &CodeKey) -> Result<Option<u32>, StoreError> {
        self.note("incr_code_failures").await;
        self.inner.incr_code_failures(k).await
    }
    async fn incr_user_failures(
        &self,
        user: &str,
        window: Duration,
        cap: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.note("incr_user_failures").await;
        self.inner.incr_user_failures(user, window, cap).await
    }
    async fn user_failures(&self, user: &str) -> Result<u32, StoreError> {
        self.note("user_failures").await;
        self.inner.user_failures(user).await
    }
    async fn clear_user_failures(&self, user: &str) -> Result<(), StoreError> {
        self.note("clear_user_failures").await;
        self.inner.clear_user_failures(user).await
    }
    async fn hit(&self, bucket: &str, window: Duration) -> Result<u32, StoreError> {
        self.note("hit").await;
        self.inner.hit(bucket, window).await
    }
}

struct Harness {
    service: NoPassword<User>,
    outbox: Outbox,
    clock: ManualClock,
    store: MemoryStore,
}

fn harness(settings: Settings) -> Harness {
    harness_on(settings, false)
}

/// A harness whose service reaches the memory store through [`Instrumented`].
fn harness_on(settings: Settings, yielding: bool) -> Harness {
    let clock = ManualClock::new();
    let store = MemoryStore::with_clock(clock.clone());
    let outbox = Outbox::new(100).quiet();
    let service = NoPassword::builder(settings, users())
        .store(Instrumented::new(store.clone(), yielding))
        .sender(outbox.clone())
        .clock(clock.clone())
        .rng(SeededRng::new(7))
        .deliver_inline()
        .build()
        .expect("valid service");
    Harness {
        service,
        outbox,
        clock,
        store,
    }
}

impl Harness {
    async fn request(&self, username: &str) -> Result<LoginStarted, Error> {
        self.service
            .request_login(LoginRequest {
                username,
                ..Default::default()
            })
            .await
    }

    /// Asks for a code for `username` (continuing `flow` if given) and reads the message.
    async fn start_in(&self, username: &str, flow: Option<&str>) -> Started {
        let started = self
            .service
            .request_login(LoginRequest {
                username,
                flow,
                ..Default::default()
            })
            .await
            .expect("request");
        let (code, link) = latest(&self.outbox, username);
        Started {
            flow: started.flow.expose(),
            code,
            link,
            number: started.number,
        }
    }

    async fn start(&self, username: &str) -> Started {
        self.start_in(username, None).await
    }

    /// Types `code` for `username`, in `flow` if given.
    async fn login(
        &self,
        username: Option<&str>,
        code: &str,
        flow: Option<&str>,
    ) -> Option<String> {
        self.service
            .authenticate(CodeAttempt {
                username,
                code,
                flow,
                ..Default::default()
            })
            .await
            .expect("no outage")
            .map(|login| login.user.username)
    }

    /// The `GET` of a link, from a client holding `flow` (or none).
    async fn open(&self, username: Option<&str>, link: &str, flow: Option<&str>) -> LinkAction {
        self.service
            .open_link(CodeAttempt {
                username,
                code: link,
                flow,
                ..Default::default()
            })
            .await
            .expect("no outage")
    }

    /// The `POST` of a link, from a client holding `flow` (or none).
    async fn post(
        &self,
        username: Option<&str>,
        link: &str,
        flow: Option<&str>,
    ) -> LinkLogin<User> {
        self.service
            .login_with_link(CodeAttempt {
                username,
                code: link,
                flow,
                ..Default::default()
            })
            .await
            .expect("no outage")
    }

    /// The store's view of the code a flow points at: `Some(failures)` while it lives.
    async fn code_failures(&self, flow: &str) -> Option<u32> {
        let key = FlowToken::parse(flow).expect("a flow token").code_key();
        self.store
            .get(&key)
            .await
            .expect("read")
            .map(|stored| stored.failures)
    }

    async fn user_failures(&self, user_id: &str) -> u32 {
        self.store.user_failures(user_id).await.expect("read")
    }
}

fn logged_in_as(outcome: &LinkLogin<User>) -> Option<&str> {
    match outcome {
        LinkLogin::LoggedIn(login) => Some(&login.user.username),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// docs/ARCHITECTURE.md, The life of a login code, in flows
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_code_logs_in_once() {
    let h = harness(settings());
    let s = h.start("alice").await;
    assert_eq!(s.code.len(), 20);
    assert_eq!(
        s.link, s.code,
        "a 20-hex code is long enough to be its own link secret"
    );
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice")
    );
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "codes are single use"
    );
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::NotFound,
        "the link died with the typed code"
    );
}

#[tokio::test]
async fn a_link_logs_in_once() {
    let h = harness(settings());
    let s = h.start("alice").await;
    let first = h.post(Some("alice"), &s.link, Some(&s.flow)).await;
    assert_eq!(logged_in_as(&first), Some("alice"));
    assert!(matches!(
        h.post(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkLogin::NotFound
    ));
    assert_eq!(h.login(Some("alice"), &s.code, Some(&s.flow)).await, None);
}

#[tokio::test]
async fn unknown_and_inactive_users_get_the_same_answer() {
    let h = harness(settings());
    let real = h.request("alice").await.expect("request").flow.expose();
    for name in ["nobody", "bob", "Alice"] {
        let started = h.request(name).await.expect("same Ok as for a real user");
        let flow = started.flow.expose();
        assert_eq!(flow.len(), real.len(), "{name}: a flow of the same shape");
        assert!(
            flow.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{name}: {flow}"
        );
        assert_ne!(flow, real);
        assert!(
            h.outbox.latest_for(name).is_none(),
            "{name} must not get a code"
        );
        assert_eq!(
            h.login(Some(name), "0123456789abcdef0123", Some(&flow))
                .await,
            None
        );
    }
    assert_eq!(h.outbox.messages().len(), 1);
    assert!(matches!(h.request("  ").await, Err(Error::MissingUsername)));
}

#[tokio::test]
async fn opening_a_link_does_not_consume() {
    let h = harness(settings());
    let s = h.start("alice").await;
    for _ in 0..3 {
        assert_eq!(
            h.open(Some("alice"), &s.link, Some(&s.flow)).await,
            LinkAction::Submit
        );
        assert!(matches!(
            h.open(Some("alice"), &s.link, None).await,
            LinkAction::Confirm { .. }
        ));
    }
    assert_eq!(h.code_failures(&s.flow).await, Some(0));
    assert_eq!(
        logged_in_as(&h.post(Some("alice"), &s.link, Some(&s.flow)).await),
        Some("alice")
    );
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::NotFound,
        "used links are not found"
    );
}

#[tokio::test]
async fn codes_expire() {
    let h = harness(settings());
    let s = h.start("alice").await;
    h.clock.advance(Duration::from_secs(899));
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::Submit,
        "valid just before expiry"
    );
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "dead at login_code_timeout"
    );
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::NotFound
    );
    assert!(matches!(
        h.post(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkLogin::NotFound
    ));
}

#[tokio::test]
async fn hide_username_codes_need_no_username() {
    let h = harness(Settings {
        hide_username: true,
        ..settings()
    });
    let s = h.start("carol+test@example.com").await;
    let message = h.outbox.latest_for("carol+test@example.com").expect("sent");
    assert!(
        message
            .url
            .ends_with(&format!("/accounts/login-code/{}/", s.link)),
        "{}",
        message.url
    );
    let user = h.login(None, &s.code, Some(&s.flow)).await;
    assert_eq!(user.as_deref(), Some("carol+test@example.com"));
    let s = h.start("carol+test@example.com").await;
    assert_eq!(
        logged_in_as(&h.post(None, &s.link, Some(&s.flow)).await),
        Some("carol+test@example.com")
    );
}

#[tokio::test]
async fn usernames_in_links_round_trip() {
    let h = harness(settings());
    h.request("carol+test@example.com").await.expect("request");
    let message = h.outbox.latest_for("carol+test@example.com").expect("sent");
    assert!(
        message
            .url
            .contains("/login-code/carol%2Btest%40example.com/"),
        "{}",
        message.url
    );
}

#[tokio::test]
async fn a_code_only_logs_in_its_own_user() {
    let h = harness(settings());
    let s = h.start("alice").await;
    assert_eq!(
        h.login(Some("carol+test@example.com"), &s.code, Some(&s.flow))
            .await,
        None
    );
    assert_eq!(
        h.open(Some("carol+test@example.com"), &s.link, Some(&s.flow))
            .await,
        LinkAction::NotFound,
        "a link that names another user is not found"
    );
    assert!(matches!(
        h.post(Some("carol+test@example.com"), &s.link, Some(&s.flow))
            .await,
        LinkLogin::NotFound
    ));
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn a_code_dies_after_five_failed_tries() {
    let h = harness(numeric());
    let s = h.start("alice").await;
    assert!(s.code.bytes().all(|b| b.is_ascii_digit()) && s.code.len() == 6);
    let wrong = wrong_for(&s.code);
    for _ in 0..4 {
        assert_eq!(h.login(Some("alice"), wrong, Some(&s.flow)).await, None);
    }
    assert_eq!(h.code_failures(&s.flow).await, Some(4));
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::Submit,
        "four misses leave the code alive"
    );
    assert_eq!(h.login(Some("alice"), wrong, Some(&s.flow)).await, None);
    assert_eq!(h.code_failures(&s.flow).await, None, "withdrawn");
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "the fifth miss killed the code"
    );
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::NotFound,
        "and its link"
    );
    // A new code works again: the limit is per code.
    let fresh = h.start("alice").await;
    assert_eq!(
        h.login(Some("alice"), &fresh.code, Some(&fresh.flow))
            .await
            .as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn misuse_of_a_code_counts_against_it() {
    let h = harness(settings());
    let s = h.start("alice").await;
    for _ in 0..5 {
        assert_eq!(
            h.login(Some("carol+test@example.com"), &s.code, Some(&s.flow))
                .await,
            None
        );
    }
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "five refused uses killed it"
    );
}

#[tokio::test]
async fn consecutive_failures_lock_a_user_out() {
    let h = harness(Settings {
        max_user_failures: 10,
        lockout_seconds: 600,
        login_code_timeout: 300,
        max_code_attempts: 100,
        ..settings()
    });
    let s = h.start("alice").await;
    for _ in 0..10 {
        assert_eq!(
            h.login(Some("alice"), "0000000000000000000f", Some(&s.flow))
                .await,
            None
        );
    }
    assert_eq!(h.user_failures("1").await, 10);
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "locked out"
    );
    assert_eq!(
        h.code_failures(&s.flow).await,
        Some(10),
        "a locked-out try spends none of the code's"
    );
    h.clock.advance(Duration::from_secs(599));
    let s = h.start("alice").await;
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow)).await,
        None,
        "still locked out"
    );
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice"),
        "lockout ended"
    );
    // Success resets the count.
    assert_eq!(h.user_failures("1").await, 0);
}

#[tokio::test]
async fn sends_per_username_are_limited_for_real_and_unknown_names() {
    let h = harness(settings());
    for name in ["alice", "nobody"] {
        for _ in 0..10 {
            h.request(name).await.expect("within the limit");
        }
        match h.request(name).await {
            Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after.as_secs(), 3600),
            other => panic!("{name}: expected a rate limit, got {other:?}"),
        }
    }
    h.clock.advance(Duration::from_secs(3600));
    h.request("alice").await.expect("a new hour");
}

#[tokio::test]
async fn requests_per_client_address_are_limited() {
    let h = harness(settings());
    let client: IpAddr = "203.0.113.9".parse().expect("ip");
    let other: IpAddr = "203.0.113.10".parse().expect("ip");
    for i in 0..60 {
        let name = format!("user{i}");
        let req = LoginRequest {
            username: &name,
            client: Some(client),
            ..Default::default()
        };
        h.service
            .request_login(req)
            .await
            .expect("within the limit");
    }
    let req = LoginRequest {
        username: "x",
        client: Some(client),
        ..Default::default()
    };
    assert!(matches!(
        h.service.request_login(req).await,
        Err(Error::RateLimited { .. })
    ));
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: "x",
        client: Some(client),
        flow: None,
    };
    assert!(matches!(
        h.service.authenticate(attempt).await,
        Err(Error::RateLimited { .. })
    ));
    assert!(matches!(
        h.service.open_link(attempt).await,
        Err(Error::RateLimited { .. })
    ));
    assert!(matches!(
        h.service.login_with_link(attempt).await,
        Err(Error::RateLimited { .. })
    ));
    let req = LoginRequest {
        username: "x",
        client: Some(other),
        ..Default::default()
    };
    h.service
        .request_login(req)
        .await
        .expect("another address has its own budget");
    // IPv6 clients count by /64.
    for i in 0..60 {
        let ip: IpAddr = format!("2001:db8::{i:x}").parse().expect("ip");
        let req = LoginRequest {
            username: "y",
            client: Some(ip),
            ..Default::default()
        };
        let _ = h.service.request_login(req).await;
    }
    let ip: IpAddr = "2001:db8::ffff".parse().expect("ip");
    let req = LoginRequest {
        username: "z",
        client: Some(ip),
        ..Default::default()
    };
    assert!(matches!(
        h.service.request_login(req).await,
        Err(Error::RateLimited { .. })
    ));
}

#[tokio::test]
async fn next_is_kept_only_when_safe() {
    let h = harness(settings());
    for (next, expected) in [
        (Some("/inbox?x=1"), "/inbox?x=1"),
        (Some("//evil.com"), "/"),
        (Some("https://evil.com"), "/"),
        (Some("/.//evil.com"), "/"),
        (Some("/x/..//evil.com"), "/"),
        (None, "/"),
    ] {
        let req = LoginRequest {
            username: "alice",
            next,
            ..Default::default()
        };
        let flow = h.service.request_login(req).await.expect("request").flow;
        let (code, _) = latest(&h.outbox, "alice");
        let login = h
            .service
            .authenticate(CodeAttempt {
                username: Some("alice"),
                code: &code,
                flow: Some(&flow.expose()),
                ..Default::default()
            })
            .await
            .expect("no outage")
            .expect("valid");
        assert_eq!(login.next, expected, "next = {next:?}");
        assert!(!login.next.starts_with("//"), "next = {next:?}");
    }
}

#[tokio::test]
async fn rotated_keys_still_accept_outstanding_codes() {
    let clock = ManualClock::new();
    let store = MemoryStore::with_clock(clock.clone());
    let outbox = Outbox::new(10).quiet();
    let old = NoPassword::builder(settings(), users())
        .store(store.clone())
        .sender(outbox.clone())
        .clock(clock.clone())
        .deliver_inline()
        .build()
        .expect("service");
    let request = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    let flow = old
        .request_login(request)
        .await
        .expect("request")
        .flow
        .expose();
    let (code, _) = latest(&outbox, "alice");
    let rotated = Settings {
        secret_key: Some("a-brand-new-secret-key-after-rotation-0001".into()),
        secret_key_fallbacks: vec![SecretString::new(KEY)],
        ..Settings::default()
    };
    let new = NoPassword::builder(rotated.clone(), users())
        .store(store.clone())
        .sender(outbox.clone())
        .clock(clock.clone())
        .deliver_inline()
        .build()
        .expect("service");
    assert!(
        logs_in(&new, "alice", &code, &flow).await,
        "code and flow both check under the fallback key"
    );
    // Links too, and their flow is still recognised.
    let flow = old
        .request_login(request)
        .await
        .expect("request")
        .flow
        .expose();
    let (_, link) = latest(&outbox, "alice");
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &link,
        flow: Some(&flow),
        ..Default::default()
    };
    assert_eq!(
        new.open_link(attempt).await.expect("no outage"),
        LinkAction::Submit
    );
    // Without the fallback the old code is unknown.
    let flow = old
        .request_login(request)
        .await
        .expect("request")
        .flow
        .expose();
    let (code, link) = latest(&outbox, "alice");
    let no_fallback = NoPassword::builder(
        Settings {
            secret_key_fallbacks: vec![],
            ..rotated
        },
        users(),
    )
    .store(store)
    .sender(outbox)
    .clock(clock)
    .build()
    .expect("service");
    assert!(!logs_in(&no_fallback, "alice", &code, &flow).await);
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &link,
        flow: Some(&flow),
        ..Default::default()
    };
    assert_eq!(
        no_fallback.open_link(attempt).await.expect("no outage"),
        LinkAction::NotFound
    );
}

#[tokio::test]
async fn typed_codes_are_normalised() {
    let h = harness(settings());
    let s = h.start("alice").await;
    let typed = format!("  {}\n", s.code.to_ascii_uppercase());
    let flow = format!(" {} ", s.flow.to_ascii_uppercase());
    assert_eq!(
        h.login(Some("alice"), &typed, Some(&flow)).await.as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn the_service_needs_a_secret_key_and_a_sender() {
    let err = NoPassword::builder(Settings::default(), users())
        .sender(Outbox::new(1))
        .build()
        .expect_err("no key");
    assert!(err.to_string().contains("secret_key"), "{err}");
    let err = NoPassword::builder(settings(), users())
        .build()
        .expect_err("no sender");
    assert!(err.to_string().contains("sender"), "{err}");
    let err = NoPassword::builder(
        Settings {
            code_length: 3,
            ..settings()
        },
        users(),
    )
    .sender(Outbox::new(1))
    .build()
    .expect_err("bad length");
    assert!(err.to_string().contains("code_length"), "{err}");
}

/// A user who stops passing `verify_user` between request and use cannot log in.
#[tokio::test]
async fn verify_user_is_asked_again_at_login() {
    struct Flaky(Mutex<bool>, MemoryDirectory);
    #[async_trait]
    impl nopassword_core::UserDirectory for Flaky {
        type User = User;
        async fn find_by_username(
            &self,
            n: &str,
        ) -> Result<Option<User>, nopassword_core::error::BoxError> {
            self.1.find_by_username(n).await
        }
        async fn find_by_id(
            &self,
            id: &str,
        ) -> Result<Option<User>, nopassword_core::error::BoxError> {
            self.1.find_by_id(id).await
        }
        async fn verify_user(&self, _: &User) -> Result<bool, nopassword_core::error::BoxError> {
            Ok(*self.0.lock().expect("lock"))
        }
    }
    let dir = Arc::new(Flaky(Mutex::new(true), users()));
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder_shared(settings(), dir.clone())
        .sender(outbox.clone())
        .deliver_inline()
        .build()
        .expect("service");
    let flow = service
        .request_login(LoginRequest {
            username: "alice",
            ..Default::default()
        })
        .await
        .expect("sent")
        .flow
        .expose();
    let (code, link) = latest(&outbox, "alice");
    *dir.0.lock().expect("lock") = false;
    assert!(!logs_in(&service, "alice", &code, &flow).await);
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &link,
        flow: Some(&flow),
        ..Default::default()
    };
    assert_eq!(
        service.open_link(attempt).await.expect("no outage"),
        LinkAction::NotFound
    );
    *dir.0.lock().expect("lock") = true;
    assert!(logs_in(&service, "alice", &code, &flow).await);
}

struct FailingSender;

#[async_trait]
impl LoginCodeSender for FailingSender {
    async fn send_login_code(
        &self,
        _: &LoginCode,
        _: bool,
        _: Option<&str>,
    ) -> Result<(), SendError> {
        Err(SendError::new("smtp server said 451"))
    }
}

#[tokio::test]
async fn a_failed_send_withdraws_the_code() {
    let store = MemoryStore::new();
    let service = NoPassword::builder(settings(), users())
        .store(store.clone())
        .sender(FailingSender)
        .deliver_inline()
        .build()
        .expect("service");
    let err = service
        .request_login(LoginRequest {
            username: "alice",
            ..Default::default()
        })
        .await
        .expect_err("send fails");
    assert!(
        matches!(err, Error::Send(_)) && err.is_unavailable(),
        "{err:?}"
    );
    // Only the send-rate counters (the name as typed, the account) are left; no code.
    assert_eq!(store.len(), 2);
    assert_eq!(service.delivery_failures(), 1, "counted inline too");
}

const DOWN: StoreError = StoreError::Timeout(Duration::from_millis(250));

struct DownStore;

#[async_trait]
impl CodeStore for DownStore {
    async fn put(&self, _: &CodeKey, _: &CodeRecord, _: Duration) -> Result<(), StoreError> {
        Err(DOWN)
    }
    async fn get(&self, _: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        Err(DOWN)
    }
    async fn take(&self, _: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        Err(DOWN)
    }
    async fn incr_code_failures(&self, _: &CodeKey) -> Result<Option<u32>, StoreError> {
        Err(DOWN)
    }
    async fn incr_user_failures(
        &self,
        _: &str,
        _: Duration,
        _: u32,
    ) -> Result<Option<u32>, StoreError> {
        Err(DOWN)
    }
    async fn user_failures(&self, _: &str) -> Result<u32, StoreError> {
        Err(DOWN)
    }
    async fn clear_user_failures(&self, _: &str) -> Result<(), StoreError> {
        Err(DOWN)
    }
    async fn hit(&self, _: &str, _: Duration) -> Result<u32, StoreError> {
        Err(DOWN)
    }
}

#[tokio::test]
async fn a_store_outage_is_a_typed_error() {
    let service = NoPassword::builder(settings(), users())
        .store(DownStore)
        .sender(Outbox::new(1).quiet())
        .deliver_inline()
        .build()
        .expect("service");
    let err = service
        .request_login(LoginRequest {
            username: "alice",
            ..Default::default()
        })
        .await
        .expect_err("store down");
    assert!(matches!(err, Error::Store(StoreError::Timeout(_))) && err.is_unavailable());
    // A well-formed flow and link reach the store, which is down.
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: "0123456789abcdef0123",
        flow: Some(STRANGER_FLOW),
        ..Default::default()
    };
    assert!(
        service
            .authenticate(attempt)
            .await
            .expect_err("store down")
            .is_unavailable()
    );
    assert!(
        service
            .open_link(attempt)
            .await
            .expect_err("store down")
            .is_unavailable()
    );
    assert!(
        service
            .login_with_link(attempt)
            .await
            .expect_err("store down")
            .is_unavailable()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_48_concurrent_logins_with_one_code_exactly_one_wins() {
    let h = Arc::new(harness(settings()));
    for round in 0..20 {
        h.clock.advance(Duration::from_secs(3600)); // past the per-user send limit
        let s = Arc::new(h.start("alice").await);
        let barrier = Arc::new(tokio::sync::Barrier::new(48));
        let tasks: Vec<_> = (0..48)
            .map(|i| {
                let (h, s, barrier) = (Arc::clone(&h), Arc::clone(&s), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    // Typed codes and link posts race for the same code.
                    if (i + round) % 2 == 0 {
                        h.login(Some("alice"), &s.code, Some(&s.flow))
                            .await
                            .is_some()
                    } else {
                        logged_in_as(&h.post(Some("alice"), &s.link, None).await).is_some()
                    }
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task"));
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn all_senders_succeed_when_one_delivers() {
    let outbox = Outbox::new(10).quiet();
    let service = |sender: AllSenders| {
        NoPassword::builder(settings(), users())
            .sender(sender)
            .deliver_inline()
            .build()
            .expect("service")
    };
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    let mixed = AllSenders::new().with(FailingSender).with(outbox.clone());
    service(mixed)
        .request_login(req)
        .await
        .expect("the outbox delivered");
    assert_eq!(outbox.messages().len(), 1);
    let failing = AllSenders::new().with(FailingSender).with(FailingSender);
    let err = service(failing)
        .request_login(req)
        .await
        .expect_err("none delivered");
    assert!(err.to_string().contains("451"), "{err}");
    let err = service(AllSenders::new())
        .request_login(req)
        .await
        .expect_err("empty");
    assert!(err.to_string().contains("no login code sender"), "{err}");
}

struct NoAddress;

#[async_trait]
impl LoginCodeSender for NoAddress {
    async fn send_login_code(
        &self,
        c: &LoginCode,
        _: bool,
        _: Option<&str>,
    ) -> Result<(), SendError> {
        Err(SendError::unreachable_recipient(format!(
            "user {} has no phone number",
            c.user().id
        )))
    }
}

/// A user no sender can reach gets the same answer as an unknown user, not a 503.
#[tokio::test]
async fn unreachable_users_look_like_unknown_users() {
    let store = MemoryStore::new();
    let service = NoPassword::builder(settings(), users())
        .store(store.clone())
        .sender(AllSenders::new().with(NoAddress).with(NoAddress))
        .deliver_inline()
        .build()
        .expect("service");
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    let started = service
        .request_login(req)
        .await
        .expect("same Ok as for an unknown user");
    assert_eq!(started.flow.expose().len(), FlowToken::MIN_LEN);
    assert_eq!(
        store.len(),
        2,
        "the code was withdrawn; only the send counters (name, account) are left"
    );
    assert_eq!(
        service.delivery_failures(),
        0,
        "an unreachable user is no delivery failure"
    );
    // An outage among them still wins: the request must not pretend it worked.
    let service = NoPassword::builder(settings(), users())
        .sender(AllSenders::new().with(NoAddress).with(FailingSender))
        .deliver_inline()
        .build()
        .expect("service");
    assert!(
        service
            .request_login(req)
            .await
            .expect_err("outage")
            .is_unavailable()
    );
}

/// A code's tries are its own: nothing that resets the user's failure count (a login with
/// another code, the count expiring, a new request in the same flow) hands a guesser a fresh
/// set of tries on a live code.
#[tokio::test]
async fn a_reset_failure_count_does_not_reset_a_codes_tries() {
    let h = harness(numeric());
    let guessed = h.start("alice").await;
    let wrong = wrong_for(&guessed.code);
    for _ in 0..4 {
        assert_eq!(
            h.login(Some("alice"), wrong, Some(&guessed.flow)).await,
            None
        );
    }
    assert_eq!(h.user_failures("1").await, 4);
    // The user logs in elsewhere with another code: their count is cleared...
    let other = h.start("alice").await;
    assert!(logs_in(&h.service, "alice", &other.code, &other.flow).await);
    assert_eq!(h.user_failures("1").await, 0);
    // ...and asks again in the guessed flow, which now points at a new code...
    let continued = h.start_in("alice", Some(&guessed.flow)).await;
    assert_eq!(h.code_failures(&continued.flow).await, Some(0));
    // ...and time passes, so even a count left standing would have expired.
    h.clock.advance(Duration::from_secs(899));
    assert_eq!(h.user_failures("1").await, 0);
    // The guessed code is still live with four tries spent: one more miss kills it.
    assert_eq!(h.code_failures(&guessed.flow).await, Some(4));
    assert_eq!(
        h.login(Some("alice"), wrong, Some(&guessed.flow)).await,
        None
    );
    assert_eq!(h.code_failures(&guessed.flow).await, None);
    assert_eq!(
        h.login(Some("alice"), &guessed.code, Some(&guessed.flow))
            .await,
        None,
        "five misses since issue killed it"
    );
    assert_eq!(
        h.open(Some("alice"), &guessed.link, Some(&guessed.flow))
            .await,
        LinkAction::NotFound
    );
}

struct TokioDispatch;

impl Dispatch for TokioDispatch {
    fn dispatch(&self, task: BackgroundTask) {
        tokio::spawn(task);
    }
}

/// Waits for the test's go-ahead before "delivering", then records the delivery.
struct Gate(Arc<tokio::sync::Notify>, Outbox);

#[async_trait]
impl LoginCodeSender for Gate {
    async fn send_login_code(
        &self,
        c: &LoginCode,
        s: bool,
        h: Option<&str>,
    ) -> Result<(), SendError> {
        self.0.notified().await;
        self.1.send_login_code(c, s, h).await
    }
}

/// Polls `done` every few milliseconds for up to five seconds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// With a dispatcher, delivery runs off the request path: the request answers before the
/// sender finishes (here: before it may even start), so a known user's answer takes no longer
/// than an unknown user's; the code still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_takes_delivery_off_the_request_path() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder(settings(), users())
        .sender(Gate(Arc::clone(&gate), outbox.clone()))
        .dispatch(TokioDispatch)
        .build()
        .expect("service");
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    let flow = tokio::time::timeout(Duration::from_secs(5), service.request_login(req))
        .await
        .expect("the request did not wait for delivery")
        .expect("Ok")
        .flow
        .expose();
    assert!(outbox.latest_for("alice").is_none(), "not delivered yet");
    gate.notify_one();
    eventually("the code never arrived", || {
        outbox.latest_for("alice").is_some()
    })
    .await;
    let (code, _) = latest(&outbox, "alice");
    assert!(logs_in(&service, "alice", &code, &flow).await);
}

/// In the background a failed send is logged, counted and the code withdrawn; the answer was
/// already the same as for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatched_failed_send_still_withdraws_the_code() {
    let store = MemoryStore::new();
    let service = NoPassword::builder(settings(), users())
        .store(store.clone())
        .sender(FailingSender)
        .dispatch(TokioDispatch)
        .build()
        .expect("service");
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    service
        .request_login(req)
        .await
        .expect("answered like any other request");
    // Only the two send-rate counters are left.
    eventually("the unsent code was not withdrawn", || store.len() == 2).await;
    eventually("the failure was not counted", || {
        service.delivery_failures() == 1
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: typed codes count only within their flow
// ---------------------------------------------------------------------------------------------

/// The right code without its flow is refused and spends nothing; it still works in its flow.
#[tokio::test]
async fn a_right_code_without_its_flow_is_refused_and_spends_nothing() {
    for settings in [settings(), numeric()] {
        let h = harness(settings);
        let s = h.start("alice").await;
        let entries = h.store.len();
        for flow in [None, Some(""), Some("not-a-flow"), Some(&s.flow[..32])] {
            for username in [Some("alice"), None] {
                assert_eq!(h.login(username, &s.code, flow).await, None, "{flow:?}");
                assert_eq!(h.login(username, &s.link, flow).await, None, "{flow:?}");
            }
        }
        assert_eq!(h.code_failures(&s.flow).await, Some(0), "no code try spent");
        assert_eq!(h.user_failures("1").await, 0, "no lockout count");
        assert_eq!(h.store.len(), entries, "no store entry made or removed");
        assert_eq!(
            h.login(Some("alice"), &s.code, Some(&s.flow))
                .await
                .as_deref(),
            Some("alice"),
            "the code still works in its flow"
        );
    }
}

/// A stranger's 1,000 guesses without the flow neither burn the code nor lock the user out.
#[tokio::test]
async fn a_thousand_wrong_guesses_without_the_flow_spend_nothing() {
    let h = harness(numeric());
    let s = h.start("alice").await;
    let mut tried = 0;
    for n in 0..1_001u32 {
        let guess = format!("{n:06}");
        if guess == s.code {
            continue;
        }
        assert_eq!(h.login(Some("alice"), &guess, None).await, None);
        tried += 1;
        if tried == 1_000 {
            break;
        }
    }
    assert_eq!(tried, 1_000);
    assert_eq!(h.user_failures("1").await, 0);
    assert_eq!(h.code_failures(&s.flow).await, Some(0));
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice")
    );
}

/// Within the flow every miss spends one of the code's tries and counts toward the user's
/// lockout; the lockout holds across codes.
#[tokio::test]
async fn wrong_guesses_in_the_flow_spend_the_codes_tries_and_the_users_failures() {
    let h = harness(Settings {
        max_user_failures: 7,
        ..numeric()
    });
    let first = h.start("alice").await;
    let wrong = wrong_for(&first.code);
    for n in 1..=4 {
        assert_eq!(h.login(Some("alice"), wrong, Some(&first.flow)).await, None);
        assert_eq!(h.code_failures(&first.flow).await, Some(n));
        assert_eq!(h.user_failures("1").await, n);
    }
    assert_eq!(h.login(Some("alice"), wrong, Some(&first.flow)).await, None);
    assert_eq!(
        h.code_failures(&first.flow).await,
        None,
        "dead after max_code_attempts"
    );
    assert_eq!(h.user_failures("1").await, 5);
    assert_eq!(
        h.login(Some("alice"), &first.code, Some(&first.flow)).await,
        None
    );
    assert_eq!(
        h.user_failures("1").await,
        5,
        "a dead code's flow has nothing left to count"
    );
    let second = h.start("alice").await;
    let wrong = wrong_for(&second.code);
    for _ in 0..2 {
        assert_eq!(
            h.login(Some("alice"), wrong, Some(&second.flow)).await,
            None
        );
    }
    assert_eq!(h.user_failures("1").await, 7, "max_user_failures reached");
    assert_eq!(
        h.login(Some("alice"), &second.code, Some(&second.flow))
            .await,
        None,
        "locked out: even the right code is refused"
    );
    assert_eq!(h.user_failures("1").await, 7, "never past the cap");
    assert_eq!(h.code_failures(&second.flow).await, Some(2));
    // Links are not typed codes: the lockout does not apply to them (each is a 128-bit secret).
    assert_eq!(
        logged_in_as(
            &h.post(Some("alice"), &second.link, Some(&second.flow))
                .await
        ),
        Some("alice")
    );
    assert_eq!(h.user_failures("1").await, 0, "a login clears the count");
}

/// Runs `guesses` wrong in-flow guesses at once on a multi-thread runtime; returns the user's
/// failure count and the code's tries afterwards.
async fn concurrent_wrong_guesses(cap: u32, guesses: usize, yielding: bool) -> (u32, Option<u32>) {
    let h = Arc::new(harness_on(
        Settings {
            max_user_failures: cap,
            max_code_attempts: 10_000,
            ..numeric()
        },
        yielding,
    ));
    let s = Arc::new(h.start("alice").await);
    let barrier = Arc::new(tokio::sync::Barrier::new(guesses));
    let tasks: Vec<_> = (0..guesses)
        .map(|_| {
            let (h, s, barrier) = (Arc::clone(&h), Arc::clone(&s), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                h.login(Some("alice"), wrong_for(&s.code), Some(&s.flow))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), None);
    }
    (h.user_failures("1").await, h.code_failures(&s.flow).await)
}

/// N parallel wrong guesses never count as fewer than N, and a cap is never exceeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_wrong_guesses_count_exactly_and_stop_at_the_cap() {
    for (round, yielding) in (0..10).map(|round| (round, round % 2 == 1)) {
        assert_eq!(
            concurrent_wrong_guesses(100, 64, yielding).await,
            (64, Some(64)),
            "cap 100, round {round}"
        );
        let (user, code) = concurrent_wrong_guesses(50, 64, yielding).await;
        assert_eq!(user, 50, "cap 50, round {round}");
        assert_eq!(
            code,
            Some(50),
            "tries refused by the lockout spend none of the code's, round {round}"
        );
    }
}

/// A forged flow token (the right shape, pointing at the right code, another flow id) counts
/// as no flow: refused, nothing spent, and links open as for another client.
#[tokio::test]
async fn a_forged_flow_token_spends_nothing() {
    let h = harness(Settings {
        cross_device_links: CrossDeviceLinks::Deny,
        ..numeric()
    });
    let s = h.start("alice").await;
    let forged = forged(&s.flow);
    for code in [s.code.as_str(), wrong_for(&s.code)] {
        for _ in 0..10 {
            assert_eq!(h.login(Some("alice"), code, Some(&forged)).await, None);
            assert_eq!(h.login(None, code, Some(STRANGER_FLOW)).await, None);
        }
    }
    assert_eq!(h.code_failures(&s.flow).await, Some(0));
    assert_eq!(h.user_failures("1").await, 0);
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&forged)).await,
        LinkAction::Denied
    );
    assert!(matches!(
        h.post(Some("alice"), &s.link, Some(&forged)).await,
        LinkLogin::Denied
    ));
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice")
    );
}

/// A client's own flow cannot reach another flow's code: guesses at alice's code typed in the
/// guesser's flow for carol spend only the guesser's code.
#[tokio::test]
async fn a_flow_reaches_only_its_own_code() {
    let h = harness(numeric());
    let alice = h.start("alice").await;
    let own = h.start("carol+test@example.com").await;
    assert_eq!(
        h.login(Some("alice"), &alice.code, Some(&own.flow)).await,
        None
    );
    assert_eq!(h.login(None, &alice.code, Some(&own.flow)).await, None);
    assert_eq!(h.code_failures(&alice.flow).await, Some(0));
    assert_eq!(h.user_failures("1").await, 0);
    assert_eq!(h.code_failures(&own.flow).await, Some(2));
    assert_eq!(h.user_failures("3").await, 2);
    assert!(logs_in(&h.service, "alice", &alice.code, &alice.flow).await);
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: links opened by another client
/// A "Confirm login" action with its three numbers checked (three distinct two-digit numbers,
/// `number` among them) and replaced by zeros, so the rest compares with `assert_eq!`.
fn numbers_checked(action: LinkAction, number: u8) -> LinkAction {
    match action {
        LinkAction::Confirm {
            username,
            requested_at,
            device,
            numbers: Some(numbers),
        } => {
            assert!(numbers.contains(&number), "{numbers:?} lacks {number}");
            assert!(numbers.iter().all(|n| (10..=99).contains(n)), "{numbers:?}");
            assert!(
                numbers[0] != numbers[1] && numbers[1] != numbers[2] && numbers[0] != numbers[2],
                "{numbers:?}"
            );
            LinkAction::Confirm {
                username,
                requested_at,
                device,
                numbers: Some([0; 3]),
            }
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_link_opened_by_another_client_follows_cross_device_links() {
    for mode in [
        CrossDeviceLinks::Confirm,
        CrossDeviceLinks::Allow,
        CrossDeviceLinks::Deny,
    ] {
        let h = harness(Settings {
            cross_device_links: mode,
            ..settings()
        });
        let requested_at = UNIX_EPOCH + Duration::from_secs(h.clock.unix_seconds());
        let s = h.start("alice").await;
        h.clock.advance(Duration::from_secs(60));
        let other = h.start("carol+test@example.com").await;
        let expected = match mode {
            CrossDeviceLinks::Confirm => LinkAction::Confirm {
                username: "alice".into(),
                requested_at,
                device: None,
                numbers: Some([0; 3]),
            },
            CrossDeviceLinks::Allow => LinkAction::Submit,
            CrossDeviceLinks::Deny => LinkAction::Denied,
        };
        for flow in [None, Some(other.flow.as_str()), Some(STRANGER_FLOW)] {
            for _ in 0..2 {
                assert_eq!(
                    numbers_checked(h.open(Some("alice"), &s.link, flow).await, s.number),
                    expected,
                    "{mode}, {flow:?}"
                );
            }
        }
        assert_eq!(
            h.open(Some("alice"), &s.link, Some(&s.flow)).await,
            LinkAction::Submit,
            "{mode}: the flow's own client gets the self-posting page"
        );
        assert_eq!(
            h.code_failures(&s.flow).await,
            Some(0),
            "{mode}: GET never consumes"
        );
        assert_eq!(h.user_failures("1").await, 0);
    }
}

#[tokio::test]
async fn the_confirm_page_names_the_account_and_the_request_time() {
    let clock = ManualClock::at(UNIX_EPOCH + Duration::from_millis(1_800_000_000_500));
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder(settings(), users())
        .sender(outbox.clone())
        .clock(clock.clone())
        .deliver_inline()
        .build()
        .expect("service");
    service
        .request_login(LoginRequest {
            username: "carol+test@example.com",
            ..Default::default()
        })
        .await
        .expect("request");
    let (_, link) = latest(&outbox, "carol+test@example.com");
    clock.advance(Duration::from_secs(300));
    let attempt = CodeAttempt {
        username: Some("carol+test@example.com"),
        code: &link,
        ..Default::default()
    };
    match service.open_link(attempt).await.expect("no outage") {
        LinkAction::Confirm {
            username,
            requested_at,
            ..
        } => {
            assert_eq!(username, "carol+test@example.com");
            assert_eq!(
                requested_at,
                UNIX_EPOCH + Duration::from_secs(1_800_000_000),
                "when the code was requested, not when the link was opened"
            );
        }
        other => panic!("expected Confirm, got {other:?}"),
    }
}

/// `post_redirect = false`: the `GET` logs in right away, but only for the flow's own client,
/// or any client under `allow`.
#[tokio::test]
async fn without_post_redirect_only_the_flow_or_allow_logs_in_on_get() {
    for mode in [
        CrossDeviceLinks::Confirm,
        CrossDeviceLinks::Allow,
        CrossDeviceLinks::Deny,
    ] {
        let h = harness(Settings {
            post_redirect: false,
            cross_device_links: mode,
            ..settings()
        });
        let s = h.start("alice").await;
        assert_eq!(
            h.open(Some("alice"), &s.link, Some(&s.flow)).await,
            LinkAction::LogIn,
            "{mode}: the flow's own client"
        );
        let from_another = h.open(Some("alice"), &s.link, None).await;
        match mode {
            CrossDeviceLinks::Allow => assert_eq!(from_another, LinkAction::LogIn),
            CrossDeviceLinks::Confirm => assert!(
                matches!(from_another, LinkAction::Confirm { ref username, .. } if username == "alice"),
                "{from_another:?}"
            ),
            CrossDeviceLinks::Deny => assert_eq!(from_another, LinkAction::Denied),
        }
        assert_eq!(
            h.code_failures(&s.flow).await,
            Some(0),
            "{mode}: open_link itself consumes nothing"
        );
    }
}

#[tokio::test]
async fn under_deny_another_client_cannot_post_a_link_and_spends_nothing() {
    let h = harness(Settings {
        cross_device_links: CrossDeviceLinks::Deny,
        ..settings()
    });
    let s = h.start("alice").await;
    let other = h.start("carol+test@example.com").await;
    for flow in [None, Some(other.flow.as_str()), Some(STRANGER_FLOW)] {
        for username in [Some("alice"), None] {
            assert!(
                matches!(h.post(username, &s.link, flow).await, LinkLogin::Denied),
                "{flow:?}"
            );
        }
    }
    assert_eq!(h.code_failures(&s.flow).await, Some(0), "not consumed");
    assert_eq!(h.user_failures("1").await, 0);
    assert_eq!(
        logged_in_as(&h.post(Some("alice"), &s.link, Some(&s.flow)).await),
        Some("alice"),
        "the flow's own client then logs in"
    );
}

#[tokio::test]
async fn under_confirm_and_allow_another_clients_post_logs_in() {
    for mode in [CrossDeviceLinks::Confirm, CrossDeviceLinks::Allow] {
        let h = harness(Settings {
            cross_device_links: mode,
            ..numeric()
        });
        let s = h.start("alice").await;
        assert_eq!(
            logged_in_as(&h.post(Some("alice"), &s.link, None).await),
            Some("alice"),
            "{mode}: the Confirm button's POST (or allow) logs in"
        );
        assert_eq!(
            h.login(Some("alice"), &s.code, Some(&s.flow)).await,
            None,
            "{mode}: one code, one login"
        );
    }
}

/// A second request carrying the flow continues it: links of both codes open as the same
/// client, and the flow's latest code can be typed.
#[tokio::test]
async fn a_second_request_with_the_same_flow_continues_it() {
    let h = harness(Settings {
        cross_device_links: CrossDeviceLinks::Deny,
        ..settings()
    });
    let first = h.start("alice").await;
    let second = h.start_in("alice", Some(&first.flow)).await;
    assert_ne!(second.flow, first.flow, "the token points at the new code");
    assert_ne!(second.link, first.link);
    for flow in [&first.flow, &second.flow] {
        for link in [&first.link, &second.link] {
            assert_eq!(
                h.open(Some("alice"), link, Some(flow)).await,
                LinkAction::Submit
            );
        }
    }
    let fresh = h.start("alice").await;
    assert_eq!(
        h.open(Some("alice"), &first.link, Some(&fresh.flow)).await,
        LinkAction::Denied,
        "a flow started without the cookie is another client"
    );
    assert_eq!(
        logged_in_as(&h.post(Some("alice"), &first.link, Some(&second.flow)).await),
        Some("alice")
    );
    assert!(logs_in(&h.service, "alice", &second.code, &second.flow).await);
    // An unknown user's request continues a flow just the same (same shape, same answer).
    let unknown = h
        .service
        .request_login(LoginRequest {
            username: "nobody",
            flow: Some(&fresh.flow),
            ..Default::default()
        })
        .await
        .expect("same answer")
        .flow
        .expose();
    assert_eq!(
        unknown.len(),
        FlowToken::MIN_LEN + 2 * CodeKey::LEN,
        "the token names the flow's codes, newest first"
    );
    assert_eq!(
        h.open(Some("alice"), &fresh.link, Some(&unknown)).await,
        LinkAction::Submit,
        "the flow id carried over"
    );
}

/// A person who asks again (the first mail is slow) can type the code of either mail in the
/// browser that asked; a wrong guess there spends a try of each of the flow's codes.
#[tokio::test]
async fn asking_again_keeps_the_first_code_typeable() {
    let h = harness(settings());
    let first = h.start("alice").await;
    let second = h.start_in("alice", Some(&first.flow)).await;
    assert!(
        !logs_in(&h.service, "alice", "0000000000000000000a", &second.flow).await,
        "a wrong guess"
    );
    for key in FlowToken::parse(&second.flow).expect("token").code_keys() {
        assert_eq!(
            h.store.get(key).await.expect("get").expect("live").failures,
            1,
            "the wrong guess spent one try of each of the flow's codes"
        );
    }
    assert_eq!(
        h.store.user_failures("1").await.expect("read"),
        1,
        "and one of alice's"
    );
    assert!(logs_in(&h.service, "alice", &first.code, &second.flow).await);
    assert!(logs_in(&h.service, "alice", &second.code, &second.flow).await);
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: short secrets
// ---------------------------------------------------------------------------------------------

/// Six-digit codes travel in links under a separate 128-bit secret; the short code itself is
/// never a link secret, by any route, in any mode.
#[tokio::test]
async fn short_codes_travel_in_links_under_a_separate_secret() {
    for mode in [
        CrossDeviceLinks::Confirm,
        CrossDeviceLinks::Allow,
        CrossDeviceLinks::Deny,
    ] {
        for hide_username in [false, true] {
            for post_redirect in [true, false] {
                let h = harness(Settings {
                    cross_device_links: mode,
                    hide_username,
                    post_redirect,
                    ..numeric()
                });
                let s = h.start("alice").await;
                let context =
                    format!("{mode}, hide_username={hide_username}, post_redirect={post_redirect}");
                assert_eq!(s.code.len(), 6, "{context}");
                assert_eq!(s.link.len(), CodeGenerator::LINK_SECRET_LEN, "{context}");
                assert_eq!(CodeGenerator::LINK_SECRET_LEN, 32);
                assert!(
                    s.link
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                    "{context}: {}",
                    s.link
                );
                assert!(!s.link.contains(&s.code), "{context}");
                let message = h.outbox.latest_for("alice").expect("sent");
                assert!(!message.url.contains(&s.code), "{context}: {}", message.url);
                let username = (!hide_username).then_some("alice");
                for flow in [Some(s.flow.as_str()), None] {
                    for name in [username, None] {
                        assert_eq!(
                            h.open(name, &s.code, flow).await,
                            LinkAction::NotFound,
                            "{context}, {flow:?}"
                        );
                        assert!(
                            matches!(h.post(name, &s.code, flow).await, LinkLogin::NotFound),
                            "{context}, {flow:?}"
                        );
                    }
                }
                // And typed without its flow, the short code never logs in.
                assert_eq!(h.login(username, &s.code, None).await, None, "{context}");
                assert_eq!(h.login(None, &s.code, None).await, None, "{context}");
                assert_eq!(h.code_failures(&s.flow).await, Some(0), "{context}");
                // The link secret is a link, not a code to type.
                assert_eq!(
                    h.login(username, &s.link, Some(&s.flow)).await,
                    None,
                    "{context}"
                );
                assert_eq!(
                    h.login(username, &s.code, Some(&s.flow)).await.as_deref(),
                    Some("alice"),
                    "{context}: the short code works in its flow"
                );
            }
        }
    }
}

/// `hide_username` with six-digit codes is the weakest setup: still no code typed without its
/// flow ever logs anyone in, however many are live.
#[tokio::test]
async fn hide_username_numeric_codes_without_the_flow_never_log_in() {
    let h = harness(Settings {
        hide_username: true,
        max_sends_per_user_per_hour: 1_000,
        ..numeric()
    });
    let mut started = Vec::new();
    for _ in 0..20 {
        started.push(h.start("alice").await);
        started.push(h.start("carol+test@example.com").await);
    }
    for s in &started {
        assert_eq!(h.login(None, &s.code, None).await, None);
        assert_eq!(h.login(Some("alice"), &s.code, None).await, None);
        assert_eq!(h.login(None, &s.code, Some(STRANGER_FLOW)).await, None);
    }
    // A sweep over the code space's start (what a stranger without a flow would try).
    for n in 0..2_000u32 {
        assert_eq!(h.login(None, &format!("{n:06}"), None).await, None);
    }
    assert_eq!(h.user_failures("1").await, 0);
    assert_eq!(h.user_failures("3").await, 0);
    for s in &started {
        assert_eq!(h.code_failures(&s.flow).await, Some(0));
    }
    let last = started.last().expect("started");
    assert_eq!(
        h.login(None, &last.code, Some(&last.flow)).await.as_deref(),
        Some("carol+test@example.com")
    );
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: the same answer and the same store work for every user
// ---------------------------------------------------------------------------------------------

/// Unknown and inactive users get a flow of the same shape after the same number of store
/// calls as a real user, with and without a client address or a held flow.
#[tokio::test]
async fn unknown_and_inactive_users_cost_the_same_store_work() {
    let clock = ManualClock::new();
    let store = Instrumented::new(MemoryStore::with_clock(clock.clone()), false);
    let service = NoPassword::builder(numeric(), users())
        .store(store.clone())
        .sender(Outbox::new(10).quiet())
        .clock(clock)
        .dispatch(Dispatcher::new(1_024, |task| drop(tokio::spawn(task))))
        .build()
        .expect("service");
    let client: IpAddr = "198.51.100.7".parse().expect("ip");
    let held = STRANGER_FLOW;
    for (client, flow) in [
        (None, None),
        (Some(client), None),
        (None, Some(held)),
        (Some(client), Some(held)),
    ] {
        let mut seen = Vec::new();
        for name in ["alice", "nobody", "bob"] {
            store.drain();
            let started = service
                .request_login(LoginRequest {
                    username: name,
                    client,
                    flow,
                    ..Default::default()
                })
                .await
                .expect("same answer");
            let token = started.flow.expose();
            let codes = if flow.is_some() { 2 } else { 1 };
            assert_eq!(
                token.len(),
                FlowToken::MIN_LEN + (codes - 1) * 2 * CodeKey::LEN,
                "{name}"
            );
            if let Some(held) = flow {
                assert_eq!(token[..32], held[..32], "{name}: the held flow continues");
            }
            seen.push((name, store.drain()));
        }
        let (_, real) = &seen[0];
        for (name, calls) in &seen[1..] {
            assert_eq!(
                calls.len(),
                real.len(),
                "{name} ({client:?}, {flow:?}): {calls:?} against alice's {real:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: background delivery
// ---------------------------------------------------------------------------------------------

/// Blocks every delivery until the test opens the gate, counting the deliveries started.
struct Blocking {
    open: tokio::sync::watch::Receiver<bool>,
    started: Arc<AtomicUsize>,
    outbox: Outbox,
}

#[async_trait]
impl LoginCodeSender for Blocking {
    async fn send_login_code(
        &self,
        c: &LoginCode,
        s: bool,
        h: Option<&str>,
    ) -> Result<(), SendError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.clone();
        open.wait_for(|open| *open)
            .await
            .map_err(|_| SendError::new("gate dropped"))?;
        self.outbox.send_login_code(c, s, h).await
    }
}

/// A full delivery queue refuses every code request alike, real or unknown user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delivery_queue_is_busy_for_everyone() {
    let (gate, open) = tokio::sync::watch::channel(false);
    let started = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox::new(10).quiet();
    let dispatcher = Dispatcher::new(1, |task| drop(tokio::spawn(task)));
    let service = NoPassword::builder(settings(), users())
        .sender(Blocking {
            open,
            started: Arc::clone(&started),
            outbox: outbox.clone(),
        })
        .dispatch(dispatcher.clone())
        .build()
        .expect("service");
    let ask = |username| {
        let service = service.clone();
        async move {
            service
                .request_login(LoginRequest {
                    username,
                    ..Default::default()
                })
                .await
        }
    };
    ask("alice").await.expect("the queue had room");
    assert_eq!(dispatcher.in_flight(), 1);
    eventually("the delivery never started", || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    for name in ["alice", "nobody", "bob", "carol+test@example.com"] {
        match ask(name).await {
            Err(err @ Error::Busy { in_flight: 1 }) => assert!(err.is_unavailable(), "{name}"),
            other => panic!("{name}: expected Busy, got {other:?}"),
        }
    }
    assert_eq!(started.load(Ordering::SeqCst), 1, "nothing more was queued");
    gate.send(true).expect("the sender listens");
    eventually("the queue never drained", || dispatcher.in_flight() == 0).await;
    assert!(outbox.latest_for("alice").is_some());
    // Every request, a real user's or not, holds its room until its background work ends.
    ask("nobody").await.expect("room again");
    eventually("the unknown user's work never ended", || {
        dispatcher.in_flight() == 0
    })
    .await;
    ask("alice").await.expect("room again");
    assert_eq!(service.delivery_failures(), 0);
}

/// Background delivery failures are counted; unknown users and unreachable ones are not
/// failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_delivery_failures_are_counted() {
    let dispatcher = Dispatcher::new(4, |task| drop(tokio::spawn(task)));
    let store = MemoryStore::new();
    let service = NoPassword::builder(settings(), users())
        .store(store.clone())
        .sender(FailingSender)
        .dispatch(dispatcher.clone())
        .build()
        .expect("service");
    for (n, name) in ["alice", "nobody", "carol+test@example.com", "bob"]
        .into_iter()
        .enumerate()
    {
        service
            .request_login(LoginRequest {
                username: name,
                ..Default::default()
            })
            .await
            .expect("answered like any other request");
        eventually("the delivery never finished", || {
            dispatcher.in_flight() == 0
        })
        .await;
        let expected = match n {
            0 | 1 => 1,
            _ => 2,
        };
        assert_eq!(service.delivery_failures(), expected, "after {name}");
    }
    // Only the send counters are left (four names as typed, two accounts that passed
    // verify_user): both unsent codes were withdrawn.
    assert_eq!(store.len(), 6);
    let service = NoPassword::builder(settings(), users())
        .sender(NoAddress)
        .dispatch(dispatcher.clone())
        .build()
        .expect("service");
    service
        .request_login(LoginRequest {
            username: "alice",
            ..Default::default()
        })
        .await
        .expect("answered");
    eventually("the delivery never finished", || {
        dispatcher.in_flight() == 0
    })
    .await;
    assert_eq!(service.delivery_failures(), 0);
}

/// An adapter's default dispatcher applies only when the app did not choose.
#[test]
fn background_delivery_is_the_adapters_default_unless_the_app_chose() {
    let build = |inline: bool| {
        let builder = NoPassword::builder(settings(), users()).sender(Outbox::new(1).quiet());
        let builder = if inline {
            builder.deliver_inline()
        } else {
            builder
        };
        builder.build().expect("service")
    };
    let installed = Arc::new(AtomicUsize::new(0));
    let install = |service: &NoPassword<User>| {
        let installed = Arc::clone(&installed);
        service.deliver_in_background_by_default(move || {
            installed.fetch_add(1, Ordering::SeqCst);
            Arc::new(TokioDispatch) as Arc<dyn Dispatch>
        })
    };
    assert!(install(&build(false)));
    assert!(!install(&build(true)), "the app chose inline delivery");
    assert_eq!(installed.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------------
// docs/HTTP.md, Login flows: CSRF without server state
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn csrf_tokens_are_signed_double_submit_tokens() {
    let h = harness(settings());
    let token = h.service.new_csrf_token();
    let other = h.service.new_csrf_token();
    assert_ne!(token, other, "fresh each time");
    assert!(h.service.csrf_cookie_valid(&token));
    assert!(h.service.csrf_valid(Some(&token), Some(&token)));
    assert!(
        !h.service.csrf_valid(Some(&token), Some(&other)),
        "mismatched pair"
    );
    assert!(
        !h.service.csrf_valid(Some(&other), Some(&token)),
        "mismatched pair"
    );
    assert!(!h.service.csrf_valid(None, Some(&token)), "no cookie");
    assert!(!h.service.csrf_valid(Some(&token), None), "no form field");
    assert!(!h.service.csrf_valid(None, None));
    // Unsigned: the same value in cookie and form, but not signed by this service.
    let (nonce, signature) = token.split_once('.').expect("nonce.signature");
    let flipped: String = signature
        .chars()
        .map(|c| if c == 'a' { 'b' } else { 'a' })
        .collect();
    let unsigned = [
        format!("{nonce}.{flipped}"),
        format!("{}.{signature}", "0".repeat(nonce.len())),
        "a".repeat(32),
        String::new(),
        "x.y".to_owned(),
        format!("{nonce}.{signature}.{signature}"),
    ];
    for bad in &unsigned {
        assert!(!h.service.csrf_cookie_valid(bad), "{bad:?}");
        assert!(!h.service.csrf_valid(Some(bad), Some(bad)), "{bad:?}");
    }
    // A token signed under another key is unsigned here.
    let stranger = harness(Settings {
        secret_key: Some("another-secret-key-of-enough-length-0000".into()),
        ..Settings::default()
    });
    let foreign = stranger.service.new_csrf_token();
    assert!(!h.service.csrf_cookie_valid(&foreign));
    assert!(!h.service.csrf_valid(Some(&foreign), Some(&foreign)));
}

#[tokio::test]
async fn csrf_tokens_survive_key_rotation_through_fallbacks() {
    let old = harness(settings());
    let token = old.service.new_csrf_token();
    let rotated = Settings {
        secret_key: Some("a-brand-new-secret-key-after-rotation-0001".into()),
        secret_key_fallbacks: vec![SecretString::new(KEY)],
        ..Settings::default()
    };
    let new = harness(rotated.clone());
    assert!(new.service.csrf_cookie_valid(&token));
    assert!(new.service.csrf_valid(Some(&token), Some(&token)));
    let fresh = new.service.new_csrf_token();
    assert!(new.service.csrf_valid(Some(&fresh), Some(&fresh)));
    assert!(
        !old.service.csrf_cookie_valid(&fresh),
        "the old key does not know the new one"
    );
    let without = harness(Settings {
        secret_key_fallbacks: vec![],
        ..rotated
    });
    assert!(!without.service.csrf_cookie_valid(&token));
    assert!(!without.service.csrf_valid(Some(&token), Some(&token)));
}

/// A directory that ignores case (as many apps do for e-mail logins), and whose `verify_user`
/// waits for the test's go-ahead (as a remote account system would take its time).
struct SlowCaselessDirectory {
    users: MemoryDirectory,
    gate: Arc<tokio::sync::Semaphore>,
}

#[async_trait]
impl nopassword_core::UserDirectory for SlowCaselessDirectory {
    type User = User;

    async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<User>, nopassword_core::error::BoxError> {
        self.users
            .find_by_username(&username.to_ascii_lowercase())
            .await
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, nopassword_core::error::BoxError> {
        self.users.find_by_id(id).await
    }

    async fn verify_user(&self, user: &User) -> Result<bool, nopassword_core::error::BoxError> {
        self.gate.acquire().await?.forget();
        Ok(nopassword_core::LoginUser::is_active(user))
    }
}

/// With background delivery, nothing that depends on the user (the directory, a slow
/// `verify_user`, the store write) runs on the request path: a real user's answer comes back
/// while `verify_user` is still waiting, as an unknown user's does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_verify_user_stays_off_the_request_path() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let outbox = Outbox::new(10).quiet();
    let dispatcher = Dispatcher::new(16, |task| drop(tokio::spawn(task)));
    let service = NoPassword::builder(
        settings(),
        SlowCaselessDirectory {
            users: users(),
            gate: Arc::clone(&gate),
        },
    )
    .sender(outbox.clone())
    .dispatch(dispatcher.clone())
    .build()
    .expect("service");
    for name in ["alice", "nobody"] {
        tokio::time::timeout(
            Duration::from_secs(5),
            service.request_login(LoginRequest {
                username: name,
                ..Default::default()
            }),
        )
        .await
        .expect("the answer does not wait for verify_user")
        .expect("answered");
    }
    assert!(
        outbox.latest_for("alice").is_none(),
        "verify_user still waits"
    );
    gate.add_permits(1);
    eventually("alice's code never arrived", || {
        outbox.latest_for("alice").is_some()
    })
    .await;
}

/// The send limit counts the account, not only the name as typed: with a directory that ignores
/// case, "alice", "Alice", "ALICE"... share one account's ten codes an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_limit_counts_the_account_whatever_the_spelling() {
    let gate = Arc::new(tokio::sync::Semaphore::new(1_000));
    let outbox = Outbox::new(100).quiet();
    let service = NoPassword::builder(
        settings(),
        SlowCaselessDirectory {
            users: users(),
            gate,
        },
    )
    .sender(outbox.clone())
    .deliver_inline()
    .build()
    .expect("service");
    let spellings: Vec<String> = (0..20u32)
        .map(|i| {
            "alice"
                .chars()
                .enumerate()
                .map(|(j, c)| {
                    if i >> j & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    for name in &spellings {
        service
            .request_login(LoginRequest {
                username: name,
                ..Default::default()
            })
            .await
            .expect("the same answer, whether or not a code goes out");
    }
    let sent = outbox
        .messages()
        .iter()
        .filter(|m| m.username == "alice")
        .count();
    assert_eq!(
        sent,
        usize::try_from(Settings::default().max_sends_per_user_per_hour).expect("small"),
        "{} spellings of one account got {sent} codes",
        spellings.len()
    );
}

/// Records the locale of every code it is handed.
#[derive(Clone, Default)]
struct Locales(Arc<Mutex<Vec<Option<String>>>>);

#[async_trait]
impl LoginCodeSender for Locales {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        _secure: bool,
        _host: Option<&str>,
    ) -> Result<(), SendError> {
        let locale = code.locale().map(ToString::to_string);
        self.0.lock().expect("not poisoned").push(locale);
        Ok(())
    }
}

/// The message's locale is the user's preference, else the request's, else none (the sender
/// then uses `default_locale`).
#[tokio::test]
async fn a_code_carries_the_users_locale_else_the_requests() {
    let users = MemoryDirectory::new([
        User::new("1", "alice"),
        User::new("2", "ana").with_locale("es".parse().expect("tag")),
    ]);
    let sent = Locales::default();
    let service = NoPassword::builder(settings(), users)
        .store(MemoryStore::new())
        .sender(sent.clone())
        .build()
        .expect("valid");
    let de: nopassword_core::locale::Locale = "de".parse().expect("tag");
    for (username, locale) in [
        ("alice", None),
        ("alice", Some(&de)),
        ("ana", Some(&de)),
        ("ana", None),
    ] {
        service
            .request_login(LoginRequest {
                username,
                locale,
                ..Default::default()
            })
            .await
            .expect("sent");
    }
    let got = sent.0.lock().expect("not poisoned").clone();
    let expected = [None, Some("de"), Some("es"), Some("es")].map(|l| l.map(str::to_owned));
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------------------------------------
// Cross-device approval with number matching (docs/HTTP.md, Cross-device approval).

impl Harness {
    /// The three numbers the "Confirm login" page of `link` offers a client without the flow.
    async fn numbers(&self, link: &str) -> Option<[u8; 3]> {
        match self.open(Some("alice"), link, None).await {
            LinkAction::Confirm { numbers, .. } => numbers,
            other => panic!("expected Confirm, got {other:?}"),
        }
    }

    /// Picks `number` on the approval page of `link`, from a client without the flow.
    async fn pick(&self, link: &str, number: &str) -> Approval {
        let attempt = CodeAttempt {
            username: Some("alice"),
            code: link,
            ..Default::default()
        };
        self.service
            .approve_flow(attempt, number)
            .await
            .expect("no outage")
    }

    async fn status(&self, flow: Option<&str>) -> FlowStatus {
        self.service.flow_status(flow).await.expect("no outage")
    }

    async fn complete(&self, flow: Option<&str>) -> Option<String> {
        self.service
            .complete_flow(flow)
            .await
            .expect("no outage")
            .map(|login| login.user.username)
    }
}

/// A wrong number of the three a page offers for `s`.
fn wrong_number(numbers: [u8; 3], right: u8) -> String {
    numbers
        .into_iter()
        .find(|n| *n != right)
        .expect("two decoys")
        .to_string()
}

#[tokio::test]
async fn the_right_number_approves_the_flow_and_only_its_holder_completes_it_once() {
    let h = harness(settings());
    let s = h.start("alice").await;
    let other = h.start("carol+test@example.com").await;
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Pending);
    assert_eq!(h.complete(Some(&s.flow)).await, None, "not approved yet");

    let numbers = h.numbers(&s.link).await.expect("approval offered");
    assert_eq!(
        h.numbers(&s.link).await,
        Some(numbers),
        "the same three at every view"
    );
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::Approved
    );
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Approved);

    // The link and the code are spent.
    assert_eq!(
        h.open(Some("alice"), &s.link, None).await,
        LinkAction::NotFound
    );
    assert_eq!(
        h.open(Some("alice"), &s.link, Some(&s.flow)).await,
        LinkAction::NotFound
    );
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::NotFound
    );
    assert_eq!(h.login(Some("alice"), &s.code, Some(&s.flow)).await, None);

    // Only the flow's holder completes, once.
    assert_eq!(h.complete(None).await, None);
    assert_eq!(h.complete(Some(&other.flow)).await, None);
    assert_eq!(h.complete(Some(STRANGER_FLOW)).await, None);
    assert_eq!(h.complete(Some(&s.flow)).await.as_deref(), Some("alice"));
    assert_eq!(h.complete(Some(&s.flow)).await, None, "single use");
    assert_eq!(
        h.status(Some(&s.flow)).await,
        FlowStatus::Pending,
        "no longer approved"
    );
    assert_eq!(
        h.status(Some(&other.flow)).await,
        FlowStatus::Pending,
        "carol's untouched"
    );
}

#[tokio::test]
async fn a_wrong_number_turns_approval_off_and_three_withdraw_the_code() {
    let h = harness(settings());
    let s = h.start("alice").await;
    let numbers = h.numbers(&s.link).await.expect("approval offered");
    let wrong = wrong_number(numbers, s.number);

    assert_eq!(h.pick(&s.link, &wrong).await, Approval::WrongNumber);
    assert_eq!(
        h.code_failures(&s.flow).await,
        Some(1),
        "one of the code's tries"
    );
    assert_eq!(
        h.numbers(&s.link).await,
        None,
        "the page no longer offers approval"
    );
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Pending);
    assert_eq!(h.pick(&s.link, &wrong).await, Approval::WrongNumber);
    assert_eq!(h.pick(&s.link, "not a number").await, Approval::WrongNumber);
    // Three wrong picks: the code is gone, the waiting device logged out (its status stays
    // "pending": it must not tell a withdrawn code from an unknown user's flow).
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Pending);
    assert_eq!(h.code_failures(&s.flow).await, None, "withdrawn");
    assert_eq!(h.complete(Some(&s.flow)).await, None);
    assert_eq!(h.login(Some("alice"), &s.code, Some(&s.flow)).await, None);
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::NotFound
    );
}

#[tokio::test]
async fn the_right_number_after_a_wrong_one_withdraws_the_code() {
    // Guessing wins at most one time in three: a second pick never approves.
    let h = harness(settings());
    let s = h.start("alice").await;
    let numbers = h.numbers(&s.link).await.expect("approval offered");
    assert_eq!(
        h.pick(&s.link, &wrong_number(numbers, s.number)).await,
        Approval::WrongNumber
    );
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::WrongNumber
    );
    assert_eq!(h.code_failures(&s.flow).await, None, "withdrawn");
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Pending);
    assert_eq!(h.complete(Some(&s.flow)).await, None);
}

#[tokio::test]
async fn a_mistyped_code_turns_approval_off_too() {
    let h = harness(numeric());
    let s = h.start("alice").await;
    let wrong = if s.code == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(h.login(Some("alice"), wrong, Some(&s.flow)).await, None);
    assert_eq!(h.numbers(&s.link).await, None);
    // The flow's own holder still types the right code.
    assert_eq!(
        h.login(Some("alice"), &s.code, Some(&s.flow))
            .await
            .as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn a_stranger_learns_nothing_from_the_flow_status() {
    let h = harness(settings());
    let s = h.start("alice").await;
    let nobody = h
        .service
        .request_login(LoginRequest {
            username: "nobody-at-all",
            ..Default::default()
        })
        .await
        .expect("request");
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::Approved
    );
    // A token naming the approved code's key under another flow id reads like no flow.
    let forged = format!("{}{}", &STRANGER_FLOW[..32], &s.flow[32..]);
    assert_eq!(h.service.presented_number(Some(&s.flow)), Some(s.number));
    for flow in [None, Some("garbage")] {
        assert_eq!(h.service.presented_number(flow), None, "{flow:?}");
        assert_eq!(h.status(flow).await, FlowStatus::Expired, "{flow:?}");
        assert_eq!(h.complete(flow).await, None, "{flow:?}");
    }
    // A well-formed token reads like a real user's waiting flow, whoever made it up.
    let waiting = h.start("carol+test@example.com").await;
    assert_eq!(h.status(Some(&waiting.flow)).await, FlowStatus::Pending);
    for flow in [STRANGER_FLOW, forged.as_str()] {
        assert_eq!(h.status(Some(flow)).await, FlowStatus::Pending, "{flow:?}");
        assert_eq!(h.complete(Some(flow)).await, None, "{flow:?}");
    }
    // An unknown user's flow has a number too, and reads like a real one: nothing tells
    // whether the account exists.
    assert!((10..=99).contains(&nobody.number));
    assert_eq!(
        h.status(Some(&nobody.flow.expose())).await,
        FlowStatus::Pending
    );
    assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Approved);
}

#[tokio::test]
async fn an_approved_flow_expires_with_its_code() {
    let h = harness(settings());
    let s = h.start("alice").await;
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::Approved
    );
    h.clock
        .advance(Duration::from_secs(settings().login_code_timeout));
    assert_eq!(
        h.status(Some(&s.flow)).await,
        FlowStatus::Pending,
        "no longer approved"
    );
    assert_eq!(h.complete(Some(&s.flow)).await, None);
}

#[tokio::test]
async fn approval_is_offered_under_confirm_only() {
    for mode in [CrossDeviceLinks::Allow, CrossDeviceLinks::Deny] {
        let h = harness(Settings {
            cross_device_links: mode,
            ..settings()
        });
        let s = h.start("alice").await;
        assert_eq!(
            h.pick(&s.link, &s.number.to_string()).await,
            Approval::Denied,
            "{mode}"
        );
        assert_eq!(
            h.code_failures(&s.flow).await,
            Some(0),
            "{mode}: nothing spent"
        );
        assert_eq!(h.status(Some(&s.flow)).await, FlowStatus::Pending);
    }
}

#[tokio::test]
async fn an_approved_flow_completes_once_under_64_concurrent_completes() {
    let h = Arc::new(harness_on(settings(), true));
    let s = h.start("alice").await;
    assert_eq!(
        h.pick(&s.link, &s.number.to_string()).await,
        Approval::Approved
    );
    let flow = Arc::new(s.flow.clone());
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (h, flow) = (h.clone(), flow.clone());
            tokio::spawn(async move { h.complete(Some(&flow)).await })
        })
        .collect();
    let mut logins = 0;
    for task in tasks {
        logins += usize::from(task.await.expect("task").is_some());
    }
    assert_eq!(logins, 1);
}

#[tokio::test]
async fn concurrent_picks_of_the_right_number_approve_once() {
    let h = Arc::new(harness_on(settings(), true));
    let s = h.start("alice").await;
    let (link, number) = (Arc::new(s.link.clone()), s.number.to_string());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (h, link, number) = (h.clone(), link.clone(), number.clone());
            tokio::spawn(async move { h.pick(&link, &number).await })
        })
        .collect();
    let mut approved = 0;
    for task in tasks {
        approved += usize::from(task.await.expect("task") == Approval::Approved);
    }
    assert_eq!(approved, 1);
    assert_eq!(h.complete(Some(&s.flow)).await.as_deref(), Some("alice"));
}

#[tokio::test]
async fn the_approval_page_names_the_device_that_asked() {
    let h = harness(settings());
    h.service
        .request_login(LoginRequest {
            username: "alice",
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            ),
            ..Default::default()
        })
        .await
        .expect("request");
    let (_, link) = latest(&h.outbox, "alice");
    match h.open(Some("alice"), &link, None).await {
        LinkAction::Confirm { device, .. } => assert_eq!(device.as_deref(), Some("Firefox, Linux")),
        other => panic!("expected Confirm, got {other:?}"),
    }
}

#[test]
fn matching_numbers_spread_over_all_two_digit_numbers() {
    let h = harness(settings());
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..2000u64 {
        let rng = SeededRng::new(seed);
        let mut id = [0u8; 16];
        nopassword_core::CodeRng::fill_bytes(&rng, &mut id);
        let token = format!("{}{}", hex(&id), "ab".repeat(CodeKey::LEN));
        let token = FlowToken::parse(&token).expect("token");
        seen.insert(h.service.matching_number(&token));
    }
    assert_eq!(seen.len(), 90, "every number from 10 to 99 comes up");
    assert!(seen.iter().all(|n| (10..=99).contains(n)));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
