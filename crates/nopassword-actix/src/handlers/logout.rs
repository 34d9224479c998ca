//! `GET`/`POST logout/`: end the session.

use actix_web::{HttpRequest, HttpResponse, http::header::ALLOW, web};
use nopassword_core::{
    LoginUser,
    http::{Failure, logout_target},
};
use serde::Deserialize;

use super::{NextQuery, query};
use crate::{
    session::{csrf_valid, end_session, session},
    state::{AppState, form_body, found},
};

// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct LogoutBody {
    next: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

fn log_out<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    next: Option<&str>,
) -> Result<HttpResponse, Failure> {
    end_session::<U>(req)?;
    Ok(found(&logout_target(state.settings(), next)))
}

/// Ends the session; 302 to a safe `?next=`, else to the login page.
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn get<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let NextQuery { next } = query(&req);
    log_out(&state, &req, next.as_deref()).unwrap_or_else(|failure| state.html_failure(failure))
}

/// The same from a form (with its CSRF token).
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn post<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: LogoutBody = form_body(&req, payload).await?;
        if !csrf_valid(&session::<U>(&req)?, body.csrfmiddlewaretoken.as_deref())? {
            return Err(Failure::Csrf);
        }
        log_out(&state, &req, body.next.as_deref())
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// `HEAD` ends nothing (link checkers and prefetchers must not log anyone out): 405.
pub(crate) async fn head() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, "GET, POST"))
        .finish()
}
