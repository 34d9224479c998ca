//! The SMS text: `login_sms.txt`, built in or from the template directory.

use std::{io, path::Path, time::Duration};

use minijinja::{Environment, UndefinedBehavior, context};

use crate::TwilioError;

/// The template's name, and the file that overrides the built-in one in a template directory.
pub const SMS_TEMPLATE: &str = "login_sms.txt";

/// The built-in `login_sms.txt`.
///
/// ```
/// assert!(nopassword_twilio::DEFAULT_SMS_TEMPLATE.contains("{{ url }}"));
/// assert!(nopassword_twilio::DEFAULT_SMS_TEMPLATE.contains("{{ code }}"));
/// ```
pub const DEFAULT_SMS_TEMPLATE: &str = include_str!("../templates/login_sms.txt");

/// The compiled SMS template, checked by one trial render when loaded.
#[derive(Debug)]
pub(crate) struct SmsTemplate {
    env: Environment<'static>,
    /// Where it came from, for errors.
    file: String,
}

/// What a template sees (besides `expires_in_seconds`).
pub(crate) struct SmsContext<'a> {
    pub(crate) url: &'a str,
    /// The host the link names.
    pub(crate) site: &'a str,
    pub(crate) code: &'a str,
    pub(crate) username: &'a str,
    pub(crate) valid_for: Duration,
}

impl SmsTemplate {
    /// The override in `dir` when there is one, else the built-in template.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Self, TwilioError> {
        let (source, file) = match dir.map(|d| d.join(SMS_TEMPLATE)) {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(source) => (source, path.display().to_string()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => builtin(),
                Err(e) => {
                    return Err(TwilioError::Template {
                        file: path.display().to_string(),
                        source: e.into(),
                    });
                }
            },
            None => builtin(),
        };
        let mut env = Environment::new();
        // A misspelt variable must fail at start-up, not text an empty link. `SemiStrict`
        // still allows `{% if username %}`.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Plain text: never HTML-escape (minijinja decides by extension; say it anyway).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_template_owned(SMS_TEMPLATE, source)
            .map_err(|e| template_error(&file, e))?;
        let template = Self { env, file };
        let sample = template.render(&SmsContext {
            url: "https://example.com/accounts/login-code/alice/0123456789abcdef0123/",
            site: "example.com",
            code: "0123456789abcdef0123",
            username: "alice",
            valid_for: Duration::from_secs(900),
        })?;
        if sample.trim().is_empty() {
            return Err(TwilioError::Template {
                file: template.file,
                source: "renders an empty message, which Twilio refuses".into(),
            });
        }
        Ok(template)
    }

    /// The message text.
    pub(crate) fn render(&self, ctx: &SmsContext<'_>) -> Result<String, TwilioError> {
        let template = self
            .env
            .get_template(SMS_TEMPLATE)
            .map_err(|e| template_error(&self.file, e))?;
        template
            .render(context! {
                url => ctx.url,
                code => ctx.code,
                username => ctx.username,
                site => ctx.site,
                expires_in => nopassword_core::duration_in_words(ctx.valid_for),
                expires_in_seconds => ctx.valid_for.as_secs(),
            })
            .map_err(|e| template_error(&self.file, e))
    }
}

fn builtin() -> (String, String) {
    (
        DEFAULT_SMS_TEMPLATE.to_owned(),
        format!("built-in {SMS_TEMPLATE}"),
    )
}

fn template_error(file: &str, e: minijinja::Error) -> TwilioError {
    TwilioError::Template {
        file: file.to_owned(),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_renders_url_and_code() {
        let t = SmsTemplate::load(None).expect("built-in loads");
        let text = t
            .render(&SmsContext {
                url: "https://x.test/accounts/login-code/bob/abc/",
                site: "x.test",
                code: "abc",
                username: "bob",
                valid_for: Duration::from_secs(900),
            })
            .expect("renders");
        assert_eq!(
            text,
            "abc is your login code.\nLog in: https://x.test/accounts/login-code/bob/abc/\nIt expires in 15 minutes."
        );
    }

    #[test]
    fn text_is_not_html_escaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(SMS_TEMPLATE), "{{ username }} {{ url }}").expect("write");
        let t = SmsTemplate::load(Some(dir.path())).expect("loads");
        let text = t
            .render(&SmsContext {
                url: "https://x.test/?a=1&b=2",
                site: "x.test",
                code: "c",
                username: "<o'hara & co>",
                valid_for: Duration::from_secs(60),
            })
            .expect("renders");
        assert_eq!(text, "<o'hara & co> https://x.test/?a=1&b=2");
    }
}
