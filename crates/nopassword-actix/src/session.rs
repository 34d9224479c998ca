//! The login itself: a session that starts under a fresh id, the keyed fingerprint that ties
//! it to the user's id and `secret_key`, and its end.

use std::fmt;

use actix_identity::{Identity, IdentityExt};
use actix_session::{Session, SessionExt};
use actix_web::{HttpMessage, HttpRequest};
use nopassword_core::{LoginUser, NoPassword, http::Failure, secret::SecretString};

use crate::middleware::require_middleware;

/// Session key of the keyed fingerprint of the logged-in user's id: rotating `secret_key` ends
/// every session (axum-login's `session_auth_hash`).
pub(crate) const AUTH_HASH_KEY: &str = "nopassword.auth_hash";

/// Session key of actix-identity's user id (its default `id_key`, which
/// [`login_middleware`](crate::login_middleware) keeps).
const ID_KEY: &str = "actix_identity.user_id";

/// The request's session, when [`login_middleware`](crate::login_middleware) is installed. Reading it writes nothing:
/// actix-session stores a session only when its state changes.
pub(crate) fn session<U: LoginUser>(req: &HttpRequest) -> Result<Session, Failure> {
    require_middleware::<U>(req)?;
    Ok(req.get_session())
}

fn unavailable(error: impl fmt::Display) -> Failure {
    tracing::error!(%error, "session unavailable");
    Failure::Unavailable
}

/// Logs `user` in, always under a new session id, whatever the request carried (no session,
/// a session of another user or of a user now inactive, a planted cookie): a fixed session id
/// is worthless.
///
/// A session that belonged to someone else (another user id, or a fingerprint that no longer
/// matches) is emptied first, so nothing of theirs carries over (Django's `flush`); an
/// anonymous session keeps its state under the new id (Django's `cycle_key`). Then the
/// actix-identity login, the user's keyed fingerprint, and the renewal: actix-session deletes
/// the old entry and saves the state under a fresh key.
pub(crate) fn start_session<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
    user: &U,
) -> Result<(), Failure> {
    let session = session::<U>(req)?;
    let id = user.id();
    let hash = service.session_auth_hash(&id);
    // Whether the session holds another value under `key`; an unreadable one is not kept.
    let differs = |key: &str, ours: &str| match session.get::<String>(key) {
        Ok(None) => false,
        Ok(Some(held)) => SecretString::new(held) != SecretString::new(ours.to_owned()),
        Err(_) => true,
    };
    if differs(ID_KEY, &id) || differs(AUTH_HASH_KEY, &hash) {
        session.clear();
    }
    Identity::login(&req.extensions(), id).map_err(unavailable)?;
    session.insert(AUTH_HASH_KEY, hash).map_err(unavailable)?;
    // `Identity::login` renews too; this keeps the guarantee here, whatever it does.
    session.renew();
    Ok(())
}

/// Ends the session (and its login) entirely.
pub(crate) fn end_session<U: LoginUser>(req: &HttpRequest) -> Result<(), Failure> {
    session::<U>(req)?.purge();
    Ok(())
}

/// The id of the session's user, if the fingerprint still matches the service's key.
pub(crate) fn session_user_id<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
) -> Option<String> {
    let id = req.get_identity().ok()?.id().ok()?;
    let stored = req.get_session().get::<String>(AUTH_HASH_KEY).ok()??;
    (SecretString::new(stored) == SecretString::new(service.session_auth_hash(&id))).then_some(id)
}
