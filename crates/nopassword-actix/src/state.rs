//! Route state, the answers to failures, and reading bodies so that bad input gets a clear
//! 4xx answer: 413 over the limit, 415 for the wrong content type, 400 when it does not decode.

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{
            ACCEPT_LANGUAGE, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE, ContentType,
            HeaderValue, LOCATION, RETRY_AFTER, VARY,
        },
    },
    middleware::Next,
    web,
};
use nopassword_core::{
    LoginUser, NoPassword, Settings,
    forms::{FormErrors, MAX_BODY_BYTES, messages},
    http::{Failure, is_form, is_json, json_object},
    i18n::Texts,
    locale::Locale,
    pages::Page,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

use crate::Pages;

/// Shared by every route (as `web::Data`).
pub(crate) struct AppState<U: LoginUser> {
    pub(crate) service: NoPassword<U>,
    pub(crate) pages: Pages,
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn retry_after(failure: &Failure, response: &mut HttpResponse) {
    if let Some(seconds) = failure.retry_after() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
}

impl<U: LoginUser> AppState<U> {
    pub(crate) fn settings(&self) -> &Settings {
        self.service.settings()
    }

    /// Renders a page with its status; a template failure becomes the plain 503 answer.
    pub(crate) fn page(&self, page: Page<'_>) -> HttpResponse {
        let texts = Texts::current();
        match self.pages.render_in(page, self.settings(), &texts.locale) {
            Ok(html) => HttpResponse::build(status(page.status()))
                .content_type(ContentType::html())
                .body(html),
            Err(error) => {
                tracing::error!(%error, "page template failed");
                HttpResponse::ServiceUnavailable()
                    .content_type(ContentType::plaintext())
                    .body(messages::UNAVAILABLE)
            }
        }
    }

    /// The HTML answer to a failure.
    pub(crate) fn html_failure(&self, failure: Failure) -> HttpResponse {
        let mut response = self.page(Page::Failure(&failure));
        retry_after(&failure, &mut response);
        response
    }
}

/// A JSON answer.
pub(crate) fn json_answer(code: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(code).json(body)
}

/// `{"detail": "...", "code": "..."}`: a message of the request's language with its stable
/// code (docs/HTTP.md).
pub(crate) fn json_detail(code: &'static str) -> serde_json::Value {
    json!({ "detail": Texts::current().text(code), "code": code })
}

/// 400 with field errors in the request's language and their codes beside them.
pub(crate) fn json_errors(errors: &FormErrors) -> HttpResponse {
    let texts = Texts::current();
    json_answer(
        StatusCode::BAD_REQUEST,
        &errors.localized(&texts.catalog, &texts.locale),
    )
}

/// Negotiates each request's language (the app's `Locale` in the request's extensions, else
/// `Accept-Language` against the catalog, else `default_locale`), handles the request with
/// it, and labels pages and JSON answers with `Content-Language` (and `Vary:
/// Accept-Language` when that header decided).
pub(crate) async fn negotiate_locale<U: LoginUser>(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState<U>>>().cloned() else {
        return next.call(req).await;
    };
    let app = req.extensions().get::<Locale>().cloned();
    let from_header = app.is_none();
    let accept = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let locale = state.pages.negotiate(state.settings(), app, accept);
    let texts = Texts::new(state.pages.catalog().clone(), locale.clone());
    let mut response = texts.scope(next.call(req)).await?;
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
    Ok(response)
}

/// The JSON answer to a failure: `{"detail": "...", "code": "..."}`.
pub(crate) fn json_failure(failure: Failure) -> HttpResponse {
    let texts = Texts::current();
    let mut response = json_answer(
        status(failure.status()),
        &json!({
            "detail": failure.message_in(&texts.catalog, &texts.locale),
            "code": failure.code(),
        }),
    );
    retry_after(&failure, &mut response);
    response
}

/// 302 Found to a path already checked by `safe_next`.
pub(crate) fn found(location: &str) -> HttpResponse {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    HttpResponse::Found()
        .insert_header((LOCATION, value))
        .finish()
}

fn content_type(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// The body, at most [`MAX_BODY_BYTES`].
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, Failure> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(Failure::TooLarge);
    }
    match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => Err(Failure::BadRequest(format!(
            "Could not read the request body: {error}."
        ))),
        Err(_) => Err(Failure::TooLarge),
    }
}

/// A urlencoded form (the HTML routes).
pub(crate) async fn form_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, Failure> {
    if !is_form(content_type(req)) {
        return Err(Failure::expected_form());
    }
    let body = read_body(req, payload).await?;
    serde_urlencoded::from_bytes(&body)
        .map_err(|e| Failure::BadRequest(format!("Failed to deserialize form body: {e}.")))
}

/// A JSON object body (the API); `Content-Type: application/json` required.
pub(crate) async fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, Failure> {
    require_json(req)?;
    let body = read_body(req, payload).await?;
    json_object(
        &body,
        |b| serde_json::from_slice(b),
        |b| serde_json::from_slice(b),
    )
}

/// `Content-Type: application/json`, also on a POST whose body is ignored (`api/logout/`), so
/// that no cross-site form can reach the API.
pub(crate) fn require_json(req: &HttpRequest) -> Result<(), Failure> {
    if is_json(content_type(req)) {
        Ok(())
    } else {
        Err(Failure::expected_json())
    }
}
