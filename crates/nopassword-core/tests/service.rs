//! The login flow of SPEC section 4, driven through `NoPassword` with an injected clock and RNG.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use nopassword_core::{
    CodeAttempt, CodeKey, CodeRecord, CodeStore, Error, LoginCode, LoginCodeSender, LoginRequest,
    ManualClock, MemoryDirectory, MemoryStore, NoPassword, Outbox, SecretString, SeededRng,
    SendError, Settings, StoreError, StoredCode, User,
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

/// The newest code the outbox holds for `username`.
fn latest_code(outbox: &Outbox, username: &str) -> String {
    outbox
        .latest_for(username)
        .expect("sent")
        .code
        .expose()
        .to_owned()
}

/// Whether `code` logs `username` in.
async fn logs_in(service: &NoPassword<User>, username: &str, code: &str) -> bool {
    let attempt = CodeAttempt {
        username: Some(username),
        code,
        client: None,
    };
    service
        .authenticate(attempt)
        .await
        .expect("no outage")
        .is_some()
}

struct Harness {
    service: NoPassword<User>,
    outbox: Outbox,
    clock: ManualClock,
    store: MemoryStore,
}

fn harness(settings: Settings) -> Harness {
    let clock = ManualClock::new();
    let store = MemoryStore::with_clock(clock.clone());
    let outbox = Outbox::new(100).quiet();
    let service = NoPassword::builder(settings, users())
        .store(store.clone())
        .sender(outbox.clone())
        .clock(clock.clone())
        .rng(SeededRng::new(7))
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
    async fn request(&self, username: &str) -> Result<(), Error> {
        self.service
            .request_login(LoginRequest {
                username,
                ..Default::default()
            })
            .await
    }

    async fn code_for(&self, username: &str) -> String {
        self.request(username).await.expect("request");
        self.outbox
            .latest_for(username)
            .expect("a message")
            .code
            .expose()
            .to_owned()
    }

    async fn login(&self, username: Option<&str>, code: &str) -> Option<String> {
        self.service
            .authenticate(CodeAttempt {
                username,
                code,
                client: None,
            })
            .await
            .expect("no outage")
            .map(|login| login.user.username)
    }
}

#[tokio::test]
async fn a_code_logs_in_once() {
    let h = harness(settings());
    let code = h.code_for("alice").await;
    assert_eq!(code.len(), 20);
    assert_eq!(
        h.login(Some("alice"), &code).await.as_deref(),
        Some("alice")
    );
    assert_eq!(
        h.login(Some("alice"), &code).await,
        None,
        "codes are single use"
    );
}

#[tokio::test]
async fn unknown_and_inactive_users_get_the_same_answer() {
    let h = harness(settings());
    for name in ["nobody", "bob", "Alice"] {
        h.request(name).await.expect("same Ok as for a real user");
        assert!(
            h.outbox.latest_for(name).is_none(),
            "{name} must not get a code"
        );
    }
    assert!(h.outbox.messages().is_empty());
    assert!(matches!(h.request("  ").await, Err(Error::MissingUsername)));
}

#[tokio::test]
async fn check_does_not_consume() {
    let h = harness(settings());
    let code = h.code_for("alice").await;
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &code,
        client: None,
    };
    for _ in 0..3 {
        assert!(h.service.check(attempt).await.expect("check"));
    }
    assert!(h.login(Some("alice"), &code).await.is_some());
    assert!(
        !h.service.check(attempt).await.expect("check"),
        "used codes fail the check"
    );
}

#[tokio::test]
async fn codes_expire() {
    let h = harness(settings());
    let code = h.code_for("alice").await;
    h.clock.advance(Duration::from_secs(899));
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &code,
        client: None,
    };
    assert!(
        h.service.check(attempt).await.expect("check"),
        "valid just before expiry"
    );
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(
        h.login(Some("alice"), &code).await,
        None,
        "dead at login_code_timeout"
    );
}

#[tokio::test]
async fn hide_username_codes_need_no_username() {
    let h = harness(Settings {
        hide_username: true,
        ..settings()
    });
    h.request("carol+test@example.com").await.expect("request");
    let message = h.outbox.latest_for("carol+test@example.com").expect("sent");
    assert!(
        message
            .url
            .ends_with(&format!("/accounts/login-code/{}/", message.code.expose()))
    );
    let user = h.login(None, message.code.expose()).await;
    assert_eq!(user.as_deref(), Some("carol+test@example.com"));
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
    let code = h.code_for("alice").await;
    assert_eq!(h.login(Some("carol+test@example.com"), &code).await, None);
    assert_eq!(
        h.login(Some("alice"), &code).await.as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn a_code_dies_after_five_failed_tries() {
    let h = harness(Settings {
        numeric_codes: true,
        code_length: 6,
        ..settings()
    });
    let code = h.code_for("alice").await;
    assert!(code.bytes().all(|b| b.is_ascii_digit()) && code.len() == 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(h.login(Some("alice"), wrong).await, None);
    }
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &code,
        client: None,
    };
    assert!(
        h.service.check(attempt).await.expect("check"),
        "four misses leave the code alive"
    );
    assert_eq!(h.login(Some("alice"), wrong).await, None);
    assert_eq!(
        h.login(Some("alice"), &code).await,
        None,
        "the fifth miss killed the code"
    );
    // A new code works again: the limit is per code.
    let fresh = h.code_for("alice").await;
    assert_eq!(
        h.login(Some("alice"), &fresh).await.as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn misuse_of_a_code_counts_against_it() {
    let h = harness(Settings {
        hide_username: false,
        ..settings()
    });
    let code = h.code_for("alice").await;
    for _ in 0..5 {
        assert_eq!(h.login(Some("carol+test@example.com"), &code).await, None);
    }
    assert_eq!(
        h.login(Some("alice"), &code).await,
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
    for _ in 0..10 {
        assert_eq!(h.login(Some("alice"), "0000000000000000000z").await, None);
    }
    let code = h.code_for("alice").await;
    assert_eq!(h.login(Some("alice"), &code).await, None, "locked out");
    h.clock.advance(Duration::from_secs(599));
    let code = h.code_for("alice").await;
    assert_eq!(
        h.login(Some("alice"), &code).await,
        None,
        "still locked out"
    );
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(
        h.login(Some("alice"), &code).await.as_deref(),
        Some("alice"),
        "lockout ended"
    );
    // Success resets the count.
    assert_eq!(h.store.user_failures("1").await.expect("read"), 0);
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
    };
    assert!(matches!(
        h.service.authenticate(attempt).await,
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
        (None, "/"),
    ] {
        let req = LoginRequest {
            username: "alice",
            next,
            ..Default::default()
        };
        h.service.request_login(req).await.expect("request");
        let code = latest_code(&h.outbox, "alice");
        let login = h
            .service
            .authenticate(CodeAttempt {
                username: Some("alice"),
                code: &code,
                client: None,
            })
            .await
            .expect("no outage")
            .expect("valid");
        assert_eq!(login.next, expected, "next = {next:?}");
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
        .build()
        .expect("service");
    old.request_login(LoginRequest {
        username: "alice",
        ..Default::default()
    })
    .await
    .expect("request");
    let code = latest_code(&outbox, "alice");
    let rotated = Settings {
        secret_key: Some("a-brand-new-secret-key-after-rotation-0001".into()),
        secret_key_fallbacks: vec![SecretString::new(KEY)],
        ..Settings::default()
    };
    let new = NoPassword::builder(rotated.clone(), users())
        .store(store.clone())
        .sender(outbox.clone())
        .clock(clock.clone())
        .build()
        .expect("service");
    assert!(logs_in(&new, "alice", &code).await);
    // Without the fallback the old code is unknown.
    old.request_login(LoginRequest {
        username: "alice",
        ..Default::default()
    })
    .await
    .expect("request");
    let code = latest_code(&outbox, "alice");
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
    assert!(!logs_in(&no_fallback, "alice", &code).await);
}

#[tokio::test]
async fn typed_codes_are_normalised() {
    let h = harness(settings());
    let code = h.code_for("alice").await;
    let typed = format!("  {}\n", code.to_ascii_uppercase());
    assert_eq!(
        h.login(Some("alice"), &typed).await.as_deref(),
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
        ) -> Result<Option<User>, nopassword_core::BoxError> {
            self.1.find_by_username(n).await
        }
        async fn find_by_id(&self, id: &str) -> Result<Option<User>, nopassword_core::BoxError> {
            self.1.find_by_id(id).await
        }
        async fn verify_user(&self, _: &User) -> Result<bool, nopassword_core::BoxError> {
            Ok(*self.0.lock().expect("lock"))
        }
    }
    let dir = Arc::new(Flaky(Mutex::new(true), users()));
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder_shared(settings(), dir.clone())
        .sender(outbox.clone())
        .build()
        .expect("service");
    service
        .request_login(LoginRequest {
            username: "alice",
            ..Default::default()
        })
        .await
        .expect("sent");
    let code = latest_code(&outbox, "alice");
    *dir.0.lock().expect("lock") = false;
    assert!(!logs_in(&service, "alice", &code).await);
    *dir.0.lock().expect("lock") = true;
    assert!(logs_in(&service, "alice", &code).await);
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
    // Only the send-rate counter is left; no code.
    assert_eq!(store.len(), 1);
}

struct DownStore;

#[async_trait]
impl CodeStore for DownStore {
    async fn put(&self, _: &CodeKey, _: &CodeRecord, _: Duration) -> Result<(), StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn get(&self, _: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn take(&self, _: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn incr_code_failures(&self, _: &CodeKey) -> Result<Option<u32>, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn incr_user_failures(&self, _: &str, _: Duration) -> Result<u32, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn user_failures(&self, _: &str) -> Result<u32, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn clear_user_failures(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
    async fn hit(&self, _: &str, _: Duration) -> Result<u32, StoreError> {
        Err(StoreError::Timeout(Duration::from_millis(250)))
    }
}

#[tokio::test]
async fn a_store_outage_is_a_typed_error() {
    let service = NoPassword::builder(settings(), users())
        .store(DownStore)
        .sender(Outbox::new(1).quiet())
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
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: "x",
        client: None,
    };
    assert!(
        service
            .authenticate(attempt)
            .await
            .expect_err("store down")
            .is_unavailable()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_48_concurrent_logins_with_one_code_exactly_one_wins() {
    let h = Arc::new(harness(settings()));
    for _ in 0..20 {
        h.clock.advance(Duration::from_secs(3600)); // past the per-user send limit
        let code = Arc::new(h.code_for("alice").await);
        let tasks: Vec<_> = (0..48)
            .map(|_| {
                let (h, code) = (Arc::clone(&h), Arc::clone(&code));
                tokio::spawn(async move { h.login(Some("alice"), &code).await })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task").is_some());
        }
        assert_eq!(winners, 1);
    }
}

/// The plaintext code appears in no log line, at any level.
#[tokio::test]
async fn codes_are_never_logged() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness(settings());
    let code = h.code_for("alice").await;
    assert_eq!(
        h.login(Some("alice"), &code).await.as_deref(),
        Some("alice")
    );
    assert_eq!(h.login(Some("alice"), &code).await, None);
    let logs = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        logs.contains("login code sent") && logs.contains("user_id=1"),
        "{logs}"
    );
    assert!(
        !logs.contains(&code),
        "the code leaked into the logs:\n{logs}"
    );
    assert!(!logs.contains(KEY), "the key leaked into the logs");
}

#[tokio::test]
async fn all_senders_succeed_when_one_delivers() {
    let outbox = Outbox::new(10).quiet();
    let service = |sender: nopassword_core::AllSenders| {
        NoPassword::builder(settings(), users())
            .sender(sender)
            .build()
            .expect("service")
    };
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    let mixed = nopassword_core::AllSenders::new()
        .with(FailingSender)
        .with(outbox.clone());
    service(mixed)
        .request_login(req)
        .await
        .expect("the outbox delivered");
    assert_eq!(outbox.messages().len(), 1);
    let failing = nopassword_core::AllSenders::new()
        .with(FailingSender)
        .with(FailingSender);
    let err = service(failing)
        .request_login(req)
        .await
        .expect_err("none delivered");
    assert!(err.to_string().contains("451"), "{err}");
    let err = service(nopassword_core::AllSenders::new())
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
        .sender(
            nopassword_core::AllSenders::new()
                .with(NoAddress)
                .with(NoAddress),
        )
        .build()
        .expect("service");
    let req = LoginRequest {
        username: "alice",
        ..Default::default()
    };
    service
        .request_login(req)
        .await
        .expect("same Ok as for an unknown user");
    assert_eq!(
        store.len(),
        1,
        "the code was withdrawn; only the send counter is left"
    );
    // An outage among them still wins: the request must not pretend it worked.
    let service = NoPassword::builder(settings(), users())
        .sender(
            nopassword_core::AllSenders::new()
                .with(NoAddress)
                .with(FailingSender),
        )
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

/// The user's failure count outlives the code: misses made just before a code was issued, with
/// the count expiring while the code is live, must not hand the guesser a fresh set of tries.
#[tokio::test]
async fn an_expiring_failure_count_does_not_reset_a_codes_tries() {
    let h = harness(Settings {
        numeric_codes: true,
        code_length: 6,
        ..settings()
    });
    let wrong_for = |code: &str| if code == "000000" { "000001" } else { "000000" }.to_owned();
    for _ in 0..50 {
        assert_eq!(h.login(Some("alice"), "999999x").await, None);
    }
    h.clock.advance(Duration::from_secs(899));
    let code = h.code_for("alice").await;
    let wrong = wrong_for(&code);
    // The old count would have expired 900 s after the last miss; it must still count.
    h.clock.advance(Duration::from_secs(2));
    for _ in 0..5 {
        assert_eq!(h.login(Some("alice"), &wrong).await, None);
    }
    assert_eq!(
        h.login(Some("alice"), &code).await,
        None,
        "five misses since issue killed it"
    );
}

struct TokioDispatch;

impl nopassword_core::Dispatch for TokioDispatch {
    fn dispatch(&self, task: nopassword_core::BackgroundTask) {
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
    tokio::time::timeout(Duration::from_secs(5), service.request_login(req))
        .await
        .expect("the request did not wait for delivery")
        .expect("Ok");
    assert!(outbox.latest_for("alice").is_none(), "not delivered yet");
    gate.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while outbox.latest_for("alice").is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the code never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let code = latest_code(&outbox, "alice");
    assert!(logs_in(&service, "alice", &code).await);
}

/// In the background a failed send is logged and the code withdrawn; the answer was already
/// the same as for everyone.
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
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while store.len() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the unsent code was not withdrawn"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
