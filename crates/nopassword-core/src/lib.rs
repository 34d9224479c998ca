//! Passwordless login codes for Rust web apps: the core of nopassword-rs.
//!
//! A user asks for a login code; the [`NoPassword`] service looks them up in your
//! [`UserDirectory`], stores only a keyed hash of a fresh code in a [`CodeStore`] for
//! `login_code_timeout` seconds, bound to the flow of the client that asked, and hands the code
//! and its login URL to a [`LoginCodeSender`]. Following the link calls
//! [`NoPassword::open_link`] and [`NoPassword::login_with_link`]; typing the code in the flow
//! that asked calls [`NoPassword::authenticate`]. Each code logs in exactly once.
//!
//! This crate has no web framework, Redis client or mailer in its dependencies: library authors
//! depend on it alone. `nopassword-axum` and `nopassword-actix` mount the HTTP routes,
//! `nopassword-store` adds Redis, `nopassword-email` and `nopassword-twilio` deliver codes.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use nopassword_core::{NoPassword, Outbox, Settings, service::{CodeAttempt, LoginRequest}, user::{MemoryDirectory, User}};
//!
//! let settings = Settings {
//!     secret_key: Some("use-at-least-32-random-bytes-here!!".into()),
//!     ..Settings::default()
//! };
//! let users = MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]);
//! let outbox = Outbox::new(10).quiet(); // a development sender
//! let service = NoPassword::builder(settings, users).sender(outbox.clone()).build()?;
//!
//! // POST login/ with username=alice: a code goes out, bound to the flow of the client that
//! // asked (the adapters keep it in a cookie)...
//! let started = service.request_login(LoginRequest { username: "alice", host: Some("localhost:8000"), ..Default::default() }).await?;
//! let flow = started.flow.expose();
//! let mail = outbox.latest_for("alice").expect("sent");
//! assert!(mail.url.starts_with("http://localhost:8000/accounts/login-code/alice/"));
//!
//! // ...and typing the code in that flow logs alice in, once.
//! let attempt = CodeAttempt { username: Some("alice"), code: mail.code.expose(), flow: Some(&flow), ..Default::default() };
//! let login = service.authenticate(attempt).await?.expect("valid");
//! assert_eq!((login.user.username.as_str(), login.next.as_str()), ("alice", "/"));
//! assert!(service.authenticate(attempt).await?.is_none());
//!
//! // Without the flow, even the right code is refused.
//! service.request_login(LoginRequest { username: "alice", ..Default::default() }).await?;
//! let mail = outbox.latest_for("alice").expect("sent");
//! let stranger = CodeAttempt { username: Some("alice"), code: mail.code.expose(), ..Default::default() };
//! assert!(service.authenticate(stranger).await?.is_none());
//! # Ok::<_, nopassword_core::Error>(())
//! # }).unwrap();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
pub mod code;
pub mod device;
pub mod dispatch;
pub mod error;
pub mod flow;
pub mod forms;
pub mod hashing;
pub mod health;
pub mod http;
#[cfg(feature = "i18n")]
pub mod i18n;
pub mod locale;
mod memory;
pub mod metrics;
pub mod pages;
pub mod redirect;
pub mod secret;
pub mod sender;
pub mod service;
pub mod settings;
pub mod store;
#[cfg(feature = "templates")]
pub mod templates;
pub mod user;

// The root: the traits, the service and its builder, settings, errors, the memory store and
// the outbox. Everything else is in its module (`code::LoginCode`, `user::User`, ...).
pub use clock::Clock;
pub use dispatch::Dispatch;
pub use error::Error;
pub use hashing::CodeRng;
pub use memory::MemoryStore;
pub use sender::{LoginCodeSender, Outbox, SendError};
pub use service::{NoPassword, NoPasswordBuilder};
pub use settings::{Settings, SettingsError};
pub use store::{CodeStore, StoreError};
pub use user::{LoginUser, UserDirectory};

// Re-exported so implementors of the traits use the same macro version.
pub use async_trait::async_trait;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "config"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
