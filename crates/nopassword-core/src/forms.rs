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
