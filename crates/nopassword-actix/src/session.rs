//! The login itself, in the session of whichever `SessionMiddleware` the app runs (its own, or
//! the one in [`login_middleware`](crate::login_middleware)): an actix-identity login under a
//! fresh session id, the keyed fingerprint that ties it to `secret_key`, and its end.

use std::{
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
};

use actix_identity::{Identity, IdentityExt};
use actix_session::{Session, SessionExt};
use actix_web::{HttpMessage, HttpRequest};
use nopassword_core::{LoginUser, NoPassword, http::Failure, secret::SecretString};
use serde::{Deserialize, Serialize};

use crate::middleware::LoginContext;

/// Session key of the [`Fingerprint`] of a login made by these routes.
pub(crate) const AUTH_HASH_KEY: &str = "nopassword.auth_hash";

/// What a login through these routes leaves beside actix-identity's user id: the id it was
/// made for and its keyed hash (axum-login's `session_auth_hash`), so that rotating
/// `secret_key` ends every session these routes started. A login the app made itself
/// (`Identity::login` in its own handlers) has none, or one for another id, and is the app's
/// to judge.
#[derive(Serialize, Deserialize)]
struct Fingerprint {
    user: String,
    hash: String,
}

/// Whether actix-identity's `IdentityMiddleware` runs around this request: the app's own, or
/// the one inside [`login_middleware`](crate::login_middleware).
///
/// actix-identity offers no way to ask: every accessor panics without its middleware. Asking
/// through `catch_unwind` turns a missing middleware into a logged 503 before any code is spent,
/// instead of a panic after it. The fast path (our own middleware's marker) never panics.
pub(crate) fn identity_installed<U: LoginUser>(req: &HttpRequest) -> bool {
    if req.extensions().contains::<LoginContext<U>>() {
        return true;
    }
    catch_unwind(AssertUnwindSafe(|| {
        let _ = req.get_identity();
    }))
    .is_ok()
}

/// 503 unless sessions and logins are installed: without them no login could be kept.
pub(crate) fn require_sessions<U: LoginUser>(req: &HttpRequest) -> Result<(), Failure> {
    if identity_installed::<U>(req) {
        Ok(())
    } else {
        tracing::error!(
            "no IdentityMiddleware around the nopassword routes: wrap the App in actix-identity's \
             IdentityMiddleware and actix-session's SessionMiddleware, or in \
             nopassword_actix::login_middleware"
        );
        Err(Failure::Unavailable)
    }
}

/// The request's session, when sessions are installed. Reading it writes nothing:
/// actix-session stores a session only when its state changes.
pub(crate) fn session<U: LoginUser>(req: &HttpRequest) -> Result<Session, Failure> {
    require_sessions::<U>(req)?;
    Ok(req.get_session())
}

fn unavailable(error: impl fmt::Display) -> Failure {
    tracing::error!(%error, "session unavailable");
    Failure::Unavailable
}

/// The id actix-identity holds for this request, if any (sessions must be installed).
fn identity_id(req: &HttpRequest) -> Option<String> {
    req.get_identity().ok()?.id().ok()
}

/// Logs `user` in, always under a new session id, whatever the request carried (no session,
/// a session of another user or of a user now inactive, a planted cookie): a fixed session id
/// is worthless.
///
/// A session that belonged to someone else (another user id, or a fingerprint that no longer
/// matches) is emptied first, so nothing of theirs carries over (Django's `flush`); an
/// anonymous session keeps its state under the new id (Django's `cycle_key`). Then the
/// actix-identity login (`Identity::login`, under the app's `IdentityMiddleware` settings),
/// the fingerprint, and the renewal: actix-session deletes the old entry and saves the state
/// under a fresh key.
pub(crate) fn start_session<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
    user: &U,
) -> Result<(), Failure> {
    let session = session::<U>(req)?;
    let id = user.id();
    let hash = service.session_auth_hash(&id);
    let someone_else = identity_id(req)
        .is_some_and(|held| SecretString::new(held) != SecretString::new(id.clone()))
        || match session.get::<Fingerprint>(AUTH_HASH_KEY) {
            Ok(None) => false,
            Ok(Some(held)) => {
                held.user != id || SecretString::new(held.hash) != SecretString::new(hash.clone())
            }
            Err(_) => true,
        };
    if someone_else {
        session.clear();
    }
    Identity::login(&req.extensions(), id.clone()).map_err(unavailable)?;
    session
        .insert(AUTH_HASH_KEY, Fingerprint { user: id, hash })
        .map_err(unavailable)?;
    // `Identity::login` renews too; this keeps the guarantee here, whatever it does.
    session.renew();
    Ok(())
}

/// Ends the login: `Identity::logout` (which purges the session under actix-identity's
/// default `LogoutBehavior::PurgeSession`, or only drops the identity under
/// `DeleteIdentityKeys`, as the app chose) and the fingerprint. A session without a login
/// is purged.
pub(crate) fn end_session<U: LoginUser>(req: &HttpRequest) -> Result<(), Failure> {
    let session = session::<U>(req)?;
    // Before the logout: after a purge the session ignores changes.
    session.remove(AUTH_HASH_KEY);
    match req.get_identity() {
        Ok(identity) => identity.logout(),
        Err(_) => session.purge(),
    }
    Ok(())
}

/// The id of the session's user. A login these routes made counts while its fingerprint
/// matches the service's key; a login the app made itself counts as it stands.
pub(crate) fn session_user_id<U: LoginUser>(
    req: &HttpRequest,
    service: &NoPassword<U>,
) -> Option<String> {
    if !identity_installed::<U>(req) {
        return None;
    }
    let id = identity_id(req)?;
    match req.get_session().get::<Fingerprint>(AUTH_HASH_KEY) {
        Ok(Some(held)) if held.user == id => (SecretString::new(held.hash)
            == SecretString::new(service.session_auth_hash(&id)))
        .then_some(id),
        Ok(_) => Some(id),
        // Unreadable: not a state we wrote; nobody is logged in through it.
        Err(_) => None,
    }
}
