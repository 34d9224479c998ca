//! `GET`/`POST logout/`: end the session. `GET` only asks to confirm (a "Log out?" page whose
//! form posts the logout) unless `logout_on_get` is on, so that no other site can log a user
//! out with a link or an image.

use actix_web::{HttpRequest, HttpResponse, http::header::ALLOW, web};
use nopassword_core::{
    LoginUser,
    http::{Failure, LogoutPost, NextQuery, logout_target},
    pages::Page,
};

use super::query;
use crate::{
    cookies::{PageCsrf, check_csrf},
    session::end_session,
    state::{AppState, form_body, found},
};

fn log_out<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    next: Option<&str>,
) -> Result<HttpResponse, Failure> {
    end_session::<U>(req)?;
    Ok(found(&logout_target(state.settings(), next)))
}

/// With `logout_on_get`: ends the session, 302 to a safe `?next=`, else to the login page.
/// Without (the default): 200 "Log out?" with a form that posts the logout (and `?next=`);
/// nobody is logged out.
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn get<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let NextQuery { next } = query(&req);
    let answer = if state.settings().logout_on_get {
        log_out(&state, &req, next.as_deref())
    } else {
        PageCsrf::new(&state.service, &req).map(|csrf| {
            csrf.set_on(state.page(Page::LogoutForm {
                action: req.uri().path(),
                csrf_token: csrf.token(),
                next: next.as_deref(),
            }))
        })
    };
    answer.unwrap_or_else(|failure| state.html_failure(failure))
}

/// Ends the session from the form (its CSRF token required, else 403); 302 to a safe `next`,
/// else to the login page.
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn post<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: LogoutPost = form_body(&req, payload).await?;
        check_csrf(&state.service, &req, body.csrfmiddlewaretoken.as_deref())?;
        log_out(&state, &req, body.next.as_deref())
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// `HEAD` ends nothing (link checkers and prefetchers must not log anyone out): 405.
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn head() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, "GET, POST"))
        .finish()
}
