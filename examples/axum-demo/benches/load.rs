//! Load run: the demo's JSON API under 32 concurrent keep-alive connections, measured in the
//! same run as a bare axum handler that returns a fixed 200 (the HTTP stack's own limit on
//! this machine, which client and servers share). The scenarios, client and report are
//! `demo_common::load`'s, shared with actix-demo; this file only serves the apps on axum.
//!
//! - baseline: `GET /` on a router with that one handler;
//! - (a) `POST {mount}/api/login/` on the demo with a null sender;
//! - (b) `POST {mount}/api/login/code/` with a fresh valid code per request.
//!
//! `cargo bench -p axum-demo --bench load` (and `cargo xtask bench`). Run without `--bench`
//! (`cargo test --benches`), it does a short smoke run instead.

/// The demo's allocator (see `src/main.rs`), for the servers and the client alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;

use axum::{Router, routing::get};
use axum_demo::Demo;
use demo_common::{
    DemoParts,
    load::{self, Framework},
};
use nopassword_core::{NoPassword, user::User};
use tokio::net::TcpListener;

fn main() {
    load::run(Axum);
}

/// Serves with `axum::serve` on the bench's tokio runtime.
struct Axum;

impl Framework for Axum {
    type Server = Server;

    async fn serve_baseline(&self) -> Server {
        serve(Router::new().route("/", get(|| async { "ok" }))).await
    }

    async fn serve_demo(&self, parts: DemoParts) -> (Server, NoPassword<User>) {
        let demo = Demo::from_connected_parts(parts)
            .await
            .expect("the demo builds");
        (serve(demo.app).await, demo.service)
    }
}

/// A server started by [`serve`].
struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl load::Server for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the server stopped cleanly");
    }
}

/// Serves `app` on a free port, with client addresses as the demo binary does.
async fn serve(app: Router) -> Server {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("cannot bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the listener has an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
        .expect("the server failed");
    });
    Server { addr, stop, task }
}
