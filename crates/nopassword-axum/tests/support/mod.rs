//! In-process requests to an app (`tower::ServiceExt::oneshot`), for the tests that need no
//! socket: a service with an outbox, and answers read whole.

#![allow(dead_code)] // Each test file uses part of it.

use std::net::SocketAddr;

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use nopassword_core::{NoPassword, Outbox, Settings, user::User};
use tower::ServiceExt;

/// A service for alice (id 1), its codes delivered during the request into the outbox.
pub(crate) fn service() -> (NoPassword<User>, Outbox) {
    let settings = Settings {
        secret_key: Some("test-secret-key-0123456789abcdef-0123456789".into()),
        ..Settings::default()
    };
    let outbox = Outbox::new(100).quiet();
    let users = nopassword_core::user::MemoryDirectory::new([
        User::new("1", "alice").with_email("alice@example.com")
    ]);
    let service = NoPassword::builder(settings, users)
        .sender(outbox.clone())
        .deliver_inline()
        .build()
        .expect("test settings are valid");
    (service, outbox)
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// Every `Set-Cookie` value.
    pub(crate) fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The `Set-Cookie` of cookie `name`.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&prefix))
    }

    /// A header as text.
    pub(crate) fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `request` to `app` from client 203.0.113.9 (as `into_make_service_with_connect_info`
/// would tell the app).
pub(crate) async fn send(app: &Router, mut request: Request<Body>) -> Answer {
    let peer: SocketAddr = ([203, 0, 113, 9], 40000).into();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `GET uri` with extra headers.
pub(crate) fn get(uri: &str, headers: &[(header::HeaderName, &str)]) -> Request<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.body(Body::empty()).expect("a request")
}

/// `POST uri` with a JSON body (and extra headers, such as a `Cookie`).
pub(crate) fn post_json(
    uri: &str,
    body: &serde_json::Value,
    headers: &[(header::HeaderName, &str)],
) -> Request<Body> {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request
        .body(Body::from(body.to_string()))
        .expect("a request")
}

/// `name=value` of a `Set-Cookie`, for a `Cookie` header.
pub(crate) fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap_or_default()
}

/// The lower-cased attributes of a `Set-Cookie` (`max-age=1800`, `secure`, ...).
pub(crate) fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}
