//! Extractors that give handlers the logged-in user.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, dev::Payload, error::InternalError,
    http::StatusCode,
};
use nopassword_core::{LoginUser, forms::messages, http::Failure};
use serde_json::json;

use crate::{middleware::LoginContext, session::session_user_id, state::json_failure};

/// The logged-in user; requests without one get 401 `{"detail": "Authentication credentials
/// were not provided."}`.
///
/// ```
/// use nopassword_actix::CurrentUser;
/// use nopassword_core::user::User;
///
/// async fn whoami(CurrentUser(user): CurrentUser<User>) -> String {
///     user.username
/// }
/// # let _ = actix_web::web::get().to(whoami);
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser<U>(pub U);

/// The logged-in user, if any.
///
/// ```
/// use nopassword_actix::MaybeUser;
/// use nopassword_core::user::User;
///
/// async fn home(MaybeUser(user): MaybeUser<User>) -> String {
///     user.map_or("Not logged in".into(), |u| format!("Logged in as {}", u.username))
/// }
/// # let _ = actix_web::web::get().to(home);
/// ```
#[derive(Debug, Clone)]
pub struct MaybeUser<U>(pub Option<U>);

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

fn refuse(reason: &'static str, response: HttpResponse) -> actix_web::Error {
    InternalError::from_response(reason, response).into()
}

/// The session's user, loaded from the directory (so a deactivated account's sessions end at
/// its next request).
async fn session_user<U: LoginUser>(req: HttpRequest) -> Result<Option<U>, actix_web::Error> {
    let Some(context) = req.extensions().get::<LoginContext<U>>().cloned() else {
        tracing::error!("nopassword_actix::login_middleware is missing from the app");
        return Err(refuse(
            "login middleware missing",
            HttpResponse::InternalServerError().body("login middleware missing"),
        ));
    };
    let Some(id) = session_user_id(&req, &context.service) else {
        return Ok(None);
    };
    let user = context
        .service
        .users()
        .find_by_id(&id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "user directory unavailable");
            refuse(
                "user directory unavailable",
                json_failure(Failure::Unavailable),
            )
        })?;
    Ok(user.filter(LoginUser::is_active))
}

impl<U: LoginUser> FromRequest for CurrentUser<U> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            session_user::<U>(req)
                .await?
                .map(CurrentUser)
                .ok_or_else(|| {
                    let body = json!({ "detail": messages::UNAUTHENTICATED });
                    refuse(
                        "not logged in",
                        HttpResponse::build(StatusCode::UNAUTHORIZED).json(body),
                    )
                })
        })
    }
}

impl<U: LoginUser> FromRequest for MaybeUser<U> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { session_user::<U>(req).await.map(MaybeUser) })
    }
}
