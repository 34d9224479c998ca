//! `GET`/`POST login/`: ask for a login code, which starts a login flow (SPEC section 8).

use axum::{
    extract::{Query, State},
    http::Uri,
    response::Response,
};
use nopassword_core::{
    LoginRequest, LoginUser,
    forms::{FormErrors, LoginForm},
    http::{Failure, flow_set_cookie},
    pages::Page,
};
use serde::Deserialize;

use crate::{
    RequestInfo,
    cookies::{RequestCookies, with_set_cookie},
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

/// The form, with the CSRF cookie when the request had no valid one.
fn render_form<U: LoginUser>(
    state: &AppState<U>,
    cookies: &RequestCookies,
    username: &str,
    next: Option<&str>,
    errors: &FormErrors,
) -> Response {
    let csrf = cookies.page_csrf(&state.service);
    let page = state.page(Page::LoginForm {
        csrf_token: csrf.token(),
        username,
        next,
        errors,
    });
    csrf.apply(page)
}

/// The login form; `?next=` is carried in a hidden field when it is safe.
pub(crate) async fn form<U: LoginUser>(
    State(state): State<AppState<U>>,
    cookies: RequestCookies,
    uri: Uri,
) -> Response {
    let next = query_next(&uri);
    render_form(
        &state,
        &cookies,
        "",
        next.as_deref(),
        &FormErrors::default(),
    )
}

/// Sends a code; the same "sent" page, with a flow cookie, for known, unknown and inactive
/// users.
pub(crate) async fn submit<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    cookies: RequestCookies,
    HtmlForm(body): HtmlForm<LoginBody>,
) -> Response {
    submit_inner(&state, &info, &cookies, body)
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_inner<U: LoginUser>(
    state: &AppState<U>,
    info: &RequestInfo,
    cookies: &RequestCookies,
    body: LoginBody,
) -> Result<Response, Failure> {
    if !cookies.csrf_valid(&state.service, body.csrfmiddlewaretoken.as_deref()) {
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
            return Ok(render_form(
                state,
                cookies,
                typed,
                form.next.as_deref(),
                &errors,
            ));
        }
    };
    let request = LoginRequest {
        username,
        next: form.next.as_deref(),
        host: info.host.as_deref(),
        secure: info.secure,
        client: info.client,
        flow: cookies.flow(),
    };
    let started = state.service.request_login(request).await?;
    let flow = flow_set_cookie(state.service.settings(), &started.flow.expose());
    Ok(with_set_cookie(state.page(Page::Sent), Some(&flow)))
}
