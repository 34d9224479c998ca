//! Extractors that give handlers the logged-in user.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, dev::Payload, error::InternalError,
    http::StatusCode, web,
};
use nopassword_core::{LoginUser, NoPassword, forms::messages, http::Failure};
use serde_json::json;

use crate::{
    middleware::LoginContext,
    session::{require_sessions, session_user_id},
    state::{AppState, json_failure},
};

/// The logged-in user; requests without one get 401 `{"detail": "Authentication credentials
/// were not provided."}`, whatever they accept (for the JSON API of an app; pages want
/// [`LoggedIn`](crate::LoggedIn), which sends browsers to the login page instead).
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

pub(crate) fn refuse(reason: &'static str, response: HttpResponse) -> actix_web::Error {
    InternalError::from_response(reason, response).into()
}

/// The user [`LoginRequired`](crate::LoginRequired) already loaded for this request, so the
/// extractors behind it do not ask the directory again.
#[derive(Clone)]
pub(crate) struct LoadedUser<U>(pub(crate) U);

/// The service the extractors load users through: [`login_middleware`]'s, or the one
/// [`configure`] registered as app data.
///
/// [`login_middleware`]: crate::login_middleware
/// [`configure`]: crate::configure
pub(crate) fn service_of<U: LoginUser>(req: &HttpRequest) -> Option<NoPassword<U>> {
    if let Some(context) = req.extensions().get::<LoginContext<U>>() {
        return Some(context.service.clone());
    }
    req.app_data::<web::Data<AppState<U>>>()
        .map(|state| state.service.clone())
}

/// The session's user, loaded from the directory (so a deactivated account's sessions end at
/// its next request). `None` when nobody is logged in.
pub(crate) async fn load_user<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
) -> Result<Option<U>, Failure> {
    if let Some(LoadedUser(user)) = req.extensions().get::<LoadedUser<U>>() {
        return Ok(Some(user.clone()));
    }
    require_sessions::<U>(req)?;
    let Some(id) = session_user_id(req, service) else {
        return Ok(None);
    };
    let user = service.users().find_by_id(&id).await.map_err(|error| {
        tracing::error!(%error, "user directory unavailable");
        Failure::Unavailable
    })?;
    Ok(user.filter(LoginUser::is_active))
}

/// [`load_user`] for an extractor: 500 when neither [`login_middleware`] nor [`configure`] gave
/// the service, 503 (JSON) when sessions or the directory are not available.
///
/// [`login_middleware`]: crate::login_middleware
/// [`configure`]: crate::configure
pub(crate) async fn session_user<U: LoginUser>(
    req: &HttpRequest,
) -> Result<(NoPassword<U>, Option<U>), actix_web::Error> {
    let Some(service) = service_of::<U>(req) else {
        tracing::error!(
            "nopassword_actix: neither configure() on the App nor login_middleware installed"
        );
        return Err(refuse(
            "login routes missing",
            HttpResponse::InternalServerError().body("login routes missing"),
        ));
    };
    let user = load_user(req, &service)
        .await
        .map_err(|failure| refuse("login unavailable", json_failure(failure)))?;
    Ok((service, user))
}

impl<U: LoginUser> FromRequest for CurrentUser<U> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            session_user::<U>(&req)
                .await?
                .1
                .map(CurrentUser)
                .ok_or_else(|| {
                    let body =
                        json!({ "detail": messages::UNAUTHENTICATED, "code": "unauthenticated" });
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
        Box::pin(async move {
            session_user::<U>(&req)
                .await
                .map(|(_, user)| MaybeUser(user))
        })
    }
}
