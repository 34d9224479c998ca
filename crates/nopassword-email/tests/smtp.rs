//! Sending through a real SMTP server: the aiosmtpd sink that `cargo xtask test` starts
//! (`NOPASSWORD_TEST_SMTP_URL`, `NOPASSWORD_TEST_SMTP_MAILDIR`). Without it these tests fail
//! and say so; they are never skipped.

mod common;

use common::{assert_nothing_received_for, login_code, parse, received_for, smtp_url, unique};
use nopassword_core::{LoginCodeSender, Settings};
use nopassword_email::{EmailError, EmailSender, EmailSettings};

fn settings() -> Settings {
    Settings::default()
}

fn email() -> EmailSettings {
    EmailSettings {
        smtp_url: Some(smtp_url().into()),
        default_from_email: "Example Login <login@example.com>".into(),
        login_email_subject: "Your login code".into(),
    }
}

#[tokio::test]
async fn login_mail_arrives_with_text_and_html_parts() {
    let settings = settings();
    let sender = EmailSender::from_settings(&settings, &email()).expect("sender");
    let to = format!("{}@example.com", unique("alice"));
    let username = "<b>o'hara&co</b>";
    let code = login_code(&settings, username, Some(&to));
    sender
        .send_login_code(&code, true, Some("localhost:8000"))
        .await
        .expect("sent");

    let received = received_for(&to);
    assert_eq!(received.mail_from, "login@example.com");
    assert_eq!(received.rcpt_tos, std::slice::from_ref(&to));
    let mail = parse(&received.raw);
    assert_eq!(mail.from, "login@example.com");
    assert_eq!(mail.to, to);
    assert_eq!(mail.subject, "Your login code");
    assert_eq!(mail.content_type, "multipart/alternative");

    let url = code.login_url(true, Some("localhost:8000"));
    assert!(
        url.starts_with("https://localhost:8000/accounts/login-code/%3Cb%3E"),
        "{url}"
    );
    for body in [&mail.text, &mail.html] {
        assert!(body.contains(&url), "no {url} in:\n{body}");
        assert!(body.contains(code.code().expose()), "no code in:\n{body}");
        assert!(body.contains("15 minutes"), "{body}");
        assert!(body.contains("localhost:8000"), "{body}");
    }
    assert!(
        mail.html.contains(&format!(r#"<a href="{url}">"#)),
        "{}",
        mail.html
    );
    // The text part shows the username as it is; the HTML part escapes it.
    assert!(
        mail.text.contains("Hello <b>o'hara&co</b>,"),
        "{}",
        mail.text
    );
    assert!(
        mail.html
            .contains("Hello &lt;b&gt;o&#x27;hara&amp;co&lt;/b&gt;,"),
        "{}",
        mail.html
    );
    assert!(!mail.html.contains("<b>o'hara"), "{}", mail.html);
}

/// A code asked for from a Spanish page (or by a user who prefers Spanish) arrives at the
/// SMTP server in Spanish: subject, both bodies, `lang`, the duration's plural.
#[tokio::test]
async fn a_spanish_mail_arrives_in_spanish() {
    let settings = Settings {
        login_code_timeout: 3600,
        ..settings()
    };
    let sender = EmailSender::from_settings(&settings, &email()).expect("sender");
    let to = format!("{}@example.com", unique("ana"));
    let code =
        login_code(&settings, "ana", Some(&to)).with_locale(Some("es".parse().expect("tag")));
    sender
        .send_login_code(&code, true, Some("localhost:8000"))
        .await
        .expect("sent");

    let mail = parse(&received_for(&to).raw);
    assert_eq!(
        mail.subject, "Código de acceso",
        "the catalog's subject, not the English setting"
    );
    let url = code.login_url(true, Some("localhost:8000"));
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Hola, ana:"), "{body}");
        assert!(
            body.contains("Usa este enlace para iniciar sesión en localhost:8000:"),
            "{body}"
        );
        assert!(body.contains(&url), "{body}");
        assert!(body.contains("O escribe este código de acceso:"), "{body}");
        assert!(
            body.contains("El enlace y el código funcionan una sola vez, durante 1 hora."),
            "{body}"
        );
        assert!(body.contains("puedes ignorar este correo"), "{body}");
        assert!(!body.contains("Hello"), "{body}");
    }
    assert!(
        mail.html.contains(r#"<html lang="es" dir="ltr">"#),
        "{}",
        mail.html
    );
    assert!(mail.html.contains(">Iniciar sesión</a>"), "{}", mail.html);
}

/// A code without a language, or in one the catalog lacks, goes out in `default_locale`;
/// in English the subject is the `login_email_subject` setting.
#[tokio::test]
async fn default_locale_writes_the_rest() {
    let settings = Settings {
        default_locale: "de".parse().expect("tag"),
        ..settings()
    };
    let sender = EmailSender::from_settings(&settings, &email()).expect("sender");
    for locale in [None, Some("ja")] {
        let to = format!("{}@example.com", unique("dora"));
        let code = login_code(&settings, "dora", Some(&to))
            .with_locale(locale.map(|tag| tag.parse().expect("tag")));
        sender
            .send_login_code(&code, false, None)
            .await
            .expect("sent");
        let mail = parse(&received_for(&to).raw);
        assert_eq!(mail.subject, "Anmeldecode", "{locale:?}");
        assert!(mail.text.contains("Hallo dora,"), "{}", mail.text);
        assert!(mail.text.contains("15 Minuten gültig"), "{}", mail.text);
    }
    let to = format!("{}@example.com", unique("eve"));
    let code =
        login_code(&settings, "eve", Some(&to)).with_locale(Some("en-GB".parse().expect("tag")));
    sender
        .send_login_code(&code, false, None)
        .await
        .expect("sent");
    let mail = parse(&received_for(&to).raw);
    assert_eq!(mail.subject, "Your login code");
    assert!(mail.text.contains("Hello eve,"), "{}", mail.text);
}

#[tokio::test]
async fn template_overrides_change_both_bodies() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("login_email.txt"),
        "Custom text for {{ username }}: {{ url }} / {{ code }} ({{ expires_in_seconds }} s)",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("login_email.html"),
        "{% include \"_footer.html\" %}<p>Custom HTML: <a href=\"{{ url }}\">{{ code }}</a></p>",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("_footer.html"),
        "<p>Footer from an include</p>",
    )
    .expect("write");
    let settings = Settings {
        template_dir: Some(dir.path().to_owned()),
        ..settings()
    };
    let sender = EmailSender::from_settings(&settings, &email()).expect("sender");
    let to = format!("{}@example.com", unique("override"));
    let code = login_code(&settings, "bob", Some(&to));
    sender
        .send_login_code(&code, false, None)
        .await
        .expect("sent");

    let mail = parse(&received_for(&to).raw);
    let url = code.login_url(false, None);
    assert_eq!(
        mail.text.trim_end(),
        format!(
            "Custom text for bob: {url} / {} (900 s)",
            code.code().expose()
        )
    );
    assert!(
        mail.html.starts_with("<p>Footer from an include</p>"),
        "{}",
        mail.html
    );
    assert!(
        mail.html.contains(&format!(
            "<p>Custom HTML: <a href=\"{url}\">{}</a></p>",
            code.code().expose()
        )),
        "{}",
        mail.html
    );
}

#[tokio::test]
async fn rejected_recipient_carries_the_servers_550() {
    let settings = settings();
    let sender = EmailSender::from_settings(&settings, &email()).expect("sender");
    let to = format!("{}@example.com", unique("reject"));
    let code = login_code(&settings, "mallory", Some(&to));
    let err = sender
        .send_login_code(&code, false, None)
        .await
        .expect_err("the sink refuses reject* mailboxes");
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    match err {
        EmailError::Rejected { code, message, .. } => {
            assert_eq!(*code, 550);
            assert!(message.contains("5.1.1 Mailbox unavailable"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(err.reply_code(), Some(550));
    assert!(!err.is_transient());
    assert!(err.to_string().contains("550"), "{err}");

    // The pool recovers: the next mail over the same sender goes through.
    let to = format!("{}@example.com", unique("after-reject"));
    let code = login_code(&settings, "alice", Some(&to));
    sender
        .send_login_code(&code, false, None)
        .await
        .expect("sent");
    received_for(&to);
}

#[tokio::test]
async fn credentials_in_the_url_are_used() {
    let url = smtp_url();
    let with_credentials = url.replacen("smtp://", "smtp://login%40example.com:s3cret%2F@", 1);
    let email = EmailSettings {
        smtp_url: Some(with_credentials.into()),
        ..email()
    };
    let sender = EmailSender::from_settings(&settings(), &email).expect("sender");
    assert!(!format!("{sender:?}").contains("s3cret"));
    let to = format!("{}@example.com", unique("auth"));
    sender
        .send_login_code(&login_code(&settings(), "carol", Some(&to)), false, None)
        .await
        .expect("sent after AUTH");
    received_for(&to);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_the_pool() {
    let settings = settings();
    let sender =
        std::sync::Arc::new(EmailSender::from_settings(&settings, &email()).expect("sender"));
    let recipients: Vec<String> = (0..8)
        .map(|i| format!("{}@example.com", unique(&format!("many{i}"))))
        .collect();
    let sends = recipients.iter().map(|to| {
        let sender = sender.clone();
        let code = login_code(&settings, "dave", Some(to));
        tokio::spawn(async move { sender.send_login_code(&code, false, None).await })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("joined").expect("sent");
    }
    for to in &recipients {
        received_for(to);
    }
}

#[tokio::test]
async fn required_tls_never_falls_back_to_plain_text() {
    // The sink speaks plain SMTP only: no STARTTLS, no TLS on connect.
    for (url, what) in [
        (format!("{}?tls=required", smtp_url()), "STARTTLS required"),
        (
            smtp_url().replacen("smtp://", "smtps://", 1),
            "implicit TLS",
        ),
    ] {
        let email = EmailSettings {
            smtp_url: Some(url.into()),
            ..email()
        };
        let sender = EmailSender::from_settings(&settings(), &email).expect("sender");
        let to = format!("{}@example.com", unique("tls"));
        let err = sender
            .send_login_code(&login_code(&settings(), "ivan", Some(&to)), false, None)
            .await
            .expect_err(what);
        let err = err.downcast_ref::<EmailError>().expect("an EmailError");
        assert!(matches!(err, EmailError::Tls { .. }), "{what}: {err:?}");
    }
}

#[tokio::test]
async fn plain_smtp_url_to_a_host_other_than_the_loopback_never_sends_in_plain_text() {
    // The sink offers no STARTTLS, which is what a server looks like once an attacker on the
    // path strips the offer. `[::ffff:127.0.0.1]` reaches the sink but is none of the loopback
    // forms that keep opportunistic STARTTLS (localhost, 127.0.0.0/8, ::1): it stands for any
    // other host, named in a bare `smtp://` URL.
    let sink = smtp_url();
    let rest = sink
        .strip_prefix("smtp://127.0.0.1:")
        .unwrap_or_else(|| panic!("{} is not smtp://127.0.0.1:P", common::SMTP_URL_ENV));
    let url = format!("smtp://login:s3cret@[::ffff:127.0.0.1]:{rest}");

    let refused = EmailSettings {
        smtp_url: Some(url.clone().into()),
        ..email()
    };
    let sender = EmailSender::from_settings(&settings(), &refused).expect("sender");
    let to = format!("{}@example.com", unique("stripped"));
    let err = sender
        .send_login_code(&login_code(&settings(), "kim", Some(&to)), false, None)
        .await
        .expect_err("no STARTTLS, so no mail");
    let err = err.downcast_ref::<EmailError>().expect("an EmailError");
    assert!(matches!(err, EmailError::Tls { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("does not offer STARTTLS"), "{shown}");
    assert!(shown.contains("tls=opportunistic"), "{shown}");
    assert!(!shown.contains("s3cret") && !format!("{err:?}").contains("s3cret"));
    assert_nothing_received_for(&to);

    // The same server, with plain text asked for in the URL: the address does reach the sink.
    let opted_in = EmailSettings {
        smtp_url: Some(format!("{url}?tls=opportunistic").into()),
        ..email()
    };
    let sender = EmailSender::from_settings(&settings(), &opted_in).expect("sender");
    let to = format!("{}@example.com", unique("opted-in"));
    sender
        .send_login_code(&login_code(&settings(), "kim", Some(&to)), false, None)
        .await
        .expect("sent after the explicit opt-in");
    received_for(&to);
}

#[tokio::test]
async fn health_is_ok_against_a_real_server() {
    let sender = EmailSender::from_settings(&settings(), &email()).expect("sender");
    sender.health().await.expect("the sink answers NOOP");
    sender.health().await.expect("twice, through the pool");
}
