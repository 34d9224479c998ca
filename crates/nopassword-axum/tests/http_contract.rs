//! The HTTP contract suite (docs/HTTP.md) against nopassword-axum: a real server on a
//! free port, driven over plain HTTP.
//!
//! The suite lives in `nopassword-conformance` and knows no web framework; this file is the
//! only axum-specific part: how an app assembles nopassword-axum.

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use nopassword_axum::{CurrentUser, MemorySessionStore, login_layer, router};
use nopassword_conformance::{
    conformance_tests,
    support::{Adapter, ServerHandle},
};
use nopassword_core::{NoPassword, user::User};
use serde_json::{Value, json};

/// nopassword-axum, assembled as an app does: the router, `login_layer` over the crate's
/// [`MemorySessionStore`] (whose size the suite reads, to check that anonymous visitors create
/// no session), and the app's own `/whoami` using [`CurrentUser`].
struct Axum;

async fn whoami(CurrentUser(user): CurrentUser<User>) -> Json<Value> {
    Json(json!({ "username": user.username }))
}

impl Adapter for Axum {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        let sessions = MemorySessionStore::default();
        let app = Router::new()
            .route("/whoami", get(whoami))
            .route("/readyz", nopassword_axum::readiness(service.clone()))
            .merge(router(service.clone()).expect("built-in templates parse"))
            .layer(login_layer(&service, sessions.clone()));
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the server runs");
        });
        ServerHandle::new(move || server.abort()).with_session_count(move || sessions.len())
    }
}

conformance_tests!(Axum);
