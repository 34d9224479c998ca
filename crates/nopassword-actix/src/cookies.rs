//! The two cookies of the login flow (docs/HTTP.md, Login flows), neither backed by server state:
//!
//! - the **flow cookie** `{namespace}_flow`, set on the answers to `POST login/` and
//!   `POST api/login/`, which binds the code to the browser that asked for it;
//! - the **CSRF cookie** `{namespace}_csrf`, a signed token that every form repeats (the signed
//!   double-submit pattern), so that anonymous visitors need no session.
//!
//! Both are HttpOnly, SameSite=Lax and scoped to `mount_path`, and get `Secure` on secure
//! requests here, whichever session middleware the app runs (the app's own does not rewrite
//! our cookies; [`LoginService`] would, for every `Set-Cookie` of the app).
//!
//! [`LoginService`]: crate::LoginService

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{COOKIE, HeaderValue, SET_COOKIE},
};
use nopassword_core::{
    LoginUser, NoPassword, Settings,
    http::{self, Failure, cookie_value, csrf_cookie_name, flow_cookie_name, secure_set_cookie},
};

use crate::{request_info, session::require_sessions};

/// The value of cookie `name` in the request's `Cookie` headers (HTTP/2 clients may send
/// several), if present.
pub(crate) fn request_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|header| header.to_str().ok())
        .find_map(|header| cookie_value(header, name))
        .map(str::to_owned)
}

/// The flow token the request's flow cookie holds, if any (core judges its shape).
pub(crate) fn flow_cookie(req: &HttpRequest, settings: &Settings) -> Option<String> {
    request_cookie(req, &flow_cookie_name(settings))
}

/// Whether `req` is secure (TLS, or `X-Forwarded-Proto: https` from a trusted proxy).
pub(crate) fn is_secure(req: &HttpRequest, settings: &Settings) -> bool {
    request_info(req, &settings.trusted_proxies).secure
}

/// Adds a `Set-Cookie` header to `response`, with `Secure` when the request was secure.
pub(crate) fn set_cookie(response: &mut HttpResponse, set_cookie: &str, secure: bool) {
    let secured = secure.then(|| secure_set_cookie(set_cookie)).flatten();
    match HeaderValue::from_str(secured.as_deref().unwrap_or(set_cookie)) {
        Ok(value) => {
            response.headers_mut().append(SET_COOKIE, value);
        }
        Err(error) => tracing::error!(%error, "cookie value is not a valid header"),
    }
}

/// The CSRF token of a page with a form: the CSRF cookie's when this service signed it, else
/// a new one that the answer sets as the CSRF cookie (core's [`NoPassword::page_csrf`]).
pub(crate) struct PageCsrf {
    csrf: http::PageCsrf,
    secure: bool,
}

impl PageCsrf {
    /// The token for a page answering `req`; 503 without sessions (no login could be kept, so
    /// the form would be in vain).
    pub(crate) fn new<U: LoginUser>(
        service: &NoPassword<U>,
        req: &HttpRequest,
    ) -> Result<Self, Failure> {
        require_sessions::<U>(req)?;
        let settings = service.settings();
        let cookie = request_cookie(req, &csrf_cookie_name(settings));
        Ok(Self {
            csrf: service.page_csrf(cookie.as_deref()),
            secure: is_secure(req, settings),
        })
    }

    /// The token the form repeats.
    pub(crate) fn token(&self) -> &str {
        &self.csrf.token
    }

    /// `response`, with the CSRF cookie set when the token is new.
    pub(crate) fn set_on(&self, mut response: HttpResponse) -> HttpResponse {
        if let Some(cookie) = &self.csrf.set_cookie {
            set_cookie(&mut response, cookie, self.secure);
        }
        response
    }
}

/// A form POST's CSRF check: the form's token must be the CSRF cookie's, signed by this
/// service (403 [`Failure::Csrf`] otherwise; 503 without sessions).
pub(crate) fn check_csrf<U: LoginUser>(
    service: &NoPassword<U>,
    req: &HttpRequest,
    presented: Option<&str>,
) -> Result<(), Failure> {
    require_sessions::<U>(req)?;
    let cookie = request_cookie(req, &csrf_cookie_name(service.settings()));
    if service.csrf_valid(cookie.as_deref(), presented) {
        Ok(())
    } else {
        Err(Failure::Csrf)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let req = TestRequest::default()
            .append_header((COOKIE, "a=1"))
            .append_header((COOKIE, "nopassword_flow=abc; b=2"))
            .to_http_request();
        assert_eq!(
            request_cookie(&req, "nopassword_flow").as_deref(),
            Some("abc")
        );
        assert_eq!(request_cookie(&req, "a").as_deref(), Some("1"));
        assert_eq!(request_cookie(&req, "c"), None);
    }
}
