//! [`EmailSettings`]: the keys nopassword-email reads.

use nopassword_core::{
    SettingsError,
    secret::SecretString,
    settings::{Key, Section, text},
};
use serde::Deserialize;

/// The e-mail sender's settings, beside core's [`Settings`](nopassword_core::Settings) in
/// `nopassword.toml` and `NOPASSWORD_*` variables. `template_dir` is core's.
///
/// ```
/// # fn main() -> Result<(), nopassword_core::SettingsError> {
/// use nopassword_core::{Settings, settings::Config};
/// use nopassword_email::EmailSettings;
///
/// let email = EmailSettings::default();
/// assert_eq!(email.login_email_subject, "Login code");
/// assert_eq!(email.default_from_email, "root@example.com");
/// assert!(email.smtp_url.is_none());
///
/// // At start-up, from nopassword.toml and NOPASSWORD_*, with every other crate's section:
/// let mut config = Config::load();
/// let settings: Settings = config.section()?;
/// let email: EmailSettings = config.section()?;
/// config.finish()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    /// Subject of the login e-mail. Default `"Login code"`.
    #[serde(deserialize_with = "text::string")]
    pub login_email_subject: String,
    /// Sender of login e-mails. Default `"root@example.com"`.
    #[serde(deserialize_with = "text::string")]
    pub default_from_email: String,
    /// SMTP URL (a secret: it may hold a password); unset means no SMTP sender (the demo uses
    /// the development outbox then). See [`EmailSender::from_settings`](crate::EmailSender::from_settings).
    #[serde(deserialize_with = "text::opt_secret")]
    pub smtp_url: Option<SecretString>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            login_email_subject: "Login code".into(),
            default_from_email: "root@example.com".into(),
            smtp_url: None,
        }
    }
}

impl Section for EmailSettings {
    const OWNER: &'static str = "nopassword-email";

    const KEYS: &'static [Key] = &[
        Key::text("login_email_subject"),
        Key::text("default_from_email"),
        Key::text("smtp_url"),
    ];

    /// Nothing to check here: [`EmailSenderBuilder::build`](crate::EmailSenderBuilder::build)
    /// checks the URL and the sender address when the sender is built.
    fn validate(self) -> Result<Self, SettingsError> {
        Ok(self)
    }
}

// That `KEYS` names exactly the fields is checked for every shipped section at once, beside
// docs/SETTINGS.md, in examples/demo-common/tests/settings_keys.rs.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let email = EmailSettings {
            smtp_url: Some("smtp://bob:hunter2@mail.example.com".into()),
            ..EmailSettings::default()
        };
        assert!(!format!("{email:?}").contains("hunter2"));
    }
}
