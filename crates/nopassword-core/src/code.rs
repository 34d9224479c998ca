//! Generating codes, and the `LoginCode` handed to senders.

use std::{sync::Arc, time::SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{
    CodeRng, Settings,
    hashing::hex,
    locale::Locale,
    secret::PlaintextCode,
    settings::{HashAlgorithm, host_allowed},
};

/// Shapes codes as the settings ask: `code_length` lower-case hex characters of a digest of
/// CSPRNG output (as the original did), or `code_length` uniform decimal digits.
///
/// ```
/// use nopassword_core::{code::CodeGenerator, settings::HashAlgorithm, hashing::SeededRng};
///
/// let rng = SeededRng::new(1);
/// let hex = CodeGenerator::new(HashAlgorithm::Sha256, 20, false);
/// let code = hex.generate(&rng);
/// assert_eq!(code.expose().len(), 20);
/// assert!(hex.is_well_formed(code.expose()));
///
/// let digits = CodeGenerator::new(HashAlgorithm::Sha256, 6, true);
/// assert!(digits.generate(&rng).expose().bytes().all(|b| b.is_ascii_digit()));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CodeGenerator {
    algorithm: HashAlgorithm,
    length: usize,
    numeric: bool,
}

impl CodeGenerator {
    /// Hex characters of the separate link secret that codes under 64 bits travel in links
    /// under (128 bits).
    pub const LINK_SECRET_LEN: usize = LINK_SECRET_LEN;

    /// A generator; `length` must be within what [`Settings::validate`] accepts.
    pub fn new(algorithm: HashAlgorithm, length: usize, numeric: bool) -> Self {
        Self {
            algorithm,
            length,
            numeric,
        }
    }

    /// The generator the settings describe.
    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(
            settings.hash_algorithm,
            settings.code_length,
            settings.numeric_codes,
        )
    }

    /// A fresh code.
    pub fn generate(&self, rng: &dyn CodeRng) -> PlaintextCode {
        if self.numeric {
            PlaintextCode::new(self.digits(rng))
        } else {
            // As in the original: the hex digest of fresh randomness, cut to length. The digest
            // only shapes the output; all entropy comes from the CSPRNG (a digest's worth).
            let mut seed = [0u8; 64];
            let seed = &mut seed[..self.algorithm.output_len()];
            rng.fill_bytes(seed);
            let mut code = hex(self.algorithm.digest(seed).as_slice());
            code.truncate(self.length);
            PlaintextCode::new(code)
        }
    }

    /// Uniform digits by rejection sampling: bytes of 250 and above are dropped, so every digit
    /// has probability exactly 1/10 (the original's `int(hexdigest, 16)` was biased and of
    /// varying length).
    fn digits(&self, rng: &dyn CodeRng) -> String {
        let mut out = String::with_capacity(self.length);
        let mut buf = [0u8; 32];
        while out.len() < self.length {
            rng.fill_bytes(&mut buf);
            for &b in &buf {
                if b < 250 && out.len() < self.length {
                    out.push(char::from(b'0' + b % 10));
                }
            }
        }
        out
    }

    /// Whether a code of this shape is long enough to travel in a login link by itself: at
    /// least 64 bits of entropy (16 hex characters, 20 digits). Shorter codes are only ever
    /// accepted from the flow that asked for them (docs/HTTP.md, Login flows), so their links carry a
    /// separate 128-bit secret instead.
    ///
    /// ```
    /// use nopassword_core::{code::CodeGenerator, settings::HashAlgorithm};
    ///
    /// assert!(CodeGenerator::new(HashAlgorithm::Sha256, 20, false).link_carries_code());
    /// assert!(!CodeGenerator::new(HashAlgorithm::Sha256, 6, true).link_carries_code());
    /// assert!(CodeGenerator::new(HashAlgorithm::Sha256, 20, true).link_carries_code());
    /// ```
    pub fn link_carries_code(&self) -> bool {
        if self.numeric {
            // 10^20 > 2^64 > 10^19.
            self.length >= 20
        } else {
            self.length >= 16
        }
    }

    /// The secret a login link carries for `code`: the code itself when it is long enough,
    /// else [`CodeGenerator::LINK_SECRET_LEN`] fresh hex characters (128 bits).
    pub fn link_secret(&self, code: &PlaintextCode, rng: &dyn CodeRng) -> PlaintextCode {
        if self.link_carries_code() {
            code.clone()
        } else {
            let mut bytes = [0u8; LINK_SECRET_LEN / 2];
            rng.fill_bytes(&mut bytes);
            PlaintextCode::new(hex(&bytes))
        }
    }

    /// Whether `secret` has the shape of a link secret of this configuration, so malformed
    /// links are refused before any hashing or store work.
    pub fn is_well_formed_link(&self, secret: &str) -> bool {
        if self.link_carries_code() {
            self.is_well_formed(secret)
        } else {
            secret.len() == LINK_SECRET_LEN
                && secret
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
    }

    /// Whether `code` could have come from this generator (length and alphabet). Presented codes
    /// that are not are refused before any store lookup.
    pub fn is_well_formed(&self, code: &str) -> bool {
        code.len() == self.length
            && code.bytes().all(|b| {
                if self.numeric {
                    b.is_ascii_digit()
                } else {
                    matches!(b, b'0'..=b'9' | b'a'..=b'f')
                }
            })
    }

    /// Normalises what a person typed: surrounding whitespace dropped, hex in lower case.
    pub fn normalise(&self, code: &str) -> String {
        code.trim().to_ascii_lowercase()
    }
}

/// Hex characters of the separate link secret of short codes (128 bits).
const LINK_SECRET_LEN: usize = 32;

/// Characters left as they are in a username path segment: RFC 3986 unreserved.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a username for a URL path segment (`carol+test@example.com` becomes
/// `carol%2Btest%40example.com`), so any framework's path decoding gives it back unchanged.
///
/// ```
/// assert_eq!(nopassword_core::code::encode_username("carol+test@example.com"), "carol%2Btest%40example.com");
/// ```
pub fn encode_username(username: &str) -> String {
    utf8_percent_encode(username, PATH_SEGMENT).to_string()
}

/// A duration in words, as login messages say it: `900 s` → `15 minutes`, `5400 s` →
/// `1 hour 30 minutes`, `90 s` → `1 minute 30 seconds`.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(nopassword_core::code::duration_in_words(Duration::from_secs(5400)), "1 hour 30 minutes");
/// ```
pub fn duration_in_words(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let parts = [
        (secs / 86_400, "day"),
        (secs % 86_400 / 3600, "hour"),
        (secs % 3600 / 60, "minute"),
        (secs % 60, "second"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|&(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "0 seconds".to_owned()
    } else {
        words.join(" ")
    }
}

/// Who a code is for: what a sender needs to reach the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The user's id in the [`UserDirectory`](crate::UserDirectory).
    pub id: String,
    /// The user's username, as typed at login.
    pub username: String,
    /// E-mail address, if the user has one.
    pub email: Option<String>,
    /// Phone number (E.164), if the user has one.
    pub phone: Option<String>,
}

/// The parts of the settings that shape a login URL, shared by every code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlConfig {
    /// Normalised `mount_path` (no trailing slash; empty at the root).
    pub mount_path: String,
    /// `hide_username`.
    pub hide_username: bool,
    /// `server_url`.
    pub server_url: String,
    /// `allowed_hosts`.
    pub allowed_hosts: Vec<String>,
}

impl UrlConfig {
    /// Takes the URL-shaping settings.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            mount_path: settings.mount_path.clone(),
            hide_username: settings.hide_username,
            server_url: settings.server_url.clone(),
            allowed_hosts: settings.allowed_hosts.clone(),
        }
    }

    /// The host a link may name: `host` when it is allowed, else `server_url`.
    pub fn link_host<'a>(&'a self, host: Option<&'a str>) -> &'a str {
        match host {
            Some(h) if host_allowed(h, &self.server_url, &self.allowed_hosts) => h,
            _ => &self.server_url,
        }
    }
}

/// A freshly issued login code with what a sender needs: the plaintext code, the user, and
/// the means to build the login URL.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
///
/// let code = LoginCode::new(
///     Recipient { id: "7".into(), username: "carol+test@example.com".into(), email: None, phone: None },
///     PlaintextCode::new("0123456789abcdef0123"),
///     None,
///     SystemTime::UNIX_EPOCH + Duration::from_secs(900),
///     Duration::from_secs(900),
///     UrlConfig::from_settings(&Settings::default()).into(),
/// );
/// assert_eq!(
///     code.login_url(true, Some("localhost:8000")),
///     "https://localhost:8000/accounts/login-code/carol%2Btest%40example.com/0123456789abcdef0123/"
/// );
/// // A forged Host never reaches the link.
/// assert_eq!(
///     code.login_url(false, Some("evil.com")),
///     "http://example.com/accounts/login-code/carol%2Btest%40example.com/0123456789abcdef0123/"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct LoginCode {
    user: Recipient,
    code: PlaintextCode,
    link: PlaintextCode,
    next: Option<String>,
    expires_at: SystemTime,
    valid_for: std::time::Duration,
    urls: Arc<UrlConfig>,
    locale: Option<Locale>,
}

impl LoginCode {
    /// Assembles a code (the service does this; senders receive it).
    pub fn new(
        user: Recipient,
        code: PlaintextCode,
        next: Option<String>,
        expires_at: SystemTime,
        valid_for: std::time::Duration,
        urls: Arc<UrlConfig>,
    ) -> Self {
        Self {
            user,
            link: code.clone(),
            code,
            next,
            expires_at,
            valid_for,
            urls,
            locale: None,
        }
    }

    /// Sets the language the message should be written in (the service sets the user's
    /// preference, else the locale of the request that asked for the code).
    pub fn with_locale(mut self, locale: Option<Locale>) -> Self {
        self.locale = locale;
        self
    }

    /// The language the message should be written in: the user's preference
    /// ([`LoginUser::locale`](crate::LoginUser::locale)), else the locale of the request that
    /// asked for the code; `None` when neither is known (senders then use `default_locale`).
    pub fn locale(&self) -> Option<&Locale> {
        self.locale.as_ref()
    }

    /// The user the code logs in.
    pub fn user(&self) -> &Recipient {
        &self.user
    }

    /// Sets the secret the link carries when it differs from the code (short codes; see
    /// [`CodeGenerator::link_secret`]). By default the link carries the code.
    pub fn with_link_secret(mut self, link: PlaintextCode) -> Self {
        self.link = link;
        self
    }

    /// The secret in the login URL: the code itself, or for short codes a longer secret of
    /// its own (the message then shows the short code to type and the link to follow).
    pub fn link_secret(&self) -> &PlaintextCode {
        &self.link
    }

    /// The plaintext code, for the message.
    pub fn code(&self) -> &PlaintextCode {
        &self.code
    }

    /// The safe `next` path stored with the code, if any.
    pub fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// When the code stops working.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// How long the code is valid from issue (`login_code_timeout`).
    pub fn valid_for(&self) -> std::time::Duration {
        self.valid_for
    }

    /// The validity in words (`"15 minutes"`), for messages.
    pub fn expires_in_words(&self) -> String {
        duration_in_words(self.valid_for)
    }

    /// The host a link built for a request to `host` names: `host` if allowed, else
    /// `server_url` (the `site` of message templates).
    pub fn link_host<'a>(&'a self, host: Option<&'a str>) -> &'a str {
        self.urls.link_host(host)
    }

    /// The login URL: `{http|https}://{host}{mount_path}/login-code/{username}/{code}/`, or
    /// without the username when `hide_username` is on. `host` is used only when it is an
    /// allowed host; otherwise `server_url` is.
    pub fn login_url(&self, secure: bool, host: Option<&str>) -> String {
        let scheme = if secure { "https" } else { "http" };
        let host = self.link_host(host);
        let mount = &self.urls.mount_path;
        let code = self.link.expose();
        if self.urls.hide_username {
            format!("{scheme}://{host}{mount}/login-code/{code}/")
        } else {
            let user = encode_username(&self.user.username);
            format!("{scheme}://{host}{mount}/login-code/{user}/{code}/")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;

    use super::*;
    use crate::hashing::SeededRng;

    fn code_for(username: &str, settings: &Settings) -> LoginCode {
        LoginCode::new(
            Recipient {
                id: "1".into(),
                username: username.into(),
                email: None,
                phone: None,
            },
            PlaintextCode::new("abc123"),
            None,
            SystemTime::UNIX_EPOCH,
            Duration::from_secs(900),
            Arc::new(UrlConfig::from_settings(settings)),
        )
    }

    #[test]
    fn url_shapes() {
        let s = Settings::default();
        assert_eq!(
            code_for("alice", &s).login_url(false, None),
            "http://example.com/accounts/login-code/alice/abc123/"
        );
        let s = Settings {
            hide_username: true,
            mount_path: "/".into(),
            ..Settings::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            code_for("alice", &s).login_url(true, Some("[::1]:8000")),
            "https://[::1]:8000/login-code/abc123/"
        );
        let s = Settings {
            server_url: "login.example.org".into(),
            ..Settings::default()
        };
        assert_eq!(
            code_for("a", &s).login_url(true, Some("localhost.evil.com")),
            "https://login.example.org/accounts/login-code/a/abc123/"
        );
    }

    proptest! {
        #[test]
        fn usernames_round_trip(name in "\\PC{1,40}") {
            let url = code_for(&name, &Settings::default()).login_url(false, None);
            let segment = url
                .trim_end_matches("/abc123/")
                .rsplit('/')
                .next()
                .expect("a segment");
            prop_assert!(!segment.contains(['/', '?', '#', '+', '@', ' ']));
            prop_assert_eq!(percent_decode_str(segment).decode_utf8().expect("utf8"), name);
        }

        #[test]
        fn hex_codes_have_length_and_alphabet(seed: u64, alg in 0usize..6, len in 6usize..=56) {
            let alg = HashAlgorithm::ALL[alg];
            let generator = CodeGenerator::new(alg, len, false);
            let code = generator.generate(&SeededRng::new(seed));
            prop_assert_eq!(code.expose().len(), len);
            prop_assert!(code.expose().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            prop_assert!(generator.is_well_formed(code.expose()));
        }

        #[test]
        fn numeric_codes_have_length_and_alphabet(seed: u64, len in 6usize..=77) {
            let generator = CodeGenerator::new(HashAlgorithm::Sha256, len, true);
            let code = generator.generate(&SeededRng::new(seed));
            prop_assert_eq!(code.expose().len(), len);
            prop_assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(generator.is_well_formed(code.expose()));
        }
    }

    /// Chi-squared test of digit frequencies over many codes: with modulo bias (`byte % 10`
    /// without rejection) digits 0..=5 would come up 26/256 of the time instead of 25.6/256,
    /// which 2,000,000 digits detect far beyond this threshold.
    #[test]
    fn digits_are_uniform() {
        let generator = CodeGenerator::new(HashAlgorithm::Sha256, 20, true);
        let rng = SeededRng::new(42);
        let mut counts = [0u64; 10];
        for _ in 0..100_000 {
            for b in generator.generate(&rng).expose().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        // 9 degrees of freedom: p = 0.001 at 27.88.
        assert!(
            chi2 < 27.88,
            "digits are not uniform: chi2 = {chi2}, counts = {counts:?}"
        );
        // Leading zeros are kept: some codes start with 0.
        assert!((0..1000).any(|_| generator.generate(&rng).expose().starts_with('0')));
    }

    /// The same statistic catches a biased generator, so the test above can fail.
    #[test]
    fn chi_squared_detects_modulo_bias() {
        let rng = SeededRng::new(42);
        let mut counts = [0u64; 10];
        let mut buf = [0u8; 32];
        for _ in 0..62_500 {
            rng.fill_bytes(&mut buf);
            for b in buf {
                counts[usize::from(b % 10)] += 1;
            }
        }
        let expected = counts.iter().sum::<u64>() as f64 / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 > 27.88, "bias went unnoticed: chi2 = {chi2}");
    }

    #[test]
    fn durations_in_words() {
        let w = |s| duration_in_words(Duration::from_secs(s));
        assert_eq!(w(900), "15 minutes");
        assert_eq!(w(60), "1 minute");
        assert_eq!(w(7200), "2 hours");
        assert_eq!(w(90), "1 minute 30 seconds");
        assert_eq!(w(86_400 * 2 + 1), "2 days 1 second");
        assert_eq!(w(0), "0 seconds");
    }

    #[test]
    fn codes_differ() {
        let generator = CodeGenerator::new(HashAlgorithm::Sha256, 20, false);
        let rng = crate::hashing::SystemRng;
        let codes: std::collections::HashSet<_> = (0..1000)
            .map(|_| generator.generate(&rng).expose().to_owned())
            .collect();
        assert_eq!(codes.len(), 1000);
    }
}
