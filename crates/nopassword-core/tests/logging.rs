//! No secret reaches the logs, at any level: codes, link secrets, flow ids, CSRF tokens, the
//! secret key.
//!
//! This is its own test binary on purpose. `tracing` caches each callsite's interest globally:
//! when another test thread (no subscriber) hits a callsite while this test's subscriber is
//! being registered, the callsite can stay cached as "never" and its events never reach the
//! subscriber, so the "login code sent" line went missing in some runs when this test shared a
//! process with the service tests. Alone in its binary, with a scoped subscriber
//! (`with_default`) on a current-thread runtime, every event is seen.

use std::sync::{Arc, Mutex};

use nopassword_core::{
    CodeAttempt, LinkAction, LinkLogin, LoginRequest, ManualClock, MemoryDirectory, NoPassword,
    Outbox, SeededRng, Settings, User,
};

const KEY: &str = "test-secret-key-0123456789abcdef0123456789";

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

/// Runs `scenario` on a current-thread runtime under a TRACE subscriber scoped to this thread;
/// returns what it logged.
fn logged<F: std::future::Future<Output = Vec<String>>>(scenario: F) -> (String, Vec<String>) {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let secrets = tracing::subscriber::with_default(subscriber, || runtime.block_on(scenario));
    let logs = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
    (logs, secrets)
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
