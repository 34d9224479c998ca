//! The HTML pages of the web adapters: the built-in templates by name, the context each page
//! is rendered with, and (feature `templates`) [`Pages`], the compiled templates both adapters
//! render.
//!
//! Each page is a [`Page`]; [`Page::template`] names its template and [`Page::context`] gives
//! its variables. [`Pages::load`] compiles [`TEMPLATES`] through [the one template
//! environment](crate::templates::Templates) (Jinja2 syntax, HTML auto-escaped, undefined
//! variables are errors), each replaced by the file of the same name in `template_dir`. So
//! both adapters show the same pages, and an app's overrides work on either.
//!
//! Every page's context has every variable below (empty, `false` or no errors where the page
//! has no value for it), so an override of any page may use any of them:
//!
//! | variable | value | pages that fill it |
//! |---|---|---|
//! | `mount_path` | where the routes are mounted (`/accounts`) | all |
//! | `csrf_token` | the form's CSRF token | forms, submit, confirm |
//! | `next` | where to go after login or logout (a safe same-site path) | `login_form.html`, `logout_form.html` |
//! | `username` | the username as typed, or the account a link logs into | `login_form.html`, `login_code_form.html`, `login_confirm.html` |
//! | `errors` | messages by field: `__all__`, `username`, `code` (each a list, maybe empty) | `login_form.html`, `login_code_form.html` |
//! | `title`, `button` | the heading and the button's label | `login_submit.html`, `login_confirm.html`, `logout_form.html`; `title` also `error.html` |
//! | `action` | the path the form posts to | `login_submit.html`, `login_confirm.html`, `logout_form.html` |
//! | `message` | the page's message | `login_sent.html`, `login_code_invalid.html`, `error.html` |
//! | `requested_at` | when the code was requested (`2026-12-02 03:45 UTC`) | `login_confirm.html` |
//! | `expires_in` | how long a code is valid (`15 minutes`) | all |
//! | `ask_username` | whether the code form asks for the username | all |
//! | `numeric` | whether codes are digits only | all |
//! | `stylesheet`, `script` | the paths of [`STYLESHEET`] and [`SCRIPT`] (`/accounts/static/nopassword-….css`) | all |
//! | `number` | the flow's matching number (10 to 99) | `login_sent.html` |
//! | `numbers` | the three numbers to pick from (empty when the link can no longer approve another device) | `login_confirm.html` |
//! | `device` | the device that asked, by browser and system (`Firefox, Linux`), or empty | `login_confirm.html` |
//! | `notice` | "This login has not been approved yet." after an early "Continue", else empty | `login_sent.html` |
//! | `approved` | whether the picked number was right | `login_approval.html` |
//! | `lang`, `dir` | the page's locale (`en`, `es`, `pt-BR`) and its writing direction (`ltr` or `rtl`), for `<html lang dir>`; `t()` reads `lang` | all |
//!
//! The texts come from the catalog (feature `i18n`, [`crate::i18n`]) in the page's locale:
//! `title`, `button`, `message`, `errors` and `expires_in` arrive translated, and the
//! templates take their other texts with `{{ t("login-title") }}` ([`crate::templates`]).
//!
//! `base.html` is the layout the others extend.
//!
//! # Content-Security-Policy
//!
//! Every page is sent with [`CONTENT_SECURITY_POLICY`](crate::http::CONTENT_SECURITY_POLICY)
//! (`default-src 'self'`, among others), so a page carries no inline `<script>`, `<style>` or
//! `style=` attribute: `base.html` links the two [`STATIC_ASSETS`], which both adapters serve
//! at `{mount_path}/static/`. [`SCRIPT`] submits the "Logging in..." form
//! (`form#nopassword-login`) once the page has loaded; without JavaScript the page's
//! `<noscript>` button does it. `login_confirm.html` empties `base.html`'s `script` block:
//! the "Confirm login" page carries no script at all. An override stays within the policy the same way: its own
//! style and script in files the app serves from its own origin, linked with
//! `<link rel="stylesheet" href>` and `<script src>`, never inline (docs/SECURITY.md).

#[cfg(feature = "templates")]
use std::{path::Path, sync::Arc};

use serde::{Serialize, Serializer, ser::SerializeMap};

#[cfg(feature = "i18n")]
use crate::i18n::Catalog;
#[cfg(feature = "templates")]
use crate::templates::{TemplateError, Templates};
use crate::{
    Settings,
    code::duration_in_words,
    forms::{FormErrors, messages},
    http::Failure,
    locale::Locale,
    redirect::safe_next,
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
/// After a number was picked on the "Confirm login" page: approved, or the wrong number.
pub const LOGIN_APPROVAL: &str = "login_approval.html";

/// A file the pages link to, embedded in the binary and served by both web adapters at
/// `{mount_path}/static/{file_name}` (route [`STATIC_ROUTE`]), with [`STATIC_HEADERS`].
///
/// Its [`file_name`](Self::file_name) carries a hash of its bytes, so a new version has a new
/// address and browsers may keep each version for a year.
///
/// ```
/// use nopassword_core::{Settings, pages::{STYLESHEET, static_asset}};
///
/// let name = STYLESHEET.file_name();
/// assert!(name.starts_with("nopassword-") && name.ends_with(".css"), "{name}");
/// assert_eq!(static_asset(&name).map(|asset| asset.content_type), Some("text/css; charset=utf-8"));
/// assert_eq!(STYLESHEET.path(&Settings::default()), format!("/accounts/static/{name}"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticAsset {
    /// The file's name without the hash (`nopassword.css`).
    pub name: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
}

impl StaticAsset {
    /// The name it is served under: `nopassword-{hash}.css`, the hash being 16 hex digits
    /// of FNV-1a over [`body`](Self::body).
    pub fn file_name(&self) -> String {
        let (stem, extension) = self.name.rsplit_once('.').unwrap_or((self.name, ""));
        format!("{stem}-{:016x}.{extension}", fnv1a(self.body.as_bytes()))
    }

    /// The path a page links it with: `{mount_path}/static/{file_name}`.
    pub fn path(&self, settings: &Settings) -> String {
        format!("{}/static/{}", settings.mount_path, self.file_name())
    }
}

/// FNV-1a, 64 bits: a cache-busting fingerprint, not a security hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `nopassword.css`: the built-in pages' style.
pub const STYLESHEET: StaticAsset = StaticAsset {
    name: "nopassword.css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("../static/nopassword.css"),
};

/// `nopassword.js`: submits the "Logging in..." form, and records violations of the page's
/// Content-Security-Policy in the page's `data-csp-violations` attribute and in
/// `sessionStorage["nopassword.csp-violations"]`.
pub const SCRIPT: StaticAsset = StaticAsset {
    name: "nopassword.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../static/nopassword.js"),
};

/// Every file served under `{mount_path}/static/`.
pub static STATIC_ASSETS: [StaticAsset; 2] = [STYLESHEET, SCRIPT];

/// The route of the static files under `mount_path`, in the path syntax both axum and
/// actix-web use: the adapters serve [`static_asset`]`(file)` there.
pub const STATIC_ROUTE: &str = "/static/{file}";

/// The headers of a static file's answer (besides its `Content-Type`): cached for a year
/// (its name changes with its bytes), and never sniffed as another type.
pub const STATIC_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "public, max-age=31536000, immutable"),
    ("x-content-type-options", "nosniff"),
];

/// The static file served as `file_name` (with its hash, see [`StaticAsset::file_name`]), or
/// `None` (404) for any other name, an older hash included.
///
/// ```
/// use nopassword_core::pages::{SCRIPT, static_asset};
///
/// assert_eq!(static_asset(&SCRIPT.file_name()), Some(&SCRIPT));
/// assert_eq!(static_asset("nopassword.js"), None);
/// assert_eq!(static_asset("../Cargo.toml"), None);
/// ```
pub fn static_asset(file_name: &str) -> Option<&'static StaticAsset> {
    static NAMES: std::sync::LazyLock<[String; 2]> =
        std::sync::LazyLock::new(|| STATIC_ASSETS.map(|asset| asset.file_name()));
    NAMES
        .iter()
        .position(|name| name == file_name)
        .and_then(|i| STATIC_ASSETS.get(i))
}

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
    (
        LOGIN_APPROVAL,
        include_str!("../templates/login_approval.html"),
    ),
];

/// The compiled page templates (feature `templates`): [`TEMPLATES`], each replaced by the file
/// of the same name in `template_dir` when there is one. Both web adapters load one at start-up
/// and render every page through it.
///
/// ```
/// use nopassword_core::{Settings, http::Failure, pages::{Page, Pages}};
///
/// let pages = Pages::load(None)?;
/// let html = pages.render(Page::Failure(&Failure::Csrf), &Settings::default())?;
/// assert!(html.contains("<h1>Form expired</h1>"));
/// assert!(html.contains(r#"<a href="/accounts/login/">"#));
/// # Ok::<_, nopassword_core::templates::TemplateError>(())
/// ```
#[cfg(feature = "templates")]
#[derive(Debug)]
pub struct Pages {
    templates: Templates,
    catalog: Arc<Catalog>,
}

#[cfg(feature = "templates")]
impl Pages {
    /// Compiles the page templates, replacing each with the file of the same name in
    /// `template_dir` when there is one, then renders every page once with sample values
    /// ([`Page::samples`], under default settings and under `hide_username` with
    /// `numeric_codes`). So an override that does not parse, names an undefined variable
    /// (`{{ csrf_tokn }}`) or includes a file that is missing fails here, at start-up, with an
    /// error naming its file, and not at the first visitor.
    ///
    /// ```
    /// use nopassword_core::pages::Pages;
    ///
    /// let dir = std::env::temp_dir().join(format!("np-pages-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("login_sent.html"), "{% if %}")?;
    /// let err = Pages::load(Some(&dir)).unwrap_err();
    /// assert!(err.to_string().contains("login_sent.html"), "{err}");
    ///
    /// std::fs::write(dir.join("login_sent.html"), "{{ mesage }}")?;
    /// let err = Pages::load(Some(&dir)).unwrap_err();
    /// assert!(err.to_string().contains("`mesage` is undefined"), "{err}");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(template_dir: Option<&Path>) -> Result<Self, TemplateError> {
        let catalog = Catalog::load(template_dir).map_err(|error| TemplateError {
            name: error.file,
            reason: error.reason,
        })?;
        let catalog = Arc::new(catalog);
        let pages = Self {
            templates: Templates::load_with_catalog(TEMPLATES, template_dir, catalog.clone())?,
            catalog,
        };
        let hidden = Settings {
            hide_username: true,
            numeric_codes: true,
            ..Settings::default()
        };
        for settings in [Settings::default(), hidden] {
            for locale in pages.catalog.locales() {
                for page in Page::samples() {
                    pages
                        .render_in(page, &settings, locale)
                        .map_err(|error| TemplateError {
                            name: error.name,
                            reason: format!(
                                "{} (rendering {} in {locale} with sample values at start-up)",
                                error.reason,
                                page.template()
                            ),
                        })?;
                }
            }
        }
        Ok(pages)
    }

    /// [`load`](Self::load), then checks that the catalog has `settings.default_locale`
    /// (shipped, or in `template_dir/locales/`): what the adapters call at start-up.
    ///
    /// ```
    /// use nopassword_core::{Settings, pages::Pages};
    ///
    /// let settings = Settings { default_locale: "es".parse()?, ..Settings::default() };
    /// assert!(Pages::for_settings(&settings).is_ok());
    /// let settings = Settings { default_locale: "ja".parse()?, ..Settings::default() };
    /// let err = Pages::for_settings(&settings).unwrap_err();
    /// assert!(err.to_string().contains("default_locale"), "{err}");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_settings(settings: &Settings) -> Result<Self, TemplateError> {
        let pages = Self::load(settings.template_dir.as_deref())?;
        check_default_locale(&pages.catalog, settings)?;
        Ok(pages)
    }

    /// The catalog the pages take their texts from (also what the JSON API's messages use).
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The locale of a request: the app's choice, else `Accept-Language` negotiated against
    /// the catalog's locales, else `default_locale` ([`crate::locale::resolve`]).
    ///
    /// ```
    /// use nopassword_core::{Settings, pages::Pages};
    ///
    /// let pages = Pages::load(None)?;
    /// let settings = Settings::default();
    /// assert_eq!(pages.negotiate(&settings, None, Some("es-ES,es;q=0.9")).as_str(), "es");
    /// assert_eq!(pages.negotiate(&settings, None, Some("ja")).as_str(), "en");
    /// assert_eq!(pages.negotiate(&settings, None, None).as_str(), "en");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn negotiate(
        &self,
        settings: &Settings,
        app: Option<Locale>,
        accept_language: Option<&str>,
    ) -> Locale {
        crate::locale::resolve(
            app,
            None,
            accept_language,
            self.catalog.locales(),
            &settings.default_locale,
        )
    }

    /// Renders `page` with its [context](Page::context) under `settings`; the adapters send it
    /// with [`Page::status`].
    ///
    /// Errors: a [`TemplateError`] naming the template's file and what failed (such as an
    /// override's undefined variable). The adapters log it and answer a plain 503.
    ///
    /// ```
    /// use nopassword_core::{Settings, forms::FormErrors, pages::{Page, Pages}};
    ///
    /// let errors = FormErrors::default();
    /// let page = Page::LoginForm { csrf_token: "t", username: "<b>", next: Some("/inbox"), errors: &errors };
    /// let html = Pages::load(None)?.render(page, &Settings::default())?;
    /// assert!(html.contains(r#"value="&lt;b&gt;""#));
    /// assert!(html.contains(r#"name="next" value="/inbox""#));
    /// # Ok::<_, nopassword_core::templates::TemplateError>(())
    /// ```
    pub fn render(&self, page: Page<'_>, settings: &Settings) -> Result<String, TemplateError> {
        self.render_in(page, settings, &settings.default_locale)
    }

    /// [`render`](Self::render) in `locale`: `<html lang dir>` and every text from the
    /// catalog.
    ///
    /// ```
    /// use nopassword_core::{Settings, pages::{Page, Pages}};
    ///
    /// let sent = Page::Sent { csrf_token: "token", number: 42, not_yet: false };
    /// let html = Pages::load(None)?.render_in(sent, &Settings::default(), &"es".parse()?)?;
    /// assert!(html.contains("<strong>42</strong>"), "{html}");
    /// assert!(html.contains(r#"<html lang="es" dir="ltr">"#), "{html}");
    /// assert!(html.contains("<h1>Te hemos enviado un correo con un enlace de acceso</h1>"), "{html}");
    /// assert!(html.contains("durante 15 minutos"), "{html}");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn render_in(
        &self,
        page: Page<'_>,
        settings: &Settings,
        locale: &Locale,
    ) -> Result<String, TemplateError> {
        self.templates.render(
            page.template(),
            page.context(settings).in_locale(&self.catalog, locale),
        )
    }
}

/// A [`TemplateError`] naming `default_locale` when the catalog lacks it.
#[cfg(feature = "templates")]
pub fn check_default_locale(catalog: &Catalog, settings: &Settings) -> Result<(), TemplateError> {
    if catalog.has_locale(&settings.default_locale) {
        return Ok(());
    }
    let have: Vec<&str> = catalog.locales().iter().map(Locale::as_str).collect();
    Err(TemplateError {
        name: "settings".into(),
        reason: format!(
            "default_locale `{}` has no catalog: expected one of {} or a folder {}/{}/ in template_dir",
            settings.default_locale,
            have.join(", "),
            crate::i18n::LOCALES_FOLDER,
            settings.default_locale,
        ),
    })
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
    /// `login_sent.html`: "Check your inbox", with the flow's matching number and the form
    /// that completes the login once another device approved it (its script polls
    /// `api/login/flow/` and submits the form by itself).
    Sent {
        /// The page's CSRF token (for the "Continue" form).
        csrf_token: &'a str,
        /// The flow's matching number (10 to 99).
        number: u8,
        /// Shown after "Continue" was pressed before the approval: "This login has not been
        /// approved yet."
        not_yet: bool,
    },
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
        /// The device that asked, by browser and system (`"Firefox, Linux"`), if known.
        device: Option<&'a str>,
        /// The three numbers to pick from to approve the device that asked; `None` when the
        /// link can no longer approve another device.
        numbers: Option<[u8; 3]>,
    },
    /// `login_approval.html`: after a number was picked on the "Confirm login" page.
    Approval {
        /// The right number: "Login approved" (200); else "Login not approved" (400).
        approved: bool,
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

/// The sample errors of [`Page::samples`]: none, and one of each field.
static SAMPLE_ERRORS: std::sync::LazyLock<[FormErrors; 2]> = std::sync::LazyLock::new(|| {
    let mut errors = FormErrors::form(messages::FIELD_REQUIRED);
    errors.add("username", messages::FIELD_REQUIRED);
    errors.add("code", messages::FIELD_REQUIRED);
    [FormErrors::default(), errors]
});

/// Every [`Failure`], for [`Page::samples`].
static SAMPLE_FAILURES: std::sync::LazyLock<[Failure; 8]> = std::sync::LazyLock::new(|| {
    [
        Failure::BadRequest(messages::EXPECTED_JSON_OBJECT.into()),
        Failure::Csrf,
        Failure::OtherBrowser,
        Failure::TooLarge,
        Failure::expected_form(),
        Failure::RateLimited(std::time::Duration::from_secs(30)),
        Failure::Unavailable,
        Failure::NotFound,
    ]
});

impl Page<'static> {
    /// Every page with sample values: each variant, forms with no errors and with an error
    /// on every field, and every [`Failure`]. [`Pages::load`] renders each once, so every
    /// template (and each branch on `errors`) meets its variables before the first visitor.
    ///
    /// ```
    /// use nopassword_core::pages::{BASE, Page, TEMPLATES};
    ///
    /// let rendered: std::collections::BTreeSet<_> = Page::samples().iter().map(|p| p.template()).collect();
    /// assert_eq!(rendered.len(), TEMPLATES.len() - 1, "every template but {BASE}");
    /// ```
    pub fn samples() -> Vec<Self> {
        let action = "/accounts/login-code/alice/0123456789abcdef0123/";
        let mut pages = vec![
            Page::Sent {
                csrf_token: "sample-csrf-token",
                number: 42,
                not_yet: false,
            },
            Page::Sent {
                csrf_token: "sample-csrf-token",
                number: 42,
                not_yet: true,
            },
            Page::Submit {
                action,
                csrf_token: "sample-csrf-token",
            },
            Page::Confirm {
                action,
                csrf_token: "sample-csrf-token",
                username: "alice",
                requested_at: std::time::UNIX_EPOCH,
                device: Some("Firefox, Linux"),
                numbers: Some([17, 42, 93]),
            },
            Page::Confirm {
                action,
                csrf_token: "sample-csrf-token",
                username: "alice",
                requested_at: std::time::UNIX_EPOCH,
                device: None,
                numbers: None,
            },
            Page::Approval { approved: true },
            Page::Approval { approved: false },
            Page::LogoutForm {
                action: "/accounts/logout/",
                csrf_token: "sample-csrf-token",
                next: Some("/inbox"),
            },
        ];
        for errors in SAMPLE_ERRORS.iter() {
            pages.push(Page::LoginForm {
                csrf_token: "sample-csrf-token",
                username: "alice",
                next: Some("/inbox"),
                errors,
            });
            pages.push(Page::CodeForm {
                csrf_token: "sample-csrf-token",
                username: "alice",
                errors,
            });
        }
        pages.extend(SAMPLE_FAILURES.iter().map(Page::Failure));
        pages
    }
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
            Self::Sent { .. } => LOGIN_SENT,
            Self::Approval { .. } => LOGIN_APPROVAL,
            Self::Submit { .. } => LOGIN_SUBMIT,
            Self::Confirm { .. } => LOGIN_CONFIRM,
            Self::LogoutForm { .. } => LOGOUT_FORM,
            Self::CodeForm { .. } => LOGIN_CODE_FORM,
            Self::Failure(Failure::NotFound) => LOGIN_CODE_INVALID,
            Self::Failure(_) => ERROR,
        }
    }

    /// The HTTP status the page is sent with: 200, 400 for a wrong number on the approval
    /// page, or the failure's.
    pub fn status(&self) -> u16 {
        match self {
            Self::Failure(failure) => failure.status(),
            Self::Approval { approved: false } => 400,
            _ => 200,
        }
    }

    /// The template's context (serializable into any engine's values).
    pub fn context(self, settings: &'a Settings) -> PageContext<'a> {
        PageContext {
            page: self,
            settings,
            #[cfg(feature = "i18n")]
            texts: None,
        }
    }
}

/// The variables a page template sees; see the [module docs](self) for each page's. In
/// English unless [`in_locale`](Self::in_locale) names a catalog and a locale.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    page: Page<'a>,
    settings: &'a Settings,
    #[cfg(feature = "i18n")]
    texts: Option<(&'a Catalog, &'a Locale)>,
}

impl<'a> PageContext<'a> {
    /// The same page with its texts from `catalog` in `locale` (feature `i18n`).
    #[cfg(feature = "i18n")]
    pub fn in_locale(mut self, catalog: &'a Catalog, locale: &'a Locale) -> Self {
        self.texts = Some((catalog, locale));
        self
    }

    /// The page's locale: the one given to [`in_locale`](Self::in_locale), else English.
    fn locale(&self) -> std::borrow::Cow<'a, Locale> {
        #[cfg(feature = "i18n")]
        if let Some((_, locale)) = self.texts {
            return std::borrow::Cow::Borrowed(locale);
        }
        std::borrow::Cow::Owned(Locale::en())
    }

    /// Message `id`, whose English is `english`, in the page's locale.
    fn text(&self, id: &str, english: &'a str) -> std::borrow::Cow<'a, str> {
        #[cfg(feature = "i18n")]
        if let Some((catalog, locale)) = self.texts {
            return catalog.text(locale, id).into();
        }
        let _ = id;
        english.into()
    }

    /// A message of [`messages`] (form errors, failures) in the page's locale; a text that is
    /// not one of them (a parser's detail) as it is.
    fn message(&self, english: &'a str) -> std::borrow::Cow<'a, str> {
        match messages::code(english) {
            Some(code) => self.text(code, english),
            None => english.into(),
        }
    }

    fn expires_in(&self) -> String {
        #[cfg(feature = "i18n")]
        if let Some((catalog, locale)) = self.texts {
            return catalog.duration(locale, self.settings.code_validity());
        }
        expires_in(self.settings)
    }
}

/// The fields of [`FormErrors`] the pages show, each present in `errors` (maybe empty).
const FORM_FIELDS: [&str; 3] = [FormErrors::ALL, "username", "code"];

/// `errors` with every field of [`FORM_FIELDS`], so `{% if errors.code %}` never reads an
/// undefined value; each message in the page's locale.
struct PageErrors<'a>(Option<&'a FormErrors>, PageContext<'a>);

impl Serialize for PageErrors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(FORM_FIELDS.len()))?;
        for field in FORM_FIELDS {
            let messages: Vec<_> = self
                .0
                .map_or(&[][..], |errors| errors.get(field))
                .iter()
                .map(|message| self.1.message(message))
                .collect();
            map.serialize_entry(field, &messages)?;
        }
        map.end()
    }
}

/// Every variable of every page (see the [module docs](self)).
#[derive(Serialize)]
struct Variables<'a> {
    mount_path: &'a str,
    csrf_token: &'a str,
    next: std::borrow::Cow<'a, str>,
    username: &'a str,
    errors: PageErrors<'a>,
    title: std::borrow::Cow<'a, str>,
    button: std::borrow::Cow<'a, str>,
    action: &'a str,
    message: std::borrow::Cow<'a, str>,
    requested_at: String,
    expires_in: String,
    ask_username: bool,
    numeric: bool,
    stylesheet: String,
    script: String,
    lang: String,
    dir: &'static str,
    number: u8,
    numbers: Vec<u8>,
    device: &'a str,
    notice: std::borrow::Cow<'a, str>,
    approved: bool,
}

impl Serialize for PageContext<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let settings = self.settings;
        let locale = self.locale();
        let mut vars = Variables {
            mount_path: &settings.mount_path,
            csrf_token: "",
            next: "".into(),
            username: "",
            errors: PageErrors(None, *self),
            title: "".into(),
            button: "".into(),
            action: "",
            message: "".into(),
            requested_at: String::new(),
            expires_in: self.expires_in(),
            ask_username: !settings.hide_username,
            numeric: settings.numeric_codes,
            stylesheet: STYLESHEET.path(settings),
            script: SCRIPT.path(settings),
            lang: locale.as_str().to_owned(),
            dir: locale.dir(),
            number: 0,
            numbers: Vec::new(),
            device: "",
            notice: "".into(),
            approved: false,
        };
        fn safe(next: Option<&str>) -> std::borrow::Cow<'_, str> {
            next.and_then(safe_next).unwrap_or_default()
        }
        match self.page {
            Page::LoginForm {
                csrf_token,
                username,
                next,
                errors,
            } => {
                vars.csrf_token = csrf_token;
                vars.next = safe(next);
                vars.username = username;
                vars.errors = PageErrors(Some(errors), *self);
            }
            Page::Sent {
                csrf_token,
                number,
                not_yet,
            } => {
                vars.message = self.message(messages::SENT_PAGE);
                vars.csrf_token = csrf_token;
                vars.number = number;
                vars.button = self.text("sent-continue", "Continue");
                if not_yet {
                    vars.notice = self.message(messages::FLOW_NOT_APPROVED);
                }
            }
            Page::Approval { approved } => {
                vars.approved = approved;
                if approved {
                    vars.title = self.message(messages::LOGIN_APPROVED);
                } else {
                    vars.title = self.message(messages::NOT_APPROVED);
                    vars.message = self.message(messages::WRONG_NUMBER);
                }
            }
            Page::Submit { action, csrf_token } => {
                vars.title = self.message(messages::LOGGING_IN);
                vars.button = self.message(messages::CLICK_TO_LOGIN);
                vars.action = action;
                vars.csrf_token = csrf_token;
            }
            Page::Confirm {
                action,
                csrf_token,
                username,
                requested_at,
                device,
                numbers,
            } => {
                vars.device = device.unwrap_or("");
                vars.numbers = numbers.map(Vec::from).unwrap_or_default();
                vars.title = self.message(messages::CONFIRM_LOGIN);
                vars.button = self.message(messages::LOG_IN);
                vars.action = action;
                vars.csrf_token = csrf_token;
                vars.username = username;
                vars.requested_at = utc_minute(requested_at);
            }
            Page::LogoutForm {
                action,
                csrf_token,
                next,
            } => {
                vars.title = self.message(messages::LOG_OUT_TITLE);
                vars.button = self.message(messages::LOG_OUT);
                vars.action = action;
                vars.csrf_token = csrf_token;
                vars.next = safe(next);
            }
            Page::CodeForm {
                csrf_token,
                username,
                errors,
            } => {
                vars.csrf_token = csrf_token;
                vars.username = username;
                vars.errors = PageErrors(Some(errors), *self);
            }
            Page::Failure(failure) => {
                vars.title = self.text(failure.title_id(), failure.title());
                vars.message = self.message(failure.message());
            }
        }
        vars.serialize(serializer)
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

#[cfg(all(test, feature = "templates"))]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use minijinja::UndefinedBehavior;

    use super::*;
    use crate::templates::tests::TempDir;

    /// One page of each kind, named for the failure messages, with the template it renders.
    fn every_page<'a>(
        errors: &'a FormErrors,
        failures: &'a [(&'static str, Failure)],
    ) -> Vec<(String, Page<'a>)> {
        let mut pages = vec![
            (
                "LoginForm".to_owned(),
                Page::LoginForm {
                    csrf_token: "tok",
                    username: "alice",
                    next: Some("/inbox"),
                    errors,
                },
            ),
            (
                "Sent".to_owned(),
                Page::Sent {
                    csrf_token: "tok",
                    number: 42,
                    not_yet: false,
                },
            ),
            ("Approval".to_owned(), Page::Approval { approved: true }),
            (
                "Submit".to_owned(),
                Page::Submit {
                    action: "/accounts/login-code/alice/c/",
                    csrf_token: "tok",
                },
            ),
            (
                "Confirm".to_owned(),
                Page::Confirm {
                    action: "/accounts/login-code/alice/c/",
                    csrf_token: "tok",
                    username: "alice",
                    requested_at: UNIX_EPOCH,
                    device: Some("Firefox, Linux"),
                    numbers: Some([17, 42, 93]),
                },
            ),
            (
                "LogoutForm".to_owned(),
                Page::LogoutForm {
                    action: "/accounts/logout/",
                    csrf_token: "tok",
                    next: None,
                },
            ),
            (
                "CodeForm".to_owned(),
                Page::CodeForm {
                    csrf_token: "tok",
                    username: "",
                    errors,
                },
            ),
        ];
        for (name, failure) in failures {
            pages.push((format!("Failure({name})"), Page::Failure(failure)));
        }
        pages
    }

    fn failures() -> Vec<(&'static str, Failure)> {
        vec![
            ("BadRequest", Failure::BadRequest("bad".into())),
            ("Csrf", Failure::Csrf),
            ("OtherBrowser", Failure::OtherBrowser),
            ("TooLarge", Failure::TooLarge),
            ("UnsupportedMediaType", Failure::expected_form()),
            ("RateLimited", Failure::RateLimited(Duration::from_secs(3))),
            ("Unavailable", Failure::Unavailable),
            ("NotFound", Failure::NotFound),
        ]
    }

    fn strict_builtins() -> Templates {
        Templates::with_undefined(
            TEMPLATES,
            None,
            UndefinedBehavior::Strict,
            crate::i18n::Catalog::builtin(),
        )
        .expect("built-ins")
    }

    #[test]
    fn every_builtin_page_renders_for_every_page_with_strict_undefined() {
        let templates = strict_builtins();
        let failures = failures();
        for settings in [
            Settings::default(),
            Settings {
                hide_username: true,
                numeric_codes: true,
                ..Settings::default()
            },
        ] {
            for errors in [FormErrors::default(), {
                let mut errors = FormErrors::form("whole form");
                errors.add("username", "bad username");
                errors.add("code", "bad code");
                errors
            }] {
                let mut rendered = std::collections::BTreeSet::new();
                for (name, page) in every_page(&errors, &failures) {
                    let html = templates
                        .render(page.template(), page.context(&settings))
                        .unwrap_or_else(|e| panic!("Page::{name} ({}): {e}", page.template()));
                    assert!(html.starts_with("<!doctype html>"), "Page::{name}: {html}");
                    rendered.insert(page.template());
                }
                let all: std::collections::BTreeSet<_> = TEMPLATES
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| *name != BASE)
                    .collect();
                assert_eq!(rendered, all, "every page template is rendered");
            }
        }
    }

    #[test]
    fn every_page_context_has_every_variable() {
        let documented = [
            "action",
            "approved",
            "ask_username",
            "button",
            "csrf_token",
            "device",
            "dir",
            "errors",
            "expires_in",
            "lang",
            "message",
            "mount_path",
            "next",
            "notice",
            "number",
            "numbers",
            "numeric",
            "requested_at",
            "script",
            "stylesheet",
            "title",
            "username",
        ];
        let errors = FormErrors::default();
        let failures = failures();
        let settings = Settings::default();
        for (name, page) in every_page(&errors, &failures) {
            let value = serde_json::to_value(page.context(&settings)).expect("serializes");
            let keys: Vec<&str> = value
                .as_object()
                .expect("a map")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, documented, "Page::{name}");
            let errors = value["errors"].as_object().expect("errors map");
            let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
            assert_eq!(fields, ["__all__", "code", "username"], "Page::{name}");
        }
    }

    #[test]
    fn page_variables_carry_their_values() {
        let settings = Settings::default();
        let errors = FormErrors::form("whole form");
        let context = |page: Page<'_>| serde_json::to_value(page.context(&settings)).expect("ser");
        let form = context(Page::LoginForm {
            csrf_token: "tok",
            username: "alice",
            next: Some("https://evil.example/"),
            errors: &errors,
        });
        assert_eq!(form["next"], "", "an unsafe next is dropped");
        assert_eq!(form["errors"]["__all__"][0], "whole form");
        assert_eq!(form["mount_path"], "/accounts");
        let sent = context(Page::Sent {
            csrf_token: "t",
            number: 42,
            not_yet: true,
        });
        assert_eq!(sent["number"], 42);
        assert_eq!(sent["notice"], messages::FLOW_NOT_APPROVED);
        assert_eq!(sent["message"], messages::SENT_PAGE);
        assert_eq!(sent["expires_in"], "15 minutes");
        let confirm = context(Page::Confirm {
            action: "/a",
            csrf_token: "t",
            username: "bob",
            requested_at: UNIX_EPOCH,
            device: None,
            numbers: Some([17, 42, 93]),
        });
        assert_eq!(confirm["numbers"][1], 42);
        assert_eq!(confirm["device"], "");
        assert_eq!(confirm["requested_at"], "1970-01-01 00:00 UTC");
        assert_eq!(confirm["title"], messages::CONFIRM_LOGIN);
        let logout = context(Page::LogoutForm {
            action: "/accounts/logout/",
            csrf_token: "t",
            next: Some("/bye"),
        });
        assert_eq!(logout["next"], "/bye");
        let failure = context(Page::Failure(&Failure::Csrf));
        assert_eq!(failure["title"], Failure::Csrf.title());
        assert_eq!(failure["message"], Failure::Csrf.message());
    }

    #[test]
    fn html_is_escaped_and_paths_stay_readable() {
        let pages = Pages::load(None).expect("built-ins parse");
        let errors = FormErrors::default();
        let page = Page::LoginForm {
            csrf_token: "t",
            username: "<script>x</script>",
            next: Some("/a/b?c=1&d=2"),
            errors: &errors,
        };
        let html = pages.render(page, &Settings::default()).expect("renders");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains(r#"value="/a/b?c=1&amp;d=2""#), "{html}");
        assert!(html.contains(r#"action="/accounts/login/""#), "{html}");
    }

    #[test]
    fn every_template_is_overridable_by_name() {
        let dir = TempDir::new("pages-override");
        let settings = Settings::default();
        let errors = FormErrors::default();
        let failures = failures();
        for &(name, _) in TEMPLATES.iter().filter(|(name, _)| *name != BASE) {
            dir.write(name, &format!("custom {name} {{{{ mount_path }}}}"));
        }
        dir.write(BASE, "[{% block content %}{% endblock %}]");
        let pages = Pages::load(Some(&dir.0)).expect("loads");
        for (name, page) in every_page(&errors, &failures) {
            let html = pages.render(page, &settings).expect("renders");
            assert_eq!(
                html,
                format!("custom {} /accounts", page.template()),
                "Page::{name}"
            );
        }
        // base.html alone: the built-in pages extend the override.
        for &(name, _) in TEMPLATES.iter().filter(|(name, _)| *name != BASE) {
            std::fs::remove_file(dir.0.join(name)).expect("rm");
        }
        let pages = Pages::load(Some(&dir.0)).expect("loads");
        let html = pages
            .render(
                Page::Sent {
                    csrf_token: "t",
                    number: 42,
                    not_yet: false,
                },
                &settings,
            )
            .expect("renders");
        assert!(html.starts_with("[\n<h1>"), "{html}");
    }

    #[test]
    fn an_override_that_does_not_parse_fails_the_load_naming_it() {
        let dir = TempDir::new("pages-broken");
        dir.write(LOGIN_SENT, "{% if %}");
        let err = Pages::load(Some(&dir.0)).expect_err("broken template");
        assert_eq!(err.name, dir.0.join(LOGIN_SENT).display().to_string());
        assert!(err.reason.contains("syntax error"), "{err}");
    }

    #[test]
    fn an_override_with_an_undefined_variable_fails_the_load_naming_it() {
        let dir = TempDir::new("pages-undefined");
        dir.write(LOGIN_SENT, "{{ message }} {{ mesage }}");
        let err = Pages::load(Some(&dir.0)).expect_err("undefined variable");
        assert_eq!(err.name, dir.0.join(LOGIN_SENT).display().to_string());
        assert!(err.reason.contains("`mesage` is undefined"), "{err}");

        // In a page that extends base.html, and in base.html itself.
        std::fs::remove_file(dir.0.join(LOGIN_SENT)).expect("rm");
        dir.write(
            ERROR,
            "{% extends \"base.html\" %}{% block content %}{{ titel }}{% endblock %}",
        );
        let err = Pages::load(Some(&dir.0)).expect_err("undefined variable");
        assert!(err.to_string().contains("`titel` is undefined"), "{err}");
        assert!(err.to_string().contains(ERROR), "{err}");
        std::fs::remove_file(dir.0.join(ERROR)).expect("rm");
        dir.write(BASE, "{% block content %}{% endblock %}{{ csrf_tokn }}");
        let err = Pages::load(Some(&dir.0)).expect_err("undefined variable");
        assert!(
            err.to_string().contains("`csrf_tokn` is undefined"),
            "{err}"
        );
    }

    #[test]
    fn an_undefined_variable_in_an_error_branch_fails_the_load() {
        let dir = TempDir::new("pages-branch");
        dir.write(
            LOGIN_CODE_FORM,
            "{% if errors.code %}{{ erors.code }}{% endif %}{{ csrf_token }}",
        );
        let err = Pages::load(Some(&dir.0)).expect_err("undefined in the errors branch");
        assert_eq!(err.name, dir.0.join(LOGIN_CODE_FORM).display().to_string());
        assert!(err.reason.contains("`erors` is undefined"), "{err}");
    }

    #[test]
    fn an_override_including_a_missing_file_fails_the_load_naming_it() {
        let dir = TempDir::new("pages-include");
        dir.write(
            LOGIN_FORM,
            "{% extends \"base.html\" %}{% block content %}{% include \"form_fields.html\" %}{% endblock %}",
        );
        let err = Pages::load(Some(&dir.0)).expect_err("missing include");
        assert_eq!(err.name, dir.0.join(LOGIN_FORM).display().to_string());
        assert!(err.reason.contains("form_fields.html"), "{err}");

        // Once the file is there, the same override loads and renders through it.
        dir.write(
            "form_fields.html",
            "<input name=\"csrfmiddlewaretoken\" value=\"{{ csrf_token }}\">",
        );
        let pages = Pages::load(Some(&dir.0)).expect("loads");
        let errors = FormErrors::default();
        let html = pages
            .render(
                Page::LoginForm {
                    csrf_token: "tok",
                    username: "",
                    next: None,
                    errors: &errors,
                },
                &Settings::default(),
            )
            .expect("renders");
        assert!(html.contains(r#"value="tok""#), "{html}");
    }

    #[test]
    fn the_samples_render_every_template_and_every_page_variant() {
        let samples = Page::samples();
        let rendered: std::collections::BTreeSet<_> = samples.iter().map(Page::template).collect();
        let all: std::collections::BTreeSet<_> = TEMPLATES
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| *name != BASE)
            .collect();
        assert_eq!(rendered, all);
        let failures: Vec<_> = samples
            .iter()
            .filter_map(|page| match page {
                Page::Failure(failure) => Some(failure.status()),
                _ => None,
            })
            .collect();
        assert_eq!(failures, [400, 403, 403, 413, 415, 429, 503, 404]);
        let with_errors = samples
            .iter()
            .filter(|page| {
                matches!(page, Page::LoginForm { errors, .. } | Page::CodeForm { errors, .. }
                    if errors.get("code").len() == 1 && errors.get("username").len() == 1)
            })
            .count();
        assert_eq!(with_errors, 2, "both forms with an error on every field");
    }

    #[test]
    fn the_pages_link_the_static_files_and_carry_no_inline_script_or_style() {
        let pages = Pages::load(None).expect("built-ins");
        let settings = Settings::default();
        for page in Page::samples() {
            let html = pages.render(page, &settings).expect("renders");
            let name = page.template();
            assert!(
                html.contains(&format!(
                    r#"<link rel="stylesheet" href="/accounts/static/{}">"#,
                    STYLESHEET.file_name()
                )),
                "{name}: {html}"
            );
            // Every page but "Confirm login", which carries no script at all.
            let scripts = usize::from(name != LOGIN_CONFIRM && name != LOGIN_APPROVAL);
            assert_eq!(html.matches("<script").count(), scripts, "{name}: {html}");
            assert_eq!(
                html.matches(&format!(
                    r#"<script src="/accounts/static/{}"></script>"#,
                    SCRIPT.file_name()
                ))
                .count(),
                scripts,
                "{name}: {html}"
            );
            assert!(!html.contains("<style"), "{name}: {html}");
            assert!(!html.contains("style="), "{name}: {html}");
        }
    }

    #[test]
    fn static_files_are_found_by_their_hashed_name_only() {
        for asset in &STATIC_ASSETS {
            let name = asset.file_name();
            assert_eq!(static_asset(&name), Some(asset));
            assert_eq!(static_asset(asset.name), None);
            assert!(!asset.body.is_empty());
        }
        assert_ne!(STYLESHEET.file_name(), SCRIPT.file_name());
        assert!(STYLESHEET.body.contains(".errors"));
        assert!(SCRIPT.body.contains("securitypolicyviolation"));
        assert!(SCRIPT.body.contains("nopassword-login"));
        // The hash follows the bytes.
        let changed = StaticAsset {
            body: "body {}",
            ..STYLESHEET
        };
        assert_ne!(changed.file_name(), STYLESHEET.file_name());
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let root = Settings {
            mount_path: String::new(),
            ..Settings::default()
        };
        assert_eq!(
            SCRIPT.path(&root),
            format!("/static/{}", SCRIPT.file_name())
        );
    }
}
