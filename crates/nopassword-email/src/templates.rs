//! The login e-mail's templates: built in, overridable by name from a directory, checked when
//! loaded. They load and render through core's one template environment
//! ([`Templates`](nopassword_core::templates::Templates)).

use std::{fmt, path::Path, sync::Arc};

use nopassword_core::{
    code::LoginCode,
    i18n::Catalog,
    locale::Locale,
    templates::{MessageContext, TemplateError, Templates},
};

use crate::EmailError;

/// File name of the plain-text template.
pub const TEXT_TEMPLATE: &str = "login_email.txt";

/// File name of the HTML template.
pub const HTML_TEMPLATE: &str = "login_email.html";

/// The built-in plain-text template, used when the template directory has no
/// `login_email.txt`.
///
/// ```
/// assert!(nopassword_email::DEFAULT_TEXT_TEMPLATE.contains("{{ url }}"));
/// ```
pub const DEFAULT_TEXT_TEMPLATE: &str = include_str!("../templates/login_email.txt");

/// The built-in HTML template, used when the template directory has no `login_email.html`.
///
/// ```
/// assert!(nopassword_email::DEFAULT_HTML_TEMPLATE.contains(r#"<a href="{{ url }}">"#));
/// ```
pub const DEFAULT_HTML_TEMPLATE: &str = include_str!("../templates/login_email.html");

/// The two bodies of one login e-mail. `Debug` shows only their sizes: both hold the code.
///
/// ```
/// # use std::{sync::Arc, time::{Duration, SystemTime}};
/// # use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
/// use nopassword_email::LoginEmailTemplates;
///
/// # let code = LoginCode::new(
/// #     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
/// #     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
/// #     Arc::new(UrlConfig::from_settings(&Settings::default())),
/// # );
/// let email = LoginEmailTemplates::load(None)?.render(&code, false, None)?;
/// assert!(!format!("{email:?}").contains("0123456789abcdef0123"));
/// # Ok::<_, nopassword_email::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LoginEmail {
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
}

impl fmt::Debug for LoginEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginEmail")
            .field("text", &format_args!("[{} bytes]", self.text.len()))
            .field("html", &format_args!("[{} bytes]", self.html.len()))
            .finish()
    }
}

/// The compiled `login_email.txt` and `login_email.html` templates (minijinja, Jinja2 syntax),
/// loaded through core's [`Templates`].
///
/// Each is read from the template directory when it holds a file of that name, else the
/// built-in one ([`DEFAULT_TEXT_TEMPLATE`], [`DEFAULT_HTML_TEMPLATE`]) is used. Overrides
/// may `{% include %}` or `{% extends %}` other files of the directory. Loading renders both
/// once with sample values, so syntax errors, unknown filters and misspelt variables are
/// reported then, naming the file.
///
/// The context of both templates is a [`MessageContext`]:
///
/// | variable | value |
/// |---|---|
/// | `url` | the login link |
/// | `code` | the code, for typing into the login-code form |
/// | `username` | the user's username |
/// | `site` | the host named in the link (`example.com`, `localhost:8000`) |
/// | `expires_in` | how long the code is valid, in English words: `15 minutes`, `1 hour 30 minutes` |
/// | `expires_in_seconds` | the same as a number of seconds (`900`), to word it yourself |
///
/// The HTML template escapes every value (`&`, `<`, `>`, `"` and `'`); the text template
/// prints values as they are. A variable not in this list is an error, except as the test of
/// an `{% if %}`.
///
/// ```
/// use nopassword_email::LoginEmailTemplates;
///
/// let dir = std::env::temp_dir().join(format!("nopassword-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("login_email.txt"), "Your link: {{ url }}")?;
/// let templates = LoginEmailTemplates::load(Some(&dir))?;
/// assert!(templates.text_file().ends_with("login_email.txt"));
/// assert_eq!(templates.html_file(), "built-in login_email.html");
///
/// std::fs::write(dir.join("login_email.txt"), "Your link: {{ ulr }}")?;
/// let err = LoginEmailTemplates::load(Some(&dir)).unwrap_err();
/// assert!(err.to_string().contains("login_email.txt"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub struct LoginEmailTemplates {
    templates: Templates,
    catalog: Arc<Catalog>,
    default_locale: Locale,
}

impl fmt::Debug for LoginEmailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginEmailTemplates")
            .field("text_file", &self.text_file())
            .field("html_file", &self.html_file())
            .finish()
    }
}

/// The built-ins, by name.
const BUILTINS: &[(&str, &str)] = &[
    (TEXT_TEMPLATE, DEFAULT_TEXT_TEMPLATE),
    (HTML_TEMPLATE, DEFAULT_HTML_TEMPLATE),
];

impl LoginEmailTemplates {
    /// Loads the templates, overriding the built-ins with the files of `dir` (if given) of
    /// the same name, and checks them by rendering both once.
    ///
    /// Errors: [`EmailError::InvalidSetting`] (`template_dir`) when `dir` is not a directory,
    /// [`EmailError::Template`] naming the file that cannot be read, compiled or rendered.
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// assert_eq!(templates.text_file(), "built-in login_email.txt");
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn load(dir: Option<&Path>) -> Result<Self, EmailError> {
        Self::load_in(dir, &Locale::en())
    }

    /// [`load`](Self::load) with the messages of `template_dir/locales/` ([`Catalog::load`])
    /// and `default_locale`, the language of a code that names none the catalog has. Both
    /// bodies are rendered once in every locale of the catalog.
    ///
    /// Errors: those of [`load`](Self::load), a catalog file that does not parse
    /// ([`EmailError::Template`]), and a `default_locale` the catalog lacks
    /// ([`EmailError::InvalidSetting`]).
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load_in(None, &"fr".parse()?)?;
    /// assert!(nopassword_email::LoginEmailTemplates::load_in(None, &"ja".parse()?).is_err());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_in(dir: Option<&Path>, default_locale: &Locale) -> Result<Self, EmailError> {
        if let Some(dir) = dir.filter(|dir| !dir.is_dir()) {
            return Err(EmailError::InvalidSetting {
                key: "template_dir",
                value: dir.display().to_string(),
                accepted: "an existing directory",
            });
        }
        let catalog = Arc::new(Catalog::load(dir).map_err(|error| {
            template_error(TemplateError {
                name: error.file,
                reason: error.reason,
            })
        })?);
        if !catalog.has_locale(default_locale) {
            return Err(EmailError::InvalidSetting {
                key: "default_locale",
                value: default_locale.to_string(),
                accepted: "a locale with a catalog: en, es, de, fr, or a folder of template_dir/locales/",
            });
        }
        let templates = Self {
            templates: Templates::load_with_catalog(BUILTINS, dir, catalog.clone())
                .map_err(template_error)?,
            catalog,
            default_locale: default_locale.clone(),
        };
        for locale in templates.catalog.locales() {
            templates
                .render_context(MessageContext::sample().in_locale(&templates.catalog, locale))?;
        }
        Ok(templates)
    }

    /// The language `code`'s mail is written in: its locale
    /// ([`LoginCode::locale`]: the user's, else the request's) when the catalog has it, else
    /// `default_locale`.
    pub fn locale_of(&self, code: &LoginCode) -> Locale {
        self.catalog.pick(code.locale(), &self.default_locale)
    }

    /// The subject in `locale`: `english` (the `login_email_subject` setting) for English,
    /// else the catalog's `mail-subject`.
    pub fn subject(&self, locale: &Locale, english: &str) -> String {
        if locale.is_english() {
            english.to_owned()
        } else {
            self.catalog.text(locale, "mail-subject")
        }
    }

    /// Where the text template came from: its path, or `built-in login_email.txt`.
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// assert_eq!(templates.text_file(), "built-in login_email.txt");
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn text_file(&self) -> &str {
        self.templates.file(TEXT_TEMPLATE).unwrap_or(TEXT_TEMPLATE)
    }

    /// Where the HTML template came from: its path, or `built-in login_email.html`.
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// assert_eq!(templates.html_file(), "built-in login_email.html");
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn html_file(&self) -> &str {
        self.templates.file(HTML_TEMPLATE).unwrap_or(HTML_TEMPLATE)
    }

    /// Renders both bodies for `code`; `secure` and `host` describe the request that asked
    /// for it, as in [`LoginCodeSender::send_login_code`](nopassword_core::LoginCodeSender).
    ///
    /// ```
    /// # use std::{sync::Arc, time::{Duration, SystemTime}};
    /// # use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
    /// # let code = LoginCode::new(
    /// #     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
    /// #     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
    /// #     Arc::new(UrlConfig::from_settings(&Settings::default())),
    /// # );
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// let email = templates.render(&code, true, Some("localhost:8000"))?;
    /// let url = "https://localhost:8000/accounts/login-code/alice/0123456789abcdef0123/";
    /// assert!(email.text.contains(url) && email.html.contains(url));
    /// assert!(email.text.contains("15 minutes"));
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn render(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<LoginEmail, EmailError> {
        let locale = self.locale_of(code);
        self.render_context(
            MessageContext::new(code, secure, host).in_locale(&self.catalog, &locale),
        )
    }

    fn render_context(&self, context: MessageContext<'_>) -> Result<LoginEmail, EmailError> {
        let render = |name: &str| {
            self.templates
                .render(name, &context)
                .map_err(template_error)
        };
        Ok(LoginEmail {
            text: render(TEXT_TEMPLATE)?,
            html: render(HTML_TEMPLATE)?,
        })
    }
}

/// [`EmailError::Template`], naming the file as core's error does.
fn template_error(error: TemplateError) -> EmailError {
    EmailError::Template {
        file: error.name,
        source: error.reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        let t = LoginEmailTemplates::load(None).expect("built-ins are valid");
        let email = t.render_context(MessageContext::sample()).expect("renders");
        assert!(email.text.contains("0123456789abcdef0123"));
        assert!(email.html.contains(
            r#"<a href="https://example.com/accounts/login-code/alice/0123456789abcdef0123/">"#
        ));
    }

    /// Loads `files` as overrides from a fresh directory; the error, with the path of `file`.
    fn load_overrides(files: &[(&str, &str)], file: &str) -> (EmailError, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, source) in files {
            std::fs::write(dir.path().join(name), source).expect("write template");
        }
        let err = LoginEmailTemplates::load(Some(dir.path())).expect_err("fails at load");
        (err, dir.path().join(file).display().to_string())
    }

    #[test]
    fn an_override_with_an_undefined_variable_fails_the_load_naming_it() {
        for name in [TEXT_TEMPLATE, HTML_TEMPLATE] {
            let (err, file) = load_overrides(&[(name, "{{ url }} {{ ulr }}")], name);
            assert!(
                matches!(&err, EmailError::Template { file: f, .. } if *f == file),
                "{name}: {err:?}"
            );
            assert!(err.to_string().contains("`ulr` is undefined"), "{err}");
        }
    }

    #[test]
    fn an_override_including_a_missing_file_fails_the_load_naming_it() {
        let (err, file) = load_overrides(
            &[(HTML_TEMPLATE, "{{ url }}{% include \"footer.html\" %}")],
            HTML_TEMPLATE,
        );
        assert!(
            matches!(&err, EmailError::Template { file: f, .. } if *f == file),
            "{err:?}"
        );
        assert!(err.to_string().contains("footer.html"), "{err}");
        // An included file with a typo fails too.
        let (err, _) = load_overrides(
            &[
                (TEXT_TEMPLATE, "{% include \"footer.txt\" %}"),
                ("footer.txt", "{{ sit }}"),
            ],
            TEXT_TEMPLATE,
        );
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(chain.contains("footer.txt"), "{chain}");
        assert!(chain.contains("`sit` is undefined"), "{chain}");
    }

    #[test]
    fn missing_dir_is_a_setting_error() {
        let err = LoginEmailTemplates::load(Some(Path::new("/nonexistent/nopassword")))
            .expect_err("no such dir");
        assert!(
            matches!(
                err,
                EmailError::InvalidSetting {
                    key: "template_dir",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
