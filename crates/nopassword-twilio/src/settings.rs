//! [`TwilioSettings`]: the keys nopassword-twilio reads.

use nopassword_core::{
    SettingsError,
    secret::SecretString,
    settings::{Key, Section, text},
};
use serde::Deserialize;

/// Twilio's API, where [`TwilioSettings::default`] points `twilio_api_base`.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// The SMS sender's settings, beside core's [`Settings`](nopassword_core::Settings) in
/// `nopassword.toml` and `NOPASSWORD_*` variables. `template_dir` is core's.
///
/// ```
/// # fn main() -> Result<(), nopassword_core::SettingsError> {
/// use nopassword_core::{Settings, settings::Config};
/// use nopassword_twilio::TwilioSettings;
///
/// let twilio = TwilioSettings::default();
/// assert_eq!(twilio.twilio_api_base, "https://api.twilio.com");
/// assert!(twilio.twilio_sid.is_none());
///
/// // At start-up, from nopassword.toml and NOPASSWORD_*, with every other crate's section:
/// let mut config = Config::load();
/// let settings: Settings = config.section()?;
/// let twilio: TwilioSettings = config.section()?;
/// config.finish()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TwilioSettings {
    /// Twilio account SID.
    #[serde(deserialize_with = "text::opt_string")]
    pub twilio_sid: Option<String>,
    /// Twilio auth token (a secret).
    #[serde(deserialize_with = "text::opt_secret")]
    pub twilio_auth_token: Option<SecretString>,
    /// Sender number for SMS, E.164.
    #[serde(deserialize_with = "text::opt_string")]
    pub default_from_number: Option<String>,
    /// Where Twilio's API is reached. Default `"https://api.twilio.com"`.
    #[serde(deserialize_with = "text::string")]
    pub twilio_api_base: String,
}

impl Default for TwilioSettings {
    fn default() -> Self {
        Self {
            twilio_sid: None,
            twilio_auth_token: None,
            default_from_number: None,
            twilio_api_base: DEFAULT_API_BASE.into(),
        }
    }
}

impl Section for TwilioSettings {
    const OWNER: &'static str = "nopassword-twilio";

    const KEYS: &'static [Key] = &[
        Key::text("twilio_sid"),
        Key::text("twilio_auth_token"),
        Key::text("default_from_number"),
        Key::text("twilio_api_base"),
    ];

    /// `twilio_api_base` must be an `http://` or `https://` URL; the rest is checked when the
    /// sender is built ([`TwilioSenderBuilder::build`](crate::TwilioSenderBuilder::build)).
    ///
    /// ```
    /// use nopassword_core::settings::Section;
    /// use nopassword_twilio::TwilioSettings;
    ///
    /// let twilio = TwilioSettings { twilio_api_base: "ftp://x".into(), ..TwilioSettings::default() };
    /// let err = twilio.validate().unwrap_err().to_string();
    /// assert!(err.contains("twilio_api_base") && err.contains("an http:// or https:// URL"));
    /// ```
    fn validate(self) -> Result<Self, SettingsError> {
        if !(self.twilio_api_base.starts_with("https://")
            || self.twilio_api_base.starts_with("http://"))
        {
            return Err(SettingsError::invalid(
                "twilio_api_base",
                &self.twilio_api_base,
                "an http:// or https:// URL",
            ));
        }
        Ok(self)
    }
}

// That `KEYS` names exactly the fields is checked for every shipped section at once, beside
// docs/SETTINGS.md, in examples/demo-common/tests/settings_keys.rs.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_the_token_is_redacted() {
        let twilio = TwilioSettings {
            twilio_auth_token: Some("abc123abc123".into()),
            ..TwilioSettings::default()
        }
        .validate()
        .expect("valid");
        assert!(!format!("{twilio:?}").contains("abc123"));
    }
}
