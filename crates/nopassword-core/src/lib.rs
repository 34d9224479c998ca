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
//! use nopassword_core::{CodeAttempt, LoginRequest, MemoryDirectory, NoPassword, Outbox, Settings, User};
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

mod clock;
mod code;
mod dispatch;
mod error;
mod flow;
pub mod forms;
mod hashing;
pub mod http;
mod memory;
pub mod pages;
mod redirect;
mod secret;
mod sender;
mod service;
pub mod settings;
mod store;
#[cfg(feature = "templates")]
pub mod templates;
mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use code::{
    CodeGenerator, LINK_SECRET_LEN, LoginCode, Recipient, UrlConfig, duration_in_words,
    encode_username,
};
pub use dispatch::{BackgroundTask, Dispatch, Dispatcher, Reservation};
pub use error::{BoxError, Error};
pub use flow::{FLOW_CODES, FLOW_ID_LEN, FLOW_TOKEN_LEN, FlowToken};
pub use hashing::{CodeHasher, CodeKey, CodeRng, HashedCode, KEY_LEN, SeededRng, SystemRng};
pub use memory::MemoryStore;
pub use redirect::{MAX_NEXT_LENGTH, safe_next};
pub use secret::{PlaintextCode, SecretString};
pub use sender::{
    AllSenders, LoginCodeSender, NoSenders, NullSender, Outbox, OutboxMessage, SendError,
};
pub use service::{
    Builder, CodeAttempt, LinkAction, LinkLogin, Login, LoginRequest, LoginStarted, NoPassword,
};
pub use settings::{CrossDeviceLinks, HashAlgorithm, Settings, SettingsError, is_valid_namespace};
pub use store::{CodeRecord, CodeStore, RecordError, StoreError, StoredCode};
pub use user::{LoginUser, MemoryDirectory, User, UserDirectory};

// Re-exported so implementors of the traits use the same macro version.
pub use async_trait::async_trait;
