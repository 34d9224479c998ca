//! The "login required" guard: a layer that lets logged-in users through and sends everyone
//! else to the login page (HTML) or answers 401 (JSON).

use std::{
    fmt,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    Json,
    extract::{OriginalUri, Request},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, VARY},
    },
    response::{IntoResponse, Response},
};
use axum_login::{AuthSession, AuthnBackend};
use nopassword_core::{
    LoginUser, NoPassword, Settings, forms::messages, http::is_json, redirect::safe_next,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use tower::{Layer, Service};

use crate::{NoPasswordBackend, PasswordlessBackend, handlers::found};

/// Lets requests with a logged-in [`NoPasswordBackend`] user through; the others get what
/// [`LoginRequiredLayer`] describes. Add it with `route_layer`, so that unknown paths still
/// answer 404.
///
/// ```
/// use axum::{Router, routing::get};
/// use nopassword_axum::{MemorySessionStore, login_layer, login_required, router};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// let members = Router::new()
///     .route("/members/", get(|| async { "members only" }))
///     .route_layer(login_required(&service)); // anonymous: 302 to /accounts/login/?next=%2Fmembers%2F
/// let app: Router = Router::new()
///     .merge(members)
///     .merge(router(service.clone()).unwrap())
///     .layer(login_layer(&service, MemorySessionStore::default()));
/// ```
pub fn login_required<U: LoginUser>(
    service: &NoPassword<U>,
) -> LoginRequiredLayer<NoPasswordBackend<U>> {
    login_required_with::<NoPasswordBackend<U>>(service)
}

/// [`login_required`] for an app with its own axum-login backend `B` (the one
/// [`router_with`](crate::router_with) logs into): requests whose `AuthSession<B>` has a user
/// go through, whichever way they logged in (the app's passwords or a login code).
///
/// ```
/// use axum::{Router, routing::get};
/// use nopassword_axum::{NoPasswordBackend, login_required_with};
/// use nopassword_core::{NoPassword, Outbox, Settings, user::{MemoryDirectory, User}};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
///     .sender(Outbox::new(10))
///     .build()
///     .unwrap();
/// // An app names its own backend here.
/// let members: Router = Router::new()
///     .route("/members/", get(|| async { "members only" }))
///     .route_layer(login_required_with::<NoPasswordBackend<User>>(&service));
/// ```
pub fn login_required_with<B: PasswordlessBackend>(
    service: &NoPassword<B::LoginUser>,
) -> LoginRequiredLayer<B> {
    LoginRequiredLayer::new(service.settings())
}

/// The layer of [`login_required`] and [`login_required_with`]: a request whose
/// `AuthSession<B>` has no user is answered here, and never reaches the inner service.
///
/// - A JSON request (`Accept` prefers `application/json` or a `+json` type to HTML, or the
///   body's `Content-Type` is JSON) gets 401 `{"detail": "Authentication credentials were not
///   provided."}`, the JSON API's answer.
/// - Any other request gets 302 to `{mount_path}/login/?next={path and query}`, the requested
///   path and query percent-encoded. `next` is left out when the path is not one the login would
///   follow (core's `redirect::safe_next`: `//evil.com`, `/\evil.com`, absolute URLs...), so
///   the guard never builds an open redirect.
/// - Without the app's axum-login layer for `B` the answer is 500, logged.
///
/// Both answers carry `Cache-Control: no-store` and `Vary: Accept, Content-Type`.
pub struct LoginRequiredLayer<B> {
    login_url: Arc<str>,
    backend: PhantomData<fn() -> B>,
}

impl<B> LoginRequiredLayer<B> {
    /// A guard sending HTML requests to the login page under `settings.mount_path`.
    fn new(settings: &Settings) -> Self {
        Self {
            login_url: format!("{}/login/", settings.mount_path).into(),
            backend: PhantomData,
        }
    }
}

impl<B> Clone for LoginRequiredLayer<B> {
    fn clone(&self) -> Self {
        Self {
            login_url: Arc::clone(&self.login_url),
            backend: PhantomData,
        }
    }
}

impl<B> fmt::Debug for LoginRequiredLayer<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequiredLayer")
            .field("login_url", &self.login_url)
            .finish()
    }
}

impl<S, B> Layer<S> for LoginRequiredLayer<B> {
    type Service = LoginRequired<S, B>;

    fn layer(&self, inner: S) -> LoginRequired<S, B> {
        LoginRequired {
            inner,
            login_url: Arc::clone(&self.login_url),
            backend: PhantomData,
        }
    }
}

/// The service of [`LoginRequiredLayer`].
pub struct LoginRequired<S, B> {
    inner: S,
    login_url: Arc<str>,
    backend: PhantomData<fn() -> B>,
}

impl<S: Clone, B> Clone for LoginRequired<S, B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            login_url: Arc::clone(&self.login_url),
            backend: PhantomData,
        }
    }
}

impl<S: fmt::Debug, B> fmt::Debug for LoginRequired<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequired")
            .field("inner", &self.inner)
            .field("login_url", &self.login_url)
            .finish()
    }
}

impl<S, B> Service<Request> for LoginRequired<S, B>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: AuthnBackend + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let logged_in = match request.extensions().get::<AuthSession<B>>() {
            Some(auth) => auth.user.is_some(),
            None => {
                tracing::error!("login_required needs the app's axum-login layer outside it");
                let response =
                    (StatusCode::INTERNAL_SERVER_ERROR, "login layer missing").into_response();
                return Box::pin(async move { Ok(response) });
            }
        };
        if logged_in {
            return Box::pin(self.inner.call(request));
        }
        let response = refuse(&request, &self.login_url);
        Box::pin(async move { Ok(response) })
    }
}

/// What an anonymous request gets: 401 JSON, or 302 to the login page.
fn refuse(request: &Request, login_url: &str) -> Response {
    let mut response = if wants_json(request.headers()) {
        // Outside the router's language scope: English, with its code.
        let body = json!({ "detail": messages::UNAUTHENTICATED, "code": "unauthenticated" });
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    } else {
        // Behind `nest`, the request's own URI has lost the prefix; the original has it.
        let uri = request
            .extensions()
            .get::<OriginalUri>()
            .map_or(request.uri(), |original| &original.0);
        let requested = uri.path_and_query().map_or("/", |pq| pq.as_str());
        found(&login_location(login_url, requested))
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(VARY, HeaderValue::from_static("accept, content-type"));
    response
}

/// Characters kept as they are in the `next` query value: RFC 3986's unreserved set.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The login page, with `?next=` when `requested` is a path the login would follow.
fn login_location(login_url: &str, requested: &str) -> String {
    match safe_next(requested) {
        Some(next) => format!(
            "{login_url}?next={}",
            utf8_percent_encode(&next, QUERY_VALUE)
        ),
        None => login_url.to_owned(),
    }
}

/// Whether the client wants JSON: a JSON body, or an `Accept` header whose most preferred of
/// the HTML and JSON types is JSON (the first wins a tie, as browsers list HTML first).
fn wants_json(headers: &HeaderMap) -> bool {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if is_json(content_type) {
        return true;
    }
    let mut best: Option<(u16, bool)> = None;
    let items = headers
        .get_all(ACCEPT)
        .iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(!wants_json(&accept(firefox)));
        assert!(wants_json(&accept("application/json")));
        assert!(wants_json(&accept("application/json, text/plain, */*")));
        assert!(wants_json(&accept("application/problem+json")));
        assert!(wants_json(&accept("text/html;q=0.5, application/json")));
        assert!(!wants_json(&accept("application/json;q=0.5, text/html")));
        assert!(!wants_json(&accept("text/html, application/json")));
        assert!(!wants_json(&accept("application/json;q=0")));
        assert!(!wants_json(&accept("*/*")));
        assert!(!wants_json(&HeaderMap::new()));
        let mut body = HeaderMap::new();
        body.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
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

    #[test]
    fn next_is_encoded_and_only_a_local_path() {
        let login = "/accounts/login/";
        assert_eq!(
            login_location(login, "/members/?tab=a+b&x=%2F"),
            "/accounts/login/?next=%2Fmembers%2F%3Ftab%3Da%2Bb%26x%3D%252F"
        );
        assert_eq!(login_location(login, "/"), "/accounts/login/?next=%2F");
        for attack in ["//evil.com", "/\\evil.com", "/.//evil.com", "/%2F/evil.com"] {
            assert_eq!(login_location(login, attack), login, "{attack}");
        }
    }
}
