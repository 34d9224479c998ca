//! [`Section`]: the settings one crate reads, and its [`Key`]s.

use std::fmt;

use serde::{
    Deserializer,
    de::{self, DeserializeOwned, Visitor},
    forward_to_deserialize_any,
};

use super::SettingsError;

/// How a key's `NOPASSWORD_<KEY>` environment variable is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Taken verbatim as text (`NOPASSWORD_DEFAULT_FROM_NUMBER=+15005550006` keeps its `+`).
    Text,
    /// A list: `a,b` (items trimmed, empty ones dropped) or `[a, b]`.
    List,
    /// Parsed like a TOML value: numbers, booleans, arrays.
    Value,
}

/// One settings key: its name, as written in TOML (the environment variable is `NOPASSWORD_` +
/// the name in upper case), and how its environment variable is read.
///
/// ```
/// use nopassword_core::settings::{Key, KeyKind};
///
/// const SUBJECT: Key = Key::text("login_email_subject");
/// assert_eq!((SUBJECT.name, SUBJECT.kind), ("login_email_subject", KeyKind::Text));
/// assert_eq!(SUBJECT.env_var(), "NOPASSWORD_LOGIN_EMAIL_SUBJECT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key as written in TOML, and the field of the section's struct.
    pub name: &'static str,
    /// How its environment variable is read.
    pub kind: KeyKind,
}

impl Key {
    /// A [`KeyKind::Text`] key.
    pub const fn text(name: &'static str) -> Self {
        Self {
            name,
            kind: KeyKind::Text,
        }
    }

    /// A [`KeyKind::List`] key.
    pub const fn list(name: &'static str) -> Self {
        Self {
            name,
            kind: KeyKind::List,
        }
    }

    /// A [`KeyKind::Value`] key.
    pub const fn value(name: &'static str) -> Self {
        Self {
            name,
            kind: KeyKind::Value,
        }
    }

    /// The environment variable that sets this key: `NOPASSWORD_` + the name in upper case.
    pub fn env_var(&self) -> String {
        format!("NOPASSWORD_{}", self.name.to_ascii_uppercase())
    }
}

/// The settings one crate reads: a flat struct whose fields are top-level keys of
/// `nopassword.toml` and `NOPASSWORD_*` variables, beside every other crate's.
///
/// Core's [`Settings`](crate::Settings) is one; `nopassword-email`, `nopassword-twilio` and
/// `nopassword-store` each own another, and a third-party crate adds its own the same way. An
/// app extracts the sections of the crates it uses from one [`Config`](super::Config), which
/// then refuses any key that none of them claimed.
///
/// The struct derives `Deserialize` with `#[serde(default)]` and without
/// `deny_unknown_fields` (the sources hold the other sections' keys too); its field names are
/// exactly the names in [`KEYS`](Self::KEYS) (check it in a test with [`field_names`]). Key
/// names are global: pick ones no other crate uses (a prefix such as `fax_` helps).
///
/// ```
/// use nopassword_core::settings::{Key, Section, field_names, text};
/// use nopassword_core::SettingsError;
/// use serde::Deserialize;
///
/// /// The settings of a (hypothetical) fax sender.
/// #[derive(Debug, Clone, Deserialize)]
/// #[serde(default)]
/// pub struct FaxSettings {
///     /// The modem's device path.
///     #[serde(deserialize_with = "text::string")]
///     pub fax_device: String,
///     /// Line speed. Default `9600`.
///     pub fax_baud: u32,
/// }
///
/// impl Default for FaxSettings {
///     fn default() -> Self {
///         Self { fax_device: "/dev/ttyS0".into(), fax_baud: 9600 }
///     }
/// }
///
/// impl Section for FaxSettings {
///     const OWNER: &'static str = "fax-sender";
///     const KEYS: &'static [Key] = &[Key::text("fax_device"), Key::value("fax_baud")];
///
///     fn validate(self) -> Result<Self, SettingsError> {
///         if !(300..=14_400).contains(&self.fax_baud) {
///             return Err(SettingsError::invalid("fax_baud", self.fax_baud, "300..=14400"));
///         }
///         Ok(self)
///     }
/// }
///
/// let names: Vec<_> = FaxSettings::KEYS.iter().map(|k| k.name).collect();
/// assert_eq!(field_names::<FaxSettings>(), names);
/// ```
pub trait Section: DeserializeOwned {
    /// The crate that reads these keys, as named in messages and in the settings
    /// documentation (`"nopassword-email"`).
    const OWNER: &'static str;

    /// Every key of the section, one per field.
    const KEYS: &'static [Key];

    /// Checks every value (and may normalise some). Returns the section, or an error naming
    /// the key and what it accepts.
    fn validate(self) -> Result<Self, SettingsError>;

    /// Whether `name` is one of [`KEYS`](Self::KEYS).
    ///
    /// ```
    /// use nopassword_core::{Settings, settings::Section};
    ///
    /// assert!(Settings::has_key("code_length"));
    /// assert!(!Settings::has_key("smtp_url"));
    /// ```
    fn has_key(name: &str) -> bool {
        Self::KEYS.iter().any(|key| key.name == name)
    }
}

/// The field names a struct's derived `Deserialize` accepts, in declaration order (empty for
/// anything that is not a plain struct). A test compares them with a section's
/// [`Section::KEYS`], so the list cannot drift from the fields.
///
/// ```
/// use nopassword_core::{Settings, settings::{Section, field_names}};
///
/// let keys: Vec<_> = Settings::KEYS.iter().map(|k| k.name).collect();
/// assert_eq!(field_names::<Settings>(), keys);
/// ```
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(FieldProbe) {
        Err(Probe::Fields(fields)) => fields,
        _ => &[],
    }
}

/// A deserializer that only records the fields a struct asks for.
struct FieldProbe;

#[derive(Debug)]
enum Probe {
    Fields(&'static [&'static str]),
    Other,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field probe")
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self::Other
    }
}

impl<'de> Deserializer<'de> for FieldProbe {
    type Error = Probe;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::Other)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Fields(fields))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
