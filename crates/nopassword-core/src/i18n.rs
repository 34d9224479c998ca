//! Message catalogs (feature `i18n`): every user-facing text of the pages, forms, JSON API,
//! login e-mail and SMS, in [Fluent](https://projectfluent.org) through `fluent-bundle`.
//!
//! The crate ships `en`, `es`, `de` and `fr` ([`SHIPPED`]); English holds the original's
//! strings word for word. An app adds a locale, or overrides some messages of a shipped one,
//! with `.ftl` files in `{template_dir}/locales/{tag}/` (read once at start-up, like the
//! templates): [`Catalog::load`]. A message a locale lacks falls back to its language (`es`
//! for `es-MX`), then to English. docs/guide/i18n.md shows adding a locale.
//!
//! Every message, with the arguments it takes, is listed in [`MESSAGES`]; a test holds each
//! shipped catalog to exactly that list.
//!
//! ```
//! use std::time::Duration;
//! use nopassword_core::{i18n::Catalog, locale::Locale};
//!
//! let catalog = Catalog::builtin();
//! let es = Locale::parse("es")?;
//! assert_eq!(catalog.text(&Locale::en(), "invalid_code"), "Unable to log in with provided login code.");
//! assert_eq!(catalog.text(&es, "required"), "Este campo es obligatorio.");
//! assert_eq!(catalog.duration(&es, Duration::from_secs(3660)), "1 hora 1 minuto");
//! assert_eq!(catalog.duration(&Locale::en(), Duration::from_secs(900)), "15 minutes");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::{
    collections::BTreeMap,
    fmt, io,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock},
    time::Duration,
};

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};

use crate::locale::Locale;

/// The locales built into the crate, with their catalog.
pub const SHIPPED: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/nopassword.ftl")),
    ("es", include_str!("../locales/es/nopassword.ftl")),
    ("de", include_str!("../locales/de/nopassword.ftl")),
    ("fr", include_str!("../locales/fr/nopassword.ftl")),
];

/// Every message id, with the names of the arguments it takes. The messages of
/// [`forms::messages`](crate::forms::messages) have their API `code` as id.
pub const MESSAGES: &[(&str, &[&str])] = &[
    ("required", &[]),
    ("invalid_code", &[]),
    ("code_sent", &[]),
    ("logged_out", &[]),
    ("mail_sent", &[]),
    ("logging_in", &[]),
    ("click_to_login", &[]),
    ("link_not_found", &[]),
    ("unavailable", &[]),
    ("rate_limited", &[]),
    ("csrf_failed", &[]),
    ("other_browser", &[]),
    ("confirm_login", &[]),
    ("log_in", &[]),
    ("log_out_title", &[]),
    ("log_out", &[]),
    ("too_large", &[]),
    ("expected_json", &[]),
    ("expected_form", &[]),
    ("expected_json_object", &[]),
    ("unauthenticated", &[]),
    ("flow_not_approved", &[]),
    ("login_approved", &[]),
    ("not_approved", &[]),
    ("wrong_number", &[]),
    ("title-bad_request", &[]),
    ("title-csrf_failed", &[]),
    ("title-other_browser", &[]),
    ("title-too_large", &[]),
    ("title-rate_limited", &[]),
    ("title-unavailable", &[]),
    ("title-link_not_found", &[]),
    ("login-title", &[]),
    ("login-intro", &[]),
    ("label-username", &[]),
    ("label-code", &[]),
    ("login-button", &[]),
    ("login-have-code", &[]),
    ("sent-title", &[]),
    ("sent-body", &["expires_in"]),
    ("sent-enter-code", &[]),
    ("sent-number", &["number"]),
    ("sent-waiting", &[]),
    ("sent-continue", &[]),
    ("sent-expired", &[]),
    ("code-title", &[]),
    ("invalid-ask-new", &[]),
    ("confirm-intro", &["username", "requested_at"]),
    ("confirm-not-you", &["username"]),
    ("confirm-here", &[]),
    ("confirm-there", &[]),
    ("confirm-device", &["device"]),
    ("confirm-pick", &[]),
    ("confirm-pick-warning", &[]),
    ("confirm-no-approval", &[]),
    ("approved-body", &[]),
    ("wrong-number-body", &[]),
    ("error-back", &[]),
    ("mail-subject", &[]),
    ("mail-title", &["site"]),
    ("mail-hello", &["username"]),
    ("mail-use-link", &["site"]),
    ("mail-copy-address", &[]),
    ("mail-or-type", &[]),
    ("mail-works-once", &["expires_in"]),
    ("mail-ignore", &[]),
    ("sms-code", &["code"]),
    ("sms-login", &["url"]),
    ("sms-expires", &["expires_in"]),
    ("duration-days", &["n"]),
    ("duration-hours", &["n"]),
    ("duration-minutes", &["n"]),
    ("duration-seconds", &["n"]),
];

/// The folder of `template_dir` whose subfolders (one per language tag) hold an app's
/// `.ftl` files.
pub const LOCALES_FOLDER: &str = "locales";

/// A catalog file that cannot be read or does not parse, or a folder that is not a language
/// tag.
///
/// ```
/// use nopassword_core::i18n::{Catalog, CatalogError};
///
/// let dir = std::env::temp_dir().join(format!("np-catalog-err-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("locales/es"))?;
/// std::fs::write(dir.join("locales/es/app.ftl"), "required = { $unclosed\n")?;
/// let err = Catalog::load(Some(&dir)).unwrap_err();
/// assert!(err.to_string().contains("app.ftl"), "{err}");
/// assert!(err.to_string().contains("syntax error: line"), "{err}");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[error("message catalog {file}: {reason}")]
pub struct CatalogError {
    /// The file or folder: a path under `template_dir/locales`, or `built-in TAG`.
    pub file: String,
    /// What is wrong, with the line where the file has one.
    pub reason: String,
}

type Bundle = FluentBundle<FluentResource>;

/// The compiled catalogs of every locale: the shipped ones and those of the app's
/// `{template_dir}/locales/` folder. `Send + Sync` (fluent's concurrent bundles), shared by
/// reference or in an `Arc`.
///
/// `Debug` lists the locales and the files that made each.
pub struct Catalog {
    bundles: BTreeMap<Locale, Bundle>,
    files: BTreeMap<Locale, Vec<String>>,
    locales: Vec<Locale>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// Where a message text came from when formatting it failed (an argument the message names
/// was not given): logged, and the text is still returned with the argument's name in it.
fn log_errors(locale: &Locale, id: &str, errors: &[fluent_bundle::FluentError]) {
    if !errors.is_empty() {
        tracing::warn!(locale = %locale, message = id, errors = ?errors, "message formatted with errors");
    }
}

fn new_bundle(locale: &Locale) -> Bundle {
    let langid = locale
        .as_str()
        .parse()
        .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
    let mut bundle = Bundle::new_concurrent(vec![langid]);
    // No Unicode isolation marks around arguments: English must stay byte for byte the
    // original's strings, and mails and SMS are plain text.
    bundle.set_use_isolating(false);
    bundle
}

fn parse(file: &str, source: String) -> Result<FluentResource, CatalogError> {
    FluentResource::try_new(source).map_err(|(resource, errors)| {
        let reasons: Vec<String> = errors
            .iter()
            .map(|e| {
                let line = resource.source()[..e.pos.start.min(resource.source().len())]
                    .matches('\n')
                    .count()
                    + 1;
                format!("line {line}: {}", e.kind)
            })
            .collect();
        CatalogError {
            file: file.to_owned(),
            reason: format!("syntax error: {}", reasons.join("; ")),
        }
    })
}

static BUILTIN: LazyLock<Arc<Catalog>> = LazyLock::new(|| {
    Arc::new(Catalog::load(None).expect("the shipped catalogs parse (tested by i18n::tests)"))
});

impl Catalog {
    /// The shipped catalogs alone, compiled once per process.
    pub fn builtin() -> Arc<Catalog> {
        Arc::clone(&BUILTIN)
    }

    /// Compiles the shipped catalogs, then each folder `{template_dir}/locales/{tag}/`: its
    /// `.ftl` files (in name order) add a locale, or override messages of a shipped one by
    /// id. A `template_dir` without a `locales` folder adds nothing.
    ///
    /// Errors: a [`CatalogError`] naming the file that cannot be read or does not parse, or
    /// a folder whose name is not a language tag.
    ///
    /// ```
    /// use nopassword_core::{i18n::Catalog, locale::Locale};
    ///
    /// let dir = std::env::temp_dir().join(format!("np-catalog-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(dir.join("locales/it"))?;
    /// std::fs::write(dir.join("locales/it/nopassword.ftl"), "required = Questo campo è obbligatorio.\n")?;
    /// std::fs::create_dir_all(dir.join("locales/es"))?;
    /// std::fs::write(dir.join("locales/es/mine.ftl"), "login-title = Entrar\n")?;
    ///
    /// let catalog = Catalog::load(Some(&dir))?;
    /// let it = Locale::parse("it")?;
    /// assert!(catalog.locales().contains(&it));
    /// assert_eq!(catalog.text(&it, "required"), "Questo campo è obbligatorio.");
    /// assert_eq!(catalog.text(&it, "log_in"), "Log in"); // not translated: English
    /// assert_eq!(catalog.text(&Locale::parse("es")?, "login-title"), "Entrar");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(template_dir: Option<&Path>) -> Result<Self, CatalogError> {
        let mut bundles = BTreeMap::new();
        let mut files: BTreeMap<Locale, Vec<String>> = BTreeMap::new();
        for &(tag, source) in SHIPPED {
            let locale = Locale::parse(tag).map_err(|e| CatalogError {
                file: format!("built-in {tag}"),
                reason: e.to_string(),
            })?;
            let file = format!("built-in {tag}");
            let mut bundle = new_bundle(&locale);
            bundle
                .add_resource(parse(&file, source.to_owned())?)
                .map_err(|errors| CatalogError {
                    file: file.clone(),
                    reason: format!("{errors:?}"),
                })?;
            files.entry(locale.clone()).or_default().push(file);
            bundles.insert(locale, bundle);
        }
        if let Some(root) = template_dir.map(|dir| dir.join(LOCALES_FOLDER)) {
            for (locale, folder) in app_folders(&root)? {
                let bundle = bundles
                    .entry(locale.clone())
                    .or_insert_with(|| new_bundle(&locale));
                for path in ftl_files(&folder)? {
                    let file = path.display().to_string();
                    let source = std::fs::read_to_string(&path).map_err(|e| CatalogError {
                        file: file.clone(),
                        reason: e.to_string(),
                    })?;
                    bundle.add_resource_overriding(parse(&file, source)?);
                    files.entry(locale.clone()).or_default().push(file);
                }
            }
        }
        let locales = bundles.keys().cloned().collect();
        Ok(Self {
            bundles,
            files,
            locales,
        })
    }

    /// Every locale the catalog has a bundle for (shipped and the app's), sorted: what
    /// `Accept-Language` is negotiated against.
    pub fn locales(&self) -> &[Locale] {
        &self.locales
    }

    /// Whether `locale` has a catalog of its own (not only through a fallback).
    pub fn has_locale(&self, locale: &Locale) -> bool {
        self.bundles.contains_key(locale)
    }

    /// The locale a message goes out in: `wanted` (the code's, [`LoginCode::locale`](crate::code::LoginCode::locale))
    /// when the catalog has it or its language, else `default` (`default_locale`).
    ///
    /// ```
    /// use nopassword_core::{i18n::Catalog, locale::Locale};
    ///
    /// let catalog = Catalog::builtin();
    /// let (es_mx, ja, de) = ("es-MX".parse()?, "ja".parse()?, "de".parse()?);
    /// assert_eq!(catalog.pick(Some(&es_mx), &de), es_mx);
    /// assert_eq!(catalog.pick(Some(&ja), &de), de);
    /// assert_eq!(catalog.pick(None, &Locale::en()), Locale::en());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn pick(&self, wanted: Option<&Locale>, default: &Locale) -> Locale {
        match wanted {
            Some(locale)
                if self.has_locale(locale)
                    || Locale::parse(locale.language()).is_ok_and(|l| self.has_locale(&l)) =>
            {
                locale.clone()
            }
            _ => default.clone(),
        }
    }

    /// The bundles to ask, in order: the locale's, its language's, English.
    fn chain<'a>(&'a self, locale: &Locale) -> impl Iterator<Item = (&'a Locale, &'a Bundle)> {
        let language = Locale::parse(locale.language()).ok();
        let en = Locale::en();
        [Some(locale.clone()), language, Some(en)]
            .into_iter()
            .flatten()
            .filter_map(|l| self.bundles.get_key_value(&l))
    }

    /// Message `id` in `locale` with `args`, falling back to the locale's language and then
    /// to English; `id` itself when no catalog has it (logged).
    ///
    /// ```
    /// use nopassword_core::{i18n::Catalog, locale::Locale};
    ///
    /// let catalog = Catalog::builtin();
    /// let de = Locale::parse("de-AT")?;
    /// assert_eq!(catalog.format(&de, "sms-code", &[("code", "123456".into())]), "123456 ist Ihr Anmeldecode.");
    /// assert_eq!(catalog.format(&de, "no-such-message", &[]), "no-such-message");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn format(&self, locale: &Locale, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        for (found_in, bundle) in self.chain(locale) {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                log_errors(found_in, id, &errors);
                return text.into_owned();
            }
        }
        tracing::warn!(locale = %locale, message = id, "no catalog has this message");
        id.to_owned()
    }

    /// Message `id` without arguments: [`format`](Self::format) with none.
    pub fn text(&self, locale: &Locale, id: &str) -> String {
        self.format(locale, id, &[])
    }

    /// A duration in words, with the locale's plural rules: `"1 hour 30 minutes"`,
    /// `"15 minutos"`, `"1 Tag"`; `"0 seconds"` for nothing. Days, hours, minutes and
    /// seconds that are not zero, largest first, joined by spaces.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nopassword_core::{i18n::Catalog, locale::Locale};
    ///
    /// let catalog = Catalog::builtin();
    /// assert_eq!(catalog.duration(&Locale::en(), Duration::from_secs(5400)), "1 hour 30 minutes");
    /// assert_eq!(catalog.duration(&Locale::parse("fr")?, Duration::from_secs(90_061)), "1 jour 1 heure 1 minute 1 seconde");
    /// assert_eq!(catalog.duration(&Locale::parse("de")?, Duration::from_secs(172_800)), "2 Tage");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn duration(&self, locale: &Locale, d: Duration) -> String {
        let secs = d.as_secs();
        let parts = [
            (secs / 86_400, "duration-days"),
            (secs % 86_400 / 3600, "duration-hours"),
            (secs % 3600 / 60, "duration-minutes"),
            (secs % 60, "duration-seconds"),
        ];
        let words: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|&(n, id)| self.format(locale, id, &[("n", n.into())]))
            .collect();
        if words.is_empty() {
            self.format(locale, "duration-seconds", &[("n", 0.into())])
        } else {
            words.join(" ")
        }
    }

    /// The message ids a locale's own files define (not counting fallbacks).
    pub fn message_ids(&self, locale: &Locale) -> Vec<String> {
        let Some(bundle) = self.bundles.get(locale) else {
            return Vec::new();
        };
        MESSAGES
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| bundle.has_message(id))
            .map(str::to_owned)
            .collect()
    }
}

/// Sample values for a message's arguments (tests and start-up checks render each message
/// once with them).
pub fn sample_args(names: &[&str]) -> Vec<(&'static str, FluentValue<'static>)> {
    names
        .iter()
        .map(|name| match *name {
            "n" => ("n", FluentValue::from(2)),
            "expires_in" => ("expires_in", "15 minutes".into()),
            "username" => ("username", "alice".into()),
            "requested_at" => ("requested_at", "2026-12-02 03:45 UTC".into()),
            "site" => ("site", "example.com".into()),
            "code" => ("code", "0123456789abcdef0123".into()),
            "number" => ("number", "42".into()),
            "device" => ("device", "Firefox, Linux".into()),
            "url" => (
                "url",
                "https://example.com/accounts/login-code/alice/0123456789abcdef0123/".into(),
            ),
            _ => ("unknown", "?".into()),
        })
        .collect()
}

/// The folders of `root`, each with its language tag; none when `root` does not exist.
fn app_folders(root: &Path) -> Result<Vec<(Locale, PathBuf)>, CatalogError> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(root, e)),
    };
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(root, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let locale = Locale::parse(&name).map_err(|e| CatalogError {
            file: path.display().to_string(),
            reason: format!("a folder of {LOCALES_FOLDER}/ is named by its language tag: {e}"),
        })?;
        folders.push((locale, path));
    }
    folders.sort();
    Ok(folders)
}

/// The `.ftl` files of `folder`, in name order.
fn ftl_files(folder: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(|e| io_error(folder, e))? {
        let path = entry.map_err(|e| io_error(folder, e))?.path();
        if path.extension().is_some_and(|ext| ext == "ftl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn io_error(path: &Path, e: io::Error) -> CatalogError {
    CatalogError {
        file: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// A shared catalog: what the pages, the e-mail and the SMS hold.
pub type SharedCatalog = Arc<Catalog>;

/// A request's language with the catalog to write in it: what the web adapters negotiate for
/// each request and hold for its handlers ([`Texts::scope`], feature `tokio`).
///
/// ```
/// use nopassword_core::{i18n::{Catalog, Texts}, locale::Locale};
///
/// let texts = Texts::new(Catalog::builtin(), "fr".parse()?);
/// assert_eq!(texts.text("log_out"), "Se déconnecter");
/// assert_eq!(Texts::english().text("log_out"), "Log out");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Texts {
    /// The catalog.
    pub catalog: Arc<Catalog>,
    /// The language.
    pub locale: Locale,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Texts")
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
tokio::task_local! {
    static REQUEST_TEXTS: Texts;
}

impl Texts {
    /// `locale` in `catalog`.
    pub fn new(catalog: Arc<Catalog>, locale: Locale) -> Self {
        Self { catalog, locale }
    }

    /// English from the shipped catalog: the original's strings.
    pub fn english() -> Self {
        Self::new(Catalog::builtin(), Locale::en())
    }

    /// Message `id` without arguments.
    pub fn text(&self, id: &str) -> String {
        self.catalog.text(&self.locale, id)
    }

    /// Runs `future` (a request's handling) with these texts as [`Texts::current`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use nopassword_core::{i18n::{Catalog, Texts}, locale::Locale};
    ///
    /// let es = Texts::new(Catalog::builtin(), "es".parse().unwrap());
    /// let inside = es.scope(async { Texts::current().locale }).await;
    /// assert_eq!(inside.as_str(), "es");
    /// assert_eq!(Texts::current().locale.as_str(), "en");
    /// # });
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn scope<F: std::future::Future>(self, future: F) -> F::Output {
        REQUEST_TEXTS.scope(self, future).await
    }

    /// The texts of the request being handled ([`scope`](Self::scope)), or
    /// [`english`](Self::english) outside one.
    #[cfg(feature = "tokio")]
    pub fn current() -> Self {
        REQUEST_TEXTS
            .try_with(Clone::clone)
            .unwrap_or_else(|_| Self::english())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Locale> {
        SHIPPED
            .iter()
            .map(|(tag, _)| Locale::parse(tag).expect("valid"))
            .collect()
    }

    /// Every shipped locale has every message of [`MESSAGES`] and no other: none missing,
    /// none unused (the code names only the ids of `MESSAGES`; xtask's tidy test checks that
    /// each of those is used).
    #[test]
    fn every_shipped_locale_has_exactly_every_message() {
        let known: std::collections::BTreeSet<&str> = MESSAGES.iter().map(|(id, _)| *id).collect();
        for &(tag, source) in SHIPPED {
            let resource = parse(tag, source.to_owned()).expect("parses");
            let mut defined = std::collections::BTreeSet::new();
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(message) = entry {
                    defined.insert(message.id.name);
                }
            }
            let missing: Vec<_> = known.difference(&defined).collect();
            let unused: Vec<_> = defined.difference(&known).collect();
            assert!(missing.is_empty(), "{tag} lacks {missing:?}");
            assert!(
                unused.is_empty(),
                "{tag} has messages no code uses: {unused:?}"
            );
        }
    }

    /// Each message of each shipped locale renders with sample arguments, without errors,
    /// naming each of its arguments and leaving no placeholder.
    #[test]
    fn every_message_renders_with_sample_arguments() {
        let catalog = Catalog::builtin();
        for locale in shipped() {
            let bundle = &catalog.bundles[&locale];
            for &(id, args) in MESSAGES {
                let pattern = bundle
                    .get_message(id)
                    .and_then(|m| m.value())
                    .unwrap_or_else(|| panic!("{locale} lacks {id}"));
                let mut fluent_args = FluentArgs::new();
                for (name, value) in sample_args(args) {
                    fluent_args.set(name, value);
                }
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                assert!(errors.is_empty(), "{locale} {id}: {errors:?}");
                assert!(!text.trim().is_empty(), "{locale} {id} is empty");
                assert!(
                    !text.contains('{') && !text.contains('$'),
                    "{locale} {id}: {text}"
                );
                for (name, value) in sample_args(args) {
                    let shown = match value {
                        FluentValue::String(s) => s.into_owned(),
                        other => format!(
                            "{}",
                            match other {
                                FluentValue::Number(n) => n.value,
                                _ => 0.0,
                            }
                        ),
                    };
                    assert!(text.contains(&shown), "{locale} {id} drops ${name}: {text}");
                }
                // A message without arguments must not expect any.
                let mut errors = Vec::new();
                if args.is_empty() {
                    bundle.format_pattern(pattern, None, &mut errors);
                    assert!(
                        errors.is_empty(),
                        "{locale} {id} names an argument: {errors:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn english_durations_match_the_original_words() {
        let catalog = Catalog::builtin();
        for secs in [0, 1, 59, 60, 61, 900, 3600, 5400, 86_400, 90_061, 604_800] {
            let d = Duration::from_secs(secs);
            assert_eq!(
                catalog.duration(&Locale::en(), d),
                crate::code::duration_in_words(d),
                "{secs}"
            );
        }
    }

    #[test]
    fn plural_rules_follow_the_locale() {
        let catalog = Catalog::builtin();
        let fr = Locale::parse("fr").expect("valid");
        let es = Locale::parse("es").expect("valid");
        // French counts 0 as singular, Spanish and English do not.
        assert_eq!(catalog.duration(&fr, Duration::ZERO), "0 seconde");
        assert_eq!(catalog.duration(&es, Duration::ZERO), "0 segundos");
        assert_eq!(
            catalog.duration(&es, Duration::from_secs(900)),
            "15 minutos"
        );
        assert_eq!(catalog.duration(&es, Duration::from_secs(60)), "1 minuto");
    }

    #[test]
    fn a_folder_that_is_not_a_tag_is_refused() {
        let dir = std::env::temp_dir().join(format!("np-i18n-bad-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("locales/not a tag")).expect("valid");
        let err = Catalog::load(Some(&dir)).expect_err("fails");
        assert!(err.to_string().contains("not a tag"), "{err}");
        std::fs::remove_dir_all(&dir).expect("valid");
    }

    #[test]
    fn the_catalog_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Catalog>();
    }
}
