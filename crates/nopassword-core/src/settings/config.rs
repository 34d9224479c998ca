//! [`Config`]: one set of settings sources, from which each crate in use extracts its
//! [`Section`], and which refuses the keys none of them read.

use std::{collections::BTreeSet, path::PathBuf};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Toml},
    value::{Dict, Map, Value},
};

use super::{Key, KeyKind, Section, SettingsError};

/// The environment variable that names the TOML settings file (default `nopassword.toml`).
pub const CONFIG_FILE_ENV: &str = "NOPASSWORD_CONFIG";

/// The settings file read when [`CONFIG_FILE_ENV`] is not set. A missing file is fine; a
/// missing file that [`CONFIG_FILE_ENV`] names is an error.
pub const DEFAULT_CONFIG_FILE: &str = "nopassword.toml";

/// The settings sources of an app, shared by every crate it uses.
///
/// Each crate's [`Section`] is extracted with [`Config::section`], which deserializes and
/// validates it and remembers its keys; [`Config::finish`] then refuses any key of the
/// sources that no extracted section claimed, naming it, so a typo, or a key of a crate the
/// app does not use, stops start-up. With the environment ([`Config::load`],
/// [`Config::with_env`]) it also refuses `NOPASSWORD_*` variables that are neither a claimed
/// key nor declared by the app as its own ([`Config::allow_env`]: the demo's
/// `NOPASSWORD_BIND`, say); `NOPASSWORD_CONFIG` is always allowed, and `NOPASSWORD_TEST_*` is
/// left to test harnesses.
///
/// ```
/// # figment::Jail::expect_with(|jail| {
/// use nopassword_core::{Settings, settings::Config};
///
/// jail.create_file("nopassword.toml", "code_length = 8\nnumeric_codes = true")?;
/// jail.set_env("NOPASSWORD_LOGIN_CODE_TIMEOUT", "300");
/// let mut config = Config::load();
/// let settings: Settings = config.section().unwrap();
/// // let email: EmailSettings = config.section()?; and so on for each crate in use
/// config.finish().unwrap();
/// assert_eq!((settings.code_length, settings.login_code_timeout), (8, 300));
/// # Ok(())
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    figment: Figment,
    env: bool,
    claimed: BTreeSet<&'static str>,
    /// The app's own `NOPASSWORD_*` variables, which are not settings keys.
    own_env: BTreeSet<&'static str>,
    /// The file `NOPASSWORD_CONFIG` named, when it does not exist.
    missing_file: Option<PathBuf>,
}

impl Config {
    /// The standard sources: the TOML file named by `NOPASSWORD_CONFIG` (default
    /// `nopassword.toml`, ignored when absent), then `NOPASSWORD_*` variables, later sources
    /// winning; absent keys keep each section's defaults. The file is read when a section is
    /// extracted; a file that `NOPASSWORD_CONFIG` names but that does not exist makes every
    /// [`section`](Self::section) fail with [`SettingsError::MissingFile`].
    ///
    /// ```
    /// # figment::Jail::expect_with(|jail| {
    /// use nopassword_core::{Settings, SettingsError, settings::Config};
    ///
    /// jail.set_env("NOPASSWORD_CONFIG", "/etc/nopassword/missing.toml");
    /// let err = Config::load().section::<Settings>().unwrap_err();
    /// assert!(matches!(err, SettingsError::MissingFile { .. }), "{err}");
    /// # Ok(())
    /// # });
    /// ```
    pub fn load() -> Self {
        let named = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        let missing_file = named.clone().filter(|path| !path.is_file());
        let file = named.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        Self {
            missing_file,
            ..Self::from_figment(Figment::from(Toml::file(file))).with_env()
        }
    }

    /// Exactly the sources of `figment` (an app's own configuration, say), without the
    /// environment unless [`with_env`](Self::with_env) adds it. Every key in it must belong to
    /// an extracted section.
    ///
    /// ```
    /// use figment::{Figment, providers::{Format, Toml}};
    /// use nopassword_core::{Settings, SettingsError, settings::Config};
    ///
    /// let figment = Figment::from(Toml::string("code_length = 8\ncode_lenght = 9"));
    /// let mut config = Config::from_figment(figment);
    /// let settings: Settings = config.section().unwrap();
    /// assert_eq!(settings.code_length, 8);
    /// let err = config.finish().unwrap_err();
    /// assert!(matches!(&err, SettingsError::Unknown { key, .. } if key == "code_lenght"));
    /// assert!(err.to_string().contains("did you mean `code_length`?"));
    /// ```
    pub fn from_figment(figment: Figment) -> Self {
        Self {
            figment,
            env: false,
            claimed: BTreeSet::new(),
            own_env: BTreeSet::new(),
            missing_file: None,
        }
    }

    /// Declares `NOPASSWORD_*` variables that the app reads itself (they are not settings
    /// keys), so [`finish`](Self::finish) does not refuse them.
    ///
    /// ```
    /// # figment::Jail::expect_with(|jail| {
    /// use nopassword_core::{Settings, SettingsError, settings::Config};
    ///
    /// jail.set_env("NOPASSWORD_BIND", "127.0.0.1:8000");
    /// let mut config = Config::from_figment(figment::Figment::new()).with_env();
    /// let _: Settings = config.section().unwrap();
    /// assert!(matches!(config.clone().finish(), Err(SettingsError::UnknownEnv { .. })));
    /// config.allow_env(&["NOPASSWORD_BIND"]).finish().unwrap();
    /// # Ok(())
    /// # });
    /// ```
    pub fn allow_env(mut self, names: &[&'static str]) -> Self {
        self.own_env.extend(names);
        self
    }

    /// Adds the `NOPASSWORD_<KEY>` environment variables on top of the sources: each section
    /// reads those of its own keys, as text, lists or TOML values by each key's [`KeyKind`].
    pub fn with_env(mut self) -> Self {
        self.env = true;
        self
    }

    /// The sources (without the environment).
    pub fn figment(&self) -> &Figment {
        &self.figment
    }

    /// Extracts and validates section `S`, and claims its keys for [`finish`](Self::finish).
    ///
    /// Errors name the key: a value of the wrong type, with where it came from
    /// ([`SettingsError::Load`]), or one [`Section::validate`] refuses.
    pub fn section<S: Section>(&mut self) -> Result<S, SettingsError> {
        if let Some(path) = &self.missing_file {
            return Err(SettingsError::MissingFile {
                path: path.clone(),
                variable: CONFIG_FILE_ENV,
            });
        }
        self.claimed.extend(S::KEYS.iter().map(|key| key.name));
        let section: S = if self.env {
            self.figment.clone().merge(Env { keys: S::KEYS }).extract()
        } else {
            self.figment.extract()
        }
        .map_err(Box::new)?;
        section.validate()
    }

    /// The keys claimed so far by [`section`](Self::section), in order.
    ///
    /// ```
    /// use nopassword_core::{Settings, settings::Config};
    ///
    /// let mut config = Config::from_figment(figment::Figment::new());
    /// let _: Settings = config.section().unwrap();
    /// assert!(config.claimed().any(|key| key == "code_length"));
    /// ```
    pub fn claimed(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.claimed.iter().copied()
    }

    /// Refuses the first key of the sources that no extracted section claimed
    /// ([`SettingsError::Unknown`], naming the key, where it was written and a claimed key
    /// spelled almost the same), then, with the environment, the first `NOPASSWORD_*` variable
    /// that is neither a claimed key nor the app's own ([`SettingsError::UnknownEnv`]); call
    /// it once every crate in use has extracted its section.
    ///
    /// ```
    /// # figment::Jail::expect_with(|jail| {
    /// use nopassword_core::{Settings, settings::Config};
    ///
    /// jail.set_env("NOPASSWORD_LOGIN_CODE_TIMOUT", "300");
    /// let mut config = Config::from_figment(figment::Figment::new()).with_env();
    /// let _: Settings = config.section().unwrap();
    /// let err = config.finish().unwrap_err().to_string();
    /// assert!(err.contains("did you mean `NOPASSWORD_LOGIN_CODE_TIMEOUT`?"), "{err}");
    /// # Ok(())
    /// # });
    /// ```
    pub fn finish(self) -> Result<(), SettingsError> {
        if let Some(path) = self.missing_file {
            return Err(SettingsError::MissingFile {
                path,
                variable: CONFIG_FILE_ENV,
            });
        }
        let data: Dict = self.figment.extract().map_err(Box::new)?;
        let Some(key) = data.keys().find(|key| !self.claimed.contains(key.as_str())) else {
            return self.check_env();
        };
        let origin = match self.figment.find_metadata(key) {
            Some(Metadata {
                name,
                source: Some(source),
                ..
            }) => format!("{name} {source}"),
            Some(metadata) => metadata.name.to_string(),
            None => "the settings".to_owned(),
        };
        let suggestion = self
            .claimed
            .iter()
            .copied()
            .filter(|claimed| edit_distance(claimed, key) <= 2)
            .min_by_key(|claimed| edit_distance(claimed, key));
        Err(SettingsError::Unknown {
            key: key.clone(),
            origin,
            suggestion,
        })
    }
}

impl Config {
    /// The first `NOPASSWORD_*` variable that is neither a claimed key, the app's own, nor
    /// `NOPASSWORD_CONFIG` / `NOPASSWORD_TEST_*`.
    fn check_env(&self) -> Result<(), SettingsError> {
        if !self.env {
            return Ok(());
        }
        let mut names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        names.sort();
        for variable in names {
            let Some(key) = variable.strip_prefix("NOPASSWORD_") else {
                continue;
            };
            if variable == CONFIG_FILE_ENV
                || key.starts_with("TEST_")
                || self.own_env.contains(variable.as_str())
                || self.claimed.contains(key.to_ascii_lowercase().as_str())
            {
                continue;
            }
            let key = key.to_ascii_lowercase();
            let suggestion = self
                .claimed
                .iter()
                .map(|claimed| {
                    (
                        edit_distance(claimed, &key),
                        format!("NOPASSWORD_{}", claimed.to_ascii_uppercase()),
                    )
                })
                .chain(
                    self.own_env
                        .iter()
                        .map(|own| (edit_distance(own, &variable), (*own).to_owned())),
                )
                .filter(|(distance, _)| *distance <= 2)
                .min_by_key(|(distance, _)| *distance)
                .map(|(_, near)| near);
            return Err(SettingsError::UnknownEnv {
                variable,
                suggestion,
            });
        }
        Ok(())
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The `NOPASSWORD_*` environment variables that are keys of one section. figment's own `Env`
/// provider parses every value like TOML, which would turn `+15005550006` into a number and
/// drop the `+`; text keys are taken verbatim instead.
struct Env {
    keys: &'static [Key],
}

impl Provider for Env {
    fn metadata(&self) -> Metadata {
        Metadata::named("`NOPASSWORD_` environment variable(s)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, raw) in std::env::vars_os() {
            let (Some(name), Some(raw)) = (name.to_str(), raw.to_str()) else {
                continue;
            };
            let Some(name) = name
                .strip_prefix("NOPASSWORD_")
                .map(str::to_ascii_lowercase)
            else {
                continue;
            };
            let Some(key) = self.keys.iter().find(|key| key.name == name) else {
                continue;
            };
            let value = match key.kind {
                KeyKind::Text => Value::from(raw.to_owned()),
                KeyKind::List if !raw.trim_start().starts_with('[') => {
                    let items: Vec<Value> = raw
                        .split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(|item| Value::from(item.to_owned()))
                        .collect();
                    Value::from(items)
                }
                KeyKind::List | KeyKind::Value => {
                    raw.parse::<Value>().unwrap_or_else(|never| match never {})
                }
            };
            dict.insert(key.name.to_owned(), value);
        }
        Ok(Profile::Default.collect(dict))
    }
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("code_length", "code_lenght"), 2);
        assert_eq!(edit_distance("smtp_url", "smtp_ur"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("namespace", "namespace"), 0);
    }
}
