//! `deserialize_with` helpers for text settings that take any scalar as its text.
//!
//! Values parsed like TOML turn `1234` into a number and `true` into a boolean; a text setting
//! (a name, a URL, a secret) wants the text either way. A section uses them as
//! `#[serde(deserialize_with = "nopassword_core::settings::text::opt_secret")]`.

use std::fmt;

use serde::{Deserialize, Deserializer, de};

use crate::secret::SecretString;

/// Any scalar as its text.
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

/// A text setting: any scalar, as its text.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Lenient)
}

/// An optional text setting; empty text means unset.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<LenientString>::deserialize(d).map(|o| o.map(|s| s.0).filter(|s| !s.is_empty()))
}

/// An optional secret (redacted in `Debug`); empty text means unset.
pub fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    opt_string(d).map(|o| o.map(SecretString::from))
}

/// A list of text settings.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<LenientString>::deserialize(d).map(|v| v.into_iter().map(|s| s.0).collect())
}

/// A list of secrets.
pub fn secrets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    strings(d).map(|v| v.into_iter().map(SecretString::from).collect())
}
