//! Route state, the answers to failures, and reading bodies so that bad input gets a clear
//! 4xx answer: 413 over the limit, 415 for the wrong content type, 400 when it does not decode.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{
        StatusCode,
        header::{CONTENT_LENGTH, CONTENT_TYPE, ContentType, HeaderValue, LOCATION, RETRY_AFTER},
    },
    web,
};
use nopassword_core::{
    LoginUser, NoPassword, Settings,
    forms::{MAX_BODY_BYTES, messages},
    http::{Failure, is_form, is_json, json_object},
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
        match self.pages.render(page, self.settings()) {
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

/// The JSON answer to a failure: `{"detail": "..."}`.
pub(crate) fn json_failure(failure: Failure) -> HttpResponse {
    let mut response = json_answer(
        status(failure.status()),
        &json!({ "detail": failure.message() }),
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
