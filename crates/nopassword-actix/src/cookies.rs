//! The two cookies of the login flow (docs/HTTP.md, Login flows), neither backed by server state:
//!
//! - the **flow cookie** `{namespace}_flow`, set on the answers to `POST login/` and
//!   `POST api/login/`, which binds the code to the browser that asked for it;
//! - the **CSRF cookie** `{namespace}_csrf`, a signed token that every form repeats (the signed
//!   double-submit pattern), so that anonymous visitors need no session.
//!
//! Both are HttpOnly, SameSite=Lax and scoped to `mount_path`; [`LoginService`] adds `Secure`
//! on secure requests, as to every `Set-Cookie` of the app.
//!
//! [`LoginService`]: crate::LoginService

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{COOKIE, HeaderValue, SET_COOKIE},
};
use nopassword_core::{
    LoginUser, NoPassword, Settings,
    http::{self, Failure, cookie_value, csrf_cookie_name, flow_cookie_name},
};

use crate::middleware::require_middleware;

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

/// Adds a `Set-Cookie` header to `response`.
pub(crate) fn set_cookie(response: &mut HttpResponse, set_cookie: &str) {
    match HeaderValue::from_str(set_cookie) {
        Ok(value) => {
            response.headers_mut().append(SET_COOKIE, value);
        }
        Err(error) => tracing::error!(%error, "cookie value is not a valid header"),
    }
}

/// The CSRF token of a page with a form: the CSRF cookie's when this service signed it, else
/// a new one that the answer sets as the CSRF cookie (core's [`NoPassword::page_csrf`]).
pub(crate) struct PageCsrf(http::PageCsrf);

impl PageCsrf {
    /// The token for a page answering `req`; 503 without [`login_middleware`] (no login could
    /// be kept, so the form would be in vain).
    ///
    /// [`login_middleware`]: crate::login_middleware
    pub(crate) fn new<U: LoginUser>(
        service: &NoPassword<U>,
        req: &HttpRequest,
    ) -> Result<Self, Failure> {
        require_middleware::<U>(req)?;
        let cookie = request_cookie(req, &csrf_cookie_name(service.settings()));
        Ok(Self(service.page_csrf(cookie.as_deref())))
    }

    /// The token the form repeats.
    pub(crate) fn token(&self) -> &str {
        &self.0.token
    }

    /// `response`, with the CSRF cookie set when the token is new.
    pub(crate) fn set_on(&self, mut response: HttpResponse) -> HttpResponse {
        if let Some(cookie) = &self.0.set_cookie {
            set_cookie(&mut response, cookie);
        }
        response
    }
}

/// A form POST's CSRF check: the form's token must be the CSRF cookie's, signed by this
/// service (403 [`Failure::Csrf`] otherwise; 503 without the middleware).
pub(crate) fn check_csrf<U: LoginUser>(
    service: &NoPassword<U>,
    req: &HttpRequest,
    presented: Option<&str>,
) -> Result<(), Failure> {
    require_middleware::<U>(req)?;
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
