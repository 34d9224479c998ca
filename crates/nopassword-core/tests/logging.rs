//! No secret reaches the logs, at any level: codes, link secrets, flow ids, CSRF tokens, the
//! secret key.
//!
//! How the logs are captured, and why this way. `tracing` caches per callsite (each `info!`
//! line) whether any subscriber wants its events, once, when the callsite is first hit. While
//! the process has registered only one subscriber, tracing-core asks only the subscriber of the
//! *thread that hits the callsite first* (`Rebuilder::JustOne` in `tracing_core::callsite`). A
//! subscriber scoped to one test's thread (`set_default`, `with_default`) is therefore not
//! enough: if a test thread without a subscriber reaches `info!("login code sent")` first, the
//! callsite is cached as `Interest::never` for the whole process and the capturing test sees no
//! such line. That was the flake of issue 11 (the check failed in about one run in five of
//! `cargo test -p nopassword-core` while it shared a binary with the service tests); giving it a
//! binary of its own only hid it.
//!
//! So this binary installs ONE global subscriber, before any of its tests logs, and never
//! replaces it: every callsite's interest is computed against it (TRACE, always interested),
//! whichever thread hits the callsite first. It writes each event to the capture buffer of the
//! thread that emitted it, or nowhere. Every test here goes through [`logged`], which runs its
//! scenario on a current-thread runtime, so all of a scenario's events come from the test's
//! thread; tests may run in parallel and each sees only its own lines.

use std::{
    cell::RefCell,
    io,
    sync::{Arc, Mutex, Once},
};

use nopassword_core::{
    NoPassword, Outbox, Settings,
    clock::ManualClock,
    hashing::SeededRng,
    service::{CodeAttempt, LinkAction, LinkLogin, LoginRequest},
    user::{MemoryDirectory, User},
};

const KEY: &str = "test-secret-key-0123456789abcdef0123456789";

type Buffer = Arc<Mutex<Vec<u8>>>;

thread_local! {
    /// Where the events of this thread go while a test captures them.
    static CAPTURE: RefCell<Option<Buffer>> = const { RefCell::new(None) };
}

/// The global subscriber's writer: appends to the emitting thread's capture buffer, if any.
struct ThisThread;

impl io::Write for ThisThread {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURE.with_borrow(|capture| {
            if let Some(buffer) = capture {
                buffer.lock().expect("lock").extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the one subscriber of this binary (TRACE, plain text, routed by thread), once.
fn install_subscriber() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThisThread)
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("nothing else in this binary sets a subscriber");
    });
}

/// Runs `scenario` on a current-thread runtime, capturing everything this thread logs at any
/// level; returns the logs and the scenario's result.
fn logged<T>(scenario: impl std::future::Future<Output = T>) -> (String, T) {
    install_subscriber();
    let buffer = Buffer::default();
    CAPTURE.set(Some(Arc::clone(&buffer)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(scenario);
    CAPTURE.set(None);
    let logs = String::from_utf8(buffer.lock().expect("lock").clone()).expect("utf8");
    (logs, result)
}

/// Requests, opens, posts and types codes for alice under `settings`; returns every secret a
/// client or message saw.
async fn scenario(settings: Settings) -> Vec<String> {
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder(
        settings,
        MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]),
    )
    .sender(outbox.clone())
    .clock(ManualClock::new())
    .rng(SeededRng::new(11))
    .deliver_inline()
    .build()
    .expect("service");
    let mut secrets = vec![KEY.to_owned()];
    for round in 0..2 {
        let flow = service
            .request_login(LoginRequest {
                username: "alice",
                ..Default::default()
            })
            .await
            .expect("request")
            .flow
            .expose();
        let message = outbox.latest_for("alice").expect("sent");
        let code = message.code.expose().to_owned();
        let link = message
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .expect("segment")
            .to_owned();
        let attempt = |code, flow| CodeAttempt {
            username: Some("alice"),
            code,
            flow,
            ..Default::default()
        };
        // A wrong guess, a guess without the flow, the link from another client and from the
        // flow's own.
        let wrong = if code.bytes().all(|b| b.is_ascii_digit()) {
            if code == "000000" { "000001" } else { "000000" }
        } else {
            "0000000000000000000f"
        };
        assert!(
            service
                .authenticate(attempt(wrong, Some(&flow)))
                .await
                .expect("no outage")
                .is_none()
        );
        assert!(
            service
                .authenticate(attempt(&code, None))
                .await
                .expect("no outage")
                .is_none()
        );
        assert!(matches!(
            service.open_link(attempt(&link, None)).await,
            Ok(LinkAction::Confirm { .. })
        ));
        assert_eq!(
            service
                .open_link(attempt(&link, Some(&flow)))
                .await
                .expect("no outage"),
            LinkAction::Submit
        );
        if round == 0 {
            let login = service
                .authenticate(attempt(&code, Some(&flow)))
                .await
                .expect("no outage");
            assert_eq!(login.expect("logs in").user.username, "alice");
            assert!(
                service
                    .authenticate(attempt(&code, Some(&flow)))
                    .await
                    .expect("no outage")
                    .is_none()
            );
        } else {
            assert!(matches!(
                service.login_with_link(attempt(&link, Some(&flow))).await,
                Ok(LinkLogin::LoggedIn(_))
            ));
        }
        // A flow token is half flow id, half store key; the id is the bearer secret.
        secrets.extend([code, link, flow[..32].to_owned()]);
    }
    secrets.push(service.new_csrf_token());
    secrets
}

#[test]
fn secrets_are_never_logged() {
    let base = Settings {
        secret_key: Some(KEY.into()),
        ..Settings::default()
    };
    for settings in [
        base.clone(),
        Settings {
            numeric_codes: true,
            code_length: 6,
            ..base.clone()
        },
        Settings {
            hide_username: true,
            ..base
        },
    ] {
        let (logs, secrets) = logged(scenario(settings));
        for expected in [
            "login code sent",
            "user_id=1",
            "logged in with a login code",
        ] {
            assert!(logs.contains(expected), "no {expected:?} in:\n{logs}");
        }
        for secret in &secrets {
            assert!(
                !logs.contains(secret.as_str()),
                "a secret ({} characters) leaked into the logs:\n{logs}",
                secret.len()
            );
        }
    }
}

/// The cause of the old flake, as a check of the capture: a callsite first hit, during a
/// capture, on a thread that captures nothing still reaches the capture; and that thread's line
/// is not in it.
#[test]
fn a_callsite_first_hit_on_another_thread_is_still_captured() {
    fn probe() {
        tracing::info!("probe line of the capture check");
    }
    let (logs, ()) = logged(async {
        std::thread::spawn(probe).join().expect("probe thread");
        probe();
    });
    assert_eq!(
        logs.matches("probe line of the capture check").count(),
        1,
        "{logs}"
    );
}
