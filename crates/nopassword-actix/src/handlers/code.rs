//! Login links (`login-code/{username}/{code}/` or `login-code/{code}/`) and the typed-code
//! form (`login/code/`).
//!
//! Both count with the browser's login flow (docs/HTTP.md, Login flows), read from the flow cookie. A link
//! opened by the flow's own browser (or by anyone under `cross_device_links = "allow"`) gets
//! the "Logging in..." page, or logs in at once with `post_redirect` off; any other client gets
//! the "Confirm login" page (`confirm`, the default) or 403 (`deny`). `GET` and `HEAD` consume
//! nothing, except a `GET` that logs in at once. A typed code counts only with its flow.

use actix_web::{HttpRequest, HttpResponse, web};
use nopassword_core::{
    LoginUser,
    forms::{FormErrors, messages},
    http::{CodePost, Failure, UsernameQuery},
    pages::Page,
    service::{Approval, CodeAttempt, LinkAction},
};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use super::query;
use crate::{
    cookies::{PageCsrf, check_csrf, flow_cookie},
    request_info,
    session::{session, start_session},
    state::{AppState, form_body, found},
};

/// The segments of a login link and the request's flow cookie (no `Debug`: it holds a code).
struct Link {
    username: Option<String>,
    code: String,
    flow: Option<String>,
}

/// A link's segments, strictly decoded from the raw path, or `None` when they do not decode
/// (a username that is not UTF-8): such a link is one more unknown link, answered like any
/// other (404). actix's router decodes lossily, so its match info is not used.
fn link<U: LoginUser>(state: &AppState<U>, req: &HttpRequest) -> Option<Link> {
    let settings = state.settings();
    let prefix = format!("{}/login-code/", settings.mount_path);
    let rest = req.uri().path().strip_prefix(&prefix)?.strip_suffix('/')?;
    let decode = |segment: &str| {
        percent_decode_str(segment)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let mut segments = rest.split('/');
    let username = if settings.hide_username {
        None
    } else {
        Some(decode(segments.next()?)?)
    };
    let code = decode(segments.next()?)?;
    if segments.next().is_some() {
        return None;
    }
    Some(Link {
        username,
        code,
        flow: flow_cookie(req, settings),
    })
}

impl Link {
    fn attempt<'a>(
        &'a self,
        req: &HttpRequest,
        state: &AppState<impl LoginUser>,
    ) -> CodeAttempt<'a> {
        CodeAttempt {
            username: self.username.as_deref(),
            code: &self.code,
            client: request_info(req, &state.settings().trusted_proxies).client,
            flow: self.flow.as_deref(),
        }
    }
}

/// A form with only the CSRF token (the link's "Log in", the waiting page's "Continue"), or
/// with the number picked on the approval page. No Debug: it holds a CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfBody {
    pub(crate) csrfmiddlewaretoken: Option<String>,
    /// The number picked to approve the device that asked (the "Confirm login" page).
    #[serde(default)]
    pub(crate) number: Option<String>,
}

/// `GET` of a link: what [`NoPassword::open_link`] decides. The "Logging in..." page, the
/// "Confirm login" page, 403 or 404 consume nothing; with `post_redirect` off the flow's own
/// browser logs in at once.
///
/// [`NoPassword::open_link`]: nopassword_core::NoPassword::open_link
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_get<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    async {
        let link = link(&state, &req).ok_or(Failure::NotFound)?;
        match state.service.open_link(link.attempt(&req, &state)).await? {
            action @ (LinkAction::NotFound | LinkAction::Denied) => {
                Err(action.failure().unwrap_or(Failure::NotFound))
            }
            LinkAction::LogIn => log_in_with_link(&state, &req, &link).await,
            LinkAction::Submit => {
                let csrf = PageCsrf::new(&state.service, &req)?;
                Ok(csrf.set_on(state.page(Page::Submit {
                    action: req.uri().path(),
                    csrf_token: csrf.token(),
                })))
            }
            LinkAction::Confirm {
                username,
                requested_at,
                device,
                numbers,
            } => {
                let csrf = PageCsrf::new(&state.service, &req)?;
                Ok(csrf.set_on(state.page(Page::Confirm {
                    action: req.uri().path(),
                    csrf_token: csrf.token(),
                    username: &username,
                    requested_at,
                    device: device.as_deref(),
                    numbers,
                })))
            }
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// Consumes the link and logs in: 302 to `next`, 404 for a link that no longer logs in, 403
/// outside its flow under `cross_device_links = "deny"`.
async fn log_in_with_link<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    link: &Link,
) -> Result<HttpResponse, Failure> {
    // Before the code is spent: without the middleware the login could not be kept.
    session::<U>(req)?;
    let login = state
        .service
        .login_with_link(link.attempt(req, state))
        .await?
        .into_result()?;
    start_session(req, &state.service, &login.user)?;
    Ok(found(&login.next))
}

/// A number picked on the "Confirm login" page: approves the flow that asked, or not. The
/// approval page, or the failure page of a link that cannot approve.
async fn approve<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    link: &Link,
    number: &str,
) -> Result<HttpResponse, Failure> {
    match state
        .service
        .approve_flow(link.attempt(req, state), number)
        .await?
    {
        Approval::Approved => Ok(state.page(Page::Approval { approved: true })),
        Approval::WrongNumber => Ok(state.page(Page::Approval { approved: false })),
        refused @ (Approval::NotFound | Approval::Denied) => {
            Err(refused.failure().unwrap_or(Failure::NotFound))
        }
    }
}

/// `HEAD` of a link: 404 for an unknown link, 403 when a `GET` would be denied, else 200; it
/// never consumes the code (even with `post_redirect` off).
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_head<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let Some(link) = link(&state, &req) else {
        return HttpResponse::NotFound().finish();
    };
    match state.service.open_link(link.attempt(&req, &state)).await {
        Ok(action) => {
            let status = actix_web::http::StatusCode::from_u16(action.head_status())
                .unwrap_or(actix_web::http::StatusCode::NOT_FOUND);
            HttpResponse::build(status).finish()
        }
        Err(error) => state.html_failure(error.into()),
    }
}

/// `POST` of a link (the "Logging in..." or "Confirm login" form): consume, log in, 302 to
/// `next`; 404 for an unknown link, 403 without a valid CSRF token or, under
/// `cross_device_links = "deny"`, outside the link's flow.
///
/// With a non-empty `number` (a pick on the "Confirm login" page) it approves the flow that
/// asked instead, and never logs this client in: 200 "Login approved" for the flow's number,
/// 400 "Login not approved" for another, 404 for a link that cannot approve, 403 outside
/// `cross_device_links = "confirm"` (docs/HTTP.md, Cross-device approval).
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_post<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: CsrfBody = form_body(&req, payload).await?;
        let link = link(&state, &req).ok_or(Failure::NotFound)?;
        check_csrf(&state.service, &req, body.csrfmiddlewaretoken.as_deref())?;
        match body.number.as_deref().filter(|number| !number.is_empty()) {
            Some(number) => approve(&state, &req, &link, number).await,
            None => log_in_with_link(&state, &req, &link).await,
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

fn render_form<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    username: &str,
    errors: &FormErrors,
) -> Result<HttpResponse, Failure> {
    let csrf = PageCsrf::new(&state.service, req)?;
    Ok(csrf.set_on(state.page(Page::CodeForm {
        csrf_token: csrf.token(),
        username,
        errors,
    })))
}

/// The typed-code form, for codes read from an SMS or a mail.
#[tracing::instrument(name = "nopassword.code_form", skip_all)]
pub(crate) async fn form<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let UsernameQuery { username } = query(&req);
    render_form(
        &state,
        &req,
        username.as_deref().unwrap_or_default(),
        &FormErrors::default(),
    )
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// Logs in with a typed code, or shows the form again with
/// "Unable to log in with provided login code." The code counts only with its flow: a `flow`
/// field when the form has one, else the flow cookie.
#[tracing::instrument(name = "nopassword.code", skip_all)]
pub(crate) async fn submit<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: CodePost = form_body(&req, payload).await?;
        let (form, csrf) = body.into_parts();
        check_csrf(&state.service, &req, csrf.as_deref())?;
        let settings = state.settings();
        let info = request_info(&req, &settings.trusted_proxies);
        let held = flow_cookie(&req, settings);
        let typed = form.username.as_deref().unwrap_or_default();
        let attempt = match info.code_attempt(settings, &form, held.as_deref()) {
            Ok(attempt) => attempt,
            Err(errors) => return render_form(&state, &req, typed, &errors),
        };
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&req, &state.service, &login.user)?;
                Ok(found(&login.next))
            }
            None => {
                let errors = FormErrors::form(messages::INVALID_CODE);
                render_form(&state, &req, typed, &errors)
            }
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
