//! The JSON API: `api/login/`, `api/login/code/`, `api/logout/`. `Content-Type:
//! application/json` is required, which is also what keeps cross-site forms out.
//!
//! `api/login/` answers the flow token both as `"flow"` (for clients without a cookie jar) and
//! as the flow cookie; `api/login/code/` takes it from the body's `"flow"`, else the cookie
//! (docs/HTTP.md, Login flows).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use nopassword_core::{
    LoginUser,
    forms::{CodeForm, FormErrors, LoginForm, messages},
    http::{Failure, flow_set_cookie},
    i18n::Texts,
};
use serde_json::json;

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

/// `{"username", "next"?}` → 200 `{"detail": "Login code has been sent.", "flow": "..."}` and
/// the flow cookie, for known, unknown and inactive users alike.
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

/// 200 `{"detail": "Successfully logged out."}`.
#[tracing::instrument(name = "nopassword.api.logout", skip_all)]
pub(crate) async fn logout<U: LoginUser>(req: HttpRequest) -> HttpResponse {
    require_json(&req)
        .and_then(|()| end_session::<U>(&req))
        .map(|()| json_answer(StatusCode::OK, &json_detail("logged_out")))
        .unwrap_or_else(json_failure)
}
