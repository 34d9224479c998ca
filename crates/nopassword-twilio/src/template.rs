//! The SMS text: `login_sms.txt`, built in or from the template directory.

use std::{path::Path, sync::Arc};

use nopassword_core::{
    code::LoginCode,
    i18n::Catalog,
    locale::Locale,
    templates::{MessageContext, TemplateError, Templates},
};

use crate::TwilioError;

/// The template's name, and the file that overrides the built-in one in a template directory.
pub const SMS_TEMPLATE: &str = "login_sms.txt";

/// The built-in `login_sms.txt`: its sentences come from the catalog (`sms-code`,
/// `sms-login`, `sms-expires`), in the code's language.
///
/// ```
/// assert!(nopassword_twilio::DEFAULT_SMS_TEMPLATE.contains(r#"t("sms-login", url=url)"#));
/// assert!(nopassword_twilio::DEFAULT_SMS_TEMPLATE.contains(r#"t("sms-code", code=code)"#));
/// ```
pub const DEFAULT_SMS_TEMPLATE: &str = include_str!("../templates/login_sms.txt");

/// The compiled SMS template (core's [`Templates`]), checked by one trial render when loaded.
#[derive(Debug)]
pub(crate) struct SmsTemplate {
    templates: Templates,
    catalog: Arc<Catalog>,
    default_locale: Locale,
}

impl SmsTemplate {
    /// The override in `dir` when there is one, else the built-in template. A misspelt
    /// variable fails here, at start-up, not when texting an empty link.
    /// Rendered once in every locale of the catalog (the shipped ones and those of
    /// `dir/locales/`); `default_locale` must be one of them.
    pub(crate) fn load(dir: Option<&Path>, default_locale: &Locale) -> Result<Self, TwilioError> {
        let catalog = Arc::new(Catalog::load(dir).map_err(|error| {
            template_error(TemplateError {
                name: error.file,
                reason: error.reason,
            })
        })?);
        if !catalog.has_locale(default_locale) {
            return Err(TwilioError::InvalidSetting {
                key: "default_locale",
                value: default_locale.to_string(),
                accepted: "a locale with a catalog: en, es, de, fr, or a folder of template_dir/locales/",
            });
        }
        let template = Self {
            templates: Templates::load_with_catalog(
                &[(SMS_TEMPLATE, DEFAULT_SMS_TEMPLATE)],
                dir,
                catalog.clone(),
            )
            .map_err(template_error)?,
            catalog,
            default_locale: default_locale.clone(),
        };
        for locale in template.catalog.locales() {
            let sample =
                template.render(MessageContext::sample().in_locale(&template.catalog, locale))?;
            if sample.trim().is_empty() {
                return Err(TwilioError::Template {
                    file: template.file().to_owned(),
                    source: format!("renders an empty message in {locale}, which Twilio refuses")
                        .into(),
                });
            }
        }
        Ok(template)
    }

    /// The text for `code`, in its locale (the user's, else the request's) when the catalog
    /// has it, else in `default_locale`.
    pub(crate) fn render_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<String, TwilioError> {
        let locale = self.catalog.pick(code.locale(), &self.default_locale);
        self.render(MessageContext::new(code, secure, host).in_locale(&self.catalog, &locale))
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
        let t = SmsTemplate::load(None, &Locale::en()).expect("built-in loads");
        let code = login_code("bob", "abc", Duration::from_secs(900));
        let text = t.render_code(&code, true, None).expect("renders");
        assert_eq!(
            text,
            "abc is your login code.\nLog in: https://x.test/accounts/login-code/bob/abc/\nIt expires in 15 minutes."
        );
    }

    #[test]
    fn the_codes_locale_else_the_default() {
        let es: Locale = "es".parse().expect("tag");
        let t = SmsTemplate::load(None, &es).expect("built-in loads");
        let code = login_code("bob", "abc", Duration::from_secs(3600));
        assert_eq!(
            t.render_code(&code, true, None).expect("renders"),
            "abc es tu código de acceso.\nInicia sesión: https://x.test/accounts/login-code/bob/abc/\nCaduca en 1 hora."
        );
        let de = code.with_locale(Some("de".parse().expect("tag")));
        assert_eq!(
            t.render_code(&de, true, None).expect("renders"),
            "abc ist Ihr Anmeldecode.\nAnmelden: https://x.test/accounts/login-code/bob/abc/\nEr ist 1 Stunde gültig."
        );
        let ja = de.with_locale(Some("ja".parse().expect("tag")));
        assert!(
            t.render_code(&ja, true, None)
                .expect("renders")
                .contains("Caduca en 1 hora.")
        );
        assert!(SmsTemplate::load(None, &"ja".parse().expect("tag")).is_err());
    }

    #[test]
    fn text_is_not_html_escaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(SMS_TEMPLATE), "{{ username }} {{ site }}").expect("write");
        let t = SmsTemplate::load(Some(dir.path()), &Locale::en()).expect("loads");
        let code = login_code("<o'hara & co>", "c", Duration::from_secs(60));
        let text = t
            .render(MessageContext::new(&code, true, None))
            .expect("renders");
        assert_eq!(text, "<o'hara & co> x.test");
    }
}
