//! Failures that need no SMTP server: start-up errors, users without an address, a server
//! that is down or stalls.

mod common;

use std::time::{Duration, Instant};

use common::{closed_port, login_code};
use nopassword_core::{LoginCodeSender, Settings};
use nopassword_email::EmailSettings;
use nopassword_email::{EmailError, EmailSender};

#[test]
fn broken_template_fails_the_build_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("login_email.html");
    std::fs::write(&file, "<p>{{ url }</p>").expect("write");
    let err = EmailSender::builder(&Settings::default(), &EmailSettings::default())
        .template_dir(dir.path())
        .file_transport(dir.path().join("outbox"))
        .build()
        .expect_err("a syntax error stops the build");
    assert!(matches!(err, EmailError::Template { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains(&file.display().to_string()), "{shown}");

    // A misspelt variable is caught as well, when the templates are test-rendered.
    std::fs::remove_file(&file).expect("rm");
    let file = dir.path().join("login_email.txt");
    std::fs::write(&file, "Log in: {{ ulr }}").expect("write");
    let settings = Settings {
        template_dir: Some(dir.path().to_owned()),
        ..Settings::default()
    };
    let email = EmailSettings {
        smtp_url: Some("smtp://127.0.0.1:2525".into()),
        ..EmailSettings::default()
    };
    let err = EmailSender::from_settings(&settings, &email).expect_err("undefined variable");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    assert!(err.to_string().contains("undefined"), "{err}");
}

#[test]
fn unset_smtp_url_says_what_to_set() {
    let err = EmailSender::from_settings(&Settings::default(), &EmailSettings::default())
        .expect_err("no transport");
    assert!(matches!(
        err,
        EmailError::MissingSetting { key: "smtp_url" }
    ));
    let shown = err.to_string();
    assert!(
        shown.contains("NOPASSWORD_SMTP_URL") && shown.contains("file_transport"),
        "{shown}"
    );
}

#[test]
fn invalid_from_address_is_a_start_up_error() {
    let email = EmailSettings {
        default_from_email: "not an address".into(),
        smtp_url: Some("smtp://127.0.0.1:2525".into()),
        ..EmailSettings::default()
    };
    let err = EmailSender::from_settings(&Settings::default(), &email).expect_err("bad from");
    assert!(
        matches!(
            err,
            EmailError::InvalidSetting {
                key: "default_from_email",
                ..
            }
        ),
        "{err:?}"
    );
}

fn down_sender(settings: &Settings) -> EmailSender {
    EmailSender::builder(settings, &EmailSettings::default())
        .smtp_url(format!("smtp://127.0.0.1:{}", closed_port()))
        .build()
        .expect("sender")
}

#[tokio::test]
async fn user_without_email_is_a_typed_error_before_any_connection() {
    let settings = Settings::default();
    let sender = down_sender(&settings);
    for email in [None, Some(""), Some("   ")] {
        let err = sender
            .send_login_code(&login_code(&settings, "erin", email), false, None)
            .await
            .expect_err("nobody to mail");
        let err = err.downcast_ref::<EmailError>().expect("an EmailError");
        assert!(
            matches!(err, EmailError::MissingAddress { user_id } if user_id == "42"),
            "{err:?}"
        );
        assert!(err.is_unreachable_user());
    }
    for bad in [
        "erin",
        "erin@",
        "@example.com",
        "erin@exa mple.com",
        "a\r\nBcc: x@evil.com",
    ] {
        let err = sender
            .send_login_code(&login_code(&settings, "erin", Some(bad)), false, None)
            .await
            .expect_err("invalid address");
        let err = err.downcast_ref::<EmailError>().expect("an EmailError");
        assert!(
            matches!(err, EmailError::InvalidAddress { .. }),
            "{bad:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn server_down_is_a_quick_typed_error() {
    let settings = Settings::default();
    let sender = down_sender(&settings);
    let started = Instant::now();
    let err = sender
        .send_login_code(
            &login_code(&settings, "frank", Some("frank@example.com")),
            false,
            None,
        )
        .await
        .expect_err("nothing listens");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    assert!(
        matches!(err, EmailError::Unreachable { server, .. } if server.starts_with("127.0.0.1:")),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let settings = Settings::default();
    let sender = EmailSender::builder(&settings, &EmailSettings::default())
        .smtp_url(format!("smtp://127.0.0.1:{port}"))
        .timeout(Duration::from_millis(300))
        .build()
        .expect("sender");
    let started = Instant::now();
    let err = sender
        .send_login_code(
            &login_code(&settings, "gina", Some("gina@example.com")),
            false,
            None,
        )
        .await
        .expect_err("no greeting");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    assert!(
        matches!(err, EmailError::Timeout { after, .. } if *after == Duration::from_millis(300)),
        "{err:?}"
    );
    held.abort();
}

#[test]
fn a_sender_outlives_its_runtime_without_panicking() {
    // Built outside any runtime (a sync `main` reading its configuration)...
    let settings = Settings::default();
    let sender = down_sender(&settings);
    // ...used inside one, which starts lettre's pool...
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(sender.send_login_code(
        &login_code(&settings, "judy", Some("judy@example.com")),
        false,
        None,
    ));
    assert!(result.is_err());
    // ...and dropped after the runtime is gone.
    drop(runtime);
    drop(sender);
}

#[tokio::test]
async fn health_reports_a_server_that_is_down_or_silent() {
    let settings = Settings::default();
    let err = down_sender(&settings)
        .health()
        .await
        .expect_err("nothing listens");
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    assert!(matches!(err, EmailError::Unreachable { .. }), "{err:?}");

    // Accepts connections and never greets: the check gives up at the sender's timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let sender = EmailSender::builder(&settings, &EmailSettings::default())
        .smtp_url(format!("smtp://127.0.0.1:{port}"))
        .timeout(Duration::from_millis(300))
        .build()
        .expect("sender");
    let started = Instant::now();
    let err = sender.health().await.expect_err("no greeting");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    assert!(matches!(err, EmailError::Timeout { .. }), "{err:?}");
    assert_eq!(sender.channel(), "email");
    held.abort();
}
