//! The login e-mail's templates: built in, overridable by name from a directory, checked when
//! loaded.

use std::{
    fmt, io,
    path::{Path, PathBuf},
};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context, path_loader};
use nopassword_core::LoginCode;

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
/// # use nopassword_core::{LoginCode, PlaintextCode, Recipient, Settings, UrlConfig};
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

/// The compiled `login_email.txt` and `login_email.html` templates (minijinja, Jinja2 syntax).
///
/// Each is read from the template directory when it holds a file of that name, else the
/// built-in one ([`DEFAULT_TEXT_TEMPLATE`], [`DEFAULT_HTML_TEMPLATE`]) is used. Overrides
/// may `{% include %}` or `{% extends %}` other files of the directory. Loading renders both
/// once with sample values, so syntax errors, unknown filters and misspelt variables are
/// reported then, naming the file.
///
/// The context of both templates:
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
    env: Environment<'static>,
    text_file: String,
    html_file: String,
}

impl fmt::Debug for LoginEmailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginEmailTemplates")
            .field("text_file", &self.text_file)
            .field("html_file", &self.html_file)
            .finish()
    }
}

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
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".htm") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // minijinja's HTML escaping also turns `/` into `&#x2f;`, which mangles every link
        // in the mail's source; `&<>"'` are the characters that matter in HTML.
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
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(EmailError::InvalidSetting {
                    key: "template_dir",
                    value: dir.display().to_string(),
                    accepted: "an existing directory",
                });
            }
            env.set_loader(path_loader(dir));
            // Included files are read once, at the check below; later edits would otherwise
            // reach a running server unchecked.
            env.set_auto_reload(false);
        }
        let text_file = add(&mut env, dir, TEXT_TEMPLATE, DEFAULT_TEXT_TEMPLATE)?;
        let html_file = add(&mut env, dir, HTML_TEMPLATE, DEFAULT_HTML_TEMPLATE)?;
        let templates = Self {
            env,
            text_file,
            html_file,
        };
        templates.render_values(&sample_context())?;
        Ok(templates)
    }

    /// Where the text template came from: its path, or `built-in login_email.txt`.
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// assert_eq!(templates.text_file(), "built-in login_email.txt");
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn text_file(&self) -> &str {
        &self.text_file
    }

    /// Where the HTML template came from: its path, or `built-in login_email.html`.
    ///
    /// ```
    /// let templates = nopassword_email::LoginEmailTemplates::load(None)?;
    /// assert_eq!(templates.html_file(), "built-in login_email.html");
    /// # Ok::<_, nopassword_email::EmailError>(())
    /// ```
    pub fn html_file(&self) -> &str {
        &self.html_file
    }

    /// Renders both bodies for `code`; `secure` and `host` describe the request that asked
    /// for it, as in [`LoginCodeSender::send_login_code`](nopassword_core::LoginCodeSender).
    ///
    /// ```
    /// # use std::{sync::Arc, time::{Duration, SystemTime}};
    /// # use nopassword_core::{LoginCode, PlaintextCode, Recipient, Settings, UrlConfig};
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
        let url = code.login_url(secure, host);
        let site = code.link_host(host).to_owned();
        let valid_for = code.valid_for();
        self.render_values(&context! {
            url => url,
            code => code.code().expose(),
            username => code.user().username.as_str(),
            site => site,
            expires_in => nopassword_core::duration_in_words(valid_for),
            expires_in_seconds => valid_for.as_secs(),
        })
    }

    fn render_values(&self, ctx: &Value) -> Result<LoginEmail, EmailError> {
        let render = |name: &str, file: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(ctx))
                .map_err(|e| template_error(file, e))
        };
        Ok(LoginEmail {
            text: render(TEXT_TEMPLATE, &self.text_file)?,
            html: render(HTML_TEMPLATE, &self.html_file)?,
        })
    }
}

/// Adds template `name` from `dir` when the file exists there, else the built-in; returns
/// where it came from.
fn add(
    env: &mut Environment<'static>,
    dir: Option<&Path>,
    name: &'static str,
    builtin: &'static str,
) -> Result<String, EmailError> {
    let path: Option<PathBuf> = dir.map(|d| d.join(name));
    let source = match &path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(source) => Some((path.display().to_string(), source)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(template_error(&path.display().to_string(), e)),
        },
        None => None,
    };
    match source {
        Some((file, source)) => {
            env.add_template_owned(name, source)
                .map_err(|e| template_error(&file, e))?;
            Ok(file)
        }
        None => {
            let file = format!("built-in {name}");
            env.add_template(name, builtin)
                .map_err(|e| template_error(&file, e))?;
            Ok(file)
        }
    }
}

fn template_error(
    file: &str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> EmailError {
    EmailError::Template {
        file: file.to_owned(),
        source: source.into(),
    }
}

fn sample_context() -> Value {
    context! {
        url => "https://example.com/accounts/login-code/alice/0123456789abcdef0123/",
        code => "0123456789abcdef0123",
        username => "alice",
        site => "example.com",
        expires_in => "15 minutes",
        expires_in_seconds => 900u64,
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
mod tests {
    use super::*;

    #[test]
    fn html_escaping_keeps_links_readable() {
        let env_out = escape_html(r#"<b>o'hara&co</b> "x" https://a/b"#);
        assert_eq!(
            env_out,
            "&lt;b&gt;o&#x27;hara&amp;co&lt;/b&gt; &quot;x&quot; https://a/b"
        );
    }

    #[test]
    fn builtins_load() {
        let t = LoginEmailTemplates::load(None).expect("built-ins are valid");
        let email = t.render_values(&sample_context()).expect("renders");
        assert!(email.text.contains("0123456789abcdef0123"));
        assert!(email.html.contains(
            r#"<a href="https://example.com/accounts/login-code/alice/0123456789abcdef0123/">"#
        ));
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
