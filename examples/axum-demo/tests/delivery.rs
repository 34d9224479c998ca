//! The demo wires real senders from its settings: with `smtp_url` it delivers the login mail to
//! that server, and with the Twilio settings pointed at the validating mock (`cargo xtask test`
//! starts prism on Twilio's own OpenAPI description) users with a phone also get an SMS the mock
//! accepts.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum_demo::{Demo, DemoSettings, demo_users};
use nopassword_core::{Settings, secret::SecretString, service::LoginRequest, user::User};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run this suite with `cargo xtask test`, which starts the service"
        )
    })
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits for the sink to have saved a message to `to` containing `needle` (yielding to the
/// runtime, where the background delivery runs).
async fn received(maildir: &PathBuf, to: &str, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(maildir).expect("maildir").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if text.contains(&format!("To: {to}")) && text.contains(needle) {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "current_thread")]
async fn the_demo_sends_real_mail_and_sms_when_configured() {
    let smtp = env("NOPASSWORD_TEST_SMTP_URL");
    let maildir = PathBuf::from(env("NOPASSWORD_TEST_SMTP_MAILDIR"));
    let twilio = env("NOPASSWORD_TEST_TWILIO_MOCK_URL");
    let mut settings = DemoSettings::from(Settings {
        secret_key: Some("demo-delivery-test-secret-key-0123456789".into()),
        ..Settings::default()
    });
    settings.email.smtp_url = Some(SecretString::new(smtp));
    settings.twilio.twilio_sid = Some("AC0123456789abcdef0123456789abcdef".into());
    settings.twilio.twilio_auth_token = Some("test-auth-token".into());
    settings.twilio.default_from_number = Some("+15005550006".into());
    settings.twilio.twilio_api_base = twilio;
    // A user only SMS can reach: if the SMS were not sent (or refused), this login fails or
    // is silently dropped, and the log line below is missing.
    let unique = format!("{:x}", std::process::id());
    let mut users = demo_users();
    users.push(User::new("90", format!("erin-{unique}")).with_phone("+15005550009"));
    users.push(
        User::new("91", format!("frank-{unique}"))
            .with_email(format!("frank-{unique}@example.com")),
    );
    let demo = Demo::build(settings, users).expect("demo");

    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let erin = format!("erin-{unique}");
    let request = LoginRequest {
        username: &erin,
        host: Some("localhost:8000"),
        ..Default::default()
    };
    demo.service
        .request_login(request)
        .await
        .expect("the code request was accepted");
    // Delivery runs in the background (the adapter's default): wait for its log lines.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf8");
        if text.contains("login code sent") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        text.contains("login SMS accepted by Twilio"),
        "no SMS was accepted:\n{text}"
    );
    assert!(text.contains("login code sent"), "{text}");
    assert_eq!(demo.service.delivery_failures(), 0);

    let frank = format!("frank-{unique}");
    let request = LoginRequest {
        username: &frank,
        host: Some("localhost:8000"),
        ..Default::default()
    };
    demo.service
        .request_login(request)
        .await
        .expect("the code request was accepted");
    assert!(
        received(
            &maildir,
            &format!("frank-{unique}@example.com"),
            &format!("/accounts/login-code/{frank}/")
        )
        .await,
        "the SMTP server did not receive frank's login mail"
    );
    assert!(
        demo.outbox.messages().is_empty(),
        "with smtp_url the outbox is not used"
    );
}

/// With a real sender configured the development outbox, which shows live codes, is not served.
#[tokio::test(flavor = "current_thread")]
async fn the_outbox_is_not_served_with_a_real_sender() {
    use tower::ServiceExt as _;

    let mut settings = DemoSettings::from(Settings {
        secret_key: Some("demo-delivery-test-secret-key-0123456789".into()),
        ..Settings::default()
    });
    settings.email.smtp_url = Some(SecretString::new(env("NOPASSWORD_TEST_SMTP_URL")));
    let demo = Demo::build(settings, demo_users()).expect("demo");
    for path in ["/outbox", "/outbox.json"] {
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("request");
        let response = demo.app.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), 404, "{path} is served with smtp_url set");
    }
    let settings = Settings {
        secret_key: Some("demo-delivery-test-secret-key-0123456789".into()),
        ..Settings::default()
    };
    let demo = Demo::build(settings, demo_users()).expect("demo");
    let request = axum::http::Request::get("/outbox")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = demo.app.clone().oneshot(request).await.expect("answer");
    assert_eq!(
        response.status(),
        200,
        "the outbox is served without a real sender"
    );
}

/// docs/HTTP.md, Login flows, timing: with a real SMTP server that takes 50 ms per message, asking for a
/// code takes as long for a real user as for an unknown one (medians under 5 ms apart), because
/// the demo delivers in the background; and every mail still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_mail_server_does_not_tell_real_users_from_unknown_ones() {
    use tower::ServiceExt as _;

    const ROUNDS: usize = 31;
    let maildir = PathBuf::from(env("NOPASSWORD_TEST_SMTP_MAILDIR"));
    let mut settings = DemoSettings::from(Settings {
        secret_key: Some("demo-delivery-test-secret-key-0123456789".into()),
        max_sends_per_user_per_hour: 1_000,
        ..Settings::default()
    });
    settings.email.smtp_url = Some(SecretString::new(env("NOPASSWORD_TEST_SMTP_URL")));
    let unique = format!("{:x}", std::process::id());
    let real = format!("slow-{unique}");
    let mut users = demo_users();
    users.push(User::new("92", real.clone()).with_email(format!("{real}@example.com")));
    let demo = Demo::build(settings, users).expect("demo");
    let ask = |username: String| {
        let app = demo.app.clone();
        async move {
            let request = axum::http::Request::post("/accounts/api/login/")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(format!(
                    "{{\"username\": \"{username}\"}}"
                )))
                .expect("request");
            let started = Instant::now();
            let response = app.oneshot(request).await.expect("answer");
            let took = started.elapsed();
            assert_eq!(response.status(), 200);
            took
        }
    };
    let (mut real_times, mut unknown_times) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let unknown = format!("nobody-{unique}-{round}");
        if round % 2 == 0 {
            real_times.push(ask(real.clone()).await);
            unknown_times.push(ask(unknown).await);
        } else {
            unknown_times.push(ask(unknown).await);
            real_times.push(ask(real.clone()).await);
        }
    }
    real_times.sort();
    unknown_times.sort();
    let (real_median, unknown_median) = (real_times[ROUNDS / 2], unknown_times[ROUNDS / 2]);
    eprintln!(
        "api/login/ medians with a 50 ms SMTP server: real {real_median:?}, unknown {unknown_median:?}"
    );
    assert!(
        real_median.abs_diff(unknown_median) < Duration::from_millis(5),
        "real {real_median:?} against unknown {unknown_median:?}"
    );
    // The mail server really was slow, and got every message.
    let deadline = Instant::now() + Duration::from_secs(30);
    let to = format!("To: {real}@example.com");
    loop {
        let arrived = std::fs::read_dir(&maildir)
            .expect("maildir")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&to)))
            .count();
        if arrived == ROUNDS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{arrived} of {ROUNDS} mails arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(demo.service.delivery_failures(), 0);
}
