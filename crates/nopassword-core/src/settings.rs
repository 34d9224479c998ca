//! Settings: every key of the original django-nopassword, with its name and default, loaded by
//! figment from defaults, an optional TOML file and `NOPASSWORD_*` environment variables.

use std::{fmt, net::IpAddr, path::PathBuf, time::Duration};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Toml},
    value::{Dict, Map, Value},
};
use serde::{Deserialize, Deserializer, de};

use crate::{SecretString, redirect};

/// The environment variable that names the TOML settings file (default `nopassword.toml`).
pub const CONFIG_FILE_ENV: &str = "NOPASSWORD_CONFIG";

/// The settings file read when [`CONFIG_FILE_ENV`] is not set. A missing file is fine.
pub const DEFAULT_CONFIG_FILE: &str = "nopassword.toml";

/// Every settings key, as written in TOML; the environment variable is `NOPASSWORD_` + the key
/// in upper case.
pub const KEYS: &[&str] = &[
    "login_code_timeout",
    "namespace",
    "mount_path",
    "hide_username",
    "login_email_subject",
    "hash_algorithm",
    "post_redirect",
    "code_length",
    "numeric_codes",
    "twilio_sid",
    "twilio_auth_token",
    "default_from_number",
    "twilio_api_base",
    "server_url",
    "default_from_email",
    "secret_key",
    "secret_key_fallbacks",
    "allowed_hosts",
    "trusted_proxies",
    "login_redirect_url",
    "redis_url",
    "smtp_url",
    "template_dir",
    "max_code_attempts",
    "max_user_failures",
    "lockout_seconds",
    "max_sends_per_user_per_hour",
    "max_requests_per_ip_per_minute",
    "cross_device_links",
    "logout_on_get",
];

/// The smallest accepted `code_length`.
pub const MIN_CODE_LENGTH: usize = 6;

/// The smallest accepted `secret_key` length, in bytes.
pub const MIN_SECRET_KEY_LENGTH: usize = 32;

/// The longest `login_code_timeout` and `lockout_seconds` accepted (one week): a login link
/// is not a long-lived credential.
pub const MAX_SECONDS: u64 = 7 * 24 * 3600;

/// NIST SP 800-63B caps consecutive failed attempts on one account at 100.
pub const MAX_USER_FAILURES_CAP: u32 = 100;

/// What a login link does when it is opened by a client that does not hold the flow that asked
/// for it (another browser or device, a mail scanner).
///
/// ```
/// use nopassword_core::CrossDeviceLinks;
///
/// assert_eq!("deny".parse::<CrossDeviceLinks>().unwrap(), CrossDeviceLinks::Deny);
/// assert_eq!(CrossDeviceLinks::default(), CrossDeviceLinks::Confirm);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossDeviceLinks {
    /// A "Confirm login" page naming the account, with a real button and no script (default):
    /// scanners spend nothing, and a victim of login CSRF sees whose account it is.
    #[default]
    Confirm,
    /// The original's behaviour: the auto-submitting "Logging in..." page for anyone.
    Allow,
    /// 403 "Open this link in the browser where you asked to log in."; nothing is spent.
    Deny,
}

impl CrossDeviceLinks {
    /// The settings name (`"confirm"`, `"allow"`, `"deny"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for CrossDeviceLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CrossDeviceLinks {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, SettingsError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "confirm" => Ok(Self::Confirm),
            "allow" => Ok(Self::Allow),
            "deny" => Ok(Self::Deny),
            _ => Err(SettingsError::invalid(
                "cross_device_links",
                s,
                "one of confirm, allow, deny",
            )),
        }
    }
}

/// The sha2-family hash used to shape codes and to key-hash them at rest.
///
/// ```
/// use nopassword_core::HashAlgorithm;
///
/// let alg: HashAlgorithm = "sha512_256".parse().unwrap();
/// assert_eq!(alg.output_len(), 32);
/// assert!("md5".parse::<HashAlgorithm>().unwrap_err().to_string().contains("sha256"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    /// SHA-224.
    Sha224,
    /// SHA-256, the default.
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA-512/224.
    #[serde(rename = "sha512_224")]
    Sha512_224,
    /// SHA-512/256.
    #[serde(rename = "sha512_256")]
    Sha512_256,
}

impl HashAlgorithm {
    /// Every algorithm, in the order the settings documentation lists them.
    pub const ALL: [HashAlgorithm; 6] = [
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha512_224,
        Self::Sha512_256,
    ];

    /// The settings name (`"sha256"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha512_224 => "sha512_224",
            Self::Sha512_256 => "sha512_256",
        }
    }

    /// Digest size in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha224 | Self::Sha512_224 => 28,
            Self::Sha256 | Self::Sha512_256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The longest code this digest can shape: its hex length, or for numeric codes the number
    /// of whole decimal digits its bits carry.
    pub fn max_code_length(self, numeric: bool) -> usize {
        let bits = self.output_len() * 8;
        if numeric {
            // floor(bits * log10(2)), in integers: log10(2) ~ 30103/100000.
            bits * 30103 / 100_000
        } else {
            self.output_len() * 2
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HashAlgorithm {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| SettingsError::invalid("hash_algorithm", s, accepted_algorithms()))
    }
}

fn accepted_algorithms() -> String {
    let names: Vec<_> = HashAlgorithm::ALL.iter().map(|a| a.name()).collect();
    format!("one of {}", names.join(", "))
}

/// Why settings were refused.
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
    /// The TOML file or an environment variable could not be read or parsed.
    #[error("could not load settings: {0}")]
    Load(#[from] Box<figment::Error>),
}

impl SettingsError {
    fn invalid(key: &'static str, value: impl fmt::Display, accepted: impl Into<String>) -> Self {
        Self::Invalid {
            key,
            value: value.to_string(),
            accepted: accepted.into(),
        }
    }
}

/// All settings, with the original project's names and defaults (SPEC section 3).
///
/// Build them with [`Settings::load`] (defaults, `nopassword.toml`, `NOPASSWORD_*`), with
/// [`Settings::from_figment`] to merge them into an app's own configuration, or in code from
/// [`Settings::default`] and then [`Settings::validate`].
///
/// ```
/// use nopassword_core::{HashAlgorithm, Settings};
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
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Seconds a code is valid; also the store's key TTL. Default `900`.
    pub login_code_timeout: u64,
    /// The installation's name: prefix of store keys and a field on every tracing span.
    /// Default `"nopassword"`.
    #[serde(deserialize_with = "string")]
    pub namespace: String,
    /// Where the router is mounted; login URLs are built from it. Default `"/accounts"`.
    #[serde(deserialize_with = "string")]
    pub mount_path: String,
    /// Login URLs without the username. Default `false`.
    pub hide_username: bool,
    /// Subject of the login e-mail. Default `"Login code"`.
    #[serde(deserialize_with = "string")]
    pub login_email_subject: String,
    /// Hash used to shape codes and to hash them at rest. Default `sha256`.
    pub hash_algorithm: HashAlgorithm,
    /// A GET of a login URL renders an auto-submitting POST page instead of logging in.
    /// Default `true`.
    pub post_redirect: bool,
    /// Characters in a code. Default `20`.
    pub code_length: usize,
    /// Codes of decimal digits only. Default `false`.
    pub numeric_codes: bool,
    /// Twilio account SID.
    #[serde(deserialize_with = "opt_string")]
    pub twilio_sid: Option<String>,
    /// Twilio auth token (a secret).
    #[serde(deserialize_with = "opt_secret")]
    pub twilio_auth_token: Option<SecretString>,
    /// Sender number for SMS, E.164.
    #[serde(deserialize_with = "opt_string")]
    pub default_from_number: Option<String>,
    /// Where Twilio's API is reached. Default `"https://api.twilio.com"`.
    #[serde(deserialize_with = "string")]
    pub twilio_api_base: String,
    /// Host used in login URLs when the request's host is not allowed. Default `"example.com"`.
    #[serde(deserialize_with = "string")]
    pub server_url: String,
    /// Sender of login e-mails. Default `"root@example.com"`.
    #[serde(deserialize_with = "string")]
    pub default_from_email: String,
    /// Key for at-rest hashing (a secret, at least 32 bytes). Required by
    /// [`NoPassword`](crate::NoPassword).
    #[serde(deserialize_with = "opt_secret")]
    pub secret_key: Option<SecretString>,
    /// Older keys still accepted when verifying codes (key rotation).
    #[serde(deserialize_with = "secrets")]
    pub secret_key_fallbacks: Vec<SecretString>,
    /// Request hosts that may appear in login URLs, besides `server_url`. A leading dot
    /// (`.example.com`) allows every subdomain. Default `["localhost", "127.0.0.1", "[::1]"]`.
    #[serde(deserialize_with = "strings")]
    pub allowed_hosts: Vec<String>,
    /// Peers whose `X-Forwarded-Proto` and `X-Forwarded-For` headers are believed. Default empty.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where a login goes without a safe `next`. Default `"/"`.
    #[serde(deserialize_with = "string")]
    pub login_redirect_url: String,
    /// Redis URL; unset means the in-memory store.
    #[serde(deserialize_with = "opt_secret")]
    pub redis_url: Option<SecretString>,
    /// SMTP URL; unset means the development outbox.
    #[serde(deserialize_with = "opt_secret")]
    pub smtp_url: Option<SecretString>,
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            login_code_timeout: 900,
            namespace: "nopassword".into(),
            mount_path: "/accounts".into(),
            hide_username: false,
            login_email_subject: "Login code".into(),
            hash_algorithm: HashAlgorithm::Sha256,
            post_redirect: true,
            code_length: 20,
            numeric_codes: false,
            twilio_sid: None,
            twilio_auth_token: None,
            default_from_number: None,
            twilio_api_base: "https://api.twilio.com".into(),
            server_url: "example.com".into(),
            default_from_email: "root@example.com".into(),
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            trusted_proxies: Vec::new(),
            login_redirect_url: "/".into(),
            redis_url: None,
            smtp_url: None,
            template_dir: None,
            max_code_attempts: 5,
            max_user_failures: 100,
            lockout_seconds: 900,
            max_sends_per_user_per_hour: 10,
            max_requests_per_ip_per_minute: 60,
            cross_device_links: CrossDeviceLinks::Confirm,
            logout_on_get: false,
        }
    }
}

impl Settings {
    /// Loads settings from the defaults, then the TOML file named by `NOPASSWORD_CONFIG`
    /// (default `nopassword.toml`, ignored when absent), then `NOPASSWORD_*` variables, and
    /// validates them.
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
    pub fn load() -> Result<Self, SettingsError> {
        Self::from_figment(&Self::figment())
    }

    /// The figment [`Settings::load`] reads: the TOML file, then the environment. Merge more
    /// providers into it, or [`Figment::focus`] an app's own configuration, before
    /// [`Settings::from_figment`].
    pub fn figment() -> Figment {
        let file = std::env::var_os(CONFIG_FILE_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        Figment::new().merge(Toml::file(file)).merge(EnvSettings)
    }

    /// Extracts and validates settings from any figment. Keys absent from it keep their
    /// defaults; unknown keys are refused so a typo in a file does not pass unnoticed.
    pub fn from_figment(figment: &Figment) -> Result<Self, SettingsError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()
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
        for (key, value) in [
            ("login_code_timeout", self.login_code_timeout),
            ("lockout_seconds", self.lockout_seconds),
        ] {
            if !(1..=MAX_SECONDS).contains(&value) {
                return Err(SettingsError::invalid(
                    key,
                    value,
                    format!("a number of seconds from 1 to {MAX_SECONDS} (one week)"),
                ));
            }
        }
        let max_len = self.hash_algorithm.max_code_length(self.numeric_codes);
        if !(MIN_CODE_LENGTH..=max_len).contains(&self.code_length) {
            let kind = if self.numeric_codes { "numeric" } else { "hex" };
            return Err(SettingsError::invalid(
                "code_length",
                self.code_length,
                format!(
                    "{MIN_CODE_LENGTH}..={max_len} for {kind} codes with hash_algorithm {}",
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
        if !(1..=MAX_USER_FAILURES_CAP).contains(&self.max_user_failures) {
            return Err(SettingsError::invalid(
                "max_user_failures",
                self.max_user_failures,
                format!("1..={MAX_USER_FAILURES_CAP} (NIST SP 800-63B caps it at 100)"),
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
        if !(self.twilio_api_base.starts_with("https://")
            || self.twilio_api_base.starts_with("http://"))
        {
            return Err(SettingsError::invalid(
                "twilio_api_base",
                &self.twilio_api_base,
                "an http:// or https:// URL",
            ));
        }
        for (key, secret) in self.secret_key.iter().map(|s| ("secret_key", s)).chain(
            self.secret_key_fallbacks
                .iter()
                .map(|s| ("secret_key_fallbacks", s)),
        ) {
            if secret.expose().len() < MIN_SECRET_KEY_LENGTH {
                return Err(SettingsError::invalid(
                    key,
                    "[redacted]",
                    format!("at least {MIN_SECRET_KEY_LENGTH} bytes of random text"),
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

/// Settings keys whose environment values are taken verbatim: figment's own `Env` provider
/// parses values like TOML, which would turn `+15005550006` into a number and drop the `+`.
const TEXT_KEYS: &[&str] = &[
    "namespace",
    "mount_path",
    "login_email_subject",
    "hash_algorithm",
    "twilio_sid",
    "twilio_auth_token",
    "default_from_number",
    "twilio_api_base",
    "server_url",
    "default_from_email",
    "secret_key",
    "login_redirect_url",
    "redis_url",
    "smtp_url",
    "template_dir",
    "cross_device_links",
];

/// List keys: `[a, b]` or `a,b`.
const LIST_KEYS: &[&str] = &["secret_key_fallbacks", "allowed_hosts", "trusted_proxies"];

/// The `NOPASSWORD_*` environment variables that are settings keys (others, such as the
/// demo's `NOPASSWORD_BIND`, are left alone).
struct EnvSettings;

impl Provider for EnvSettings {
    fn metadata(&self) -> Metadata {
        Metadata::named("`NOPASSWORD_` environment variable(s)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, raw) in std::env::vars_os() {
            let (Some(name), Some(raw)) = (name.to_str(), raw.to_str()) else {
                continue;
            };
            let Some(key) = name
                .strip_prefix("NOPASSWORD_")
                .map(str::to_ascii_lowercase)
            else {
                continue;
            };
            let Some(&key) = KEYS.iter().find(|k| **k == key) else {
                continue;
            };
            let value = if TEXT_KEYS.contains(&key) {
                Value::from(raw.to_owned())
            } else if LIST_KEYS.contains(&key) && !raw.trim_start().starts_with('[') {
                let items: Vec<Value> = raw
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::from(item.to_owned()))
                    .collect();
                Value::from(items)
            } else {
                raw.parse::<Value>().unwrap_or_else(|never| match never {})
            };
            dict.insert(key.to_owned(), value);
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// Whether `namespace` is a valid installation name: non-empty ASCII letters, digits, `_`, `-`
/// and `.`. Stores build keys from it, so it keeps braces (Redis hash tags) and separators out.
///
/// ```
/// assert!(nopassword_core::is_valid_namespace("my-app_2.prod"));
/// assert!(!nopassword_core::is_valid_namespace("a{b}"));
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

/// Environment values are parsed like TOML, so `NOPASSWORD_SECRET_KEY=1234...` arrives as a
/// number and `+15005550006` as an integer; string settings take any scalar as its text.
struct Lenient;

impl de::Visitor<'_> for Lenient {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

#[derive(Deserialize)]
#[serde(transparent)]
struct LenientString(#[serde(deserialize_with = "string")] String);

fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Lenient)
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<LenientString>::deserialize(d).map(|o| o.map(|s| s.0).filter(|s| !s.is_empty()))
}

fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    opt_string(d).map(|o| o.map(SecretString::from))
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<LenientString>::deserialize(d).map(|v| v.into_iter().map(|s| s.0).collect())
}

fn secrets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    strings(d).map(|v| v.into_iter().map(SecretString::from).collect())
}

#[cfg(test)]
// figment's `Jail::expect_with` fixes the closure's error type to `figment::Error`.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;

    #[test]
    fn defaults_match_the_original() {
        let s = Settings::default().validate().expect("defaults are valid");
        assert_eq!(s.login_code_timeout, 900);
        assert_eq!(s.namespace, "nopassword");
        assert!(!s.hide_username);
        assert_eq!(s.login_email_subject, "Login code");
        assert_eq!(s.hash_algorithm, HashAlgorithm::Sha256);
        assert!(s.post_redirect);
        assert_eq!(s.code_length, 20);
        assert!(!s.numeric_codes);
        assert_eq!(s.server_url, "example.com");
        assert_eq!(s.default_from_email, "root@example.com");
        assert_eq!(s.twilio_api_base, "https://api.twilio.com");
        assert_eq!(s.login_redirect_url, "/");
        assert_eq!((s.max_code_attempts, s.max_user_failures), (5, 100));
        assert_eq!(
            (s.lockout_seconds, s.max_sends_per_user_per_hour),
            (900, 10)
        );
        assert_eq!(s.max_requests_per_ip_per_minute, 60);
    }

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
            jail.set_env("NOPASSWORD_DEFAULT_FROM_NUMBER", "+15005550006");
            jail.set_env("NOPASSWORD_TWILIO_AUTH_TOKEN", "abc123abc123");
            jail.set_env("NOPASSWORD_BIND", "127.0.0.1:9999"); // not ours: ignored
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
            assert_eq!(s.default_from_number.as_deref(), Some("+15005550006"));
            assert_eq!(s.trusted_proxies.len(), 2);
            let debug = format!("{s:?}");
            assert!(!debug.contains("abc123"), "{debug}");
            assert!(!debug.contains("1111111111"), "{debug}");
            Ok(())
        });
    }

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

    #[test]
    fn typo_in_file_is_refused() {
        Jail::expect_with(|jail| {
            jail.create_file("nopassword.toml", "code_lenght = 8")?;
            let err = Settings::load().expect_err("typo").to_string();
            assert!(err.contains("code_lenght"), "{err}");
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
                twilio_api_base: "ftp://x".into(),
                ..d()
            },
            "twilio_api_base",
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
