//! `EmailSender`: the login mail over SMTP or into `.eml` files.

use std::{
    fmt,
    path::PathBuf,
    sync::{Mutex, PoisonError},
    time::Duration,
};

#[cfg(feature = "rustls")]
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        self, AsyncSmtpTransportBuilder, PoolConfig, authentication::Credentials,
        extension::ClientId,
    },
};
use nopassword_core::{
    LoginCodeSender, SendError, Settings, async_trait, code::LoginCode, secret::SecretString,
};

use tracing::{Instrument, debug, field, info, info_span};

use crate::{
    EmailError, EmailSettings, LoginEmail, LoginEmailTemplates,
    smtp_url::{SmtpConfig, TlsMode},
};

/// The default bound on connecting to the SMTP server and on sending one message.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends login codes by e-mail: the original's `EmailBackend`.
///
/// Each message goes to the user's e-mail address, from `default_from_email`, with the
/// subject `login_email_subject`, as `multipart/alternative` with a text and an HTML part
/// rendered from [`LoginEmailTemplates`]. It is written in the code's locale (the user's
/// preference, else that of the request that asked for it; `default_locale` when the catalog
/// has neither): in a language other than English the subject is the catalog's
/// `mail-subject` (docs/guide/i18n.md). It travels over SMTP (a connection pool; STARTTLS or
/// implicit TLS through rustls) or, for development, into `.eml` files in a directory.
///
/// Build it with [`EmailSender::from_settings`] (SMTP from `smtp_url`) or
/// [`EmailSender::builder`]. Building checks everything that can be checked before the first
/// login: the URL, the sender address, both templates. Sending needs a Tokio runtime with
/// I/O and timers enabled (`#[tokio::main]` has both). `Debug` never shows the SMTP password.
///
/// Errors are [`EmailError`]s inside the [`SendError`]; find them with
/// `send_error.downcast_ref::<EmailError>()`.
///
/// ```no_run
/// use std::sync::Arc;
/// use nopassword_core::{LoginCodeSender, Settings};
/// use nopassword_email::{EmailSender, EmailSettings};
///
/// let email = EmailSettings {
///     smtp_url: Some("smtp://login:app-password@mail.example.com:587?tls=required".into()),
///     default_from_email: "Example <login@example.com>".into(),
///     ..EmailSettings::default()
/// };
/// let sender: Arc<dyn LoginCodeSender> = Arc::new(EmailSender::from_settings(&Settings::default(), &email)?);
/// # Ok::<_, nopassword_email::EmailError>(())
/// ```
pub struct EmailSender {
    templates: LoginEmailTemplates,
    from: Mailbox,
    subject: String,
    transport: Transport,
}

impl fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.to_string())
            .field("subject", &self.subject)
            .field("transport", &self.transport)
            .field("templates", &self.templates)
            .finish()
    }
}

impl EmailSender {
    /// An SMTP sender from the settings: [`EmailSettings`]' `smtp_url`, `default_from_email`,
    /// `login_email_subject`, and core's `template_dir`, with the [`DEFAULT_TIMEOUT`].
    ///
    /// `smtp_url` has the form `smtp://[user:password@]host[:port][?tls=...]` or
    /// `smtps://[user:password@]host[:port]`:
    ///
    /// | URL | connection | default port |
    /// |---|---|---|
    /// | `smtp://host` | STARTTLS, or the send fails | 25 |
    /// | `smtp://localhost`, `smtp://127.0.0.1` (any of 127.0.0.0/8), `smtp://[::1]` | STARTTLS when the server offers it, else plain | 25 |
    /// | `smtp://host?tls=required` | STARTTLS, or the send fails | 587 |
    /// | `smtp://host?tls=opportunistic` | STARTTLS when the server offers it, else plain | 25 |
    /// | `smtp://host?tls=none` | plain text (a local relay or test sink) | 25 |
    /// | `smtps://host` | TLS from the start (implicit TLS) | 465 |
    ///
    /// Plain text needs the loopback or an explicit `tls=opportunistic` / `tls=none`: a bare
    /// `smtp://` URL to any other host never falls back to plain text when STARTTLS is missing
    /// (an attacker on the path can strip the server's offer), and the send fails with
    /// [`EmailError::Tls`].
    ///
    /// Percent-encode `@`, `:` and `/` in the user name and password (`%40`, `%3A`, `%2F`).
    /// A path (`smtp://host/client.example.org`) sets the name sent with `EHLO`; the
    /// machine's host name is sent otherwise.
    ///
    /// Errors when `smtp_url` is unset ([`EmailError::MissingSetting`]: the demo and tests use
    /// the development outbox, or [`EmailSenderBuilder::file_transport`], instead), and for
    /// everything [`EmailSenderBuilder::build`] checks.
    ///
    /// ```
    /// use nopassword_core::Settings;
    /// use nopassword_email::{EmailSender, EmailSettings};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let email = EmailSettings { smtp_url: Some("smtps://bob:hunter2@mail.example.com".into()), ..EmailSettings::default() };
    /// let sender = EmailSender::from_settings(&Settings::default(), &email)?;
    /// assert!(format!("{sender:?}").contains("mail.example.com:465"));
    /// assert!(!format!("{sender:?}").contains("hunter2"));
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// # }).unwrap();
    /// ```
    pub fn from_settings(settings: &Settings, email: &EmailSettings) -> Result<Self, EmailError> {
        Self::builder(settings, email).build()
    }

    /// A builder starting from the settings (core's `template_dir`, and [`EmailSettings`]);
    /// change the transport, the template directory or the timeout, then
    /// [`build`](EmailSenderBuilder::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// use nopassword_core::Settings;
    /// use nopassword_email::{EmailSender, EmailSettings};
    ///
    /// let outbox = std::env::temp_dir().join("nopassword-outbox");
    /// let sender = EmailSender::builder(&Settings::default(), &EmailSettings::default())
    ///     .file_transport(&outbox)
    ///     .timeout(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn builder(settings: &Settings, email: &EmailSettings) -> EmailSenderBuilder {
        EmailSenderBuilder {
            transport: email.smtp_url.clone().map(TransportChoice::Smtp),
            template_dir: settings.template_dir.clone(),
            from: email.default_from_email.clone(),
            subject: email.login_email_subject.clone(),
            default_locale: settings.default_locale.clone(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Renders the two bodies the sender would send for `code`, without sending them (for a
    /// preview page, or a sender of your own that uses these templates).
    ///
    /// ```
    /// # use std::{sync::Arc, time::{Duration, SystemTime}};
    /// # use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
    /// # let code = LoginCode::new(
    /// #     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
    /// #     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
    /// #     Arc::new(UrlConfig::from_settings(&Settings::default())),
    /// # );
    /// let dir = std::env::temp_dir().join("nopassword-outbox");
    /// let sender = nopassword_email::EmailSender::builder(&Settings::default(), &Default::default()).file_transport(&dir).build()?;
    /// let email = sender.render(&code, true, Some("localhost:8000"))?;
    /// assert!(email.html.contains("https://localhost:8000/accounts/login-code/alice/"));
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn render(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<LoginEmail, EmailError> {
        self.templates.render(code, secure, host)
    }

    /// Builds the complete message for `code` (the templates rendered, the addresses checked).
    fn message(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<Message, EmailError> {
        let user = code.user();
        let address = match user.email.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(EmailError::MissingAddress {
                    user_id: user.id.clone(),
                });
            }
            Some(address) => address,
        };
        let to: Address = address
            .parse()
            .map_err(
                |e: lettre::address::AddressError| EmailError::InvalidAddress {
                    user_id: user.id.clone(),
                    address: address.to_owned(),
                    reason: e.to_string(),
                },
            )?;
        let email = self.templates.render(code, secure, host)?;
        let locale = self.templates.locale_of(code);
        let subject: String = self
            .templates
            .subject(&locale, &self.subject)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            // `<random@this host>`: mail without a Message-ID is scored as spam.
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| EmailError::Message { source: e.into() })
    }

    async fn send(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), EmailError> {
        let message = self.message(code, secure, host)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await,
            Transport::File { dir, transport } => {
                let id = transport
                    .send(message)
                    .await
                    .map_err(|e| EmailError::File {
                        dir: dir.clone(),
                        source: e.into(),
                    })?;
                info!(file = %dir.join(format!("{id}.eml")).display(), "login e-mail written");
                Ok(())
            }
        }
    }
}

#[async_trait]
impl LoginCodeSender for EmailSender {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        let span = info_span!(
            "nopassword_email.send",
            user_id = %code.user().id,
            transport = self.transport.kind(),
            server = field::Empty,
        );
        if let Transport::Smtp(smtp) = &self.transport {
            span.record("server", field::display(&smtp.server));
        }
        async {
            match self.send(code, secure, host).await {
                Ok(()) => {
                    debug!("login e-mail sent");
                    Ok(())
                }
                Err(error) => {
                    // At debug: the service logs the failed send at warn with this error.
                    debug!(%error, "login e-mail not sent");
                    if error.is_unreachable_user() {
                        Err(SendError::unreachable_recipient(error))
                    } else {
                        Err(SendError::new(error))
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    fn channel(&self) -> &'static str {
        "email"
    }

    /// SMTP: connects (with TLS and AUTH as configured) and checks that the server answers
    /// `NOOP`, within the timeout, sending no mail. File transport: the directory exists and
    /// is writable (a probe file is created and removed).
    async fn health(&self) -> Result<(), SendError> {
        let result = match &self.transport {
            Transport::Smtp(smtp) => smtp.health().await,
            Transport::File { dir, .. } => probe_dir(dir).await,
        };
        result.map_err(SendError::new)
    }
}

/// Creates and removes a probe file in `dir` (on the blocking pool).
async fn probe_dir(dir: &std::path::Path) -> Result<(), EmailError> {
    let dir = dir.to_path_buf();
    let probe = dir.join(format!(".nopassword-health-{}", std::process::id()));
    let result = tokio::task::spawn_blocking(move || {
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    })
    .await
    .unwrap_or_else(|join| Err(std::io::Error::other(join)));
    result.map_err(|source| EmailError::File {
        dir,
        source: source.into(),
    })
}

#[derive(Clone)]
enum TransportChoice {
    Smtp(SecretString),
    File(PathBuf),
}

/// Builds an [`EmailSender`]; from [`EmailSender::builder`].
///
/// ```
/// use nopassword_core::Settings;
/// use nopassword_email::EmailSender;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let sender = EmailSender::builder(&Settings::default(), &Default::default())
///     .smtp_url("smtp://127.0.0.1:2525?tls=none")
///     .build()?;
/// # Ok::<_, nopassword_email::EmailError>(())
/// # }).unwrap();
/// ```
#[must_use]
pub struct EmailSenderBuilder {
    transport: Option<TransportChoice>,
    template_dir: Option<PathBuf>,
    from: String,
    subject: String,
    default_locale: nopassword_core::locale::Locale,
    timeout: Duration,
}

impl fmt::Debug for EmailSenderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.transport {
            None => "none".to_owned(),
            Some(TransportChoice::Smtp(_)) => "smtp [redacted URL]".to_owned(),
            Some(TransportChoice::File(dir)) => format!("file {}", dir.display()),
        };
        f.debug_struct("EmailSenderBuilder")
            .field("transport", &transport)
            .field("template_dir", &self.template_dir)
            .field("from", &self.from)
            .field("subject", &self.subject)
            .field("default_locale", &self.default_locale)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl EmailSenderBuilder {
    /// Sends over SMTP to this URL (see [`EmailSender::from_settings`] for the form),
    /// instead of the settings' `smtp_url` or a file transport chosen before.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let sender = nopassword_email::EmailSender::builder(&Default::default(), &Default::default())
    ///     .smtp_url("smtps://bob:hunter2@mail.example.com")
    ///     .build()?;
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// # }).unwrap();
    /// ```
    pub fn smtp_url(mut self, url: impl Into<SecretString>) -> Self {
        self.transport = Some(TransportChoice::Smtp(url.into()));
        self
    }

    /// Writes each message as `<uuid>.eml` into `dir` (created when building) instead of
    /// sending it: for development, or to hand mail to another program.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("nopassword-outbox");
    /// let sender = nopassword_email::EmailSender::builder(&Default::default(), &Default::default()).file_transport(&dir).build()?;
    /// assert!(dir.is_dir());
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn file_transport(mut self, dir: impl Into<PathBuf>) -> Self {
        self.transport = Some(TransportChoice::File(dir.into()));
        self
    }

    /// Reads template overrides from `dir` instead of the settings' `template_dir`.
    ///
    /// ```
    /// let dir = std::env::temp_dir();
    /// let builder = nopassword_email::EmailSender::builder(&Default::default(), &Default::default()).template_dir(&dir);
    /// ```
    pub fn template_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.template_dir = Some(dir.into());
        self
    }

    /// Bounds connecting to the SMTP server, and sending one message over it as a whole
    /// (greeting, `EHLO`, STARTTLS, `AUTH` and the message); default [`DEFAULT_TIMEOUT`].
    /// A slow server then fails the send with [`EmailError::Timeout`] instead of holding the
    /// request. A zero duration is taken as one millisecond.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = nopassword_email::EmailSender::builder(&Default::default(), &Default::default()).timeout(Duration::from_secs(30));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Checks everything and builds the sender: the transport (an SMTP URL, or a directory
    /// that can be created), `default_from_email`, and both templates, rendered once.
    ///
    /// Errors: [`EmailError::MissingSetting`] when no transport is chosen,
    /// [`EmailError::InvalidSmtpUrl`], [`EmailError::InvalidSetting`]
    /// (`default_from_email`, `template_dir`), [`EmailError::Template`] naming the file,
    /// [`EmailError::File`] when the outbox directory cannot be created. No connection is
    /// made: the SMTP pool connects at the first send.
    ///
    /// ```
    /// use nopassword_email::{EmailError, EmailSender};
    ///
    /// let err = EmailSender::builder(&Default::default(), &Default::default()).smtp_url("http://mail.example.com").build().unwrap_err();
    /// assert!(matches!(err, EmailError::InvalidSmtpUrl { .. }));
    /// ```
    pub fn build(self) -> Result<EmailSender, EmailError> {
        let from: Mailbox = self
            .from
            .trim()
            .parse()
            .map_err(|_| EmailError::InvalidSetting {
                key: "default_from_email",
                value: self.from.clone(),
                accepted: "an e-mail address, optionally with a name: `Name <login@example.com>`",
            })?;
        // Line breaks in a header would end it: the subject is one line.
        let subject: String = self
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let templates =
            LoginEmailTemplates::load_in(self.template_dir.as_deref(), &self.default_locale)?;
        let transport = match self.transport {
            None => return Err(EmailError::MissingSetting { key: "smtp_url" }),
            Some(TransportChoice::Smtp(url)) => Transport::Smtp(Box::new(SmtpSender::new(
                SmtpConfig::parse(&url)?,
                self.timeout,
            )?)),
            Some(TransportChoice::File(dir)) => {
                std::fs::create_dir_all(&dir).map_err(|e| EmailError::File {
                    dir: dir.clone(),
                    source: e.into(),
                })?;
                let transport = AsyncFileTransport::new(&dir);
                Transport::File { dir, transport }
            }
        };
        Ok(EmailSender {
            templates,
            from,
            subject,
            transport,
        })
    }
}

enum Transport {
    Smtp(Box<SmtpSender>),
    File {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
}

impl Transport {
    fn kind(&self) -> &'static str {
        match self {
            Self::Smtp(_) => "smtp",
            Self::File { .. } => "file",
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Smtp(smtp) => f
                .debug_struct("Smtp")
                .field("config", &smtp.config)
                .field("timeout", &smtp.timeout)
                .finish_non_exhaustive(),
            Self::File { dir, .. } => f.debug_struct("File").field("dir", dir).finish(),
        }
    }
}

/// The SMTP side: lettre's pooled transport, built at the first send (building one spawns
/// the pool's cleanup task, which needs the Tokio runtime), and replaced after a timeout so
/// that a connection abandoned mid-command is never reused.
struct SmtpSender {
    config: SmtpConfig,
    server: String,
    timeout: Duration,
    builder: AsyncSmtpTransportBuilder,
    transport: Mutex<Option<AsyncSmtpTransport<Tokio1Executor>>>,
}

impl SmtpSender {
    fn new(config: SmtpConfig, timeout: Duration) -> Result<Self, EmailError> {
        let server = config.server();
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port);
        #[cfg(feature = "rustls")]
        let builder = builder.tls(lettre_tls(&config)?);
        #[cfg(not(feature = "rustls"))]
        plain_only(&config)?;
        let mut builder = builder
            // lettre's async transport applies this to the TCP connect only; `send` bounds
            // the whole exchange.
            .timeout(Some(timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(10)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if let Some((user, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(Self {
            config,
            server,
            timeout,
            builder,
            transport: Mutex::new(None),
        })
    }

    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        let mut slot = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert_with(|| self.builder.clone().build())
            .clone()
    }

    async fn send(&self, message: Message) -> Result<(), EmailError> {
        let transport = self.transport();
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Ok(Ok(response)) => {
                debug!(code = %response.code(), "SMTP server accepted the message");
                Ok(())
            }
            Ok(Err(error)) => Err(self.classify(error)),
            Err(_elapsed) => {
                // The abandoned exchange may have left a pooled connection mid-command.
                let stale = self
                    .transport
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                drop(stale);
                Err(EmailError::Timeout {
                    server: self.server.clone(),
                    after: self.timeout,
                })
            }
        }
    }

    /// Connects (TLS and AUTH as configured) and checks the server answers `NOOP`, within the
    /// timeout; sends nothing.
    async fn health(&self) -> Result<(), EmailError> {
        let transport = self.transport();
        match tokio::time::timeout(self.timeout, transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(EmailError::Unreachable {
                server: self.server.clone(),
                source: "the server did not answer NOOP".into(),
            }),
            Ok(Err(error)) => Err(self.classify(error)),
            Err(_elapsed) => {
                let stale = self
                    .transport
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                drop(stale);
                Err(EmailError::Timeout {
                    server: self.server.clone(),
                    after: self.timeout,
                })
            }
        }
    }

    fn classify(&self, error: smtp::Error) -> EmailError {
        let server = self.server.clone();
        if let Some(code) = error.status() {
            let message = std::error::Error::source(&error)
                .map(ToString::to_string)
                .unwrap_or_default();
            EmailError::Rejected {
                server,
                code: code.into(),
                message,
            }
        } else if error.is_timeout() {
            EmailError::Timeout {
                server,
                after: self.timeout,
            }
        } else if self.config.tls == TlsMode::Required
            && error.is_client()
            && error.to_string().contains("STARTTLS")
        {
            // lettre reports a server without STARTTLS under required STARTTLS as an
            // "internal client error"; it is a TLS failure to whoever reads it (pinned by
            // tests), and the likely cause after an upgrade is the default for a host other
            // than the loopback.
            EmailError::Tls {
                server,
                source: Box::new(NoStartTls(error)),
            }
        } else if is_tls(&error) || caused_by_tls(&error) {
            EmailError::Tls {
                server,
                source: error.into(),
            }
        } else if error.is_client() || error.is_response() || error.is_transport_shutdown() {
            EmailError::Smtp {
                server,
                source: error.into(),
            }
        } else {
            // lettre's connection and network errors: refused, unresolvable, reset.
            EmailError::Unreachable {
                server,
                source: error.into(),
            }
        }
    }
}

/// lettre's `Tls` for the configured mode: `Required` and `Opportunistic` are STARTTLS,
/// `Wrapper` implicit TLS.
#[cfg(feature = "rustls")]
fn lettre_tls(config: &SmtpConfig) -> Result<Tls, EmailError> {
    let parameters = || {
        TlsParameters::new(config.host.clone()).map_err(|e| EmailError::Tls {
            server: config.server(),
            source: e.into(),
        })
    };
    Ok(match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::Opportunistic => Tls::Opportunistic(parameters()?),
        TlsMode::Required => Tls::Required(parameters()?),
        TlsMode::Implicit => Tls::Wrapper(parameters()?),
    })
}

/// Built without the `rustls` feature only `tls=none` is possible: a URL that asks for TLS
/// is refused when the sender is built, never downgraded.
#[cfg(not(feature = "rustls"))]
fn plain_only(config: &SmtpConfig) -> Result<(), EmailError> {
    match config.tls {
        TlsMode::None => Ok(()),
        _ => Err(EmailError::Tls {
            server: config.server(),
            source: "nopassword-email was built without its `rustls` feature: only \
                     `?tls=none` (a local relay) is available"
                .into(),
        }),
    }
}

/// The server offered no STARTTLS and the URL requires it: the message and the credentials
/// were not sent.
#[derive(Debug)]
struct NoStartTls(smtp::Error);

impl fmt::Display for NoStartTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the server does not offer STARTTLS, which smtp_url requires (`tls=required`, or \
             no `tls=` for a host other than localhost, 127.0.0.0/8 or ::1); neither the \
             message nor the credentials were sent. Add `?tls=opportunistic` or `?tls=none` \
             only for a relay reached over a trusted network",
        )
    }
}

impl std::error::Error for NoStartTls {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Whether rustls failed somewhere down the chain: lettre reports a failed handshake on
/// connect (implicit TLS, a bad certificate) as a connection error.
/// lettre's own "TLS error" kind (it has none without a TLS backend).
fn is_tls(error: &smtp::Error) -> bool {
    #[cfg(feature = "rustls")]
    return error.is_tls();
    #[cfg(not(feature = "rustls"))]
    {
        let _ = error;
        false
    }
}

#[cfg(not(feature = "rustls"))]
fn caused_by_tls(_: &(dyn std::error::Error + 'static)) -> bool {
    false
}

/// Whether rustls failed somewhere down the chain (see above).
#[cfg(feature = "rustls")]
fn caused_by_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && inner.is::<rustls::Error>()
        {
            return true;
        }
        next = e.source();
    }
    false
}

impl Drop for SmtpSender {
    fn drop(&mut self) {
        // Dropping lettre's pool spawns a task to close its connections, which panics outside
        // a Tokio runtime (a sender kept past the runtime's end). There is nothing to close
        // politely then: let the process's exit close the sockets.
        if tokio::runtime::Handle::try_current().is_err()
            && let Some(transport) = self
                .transport
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        {
            std::mem::forget(transport);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_smtp_password() {
        let email = EmailSettings {
            smtp_url: Some(
                "smtp://bob%40example.com:hunter2%21@mail.example.com:2525?tls=required".into(),
            ),
            ..EmailSettings::default()
        };
        let builder = EmailSender::builder(&Settings::default(), &email);
        let shown = format!("{builder:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let sender = builder.build().expect("valid");
        let shown = format!("{sender:?} {sender:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mail.example.com:2525"), "{shown}");
        assert!(shown.contains("bob@example.com"), "{shown}");
        assert!(shown.contains("required STARTTLS"), "{shown}");
    }

    fn lettre_tls_for(url: &str) -> Tls {
        lettre_tls(&SmtpConfig::parse(&SecretString::new(url)).expect("valid")).expect("tls")
    }

    #[test]
    fn another_host_gets_lettres_required_starttls() {
        for url in [
            "smtp://mail.example.com",
            "smtp://bob:hunter2@smtp.example.com:25",
            "smtp://192.0.2.2:2525",
            "smtp://[::ffff:127.0.0.1]:2525",
            "smtp://localhost?tls=required",
        ] {
            let tls = lettre_tls_for(url);
            assert!(matches!(tls, Tls::Required(_)), "{url}: {tls:?}");
        }
        let email = EmailSettings {
            smtp_url: Some("smtp://mail.example.com".into()),
            ..EmailSettings::default()
        };
        let sender = EmailSender::from_settings(&Settings::default(), &email).expect("valid");
        let shown = format!("{sender:?}");
        assert!(shown.contains("mail.example.com:25"), "{shown}");
        assert!(shown.contains("required STARTTLS"), "{shown}");
    }

    #[test]
    fn loopback_and_explicit_opt_outs_keep_their_modes() {
        for url in [
            "smtp://localhost",
            "smtp://127.0.0.1:2525",
            "smtp://[::1]:2525",
            "smtp://relay.example.com?tls=opportunistic",
        ] {
            let tls = lettre_tls_for(url);
            assert!(matches!(tls, Tls::Opportunistic(_)), "{url}: {tls:?}");
        }
        let tls = lettre_tls_for("smtp://relay.example.com?tls=none");
        assert!(matches!(tls, Tls::None), "{tls:?}");
        let tls = lettre_tls_for("smtps://mail.example.com");
        assert!(matches!(tls, Tls::Wrapper(_)), "{tls:?}");
    }

    #[test]
    fn subject_stays_on_one_line() {
        let email = EmailSettings {
            login_email_subject: "Login\r\nBcc: evil@example.com".into(),
            ..EmailSettings::default()
        };
        let dir =
            std::env::temp_dir().join(format!("nopassword-email-unit-{}", std::process::id()));
        let sender = EmailSender::builder(&Settings::default(), &email)
            .file_transport(&dir)
            .build()
            .expect("valid");
        assert_eq!(sender.subject, "Login  Bcc: evil@example.com");
        let _ = std::fs::remove_dir_all(dir);
    }
}
