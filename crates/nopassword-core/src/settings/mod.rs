//! Settings: every key of the original django-nopassword, each read by the crate that uses it,
//! loaded by figment from defaults, an optional TOML file and `NOPASSWORD_*` environment
//! variables.
//!
//! Core's keys are [`Settings`]; `nopassword-email`, `nopassword-twilio` and `nopassword-store`
//! each own a [`Section`] of their own (`EmailSettings`, `TwilioSettings`, `RedisSettings`), and
//! so can any other crate. An app reads them all from one [`Config`] (feature `config`, on by
//! default), which refuses at start-up any key that none of the crates in use reads:
//!
//! ```
//! # figment::Jail::expect_with(|jail| {
//! use nopassword_core::{Settings, settings::Config};
//!
//! jail.create_file("nopassword.toml", "code_length = 8\nnumeric_codes = true")?;
//! let mut config = Config::load(); // nopassword.toml, then NOPASSWORD_*
//! let settings: Settings = config.section().unwrap();
//! // let email: nopassword_email::EmailSettings = config.section()?; ...
//! config.finish().unwrap(); // every key of the file was read by some crate
//! assert_eq!(settings.code_length, 8);
//! # Ok(())
//! # });
//! ```
//!
//! Without the `config` feature, core compiles without figment: [`Settings`] and the sections
//! still deserialize with serde and check themselves with [`Section::validate`].

#[cfg(feature = "config")]
mod config;
mod error;
mod section;
pub mod text;
mod values;

use std::{net::IpAddr, path::PathBuf, time::Duration};

#[cfg(feature = "config")]
use figment::Figment;
use serde::Deserialize;

#[cfg(feature = "config")]
pub use self::config::{CONFIG_FILE_ENV, Config, DEFAULT_CONFIG_FILE};
pub use self::{
    error::SettingsError,
    section::{Key, KeyKind, Section, field_names},
    values::{CrossDeviceLinks, HashAlgorithm},
};
use crate::{locale::Locale, redirect, secret::SecretString};

/// Core's settings, with the original project's names and defaults (docs/SETTINGS.md); the
/// e-mail, SMS and Redis keys are their crates' own sections.
///
/// Read them with the other sections from one [`Config`] (`config.section::<Settings>()?`),
/// with [`Settings::load`] when no other crate's keys are in use, or build them in code from
/// [`Settings::default`] and then [`Settings::validate`].
///
/// ```
/// use nopassword_core::{Settings, settings::HashAlgorithm};
///
/// let settings = Settings::default();
/// assert_eq!(settings.login_code_timeout, 900);
/// assert_eq!(settings.mount_path, "/accounts");
/// assert_eq!(settings.hash_algorithm, HashAlgorithm::Sha256);
/// assert_eq!(settings.code_length, 20);
/// assert!(settings.post_redirect);
/// // Secrets never print.
/// let settings = Settings { secret_key: Some("k".repeat(40).into()), ..settings };
/// assert!(format!("{settings:?}").contains("[redacted]"));
/// assert!(!format!("{settings:?}").contains("kkkk"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Seconds a code is valid; also the store's key TTL. Default `900`.
    pub login_code_timeout: u64,
    /// The installation's name: prefix of store keys and a field on every tracing span.
    /// Default `"nopassword"`.
    #[serde(deserialize_with = "text::string")]
    pub namespace: String,
    /// Where the router is mounted; login URLs are built from it. Default `"/accounts"`.
    #[serde(deserialize_with = "text::string")]
    pub mount_path: String,
    /// Login URLs without the username. Default `false`.
    pub hide_username: bool,
    /// Hash used to shape codes and to hash them at rest. Default `sha256`.
    pub hash_algorithm: HashAlgorithm,
    /// A GET of a login URL renders an auto-submitting POST page instead of logging in.
    /// Default `true`.
    pub post_redirect: bool,
    /// Characters in a code. Default `20`.
    pub code_length: usize,
    /// Codes of decimal digits only. Default `false`.
    pub numeric_codes: bool,
    /// Host used in login URLs when the request's host is not allowed. Default `"example.com"`.
    #[serde(deserialize_with = "text::string")]
    pub server_url: String,
    /// Key for at-rest hashing (a secret, at least 32 bytes). Required by
    /// [`NoPassword`](crate::NoPassword).
    #[serde(deserialize_with = "text::opt_secret")]
    pub secret_key: Option<SecretString>,
    /// Older keys still accepted when verifying codes (key rotation).
    #[serde(deserialize_with = "text::secrets")]
    pub secret_key_fallbacks: Vec<SecretString>,
    /// Request hosts that may appear in login URLs, besides `server_url`. A leading dot
    /// (`.example.com`) allows every subdomain. Default `["localhost", "127.0.0.1", "[::1]"]`.
    #[serde(deserialize_with = "text::strings")]
    pub allowed_hosts: Vec<String>,
    /// Peers whose `X-Forwarded-Proto` and `X-Forwarded-For` headers are believed. Default empty.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where a login goes without a safe `next`. Default `"/"`.
    #[serde(deserialize_with = "text::string")]
    pub login_redirect_url: String,
    /// A directory whose files override the built-in templates by name (`login_email.txt`,
    /// `login_email.html`, `login_sms.txt`, and the adapters' pages). Unset: built-ins only.
    pub template_dir: Option<PathBuf>,
    /// Failed tries after which a code is dead. Default `5`.
    pub max_code_attempts: u32,
    /// Consecutive failed tries after which a user is locked out (at most 100). Default `100`.
    pub max_user_failures: u32,
    /// How long such a lockout lasts, in seconds. Default `900`.
    pub lockout_seconds: u64,
    /// Login codes sent to one username per hour. Default `10`.
    pub max_sends_per_user_per_hour: u32,
    /// Code requests and code submissions from one client address per minute. Default `60`.
    pub max_requests_per_ip_per_minute: u32,
    /// What a login link does when opened by a client without its flow. Default `confirm`.
    pub cross_device_links: CrossDeviceLinks,
    /// `GET logout/` logs out (the original's behaviour); `false` (default): it shows a form
    /// whose POST logs out, so no other site can log a user out with a link or an image.
    pub logout_on_get: bool,
    /// The locale of pages, messages, mails and SMS when neither the app, the user nor the
    /// request's `Accept-Language` names one the catalog has (docs/guide/i18n.md). A
    /// language tag; default `"en"`.
    pub default_locale: Locale,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            login_code_timeout: 900,
            namespace: "nopassword".into(),
            mount_path: "/accounts".into(),
            hide_username: false,
            hash_algorithm: HashAlgorithm::Sha256,
            post_redirect: true,
            code_length: 20,
            numeric_codes: false,
            server_url: "example.com".into(),
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            trusted_proxies: Vec::new(),
            login_redirect_url: "/".into(),
            template_dir: None,
            max_code_attempts: 5,
            max_user_failures: 100,
            lockout_seconds: 900,
            max_sends_per_user_per_hour: 10,
            max_requests_per_ip_per_minute: 60,
            cross_device_links: CrossDeviceLinks::Confirm,
            logout_on_get: false,
            default_locale: Locale::en(),
        }
    }
}

/// Core's keys. `template_dir` is core's too: the pages, the e-mail and the SMS all read their
/// overrides from it.
impl Section for Settings {
    const OWNER: &'static str = "nopassword-core";

    const KEYS: &'static [Key] = &[
        Key::value("login_code_timeout"),
        Key::text("namespace"),
        Key::text("mount_path"),
        Key::value("hide_username"),
        Key::text("hash_algorithm"),
        Key::value("post_redirect"),
        Key::value("code_length"),
        Key::value("numeric_codes"),
        Key::text("server_url"),
        Key::text("secret_key"),
        Key::list("secret_key_fallbacks"),
        Key::list("allowed_hosts"),
        Key::list("trusted_proxies"),
        Key::text("login_redirect_url"),
        Key::text("template_dir"),
        Key::value("max_code_attempts"),
        Key::value("max_user_failures"),
        Key::value("lockout_seconds"),
        Key::value("max_sends_per_user_per_hour"),
        Key::value("max_requests_per_ip_per_minute"),
        Key::text("cross_device_links"),
        Key::value("logout_on_get"),
        Key::text("default_locale"),
    ];

    fn validate(self) -> Result<Self, SettingsError> {
        Settings::validate(self)
    }
}

impl Settings {
    /// The smallest accepted `code_length`.
    pub const MIN_CODE_LENGTH: usize = 6;

    /// The smallest accepted `secret_key` length, in bytes.
    pub const MIN_SECRET_KEY_LENGTH: usize = 32;

    /// The longest `login_code_timeout` and `lockout_seconds` accepted (one week): a login link
    /// is not a long-lived credential.
    pub const MAX_SECONDS: u64 = 7 * 24 * 3600;

    /// The highest accepted `max_user_failures`: NIST SP 800-63B caps consecutive failed
    /// attempts on one account at 100.
    pub const MAX_USER_FAILURES_CAP: u32 = 100;

    /// Core's settings alone, from the defaults, then the TOML file named by
    /// `NOPASSWORD_CONFIG` (default `nopassword.toml`, ignored when absent), then
    /// `NOPASSWORD_*` variables, validated.
    ///
    /// A shorthand for an app that uses no other crate's settings: every key of the file and
    /// every `NOPASSWORD_*` variable must be one of core's (an app with variables of its own
    /// declares them with [`Config::allow_env`]). An app that also uses `nopassword-email`, `nopassword-twilio`,
    /// `nopassword-store` or another crate with settings extracts every section from one
    /// [`Config`] instead, so their keys are accepted.
    ///
    /// ```
    /// # figment::Jail::expect_with(|jail| {
    /// use nopassword_core::Settings;
    ///
    /// jail.create_file("nopassword.toml", "code_length = 8\nnumeric_codes = true")?;
    /// jail.set_env("NOPASSWORD_LOGIN_CODE_TIMEOUT", "300");
    /// let settings = Settings::load().unwrap();
    /// assert_eq!((settings.code_length, settings.login_code_timeout), (8, 300));
    /// # Ok(())
    /// # });
    /// ```
    #[cfg(feature = "config")]
    pub fn load() -> Result<Self, SettingsError> {
        Self::from_config(Config::load())
    }

    /// Core's settings alone, extracted and validated from any figment (without the
    /// environment). Keys absent from it keep their defaults; keys that are not core's are
    /// refused, so a typo does not pass unnoticed. With other crates' sections, use
    /// [`Config::from_figment`].
    #[cfg(feature = "config")]
    pub fn from_figment(figment: &Figment) -> Result<Self, SettingsError> {
        Self::from_config(Config::from_figment(figment.clone()))
    }

    #[cfg(feature = "config")]
    fn from_config(mut config: Config) -> Result<Self, SettingsError> {
        let settings = config.section()?;
        config.finish()?;
        Ok(settings)
    }

    /// Checks every value and normalises `mount_path` (a trailing slash is dropped, `/` means
    /// the site root). Returns the settings, or an error naming the key and what it accepts.
    ///
    /// ```
    /// use nopassword_core::{Settings, SettingsError};
    ///
    /// let err = Settings { code_length: 4, ..Settings::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("code_length"));
    /// assert!(err.to_string().contains("6..=64"));
    /// ```
    pub fn validate(mut self) -> Result<Self, SettingsError> {
        let (max_seconds, min_code_length) = (Self::MAX_SECONDS, Self::MIN_CODE_LENGTH);
        let (max_failures, min_secret_len) =
            (Self::MAX_USER_FAILURES_CAP, Self::MIN_SECRET_KEY_LENGTH);
        for (key, value) in [
            ("login_code_timeout", self.login_code_timeout),
            ("lockout_seconds", self.lockout_seconds),
        ] {
            if !(1..=max_seconds).contains(&value) {
                return Err(SettingsError::invalid(
                    key,
                    value,
                    format!("a number of seconds from 1 to {max_seconds} (one week)"),
                ));
            }
        }
        let max_len = self.hash_algorithm.max_code_length(self.numeric_codes);
        if !(min_code_length..=max_len).contains(&self.code_length) {
            let kind = if self.numeric_codes { "numeric" } else { "hex" };
            return Err(SettingsError::invalid(
                "code_length",
                self.code_length,
                format!(
                    "{min_code_length}..={max_len} for {kind} codes with hash_algorithm {}",
                    self.hash_algorithm
                ),
            ));
        }
        if !is_valid_namespace(&self.namespace) {
            return Err(SettingsError::invalid(
                "namespace",
                &self.namespace,
                "a non-empty name of ASCII letters, digits, `_`, `-` and `.`",
            ));
        }
        self.mount_path = normalise_mount_path(&self.mount_path)?;
        for (key, value) in [("max_code_attempts", self.max_code_attempts)]
            .into_iter()
            .chain([(
                "max_sends_per_user_per_hour",
                self.max_sends_per_user_per_hour,
            )])
            .chain([(
                "max_requests_per_ip_per_minute",
                self.max_requests_per_ip_per_minute,
            )])
        {
            if value == 0 {
                return Err(SettingsError::invalid(key, value, "a count above 0"));
            }
        }
        if !(1..=max_failures).contains(&self.max_user_failures) {
            return Err(SettingsError::invalid(
                "max_user_failures",
                self.max_user_failures,
                format!("1..={max_failures} (NIST SP 800-63B caps it at 100)"),
            ));
        }
        if !is_valid_host(&self.server_url) {
            return Err(SettingsError::invalid(
                "server_url",
                &self.server_url,
                "a host name with an optional port, such as `example.com` or `example.com:8443`",
            ));
        }
        if let Some(bad) = self
            .allowed_hosts
            .iter()
            .find(|h| !is_valid_host(h.strip_prefix('.').unwrap_or(h)))
        {
            return Err(SettingsError::invalid(
                "allowed_hosts",
                bad,
                "host names such as `localhost`, `app.example.com` or `.example.com`",
            ));
        }
        match redirect::safe_next(&self.login_redirect_url) {
            // Kept normalised, like every `next` it stands in for.
            Some(normal) => self.login_redirect_url = normal.into_owned(),
            None => {
                return Err(SettingsError::invalid(
                    "login_redirect_url",
                    &self.login_redirect_url,
                    "a path on this site starting with `/`",
                ));
            }
        }
        for (key, secret) in self.secret_key.iter().map(|s| ("secret_key", s)).chain(
            self.secret_key_fallbacks
                .iter()
                .map(|s| ("secret_key_fallbacks", s)),
        ) {
            if secret.expose().len() < min_secret_len {
                return Err(SettingsError::invalid(
                    key,
                    "[redacted]",
                    format!("at least {min_secret_len} bytes of random text"),
                ));
            }
        }
        Ok(self)
    }

    /// How long a code is valid.
    pub fn code_validity(&self) -> Duration {
        Duration::from_secs(self.login_code_timeout)
    }

    /// Whether `host` (a request's `Host`, with or without port) may appear in a login URL:
    /// it is `server_url` or matches `allowed_hosts`.
    ///
    /// ```
    /// use nopassword_core::Settings;
    ///
    /// let settings = Settings { allowed_hosts: vec![".example.org".into()], ..Settings::default() };
    /// assert!(settings.is_allowed_host("example.com"));
    /// assert!(settings.is_allowed_host("app.example.org:8443"));
    /// assert!(!settings.is_allowed_host("evil.com"));
    /// ```
    pub fn is_allowed_host(&self, host: &str) -> bool {
        host_allowed(host, &self.server_url, &self.allowed_hosts)
    }
}

/// Whether `host` is `server_url` or matches one of `allowed` (see
/// [`Settings::is_allowed_host`]).
pub(crate) fn host_allowed(host: &str, server_url: &str, allowed: &[String]) -> bool {
    if !is_valid_host(host) {
        return false;
    }
    let name = host_name(host);
    std::iter::once(server_url)
        .chain(allowed.iter().map(String::as_str))
        .any(|pattern| match pattern.strip_prefix('.') {
            Some(domain) => {
                name.eq_ignore_ascii_case(domain)
                    || (name.len() > domain.len()
                        && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
                        && name[name.len() - domain.len()..].eq_ignore_ascii_case(domain))
            }
            None => name.eq_ignore_ascii_case(host_name(pattern)),
        })
}

/// Whether `namespace` is a valid installation name: non-empty ASCII letters, digits, `_`, `-`
/// and `.`. Stores build keys from it, so it keeps braces (Redis hash tags) and separators out.
///
/// ```
/// assert!(nopassword_core::settings::is_valid_namespace("my-app_2.prod"));
/// assert!(!nopassword_core::settings::is_valid_namespace("a{b}"));
/// ```
pub fn is_valid_namespace(namespace: &str) -> bool {
    !namespace.is_empty()
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `"/accounts/"` → `"/accounts"`, `"/"` → `""` (mounted at the root).
fn normalise_mount_path(path: &str) -> Result<String, SettingsError> {
    let valid = path.starts_with('/')
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~'));
    if !valid {
        return Err(SettingsError::invalid(
            "mount_path",
            path,
            "a path such as `/accounts` (ASCII letters, digits, `-`, `_`, `.`, `~`)",
        ));
    }
    Ok(path.trim_end_matches('/').to_owned())
}

/// The host part of `host[:port]`, brackets kept for IPv6 (`[::1]:8000` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// A conservative check of a `Host` header value: a DNS name, IPv4 or bracketed IPv6, optional
/// port. Anything else (userinfo, paths, spaces, control characters) is refused.
pub(crate) fn is_valid_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return false,
            },
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return false;
    }
    name.is_none_or(|name| {
        !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
            })
    })
}

#[cfg(test)]
// figment's `Jail::expect_with` fixes the closure's error type to `figment::Error`.
#[allow(clippy::result_large_err)]
mod tests {
    #[cfg(feature = "config")]
    use figment::Jail;

    use super::*;

    #[test]
    fn keys_are_the_fields() {
        let mut keys: Vec<_> = Settings::KEYS.iter().map(|k| k.name).collect();
        let mut fields = field_names::<Settings>().to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
        assert!(!Settings::has_key("smtp_url"));
    }

    #[test]
    fn defaults_match_the_original() {
        let s = Settings::default().validate().expect("defaults are valid");
        assert_eq!(s.login_code_timeout, 900);
        assert_eq!(s.namespace, "nopassword");
        assert!(!s.hide_username);
        assert_eq!(s.hash_algorithm, HashAlgorithm::Sha256);
        assert!(s.post_redirect);
        assert_eq!(s.code_length, 20);
        assert!(!s.numeric_codes);
        assert_eq!(s.server_url, "example.com");
        assert_eq!(s.login_redirect_url, "/");
        assert_eq!((s.max_code_attempts, s.max_user_failures), (5, 100));
        assert_eq!(
            (s.lockout_seconds, s.max_sends_per_user_per_hour),
            (900, 10)
        );
        assert_eq!(s.max_requests_per_ip_per_minute, 60);
        assert_eq!(s.default_locale.as_str(), "en");
    }

    #[cfg(feature = "config")]
    #[test]
    fn default_locale_from_file_and_environment() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("nopassword.toml", "default_locale = \"de\"")?;
            assert_eq!(
                Settings::load().expect("valid").default_locale.as_str(),
                "de"
            );
            jail.set_env("NOPASSWORD_DEFAULT_LOCALE", "es_mx");
            assert_eq!(
                Settings::load().expect("valid").default_locale.as_str(),
                "es-MX"
            );
            jail.set_env("NOPASSWORD_DEFAULT_LOCALE", "spanish please");
            let err = Settings::load().expect_err("not a tag").to_string();
            assert!(
                err.contains("default_locale") || err.contains("DEFAULT_LOCALE"),
                "{err}"
            );
            assert!(err.contains("language tag"), "{err}");
            Ok(())
        });
    }

    #[cfg(feature = "config")]
    #[test]
    fn file_then_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                r#"
                hide_username = true
                hash_algorithm = "sha512"
                code_length = 128
                allowed_hosts = ["app.test"]
                "#,
            )?;
            jail.set_env("NOPASSWORD_CONFIG", "custom.toml");
            jail.set_env("NOPASSWORD_CODE_LENGTH", "40");
            jail.set_env("NOPASSWORD_SECRET_KEY", "1".repeat(40));
            jail.set_env("NOPASSWORD_TRUSTED_PROXIES", "10.0.0.1, ::1");
            let s = Settings::load().expect("valid");
            assert!(s.hide_username);
            assert_eq!(s.hash_algorithm, HashAlgorithm::Sha512);
            assert_eq!(s.code_length, 40);
            assert_eq!(s.allowed_hosts, ["app.test"]);
            assert_eq!(
                s.secret_key.as_ref().map(SecretString::expose),
                Some(&*"1".repeat(40))
            );
            assert_eq!(s.trusted_proxies.len(), 2);
            let debug = format!("{s:?}");
            assert!(!debug.contains("1111111111"), "{debug}");
            Ok(())
        });
    }

    #[cfg(feature = "config")]
    #[test]
    fn core_alone_refuses_other_variables_unless_the_app_declares_them() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            // Twilio's key: a crate the app does not use.
            jail.set_env("NOPASSWORD_TWILIO_AUTH_TOKEN", "abc123abc123");
            let err = Settings::load().expect_err("not core's").to_string();
            assert!(err.contains("`NOPASSWORD_TWILIO_AUTH_TOKEN`"), "{err}");
            assert!(
                !err.contains("abc123"),
                "the value stays out of the error: {err}"
            );
            jail.clear_env();
            // The app's own variable, declared.
            jail.set_env("NOPASSWORD_BIND", "127.0.0.1:9999");
            assert!(Settings::load().is_err());
            let mut config = Config::load().allow_env(&["NOPASSWORD_BIND"]);
            let settings: Settings = config.section().expect("valid");
            config.finish().expect("declared");
            assert_eq!(settings.code_length, Settings::default().code_length);
            Ok(())
        });
    }

    #[cfg(feature = "config")]
    #[test]
    fn unknown_algorithm_names_key_and_choices() {
        Jail::expect_with(|jail| {
            jail.set_env("NOPASSWORD_HASH_ALGORITHM", "md5");
            let err = Settings::load().expect_err("md5 is refused").to_string();
            assert!(err.contains("hash_algorithm"), "{err}");
            assert!(err.contains("NOPASSWORD_"), "{err}");
            assert!(err.contains("sha512_256"), "{err}");
            Ok(())
        });
    }

    #[cfg(feature = "config")]
    #[test]
    fn typo_in_file_is_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("nopassword.toml", "code_lenght = 8")?;
            let err = Settings::load().expect_err("typo").to_string();
            assert!(err.contains("code_lenght"), "{err}");
            assert!(err.contains("nopassword.toml"), "{err}");
            assert!(err.contains("did you mean `code_length`?"), "{err}");
            // Another crate's key is unknown to core alone.
            jail.create_file("nopassword.toml", "smtp_url = \"smtp://127.0.0.1\"")?;
            let err = Settings::load().expect_err("not core's").to_string();
            assert!(err.contains("unknown setting `smtp_url`"), "{err}");
            assert!(err.contains("no crate in use reads it"), "{err}");
            Ok(())
        });
    }

    fn refused(s: Settings, key: &str) {
        match s.validate() {
            Err(SettingsError::Invalid { key: k, .. }) => assert_eq!(k, key),
            other => panic!("expected {key} to be refused, got {other:?}"),
        }
    }

    #[test]
    fn invalid_values_name_their_key() {
        let d = Settings::default;
        refused(
            Settings {
                code_length: 5,
                ..d()
            },
            "code_length",
        );
        refused(
            Settings {
                code_length: 65,
                ..d()
            },
            "code_length",
        );
        refused(
            Settings {
                code_length: 78,
                numeric_codes: true,
                ..d()
            },
            "code_length",
        );
        refused(
            Settings {
                code_length: 57,
                hash_algorithm: HashAlgorithm::Sha224,
                ..d()
            },
            "code_length",
        );
        refused(
            Settings {
                login_code_timeout: 0,
                ..d()
            },
            "login_code_timeout",
        );
        refused(
            Settings {
                lockout_seconds: 0,
                ..d()
            },
            "lockout_seconds",
        );
        refused(
            Settings {
                max_code_attempts: 0,
                ..d()
            },
            "max_code_attempts",
        );
        refused(
            Settings {
                max_user_failures: 101,
                ..d()
            },
            "max_user_failures",
        );
        refused(
            Settings {
                max_user_failures: 0,
                ..d()
            },
            "max_user_failures",
        );
        refused(
            Settings {
                max_sends_per_user_per_hour: 0,
                ..d()
            },
            "max_sends_per_user_per_hour",
        );
        refused(
            Settings {
                max_requests_per_ip_per_minute: 0,
                ..d()
            },
            "max_requests_per_ip_per_minute",
        );
        refused(
            Settings {
                namespace: String::new(),
                ..d()
            },
            "namespace",
        );
        refused(
            Settings {
                namespace: "a b".into(),
                ..d()
            },
            "namespace",
        );
        refused(
            Settings {
                mount_path: "accounts".into(),
                ..d()
            },
            "mount_path",
        );
        refused(
            Settings {
                mount_path: "/a//b".into(),
                ..d()
            },
            "mount_path",
        );
        refused(
            Settings {
                server_url: "http://x.com/".into(),
                ..d()
            },
            "server_url",
        );
        refused(
            Settings {
                allowed_hosts: vec!["a b".into()],
                ..d()
            },
            "allowed_hosts",
        );
        refused(
            Settings {
                login_redirect_url: "//evil.com".into(),
                ..d()
            },
            "login_redirect_url",
        );
        refused(
            Settings {
                secret_key: Some("short".into()),
                ..d()
            },
            "secret_key",
        );
        refused(
            Settings {
                secret_key_fallbacks: vec!["short".into()],
                ..d()
            },
            "secret_key_fallbacks",
        );
    }

    #[test]
    fn longest_codes_per_digest() {
        let max: Vec<_> = HashAlgorithm::ALL
            .iter()
            .map(|a| a.max_code_length(false))
            .collect();
        assert_eq!(max, [56, 64, 96, 128, 56, 64]);
        let max: Vec<_> = HashAlgorithm::ALL
            .iter()
            .map(|a| a.max_code_length(true))
            .collect();
        assert_eq!(max, [67, 77, 115, 154, 67, 77]);
    }

    #[test]
    fn mount_path_is_normalised() {
        let s = Settings {
            mount_path: "/auth/".into(),
            ..Settings::default()
        };
        assert_eq!(s.validate().expect("valid").mount_path, "/auth");
        let s = Settings {
            mount_path: "/".into(),
            ..Settings::default()
        };
        assert_eq!(s.validate().expect("valid").mount_path, "");
    }

    #[test]
    fn hosts() {
        let s = Settings::default();
        for ok in [
            "localhost",
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "example.com",
        ] {
            assert!(s.is_allowed_host(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "localhost.evil.com",
            "evil.com#localhost",
            "localhost@evil.com",
            "localhost/evil",
            "localhost:99999",
            "",
            "[::2]",
            "127.0.0.1 ",
            "exa mple.com",
        ] {
            assert!(!s.is_allowed_host(bad), "{bad:?}");
        }
    }
}
