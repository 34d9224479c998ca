//! The flow and CSRF cookies (docs/HTTP.md, Login flows): read from the request's `Cookie` headers, and
//! written as `Set-Cookie` headers on the answer. Neither needs server state, so anonymous
//! visitors write nothing to the session store.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{
        HeaderMap, HeaderValue,
        header::{COOKIE, SET_COOKIE},
        request::Parts,
    },
    response::Response,
};
use nopassword_core::{
    LoginUser, NoPassword, Settings,
    http::{self, cookie_value, csrf_cookie_name, flow_cookie_name},
};

use crate::state::AppState;

/// The nopassword cookies a request carried. No `Debug`: both are bearer secrets.
pub(crate) struct RequestCookies {
    /// The flow token (`{namespace}_flow`), as sent.
    flow: Option<String>,
    /// The signed CSRF token (`{namespace}_csrf`), as sent.
    csrf: Option<String>,
}

impl RequestCookies {
    /// Reads the cookies from every `Cookie` header (HTTP/2 clients may split them); the first
    /// occurrence of a name counts (browsers send the most specific path first).
    fn read(headers: &HeaderMap, settings: &Settings) -> Self {
        let find = |name: &str| {
            headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .find_map(|header| cookie_value(header, name))
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Self {
            flow: find(&flow_cookie_name(settings)),
            csrf: find(&csrf_cookie_name(settings)),
        }
    }

    /// The flow the browser holds, for `LoginRequest.flow` and `CodeAttempt.flow`.
    pub(crate) fn flow(&self) -> Option<&str> {
        self.flow.as_deref()
    }

    /// Whether a form's CSRF token repeats the CSRF cookie's signed token.
    pub(crate) fn csrf_valid<U: LoginUser>(
        &self,
        service: &NoPassword<U>,
        presented: Option<&str>,
    ) -> bool {
        service.csrf_valid(self.csrf.as_deref(), presented)
    }

    /// The CSRF token for a page's form (core's [`NoPassword::page_csrf`]); [`PageCsrf::apply`]
    /// sets the cookie when it is new.
    pub(crate) fn page_csrf<U: LoginUser>(&self, service: &NoPassword<U>) -> PageCsrf {
        PageCsrf(service.page_csrf(self.csrf.as_deref()))
    }
}

impl<U: LoginUser> FromRequestParts<AppState<U>> for RequestCookies {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<U>,
    ) -> Result<Self, Infallible> {
        Ok(Self::read(&parts.headers, state.service.settings()))
    }
}

/// The CSRF token of a page with a form, and the cookie to set when the request had no valid
/// one.
pub(crate) struct PageCsrf(http::PageCsrf);

impl PageCsrf {
    /// The token the form repeats.
    pub(crate) fn token(&self) -> &str {
        &self.0.token
    }

    /// The page's response, with the CSRF cookie when it is new.
    pub(crate) fn apply(self, response: Response) -> Response {
        with_set_cookie(response, self.0.set_cookie.as_deref())
    }
}

/// Appends a `Set-Cookie` header (the session layer's own cookie, if any, stays; `Secure` is
/// added on secure requests by [`SecureCookieLayer`](crate::SecureCookieLayer)).
pub(crate) fn with_set_cookie(mut response: Response, set_cookie: Option<&str>) -> Response {
    if let Some(value) = set_cookie.and_then(|text| HeaderValue::from_str(text).ok()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use nopassword_core::{
        Outbox,
        user::{MemoryDirectory, User},
    };

    use super::*;

    fn service() -> NoPassword<User> {
        let settings = Settings {
            secret_key: Some("0123456789abcdef0123456789abcdef".into()),
            ..Settings::default()
        };
        NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
            .sender(Outbox::new(1).quiet())
            .build()
            .expect("a service")
    }

    fn with_csrf(value: &str) -> RequestCookies {
        RequestCookies {
            flow: None,
            csrf: Some(value.to_owned()),
        }
    }

    #[test]
    fn a_page_reuses_a_signed_cookie_and_replaces_anything_else() {
        let service = service();
        let none = RequestCookies {
            flow: None,
            csrf: None,
        };
        let fresh = none.page_csrf(&service);
        let token = fresh.token().to_owned();
        assert!(service.csrf_cookie_valid(&token));
        assert_eq!(
            fresh.0.set_cookie.as_deref(),
            Some(http::csrf_set_cookie(service.settings(), &token).as_str())
        );

        let kept = with_csrf(&token).page_csrf(&service);
        assert_eq!(kept.token(), token);
        assert!(
            kept.0.set_cookie.is_none(),
            "a valid cookie is not set again"
        );

        let forged = with_csrf("00.00").page_csrf(&service);
        assert_ne!(forged.token(), "00.00");
        assert!(forged.0.set_cookie.is_some());
    }

    #[test]
    fn a_post_must_repeat_the_signed_cookie() {
        let service = service();
        let token = service.new_csrf_token();
        let cookies = with_csrf(&token);
        assert!(cookies.csrf_valid(&service, Some(&token)));
        assert!(!cookies.csrf_valid(&service, Some("other")));
        assert!(!cookies.csrf_valid(&service, None));
        let unsigned = with_csrf("abc.def");
        assert!(!unsigned.csrf_valid(&service, Some("abc.def")));
    }

    #[test]
    fn set_cookie_headers_are_appended() {
        let response = with_set_cookie(Response::default(), Some("a=1"));
        let response = with_set_cookie(response, Some("b=2"));
        let response = with_set_cookie(response, None);
        let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let settings = Settings::default();
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; nopassword_flow=f1"));
        headers.append(
            COOKIE,
            HeaderValue::from_static("nopassword_csrf=c1; nopassword_flow=f2"),
        );
        let cookies = RequestCookies::read(&headers, &settings);
        assert_eq!(cookies.flow(), Some("f1"));
        assert_eq!(cookies.csrf.as_deref(), Some("c1"));
    }

    #[test]
    fn empty_cookies_are_absent() {
        let settings = Settings::default();
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("nopassword_flow="));
        let cookies = RequestCookies::read(&headers, &settings);
        assert_eq!(cookies.flow(), None);
        assert_eq!(cookies.csrf, None);
    }
}
