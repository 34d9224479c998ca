//! The HTML pages of the web adapters, as data: the built-in templates by name, the files of
//! `template_dir` that override them, and the context each page is rendered with.
//!
//! Core has no template engine: each adapter compiles [`sources`] (minijinja, Jinja2 syntax,
//! HTML auto-escaped) and renders a [`Page`] with [`Page::template`] and [`Page::context`]. So
//! both adapters show the same pages, and an app's overrides work on either.
//!
//! | template | context |
//! |---|---|
//! | `base.html` | the layout the others extend |
//! | `login_form.html` | `csrf_token`, `next`, `username`, `errors`, `mount_path` |
//! | `login_sent.html` | `message`, `expires_in`, `mount_path` |
//! | `login_submit.html` | `title`, `button`, `action`, `csrf_token`, `mount_path` |
//! | `login_confirm.html` | `title`, `button`, `action`, `csrf_token`, `username`, `requested_at`, `mount_path` |
//! | `logout_form.html` | `title`, `button`, `action`, `csrf_token`, `next`, `mount_path` |
//! | `login_code_form.html` | `csrf_token`, `username`, `ask_username`, `numeric`, `errors`, `mount_path` |
//! | `login_code_invalid.html`, `error.html` | `title`, `message`, `mount_path` |
//!
//! `errors` maps a field (or `__all__`) to its messages, as [`FormErrors`] serializes.

use std::path::Path;

use serde::{Serialize, Serializer, ser::SerializeMap};

use crate::{
    Settings, duration_in_words,
    forms::{FormErrors, messages},
    http::Failure,
    safe_next,
};

/// The layout every page extends.
pub const BASE: &str = "base.html";
/// `GET login/`: the username form.
pub const LOGIN_FORM: &str = "login_form.html";
/// After `POST login/`: "We sent you a mail with a login link".
pub const LOGIN_SENT: &str = "login_sent.html";
/// `GET` of a login link: "Logging in...", a form that posts itself.
pub const LOGIN_SUBMIT: &str = "login_submit.html";
/// `GET` of a login link by a client without its flow, under `cross_device_links = "confirm"`.
pub const LOGIN_CONFIRM: &str = "login_confirm.html";
/// `GET logout/` with `logout_on_get` off: a form whose POST logs out.
pub const LOGOUT_FORM: &str = "logout_form.html";
/// `login/code/`: the typed-code form.
pub const LOGIN_CODE_FORM: &str = "login_code_form.html";
/// An unknown, expired or used login link (404).
pub const LOGIN_CODE_INVALID: &str = "login_code_invalid.html";
/// Every other failure (400, 403, 413, 415, 429, 503).
pub const ERROR: &str = "error.html";

/// Every page template, by the name an app overrides it with, and its built-in source.
///
/// ```
/// use nopassword_core::pages::{LOGIN_FORM, TEMPLATES};
///
/// let (_, source) = TEMPLATES.iter().find(|(name, _)| *name == LOGIN_FORM).unwrap();
/// assert!(source.contains("csrfmiddlewaretoken"));
/// ```
pub const TEMPLATES: &[(&str, &str)] = &[
    (BASE, include_str!("../templates/base.html")),
    (LOGIN_FORM, include_str!("../templates/login_form.html")),
    (LOGIN_SENT, include_str!("../templates/login_sent.html")),
    (LOGIN_SUBMIT, include_str!("../templates/login_submit.html")),
    (
        LOGIN_CONFIRM,
        include_str!("../templates/login_confirm.html"),
    ),
    (LOGOUT_FORM, include_str!("../templates/logout_form.html")),
    (
        LOGIN_CODE_FORM,
        include_str!("../templates/login_code_form.html"),
    ),
    (
        LOGIN_CODE_INVALID,
        include_str!("../templates/login_code_invalid.html"),
    ),
    (ERROR, include_str!("../templates/error.html")),
];

/// A page template that could not be read, parsed or rendered (shared by both web adapters).
#[derive(Debug, thiserror::Error)]
#[error("page template {name}: {reason}")]
pub struct TemplateError {
    /// The template's file.
    pub name: String,
    /// What went wrong.
    pub reason: String,
}

/// The source of every page template: the file of the same name in `template_dir` when there
/// is one, else the built-in. Adapters compile these with their template engine.
///
/// ```
/// use nopassword_core::pages::{TEMPLATES, sources};
///
/// let builtins = sources(None).unwrap();
/// assert_eq!(builtins.len(), TEMPLATES.len());
/// ```
pub fn sources(template_dir: Option<&Path>) -> Result<Vec<(&'static str, String)>, TemplateError> {
    TEMPLATES
        .iter()
        .map(|&(name, builtin)| {
            let source = match template_dir.map(|dir| dir.join(name)) {
                Some(path) if path.is_file() => {
                    std::fs::read_to_string(&path).map_err(|e| TemplateError {
                        name: path.display().to_string(),
                        reason: e.to_string(),
                    })?
                }
                _ => builtin.to_owned(),
            };
            Ok((name, source))
        })
        .collect()
}

/// "15 minutes": how long a code is valid, as the sent page (and the login mail) says it.
///
/// ```
/// use nopassword_core::{Settings, pages::expires_in};
///
/// assert_eq!(expires_in(&Settings::default()), "15 minutes");
/// ```
pub fn expires_in(settings: &Settings) -> String {
    duration_in_words(settings.code_validity())
}

/// A page of the contract, with what varies per request; [`Page::context`] adds the rest
/// from the settings.
#[derive(Debug, Clone, Copy)]
pub enum Page<'a> {
    /// `login_form.html`; `next` is kept only when it is a safe same-site path.
    LoginForm {
        /// The session's CSRF token.
        csrf_token: &'a str,
        /// The username as typed (empty on a fresh form).
        username: &'a str,
        /// Where to go after login, as given.
        next: Option<&'a str>,
        /// Field errors.
        errors: &'a FormErrors,
    },
    /// `login_sent.html`.
    Sent,
    /// `login_submit.html`: the form posting the link to itself.
    Submit {
        /// The link's path.
        action: &'a str,
        /// The session's CSRF token.
        csrf_token: &'a str,
    },
    /// `login_confirm.html`: "Confirm login", naming the account, with a button and no script.
    Confirm {
        /// The link's path.
        action: &'a str,
        /// The page's CSRF token.
        csrf_token: &'a str,
        /// The account the link logs into.
        username: &'a str,
        /// When the code was requested.
        requested_at: std::time::SystemTime,
    },
    /// `logout_form.html`: "Log out?" with a button that posts the logout.
    LogoutForm {
        /// The logout route's path.
        action: &'a str,
        /// The page's CSRF token.
        csrf_token: &'a str,
        /// Where to go after logout, as given (kept only when safe).
        next: Option<&'a str>,
    },
    /// `login_code_form.html`.
    CodeForm {
        /// The session's CSRF token.
        csrf_token: &'a str,
        /// The username as typed.
        username: &'a str,
        /// Field or form errors.
        errors: &'a FormErrors,
    },
    /// `login_code_invalid.html` for [`Failure::NotFound`], else `error.html`.
    Failure(&'a Failure),
}

impl<'a> Page<'a> {
    /// The template's name.
    ///
    /// ```
    /// use nopassword_core::{http::Failure, pages::{ERROR, LOGIN_CODE_INVALID, Page}};
    ///
    /// assert_eq!(Page::Failure(&Failure::NotFound).template(), LOGIN_CODE_INVALID);
    /// assert_eq!(Page::Failure(&Failure::Csrf).template(), ERROR);
    /// ```
    pub fn template(&self) -> &'static str {
        match self {
            Self::LoginForm { .. } => LOGIN_FORM,
            Self::Sent => LOGIN_SENT,
            Self::Submit { .. } => LOGIN_SUBMIT,
            Self::Confirm { .. } => LOGIN_CONFIRM,
            Self::LogoutForm { .. } => LOGOUT_FORM,
            Self::CodeForm { .. } => LOGIN_CODE_FORM,
            Self::Failure(Failure::NotFound) => LOGIN_CODE_INVALID,
            Self::Failure(_) => ERROR,
        }
    }

    /// The HTTP status the page is sent with: 200, or the failure's.
    pub fn status(&self) -> u16 {
        match self {
            Self::Failure(failure) => failure.status(),
            _ => 200,
        }
    }

    /// The template's context (serializable into any engine's values).
    pub fn context(self, settings: &'a Settings) -> PageContext<'a> {
        PageContext {
            page: self,
            settings,
        }
    }
}

/// The variables a page template sees; see the [module docs](self) for each page's.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    page: Page<'a>,
    settings: &'a Settings,
}

impl Serialize for PageContext<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let settings = self.settings;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("mount_path", &settings.mount_path)?;
        match self.page {
            Page::LoginForm {
                csrf_token,
                username,
                next,
                errors,
            } => {
                map.serialize_entry("csrf_token", csrf_token)?;
                map.serialize_entry("next", &next.and_then(safe_next).unwrap_or_default())?;
                map.serialize_entry("username", username)?;
                map.serialize_entry("errors", errors)?;
            }
            Page::Sent => {
                map.serialize_entry("message", messages::SENT_PAGE)?;
                map.serialize_entry("expires_in", &expires_in(settings))?;
            }
            Page::Submit { action, csrf_token } => {
                map.serialize_entry("title", messages::LOGGING_IN)?;
                map.serialize_entry("button", messages::CLICK_TO_LOGIN)?;
                map.serialize_entry("action", action)?;
                map.serialize_entry("csrf_token", csrf_token)?;
            }
            Page::Confirm {
                action,
                csrf_token,
                username,
                requested_at,
            } => {
                map.serialize_entry("title", messages::CONFIRM_LOGIN)?;
                map.serialize_entry("button", messages::LOG_IN)?;
                map.serialize_entry("action", action)?;
                map.serialize_entry("csrf_token", csrf_token)?;
                map.serialize_entry("username", username)?;
                map.serialize_entry("requested_at", &utc_minute(requested_at))?;
            }
            Page::LogoutForm {
                action,
                csrf_token,
                next,
            } => {
                map.serialize_entry("title", messages::LOG_OUT_TITLE)?;
                map.serialize_entry("button", messages::LOG_OUT)?;
                map.serialize_entry("action", action)?;
                map.serialize_entry("csrf_token", csrf_token)?;
                map.serialize_entry("next", &next.and_then(safe_next).unwrap_or_default())?;
            }
            Page::CodeForm {
                csrf_token,
                username,
                errors,
            } => {
                map.serialize_entry("csrf_token", csrf_token)?;
                map.serialize_entry("username", username)?;
                map.serialize_entry("ask_username", &!settings.hide_username)?;
                map.serialize_entry("numeric", &settings.numeric_codes)?;
                map.serialize_entry("errors", errors)?;
            }
            Page::Failure(failure) => {
                map.serialize_entry("title", failure.title())?;
                map.serialize_entry("message", failure.message())?;
            }
        }
        map.end()
    }
}

/// `2026-12-02 03:45 UTC`: a time to the minute, in UTC (no time zone database in core).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use nopassword_core::pages::utc_minute;
///
/// assert_eq!(utc_minute(UNIX_EPOCH + Duration::from_secs(1_795_751_100)), "2026-11-27 03:45 UTC");
/// assert_eq!(utc_minute(UNIX_EPOCH), "1970-01-01 00:00 UTC");
/// ```
pub fn utc_minute(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (hour, minute) = (secs % 86_400 / 3600, secs % 3600 / 60);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_overridable_by_name() {
        let dir = std::env::temp_dir().join(format!("np-core-pages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(LOGIN_SENT), "custom").expect("write");
        let sources = sources(Some(&dir)).expect("sources");
        for (name, source) in &sources {
            if *name == LOGIN_SENT {
                assert_eq!(source, "custom");
            } else {
                assert!(source.contains("{%"), "{name} is the built-in");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
