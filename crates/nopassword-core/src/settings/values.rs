//! The settings' value types: [`HashAlgorithm`] and [`CrossDeviceLinks`].

use std::fmt;

use serde::Deserialize;

use super::SettingsError;

/// What a login link does when it is opened by a client that does not hold the flow that asked
/// for it (another browser or device, a mail scanner).
///
/// ```
/// use nopassword_core::settings::CrossDeviceLinks;
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
/// use nopassword_core::settings::HashAlgorithm;
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
