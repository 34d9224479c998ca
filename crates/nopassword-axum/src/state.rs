//! Router state, the error answers, and the extractors that turn bad input into clear 4xx
//! answers.

use std::sync::Arc;

use axum::{
    Form, Json,
    extract::{FromRequest, FromRequestParts, Request, State},
    http::{
        HeaderValue, StatusCode,
        header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, CONTENT_TYPE, RETRY_AFTER, VARY},
        request::Parts,
    },
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use nopassword_core::{
    LoginUser, NoPassword,
    forms::{FormErrors, messages},
    http::{Failure, is_json, json_object},
    i18n::Texts,
    locale::Locale,
    pages::Page,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{Pages, RequestInfo, request_info};

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

/// The status code of a failure.
fn status(failure: &Failure) -> StatusCode {
    StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn retry_after(failure: &Failure, response: &mut Response) {
    if let Some(seconds) = failure.retry_after() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
}

/// A session store failure: logged, and answered as an outage.
pub(crate) fn session_failure(error: tower_sessions::session::Error) -> Failure {
    tracing::error!(%error, "session store unavailable");
    Failure::Unavailable
}

impl<U: LoginUser> AppState<U> {
    /// Renders a page with its status; a template failure becomes the plain 503 answer.
    pub(crate) fn page(&self, page: Page<'_>) -> Response {
        let texts = Texts::current();
        match self
            .pages
            .render_in(page, self.service.settings(), &texts.locale)
        {
            Ok(html) => {
                let code = StatusCode::from_u16(page.status()).unwrap_or(StatusCode::OK);
                (code, Html(html)).into_response()
            }
            Err(error) => {
                tracing::error!(%error, "page template failed");
                (StatusCode::SERVICE_UNAVAILABLE, messages::UNAVAILABLE).into_response()
            }
        }
    }

    /// The HTML answer to a failure.
    pub(crate) fn html_failure(&self, failure: Failure) -> Response {
        let mut response = self.page(Page::Failure(&failure));
        retry_after(&failure, &mut response);
        response
    }
}

/// `{"detail": "...", "code": "..."}`: a message of the request's language with its stable
/// code (docs/HTTP.md).
pub(crate) fn json_detail(code: &'static str) -> serde_json::Value {
    json!({ "detail": Texts::current().text(code), "code": code })
}

/// 400 with field errors in the request's language and their codes beside them.
pub(crate) fn json_errors(errors: &FormErrors) -> Response {
    let texts = Texts::current();
    (
        StatusCode::BAD_REQUEST,
        Json(errors.localized(&texts.catalog, &texts.locale)),
    )
        .into_response()
}

/// Negotiates each request's language (the app's `Locale` in the request's extensions, else
/// `Accept-Language` against the catalog, else `default_locale`), handles the request with
/// it, and labels pages and JSON answers with `Content-Language` (and `Vary:
/// Accept-Language` when that header decided).
pub(crate) async fn negotiate_locale<U: LoginUser>(
    State(state): State<AppState<U>>,
    request: Request,
    next: Next,
) -> Response {
    let app = request.extensions().get::<Locale>().cloned();
    let from_header = app.is_none();
    let accept = request
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let locale = state.pages.negotiate(state.service.settings(), app, accept);
    let texts = Texts::new(state.pages.catalog().clone(), locale.clone());
    let mut response = texts.scope(next.run(request)).await;
    let worded = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"));
    if worded {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(locale.as_str()) {
            headers.insert(CONTENT_LANGUAGE, value);
        }
        if from_header {
            headers.append(VARY, HeaderValue::from_static("Accept-Language"));
        }
    }
    response
}

/// The JSON answer to a failure: `{"detail": "...", "code": "..."}`.
pub(crate) fn json_failure(failure: Failure) -> Response {
    let texts = Texts::current();
    let detail = failure.message_in(&texts.catalog, &texts.locale);
    let mut response = (
        status(&failure),
        Json(json!({ "detail": detail, "code": failure.code() })),
    )
        .into_response();
    retry_after(&failure, &mut response);
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
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Failure::expected_form(),
                _ => Failure::BadRequest(rejection.body_text()),
            })),
        }
    }
}

/// A JSON object body (`Content-Type: application/json` required) whose rejections are JSON.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<U: LoginUser, T: DeserializeOwned> FromRequest<AppState<U>> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState<U>) -> Result<Self, Response> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(content_type) {
            return Err(json_failure(Failure::expected_json()));
        }
        let body = match axum::body::Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(rejection) => {
                return Err(json_failure(match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge,
                    _ => Failure::BadRequest(rejection.body_text()),
                }));
            }
        };
        json_object(
            &body,
            |b| serde_json::from_slice(b),
            |b| serde_json::from_slice(b),
        )
        .map(Self)
        .map_err(json_failure)
    }
}

/// Requires `Content-Type: application/json` on a POST whose body is ignored (`api/logout/`),
/// so that no cross-site form can reach it.
pub(crate) struct JsonContentType;

impl<S: Send + Sync> FromRequestParts<S> for JsonContentType {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let content_type = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let json = is_json(content_type);
        if json {
            Ok(Self)
        } else {
            Err(json_failure(Failure::expected_json()))
        }
    }
}

impl<U: LoginUser> FromRequestParts<AppState<U>> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<U>,
    ) -> Result<Self, Self::Rejection> {
        Ok(request_info(
            &parts.headers,
            &parts.uri,
            &parts.extensions,
            &state.service.settings().trusted_proxies,
        ))
    }
}
