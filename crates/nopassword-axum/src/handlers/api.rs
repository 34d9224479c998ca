//! The JSON API: `api/login/`, `api/login/code/`, `api/logout/`. `Content-Type:
//! application/json` is required, which is also what keeps cross-site forms out.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use nopassword_core::{
    forms::{CodeForm, FormErrors, LoginForm, messages},
    http::{Failure, flow_set_cookie},
    i18n::Texts,
};
use serde_json::json;

use super::{Auth, UserOf, start_session};
use crate::{
    PasswordlessBackend, RequestInfo,
    cookies::{RequestCookies, with_set_cookie},
    state::{ApiJson, AppState, JsonContentType, json_detail, json_errors, json_failure},
};

fn invalid(errors: &FormErrors) -> Response {
    json_errors(errors)
}

/// `{"username", "next"?}` → 200 `{"detail": "Login code has been sent.", "flow": "..."}`,
/// with the flow cookie too (for clients with a cookie jar).
#[tracing::instrument(name = "nopassword.api.login", skip_all)]
pub(crate) async fn login<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    info: RequestInfo,
    cookies: RequestCookies,
    ApiJson(form): ApiJson<LoginForm>,
) -> Response {
    let texts = Texts::current();
    let mut request = match info.login_request(&form, cookies.flow()) {
        Ok(request) => request,
        Err(errors) => return invalid(&errors),
    };
    request.locale = Some(&texts.locale);
    match state.service.request_login(request).await {
        Ok(started) => {
            let flow = started.flow.expose();
            let cookie = flow_set_cookie(state.service.settings(), &flow);
            let mut body = json_detail("code_sent");
            body["flow"] = flow.into();
            let body = Json(body);
            with_set_cookie(body.into_response(), Some(&cookie))
        }
        Err(error) => json_failure(error.into()),
    }
}

/// `{"username", "code", "flow"?}` → 200 `{"next": "..."}` with the session cookie, or 400
/// `{"__all__": ["Unable to log in with provided login code."]}`. The flow is the body's
/// `"flow"`, else the flow cookie; without it no code counts.
#[tracing::instrument(name = "nopassword.api.login_code", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn login_code<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    info: RequestInfo,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    ApiJson(form): ApiJson<CodeForm>,
) -> Response {
    let attempt = match info.code_attempt(state.service.settings(), &form, cookies.flow()) {
        Ok(attempt) => attempt,
        Err(errors) => return invalid(&errors),
    };
    let result: Result<Response, Failure> = async {
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&mut auth, &login).await?;
                Ok(Json(json!({ "next": login.next })).into_response())
            }
            None => Ok(invalid(&FormErrors::form(messages::INVALID_CODE))),
        }
    }
    .await;
    result.unwrap_or_else(json_failure)
}

/// 200 `{"detail": "Successfully logged out."}`.
#[tracing::instrument(name = "nopassword.api.logout", skip_all)]
pub(crate) async fn logout<B: PasswordlessBackend>(
    _: JsonContentType,
    mut auth: Auth<B>,
) -> Response {
    match auth.logout().await {
        Ok(_) => Json(json_detail("logged_out")).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not end the session");
            json_failure(Failure::Unavailable)
        }
    }
}
