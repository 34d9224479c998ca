//! [`SettingsError`]: why settings were refused.

use std::fmt;

/// Why settings were refused. Every variant names the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value is outside what the key accepts.
    #[error("invalid setting `{key}` = {value:?}: expected {accepted}")]
    Invalid {
        /// The settings key.
        key: &'static str,
        /// The refused value (never a secret's value).
        value: String,
        /// What the key accepts.
        accepted: String,
    },
    /// A required setting is missing.
    #[error("missing setting `{key}`: {hint}")]
    Missing {
        /// The settings key.
        key: &'static str,
        /// How to provide it.
        hint: &'static str,
    },
    /// A key in the settings sources (the TOML file, an app's figment) that no section in use
    /// reads: a typo, or the key of a crate the app does not use.
    #[error("unknown setting `{key}` in {origin}: {}", match suggestion {
        Some(near) => format!("did you mean `{near}`?"),
        None => "no crate in use reads it".to_owned(),
    })]
    Unknown {
        /// The key as written.
        key: String,
        /// Where it was found (`TOML file /srv/app/nopassword.toml`).
        origin: String,
        /// A key in use that is spelled almost the same.
        suggestion: Option<&'static str>,
    },
    /// A `NOPASSWORD_*` environment variable that is not a key of any section in use and that
    /// the app did not declare as its own ([`Config::allow_env`](super::Config::allow_env)):
    /// a typo such as `NOPASSWORD_LOGIN_CODE_TIMOUT` would otherwise be ignored.
    #[error("unknown environment variable `{variable}`: {}", match suggestion {
        Some(near) => format!("did you mean `{near}`?"),
        None => "no crate in use reads it (declare an app's own variables with Config::allow_env)".to_owned(),
    })]
    UnknownEnv {
        /// The variable as set.
        variable: String,
        /// A variable in use that is spelled almost the same.
        suggestion: Option<String>,
    },
    /// The settings file named by `NOPASSWORD_CONFIG` does not exist (without the variable, a
    /// missing `nopassword.toml` is fine: every key keeps its default).
    #[error("the settings file {path} named by {variable} does not exist")]
    MissingFile {
        /// The path as named.
        path: std::path::PathBuf,
        /// The variable that named it.
        variable: &'static str,
    },
    /// The TOML file or an environment variable could not be read or parsed.
    #[cfg(feature = "config")]
    #[error("could not load settings: {0}")]
    Load(#[from] Box<figment::Error>),
}

impl SettingsError {
    /// An [`Invalid`](Self::Invalid) error: `key` refused `value`, which should have been
    /// `accepted`. For a secret, pass `"[redacted]"` as the value.
    ///
    /// ```
    /// use nopassword_core::SettingsError;
    ///
    /// let err = SettingsError::invalid("fax_baud", 7, "a rate from 300 to 14400");
    /// assert_eq!(err.to_string(), "invalid setting `fax_baud` = \"7\": expected a rate from 300 to 14400");
    /// ```
    pub fn invalid(
        key: &'static str,
        value: impl fmt::Display,
        accepted: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            key,
            value: value.to_string(),
            accepted: accepted.into(),
        }
    }
}
