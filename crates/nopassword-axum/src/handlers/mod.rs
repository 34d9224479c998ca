//! One module per route group, named after the URLs they serve.

pub(crate) mod api;
pub(crate) mod code;
pub(crate) mod flow;
pub(crate) mod login;
pub(crate) mod logout;

use axum::{
    http::{HeaderValue, StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};
use axum_login::AuthSession;
use nopassword_core::{LoginUser, http::Failure, service::Login};

use crate::{PasswordlessBackend, state::session_failure};

/// The axum-login session of the app's backend.
pub(crate) type Auth<B> = AuthSession<B>;

/// The service's users, for the routes logging into `B`.
pub(crate) type UserOf<B> = <B as PasswordlessBackend>::LoginUser;

/// 302 Found to a path already checked by `safe_next`.
pub(crate) fn found(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::FOUND, [(LOCATION, value)]).into_response()
}

/// Establishes the session for a successful login, always with a fresh session id (no
/// fixation), whatever the request carried: no session, an unknown planted cookie, a session of
/// another user, or one naming a user who is now inactive.
///
/// The login's user becomes the backend's through [`PasswordlessBackend::user_from_login`];
/// its id is recorded in the handler's span (`user.id`).
pub(crate) async fn start_session<B: PasswordlessBackend>(
    auth: &mut Auth<B>,
    login: &Login<UserOf<B>>,
) -> Result<(), Failure> {
    let id = login.user.id();
    tracing::Span::current().record("user.id", id.as_str());
    let user = auth
        .backend
        .user_from_login(login.user.clone())
        .await
        .map_err(|error| {
            tracing::error!(%error, "the app's backend refused a passwordless login");
            Failure::Unavailable
        })?;
    // axum-login cycles the id only when the session held no login fingerprint: a session whose
    // user is now inactive still holds one, and would keep its id, so a stored session is
    // cycled here. A session that was never stored (an anonymous visitor, the usual case:
    // axum-login's extractor has loaded it, so it has no id exactly when the store holds
    // nothing under it) holds no fingerprint, so axum-login cycles it, and it gets a fresh id
    // when first stored anyway: cycling it here too would only cost the store a deletion of
    // an id nobody ever stored.
    if auth.session.id().is_some() {
        auth.session.cycle_id().await.map_err(session_failure)?;
    }
    auth.login(&user).await.map_err(|error| {
        tracing::error!(%error, "could not store the login in the session");
        Failure::Unavailable
    })
}
