//! `GET`/`POST logout/`: end the session. `GET` only asks to confirm, unless `logout_on_get`.

use axum::{
    extract::{OriginalUri, Query, State},
    http::{StatusCode, Uri, header::ALLOW},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    http::{Failure, LogoutPost, NextQuery, logout_target},
    pages::Page,
};

use super::{Auth, UserOf, found};
use crate::{
    PasswordlessBackend,
    cookies::RequestCookies,
    state::{AppState, HtmlForm},
};

async fn log_out<B: PasswordlessBackend>(
    state: &AppState<UserOf<B>>,
    auth: &mut Auth<B>,
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
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn get<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    cookies: RequestCookies,
    mut auth: Auth<B>,
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
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn post<B: PasswordlessBackend>(
    State(state): State<AppState<UserOf<B>>>,
    cookies: RequestCookies,
    mut auth: Auth<B>,
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
#[tracing::instrument(name = "nopassword.logout", skip_all)]
pub(crate) async fn head() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "GET, POST")]).into_response()
}
