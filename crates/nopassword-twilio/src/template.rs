//! The SMS text: `login_sms.txt`, built in or from the template directory.

use std::path::Path;

use nopassword_core::templates::{MessageContext, TemplateError, Templates};

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

/// The compiled SMS template (core's [`Templates`]), checked by one trial render when loaded.
#[derive(Debug)]
pub(crate) struct SmsTemplate {
    templates: Templates,
}

impl SmsTemplate {
    /// The override in `dir` when there is one, else the built-in template. A misspelt
    /// variable fails here, at start-up, not when texting an empty link.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Self, TwilioError> {
        let template = Self {
            templates: Templates::load(&[(SMS_TEMPLATE, DEFAULT_SMS_TEMPLATE)], dir)
                .map_err(template_error)?,
        };
        let sample = template.render(MessageContext::sample())?;
        if sample.trim().is_empty() {
            return Err(TwilioError::Template {
                file: template.file().to_owned(),
                source: "renders an empty message, which Twilio refuses".into(),
            });
        }
        Ok(template)
    }

    /// Where it came from: the override's path, or `built-in login_sms.txt`.
    fn file(&self) -> &str {
        self.templates.file(SMS_TEMPLATE).unwrap_or(SMS_TEMPLATE)
    }

    /// The message text.
    pub(crate) fn render(&self, context: MessageContext<'_>) -> Result<String, TwilioError> {
        self.templates
            .render(SMS_TEMPLATE, context)
            .map_err(template_error)
    }
}

fn template_error(error: TemplateError) -> TwilioError {
    TwilioError::Template {
        file: error.name,
        source: error.reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::Arc,
        time::{Duration, SystemTime},
    };

    use nopassword_core::{
        Settings,
        code::{LoginCode, Recipient, UrlConfig},
        secret::PlaintextCode,
    };

    use super::*;

    fn login_code(username: &str, code: &str, valid_for: Duration) -> LoginCode {
        LoginCode::new(
            Recipient {
                id: "1".into(),
                username: username.into(),
                email: None,
                phone: None,
            },
            PlaintextCode::new(code),
            None,
            SystemTime::now(),
            valid_for,
            Arc::new(UrlConfig::from_settings(&Settings {
                server_url: "x.test".into(),
                ..Settings::default()
            })),
        )
    }

    #[test]
    fn builtin_renders_url_and_code() {
        let t = SmsTemplate::load(None).expect("built-in loads");
        let code = login_code("bob", "abc", Duration::from_secs(900));
        let text = t
            .render(MessageContext::new(&code, true, None))
            .expect("renders");
        assert_eq!(
            text,
            "abc is your login code.\nLog in: https://x.test/accounts/login-code/bob/abc/\nIt expires in 15 minutes."
        );
    }

    #[test]
    fn text_is_not_html_escaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(SMS_TEMPLATE), "{{ username }} {{ site }}").expect("write");
        let t = SmsTemplate::load(Some(dir.path())).expect("loads");
        let code = login_code("<o'hara & co>", "c", Duration::from_secs(60));
        let text = t
            .render(MessageContext::new(&code, true, None))
            .expect("renders");
        assert_eq!(text, "<o'hara & co> x.test");
    }
}
