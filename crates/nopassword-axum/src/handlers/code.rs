//! Login links (`login-code/{username}/{code}/` or `login-code/{code}/`) and the typed-code
//! form (`login/code/`), bound to the flow that asked for the code (docs/HTTP.md, Login flows).

use axum::{
    extract::{OriginalUri, Path, Query, State, rejection::PathRejection},
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    LoginUser,
    forms::{FormErrors, messages},
    http::{CodePost, Failure, UsernameQuery},
    pages::Page,
    service::{Approval, CodeAttempt, LinkAction},
};
use serde::Deserialize;

use super::{Auth, UserOf, found, start_session};
use crate::{
    PasswordlessBackend, RequestInfo,
    cookies::RequestCookies,
    state::{AppState, HtmlForm},
};

/// The path parameters of a login link.
// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct Link {
    #[serde(default)]
    username: Option<String>,
    code: String,
}

/// A link's path parameters, or `None` when they do not decode (a username that is not
/// UTF-8): such a link is one more unknown link, answered like any other (404).
fn decoded(link: Result<Path<Link>, PathRejection>) -> Option<Link> {
    link.ok().map(|Path(link)| link)
}

impl Link {
    /// The link as presented by this client, with the flow its cookie holds.
    fn attempt<'a>(&'a self, info: &RequestInfo, cookies: &'a RequestCookies) -> CodeAttempt<'a> {
        CodeAttempt {
            username: self.username.as_deref(),
            code: &self.code,
            client: info.client,
            flow: cookies.flow(),
        }
    }
}

/// The body of a link's `POST`: the CSRF token, and the number picked on the approval page
/// (docs/HTTP.md, Cross-device approval) when the person approves another device.
// No Debug: it holds a CSRF token.
#[derive(Deserialize)]
pub(crate) struct LinkPost {
    csrfmiddlewaretoken: Option<String>,
    #[serde(default)]
    number: Option<String>,
}

/// `GET` of a link, as nopassword-core's [`LinkAction`] says: the "Logging in..." page, an
/// immediate login (`post_redirect` off), the "Confirm login" page for another client, 403
/// under `cross_device_links = "deny"`, or 404. Only the immediate login consumes the code.
#[tracing::instrument(name = "nopassword.link", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn link_get<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    info: RequestInfo,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    OriginalUri(uri): OriginalUri,
    link: Result<Path<Link>, PathRejection>,
) -> Response {
    let Some(link) = decoded(link) else {
        return state.html_failure(Failure::NotFound);
    };
    let attempt = link.attempt(&info, &cookies);
    let result = match state.service.open_link(attempt).await {
        Ok(action @ (LinkAction::NotFound | LinkAction::Denied)) => {
            Err(action.failure().unwrap_or(Failure::NotFound))
        }
        Ok(LinkAction::Submit) => {
            let csrf = cookies.page_csrf(&state.service);
            let page = state.page(Page::Submit {
                action: uri.path(),
                csrf_token: csrf.token(),
            });
            Ok(csrf.apply(page))
        }
        Ok(LinkAction::Confirm {
            username,
            requested_at,
            device,
            numbers,
        }) => {
            let csrf = cookies.page_csrf(&state.service);
            let page = state.page(Page::Confirm {
                action: uri.path(),
                csrf_token: csrf.token(),
                username: &username,
                requested_at,
                device: device.as_deref(),
                numbers,
            });
            Ok(csrf.apply(page))
        }
        Ok(LinkAction::LogIn) => log_in_with_link(&state, &mut auth, attempt).await,
        Err(error) => Err(error.into()),
    };
    result.unwrap_or_else(|failure| state.html_failure(failure))
}

/// Consumes the link and starts the session: 302 to `next`, else 404 (unknown, expired, used)
/// or 403 (another client under `cross_device_links = "deny"`).
async fn log_in_with_link<B: PasswordlessBackend>(
    state: &AppState<UserOf<B>>,
    auth: &mut Auth<B>,
    attempt: CodeAttempt<'_>,
) -> Result<Response, Failure> {
    let login = state
        .service
        .login_with_link(attempt)
        .await?
        .into_result()?;
    start_session(auth, &login).await?;
    Ok(found(&login.next))
}

/// A number picked on the approval page: approves the flow that asked for the link's code, or
/// not; this client's session is never touched.
async fn approve<U: LoginUser>(
    state: &AppState<U>,
    attempt: CodeAttempt<'_>,
    number: &str,
) -> Result<Response, Failure> {
    match state.service.approve_flow(attempt, number).await? {
        Approval::Approved => Ok(state.page(Page::Approval { approved: true })),
        Approval::WrongNumber => Ok(state.page(Page::Approval { approved: false })),
        other @ (Approval::NotFound | Approval::Denied) => {
            Err(other.failure().unwrap_or(Failure::NotFound))
        }
    }
}

/// `HEAD` of a link: 404 for an unknown link, 403 where `GET` would deny, else 200; never
/// consumes the code (even with `post_redirect` off).
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_head<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    cookies: RequestCookies,
    link: Result<Path<Link>, PathRejection>,
) -> Response {
    let Some(link) = decoded(link) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.service.open_link(link.attempt(&info, &cookies)).await {
        Ok(action) => StatusCode::from_u16(action.head_status())
            .unwrap_or(StatusCode::NOT_FOUND)
            .into_response(),
        Err(error) => state.html_failure(error.into()),
    }
}

/// `POST` of a link (the "Logging in..." or "Confirm login" form): consume, log in, 302 to
/// `next`; else 404, or 403 under `cross_device_links = "deny"` without the flow.
///
/// With a non-empty `number` (a pick on the approval page) it approves the flow that asked
/// instead, and never logs this client in: the right number answers 200 "Login approved", a
/// wrong one 400 "Login not approved"; 404 for a dead link, 403 outside
/// `cross_device_links = "confirm"` (nothing spent).
#[tracing::instrument(name = "nopassword.link", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn link_post<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    info: RequestInfo,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    link: Result<Path<Link>, PathRejection>,
    HtmlForm(body): HtmlForm<LinkPost>,
) -> Response {
    let Some(link) = decoded(link) else {
        return state.html_failure(Failure::NotFound);
    };
    async {
        if !cookies.csrf_valid(&state.service, body.csrfmiddlewaretoken.as_deref()) {
            return Err(Failure::Csrf);
        }
        let attempt = link.attempt(&info, &cookies);
        match body.number.as_deref().filter(|number| !number.is_empty()) {
            Some(number) => approve(&state, attempt, number).await,
            None => log_in_with_link(&state, &mut auth, attempt).await,
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// The form, with the CSRF cookie when the request had no valid one.
fn render_form<U: LoginUser>(
    state: &AppState<U>,
    cookies: &RequestCookies,
    username: &str,
    errors: &FormErrors,
) -> Response {
    let csrf = cookies.page_csrf(&state.service);
    let page = state.page(Page::CodeForm {
        csrf_token: csrf.token(),
        username,
        errors,
    });
    csrf.apply(page)
}

/// The typed-code form, for codes read from an SMS or a mail.
#[tracing::instrument(name = "nopassword.code_form", skip_all)]
pub(crate) async fn form<U: LoginUser>(
    State(state): State<AppState<U>>,
    cookies: RequestCookies,
    uri: Uri,
) -> Response {
    let username = Query::<UsernameQuery>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(q)| q.username)
        .unwrap_or_default();
    render_form(&state, &cookies, &username, &FormErrors::default())
}

/// Logs in with a typed code (counted only within its flow), or shows the form again with
/// "Unable to log in with provided login code."
#[tracing::instrument(name = "nopassword.code", skip_all, fields(user.id = tracing::field::Empty))]
pub(crate) async fn submit<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    info: RequestInfo,
    cookies: RequestCookies,
    mut auth: Auth<B>,
    HtmlForm(body): HtmlForm<CodePost>,
) -> Response {
    async {
        let (form, csrf) = body.into_parts();
        if !cookies.csrf_valid(&state.service, csrf.as_deref()) {
            return Err(Failure::Csrf);
        }
        let typed = form.username.as_deref().unwrap_or_default();
        let attempt = match info.code_attempt(state.service.settings(), &form, cookies.flow()) {
            Ok(attempt) => attempt,
            Err(errors) => return Ok(render_form(&state, &cookies, typed, &errors)),
        };
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&mut auth, &login).await?;
                Ok(found(&login.next))
            }
            None => {
                let errors = FormErrors::form(messages::INVALID_CODE);
                Ok(render_form(&state, &cookies, typed, &errors))
            }
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
