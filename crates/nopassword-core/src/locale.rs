//! Locales: the [`Locale`] tag and the negotiation that picks one per request and per message.
//!
//! The order is the same everywhere (docs/guide/i18n.md):
//!
//! 1. the app's choice (a hook the web adapters call for each request);
//! 2. the user's own preference, [`LoginUser::locale`](crate::LoginUser::locale);
//! 3. the request's `Accept-Language`, negotiated against the locales the catalog has
//!    (the shipped ones and those the app adds);
//! 4. the `default_locale` setting (`"en"`).
//!
//! The login mail and SMS go out in the user's preference, else in the locale of the request
//! that asked for the code (it travels with the code: [`LoginCode::locale`](crate::code::LoginCode::locale)).
//!
//! This module has no dependency: the messages themselves are in
//! `nopassword_core::i18n` (feature `i18n`).
//!
//! ```
//! use nopassword_core::locale::{Locale, negotiate};
//!
//! let available = [Locale::parse("en")?, Locale::parse("es")?, Locale::parse("de")?];
//! let picked = negotiate(Some("fr-CH, es-MX;q=0.8, en;q=0.5"), &available);
//! assert_eq!(picked.as_ref().map(Locale::as_str), Some("es"));
//! assert_eq!(negotiate(Some("fr"), &available), None); // then the default locale
//! # Ok::<_, nopassword_core::locale::LocaleError>(())
//! ```

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A language tag (BCP 47, as in `Accept-Language` and `<html lang>`): `en`, `es`, `pt-BR`,
/// `zh-Hant-TW`. Kept in canonical case: language lower case, script title case, region upper
/// case.
///
/// ```
/// use nopassword_core::locale::Locale;
///
/// let locale: Locale = "PT-br".parse()?;
/// assert_eq!(locale.as_str(), "pt-BR");
/// assert_eq!(locale.language(), "pt");
/// assert_eq!(locale.dir(), "ltr");
/// assert_eq!(Locale::parse("ar-EG")?.dir(), "rtl");
/// assert!(Locale::parse("en_US; drop table").is_err());
/// # Ok::<_, nopassword_core::locale::LocaleError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

/// A text that is not a language tag.
///
/// ```
/// use nopassword_core::locale::Locale;
///
/// let err = Locale::parse("").unwrap_err();
/// assert_eq!(err.to_string(), "`` is not a language tag (expected one like `en`, `es` or `pt-BR`)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a language tag (expected one like `en`, `es` or `pt-BR`)")]
pub struct LocaleError(pub String);

/// The languages written right to left, by their primary subtag.
const RTL_LANGUAGES: &[&str] = &[
    "ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi",
];

impl Locale {
    /// The longest tag accepted, in bytes (BCP 47 tags in use are far shorter).
    pub const MAX_LEN: usize = 35;

    /// Parses a language tag: a language of 2 to 8 letters, then subtags of 1 to 8 letters
    /// or digits, separated by `-` (`_` is taken for `-`, as POSIX locales write it).
    ///
    /// Errors: [`LocaleError`] for anything else (empty, `*`, spaces, over 35 bytes).
    pub fn parse(tag: &str) -> Result<Self, LocaleError> {
        let err = || LocaleError(tag.chars().take(Self::MAX_LEN + 1).collect());
        if tag.is_empty() || tag.len() > Self::MAX_LEN {
            return Err(err());
        }
        let mut out = String::with_capacity(tag.len());
        for (i, part) in tag.split(['-', '_']).enumerate() {
            let ok = match i {
                0 => (2..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic()),
                _ => {
                    (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
                }
            };
            if !ok {
                return Err(err());
            }
            if i > 0 {
                out.push('-');
            }
            match (i, part.len()) {
                (0, _) => out.push_str(&part.to_ascii_lowercase()),
                // A script (`Hant`).
                (_, 4) if part.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    let lower = part.to_ascii_lowercase();
                    let mut chars = lower.chars();
                    if let Some(first) = chars.next() {
                        out.push(first.to_ascii_uppercase());
                        out.push_str(chars.as_str());
                    }
                }
                // A region (`BR`, `419`).
                (_, 2) | (_, 3) if part.len() == 2 || part.bytes().all(|b| b.is_ascii_digit()) => {
                    out.push_str(&part.to_ascii_uppercase())
                }
                _ => out.push_str(&part.to_ascii_lowercase()),
            }
        }
        Ok(Self(out))
    }

    /// English, `en`: the default locale and the language of the original's strings.
    pub fn en() -> Self {
        Self("en".into())
    }

    /// The tag, in canonical case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag: `pt` of `pt-BR`.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// The writing direction for `<html dir>`: `"rtl"` for Arabic, Hebrew, Persian, Urdu and
    /// the other right-to-left languages, else `"ltr"`.
    pub fn dir(&self) -> &'static str {
        if RTL_LANGUAGES.contains(&self.language()) {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// Whether this is English (any region): the locale whose strings are the original's.
    pub fn is_english(&self) -> bool {
        self.language() == "en"
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locale({})", self.0)
    }
}

impl FromStr for Locale {
    type Err = LocaleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self::en()
    }
}

impl Serialize for Locale {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The most ranges of one `Accept-Language` header that are read (the rest is ignored, so a
/// huge header costs little).
const MAX_RANGES: usize = 32;

/// The language ranges of an `Accept-Language` header with their weights, best first (ties
/// keep the header's order); ranges with `q=0`, `*` and malformed ones are left out.
///
/// ```
/// use nopassword_core::locale::accept_language;
///
/// let ranges = accept_language("de;q=0.7, fr-CH, fr;q=0.9, *;q=0.5, en;q=0");
/// let tags: Vec<_> = ranges.iter().map(|(l, q)| (l.as_str(), *q)).collect();
/// assert_eq!(tags, [("fr-CH", 1000), ("fr", 900), ("de", 700)]);
/// ```
pub fn accept_language(header: &str) -> Vec<(Locale, u16)> {
    let mut ranges: Vec<(Locale, u16)> = header
        .split(',')
        .take(MAX_RANGES)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let mut q = 1000;
            for param in parts {
                let (name, value) = param.split_once('=')?;
                if name.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(value.trim())?;
                }
            }
            let locale = Locale::parse(tag).ok()?;
            (q > 0).then_some((locale, q))
        })
        .collect();
    ranges.sort_by_key(|range| std::cmp::Reverse(range.1));
    ranges
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The locale of `available` that best answers an `Accept-Language` header, or `None` when
/// none fits (the caller then takes its default). Each range, best first, is matched against
/// `available`: the same tag, else the same tag without its last subtags (`es-MX` finds
/// `es`), else a regional form of it (`es` finds `es-MX`).
///
/// ```
/// use nopassword_core::locale::{Locale, negotiate};
///
/// let available = [Locale::en(), Locale::parse("pt-BR")?, Locale::parse("es")?];
/// assert_eq!(negotiate(Some("pt"), &available).unwrap().as_str(), "pt-BR");
/// assert_eq!(negotiate(Some("es-419,en;q=0.1"), &available).unwrap().as_str(), "es");
/// assert_eq!(negotiate(Some("en-GB;q=0.9, es;q=0.8"), &available).unwrap().as_str(), "en");
/// assert_eq!(negotiate(None, &available), None);
/// # Ok::<_, nopassword_core::locale::LocaleError>(())
/// ```
pub fn negotiate(header: Option<&str>, available: &[Locale]) -> Option<Locale> {
    for (range, _) in accept_language(header?) {
        if let Some(found) = available.iter().find(|l| **l == range) {
            return Some(found.clone());
        }
        let mut prefix = range.as_str();
        while let Some((shorter, _)) = prefix.rsplit_once('-') {
            prefix = shorter;
            if let Some(found) = available.iter().find(|l| l.as_str() == prefix) {
                return Some(found.clone());
            }
        }
        let regional = format!("{}-", range.as_str());
        if let Some(found) = available.iter().find(|l| l.as_str().starts_with(&regional)) {
            return Some(found.clone());
        }
    }
    None
}

/// Picks a request's locale in the documented order: the app's choice, then the user's
/// preference, then `Accept-Language` against `available`, then `default`.
///
/// ```
/// use nopassword_core::locale::{Locale, resolve};
///
/// let es = Locale::parse("es")?;
/// let available = [Locale::en(), es.clone()];
/// assert_eq!(resolve(None, None, Some("es;q=0.9"), &available, &Locale::en()), es);
/// assert_eq!(resolve(Some(Locale::en()), None, Some("es"), &available, &Locale::en()), Locale::en());
/// assert_eq!(resolve(None, Some(Locale::en()), Some("es"), &available, &Locale::en()), Locale::en());
/// assert_eq!(resolve(None, None, Some("ja"), &available, &es), es);
/// # Ok::<_, nopassword_core::locale::LocaleError>(())
/// ```
pub fn resolve(
    app: Option<Locale>,
    user: Option<Locale>,
    accept_language: Option<&str>,
    available: &[Locale],
    default: &Locale,
) -> Locale {
    app.or(user)
        .or_else(|| negotiate(accept_language, available))
        .unwrap_or_else(|| default.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_canonical() {
        for (input, canonical) in [
            ("en", "en"),
            ("EN-us", "en-US"),
            ("zh_hant_tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("de-CH-1996", "de-CH-1996"),
        ] {
            assert_eq!(
                Locale::parse(input).expect("valid").as_str(),
                canonical,
                "{input}"
            );
        }
        for bad in [
            "",
            "*",
            "e",
            "en-",
            "-en",
            "en US",
            "en;q=1",
            "ççç",
            "toolonglanguage",
        ] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
        assert!(Locale::parse(&"a".repeat(2000)).is_err());
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.123"), Some(123));
        assert_eq!(parse_q("0"), Some(0));
        for bad in ["1.5", "2", "0.1234", "-1", "x", ""] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_headers_pick_nothing_and_never_panic() {
        let available = [Locale::en(), Locale::parse("es").expect("valid")];
        for header in [
            "", ",,,", ";q=1", "es;q=2", "es;q", "*", "es;q=0", "\u{0}", "es;;",
        ] {
            assert_eq!(negotiate(Some(header), &available), None, "{header:?}");
        }
        let huge = "xx, ".repeat(10_000) + "es";
        assert_eq!(negotiate(Some(&huge), &available), None);
    }

    #[test]
    fn higher_weight_wins_over_order() {
        let available = [Locale::en(), Locale::parse("es").expect("valid")];
        let picked = negotiate(Some("en;q=0.3, es;q=0.8"), &available).expect("valid");
        assert_eq!(picked.as_str(), "es");
    }
}
