//! `GET`/`POST login/`: ask for a login code. The answer to the POST starts (or continues) the
//! browser's login flow: it sets the flow cookie (docs/HTTP.md, Login flows).

use actix_web::{HttpRequest, HttpResponse, web};
use nopassword_core::{
    LoginUser,
    forms::FormErrors,
    http::{Failure, LoginPost, NextQuery, flow_set_cookie},
    pages::Page,
};

use super::query;
use crate::{
    cookies::{PageCsrf, check_csrf, flow_cookie, set_cookie},
    request_info,
    state::{AppState, form_body},
};

fn render_form<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    username: &str,
    next: Option<&str>,
    errors: &FormErrors,
) -> Result<HttpResponse, Failure> {
    let csrf = PageCsrf::new(&state.service, req)?;
    Ok(csrf.set_on(state.page(Page::LoginForm {
        csrf_token: csrf.token(),
        username,
        next,
        errors,
    })))
}

/// The login form; `?next=` is carried in a hidden field when it is safe.
#[tracing::instrument(name = "nopassword.login_form", skip_all)]
pub(crate) async fn form<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let NextQuery { next } = query(&req);
    render_form(&state, &req, "", next.as_deref(), &FormErrors::default())
        .unwrap_or_else(|failure| state.html_failure(failure))
}

/// Sends a code; the same "sent" page, with a flow cookie, for known, unknown and inactive
/// users.
#[tracing::instrument(name = "nopassword.login", skip_all)]
pub(crate) async fn submit<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    submit_inner(&state, &req, payload)
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_inner<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Failure> {
    let body: LoginPost = form_body(req, payload).await?;
    let (form, csrf) = body.into_parts();
    check_csrf(&state.service, req, csrf.as_deref())?;
    let settings = state.settings();
    let info = request_info(req, &settings.trusted_proxies);
    // A second request from the same browser continues its flow.
    let held = flow_cookie(req, settings);
    let texts = nopassword_core::i18n::Texts::current();
    let mut request = match info.login_request(&form, held.as_deref()) {
        Ok(request) => request,
        Err(errors) => {
            let typed = form.username.as_deref().unwrap_or("");
            return render_form(state, req, typed, form.next.as_deref(), &errors);
        }
    };
    // The mail goes out in the language of the page that asked for it.
    request.locale = Some(&texts.locale);
    let started = state.service.request_login(request).await?;
    let csrf = PageCsrf::new(&state.service, req)?;
    let mut response = csrf.set_on(state.page(Page::Sent {
        csrf_token: csrf.token(),
        number: started.number,
        not_yet: false,
    }));
    set_cookie(
        &mut response,
        &flow_set_cookie(settings, &started.flow.expose()),
        info.secure,
    );
    Ok(response)
}
