//! The HTML pages: nopassword-core's built-in templates, overridable by name from
//! `template_dir`, compiled with minijinja.

use std::{fmt, path::Path};

use minijinja::Environment;
use nopassword_core::pages::sources;

/// Every page template, by the name an app overrides it with, and its built-in source (kept in
/// nopassword-core, so both web adapters show the same pages).
pub use nopassword_core::pages::TEMPLATES;
/// A page template that could not be loaded or rendered (one type for both adapters).
pub use nopassword_core::pages::TemplateError;

/// The loaded page templates. HTML is auto-escaped.
pub struct Pages {
    env: Environment<'static>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Pages {
    /// Loads the built-in templates, replacing each with the file of the same name in
    /// `template_dir` when there is one. A template that does not parse is an error naming it.
    pub fn load(template_dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        let sources = sources(template_dir)?;
        for (name, source) in sources {
            env.add_template_owned(name, source)
                .map_err(|e| TemplateError {
                    name: name.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Self { env })
    }

    /// Renders a page.
    pub fn render(&self, name: &str, context: minijinja::Value) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|e| TemplateError {
                name: name.to_owned(),
                reason: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    #[test]
    fn html_is_escaped() {
        let pages = Pages::load(None).expect("built-ins parse");
        let html = pages
            .render(
                "login_form.html",
                context! { username => "<script>x</script>", mount_path => "/a", errors => context! {} },
            )
            .expect("renders");
        assert!(html.contains("&lt;script&gt;x&lt;"), "{html}");
        assert!(!html.contains("<script>x"));
    }

    #[test]
    fn templates_are_overridden_by_name() {
        let dir = std::env::temp_dir().join(format!("np-axum-pages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("login_sent.html"), "custom {{ message }}").expect("write");
        let pages = Pages::load(Some(&dir)).expect("loads");
        assert_eq!(
            pages
                .render("login_sent.html", context! { message => "hi" })
                .expect("r"),
            "custom hi"
        );
        std::fs::write(dir.join("login_sent.html"), "{% if %}").expect("write");
        let err = Pages::load(Some(&dir)).expect_err("broken template");
        assert!(err.to_string().contains("login_sent.html"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
