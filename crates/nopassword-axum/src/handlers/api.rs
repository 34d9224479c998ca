//! The JSON API: `api/login/`, `api/login/code/`, `api/login/flow/`,
//! `api/login/flow/complete/`, `api/logout/`. `Content-Type: application/json` is required on
//! the POSTs, which is also what keeps cross-site forms out.

use axum::{
    Json,
    extract::{Query, State},
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    LoginUser,
    forms::{CodeForm, FormErrors, LoginForm, messages},
    http::{Failure, flow_set_cookie},
    i18n::Texts,
};
use serde::Deserialize;
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

/// `{"username", "next"?}` → 200 `{"detail": "Login code has been sent.", "flow": "...",
/// "number": 42}` (the flow's matching number), with the flow cookie too (for clients with a
/// cookie jar).
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
            body["number"] = started.number.into();
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

/// The flow a request names: `given` (the query's or the body's `flow`) when it is not blank,
/// else the flow cookie's.
fn presented<'a>(given: Option<&'a str>, cookies: &'a RequestCookies) -> Option<&'a str> {
    given
        .filter(|flow| !flow.trim().is_empty())
        .or_else(|| cookies.flow())
}

/// `?flow=` of `api/login/flow/`, or the body of `api/login/flow/complete/`.
// No Debug: it holds a flow token.
#[derive(Deserialize)]
pub(crate) struct FlowParam {
    #[serde(default)]
    flow: Option<String>,
}

/// `GET api/login/flow/` (`?flow=`, else the flow cookie) → 200 `{"status": "pending" |
/// "approved" | "expired"}`; a missing, malformed, unknown or stranger's flow reads
/// `expired`. One store read, no rate counter.
#[tracing::instrument(name = "nopassword.api.flow", skip_all)]
pub(crate) async fn flow_status<U: LoginUser>(
    State(state): State<AppState<U>>,
    cookies: RequestCookies,
    uri: Uri,
) -> Response {
    let query = Query::<FlowParam>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(param)| param.flow);
    match state
        .service
        .flow_status(presented(query.as_deref(), &cookies))
        .await
    {
        Ok(status) => Json(json!({ "status": status.as_str() })).into_response(),
        Err(error) => json_failure(error.into()),
    }
}

/// `POST api/login/flow/complete/` `{"flow"?}` (else the flow cookie): an approved flow logs
/// in, 200 `{"next": "..."}` with the session cookie, as `api/login/code/`; anything else 401
/// `{"detail": "This login has not been approved yet.", "code": "flow_not_approved"}`.
#[tracing::instrument(name = "nopassword.api.flow_complete", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn flow_complete<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    ApiJson(body): ApiJson<FlowParam>,
) -> Response {
    let flow = presented(body.flow.as_deref(), &cookies);
    let result: Result<Response, Failure> = async {
        match state.service.complete_flow(flow).await? {
            Some(login) => {
                start_session(&mut auth, &login).await?;
                Ok(Json(json!({ "next": login.next })).into_response())
            }
            None => Ok((
                StatusCode::UNAUTHORIZED,
                Json(json_detail("flow_not_approved")),
            )
                .into_response()),
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
