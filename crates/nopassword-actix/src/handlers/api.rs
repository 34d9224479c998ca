//! The JSON API: `api/login/`, `api/login/code/`, `api/logout/`. `Content-Type:
//! application/json` is required, which is also what keeps cross-site forms out.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use nopassword_core::{
    CodeAttempt, LoginRequest, LoginUser,
    forms::{CodeForm, FormErrors, LoginForm, messages},
    http::Failure,
};
use serde_json::json;

use crate::{
    request_info,
    session::{end_session, session, start_session},
    state::{AppState, json_answer, json_body, json_failure, require_json},
};

fn invalid(errors: &FormErrors) -> HttpResponse {
    json_answer(StatusCode::BAD_REQUEST, errors)
}

/// `{"username", "next"?}` → 200 `{"detail": "Login code has been sent."}`.
#[tracing::instrument(name = "nopassword.api.login", skip_all)]
pub(crate) async fn login<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, Failure> = async {
        let form: LoginForm = json_body(&req, payload).await?;
        let username = match form.validate() {
            Ok(username) => username,
            Err(errors) => return Ok(invalid(&errors)),
        };
        let info = request_info(&req, &state.settings().trusted_proxies);
        let request = LoginRequest {
            username,
            next: form.next.as_deref(),
            host: info.host.as_deref(),
            secure: info.secure,
            client: info.client,
        };
        state.service.request_login(request).await?;
        Ok(json_answer(
            StatusCode::OK,
            &json!({ "detail": messages::CODE_SENT }),
        ))
    }
    .await;
    result.unwrap_or_else(json_failure)
}

/// `{"username", "code"}` → 200 `{"next": "..."}` with the session cookie, or 400
/// `{"__all__": ["Unable to log in with provided login code."]}`.
#[tracing::instrument(name = "nopassword.api.login_code", skip_all)]
pub(crate) async fn login_code<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, Failure> = async {
        let form: CodeForm = json_body(&req, payload).await?;
        let (username, code) = match form.validate(!state.settings().hide_username) {
            Ok(fields) => fields,
            Err(errors) => return Ok(invalid(&errors)),
        };
        // Before the code is spent: without the middleware the login could not be kept.
        session::<U>(&req)?;
        let attempt = CodeAttempt {
            username,
            code,
            client: request_info(&req, &state.settings().trusted_proxies).client,
        };
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&req, &state.service, &login.user)?;
                Ok(json_answer(StatusCode::OK, &json!({ "next": login.next })))
            }
            None => Ok(invalid(&FormErrors::form(messages::INVALID_CODE))),
        }
    }
    .await;
    result.unwrap_or_else(json_failure)
}

/// 200 `{"detail": "Successfully logged out."}`.
#[tracing::instrument(name = "nopassword.api.logout", skip_all)]
pub(crate) async fn logout<U: LoginUser>(req: HttpRequest) -> HttpResponse {
    require_json(&req)
        .and_then(|()| end_session::<U>(&req))
        .map(|()| json_answer(StatusCode::OK, &json!({ "detail": messages::LOGGED_OUT })))
        .unwrap_or_else(json_failure)
}
