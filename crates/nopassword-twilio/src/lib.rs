//! Login codes by SMS through Twilio's Messages API, for nopassword-rs: the original
//! django-nopassword's `TwilioBackend`, on reqwest with rustls.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nopassword_core::{NoPassword, Settings, user::{MemoryDirectory, User}};
//! use nopassword_twilio::{TwilioSender, TwilioSettings};
//!
//! let settings = Settings {
//!     secret_key: Some("use-at-least-32-random-bytes-here!!".into()),
//!     ..Settings::default()
//! };
//! // Usually from nopassword.toml or NOPASSWORD_TWILIO_SID, NOPASSWORD_TWILIO_AUTH_TOKEN,
//! // NOPASSWORD_DEFAULT_FROM_NUMBER (and NOPASSWORD_TWILIO_API_BASE for a local mock), through
//! // `nopassword_core::settings::Config`.
//! let twilio = TwilioSettings {
//!     twilio_sid: Some("AC00000000000000000000000000000000".into()),
//!     twilio_auth_token: Some("your-auth-token".into()),
//!     default_from_number: Some("+15005550006".into()),
//!     ..TwilioSettings::default()
//! };
//! let sms = TwilioSender::from_settings(&settings, &twilio)?;
//! let users = MemoryDirectory::new([User::new("1", "alice").with_phone("+14155550100")]);
//! let service = NoPassword::builder(settings, users).sender(sms).build()?;
//! // service.request_login(..) now texts alice her code and login link.
//! # drop(service);
//! # Ok(())
//! # }
//! ```
//!
//! - **Settings**: [`TwilioSettings`], this crate's section (`twilio_sid`, `twilio_auth_token`,
//!   `default_from_number`, `twilio_api_base`), and core's `template_dir`.
//! - **Request**: `POST {twilio_api_base}/2010-04-01/Accounts/{twilio_sid}/Messages.json`, HTTP
//!   Basic auth (SID, auth token), form fields `To` (the user's phone), `From`
//!   (`default_from_number`) and `Body`.
//! - **Text**: rendered from the template `login_sms.txt` ([`DEFAULT_SMS_TEMPLATE`]) with
//!   `url`, `code`, `username`, `site` (the link's host), `expires_in` (like "15 minutes") and
//!   `expires_in_seconds`, the same context as nopassword-email's templates; a file of that
//!   name in `template_dir` replaces it. It is loaded and rendered once when the sender is
//!   built, so a broken template stops start-up with an error naming the file.
//! - **Checks before sending**: a user without a phone number gets
//!   [`TwilioError::NoPhoneNumber`] at once (so a sender that tries e-mail and SMS goes on);
//!   numbers that are not E.164 ([`is_e164`]) never leave the process.
//! - **Failures**: Twilio's error answers become [`TwilioError::Api`] with Twilio's code and
//!   the HTTP status; 429 and 5xx are retried as the [`RetryPolicy`] says (3 times by default,
//!   exponential backoff, `Retry-After` honoured up to a cap); other 4xx are final.
//! - **Secrets**: the auth token is a [`SecretString`](nopassword_core::secret::SecretString); it is
//!   in no error, no `Debug` output and no log event. Logs carry the user id and Twilio's
//!   message SID, never the text or the code.
//!
//! # Features
//!
//! - `rustls` (default): HTTPS through rustls with Mozilla's root certificates compiled in.
//!   reqwest uses the process-wide rustls provider when the application installed one, else
//!   ring for this client alone; nothing is installed process-wide.
//! - `rustls-native-roots`: the same, trusting the system's root certificates.
//!
//! Without either, an `https://` `twilio_api_base` (Twilio's own) is refused when the sender
//! is built ([`TwilioError::InvalidSetting`]); `http://` (a local mock) still works.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod phone;
mod retry;
mod sender;
mod settings;
mod template;

pub use error::TwilioError;
pub use phone::is_e164;
pub use retry::RetryPolicy;
pub use sender::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, SentMessage, TwilioSender,
    TwilioSenderBuilder,
};
pub use settings::{DEFAULT_API_BASE, TwilioSettings};
pub use template::{DEFAULT_SMS_TEMPLATE, SMS_TEMPLATE};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
