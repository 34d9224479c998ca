//! The "writing a custom sender" example of GUIDE.md, compiled and run: the original's
//! `EmailBackend`, written against `LoginCodeSender` with this crate's templates and any
//! lettre transport.

mod common;

use common::login_code;
use lettre::{
    AsyncTransport, Message,
    message::{Mailbox, MultiPart},
    transport::stub::AsyncStubTransport,
};
use nopassword_core::{LoginCodeSender, Outbox, SendError, Settings, async_trait, code::LoginCode};
use nopassword_email::{EmailError, EmailSender, EmailSettings, LoginEmailTemplates};

// --- from GUIDE.md ---
/// Mails login codes through any lettre transport, with nopassword-email's templates.
struct LettreBackend<T> {
    transport: T,
    templates: LoginEmailTemplates,
    from: Mailbox,
    subject: String,
}

#[async_trait]
impl<T> LoginCodeSender for LettreBackend<T>
where
    T: AsyncTransport + Send + Sync,
    T::Error: std::error::Error + Send + Sync + 'static,
{
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        let user = code.user();
        let to = user
            .email
            .as_deref()
            .ok_or_else(|| {
                SendError::new(EmailError::MissingAddress {
                    user_id: user.id.clone(),
                })
            })?
            .parse()
            .map_err(SendError::new)?;
        let body = self
            .templates
            .render(code, secure, host)
            .map_err(SendError::new)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(&self.subject)
            .multipart(MultiPart::alternative_plain_html(body.text, body.html))
            .map_err(SendError::new)?;
        self.transport.send(message).await.map_err(SendError::new)?;
        Ok(())
    }
}
// --- end ---

// --- from GUIDE.md (with `TwilioSender` as the generic `S`) ---
/// E-mail when the user has an address, else the fallback (an SMS sender).
struct EmailOrElse<S> {
    email: EmailSender,
    fallback: S,
}

#[async_trait]
impl<S: LoginCodeSender> LoginCodeSender for EmailOrElse<S> {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        match self.email.send_login_code(code, secure, host).await {
            Err(e)
                if e.downcast_ref::<EmailError>()
                    .is_some_and(EmailError::is_unreachable_user) =>
            {
                self.fallback.send_login_code(code, secure, host).await
            }
            sent_or_failed => sent_or_failed,
        }
    }
}
// --- end ---

#[tokio::test]
async fn the_guides_custom_sender_works() {
    let (settings, email) = (Settings::default(), EmailSettings::default());
    let backend = LettreBackend {
        transport: AsyncStubTransport::new_ok(),
        templates: LoginEmailTemplates::load(settings.template_dir.as_deref()).expect("templates"),
        from: email.default_from_email.parse().expect("from"),
        subject: email.login_email_subject.clone(),
    };
    let code = login_code(&settings, "alice", Some("alice@example.com"));
    backend
        .send_login_code(&code, false, Some("localhost:8000"))
        .await
        .expect("sent");
    let messages = backend.transport.messages().await;
    assert_eq!(messages.len(), 1);
    let (envelope, raw) = &messages[0];
    assert_eq!(envelope.to()[0].to_string(), "alice@example.com");
    let mail = common::parse(raw.as_bytes());
    let url = code.login_url(false, Some("localhost:8000"));
    assert!(mail.text.contains(&url) && mail.html.contains(&url));

    let nobody = login_code(&settings, "bob", None);
    let err = backend
        .send_login_code(&nobody, false, None)
        .await
        .expect_err("no address");
    assert!(matches!(
        err.downcast_ref::<EmailError>(),
        Some(EmailError::MissingAddress { .. })
    ));
}

#[tokio::test]
async fn the_guides_fallback_sender_works() {
    let settings = Settings::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let sms = Outbox::new(10).quiet();
    let sender = EmailOrElse {
        email: EmailSender::builder(&settings, &EmailSettings::default())
            .file_transport(dir.path())
            .build()
            .expect("sender"),
        fallback: sms.clone(),
    };
    let mailed = login_code(&settings, "alice", Some("alice@example.com"));
    sender
        .send_login_code(&mailed, false, None)
        .await
        .expect("mailed");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    assert!(sms.latest_for("alice").is_none());

    let texted = login_code(&settings, "bob", None);
    sender
        .send_login_code(&texted, false, None)
        .await
        .expect("texted");
    assert!(sms.latest_for("bob").is_some());
}
