//! `GET`/`POST login/`: ask for a login code, which starts a login flow (docs/HTTP.md, Login flows).

use axum::{
    extract::{Query, State},
    http::Uri,
    response::Response,
};
use nopassword_core::{
    LoginUser,
    forms::FormErrors,
    http::{Failure, LoginPost, NextQuery, flow_set_cookie},
    pages::Page,
};

use crate::{
    RequestInfo,
    cookies::{RequestCookies, with_set_cookie},
    state::{AppState, HtmlForm},
};

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
#[tracing::instrument(name = "nopassword.login_form", skip_all)]
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
#[tracing::instrument(name = "nopassword.login", skip_all)]
pub(crate) async fn submit<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    cookies: RequestCookies,
    HtmlForm(body): HtmlForm<LoginPost>,
) -> Response {
    submit_inner(&state, &info, &cookies, body)
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_inner<U: LoginUser>(
    state: &AppState<U>,
    info: &RequestInfo,
    cookies: &RequestCookies,
    body: LoginPost,
) -> Result<Response, Failure> {
    let (form, csrf) = body.into_parts();
    if !cookies.csrf_valid(&state.service, csrf.as_deref()) {
        return Err(Failure::Csrf);
    }
    let texts = nopassword_core::i18n::Texts::current();
    let mut request = match info.login_request(&form, cookies.flow()) {
        Ok(request) => request,
        Err(errors) => {
            let typed = form.username.as_deref().unwrap_or("");
            let next = form.next.as_deref();
            return Ok(render_form(state, cookies, typed, next, &errors));
        }
    };
    // The mail goes out in the language of the page that asked for it.
    request.locale = Some(&texts.locale);
    let started = state.service.request_login(request).await?;
    let flow = flow_set_cookie(state.service.settings(), &started.flow.expose());
    let csrf = cookies.page_csrf(&state.service);
    let page = state.page(Page::Sent {
        csrf_token: csrf.token(),
        number: started.number,
        not_yet: false,
    });
    Ok(with_set_cookie(csrf.apply(page), Some(&flow)))
}
