//! `POST login/flow/complete/`: the waiting page's "Continue" (its script submits it once
//! another device approved the flow; docs/HTTP.md, Cross-device approval).

use actix_web::{HttpRequest, HttpResponse, web};
use nopassword_core::{LoginUser, http::Failure, pages::Page};

use super::code::CsrfBody;
use crate::{
    cookies::{PageCsrf, check_csrf, flow_cookie},
    session::{session, start_session},
    state::{AppState, form_body, found},
};

/// Completes the approved flow of the flow cookie and logs in as a link does: 302 to the
/// stored `next`, with the session cookie. Not approved: 200, the waiting page again with
/// "This login has not been approved yet." when the cookie holds a flow, else the 404 page.
/// 403 without a valid CSRF token; 503 (nothing taken) without sessions.
#[tracing::instrument(name = "nopassword.flow_complete", skip_all)]
pub(crate) async fn complete<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: CsrfBody = form_body(&req, payload).await?;
        check_csrf(&state.service, &req, body.csrfmiddlewaretoken.as_deref())?;
        // Before the approval is taken: without the middleware the login could not be kept.
        session::<U>(&req)?;
        let held = flow_cookie(&req, state.settings());
        if let Some(login) = state.service.complete_flow(held.as_deref()).await? {
            start_session(&req, &state.service, &login.user)?;
            return Ok(found(&login.next));
        }
        let number = state
            .service
            .presented_number(held.as_deref())
            .ok_or(Failure::NotFound)?;
        let csrf = PageCsrf::new(&state.service, &req)?;
        Ok(csrf.set_on(state.page(Page::Sent {
            csrf_token: csrf.token(),
            number,
            not_yet: true,
        })))
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
