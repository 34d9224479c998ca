//! [`RedisSettings`]: the key nopassword-store reads.

use nopassword_core::{
    SettingsError,
    secret::SecretString,
    settings::{Key, Section, text},
};
use serde::Deserialize;

/// The Redis store's settings, beside core's [`Settings`](nopassword_core::Settings) in
/// `nopassword.toml` and `NOPASSWORD_*` variables. The key prefix is core's `namespace`.
///
/// ```
/// # fn main() -> Result<(), nopassword_core::SettingsError> {
/// use nopassword_core::{Settings, settings::Config};
/// use nopassword_store::RedisSettings;
///
/// assert!(RedisSettings::default().redis_url.is_none());
///
/// // At start-up, from nopassword.toml and NOPASSWORD_*, with every other crate's section:
/// let mut config = Config::load();
/// let settings: Settings = config.section()?;
/// let redis: RedisSettings = config.section()?;
/// config.finish()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// Redis URL (`redis://`, `rediss://`; several comma-separated node URLs mean a cluster);
    /// unset means the in-memory store. A secret: it may hold a password.
    #[serde(deserialize_with = "text::opt_secret")]
    pub redis_url: Option<SecretString>,
}

impl Section for RedisSettings {
    const OWNER: &'static str = "nopassword-store";

    const KEYS: &'static [Key] = &[Key::text("redis_url")];

    /// Nothing to check here: connecting checks the URLs.
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
    fn the_url_is_redacted() {
        let redis = RedisSettings {
            redis_url: Some("redis://:hunter2@127.0.0.1/".into()),
        };
        assert!(!format!("{redis:?}").contains("hunter2"));
    }
}
