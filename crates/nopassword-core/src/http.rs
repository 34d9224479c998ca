//! The framework-neutral half of the HTTP contract (docs/HTTP.md, Routes), written once so that every
//! web adapter answers alike: how failures map to status codes and pages, which content types
//! the routes take, the CSRF token, the headers on every answer, the session cookie, and what a
//! request says about itself behind a proxy.
//!
//! Adapters keep only the glue: reading a request, writing a response, their session crate.

use std::{
    fmt,
    net::IpAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use serde::{Deserialize, de::IgnoredAny};
use subtle::ConstantTimeEq;

pub use self::sessions::SessionMap;
use crate::{
    CodeRng, Error, Settings,
    forms::{CodeForm, FormErrors, LoginForm, messages},
    hashing::{CHECK_LEN, CodeHasher, hex, unhex},
    redirect::safe_next,
    service::{CodeAttempt, LoginRequest},
};

mod sessions;

/// The form field that carries the CSRF token (Django's name, so templates port over).
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// The query of the login and logout pages: `?next=`, carried in a hidden field when safe.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NextQuery {
    /// Where to go afterwards.
    pub next: Option<String>,
}

/// The query of the code form: `?username=` fills its field in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UsernameQuery {
    /// The username to show.
    pub username: Option<String>,
}

/// The fields of the HTML login form (`POST login/`): a [`LoginForm`] and the CSRF token.
/// No `Debug`: it holds the token.
#[derive(Default, Deserialize)]
pub struct LoginPost {
    /// The username as typed.
    pub username: Option<String>,
    /// Where to go after login.
    pub next: Option<String>,
    /// The token of the CSRF cookie, repeated ([`CSRF_FIELD`]).
    pub csrfmiddlewaretoken: Option<String>,
}

impl LoginPost {
    /// The form, and the CSRF token it presented.
    pub fn into_parts(self) -> (LoginForm, Option<String>) {
        let form = LoginForm {
            username: self.username,
            next: self.next,
        };
        (form, self.csrfmiddlewaretoken)
    }
}

/// The fields of the HTML code form (`POST login/code/`): a [`CodeForm`] (its `flow` for
/// forms that carry one, else the flow cookie counts) and the CSRF token. No `Debug`: it
/// holds a code and tokens.
#[derive(Default, Deserialize)]
pub struct CodePost {
    /// The username as typed.
    pub username: Option<String>,
    /// The code as typed.
    pub code: Option<String>,
    /// A flow token, for forms that carry one.
    pub flow: Option<String>,
    /// The token of the CSRF cookie, repeated ([`CSRF_FIELD`]).
    pub csrfmiddlewaretoken: Option<String>,
}

impl CodePost {
    /// The form, and the CSRF token it presented.
    pub fn into_parts(self) -> (CodeForm, Option<String>) {
        let form = CodeForm {
            username: self.username,
            code: self.code,
            flow: self.flow,
        };
        (form, self.csrfmiddlewaretoken)
    }
}

/// The fields of the logout form (`POST logout/`): `next` and the CSRF token. No `Debug`: it
/// holds the token.
#[derive(Default, Deserialize)]
pub struct LogoutPost {
    /// Where to go afterwards ([`logout_target`]).
    pub next: Option<String>,
    /// The token of the CSRF cookie, repeated ([`CSRF_FIELD`]).
    pub csrfmiddlewaretoken: Option<String>,
}

/// The `Content-Security-Policy` of every answer of the contract's routes: scripts, styles,
/// images and every other resource come from the site's own origin only (so no inline
/// `<script>`, `<style>` or `style=`: the built-in pages link
/// [`STATIC_ASSETS`](crate::pages::STATIC_ASSETS) instead); no page renders in a frame (as
/// `X-Frame-Options: DENY` says to older browsers); forms post to the site only, which the
/// redirect after each POST also keeps to (`next` and `login_redirect_url` are same-site
/// paths); and no `<base>` element can move the pages' relative links.
///
/// ```
/// use nopassword_core::http::{CONTENT_SECURITY_POLICY, SECURITY_HEADERS};
///
/// assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'self'"));
/// assert!(SECURITY_HEADERS.contains(&("content-security-policy", CONTENT_SECURITY_POLICY)));
/// ```
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Headers on every answer of the contract's routes: pages that carry codes or CSRF tokens are
/// never cached and never leak their URL as a referrer, nor render in a frame, and run no
/// script nor style but the site's own ([`CONTENT_SECURITY_POLICY`]). An app that sets its
/// own policy in an outer layer replaces this one only if its layer overwrites the header.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "no-store"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
];

/// How long a session lives without requests: two weeks (Django's default).
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(14 * 24 * 3600);

/// The session cookie's name: `{namespace}_session`.
///
/// ```
/// use nopassword_core::{Settings, http::session_cookie_name};
///
/// assert_eq!(session_cookie_name(&Settings::default()), "nopassword_session");
/// ```
pub fn session_cookie_name(settings: &Settings) -> String {
    format!("{}_session", settings.namespace)
}

/// The flow cookie's name: `{namespace}_flow` (docs/HTTP.md, Login flows). It holds the
/// [`FlowToken`](crate::flow::FlowToken) of the browser's login flow.
///
/// ```
/// use nopassword_core::{Settings, http::flow_cookie_name};
///
/// assert_eq!(flow_cookie_name(&Settings::default()), "nopassword_flow");
/// ```
pub fn flow_cookie_name(settings: &Settings) -> String {
    format!("{}_flow", settings.namespace)
}

/// The CSRF cookie's name: `{namespace}_csrf`. It holds a signed token that the page's form
/// repeats (the signed double-submit pattern), so anonymous pages keep no server state.
///
/// ```
/// use nopassword_core::{Settings, http::csrf_cookie_name};
///
/// assert_eq!(csrf_cookie_name(&Settings::default()), "nopassword_csrf");
/// ```
pub fn csrf_cookie_name(settings: &Settings) -> String {
    format!("{}_csrf", settings.namespace)
}

/// The path the flow and CSRF cookies are scoped to: `mount_path`, or `/` at the root.
///
/// ```
/// use nopassword_core::{Settings, http::cookie_path};
///
/// assert_eq!(cookie_path(&Settings::default()), "/accounts");
/// ```
pub fn cookie_path(settings: &Settings) -> &str {
    if settings.mount_path.is_empty() {
        "/"
    } else {
        &settings.mount_path
    }
}

/// The `Set-Cookie` value of the flow cookie: HttpOnly, SameSite=Lax, scoped to
/// `mount_path`, living as long as the code (`login_code_timeout`). Adapters add `Secure` on
/// secure requests ([`secure_set_cookie`]).
///
/// ```
/// use nopassword_core::{Settings, http::flow_set_cookie};
///
/// let cookie = flow_set_cookie(&Settings::default(), "abc");
/// assert_eq!(cookie, "nopassword_flow=abc; Path=/accounts; Max-Age=900; HttpOnly; SameSite=Lax");
/// ```
pub fn flow_set_cookie(settings: &Settings, token: &str) -> String {
    format!(
        "{}={token}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax",
        flow_cookie_name(settings),
        cookie_path(settings),
        settings.login_code_timeout
    )
}

/// The `Set-Cookie` value of the CSRF cookie: HttpOnly (the server writes the token into the
/// form), SameSite=Lax, scoped to `mount_path`, ending with the browser session.
///
/// ```
/// use nopassword_core::{Settings, http::csrf_set_cookie};
///
/// let cookie = csrf_set_cookie(&Settings::default(), "t");
/// assert_eq!(cookie, "nopassword_csrf=t; Path=/accounts; HttpOnly; SameSite=Lax");
/// ```
pub fn csrf_set_cookie(settings: &Settings, token: &str) -> String {
    format!(
        "{}={token}; Path={}; HttpOnly; SameSite=Lax",
        csrf_cookie_name(settings),
        cookie_path(settings)
    )
}

/// The value of cookie `name` in a `Cookie` request header, if present.
///
/// ```
/// use nopassword_core::http::cookie_value;
///
/// assert_eq!(cookie_value("a=1; nopassword_flow=xyz", "nopassword_flow"), Some("xyz"));
/// assert_eq!(cookie_value("a=1", "nopassword_flow"), None);
/// ```
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

/// The flow a typed code counts in: the one the body presents (the API's `"flow"`, or a form
/// field) when it is not blank, else the flow cookie's.
///
/// ```
/// use nopassword_core::http::presented_flow;
///
/// assert_eq!(presented_flow(Some("abc"), Some("def")), Some("abc"));
/// assert_eq!(presented_flow(Some("  "), Some("def")), Some("def"));
/// assert_eq!(presented_flow(None, None), None);
/// ```
pub fn presented_flow<'a>(body: Option<&'a str>, cookie: Option<&'a str>) -> Option<&'a str> {
    body.map(str::trim)
        .filter(|flow| !flow.is_empty())
        .or(cookie)
}

/// The CSRF token of a page with a form ([`NoPassword::page_csrf`](crate::NoPassword::page_csrf)):
/// the CSRF cookie's own when it is signed by this service, else a fresh one, with the
/// `Set-Cookie` value the answer must then carry. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct PageCsrf {
    /// The token the form repeats in [`CSRF_FIELD`].
    pub token: String,
    /// The CSRF cookie to set, when the request had no valid one.
    pub set_cookie: Option<String>,
}

impl std::fmt::Debug for PageCsrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCsrf")
            .field("token", &"[redacted]")
            .field("new", &self.set_cookie.is_some())
            .finish()
    }
}

/// A fresh CSRF token: a 128-bit nonce and its keyed signature, in hex
/// (`{nonce}.{signature}`). See [`NoPassword::new_csrf_token`](crate::NoPassword::new_csrf_token).
pub(crate) fn new_csrf_token(rng: &dyn CodeRng, hasher: &CodeHasher) -> String {
    let mut nonce = [0u8; CHECK_LEN];
    rng.fill_bytes(&mut nonce);
    format!("{}.{}", hex(&nonce), hex(&hasher.csrf_signature(&nonce)))
}

/// Whether `token` is a CSRF token signed under one of the keys.
pub(crate) fn csrf_signed(hasher: &CodeHasher, token: &str) -> bool {
    let Some((nonce, signature)) = token.split_once('.') else {
        return false;
    };
    match (unhex::<CHECK_LEN>(nonce), unhex::<CHECK_LEN>(signature)) {
        (Some(nonce), Some(signature)) => hasher.csrf_signed(&nonce, &signature),
        _ => false,
    }
}

/// The double-submit check: the form repeats the cookie's token, and the token is signed.
pub(crate) fn csrf_pair_valid(
    hasher: &CodeHasher,
    cookie: Option<&str>,
    presented: Option<&str>,
) -> bool {
    match (cookie, presented) {
        (Some(cookie), Some(presented)) => {
            bool::from(cookie.as_bytes().ct_eq(presented.as_bytes())) && csrf_signed(hasher, cookie)
        }
        _ => false,
    }
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn media_type(content_type: Option<&str>) -> Option<String> {
    content_type
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
}

/// Whether a `Content-Type` is JSON: `application/json` or any `+json` type. The JSON API
/// requires it, which is also what keeps cross-site forms out of it.
///
/// ```
/// use nopassword_core::http::is_json;
///
/// assert!(is_json(Some("application/json; charset=utf-8")));
/// assert!(is_json(Some("application/merge-patch+json")));
/// assert!(!is_json(Some("text/plain")));
/// assert!(!is_json(None));
/// ```
pub fn is_json(content_type: Option<&str>) -> bool {
    media_type(content_type).is_some_and(|mime| {
        mime == "application/json" || (mime.len() > 5 && mime.ends_with("+json"))
    })
}

/// Whether a `Content-Type` is a urlencoded form, the only body the HTML routes take.
///
/// ```
/// use nopassword_core::http::is_form;
///
/// assert!(is_form(Some("application/x-www-form-urlencoded")));
/// assert!(!is_form(Some("multipart/form-data; boundary=x")));
/// ```
pub fn is_form(content_type: Option<&str>) -> bool {
    media_type(content_type).is_some_and(|mime| mime == "application/x-www-form-urlencoded")
}

/// A `Set-Cookie` value with `Secure` added, or `None` when it already has it. Adapters apply it
/// to responses to secure requests, so one app serves both HTTP in development and HTTPS.
///
/// ```
/// use nopassword_core::http::secure_set_cookie;
///
/// assert_eq!(secure_set_cookie("s=1; HttpOnly").as_deref(), Some("s=1; HttpOnly; Secure"));
/// assert_eq!(secure_set_cookie("s=1; Secure"), None);
/// ```
pub fn secure_set_cookie(set_cookie: &str) -> Option<String> {
    let has_secure = set_cookie
        .split(';')
        .skip(1)
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"));
    (!has_secure).then(|| format!("{set_cookie}; Secure"))
}

/// Every `Set-Cookie` value of an answer to a secure request, with `Secure` added where it
/// lacks it ([`secure_set_cookie`]), in order. The adapter's header type comes in through
/// `text` (a value as text, if it is) and `header` (text as a value, if valid); a value either
/// refuses stays as it was.
///
/// ```
/// use nopassword_core::http::secure_set_cookies;
///
/// let values = vec![b"a=1".to_vec(), b"b=2; Secure".to_vec(), vec![0xff]];
/// let secured = secure_set_cookies(
///     values,
///     |value| std::str::from_utf8(value).ok(),
///     |text| Some(text.into_bytes()),
/// );
/// assert_eq!(secured, [b"a=1; Secure".to_vec(), b"b=2; Secure".to_vec(), vec![0xff]]);
/// ```
pub fn secure_set_cookies<H>(
    values: impl IntoIterator<Item = H>,
    text: impl Fn(&H) -> Option<&str>,
    header: impl Fn(String) -> Option<H>,
) -> Vec<H> {
    values
        .into_iter()
        .map(|value| {
            text(&value)
                .and_then(secure_set_cookie)
                .and_then(&header)
                .unwrap_or(value)
        })
        .collect()
}

/// The JSON API's body rule: the body must be a JSON object, decoded into `T` by `parse`.
/// serde would read an array into a struct by position; the API takes objects only.
///
/// The adapter brings its JSON library: `parse` decodes (`|b| serde_json::from_slice(b)`),
/// `validate` only checks the syntax (the same, into [`IgnoredAny`]), to tell JSON
/// that is not an object (400 "Expected a JSON object.") from a body that is not JSON (400
/// "Invalid JSON body: {error}.").
///
/// ```
/// use nopassword_core::http::{Failure, json_object};
/// use serde::de::IgnoredAny;
///
/// // A toy JSON library that knows two documents.
/// let parse = |body: &[u8]| match body {
///     br#"{"username": "alice"}"# => Ok("alice"),
///     _ => Err("expected value at line 1 column 1"),
/// };
/// let validate = |body: &[u8]| match body {
///     b"not json" => Err("expected value at line 1 column 1"),
///     _ => Ok(IgnoredAny),
/// };
/// assert_eq!(json_object(br#"{"username": "alice"}"#, parse, validate), Ok("alice"));
/// assert_eq!(
///     json_object(br#"["alice"]"#, parse, validate),
///     Err(Failure::BadRequest("Expected a JSON object.".into()))
/// );
/// assert_eq!(
///     json_object(b"not json", parse, validate),
///     Err(Failure::BadRequest("Invalid JSON body: expected value at line 1 column 1.".into()))
/// );
/// ```
pub fn json_object<T, E: fmt::Display>(
    body: &[u8],
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
    validate: impl FnOnce(&[u8]) -> Result<IgnoredAny, E>,
) -> Result<T, Failure> {
    let invalid = |error: E| Failure::BadRequest(format!("Invalid JSON body: {error}."));
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match validate(body) {
            Ok(IgnoredAny) => Failure::BadRequest(messages::EXPECTED_JSON_OBJECT.into()),
            Err(error) => invalid(error),
        });
    }
    parse(body).map_err(invalid)
}

/// Where a logout goes: a safe `next` (normalised), else the login page.
///
/// ```
/// use nopassword_core::{Settings, http::logout_target};
///
/// let settings = Settings::default();
/// assert_eq!(logout_target(&settings, Some("/bye")), "/bye");
/// assert_eq!(logout_target(&settings, Some("//evil.com")), "/accounts/login/");
/// ```
pub fn logout_target(settings: &Settings, next: Option<&str>) -> String {
    match next.and_then(safe_next) {
        Some(next) => next.into_owned(),
        None => format!("{}/login/", settings.mount_path),
    }
}

/// What the connection itself says about a request, before any proxy header.
#[derive(Debug, Clone, Copy, Default)]
pub struct Connection<'a> {
    /// The peer's address, when the server knows it.
    pub peer: Option<IpAddr>,
    /// Whether the connection is TLS (or the request URI says `https`).
    pub https: bool,
    /// The `Host` header (or the URI's authority).
    pub host: Option<&'a str>,
}

/// Facts about a request that the login flow needs. Each adapter reads them from its
/// framework's request ([`RequestInfo::resolve`]): `nopassword_axum::request_info`,
/// `nopassword_actix::request_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the client used HTTPS (links then use `https`, cookies get `Secure`).
    pub secure: bool,
    /// The `Host` the client asked for (checked against `allowed_hosts` before use in a link).
    pub host: Option<String>,
    /// The client's address, for rate limits. `None` when the server does not tell it (axum
    /// without `into_make_service_with_connect_info::<SocketAddr>()`).
    pub client: Option<IpAddr>,
    /// The `User-Agent` (its first 512 bytes), for naming the device that asks for a code
    /// on the approval page ([`describe`](crate::device::describe)).
    pub user_agent: Option<String>,
}

impl RequestInfo {
    /// Combines the connection's facts with the proxy headers. `X-Forwarded-Proto`,
    /// `X-Forwarded-Host` and `X-Forwarded-For` (read through `header`, by lower-case name)
    /// count only when the peer is one of `trusted`.
    ///
    /// ```
    /// use nopassword_core::http::{Connection, RequestInfo};
    ///
    /// let proxy = "10.0.0.1".parse().unwrap();
    /// let connection = Connection { peer: Some(proxy), https: false, host: Some("internal:80") };
    /// let header = |name: &str| match name {
    ///     "x-forwarded-proto" => Some("https"),
    ///     "x-forwarded-host" => Some("example.com"),
    ///     "x-forwarded-for" => Some("198.51.100.7, 10.0.0.1"),
    ///     _ => None,
    /// };
    /// let info = RequestInfo::resolve(connection, header, &[proxy]);
    /// assert!(info.secure);
    /// assert_eq!(info.host.as_deref(), Some("example.com"));
    /// assert_eq!(info.client, "198.51.100.7".parse().ok());
    ///
    /// // The same headers from anyone else change nothing.
    /// let direct = RequestInfo::resolve(connection, header, &[]);
    /// assert_eq!((direct.secure, direct.host.as_deref()), (false, Some("internal:80")));
    /// ```
    pub fn resolve<'h>(
        connection: Connection<'_>,
        header: impl Fn(&str) -> Option<&'h str>,
        trusted: &[IpAddr],
    ) -> Self {
        let peer = connection.peer;
        let header = |name: &str| header(name).map(str::trim).filter(|v| !v.is_empty());
        let mut secure = connection.https;
        let mut host = connection
            .host
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        let mut client = peer;
        if peer.is_some_and(|p| trusted.contains(&p)) {
            if let Some(proto) = header("x-forwarded-proto") {
                secure = proto
                    .split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
            }
            if let Some(forwarded) = header("x-forwarded-host") {
                host = forwarded.split(',').next().map(|h| h.trim().to_owned());
            }
            if let Some(chain) = header("x-forwarded-for") {
                // The right-most address not of our own proxies is the client.
                client = chain
                    .split(',')
                    .rev()
                    .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                    .find(|a| !trusted.contains(a))
                    .or(peer);
            }
        }
        let user_agent = header("user-agent").map(|agent| {
            let mut end = agent.len().min(512);
            while !agent.is_char_boundary(end) {
                end -= 1;
            }
            agent[..end].to_owned()
        });
        Self {
            secure,
            host,
            client,
            user_agent,
        }
    }

    /// The code request of a login form (`POST login/`, `POST api/login/`) from this client:
    /// the form's username and `next`, this request's host, scheme and address, and the flow
    /// its flow cookie holds (a second request from the same browser continues its flow); or
    /// the form's field errors.
    ///
    /// ```
    /// use nopassword_core::{forms::LoginForm, http::RequestInfo};
    ///
    /// let info = RequestInfo { secure: true, host: Some("example.com".into()), ..RequestInfo::default() };
    /// let form = LoginForm { username: Some(" alice ".into()), next: Some("/x".into()) };
    /// let request = info.login_request(&form, Some("flow")).unwrap();
    /// assert_eq!((request.username, request.next, request.host), ("alice", Some("/x"), Some("example.com")));
    /// assert!(info.login_request(&LoginForm::default(), None).is_err());
    /// ```
    pub fn login_request<'a>(
        &'a self,
        form: &'a LoginForm,
        flow_cookie: Option<&'a str>,
    ) -> Result<LoginRequest<'a>, FormErrors> {
        Ok(LoginRequest {
            username: form.validate()?,
            next: form.next.as_deref(),
            host: self.host.as_deref(),
            secure: self.secure,
            client: self.client,
            flow: flow_cookie,
            locale: None,
            user_agent: self.user_agent.as_deref(),
        })
    }

    /// The attempt of a typed code (`POST login/code/`, `POST api/login/code/`) from this
    /// client: the form's username (required unless `hide_username`) and code, counted in the
    /// form's flow when it presents one, else the flow cookie's ([`presented_flow`]); or the
    /// form's field errors.
    ///
    /// ```
    /// use nopassword_core::{Settings, forms::CodeForm, http::RequestInfo};
    ///
    /// let form = CodeForm { username: Some("alice".into()), code: Some("123456".into()), flow: None };
    /// let attempt = RequestInfo::default().code_attempt(&Settings::default(), &form, Some("cookie")).unwrap();
    /// assert_eq!((attempt.username, attempt.code, attempt.flow), (Some("alice"), "123456", Some("cookie")));
    /// ```
    pub fn code_attempt<'a>(
        &self,
        settings: &Settings,
        form: &'a CodeForm,
        flow_cookie: Option<&'a str>,
    ) -> Result<CodeAttempt<'a>, FormErrors> {
        let (username, code) = form.validate(!settings.hide_username)?;
        Ok(CodeAttempt {
            username,
            code,
            client: self.client,
            flow: presented_flow(form.flow.as_deref(), flow_cookie),
        })
    }
}

/// Says once, as a `warn!`, that requests come without a client address, so the per-address
/// rate limit (`max_requests_per_address`, `max_attempts_per_address`) is off: never
/// silently. Each adapter keeps one in a `static` and passes every [`RequestInfo`] it reads
/// through [`check`](Self::check), so the warning comes at the first such request, once per
/// process.
///
/// A request has no client address when the server does not tell the adapter the peer's:
/// axum served without `into_make_service_with_connect_info::<SocketAddr>()`, actix-web on a
/// Unix socket. Behind a proxy on such a socket, name the proxy in `trusted_proxies` and have
/// it send `X-Forwarded-For`.
///
/// ```
/// use nopassword_core::http::{MissingClientWarning, RequestInfo};
///
/// static WARNING: MissingClientWarning =
///     MissingClientWarning::new("serve the app with `into_make_service_with_connect_info::<SocketAddr>()`");
///
/// let with_address = RequestInfo { client: "198.51.100.7".parse().ok(), ..RequestInfo::default() };
/// assert!(!WARNING.check(&with_address));
/// assert!(WARNING.check(&RequestInfo::default()), "warns at the first request without one");
/// assert!(!WARNING.check(&RequestInfo::default()), "and never again");
/// ```
#[derive(Debug)]
pub struct MissingClientWarning {
    warned: AtomicBool,
    fix: &'static str,
}

impl MissingClientWarning {
    /// A warning not given yet; `fix` tells what to change in the server's set-up.
    pub const fn new(fix: &'static str) -> Self {
        Self {
            warned: AtomicBool::new(false),
            fix,
        }
    }

    /// Logs the warning when `info` has no client address and it was not logged before;
    /// returns whether it logged it now.
    pub fn check(&self, info: &RequestInfo) -> bool {
        if info.client.is_some() || self.warned.swap(true, Ordering::Relaxed) {
            return false;
        }
        tracing::warn!(
            "a request came without a client address, so the per-address rate limit is off for \
             such requests; {} (or, behind a proxy, name it in trusted_proxies and have it send \
             X-Forwarded-For). This warning is given once.",
            self.fix
        );
        true
    }
}

/// Why a request did not get its normal answer; each adapter turns it into its framework's
/// response in one place, as a page ([`Page::Failure`](crate::pages::Page::Failure)) or as
/// JSON `{"detail": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 400: a body that does not decode, with what was wrong.
    BadRequest(String),
    /// 403: a form POST without the session's CSRF token.
    Csrf,
    /// 403: a login link opened outside its flow under `cross_device_links = "deny"`.
    OtherBrowser,
    /// 413: a body over [`MAX_BODY_BYTES`](crate::forms::MAX_BODY_BYTES).
    TooLarge,
    /// 415: a body of the wrong content type, with the expected one.
    UnsupportedMediaType(String),
    /// 429: too many requests; `Retry-After` in whole seconds.
    RateLimited(Duration),
    /// 503: the store, directory, sender or session store failed (details only in the log).
    Unavailable,
    /// 404: an unknown, expired or used login link.
    NotFound,
}

impl Failure {
    /// 415 for a JSON route.
    pub fn expected_json() -> Self {
        Self::UnsupportedMediaType(messages::EXPECTED_JSON.into())
    }

    /// 415 for a form route.
    pub fn expected_form() -> Self {
        Self::UnsupportedMediaType(messages::EXPECTED_FORM.into())
    }

    /// The HTTP status code.
    ///
    /// ```
    /// use nopassword_core::http::Failure;
    ///
    /// assert_eq!(Failure::NotFound.status(), 404);
    /// assert_eq!(Failure::Unavailable.status(), 503);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Csrf | Self::OtherBrowser => 403,
            Self::TooLarge => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::RateLimited(_) => 429,
            Self::Unavailable => 503,
            Self::NotFound => 404,
        }
    }

    /// What the client is told.
    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest(detail) | Self::UnsupportedMediaType(detail) => detail,
            Self::Csrf => messages::CSRF_FAILED,
            Self::OtherBrowser => messages::OTHER_BROWSER,
            Self::TooLarge => messages::TOO_LARGE,
            Self::RateLimited(_) => messages::RATE_LIMITED,
            Self::Unavailable => messages::UNAVAILABLE,
            Self::NotFound => messages::CODE_NOT_FOUND,
        }
    }

    /// The page title.
    pub fn title(&self) -> &'static str {
        match self {
            Self::BadRequest(_) | Self::UnsupportedMediaType(_) => "Bad request",
            Self::Csrf => "Form expired",
            Self::OtherBrowser => "Open this link where you asked to log in",
            Self::TooLarge => "Request too large",
            Self::RateLimited(_) => "Too many attempts",
            Self::Unavailable => "Temporarily unavailable",
            Self::NotFound => "Login link not valid",
        }
    }

    /// The stable code of the failure, the JSON API's `"code"` (docs/HTTP.md): the code of
    /// its message ([`messages::CODES`]), `bad_request` or `unsupported_media_type` for a
    /// detail that is not one of them.
    ///
    /// ```
    /// use nopassword_core::http::Failure;
    ///
    /// assert_eq!(Failure::Csrf.code(), "csrf_failed");
    /// assert_eq!(Failure::expected_json().code(), "expected_json");
    /// assert_eq!(Failure::BadRequest("EOF while parsing".into()).code(), "bad_request");
    /// ```
    pub fn code(&self) -> &'static str {
        let fallback = match self {
            Self::BadRequest(_) => "bad_request",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            _ => "unavailable",
        };
        messages::code(self.message()).unwrap_or(fallback)
    }

    /// The catalog id of the page title: `title-{kind}`.
    pub fn title_id(&self) -> &'static str {
        match self {
            Self::BadRequest(_) | Self::UnsupportedMediaType(_) => "title-bad_request",
            Self::Csrf => "title-csrf_failed",
            Self::OtherBrowser => "title-other_browser",
            Self::TooLarge => "title-too_large",
            Self::RateLimited(_) => "title-rate_limited",
            Self::Unavailable => "title-unavailable",
            Self::NotFound => "title-link_not_found",
        }
    }

    /// What the client is told, in `locale` (feature `i18n`): a detail that is not one of
    /// [`messages`] (a JSON parser's) stays as it is.
    ///
    /// ```
    /// use nopassword_core::{http::Failure, i18n::Catalog};
    ///
    /// let catalog = Catalog::builtin();
    /// assert_eq!(Failure::TooLarge.message_in(&catalog, &"de".parse()?), "Der Inhalt der Anfrage ist zu groß.");
    /// assert_eq!(Failure::TooLarge.message_in(&catalog, &"en".parse()?), "The request body is too large.");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "i18n")]
    pub fn message_in(
        &self,
        catalog: &crate::i18n::Catalog,
        locale: &crate::locale::Locale,
    ) -> String {
        match messages::code(self.message()) {
            Some(id) => catalog.text(locale, id),
            None => self.message().to_owned(),
        }
    }

    /// The `Retry-After` value in seconds, for 429 answers.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited(after) => Some(after.as_secs().max(1)),
            _ => None,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::RateLimited { retry_after } => Self::RateLimited(retry_after),
            Error::MissingUsername => Self::BadRequest(messages::FIELD_REQUIRED.into()),
            error => {
                // The details go to the log, never to the client.
                tracing::error!(%error, "login service unavailable");
                Self::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_json(Some("Application/JSON")));
        assert!(!is_json(Some("+json")));
        assert!(!is_json(Some("application/jsonx")));
        assert!(is_form(Some(
            "application/x-www-form-urlencoded; charset=UTF-8"
        )));
        assert!(!is_form(None));
    }

    #[test]
    fn secure_is_added_once() {
        assert_eq!(
            secure_set_cookie("a=secure"),
            Some("a=secure; Secure".into())
        );
        assert_eq!(secure_set_cookie("a=1; path=/; SECURE"), None);
    }

    #[test]
    fn every_set_cookie_is_secured_in_order() {
        let values = ["a=1", "b=2; secure", "c=3; HttpOnly", "bad"].map(String::from);
        // A header type that refuses some values: they stay as they were.
        let header = |text: String| (!text.starts_with("bad")).then_some(text);
        let secured = secure_set_cookies(values, |v| Some(v.as_str()), header);
        assert_eq!(
            secured,
            ["a=1; Secure", "b=2; secure", "c=3; HttpOnly; Secure", "bad"]
        );
    }

    fn decode(body: &str) -> Result<Vec<String>, Failure> {
        // A stand-in for serde_json: objects of the form `{"k": "v", ...}` only.
        json_object(
            body.as_bytes(),
            |body: &[u8]| {
                let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
                let inner = text
                    .trim()
                    .strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'));
                inner
                    .map(|i| i.split(',').map(|p| p.trim().to_owned()).collect())
                    .ok_or_else(|| "expected `}`".to_owned())
            },
            |body: &[u8]| match body.first() {
                Some(b'[' | b'"' | b'1') => Ok(IgnoredAny),
                _ => Err("expected value".to_owned()),
            },
        )
    }

    #[test]
    fn the_api_takes_json_objects_only() {
        assert_eq!(decode(r#" {"a": "1"}"#), Ok(vec![r#""a": "1""#.to_owned()]));
        for not_an_object in [r#"["alice"]"#, r#""alice""#, "1"] {
            assert_eq!(
                decode(not_an_object),
                Err(Failure::BadRequest(messages::EXPECTED_JSON_OBJECT.into())),
                "{not_an_object}"
            );
        }
        assert_eq!(
            decode("nonsense"),
            Err(Failure::BadRequest(
                "Invalid JSON body: expected value.".into()
            ))
        );
        assert_eq!(
            decode(r#"{"a": "1""#),
            Err(Failure::BadRequest(
                "Invalid JSON body: expected `}`.".into()
            ))
        );
    }

    #[test]
    fn forms_become_requests_from_this_client() {
        let info = RequestInfo {
            secure: true,
            host: Some("example.com".into()),
            client: "198.51.100.7".parse().ok(),
            user_agent: None,
        };
        let form = LoginForm {
            username: Some("alice".into()),
            next: Some("/next".into()),
        };
        let request = info.login_request(&form, Some("held")).expect("valid");
        assert_eq!(request.username, "alice");
        assert_eq!(request.next, Some("/next"));
        assert_eq!(request.host, Some("example.com"));
        assert!(request.secure);
        assert_eq!(request.client, info.client);
        assert_eq!(request.flow, Some("held"));
        let blank = LoginForm {
            username: Some(" ".into()),
            next: None,
        };
        assert_eq!(
            info.login_request(&blank, None)
                .err()
                .map(|e| e.get("username").to_vec()),
            Some(vec![messages::FIELD_REQUIRED])
        );

        let settings = Settings::default();
        let code = CodeForm {
            username: Some("alice".into()),
            code: Some("123456".into()),
            flow: Some("presented".into()),
        };
        let attempt = info
            .code_attempt(&settings, &code, Some("cookie"))
            .expect("valid");
        assert_eq!(attempt.username, Some("alice"));
        assert_eq!(attempt.code, "123456");
        assert_eq!(attempt.client, info.client);
        assert_eq!(attempt.flow, Some("presented"));
        let anonymous = CodeForm {
            username: None,
            ..code.clone()
        };
        assert!(info.code_attempt(&settings, &anonymous, None).is_err());
        let hidden = Settings {
            hide_username: true,
            ..Settings::default()
        };
        let attempt = info
            .code_attempt(&hidden, &anonymous, None)
            .expect("no username needed");
        assert_eq!(attempt.username, None);
    }

    #[test]
    fn proxy_headers_count_only_from_trusted_peers() {
        let headers = |name: &str| match name {
            "x-forwarded-proto" => Some("https"),
            "x-forwarded-host" => Some("evil.com"),
            "x-forwarded-for" => Some("198.51.100.7"),
            _ => None,
        };
        let peer: IpAddr = "203.0.113.5".parse().expect("ip");
        let connection = Connection {
            peer: Some(peer),
            https: false,
            host: Some("localhost:8000"),
        };
        let direct = RequestInfo::resolve(connection, headers, &[]);
        assert_eq!(direct.host.as_deref(), Some("localhost:8000"));
        assert!(!direct.secure);
        assert_eq!(direct.client, Some(peer));
        let proxied = RequestInfo::resolve(connection, headers, &[peer]);
        assert!(proxied.secure);
        assert_eq!(proxied.host.as_deref(), Some("evil.com"));
        assert_eq!(proxied.client, "198.51.100.7".parse().ok());
    }

    #[test]
    fn a_missing_client_address_is_warned_about_once() {
        use std::sync::{Arc, Mutex};

        /// Collects what the subscriber writes.
        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("buffer").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let warning = MissingClientWarning::new("do the fix");
        let known = RequestInfo {
            client: "203.0.113.5".parse().ok(),
            ..RequestInfo::default()
        };
        tracing::subscriber::with_default(subscriber, || {
            assert!(!warning.check(&known));
            assert!(warning.check(&RequestInfo::default()));
            assert!(!warning.check(&RequestInfo::default()));
            assert!(!warning.check(&known));
        });
        let log = String::from_utf8(captured.0.lock().expect("buffer").clone()).expect("utf-8");
        assert_eq!(log.matches("WARN").count(), 1, "{log}");
        assert_eq!(log.matches("without a client address").count(), 1, "{log}");
        assert!(log.contains("do the fix"), "{log}");
        assert!(log.contains("trusted_proxies"), "{log}");
    }
}
