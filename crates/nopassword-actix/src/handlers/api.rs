//! The JSON API: `api/login/`, `api/login/code/`, `api/login/flow/`,
//! `api/login/flow/complete/`, `api/logout/`. `Content-Type: application/json` is required on
//! every POST, which is also what keeps cross-site forms out.
//!
//! `api/login/` answers the flow token both as `"flow"` (for clients without a cookie jar) and
//! as the flow cookie; `api/login/code/` takes it from the body's `"flow"`, else the cookie
//! (docs/HTTP.md, Login flows). `api/login/flow/` and `api/login/flow/complete/` take it from
//! `?flow=` or the body's `"flow"`, else the cookie (docs/HTTP.md, Cross-device approval).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use nopassword_core::{
    LoginUser,
    forms::{CodeForm, FormErrors, LoginForm, messages},
    http::{Failure, flow_set_cookie, presented_flow},
    i18n::Texts,
};
use serde::Deserialize;
use serde_json::json;

use super::query;
use crate::{
    cookies::{flow_cookie, set_cookie},
    request_info,
    session::{end_session, session, start_session},
    state::{
        AppState, json_answer, json_body, json_detail, json_errors, json_failure, require_json,
    },
};

fn invalid(errors: &FormErrors) -> HttpResponse {
    json_errors(errors)
}

/// `{"username", "next"?}` → 200 `{"detail": "Login code has been sent.", "flow": "...",
/// "number": 42}` (the flow's matching number) and the flow cookie, for known, unknown and
/// inactive users alike.
#[tracing::instrument(name = "nopassword.api.login", skip_all)]
pub(crate) async fn login<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, Failure> = async {
        let form: LoginForm = json_body(&req, payload).await?;
        let settings = state.settings();
        let info = request_info(&req, &settings.trusted_proxies);
        let held = flow_cookie(&req, settings);
        let texts = Texts::current();
        let mut request = match info.login_request(&form, held.as_deref()) {
            Ok(request) => request,
            Err(errors) => return Ok(invalid(&errors)),
        };
        request.locale = Some(&texts.locale);
        let started = state.service.request_login(request).await?;
        let flow = started.flow.expose();
        let mut body = json_detail("code_sent");
        body["flow"] = flow.clone().into();
        body["number"] = started.number.into();
        let mut response = json_answer(StatusCode::OK, &body);
        set_cookie(
            &mut response,
            &flow_set_cookie(settings, &flow),
            info.secure,
        );
        Ok(response)
    }
    .await;
    result.unwrap_or_else(json_failure)
}

/// `{"username", "code", "flow"?}` → 200 `{"next": "..."}` with the session cookie, or 400
/// `{"__all__": ["Unable to log in with provided login code."]}`. The flow is the body's, else
/// the flow cookie; without it even the right code is refused.
#[tracing::instrument(name = "nopassword.api.login_code", skip_all)]
pub(crate) async fn login_code<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, Failure> = async {
        let form: CodeForm = json_body(&req, payload).await?;
        let settings = state.settings();
        let info = request_info(&req, &settings.trusted_proxies);
        let held = flow_cookie(&req, settings);
        let attempt = match info.code_attempt(settings, &form, held.as_deref()) {
            Ok(attempt) => attempt,
            Err(errors) => return Ok(invalid(&errors)),
        };
        // Before the code is spent: without the middleware the login could not be kept.
        session::<U>(&req)?;
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

/// The flow of `api/login/flow/` (`?flow=`) and of `api/login/flow/complete/` (`{"flow"?}`).
/// No `Debug`: a flow token is a secret.
#[derive(Default, Deserialize)]
pub(crate) struct FlowParam {
    flow: Option<String>,
}

/// `GET api/login/flow/` → 200 `{"status": "pending" | "approved" | "expired"}` for the flow
/// of `?flow=`, else of the flow cookie. One store read, no rate counter; a missing,
/// malformed, unknown or stranger's flow reads `expired`. Needs no session: it logs nobody in.
#[tracing::instrument(name = "nopassword.api.flow", skip_all)]
pub(crate) async fn flow_status<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let FlowParam { flow } = query(&req);
    let held = flow_cookie(&req, state.settings());
    match state
        .service
        .flow_status(presented_flow(flow.as_deref(), held.as_deref()))
        .await
    {
        Ok(status) => json_answer(StatusCode::OK, &json!({ "status": status.as_str() })),
        Err(error) => json_failure(error.into()),
    }
}

/// `POST api/login/flow/complete/` `{"flow"?}` (else the flow cookie): an approved flow logs
/// in as `api/login/code/` does, 200 `{"next": "..."}` with the session cookie; anything else
/// is 401 `{"detail": "This login has not been approved yet.", "code": "flow_not_approved"}`.
#[tracing::instrument(name = "nopassword.api.flow_complete", skip_all)]
pub(crate) async fn flow_complete<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    let result: Result<HttpResponse, Failure> = async {
        let FlowParam { flow } = json_body(&req, payload).await?;
        let held = flow_cookie(&req, state.settings());
        // Before the approval is taken: without the middleware the login could not be kept.
        session::<U>(&req)?;
        let presented = presented_flow(flow.as_deref(), held.as_deref());
        match state.service.complete_flow(presented).await? {
            Some(login) => {
                start_session(&req, &state.service, &login.user)?;
                Ok(json_answer(StatusCode::OK, &json!({ "next": login.next })))
            }
            None => Ok(json_answer(
                StatusCode::UNAUTHORIZED,
                &json_detail("flow_not_approved"),
            )),
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
        .map(|()| json_answer(StatusCode::OK, &json_detail("logged_out")))
        .unwrap_or_else(json_failure)
}
