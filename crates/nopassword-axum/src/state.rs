//! Router state, the error answers, and the extractors that turn bad input into clear 4xx
//! answers.

use std::{sync::Arc, time::Duration};

use axum::{
    Form, Json,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderValue, StatusCode, header::RETRY_AFTER, request::Parts},
    response::{Html, IntoResponse, Response},
};
use minijinja::context;
use nopassword_core::{Error, LoginUser, NoPassword, forms::messages};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{Pages, RequestInfo};

/// Shared by every handler.
pub(crate) struct AppState<U: LoginUser> {
    pub(crate) service: NoPassword<U>,
    pub(crate) pages: Arc<Pages>,
}

impl<U: LoginUser> Clone for AppState<U> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            pages: Arc::clone(&self.pages),
        }
    }
}

/// Why a request did not get its normal answer.
#[derive(Debug)]
pub(crate) enum Failure {
    BadRequest(String),
    Csrf,
    TooLarge,
    UnsupportedMediaType(String),
    RateLimited(Duration),
    Unavailable,
    NotFound,
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::BadRequest(detail) | Self::UnsupportedMediaType(detail) => detail.clone(),
            Self::Csrf => messages::CSRF_FAILED.into(),
            Self::TooLarge => messages::TOO_LARGE.into(),
            Self::RateLimited(_) => messages::RATE_LIMITED.into(),
            Self::Unavailable => messages::UNAVAILABLE.into(),
            Self::NotFound => messages::CODE_NOT_FOUND.into(),
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest(_) | Self::UnsupportedMediaType(_) => "Bad request",
            Self::Csrf => "Form expired",
            Self::TooLarge => "Request too large",
            Self::RateLimited(_) => "Too many attempts",
            Self::Unavailable => "Temporarily unavailable",
            Self::NotFound => "Login link not valid",
        }
    }

    fn headers(&self, response: &mut Response) {
        if let Self::RateLimited(after) = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(after.as_secs()));
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

impl From<tower_sessions::session::Error> for Failure {
    fn from(error: tower_sessions::session::Error) -> Self {
        tracing::error!(%error, "session store unavailable");
        Self::Unavailable
    }
}

impl<U: LoginUser> AppState<U> {
    pub(crate) fn mount_path(&self) -> &str {
        &self.service.settings().mount_path
    }

    /// Renders a page with `status`; a template failure becomes the plain 503 answer.
    pub(crate) fn page(&self, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
        match self.pages.render(name, ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, "page template failed");
                (StatusCode::SERVICE_UNAVAILABLE, messages::UNAVAILABLE).into_response()
            }
        }
    }

    /// The HTML answer to a failure.
    pub(crate) fn html_failure(&self, failure: Failure) -> Response {
        let template = if matches!(failure, Failure::NotFound) {
            "login_code_invalid.html"
        } else {
            "error.html"
        };
        let ctx = context! {
            title => failure.title(),
            message => failure.message(),
            mount_path => self.mount_path(),
        };
        let mut response = self.page(failure.status(), template, ctx);
        failure.headers(&mut response);
        response
    }
}

/// The JSON answer to a failure: `{"detail": "..."}`.
pub(crate) fn json_failure(failure: Failure) -> Response {
    let mut response = (
        failure.status(),
        Json(json!({ "detail": failure.message() })),
    )
        .into_response();
    failure.headers(&mut response);
    response
}

/// A urlencoded form whose rejections are HTML pages (400, 413, 415).
pub(crate) struct HtmlForm<T>(pub(crate) T);

impl<U: LoginUser, T: DeserializeOwned> FromRequest<AppState<U>> for HtmlForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState<U>) -> Result<Self, Response> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(Self(value)),
            Err(rejection) => Err(state.html_failure(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Failure::UnsupportedMediaType(
                    "Expected a form (Content-Type: application/x-www-form-urlencoded).".into(),
                ),
                _ => Failure::BadRequest(rejection.body_text()),
            })),
        }
    }
}

/// A JSON object body (`Content-Type: application/json` required) whose rejections are JSON.
pub(crate) struct ApiJson<T>(pub(crate) T);

fn wrong_content_type() -> Failure {
    Failure::UnsupportedMediaType("Expected Content-Type: application/json.".into())
}

impl<U: LoginUser, T: DeserializeOwned> FromRequest<AppState<U>> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState<U>) -> Result<Self, Response> {
        let value = match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => {
                return Err(json_failure(match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => wrong_content_type(),
                    _ => Failure::BadRequest(rejection.body_text()),
                }));
            }
        };
        // serde reads a JSON array into a struct by position; the API takes objects only.
        if !value.is_object() {
            return Err(json_failure(Failure::BadRequest(
                "Expected a JSON object.".into(),
            )));
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| json_failure(Failure::BadRequest(format!("Invalid JSON body: {e}."))))
    }
}

/// Requires `Content-Type: application/json` on a POST whose body is ignored (`api/logout/`),
/// so that no cross-site form can reach it.
pub(crate) struct JsonContentType;

impl<S: Send + Sync> FromRequestParts<S> for JsonContentType {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let json = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.len() > 5 && mime[mime.len() - 5..].eq_ignore_ascii_case("+json"))
            });
        if json {
            Ok(Self)
        } else {
            Err(json_failure(wrong_content_type()))
        }
    }
}

impl<U: LoginUser> FromRequestParts<AppState<U>> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<U>,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestInfo::from_parts(
            &parts.headers,
            &parts.uri,
            &parts.extensions,
            &state.service.settings().trusted_proxies,
        ))
    }
}
