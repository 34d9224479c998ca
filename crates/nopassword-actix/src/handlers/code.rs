//! Login links (`login-code/{username}/{code}/` or `login-code/{code}/`) and the typed-code
//! form (`login/code/`).

use actix_web::{HttpRequest, HttpResponse, web};
use nopassword_core::{
    CodeAttempt, LoginUser,
    forms::{CodeForm, FormErrors, messages},
    http::Failure,
    pages::Page,
};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use super::query;
use crate::{
    request_info,
    session::{csrf_token, csrf_valid, session, start_session},
    state::{AppState, form_body, found},
};

/// The segments of a login link (no `Debug`: it holds a code).
struct Link {
    username: Option<String>,
    code: String,
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
    Some(Link { username, code })
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
        }
    }
}

// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfBody {
    csrfmiddlewaretoken: Option<String>,
}

/// `GET` of a link: with `post_redirect` the "Logging in..." page (nothing consumed), else the
/// login itself.
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_get<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let Some(link) = link(&state, &req) else {
        return state.html_failure(Failure::NotFound);
    };
    let result = if state.settings().post_redirect {
        submit_page(&state, &req, &link).await
    } else {
        log_in_with_link(&state, &req, &link).await
    };
    result.unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_page<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    link: &Link,
) -> Result<HttpResponse, Failure> {
    if !state.service.check(link.attempt(req, state)).await? {
        return Err(Failure::NotFound);
    }
    let token = csrf_token(&session::<U>(req)?)?;
    Ok(state.page(Page::Submit {
        action: req.uri().path(),
        csrf_token: &token,
    }))
}

async fn log_in_with_link<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    link: &Link,
) -> Result<HttpResponse, Failure> {
    // Before the code is spent: without the middleware the login could not be kept.
    session::<U>(req)?;
    let login = state
        .service
        .authenticate(link.attempt(req, state))
        .await?
        .ok_or(Failure::NotFound)?;
    start_session(req, &state.service, &login.user)?;
    Ok(found(&login.next))
}

/// `HEAD` of a link: 200 or 404, and never consumes the code (even with `post_redirect` off).
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_head<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
) -> HttpResponse {
    let Some(link) = link(&state, &req) else {
        return HttpResponse::NotFound().finish();
    };
    match state.service.check(link.attempt(&req, &state)).await {
        Ok(true) => HttpResponse::Ok().finish(),
        Ok(false) => HttpResponse::NotFound().finish(),
        Err(error) => state.html_failure(error.into()),
    }
}

/// `POST` of a link (the auto-submitted form): consume, log in, 302 to `next`; else 404.
#[tracing::instrument(name = "nopassword.link", skip_all)]
pub(crate) async fn link_post<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: CsrfBody = form_body(&req, payload).await?;
        let link = link(&state, &req).ok_or(Failure::NotFound)?;
        if !csrf_valid(&session::<U>(&req)?, body.csrfmiddlewaretoken.as_deref())? {
            return Err(Failure::Csrf);
        }
        log_in_with_link(&state, &req, &link).await
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsernameQuery {
    username: Option<String>,
}

// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct CodeBody {
    username: Option<String>,
    code: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

fn render_form<U: LoginUser>(
    state: &AppState<U>,
    req: &HttpRequest,
    username: &str,
    errors: &FormErrors,
) -> Result<HttpResponse, Failure> {
    let token = csrf_token(&session::<U>(req)?)?;
    Ok(state.page(Page::CodeForm {
        csrf_token: &token,
        username,
        errors,
    }))
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
/// "Unable to log in with provided login code."
#[tracing::instrument(name = "nopassword.code", skip_all)]
pub(crate) async fn submit<U: LoginUser>(
    req: HttpRequest,
    state: web::Data<AppState<U>>,
    payload: web::Payload,
) -> HttpResponse {
    async {
        let body: CodeBody = form_body(&req, payload).await?;
        if !csrf_valid(&session::<U>(&req)?, body.csrfmiddlewaretoken.as_deref())? {
            return Err(Failure::Csrf);
        }
        let form = CodeForm {
            username: body.username,
            code: body.code,
        };
        let typed = form.username.clone().unwrap_or_default();
        let (username, code) = match form.validate(!state.settings().hide_username) {
            Ok(fields) => fields,
            Err(errors) => return render_form(&state, &req, &typed, &errors),
        };
        let attempt = CodeAttempt {
            username,
            code,
            client: request_info(&req, &state.settings().trusted_proxies).client,
        };
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&req, &state.service, &login.user)?;
                Ok(found(&login.next))
            }
            None => render_form(
                &state,
                &req,
                &typed,
                &FormErrors::form(messages::INVALID_CODE),
            ),
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
