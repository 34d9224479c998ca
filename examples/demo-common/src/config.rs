//! What the demo reads from its environment, and its users.

use std::{net::SocketAddr, path::Path};

use figment::{
    Figment,
    providers::{Format, Toml},
};
use nopassword_core::{
    CodeRng, Settings, hashing::SystemRng, secret::SecretString, settings::Config, user::User,
};
use nopassword_email::EmailSettings;
use nopassword_sqlx::DatabaseSettings;
use nopassword_store::RedisSettings;
use nopassword_twilio::TwilioSettings;
use serde::Deserialize;

use crate::DemoError;

/// The settings of every nopassword crate the demo uses, each crate's own section, read from
/// one [`Config`] so that a key none of them reads stops the demo at start-up.
///
/// A core [`Settings`] converts into it with the other sections at their defaults (no SMTP, no
/// Twilio, no Redis).
///
/// ```
/// use demo_common::DemoSettings;
/// use nopassword_core::Settings;
///
/// let settings = DemoSettings::from(Settings { code_length: 8, numeric_codes: true, ..Settings::default() });
/// assert_eq!(settings.core.code_length, 8);
/// assert!(settings.email.smtp_url.is_none() && settings.redis.redis_url.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct DemoSettings {
    /// nopassword-core's settings.
    pub core: Settings,
    /// nopassword-email's: `smtp_url` switches real mail on.
    pub email: EmailSettings,
    /// nopassword-twilio's: `twilio_sid` switches SMS on.
    pub twilio: TwilioSettings,
    /// nopassword-store's: `redis_url` switches the Redis store and sessions on.
    pub redis: RedisSettings,
    /// nopassword-sqlx's: `database_url` switches codes, users and sessions to PostgreSQL.
    pub database: DatabaseSettings,
}

impl From<Settings> for DemoSettings {
    fn from(core: Settings) -> Self {
        Self {
            core,
            ..Self::default()
        }
    }
}

impl DemoSettings {
    /// Every section from `nopassword.toml` (or the file `NOPASSWORD_CONFIG` names) and
    /// `NOPASSWORD_*` variables; a key of the file that none of the five crates reads is
    /// refused.
    pub fn load() -> Result<Self, DemoError> {
        Self::from_config(Config::load().allow_env(DEMO_ENV))
    }

    /// Every section from `config`, which then must hold no other key.
    ///
    /// ```
    /// use demo_common::DemoSettings;
    /// use figment::{Figment, providers::{Format, Toml}};
    /// use nopassword_core::settings::Config;
    ///
    /// let toml = Toml::string("code_length = 8\nnumeric_codes = true\nsmtp_url = \"smtp://127.0.0.1:2525\"");
    /// let settings = DemoSettings::from_config(Config::from_figment(Figment::from(toml))).unwrap();
    /// assert!(settings.email.smtp_url.is_some());
    ///
    /// let typo = Config::from_figment(Figment::from(Toml::string("smtp_ulr = \"smtp://x\"")));
    /// let err = DemoSettings::from_config(typo).unwrap_err().to_string();
    /// assert!(err.contains("`smtp_ulr`") && err.contains("did you mean `smtp_url`?"), "{err}");
    /// ```
    pub fn from_config(mut config: Config) -> Result<Self, DemoError> {
        let settings = Self {
            core: config.section()?,
            email: config.section()?,
            twilio: config.section()?,
            redis: config.section()?,
            database: config.section()?,
        };
        config.finish()?;
        Ok(settings)
    }
}

/// The demo's own `NOPASSWORD_*` variables, which are not settings keys.
pub(crate) const DEMO_ENV: &[&str] = &["NOPASSWORD_BIND", "NOPASSWORD_USERS_FILE"];

/// What the demo reads from its environment.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// nopassword settings (`nopassword.toml`, `NOPASSWORD_*`), with a generated `secret_key`
    /// when none was given.
    pub settings: DemoSettings,
    /// `NOPASSWORD_BIND`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// `NOPASSWORD_USERS_FILE` (`[[users]]` with username, email, phone, active), or the
    /// built-in demo users.
    pub users: Vec<User>,
}

impl DemoConfig {
    /// Reads the settings and the demo's own variables.
    pub fn from_env() -> Result<Self, DemoError> {
        let mut settings = DemoSettings::load()?;
        if settings.core.secret_key.is_none() {
            let mut key = [0u8; 32];
            SystemRng.fill_bytes(&mut key);
            let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
            tracing::warn!(
                "NOPASSWORD_SECRET_KEY is not set: generated a key for this run; \
                 codes and sessions end when the demo stops"
            );
            settings.core.secret_key = Some(SecretString::new(key));
        }
        let bind = std::env::var("NOPASSWORD_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
        let bind = bind.parse().map_err(|_| DemoError::Bind(bind))?;
        let users = match std::env::var_os("NOPASSWORD_USERS_FILE") {
            Some(path) => read_users(Path::new(&path))?,
            None => demo_users(),
        };
        Ok(Self {
            settings,
            bind,
            users,
        })
    }
}

/// The built-in users: alice (e-mail and phone), bob (e-mail), carol (an address as username),
/// and dave, who is inactive and so never gets a code.
pub fn demo_users() -> Vec<User> {
    vec![
        User::new("1", "alice")
            .with_email("alice@example.com")
            .with_phone("+15005550006"),
        User::new("2", "bob").with_email("bob@example.com"),
        User::new("3", "carol+test@example.com").with_email("carol+test@example.com"),
        User::new("4", "dave")
            .with_email("dave@example.com")
            .inactive(),
    ]
}

#[derive(Debug, Deserialize)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
struct UserEntry {
    #[serde(default)]
    id: Option<String>,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    /// The user's language (`LoginUser::locale`), such as `"es"`.
    #[serde(default)]
    locale: Option<nopassword_core::locale::Locale>,
}

fn yes() -> bool {
    true
}

/// Reads a users file: `[[users]]` tables with `username`, optional `id` (default: the entry's
/// position, from 1), `email`, `phone`, `active` (default true) and `locale` (a language tag).
pub fn read_users(path: &Path) -> Result<Vec<User>, DemoError> {
    let file: UsersFile = Figment::from(Toml::file_exact(path))
        .extract()
        .map_err(Box::new)?;
    Ok(file
        .users
        .into_iter()
        .enumerate()
        .map(|(i, u)| User {
            id: u.id.unwrap_or_else(|| (i + 1).to_string()),
            username: u.username,
            email: u.email,
            phone: u.phone,
            active: u.active,
            locale: u.locale,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_file_gives_ids_by_position_and_active_by_default() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("users.toml");
        std::fs::write(
            &path,
            r#"
            [[users]]
            username = "erin"
            email = "erin@example.com"

            [[users]]
            id = "x7"
            username = "frank"
            phone = "+15005550009"
            active = false
            "#,
        )
        .expect("write the users file");
        let users = read_users(&path).expect("the file reads");
        assert_eq!(users.len(), 2);
        assert_eq!((users[0].id.as_str(), users[0].active), ("1", true));
        assert_eq!(users[0].email.as_deref(), Some("erin@example.com"));
        assert_eq!((users[1].id.as_str(), users[1].active), ("x7", false));
        assert_eq!(users[1].phone.as_deref(), Some("+15005550009"));
    }

    #[test]
    fn a_missing_users_file_is_an_error_naming_it() {
        let error = read_users(Path::new("/nonexistent/users.toml")).expect_err("no such file");
        assert!(error.to_string().contains("users file"), "{error}");
    }
}
