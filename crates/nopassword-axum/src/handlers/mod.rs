//! One module per route group, named after the URLs they serve.

pub(crate) mod api;
pub(crate) mod code;
pub(crate) mod login;
pub(crate) mod logout;

use axum::{
    http::{HeaderValue, StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};
use axum_login::AuthSession;
use nopassword_core::{LoginUser, http::Failure, service::Login};

use crate::{
    NoPasswordBackend, SessionUser,
    state::{AppState, session_failure},
};

/// The axum-login session of our backend.
pub(crate) type Auth<U> = AuthSession<NoPasswordBackend<U>>;

/// 302 Found to a path already checked by `safe_next`.
pub(crate) fn found(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::FOUND, [(LOCATION, value)]).into_response()
}

/// Establishes the session for a successful login, always with a fresh session id (no
/// fixation), whatever the request carried: no session, an unknown planted cookie, a session of
/// another user, or one naming a user who is now inactive.
pub(crate) async fn start_session<U: LoginUser>(
    state: &AppState<U>,
    auth: &mut Auth<U>,
    login: &Login<U>,
) -> Result<(), Failure> {
    // axum-login cycles the id only when the session held no login fingerprint: a session whose
    // user is now inactive still holds one, and would keep its id. (When axum-login cycles too,
    // its second cycle only drops an id that was never stored.)
    auth.session.cycle_id().await.map_err(session_failure)?;
    auth.login(&SessionUser::new(&state.service, login.user.clone()))
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not store the login in the session");
            Failure::Unavailable
        })
}
