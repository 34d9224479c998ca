//! The HTTP contract suite (SPEC sections 5 and 7) against nopassword-axum: a real server on a
//! free port, driven over plain HTTP.
//!
//! `support/` (the harness) and `contract/` (the tests) know no web framework; this file is
//! the only axum-specific part. Another adapter runs the same suite with its own `Adapter`
//! implementation and one `contract::conformance_tests!(ItsAdapter);` line.

// `support/` and `contract/` are written as the public API of the shared conformance crate
// they are to become once a second adapter exists (issue 7); inside this test binary that
// `pub` is unreachable.
#![allow(unreachable_pub)]

mod contract;
mod support;

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use nopassword_axum::{CurrentUser, login_layer, router};
use nopassword_core::{NoPassword, User};
use serde_json::{Value, json};
use support::{Adapter, ServerHandle};

/// nopassword-axum, assembled as an app does: the router, `login_layer` over a
/// tower-sessions `MemoryStore`, and the app's own `/whoami` using [`CurrentUser`].
struct Axum;

async fn whoami(CurrentUser(user): CurrentUser<User>) -> Json<Value> {
    Json(json!({ "username": user.username }))
}

impl Adapter for Axum {
    fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
        let app = Router::new()
            .route("/whoami", get(whoami))
            .merge(router(service.clone()).expect("built-in templates parse"))
            .layer(login_layer(
                &service,
                tower_sessions::MemoryStore::default(),
            ));
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the server runs");
        });
        ServerHandle::new(move || server.abort())
    }
}

contract::conformance_tests!(Axum);
