//! `POST login/flow/complete/`: the waiting page's "Continue", which logs in the browser that
//! asked once another device approved its flow (docs/HTTP.md, Cross-device approval).

use axum::{extract::State, response::Response};
use nopassword_core::{http::Failure, pages::Page};
use serde::Deserialize;

use super::{Auth, UserOf, found, start_session};
use crate::{
    PasswordlessBackend,
    cookies::RequestCookies,
    state::{AppState, HtmlForm},
};

/// The "Continue" form: its CSRF token only (the flow is the cookie's).
// No Debug: it holds a CSRF token.
#[derive(Deserialize)]
pub(crate) struct CompletePost {
    csrfmiddlewaretoken: Option<String>,
}

/// Completes the flow in the flow cookie: an approved flow logs in (a fresh session id) and
/// answers 302 to the stored `next`, else `login_redirect_url`. Not approved (yet): the waiting
/// page again with "This login has not been approved yet." when the cookie holds a flow, else
/// the 404 page.
#[tracing::instrument(name = "nopassword.flow_complete", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn complete<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    HtmlForm(body): HtmlForm<CompletePost>,
) -> Response {
    async {
        if !cookies.csrf_valid(&state.service, body.csrfmiddlewaretoken.as_deref()) {
            return Err(Failure::Csrf);
        }
        if let Some(login) = state.service.complete_flow(cookies.flow()).await? {
            start_session(&mut auth, &login).await?;
            return Ok(found(&login.next));
        }
        let number = state
            .service
            .presented_number(cookies.flow())
            .ok_or(Failure::NotFound)?;
        let csrf = cookies.page_csrf(&state.service);
        let page = state.page(Page::Sent {
            csrf_token: csrf.token(),
            number,
            not_yet: true,
        });
        Ok(csrf.apply(page))
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
