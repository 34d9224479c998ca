//! Login links (`login-code/{username}/{code}/` or `login-code/{code}/`) and the typed-code
//! form (`login/code/`).

use axum::{
    extract::{OriginalUri, Path, Query, State, rejection::PathRejection},
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    CodeAttempt, LoginUser,
    forms::{CodeForm, FormErrors, messages},
    http::Failure,
    pages::Page,
};
use serde::Deserialize;

use super::{Auth, found, start_session};
use crate::{
    RequestInfo,
    session::{csrf_token, csrf_valid},
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
    fn attempt<'a>(&'a self, info: &RequestInfo) -> CodeAttempt<'a> {
        CodeAttempt {
            username: self.username.as_deref(),
            code: &self.code,
            client: info.client,
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
pub(crate) async fn link_get<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    mut auth: Auth<U>,
    OriginalUri(uri): OriginalUri,
    link: Result<Path<Link>, PathRejection>,
) -> Response {
    let Some(link) = decoded(link) else {
        return state.html_failure(Failure::NotFound);
    };
    let result = if state.service.settings().post_redirect {
        submit_page(&state, &info, &auth, &uri, &link).await
    } else {
        log_in_with_link(&state, &info, &mut auth, &link).await
    };
    result.unwrap_or_else(|failure| state.html_failure(failure))
}

async fn submit_page<U: LoginUser>(
    state: &AppState<U>,
    info: &RequestInfo,
    auth: &Auth<U>,
    uri: &Uri,
    link: &Link,
) -> Result<Response, Failure> {
    if !state.service.check(link.attempt(info)).await? {
        return Err(Failure::NotFound);
    }
    let token = csrf_token(&auth.session).await?;
    Ok(state.page(Page::Submit {
        action: uri.path(),
        csrf_token: &token,
    }))
}

async fn log_in_with_link<U: LoginUser>(
    state: &AppState<U>,
    info: &RequestInfo,
    auth: &mut Auth<U>,
    link: &Link,
) -> Result<Response, Failure> {
    let login = state
        .service
        .authenticate(link.attempt(info))
        .await?
        .ok_or(Failure::NotFound)?;
    start_session(state, auth, &login).await?;
    Ok(found(&login.next))
}

/// `HEAD` of a link: 200 or 404, and never consumes the code (even with `post_redirect` off).
pub(crate) async fn link_head<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    link: Result<Path<Link>, PathRejection>,
) -> Response {
    let Some(link) = decoded(link) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.service.check(link.attempt(&info)).await {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => state.html_failure(error.into()),
    }
}

/// `POST` of a link (the auto-submitted form): consume, log in, 302 to `next`; else 404.
pub(crate) async fn link_post<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    mut auth: Auth<U>,
    link: Result<Path<Link>, PathRejection>,
    HtmlForm(body): HtmlForm<CsrfBody>,
) -> Response {
    let Some(link) = decoded(link) else {
        return state.html_failure(Failure::NotFound);
    };
    async {
        if !csrf_valid(&auth.session, body.csrfmiddlewaretoken.as_deref()).await? {
            return Err(Failure::Csrf);
        }
        log_in_with_link(&state, &info, &mut auth, &link).await
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

async fn render_form<U: LoginUser>(
    state: &AppState<U>,
    auth: &Auth<U>,
    username: &str,
    errors: &FormErrors,
) -> Result<Response, Failure> {
    let token = csrf_token(&auth.session).await?;
    Ok(state.page(Page::CodeForm {
        csrf_token: &token,
        username,
        errors,
    }))
}

/// The typed-code form, for codes read from an SMS or a mail.
pub(crate) async fn form<U: LoginUser>(
    State(state): State<AppState<U>>,
    auth: Auth<U>,
    uri: Uri,
) -> Response {
    let username = Query::<UsernameQuery>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(q)| q.username)
        .unwrap_or_default();
    render_form(&state, &auth, &username, &FormErrors::default())
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

/// Logs in with a typed code, or shows the form again with
/// "Unable to log in with provided login code."
pub(crate) async fn submit<U: LoginUser>(
    State(state): State<AppState<U>>,
    info: RequestInfo,
    mut auth: Auth<U>,
    HtmlForm(body): HtmlForm<CodeBody>,
) -> Response {
    async {
        if !csrf_valid(&auth.session, body.csrfmiddlewaretoken.as_deref()).await? {
            return Err(Failure::Csrf);
        }
        let form = CodeForm {
            username: body.username,
            code: body.code,
        };
        let typed = form.username.clone().unwrap_or_default();
        let (username, code) = match form.validate(!state.service.settings().hide_username) {
            Ok(fields) => fields,
            Err(errors) => return render_form(&state, &auth, &typed, &errors).await,
        };
        let attempt = CodeAttempt {
            username,
            code,
            client: info.client,
        };
        match state.service.authenticate(attempt).await? {
            Some(login) => {
                start_session(&state, &mut auth, &login).await?;
                Ok(found(&login.next))
            }
            None => {
                render_form(
                    &state,
                    &auth,
                    &typed,
                    &FormErrors::form(messages::INVALID_CODE),
                )
                .await
            }
        }
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}
