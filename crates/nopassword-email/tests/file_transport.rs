//! The development file transport: each login mail as a parseable `.eml` file.

mod common;

use common::{login_code, parse};
use nopassword_core::{LoginCodeSender, Settings};
use nopassword_email::EmailSender;

#[tokio::test]
async fn writes_a_parseable_eml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("outbox"); // created by build()
    let settings = Settings {
        hide_username: true,
        ..Settings::default()
    };
    let sender = EmailSender::builder(&settings, &Default::default())
        .file_transport(&outbox)
        .build()
        .expect("sender");
    let code = login_code(&settings, "heidi", Some("heidi@example.com"));
    sender
        .send_login_code(&code, false, Some("evil.com"))
        .await
        .expect("written");

    let files: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let mail = parse(&std::fs::read(&files[0]).expect("read"));
    assert_eq!(mail.from, "root@example.com");
    assert_eq!(mail.to, "heidi@example.com");
    assert_eq!(mail.subject, "Login code");
    assert_eq!(mail.content_type, "multipart/alternative");
    // A forged Host never reaches the link: server_url does.
    let url = format!(
        "http://example.com/accounts/login-code/{}/",
        code.code().expose()
    );
    assert!(
        mail.text.contains(&url) && mail.html.contains(&url),
        "{mail:?}"
    );
    assert!(mail.text.contains("log in to example.com"), "{}", mail.text);
}

#[tokio::test]
async fn health_probes_the_outbox_directory_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("outbox");
    let sender = EmailSender::builder(&Settings::default(), &Default::default())
        .file_transport(&outbox)
        .build()
        .expect("sender");
    sender
        .health()
        .await
        .expect("a writable directory is healthy");
    assert_eq!(
        std::fs::read_dir(&outbox).expect("outbox").count(),
        0,
        "the probe is removed"
    );

    // The directory disappears under the sender: unhealthy.
    std::fs::remove_dir_all(&outbox).expect("rm");
    let err = sender.health().await.expect_err("no directory");
    assert!(err.to_string().contains("outbox"), "{err}");
}
