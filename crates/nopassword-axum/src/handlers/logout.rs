//! `GET`/`POST logout/`: end the session. `GET` only asks to confirm, unless `logout_on_get`.

use axum::{
    extract::{OriginalUri, Query, State},
    http::{StatusCode, Uri, header::ALLOW},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    LoginUser,
    http::{Failure, LogoutPost, NextQuery, logout_target},
    pages::Page,
};

use super::{Auth, found};
use crate::{
    cookies::RequestCookies,
    state::{AppState, HtmlForm},
};

async fn log_out<U: LoginUser>(
    state: &AppState<U>,
    auth: &mut Auth<U>,
    next: Option<&str>,
) -> Result<Response, Failure> {
    auth.logout().await.map_err(|error| {
        tracing::error!(%error, "could not end the session");
        Failure::Unavailable
    })?;
    Ok(found(&logout_target(state.service.settings(), next)))
}

/// With `logout_on_get`: ends the session, 302 to a safe `?next=`, else to the login page.
/// Without (the default): the "Log out?" page, whose button posts the logout; nobody is logged
/// out.
pub(crate) async fn get<U: LoginUser>(
    State(state): State<AppState<U>>,
    cookies: RequestCookies,
    mut auth: Auth<U>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let next = query_next(&uri);
    if state.service.settings().logout_on_get {
        return log_out(&state, &mut auth, next.as_deref())
            .await
            .unwrap_or_else(|failure| state.html_failure(failure));
    }
    let csrf = cookies.page_csrf(&state.service);
    let page = state.page(Page::LogoutForm {
        action: uri.path(),
        csrf_token: csrf.token(),
        next: next.as_deref(),
    });
    csrf.apply(page)
}

fn query_next(uri: &Uri) -> Option<String> {
    Query::<NextQuery>::try_from_uri(uri)
        .ok()
        .and_then(|Query(q)| q.next)
}

/// Ends the session from a form (with its CSRF token); 302 to a safe `next`, else to the login
/// page.
pub(crate) async fn post<U: LoginUser>(
    State(state): State<AppState<U>>,
    cookies: RequestCookies,
    mut auth: Auth<U>,
    HtmlForm(body): HtmlForm<LogoutPost>,
) -> Response {
    async {
        if !cookies.csrf_valid(&state.service, body.csrfmiddlewaretoken.as_deref()) {
            return Err(Failure::Csrf);
        }
        log_out(&state, &mut auth, body.next.as_deref()).await
    }
    .await
    .unwrap_or_else(|failure| state.html_failure(failure))
}

/// `HEAD` ends nothing (link checkers and prefetchers must not log anyone out): 405.
pub(crate) async fn head() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "GET, POST")]).into_response()
}
