//! `GET`/`POST logout/`: end the session.

use axum::{
    extract::{Query, State},
    http::{StatusCode, Uri, header::ALLOW},
    response::{IntoResponse, Response},
};
use nopassword_core::{
    LoginUser,
    http::{Failure, logout_target},
};
use serde::Deserialize;

use super::{Auth, found};
use crate::{
    session::csrf_valid,
    state::{AppState, HtmlForm},
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

// No Debug: it holds a code or a CSRF token.
#[derive(Deserialize)]
pub(crate) struct LogoutBody {
    next: Option<String>,
    csrfmiddlewaretoken: Option<String>,
}

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

/// Ends the session; 302 to a safe `?next=`, else to the login page.
pub(crate) async fn get<U: LoginUser>(
    State(state): State<AppState<U>>,
    mut auth: Auth<U>,
    uri: Uri,
) -> Response {
    let next = Query::<NextQuery>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(q)| q.next);
    log_out(&state, &mut auth, next.as_deref())
        .await
        .unwrap_or_else(|failure| state.html_failure(failure))
}

/// The same from a form (with its CSRF token).
pub(crate) async fn post<U: LoginUser>(
    State(state): State<AppState<U>>,
    mut auth: Auth<U>,
    HtmlForm(body): HtmlForm<LogoutBody>,
) -> Response {
    async {
        if !csrf_valid(&auth.session, body.csrfmiddlewaretoken.as_deref()).await? {
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
