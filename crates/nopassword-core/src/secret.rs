//! Types for values that must never reach a log: keys, tokens and plaintext codes.

use std::fmt;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

/// A secret string (a key or an API token).
///
/// It has no `Display`, its `Debug` prints `[redacted]`, and it compares in constant time.
///
/// ```
/// use nopassword_core::secret::SecretString;
///
/// let token = SecretString::new("hunter2-hunter2");
/// assert_eq!(format!("{token:?}"), "[redacted]");
/// assert_eq!(token.expose(), "hunter2-hunter2");
/// ```
#[derive(Clone, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call this only where the value is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretString {}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// The plaintext of a login code, as handed to a sender.
///
/// It exists only in the [`LoginCode`](crate::code::LoginCode) given to
/// [`LoginCodeSender::send_login_code`](crate::LoginCodeSender::send_login_code); the store only
/// ever sees its keyed hash. `Debug` prints `[redacted]` and there is no `Display`.
///
/// ```
/// use nopassword_core::secret::PlaintextCode;
///
/// let code = PlaintextCode::new("0123456789");
/// assert_eq!(format!("{code:?}"), "[redacted]");
/// assert_eq!(code.expose(), "0123456789");
/// ```
#[derive(Clone)]
pub struct PlaintextCode(String);

impl PartialEq for PlaintextCode {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for PlaintextCode {}

impl PlaintextCode {
    /// Wraps a code (used by the generator, and by tests).
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// The code's characters, for the message that delivers it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlaintextCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
