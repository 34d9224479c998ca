//! [`DatabaseSettings`]: the key nopassword-sqlx reads.

use nopassword_core::{
    SettingsError,
    secret::SecretString,
    settings::{Key, Section, text},
};
use serde::Deserialize;

/// The PostgreSQL store's settings, beside core's [`Settings`](nopassword_core::Settings) in
/// `nopassword.toml` and `NOPASSWORD_*` variables.
///
/// ```
/// # fn main() -> Result<(), nopassword_core::SettingsError> {
/// use nopassword_core::{Settings, settings::Config};
/// use nopassword_sqlx::DatabaseSettings;
///
/// assert!(DatabaseSettings::default().database_url.is_none());
///
/// // At start-up, from nopassword.toml and NOPASSWORD_*, with every other crate's section:
/// let mut config = Config::load();
/// let settings: Settings = config.section()?;
/// let database: DatabaseSettings = config.section()?;
/// config.finish()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// PostgreSQL URL (`postgres://user:password@host:5432/db?sslmode=require`); unset means
    /// the in-memory store. A secret: it may hold a password.
    #[serde(deserialize_with = "text::opt_secret")]
    pub database_url: Option<SecretString>,
}

impl Section for DatabaseSettings {
    const OWNER: &'static str = "nopassword-sqlx";

    const KEYS: &'static [Key] = &[Key::text("database_url")];

    /// Nothing to check here: connecting checks the URL.
    fn validate(self) -> Result<Self, SettingsError> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_redacted() {
        let database = DatabaseSettings {
            database_url: Some("postgres://app:hunter2@127.0.0.1/app".into()),
        };
        assert!(!format!("{database:?}").contains("hunter2"));
    }
}
