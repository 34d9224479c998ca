//! `GET`/`POST login/`: ask for a login code.

use axum::{
    extract::{Query, State},
    http::Uri,
    response::Response,
};
use nopassword_core::{
    LoginRequest, LoginUser,
    forms::{FormErrors, LoginForm},
    http::Failure,
    pages::Page,
};
use serde::Deserialize;

use super::Auth;
use crate::{
    RequestInfo,
    session::{csrf_token, csrf_valid},
    state::{AppState, HtmlForm},
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct LoginBody {
    username: Option<String>,
    next: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

fn query_next(uri: &Uri) -> Option<String> {
    Query::<NextQuery>::try_from_uri(uri)
        .ok()
        .and_then(|Query(q)| q.next)
}

async fn render_form<U: LoginUser>(
    state: &AppState<U>,
    auth: &Auth<U>,
    username: &str,
    next: Option<&str>,
    errors: &FormErrors,
) -> Result<Response, Failure> {
    let token = csrf_token(&auth.session).await?;
    Ok(state.page(Page::LoginForm {
        csrf_token: &token,
        username,
        next,
        errors,
    }))
}

/// The login form; `?next=` is carried in a hidden field when it is safe.
pub(crate) async fn form<U: LoginUser>(
    State(state): State<AppState<U>>,
    auth: Auth<U>,
    uri: Uri,
) -> Response {
    let next = query_next(&uri);
    render_form(&state, &auth, "", next.as_deref(), &FormErrors::default())
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

/// Sends a code; the same "sent" page for known, unknown and inactive users.
pub(crate) async fn submit<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    auth: Auth<U>,
    HtmlForm(body): HtmlForm<LoginBody>,
) -> Response {
    submit_inner(&state, &info, &auth, body)
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_inner<U: LoginUser>(
    state: &AppState<U>,
    info: &RequestInfo,
    auth: &Auth<U>,
    body: LoginBody,
) -> Result<Response, Failure> {
    if !csrf_valid(&auth.session, body.csrfmiddlewaretoken.as_deref()).await? {
        return Err(Failure::Csrf);
    }
    let form = LoginForm {
        username: body.username,
        next: body.next,
    };
    let username = match form.validate() {
        Ok(username) => username,
        Err(errors) => {
            let typed = form.username.as_deref().unwrap_or("");
            return render_form(state, auth, typed, form.next.as_deref(), &errors).await;
        }
    };
    let request = LoginRequest {
        username,
        next: form.next.as_deref(),
        host: info.host.as_deref(),
        secure: info.secure,
        client: info.client,
    };
    state.service.request_login(request).await?;
    Ok(state.page(Page::Sent))
}
