//! "Login required": the [`LoginRequired`] middleware for a scope (or the whole app) and the
//! [`LoggedIn`] extractor for one handler. Both answer an anonymous request the same way: a
//! browser is sent to the login page with the page it asked for as `next`, a JSON client gets
//! the API's 401.

use std::{
    fmt,
    future::{Ready, ready},
    pin::Pin,
    rc::Rc,
};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::{
        StatusCode,
        header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION, VARY},
    },
};
use nopassword_core::{
    LoginUser, NoPassword, Settings, forms::messages, http::is_json, redirect::safe_next,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use tracing::Instrument;

use crate::{
    extract::{LoadedUser, load_user, refuse, session_user},
    state::json_failure,
};

/// What a query value keeps unencoded: RFC 3986's unreserved characters and `/`, so that
/// `next=/reports%3Fyear%3D2026` stays readable. Everything else, `%`, `&`, `=`, `+`, `#`
/// and `?` included, is encoded.
const NEXT_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Whether the client wants JSON: a JSON body, or an `Accept` header whose most preferred of
/// the HTML and JSON types is JSON (the first wins a tie, as browsers list HTML first). The
/// same rule as nopassword-axum's guard: `application/json`, `application/problem+json` or
/// `text/html;q=0.5, application/json` ask for JSON; a browser's `text/html, ..., */*` and
/// `text/html, application/json` do not.
pub(crate) fn wants_json(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if is_json(content_type) {
        return true;
    }
    let mut best: Option<(u16, bool)> = None;
    let items = headers
        .get_all(ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut params = item.split(';');
        let media = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let json = is_json(Some(&media));
        let html = media == "text/html" || media == "application/xhtml+xml";
        if !json && !html {
            continue;
        }
        let quality = params
            .find_map(|param| param.trim().strip_prefix("q="))
            .map_or(1000, quality);
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, json));
        }
    }
    best.is_some_and(|(_, json)| json)
}

/// An `Accept` quality (`0` to `1`, at most three decimals) in thousandths; unreadable is 0.
fn quality(text: &str) -> u16 {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let thousandths = format!("{fraction:0<3}");
    match (
        whole,
        thousandths.get(..3).and_then(|t| t.parse::<u16>().ok()),
    ) {
        ("1", Some(0)) => 1000,
        ("0", Some(t)) if fraction.len() <= 3 => t,
        _ => 0,
    }
}

/// `{mount_path}/login/?next=<the request's path and query, percent-encoded>`, or without
/// `next` when the request's target is not a safe local path (`//evil.com/x`, `/\evil.com`,
/// `/.//evil.com`: core's `safe_next` decides, as for every other `next`).
pub(crate) fn login_location(settings: &Settings, req: &HttpRequest) -> String {
    let login = format!("{}/login/", settings.mount_path);
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |target| target.as_str());
    match safe_next(target) {
        Some(next) => format!("{login}?next={}", utf8_percent_encode(&next, NEXT_VALUE)),
        None => login,
    }
}

/// The answer to an anonymous request: 302 to the login page for a browser (as axum's guard and
/// Django's `login_required` answer), 401 `{"detail": "Authentication credentials were not
/// provided."}` for a JSON client. Neither is cached, and both vary by `Accept` and
/// `Content-Type`.
pub(crate) fn login_required_response(settings: &Settings, req: &HttpRequest) -> HttpResponse {
    let mut response = if wants_json(req) {
        HttpResponse::Unauthorized()
            .json(json!({ "detail": messages::UNAUTHENTICATED, "code": "unauthenticated" }))
    } else {
        let location = login_location(settings, req);
        let value = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"));
        HttpResponse::build(StatusCode::FOUND)
            .insert_header((LOCATION, value))
            .finish()
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(VARY, HeaderValue::from_static("accept, content-type"));
    response
}

/// Middleware that lets only logged-in users through; `.wrap()` it on a `web::scope` (or on
/// the whole `App`). An anonymous browser gets 302 to `{mount_path}/login/?next=<the path and
/// query it asked for>` (only a safe local path is carried: core's `safe_next` rules), a JSON
/// client (an `Accept` preferring JSON to HTML, or a JSON body) gets 401
/// `{"detail": "Authentication credentials were not provided."}`.
///
/// The user is loaded through the [`UserDirectory`](nopassword_core::UserDirectory) on each
/// request (a deactivated account is let through no more), and handed to the extractors
/// behind it ([`CurrentUser`](crate::CurrentUser), [`MaybeUser`](crate::MaybeUser),
/// [`LoggedIn`]) without a second lookup. The login routes themselves are always let through
/// (everything under a non-root `mount_path`, or the contract's routes under a root one), so
/// wrapping the whole app does not lock the login page away. It needs sessions like the routes
/// do (the app's own `SessionMiddleware` and `IdentityMiddleware`, or
/// [`login_middleware`](crate::login_middleware)) outside it; without them it answers 503.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use nopassword_actix::{CurrentUser, LoginRequired, MemorySessionStore, configure, login_middleware};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// async fn reports(CurrentUser(user): CurrentUser<User>) -> HttpResponse {
///     HttpResponse::Ok().body(format!("Reports for {}", user.username))
/// }
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let _app = App::new()
///     .service(
///         web::scope("/reports")
///             .wrap(LoginRequired::new(&service))
///             .route("/", web::get().to(reports)),
///     )
///     .configure(configure(service.clone()).unwrap())
///     .wrap(login_middleware(&service, MemorySessionStore::default()));
/// ```
pub struct LoginRequired<U: LoginUser> {
    service: NoPassword<U>,
}

impl<U: LoginUser> LoginRequired<U> {
    /// The middleware, for the users of `service` and its `mount_path`.
    pub fn new(service: &NoPassword<U>) -> Self {
        Self {
            service: service.clone(),
        }
    }
}

impl<U: LoginUser> Clone for LoginRequired<U> {
    fn clone(&self) -> Self {
        Self::new(&self.service)
    }
}

impl<U: LoginUser> fmt::Debug for LoginRequired<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequired")
            .field("mount_path", &self.service.settings().mount_path)
            .finish_non_exhaustive()
    }
}

impl<S, B, U> Transform<S, ServiceRequest> for LoginRequired<U>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
    U: LoginUser,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = LoginRequiredService<U, S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        ready(Ok(LoginRequiredService {
            inner: Rc::new(inner),
            service: self.service.clone(),
        }))
    }
}

/// The service of [`LoginRequired`].
pub struct LoginRequiredService<U: LoginUser, S> {
    inner: Rc<S>,
    service: NoPassword<U>,
}

impl<U: LoginUser, S> fmt::Debug for LoginRequiredService<U, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequiredService")
            .finish_non_exhaustive()
    }
}

/// Whether `path` is one of the login routes, which no guard may lock away.
fn is_login_route(settings: &Settings, path: &str) -> bool {
    let mount = settings.mount_path.as_str();
    let Some(rest) = path
        .strip_prefix(mount)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return false;
    };
    !mount.is_empty()
        || [
            "login/",
            "login-code/",
            "logout/",
            "api/login/",
            "api/logout/",
        ]
        .iter()
        .any(|route| rest.starts_with(route))
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<U, S, B> Service<ServiceRequest> for LoginRequiredService<U, S>
where
    U: LoginUser,
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Error>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let inner = Rc::clone(&self.inner);
        let service = self.service.clone();
        Box::pin(async move {
            let settings = service.settings();
            if is_login_route(settings, req.path()) {
                return inner
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            }
            // The span covers the check, not the app's handler behind it.
            let span = tracing::info_span!("nopassword.login_required");
            let loaded = load_user(req.request(), &service).instrument(span).await;
            let refused = match loaded {
                Ok(Some(user)) => {
                    req.extensions_mut().insert(LoadedUser(user));
                    return inner
                        .call(req)
                        .await
                        .map(ServiceResponse::map_into_left_body);
                }
                Ok(None) => login_required_response(settings, req.request()),
                Err(failure) => json_failure(failure),
            };
            Ok(req.into_response(refused).map_into_right_body())
        })
    }
}

/// The logged-in user, for a page: an anonymous browser is sent to the login page (302 to
/// `{mount_path}/login/?next=<this page>`), a JSON client gets 401 `{"detail":
/// "Authentication credentials were not provided."}`, as under [`LoginRequired`].
/// [`CurrentUser`](crate::CurrentUser) is the API's variant (always 401).
///
/// ```
/// use nopassword_actix::LoggedIn;
/// use nopassword_core::user::User;
///
/// async fn dashboard(LoggedIn(user): LoggedIn<User>) -> String {
///     format!("Welcome back, {}", user.username)
/// }
/// # let _ = actix_web::web::get().to(dashboard);
/// ```
#[derive(Debug, Clone)]
pub struct LoggedIn<U>(pub U);

impl<U: LoginUser> FromRequest for LoggedIn<U> {
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (service, user) = session_user::<U>(&req).await?;
            user.map(LoggedIn).ok_or_else(|| {
                refuse(
                    "login required",
                    login_required_response(service.settings(), &req),
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn accept(value: &str) -> bool {
        wants_json(
            &TestRequest::default()
                .insert_header((ACCEPT, value))
                .to_http_request(),
        )
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(!accept(firefox));
        assert!(accept("application/json"));
        assert!(accept("application/json, text/plain, */*"));
        assert!(accept("application/problem+json"));
        assert!(accept("text/plain, application/problem+json;q=0.9"));
        assert!(accept("text/html;q=0.5, application/json"));
        assert!(!accept("application/json;q=0.5, text/html"));
        assert!(!accept("text/html, application/json"));
        assert!(!accept("application/json;q=0"));
        assert!(!accept("*/*"));
        assert!(!wants_json(&TestRequest::default().to_http_request()));
        let body = TestRequest::default()
            .insert_header((CONTENT_TYPE, "application/json"))
            .to_http_request();
        assert!(wants_json(&body));
    }

    #[test]
    fn qualities_are_read_in_thousandths() {
        assert_eq!(quality("1"), 1000);
        assert_eq!(quality("1.000"), 1000);
        assert_eq!(quality("0.9"), 900);
        assert_eq!(quality("0.125"), 125);
        assert_eq!(quality("0"), 0);
        assert_eq!(quality("0.1234"), 0);
        assert_eq!(quality("2"), 0);
        assert_eq!(quality("x"), 0);
    }
}
