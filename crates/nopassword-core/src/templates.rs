//! The one template environment of nopassword-rs (feature `templates`): the web adapters'
//! pages, the login e-mail and the SMS all load and render through [`Templates`].
//!
//! A crate hands [`Templates::load`] its built-in templates as `(name, source)` pairs and the
//! app's `template_dir`. Each built-in is replaced by the file of the same name in that
//! directory when there is one, and the templates may `{% include %}`, `{% extends %}` or
//! `{% import %}` any other file of the directory. The syntax is Jinja2's, through
//! [minijinja](https://docs.rs/minijinja).
//!
//! One policy for every template:
//!
//! - **Undefined variables are errors**: printing, iterating, filtering or reading an attribute
//!   of a variable the context does not have fails the render, naming the template, the line
//!   and the variable. Only the test of an `{% if %}` may name an undefined variable (it is
//!   false), so an optional variable can be tested for.
//! - **Escaping by file name**: `.html` (and `.htm`) templates escape `&`, `<`, `>`, `"` and
//!   `'` in every value; any other (`.txt`) prints values as they are.
//! - **Read once**: the files are read when loaded (included files at their first use) and not
//!   again, so an edit never reaches a running server unchecked.
//! - **Texts from the catalog**: `{{ t("login-title") }}` is message `login-title` of the
//!   [`Catalog`] in the locale named by the context's `lang` variable (English without one);
//!   named arguments become the message's: `{{ t("mail-hello", username=username) }}`. In an
//!   `.html` template the arguments are escaped and the message's own text is taken as HTML
//!   (a translator writes `&amp;` for `&`); elsewhere the text is printed as it is.
//!
//! ```
//! use nopassword_core::templates::Templates;
//!
//! const BUILTINS: &[(&str, &str)] = &[
//!     ("hello.txt", "Hello {{ name }}!"),
//!     ("hello.html", "<p>Hello {{ name }}!</p>"),
//! ];
//!
//! let templates = Templates::load(BUILTINS, None)?;
//! let context = serde_json::json!({ "name": "<Alice>" });
//! assert_eq!(templates.render("hello.txt", &context)?, "Hello <Alice>!");
//! assert_eq!(templates.render("hello.html", &context)?, "<p>Hello &lt;Alice&gt;!</p>");
//!
//! let err = templates.render("hello.txt", serde_json::json!({ "nmae": "Alice" })).unwrap_err();
//! assert!(err.to_string().contains("built-in hello.txt"), "{err}");
//! assert!(err.to_string().contains("`name` is undefined"), "{err}");
//!
//! let templates = Templates::load(&[("title.html", "{{ t('login-title') }} &middot; <b>{{ t('mail-hello', username='<i>') }}</b>")], None)?;
//! assert_eq!(templates.render("title.html", serde_json::json!({}))?, "Log in &middot; <b>Hello &lt;i&gt;,</b>");
//! assert_eq!(templates.render("title.html", serde_json::json!({ "lang": "es" }))?, "Iniciar sesión &middot; <b>Hola, &lt;i&gt;:</b>");
//! # Ok::<_, nopassword_core::templates::TemplateError>(())
//! ```

use std::{collections::BTreeMap, fmt, io, path::Path, sync::Arc, time::Duration};

use fluent_bundle::FluentValue;
use minijinja::{
    AutoEscape, Environment, State, UndefinedBehavior, Value, path_loader,
    value::{Kwargs, Serde},
};
use serde::Serialize;

use crate::{
    code::{LoginCode, duration_in_words},
    i18n::Catalog,
    locale::Locale,
};

/// A template that could not be read, parsed or rendered.
///
/// ```
/// use nopassword_core::templates::{TemplateError, Templates};
///
/// let err = Templates::load(&[("broken.txt", "{% if %}")], None).unwrap_err();
/// assert_eq!(err.name, "built-in broken.txt");
/// assert!(err.to_string().starts_with("template built-in broken.txt: syntax error"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {reason}")]
pub struct TemplateError {
    /// The template's file: the path of an override in `template_dir`, or `built-in NAME`.
    pub name: String,
    /// What went wrong, with the line (and, for an undefined variable, its name).
    pub reason: String,
}

impl TemplateError {
    /// `reason` with its causes: an error inside an included file names that file and then
    /// what went wrong in it.
    fn new(name: impl Into<String>, reason: impl std::error::Error) -> Self {
        let mut text = reason.to_string();
        let mut cause = reason.source();
        while let Some(inner) = cause {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            cause = inner.source();
        }
        Self {
            name: name.into(),
            reason: text,
        }
    }
}

/// Compiled templates: a crate's built-ins, each overridden by the file of the same name in
/// `template_dir` when there is one. See the [module docs](self) for the policy they share.
///
/// `Debug` names the templates and where each came from, not their sources.
///
/// ```
/// use nopassword_core::templates::Templates;
///
/// let dir = std::env::temp_dir().join(format!("np-templates-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("greeting.txt"), "{% include \"name.txt\" %}, welcome.")?;
/// std::fs::write(dir.join("name.txt"), "{{ name | upper }}")?;
///
/// let templates = Templates::load(&[("greeting.txt", "Hi {{ name }}")], Some(&dir))?;
/// assert_eq!(templates.file("greeting.txt"), Some(dir.join("greeting.txt").display().to_string().as_str()));
/// assert_eq!(templates.render("greeting.txt", serde_json::json!({ "name": "bob" }))?, "BOB, welcome.");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub struct Templates {
    env: Environment<'static>,
    /// Each built-in's name and where its source came from.
    files: BTreeMap<&'static str, String>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// Compiles `builtins`, replacing each with the file of the same name in `template_dir`
    /// when there is one; other files of `template_dir` are found by `{% include %}` and
    /// `{% extends %}`. A directory that does not exist holds no overrides.
    ///
    /// Errors: a [`TemplateError`] naming the file that cannot be read or does not parse.
    /// Variables are checked only when rendering: render once with sample values to check
    /// them at start-up.
    ///
    /// ```
    /// use nopassword_core::templates::Templates;
    ///
    /// let templates = Templates::load(&[("a.txt", "{{ x }}")], None)?;
    /// assert_eq!(templates.file("a.txt"), Some("built-in a.txt"));
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn load(
        builtins: &[(&'static str, &'static str)],
        template_dir: Option<&Path>,
    ) -> Result<Self, TemplateError> {
        Self::load_with_catalog(builtins, template_dir, Catalog::builtin())
    }

    /// [`load`](Self::load) with the texts of `t()` from `catalog` (the shipped catalogs and
    /// the app's, [`Catalog::load`]) instead of the shipped ones alone.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nopassword_core::{i18n::Catalog, templates::Templates};
    ///
    /// let templates = Templates::load_with_catalog(&[("a.txt", "{{ t('log_in') }}")], None, Catalog::builtin())?;
    /// assert_eq!(templates.render("a.txt", serde_json::json!({ "lang": "de" }))?, "Anmelden");
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn load_with_catalog(
        builtins: &[(&'static str, &'static str)],
        template_dir: Option<&Path>,
        catalog: Arc<Catalog>,
    ) -> Result<Self, TemplateError> {
        Self::with_undefined(
            builtins,
            template_dir,
            UndefinedBehavior::SemiStrict,
            catalog,
        )
    }

    /// [`load`](Self::load) with another undefined policy (tests check the built-ins with
    /// `Strict`, which also refuses an undefined variable as an `{% if %}` test).
    pub(crate) fn with_undefined(
        builtins: &[(&'static str, &'static str)],
        template_dir: Option<&Path>,
        undefined: UndefinedBehavior,
        catalog: Arc<Catalog>,
    ) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.add_function(
            "t",
            move |state: &State<'_, '_>, id: &str, kwargs: Kwargs| {
                translate(&catalog, state, id, &kwargs)
            },
        );
        env.set_undefined_behavior(undefined);
        // Name the undefined variable in errors, in release builds too.
        env.set_debug(true);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".htm") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // minijinja's HTML escaping also turns `/` into `&#x2f;`, which mangles every link in
        // a page's or mail's source; `&<>"'` are the characters that matter in HTML.
        env.set_formatter(|out, state, value| {
            if *state.auto_escape() == AutoEscape::Html
                && !value.is_safe()
                && !value.is_undefined()
                && !value.is_none()
            {
                out.write_str(&escape_html(&value.to_string()))?;
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        if let Some(dir) = template_dir {
            env.set_loader(path_loader(dir));
            env.set_auto_reload(false);
        }
        let mut files = BTreeMap::new();
        for &(name, builtin) in builtins {
            let file = match template_dir.map(|dir| dir.join(name)) {
                Some(path) => match std::fs::read_to_string(&path) {
                    Ok(source) => {
                        let file = path.display().to_string();
                        env.add_template_owned(name, source)
                            .map_err(|e| TemplateError::new(&file, e))?;
                        Some(file)
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                    Err(e) => return Err(TemplateError::new(path.display().to_string(), e)),
                },
                None => None,
            };
            let file = match file {
                Some(file) => file,
                None => {
                    let file = format!("built-in {name}");
                    env.add_template(name, builtin)
                        .map_err(|e| TemplateError::new(&file, e))?;
                    file
                }
            };
            files.insert(name, file);
        }
        Ok(Self { env, files })
    }

    /// Where built-in `name` came from: the path of its override, or `built-in NAME`; `None`
    /// for a name that is not a built-in.
    ///
    /// ```
    /// use nopassword_core::templates::Templates;
    ///
    /// let templates = Templates::load(&[("a.txt", "a")], None)?;
    /// assert_eq!(templates.file("a.txt"), Some("built-in a.txt"));
    /// assert_eq!(templates.file("b.txt"), None);
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// Renders template `name` (a built-in, or a file of `template_dir`) with `context`,
    /// usually a struct deriving [`Serialize`] or a map.
    ///
    /// Errors: a [`TemplateError`] naming the template's file, with minijinja's reason: an
    /// undefined variable (named), a failing filter, an included file that is missing or
    /// does not parse.
    ///
    /// ```
    /// use nopassword_core::templates::Templates;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Context<'a> { url: &'a str }
    ///
    /// let templates = Templates::load(&[("link.html", r#"<a href="{{ url }}">"#)], None)?;
    /// let html = templates.render("link.html", Context { url: "/a?b=1&c=2" })?;
    /// assert_eq!(html, r#"<a href="/a?b=1&amp;c=2">"#);
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(Serde(&context)))
            .map_err(|e| TemplateError::new(self.file(name).unwrap_or(name), e))
    }
}

/// The `t()` of every template: message `id` in the locale of the context's `lang`.
fn translate(
    catalog: &Catalog,
    state: &State<'_, '_>,
    id: &str,
    kwargs: &Kwargs,
) -> Result<Value, minijinja::Error> {
    let locale = state
        .lookup("lang")
        .and_then(|lang| lang.as_str().and_then(|tag| Locale::parse(tag).ok()))
        .unwrap_or_default();
    let html = *state.auto_escape() == AutoEscape::Html;
    let mut args: Vec<(&str, FluentValue<'_>)> = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let value = match value.as_i64() {
            Some(n) if value.is_number() => FluentValue::from(n),
            _ if html && !value.is_safe() => FluentValue::from(escape_html(&value.to_string())),
            _ => FluentValue::from(value.to_string()),
        };
        args.push((name, value));
    }
    let text = catalog.format(&locale, id, &args);
    Ok(if html {
        Value::from_safe_string(text)
    } else {
        Value::from(text)
    })
}

/// The variables of a login-code message: the context of the login e-mail's templates
/// (nopassword-email) and of the SMS's (nopassword-twilio), so both name them alike.
///
/// | variable | value |
/// |---|---|
/// | `url` | the login link |
/// | `code` | the code, for typing into the login-code form |
/// | `username` | the user's username |
/// | `site` | the host named in the link (`example.com`, `localhost:8000`) |
/// | `expires_in` | how long the code is valid, in words: `15 minutes`, `1 hour 30 minutes` (English, or the language of [`in_locale`](MessageContext::in_locale)) |
/// | `expires_in_seconds` | the same as a number of seconds (`900`), to word it yourself |
/// | `lang`, `dir` | the message's locale (`en`, `es`) and writing direction (`ltr`, `rtl`); `t()` writes in `lang` |
///
/// [`in_locale`](MessageContext::in_locale) words `expires_in` in another language.
///
/// It holds the code, so it has no `Debug`.
///
/// ```
/// # use std::{sync::Arc, time::{Duration, SystemTime}};
/// # use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
/// use nopassword_core::templates::{MessageContext, Templates};
///
/// # let code = LoginCode::new(
/// #     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
/// #     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
/// #     Arc::new(UrlConfig::from_settings(&Settings::default())),
/// # );
/// let templates = Templates::load(&[("sms.txt", "{{ code }}: {{ url }} ({{ expires_in }})")], None)?;
/// let text = templates.render("sms.txt", MessageContext::new(&code, true, Some("localhost:8000")))?;
/// assert_eq!(
///     text,
///     "0123456789abcdef0123: https://localhost:8000/accounts/login-code/alice/0123456789abcdef0123/ (15 minutes)"
/// );
/// # Ok::<_, nopassword_core::templates::TemplateError>(())
/// ```
#[derive(Serialize)]
pub struct MessageContext<'a> {
    url: String,
    code: &'a str,
    username: &'a str,
    site: &'a str,
    expires_in: String,
    expires_in_seconds: u64,
    lang: String,
    dir: &'static str,
}

impl<'a> MessageContext<'a> {
    /// The same message in `locale`: `lang`, `dir` and `expires_in` from `catalog`.
    ///
    /// ```
    /// use nopassword_core::{i18n::Catalog, templates::{MessageContext, Templates}};
    ///
    /// let templates = Templates::load(&[("sms.txt", "{{ t('sms-expires', expires_in=expires_in) }} ({{ lang }})")], None)?;
    /// let context = MessageContext::sample().in_locale(&Catalog::builtin(), &"fr".parse()?);
    /// assert_eq!(templates.render("sms.txt", context)?, "Il expire dans 15 minutes. (fr)");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_locale(mut self, catalog: &Catalog, locale: &Locale) -> Self {
        self.expires_in = catalog.duration(locale, Duration::from_secs(self.expires_in_seconds));
        self.lang = locale.as_str().to_owned();
        self.dir = locale.dir();
        self
    }

    /// The context for `code`; `secure` and `host` describe the request that asked for it, as
    /// in [`LoginCodeSender::send_login_code`](crate::LoginCodeSender::send_login_code).
    pub fn new(code: &'a LoginCode, secure: bool, host: Option<&'a str>) -> Self {
        let valid_for = code.valid_for();
        Self {
            url: code.login_url(secure, host),
            code: code.code().expose(),
            username: &code.user().username,
            site: code.link_host(host),
            expires_in: duration_in_words(valid_for),
            expires_in_seconds: valid_for.as_secs(),
            lang: "en".into(),
            dir: "ltr",
        }
    }

    /// Sample values (alice's code on `example.com`, valid 15 minutes): render a template
    /// with them once when loading it, so a misspelt variable stops start-up.
    ///
    /// ```
    /// use nopassword_core::templates::{MessageContext, Templates};
    ///
    /// let templates = Templates::load(&[("a.txt", "{{ username }} {{ ulr }}")], None)?;
    /// let err = templates.render("a.txt", MessageContext::sample()).unwrap_err();
    /// assert!(err.to_string().contains("`ulr` is undefined"), "{err}");
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn sample() -> MessageContext<'static> {
        MessageContext {
            url: "https://example.com/accounts/login-code/alice/0123456789abcdef0123/".into(),
            code: "0123456789abcdef0123",
            username: "alice",
            site: "example.com",
            expires_in: "15 minutes".into(),
            expires_in_seconds: 900,
            lang: "en".into(),
            dir: "ltr",
        }
    }
}

/// Escapes the characters that are special in HTML text and quoted attributes.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;

    /// A fresh directory under the system's temporary one, removed when dropped.
    pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "np-core-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::create_dir_all(&path).expect("temp dir");
            Self(path)
        }

        pub(crate) fn write(&self, name: &str, source: &str) {
            std::fs::write(self.0.join(name), source).expect("write template");
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    #[test]
    fn html_escapes_the_five_characters_and_keeps_slashes() {
        assert_eq!(
            escape_html(r#"<b>o'hara&co</b> "x" https://a/b"#),
            "&lt;b&gt;o&#x27;hara&amp;co&lt;/b&gt; &quot;x&quot; https://a/b"
        );
        let templates = Templates::load(
            &[("a.html", "{{ v }}|{{ v | safe }}"), ("a.txt", "{{ v }}")],
            None,
        )
        .expect("loads");
        let context = json!({ "v": "<a href='/x'>&</a>" });
        assert_eq!(
            templates.render("a.html", &context).expect("renders"),
            "&lt;a href=&#x27;/x&#x27;&gt;&amp;&lt;/a&gt;|<a href='/x'>&</a>"
        );
        assert_eq!(
            templates.render("a.txt", &context).expect("renders"),
            "<a href='/x'>&</a>"
        );
    }

    #[test]
    fn an_override_replaces_its_builtin_and_may_include_other_files() {
        let dir = TempDir::new("override");
        dir.write(
            "page.html",
            "{% extends \"layout.html\" %}{% block b %}{% include \"part.html\" %}{% endblock %}",
        );
        dir.write("layout.html", "[{% block b %}{% endblock %}]");
        dir.write("part.html", "{{ v }}");
        let templates = Templates::load(
            &[
                ("page.html", "built-in {{ v }}"),
                ("other.html", "other {{ v }}"),
            ],
            Some(&dir.0),
        )
        .expect("loads");
        let context = json!({ "v": "<x>" });
        assert_eq!(
            templates.render("page.html", &context).expect("r"),
            "[&lt;x&gt;]"
        );
        assert_eq!(
            templates.render("other.html", &context).expect("r"),
            "other &lt;x&gt;"
        );
        let page = dir.0.join("page.html").display().to_string();
        assert_eq!(templates.file("page.html"), Some(page.as_str()));
        assert_eq!(templates.file("other.html"), Some("built-in other.html"));
    }

    #[test]
    fn a_missing_directory_holds_no_overrides() {
        let templates = Templates::load(
            &[("a.txt", "a")],
            Some(Path::new("/nonexistent/nopassword-templates")),
        )
        .expect("loads");
        assert_eq!(templates.render("a.txt", json!({})).expect("r"), "a");
    }

    #[test]
    fn a_template_that_does_not_parse_is_an_error_naming_its_file() {
        let err =
            Templates::load(&[("a.txt", "{{ x }"), ("b.txt", "b")], None).expect_err("syntax");
        assert_eq!(err.name, "built-in a.txt");
        assert!(err.reason.contains("syntax error"), "{err}");

        let dir = TempDir::new("broken");
        dir.write("b.txt", "{% if %}");
        let err =
            Templates::load(&[("a.txt", "a"), ("b.txt", "b")], Some(&dir.0)).expect_err("syntax");
        assert_eq!(err.name, dir.0.join("b.txt").display().to_string());

        // An included file is compiled when first used: the render fails, naming it.
        dir.write("b.txt", "{% include \"part.txt\" %}");
        dir.write("part.txt", "{% for %}");
        let templates = Templates::load(&[("b.txt", "b")], Some(&dir.0)).expect("loads");
        let err = templates
            .render("b.txt", json!({}))
            .expect_err("include fails");
        assert!(err.to_string().contains("part.txt"), "{err}");
    }

    #[test]
    fn an_undefined_variable_fails_the_render_naming_template_and_variable() {
        let templates = Templates::load(
            &[
                ("print.txt", "{{ v }} {{ typo }}"),
                ("attr.txt", "{{ v.missing.deeper }}"),
                ("loop.txt", "{% for x in items %}{% endfor %}"),
                ("filter.txt", "{{ nothing | upper }}"),
                ("test.txt", "{% if optional %}yes{% else %}no{% endif %}"),
            ],
            None,
        )
        .expect("loads");
        let context = json!({ "v": {} });
        for (name, variable) in [
            ("print.txt", "typo"),
            ("attr.txt", "v.missing"),
            ("loop.txt", "items"),
            ("filter.txt", "nothing"),
        ] {
            let err = templates.render(name, &context).expect_err(name);
            let shown = err.to_string();
            assert!(shown.contains(&format!("built-in {name}")), "{shown}");
            assert!(shown.contains(&format!("`{variable}`")), "{shown}");
        }
        assert_eq!(templates.render("test.txt", &context).expect("if"), "no");
    }

    #[test]
    fn an_unknown_template_is_an_error_naming_it() {
        let templates = Templates::load(&[], None).expect("loads");
        let err = templates
            .render("nope.html", json!({}))
            .expect_err("unknown");
        assert_eq!(err.name, "nope.html");
        assert!(err.reason.contains("not found"), "{err}");
    }

    #[test]
    fn debug_shows_files_not_sources() {
        let templates = Templates::load(&[("a.txt", "secret source")], None).expect("loads");
        let shown = format!("{templates:?}");
        assert!(shown.contains("built-in a.txt"), "{shown}");
        assert!(!shown.contains("secret source"), "{shown}");
    }
}
