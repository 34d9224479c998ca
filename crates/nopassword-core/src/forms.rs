//! What the login forms and JSON bodies accept, and the messages they answer with: written once
//! here so every web adapter says the same thing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The user-facing messages of the original project, word for word.
pub mod messages {
    /// A required field was empty.
    pub const FIELD_REQUIRED: &str = "This field is required.";
    /// A typed or posted code did not log in.
    pub const INVALID_CODE: &str = "Unable to log in with provided login code.";
    /// `POST api/login/` answer.
    pub const CODE_SENT: &str = "Login code has been sent.";
    /// `POST api/logout/` answer.
    pub const LOGGED_OUT: &str = "Successfully logged out.";
    /// The page after `POST login/`.
    pub const SENT_PAGE: &str = "We sent you a mail with a login link";
    /// Title of the auto-submitting page.
    pub const LOGGING_IN: &str = "Logging in...";
    /// The `<noscript>` button of that page.
    pub const CLICK_TO_LOGIN: &str = "Click here to login";
    /// Unknown, expired or used code link.
    pub const CODE_NOT_FOUND: &str =
        "This login link is invalid, expired or has already been used.";
    /// A store, directory or sender outage.
    pub const UNAVAILABLE: &str =
        "Login is temporarily unavailable. Please try again in a few minutes.";
    /// Too many requests.
    pub const RATE_LIMITED: &str = "Too many attempts. Please wait a little and try again.";
    /// A POST without a valid CSRF token.
    pub const CSRF_FAILED: &str = "This form has expired or did not come from this site. Please reload the page and try again.";
    /// A login link opened outside its flow under `cross_device_links = "deny"` (403).
    pub const OTHER_BROWSER: &str = "Open this link in the browser where you asked to log in.";
    /// Title of the page a link shows another client under `cross_device_links = "confirm"`.
    pub const CONFIRM_LOGIN: &str = "Confirm login";
    /// Its button.
    pub const LOG_IN: &str = "Log in";
    /// Title of the `GET logout/` page when `logout_on_get` is off.
    pub const LOG_OUT_TITLE: &str = "Log out?";
    /// Its button.
    pub const LOG_OUT: &str = "Log out";
    /// A body over the size limit.
    pub const TOO_LARGE: &str = "The request body is too large.";
    /// A JSON route got another content type.
    pub const EXPECTED_JSON: &str = "Expected Content-Type: application/json.";
    /// A form route got another content type.
    pub const EXPECTED_FORM: &str =
        "Expected a form (Content-Type: application/x-www-form-urlencoded).";
    /// A JSON body that is not an object.
    pub const EXPECTED_JSON_OBJECT: &str = "Expected a JSON object.";
    /// A route that needs a logged-in user, without one (401).
    pub const UNAUTHENTICATED: &str = "Authentication credentials were not provided.";
    /// `POST api/login/flow/complete/` (401) and the waiting page's "Continue" before another
    /// device approved the flow.
    pub const FLOW_NOT_APPROVED: &str = "This login has not been approved yet.";
    /// Title of the page after the right number was picked on the approval page.
    pub const LOGIN_APPROVED: &str = "Login approved";
    /// Title of the page after a wrong number was picked.
    pub const NOT_APPROVED: &str = "Login not approved";
    /// The message of that page.
    pub const WRONG_NUMBER: &str =
        "That is not the number shown on the device where you asked to log in.";

    /// Every message above with its stable code: the JSON API's `"code"` beside the message
    /// (docs/HTTP.md lists them), and the message's id in the catalogs (`nopassword_core::i18n`).
    pub const CODES: &[(&str, &str)] = &[
        (FIELD_REQUIRED, "required"),
        (INVALID_CODE, "invalid_code"),
        (CODE_SENT, "code_sent"),
        (LOGGED_OUT, "logged_out"),
        (SENT_PAGE, "mail_sent"),
        (LOGGING_IN, "logging_in"),
        (CLICK_TO_LOGIN, "click_to_login"),
        (CODE_NOT_FOUND, "link_not_found"),
        (UNAVAILABLE, "unavailable"),
        (RATE_LIMITED, "rate_limited"),
        (CSRF_FAILED, "csrf_failed"),
        (OTHER_BROWSER, "other_browser"),
        (CONFIRM_LOGIN, "confirm_login"),
        (LOG_IN, "log_in"),
        (LOG_OUT_TITLE, "log_out_title"),
        (LOG_OUT, "log_out"),
        (TOO_LARGE, "too_large"),
        (EXPECTED_JSON, "expected_json"),
        (EXPECTED_FORM, "expected_form"),
        (EXPECTED_JSON_OBJECT, "expected_json_object"),
        (UNAUTHENTICATED, "unauthenticated"),
        (FLOW_NOT_APPROVED, "flow_not_approved"),
        (LOGIN_APPROVED, "login_approved"),
        (NOT_APPROVED, "not_approved"),
        (WRONG_NUMBER, "wrong_number"),
    ];

    /// The code of one of these messages, or `None` for any other text.
    ///
    /// ```
    /// use nopassword_core::forms::messages;
    ///
    /// assert_eq!(messages::code(messages::INVALID_CODE), Some("invalid_code"));
    /// assert_eq!(messages::code("something else"), None);
    /// ```
    pub fn code(message: &str) -> Option<&'static str> {
        CODES
            .iter()
            .find(|(english, _)| *english == message)
            .map(|(_, code)| *code)
    }
}

/// The largest request body the adapters accept (64 KiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Field errors in the original's JSON shape: `{"username": ["This field is required."]}`, or
/// `{"__all__": [...]}` for errors of the whole form.
///
/// ```
/// use nopassword_core::forms::{FormErrors, messages};
///
/// let mut errors = FormErrors::default();
/// errors.add("username", messages::FIELD_REQUIRED);
/// assert_eq!(errors.get("username"), [messages::FIELD_REQUIRED]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FormErrors(BTreeMap<&'static str, Vec<&'static str>>);

impl FormErrors {
    /// The key of errors that belong to no single field.
    pub const ALL: &'static str = "__all__";

    /// Adds an error to a field.
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        self.0.entry(field).or_default().push(message);
    }

    /// One error on the whole form.
    pub fn form(message: &'static str) -> Self {
        let mut errors = Self::default();
        errors.add(Self::ALL, message);
        errors
    }

    /// A field's errors.
    pub fn get(&self, field: &str) -> &[&'static str] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON API's body for these errors (feature `i18n`): each field's messages in
    /// `locale`, and beside them `"codes"`, each field's stable codes
    /// ([`messages::CODES`]) in the same order. English gives the original's messages.
    ///
    /// ```
    /// use nopassword_core::{forms::{FormErrors, messages}, i18n::Catalog, locale::Locale};
    ///
    /// let errors = FormErrors::form(messages::INVALID_CODE);
    /// let catalog = Catalog::builtin();
    /// let body = serde_json::to_value(errors.localized(&catalog, &"es".parse()?))?;
    /// assert_eq!(body, serde_json::json!({
    ///     "__all__": ["No se ha podido iniciar sesión con el código de acceso proporcionado."],
    ///     "codes": { "__all__": ["invalid_code"] },
    /// }));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "i18n")]
    pub fn localized<'a>(
        &'a self,
        catalog: &'a crate::i18n::Catalog,
        locale: &'a crate::locale::Locale,
    ) -> LocalizedErrors<'a> {
        LocalizedErrors {
            errors: self,
            catalog,
            locale,
        }
    }
}

/// [`FormErrors`] as the JSON API answers them: see [`FormErrors::localized`].
#[cfg(feature = "i18n")]
#[derive(Debug, Clone, Copy)]
pub struct LocalizedErrors<'a> {
    errors: &'a FormErrors,
    catalog: &'a crate::i18n::Catalog,
    locale: &'a crate::locale::Locale,
}

#[cfg(feature = "i18n")]
impl Serialize for LocalizedErrors<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let code = |message: &str| messages::code(message).unwrap_or("invalid");
        let mut map = serializer.serialize_map(Some(self.errors.0.len() + 1))?;
        for (field, list) in &self.errors.0 {
            let texts: Vec<String> = list
                .iter()
                .map(|message| match messages::code(message) {
                    Some(id) => self.catalog.text(self.locale, id),
                    None => (*message).to_owned(),
                })
                .collect();
            map.serialize_entry(field, &texts)?;
        }
        let codes: BTreeMap<&str, Vec<&str>> = self
            .errors
            .0
            .iter()
            .map(|(field, list)| (*field, list.iter().map(|m| code(m)).collect()))
            .collect();
        map.serialize_entry("codes", &codes)?;
        map.end()
    }
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `POST login/` and `POST api/login/`: `username`, optional `next`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoginForm {
    /// The username.
    #[serde(default)]
    pub username: Option<String>,
    /// Where to go after login.
    #[serde(default)]
    pub next: Option<String>,
}

impl LoginForm {
    /// The username, or the "This field is required." error.
    ///
    /// ```
    /// use nopassword_core::forms::LoginForm;
    ///
    /// assert!(LoginForm { username: Some("  ".into()), next: None }.validate().is_err());
    /// assert_eq!(LoginForm { username: Some("alice".into()), next: None }.validate().unwrap(), "alice");
    /// ```
    pub fn validate(&self) -> Result<&str, FormErrors> {
        present(&self.username).ok_or_else(|| {
            let mut errors = FormErrors::default();
            errors.add("username", messages::FIELD_REQUIRED);
            errors
        })
    }
}

/// `POST login/code/` and `POST api/login/code/`: `username` and `code`. `Debug` hides the
/// code.
#[derive(Clone, Default, Deserialize)]
pub struct CodeForm {
    /// The username (optional when `hide_username` is on).
    #[serde(default)]
    pub username: Option<String>,
    /// The code as typed.
    #[serde(default)]
    pub code: Option<String>,
    /// The flow token of `api/login/` for clients without a cookie jar (docs/HTTP.md, Login flows); the
    /// HTML form leaves it out and the flow cookie counts instead.
    #[serde(default)]
    pub flow: Option<String>,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm")
            .field("username", &self.username)
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("flow", &self.flow.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl CodeForm {
    /// `(username, code)`, or field errors. `username` may be absent only when
    /// `username_required` is false (`hide_username` codes name their user themselves).
    ///
    /// ```
    /// use nopassword_core::forms::CodeForm;
    ///
    /// let form = CodeForm { username: None, code: Some("123456".into()), flow: None };
    /// assert!(form.validate(true).is_err());
    /// assert_eq!(form.validate(false).unwrap(), (None, "123456"));
    /// ```
    pub fn validate(&self, username_required: bool) -> Result<(Option<&str>, &str), FormErrors> {
        let username = present(&self.username);
        let code = present(&self.code);
        let mut errors = FormErrors::default();
        if username.is_none() && username_required {
            errors.add("username", messages::FIELD_REQUIRED);
        }
        match code {
            Some(code) if errors.is_empty() => Ok((username, code)),
            Some(_) => Err(errors),
            None => {
                errors.add("code", messages::FIELD_REQUIRED);
                Err(errors)
            }
        }
    }
}
