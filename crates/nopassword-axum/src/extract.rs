//! Extractors that give handlers the logged-in user.

use axum::{
    Json,
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use axum_login::AuthSession;
use nopassword_core::{LoginUser, forms::messages};
use serde_json::json;

use crate::NoPasswordBackend;

/// The logged-in user; requests without one get 401 `{"detail": "Authentication credentials
/// were not provided."}`.
///
/// ```
/// use nopassword_axum::CurrentUser;
/// use nopassword_core::user::User;
///
/// async fn whoami(CurrentUser(user): CurrentUser<User>) -> String {
///     user.username
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(whoami);
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser<U>(pub U);

/// The logged-in user, if any.
///
/// ```
/// use nopassword_axum::MaybeUser;
/// use nopassword_core::user::User;
///
/// async fn home(MaybeUser(user): MaybeUser<User>) -> String {
///     user.map_or("Not logged in".into(), |u| format!("Logged in as {}", u.username))
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(home);
/// ```
#[derive(Debug, Clone)]
pub struct MaybeUser<U>(pub Option<U>);

/// The session's user; `None` when the app lacks [`login_layer`](crate::login_layer).
fn session_user<U: LoginUser>(parts: &Parts) -> Option<Option<U>> {
    let auth = parts
        .extensions
        .get::<AuthSession<NoPasswordBackend<U>>>()?;
    Some(auth.user.as_ref().map(|u| u.user.clone()))
}

fn missing_layer() -> Response {
    tracing::error!("nopassword_axum::login_layer is missing from the app");
    (StatusCode::INTERNAL_SERVER_ERROR, "login layer missing").into_response()
}

impl<S: Send + Sync, U: LoginUser> FromRequestParts<S> for CurrentUser<U> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        session_user(parts)
            .ok_or_else(missing_layer)?
            .map(CurrentUser)
            .ok_or_else(|| {
                let body =
                    json!({ "detail": messages::UNAUTHENTICATED, "code": "unauthenticated" });
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            })
    }
}

impl<S: Send + Sync, U: LoginUser> FromRequestParts<S> for MaybeUser<U> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        session_user(parts).map(MaybeUser).ok_or_else(missing_layer)
    }
}
