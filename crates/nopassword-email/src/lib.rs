//! Login codes by e-mail for nopassword-rs: the original's `EmailBackend`, over
//! [lettre](https://docs.rs/lettre).
//!
//! [`EmailSender`] implements [`LoginCodeSender`](nopassword_core::LoginCodeSender): it mails
//! each login code to the user's e-mail address as a `multipart/alternative` message with a
//! plain-text and an HTML part, both rendered from templates (`login_email.txt`,
//! `login_email.html`) that an app can override from a directory. It sends over SMTP (pooled,
//! STARTTLS or implicit TLS through rustls) or, in development, writes `.eml` files. SMTP to a
//! host other than the loopback requires TLS unless `smtp_url` asks for plain text
//! (`?tls=opportunistic` or `?tls=none`).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use nopassword_core::{NoPassword, Settings, service::LoginRequest, user::{MemoryDirectory, User}};
//! use nopassword_email::{EmailSender, EmailSettings};
//!
//! let settings = Settings {
//!     secret_key: Some("use-at-least-32-random-bytes-here!!".into()),
//!     ..Settings::default()
//! };
//! // In production: smtp_url = "smtp://user:password@mail.example.com:587?tls=required",
//! // then `EmailSender::from_settings(&settings, &email)?`.
//! let email = EmailSettings::default();
//! let outbox = tempfile::tempdir()?;
//! let sender = EmailSender::builder(&settings, &email).file_transport(outbox.path()).build()?;
//!
//! let users = MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]);
//! let service = NoPassword::builder(settings, users).sender(sender).build()?;
//! service.request_login(LoginRequest { username: "alice", host: Some("localhost:8000"), ..Default::default() }).await?;
//!
//! let mail = std::fs::read_dir(outbox.path())?.next().expect("one .eml file")?.path();
//! let mail = std::fs::read_to_string(mail)?;
//! assert!(mail.contains("To: alice@example.com"));
//! assert!(mail.contains("multipart/alternative"));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Configuration: [`EmailSettings`], this crate's settings section: `smtp_url` (see
//! [`EmailSender::from_settings`] for the URL forms and TLS modes), `default_from_email`,
//! `login_email_subject`; and core's `template_dir` (see [`LoginEmailTemplates`] for the
//! templates' variables). Every error is an [`EmailError`].
//!
//! # Features
//!
//! - `rustls` (default): STARTTLS and implicit TLS through rustls, with the ring provider
//!   chosen for lettre's own connections (nothing is installed process-wide) and Mozilla's
//!   root certificates compiled in. Without it the crate has no TLS code at all: only
//!   `?tls=none` (a local relay) and `.eml` files work, and an `smtp_url` that asks for TLS
//!   (including the default for a host other than the loopback) fails when the sender is
//!   built with [`EmailError::Tls`], never downgraded to plain text.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod sender;
mod settings;
mod smtp_url;
mod templates;

pub use error::EmailError;
pub use sender::{DEFAULT_TIMEOUT, EmailSender, EmailSenderBuilder};
pub use settings::EmailSettings;
pub use templates::{
    DEFAULT_HTML_TEMPLATE, DEFAULT_TEXT_TEMPLATE, HTML_TEMPLATE, LoginEmail, LoginEmailTemplates,
    TEXT_TEMPLATE,
};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
