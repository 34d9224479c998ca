//! The service's metrics (`nopassword_core::metrics`) and readiness report
//! (`NoPassword::readiness`): every counter moves when, and only when, its event happens, and
//! readiness reports failing and hanging stores and senders without their errors.
//!
//! Metrics are caught by a recorder installed for one closure on one thread
//! (`metrics::with_local_recorder`), around a current-thread runtime: tests cannot see each
//! other's counts.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use nopassword_core::{
    CodeStore, LoginCodeSender, MemoryStore, NoPassword, Outbox, SendError, Settings, StoreError,
    code::LoginCode,
    hashing::CodeKey,
    health::Outcome,
    metrics as m,
    sender::{AllSenders, NullSender},
    service::{CodeAttempt, LinkAction, LoginRequest},
    store::{CodeRecord, StoredCode},
    user::{MemoryDirectory, User},
};

/// Counters and histogram sample counts by `name{label=value,...}`.
#[derive(Default, Clone)]
struct Recorded(Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>);

struct Samples(Arc<AtomicU64>);

impl HistogramFn for Samples {
    fn record(&self, _: f64) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Recorded {
    fn slot(&self, key: &Key) -> Arc<AtomicU64> {
        let mut name = key.name().to_owned();
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        if !labels.is_empty() {
            name = format!("{name}{{{}}}", labels.join(","));
        }
        let mut map = self.0.lock().expect("recorder lock");
        Arc::clone(map.entry(name).or_default())
    }

    fn get(&self, name: &str) -> u64 {
        let map = self.0.lock().expect("recorder lock");
        map.get(name).map_or(0, |v| v.load(Ordering::Relaxed))
    }

    /// Every non-zero entry, for failure messages.
    fn all(&self) -> BTreeMap<String, u64> {
        let map = self.0.lock().expect("recorder lock");
        map.iter()
            .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.slot(key))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Samples(self.slot(key))))
    }
}

/// Runs `test` on a current-thread runtime with `recorded` as this thread's recorder.
fn with_recorder<F: std::future::Future<Output = ()>>(recorded: &Recorded, test: F) {
    metrics::with_local_recorder(recorded, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(test);
    });
}

fn settings() -> Settings {
    Settings {
        secret_key: Some("test-secret-key-0123456789abcdef0123456789".into()),
        numeric_codes: true,
        code_length: 6,
        max_user_failures: 2,
        max_requests_per_ip_per_minute: 1000,
        ..Settings::default()
    }
}

fn users() -> MemoryDirectory {
    MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")])
}

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

fn secret_of(url: &str) -> String {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("a segment")
        .to_owned()
}

#[test]
fn each_counter_moves_with_its_event() {
    let recorded = Recorded::default();
    with_recorder(&recorded, async {
        let outbox = Outbox::new(10).quiet();
        let service = NoPassword::builder(settings(), users())
            .sender(outbox.clone())
            .build()
            .expect("service");

        // A request for a real user and one for nobody: both accepted, one code sent.
        let started = service
            .request_login(LoginRequest {
                username: "alice",
                client: Some(CLIENT),
                ..Default::default()
            })
            .await
            .expect("requested");
        service
            .request_login(LoginRequest {
                username: "nobody",
                client: Some(CLIENT),
                ..Default::default()
            })
            .await
            .expect("requested");
        assert!(
            service
                .request_login(LoginRequest {
                    username: "  ",
                    ..Default::default()
                })
                .await
                .is_err()
        );
        assert_eq!(
            recorded.get(&format!("{}{{outcome=accepted}}", m::CODE_REQUESTS)),
            2
        );
        assert_eq!(
            recorded.get(&format!("{}{{outcome=invalid}}", m::CODE_REQUESTS)),
            1
        );
        assert_eq!(
            recorded.get(&format!("{}{{channel=outbox}}", m::CODES_SENT)),
            1
        );
        assert_eq!(
            recorded.get(&format!("{}{{channel=outbox}}", m::DELIVERY_SECONDS)),
            1
        );

        // A stranger (a mail scanner) opens the link: a view without a login.
        let mail = outbox.latest_for("alice").expect("sent");
        let secret = secret_of(&mail.url);
        let scanner = CodeAttempt {
            username: Some("alice"),
            code: &secret,
            client: Some(CLIENT),
            ..Default::default()
        };
        assert!(matches!(
            service.open_link(scanner).await.expect("opened"),
            LinkAction::Confirm { .. }
        ));
        let unknown = CodeAttempt {
            code: "0123456789abcdef0123",
            ..scanner
        };
        assert!(matches!(
            service.open_link(unknown).await.expect("opened"),
            LinkAction::NotFound
        ));
        let views =
            |page: &str| recorded.get(&format!("{}{{page={page}}}", m::LINK_VIEWS_WITHOUT_LOGIN));
        assert_eq!((views("confirm"), views("not_found")), (1, 1));

        // A wrong typed code in the flow, then the right one.
        let flow = started.flow.expose();
        let code = mail.code.expose().to_owned();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let typed = |code| CodeAttempt {
            username: Some("alice"),
            code,
            client: Some(CLIENT),
            flow: Some(&flow),
        };
        assert!(
            service
                .authenticate(typed(wrong))
                .await
                .expect("judged")
                .is_none()
        );
        assert_eq!(recorded.get(m::FAILED_CODE_TRIES), 1);
        assert!(
            service
                .authenticate(typed(&code))
                .await
                .expect("judged")
                .is_some()
        );
        assert_eq!(recorded.get(&format!("{}{{method=code}}", m::LOGINS)), 1);

        // A link login.
        service
            .request_login(LoginRequest {
                username: "alice",
                ..Default::default()
            })
            .await
            .expect("requested");
        let mail = outbox.latest_for("alice").expect("sent");
        let secret = secret_of(&mail.url);
        let link = CodeAttempt {
            username: Some("alice"),
            code: &secret,
            ..Default::default()
        };
        assert!(matches!(
            service.login_with_link(link).await.expect("link"),
            nopassword_core::service::LinkLogin::LoggedIn(_)
        ));
        assert_eq!(recorded.get(&format!("{}{{method=link}}", m::LOGINS)), 1);
        assert_eq!(recorded.get(m::LOCKOUTS), 0, "{:?}", recorded.all());
    });
}

#[test]
fn lockouts_and_rate_limits_are_counted() {
    let recorded = Recorded::default();
    with_recorder(&recorded, async {
        let outbox = Outbox::new(10).quiet();
        let settings = Settings {
            max_requests_per_ip_per_minute: 3,
            ..settings()
        };
        let service = NoPassword::builder(settings, users())
            .sender(outbox.clone())
            .build()
            .expect("service");
        let started = service
            .request_login(LoginRequest {
                username: "alice",
                ..Default::default()
            })
            .await
            .expect("requested");
        let flow = started.flow.expose();
        let code = outbox
            .latest_for("alice")
            .expect("sent")
            .code
            .expose()
            .to_owned();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let typed = CodeAttempt {
            username: Some("alice"),
            code: wrong,
            flow: Some(&flow),
            ..Default::default()
        };
        // max_user_failures = 2: the third try finds alice locked out.
        for _ in 0..3 {
            assert!(service.authenticate(typed).await.expect("judged").is_none());
        }
        assert_eq!(
            recorded.get(m::FAILED_CODE_TRIES),
            2,
            "{:?}",
            recorded.all()
        );
        assert_eq!(recorded.get(m::LOCKOUTS), 1, "{:?}", recorded.all());

        // Four requests from one address in a minute, three allowed.
        for _ in 0..4 {
            let _ = service
                .request_login(LoginRequest {
                    username: "nobody",
                    client: Some(CLIENT),
                    ..Default::default()
                })
                .await;
        }
        assert_eq!(
            recorded.get(&format!("{}{{limit=client}}", m::RATE_LIMITED)),
            1
        );
        assert_eq!(
            recorded.get(&format!("{}{{outcome=rate_limited}}", m::CODE_REQUESTS)),
            1
        );
    });
}

/// A sender that always fails, with a channel of its own.
struct Down;

#[async_trait]
impl LoginCodeSender for Down {
    async fn send_login_code(
        &self,
        _: &LoginCode,
        _: bool,
        _: Option<&str>,
    ) -> Result<(), SendError> {
        Err(SendError::new(std::io::Error::other(
            "smtp.internal:25 refused",
        )))
    }

    fn channel(&self) -> &'static str {
        "sms"
    }

    async fn health(&self) -> Result<(), SendError> {
        Err(SendError::new(std::io::Error::other(
            "smtp.internal:25 refused",
        )))
    }
}

#[test]
fn a_fan_out_counts_each_channel_once() {
    let recorded = Recorded::default();
    with_recorder(&recorded, async {
        let outbox = Outbox::new(10).quiet();
        let service = NoPassword::builder(settings(), users())
            .sender(AllSenders::new().with(outbox.clone()).with(Down))
            .deliver_inline()
            .build()
            .expect("service");
        service
            .request_login(LoginRequest {
                username: "alice",
                ..Default::default()
            })
            .await
            .expect("one sender delivered");
        assert_eq!(
            recorded.get(&format!("{}{{channel=outbox}}", m::CODES_SENT)),
            1
        );
        assert_eq!(
            recorded.get(&format!("{}{{channel=sms}}", m::DELIVERY_FAILURES)),
            1
        );
        assert_eq!(
            recorded.get(&format!("{}{{channel=all}}", m::CODES_SENT)),
            0
        );
        assert_eq!(
            recorded.get(&format!("{}{{channel=sms}}", m::DELIVERY_SECONDS)),
            1
        );
    });
}

/// A store whose health check hangs or fails; everything else is a `MemoryStore`.
struct SickStore {
    hang: bool,
    inner: MemoryStore,
}

#[async_trait]
impl CodeStore for SickStore {
    async fn put(&self, k: &CodeKey, r: &CodeRecord, ttl: Duration) -> Result<(), StoreError> {
        self.inner.put(k, r, ttl).await
    }
    async fn get(&self, k: &CodeKey) -> Result<Option<StoredCode>, StoreError> {
        self.inner.get(k).await
    }
    async fn take(&self, k: &CodeKey) -> Result<Option<CodeRecord>, StoreError> {
        self.inner.take(k).await
    }
    async fn incr_code_failures(&self, k: &CodeKey) -> Result<Option<u32>, StoreError> {
        self.inner.incr_code_failures(k).await
    }
    async fn incr_user_failures(
        &self,
        u: &str,
        w: Duration,
        c: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.inner.incr_user_failures(u, w, c).await
    }
    async fn user_failures(&self, u: &str) -> Result<u32, StoreError> {
        self.inner.user_failures(u).await
    }
    async fn clear_user_failures(&self, u: &str) -> Result<(), StoreError> {
        self.inner.clear_user_failures(u).await
    }
    async fn hit(&self, b: &str, w: Duration) -> Result<u32, StoreError> {
        self.inner.hit(b, w).await
    }
    async fn health(&self) -> Result<(), StoreError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        Err(StoreError::Unavailable(
            "redis.internal:6379 refused".into(),
        ))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

#[test]
fn readiness_reports_each_check_without_its_error() {
    runtime().block_on(async {
        let ready = NoPassword::builder(settings(), users())
            .sender(NullSender)
            .build()
            .expect("service")
            .readiness(Duration::from_secs(1))
            .await;
        assert!(ready.is_ready());
        assert_eq!(ready.status(), 200);
        assert_eq!(
            ready.to_json(),
            r#"{"status":"ready","checks":{"store":"ok","sender:null":"ok"}}"#
        );

        let failing = NoPassword::builder(settings(), users())
            .store(SickStore {
                hang: false,
                inner: MemoryStore::new(),
            })
            .sender(AllSenders::new().with(Down))
            .build()
            .expect("service")
            .readiness(Duration::from_secs(1))
            .await;
        assert_eq!(failing.status(), 503);
        let body = failing.to_json();
        assert_eq!(
            body,
            r#"{"status":"unavailable","checks":{"store":"failed","sender:sms":"failed"}}"#
        );
        assert!(
            !body.contains("internal"),
            "errors stay in the logs: {body}"
        );
    });
}

#[test]
fn readiness_gives_up_on_a_hanging_check_at_the_timeout() {
    runtime().block_on(async {
        let service = NoPassword::builder(settings(), users())
            .store(SickStore {
                hang: true,
                inner: MemoryStore::new(),
            })
            .sender(NullSender)
            .build()
            .expect("service");
        let report = tokio::time::timeout(
            Duration::from_secs(10),
            service.readiness(Duration::from_millis(100)),
        )
        .await
        .expect("readiness returns by its own timeout");
        assert_eq!(report.checks[0].outcome, Outcome::TimedOut);
        assert_eq!(report.checks[1].outcome, Outcome::Ok);
        assert!(report.checks[0].elapsed >= Duration::from_millis(100));
        assert_eq!(report.status(), 503);
    });
}

#[test]
fn a_fan_out_is_healthy_while_one_sender_is() {
    runtime().block_on(async {
        let one_up = AllSenders::new().with(Down).with(NullSender);
        assert!(one_up.health().await.is_ok());
        assert_eq!(one_up.channel(), "all", "two senders report as one fan-out");
        let none_up = AllSenders::new().with(Down);
        assert_eq!(
            none_up.channel(),
            "sms",
            "one sender reports its own channel"
        );
        let error = none_up.health().await.expect_err("all down");
        assert!(error.to_string().starts_with("sms: "), "{error}");
        assert!(
            AllSenders::new().health().await.is_err(),
            "no sender is not healthy"
        );
    });
}
