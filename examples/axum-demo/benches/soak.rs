//! The soak run on axum (`cargo xtask soak`, not in CI): `demo_common::soak` drives the demo
//! with Redis codes and Redis sessions for ten minutes; this file only serves it on axum. Without
//! `--soak` (as `cargo bench --workspace` runs it) it does nothing.

/// The demo's allocator (see `src/main.rs`), as the binary runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;

use axum_demo::Demo;
use demo_common::{DemoParts, load::Framework};
use nopassword_core::{NoPassword, user::User};
use tokio::net::TcpListener;

fn main() {
    demo_common::soak::run(Axum);
}

struct Axum;

impl Framework for Axum {
    type Server = Server;

    /// A fixed 200 (the soak itself serves only the demo).
    async fn serve_baseline(&self) -> Server {
        serve(axum::Router::new().route("/", axum::routing::get(|| async { "ok" }))).await
    }

    async fn serve_demo(&self, parts: DemoParts) -> (Server, NoPassword<User>) {
        let demo = Demo::from_connected_parts(parts)
            .await
            .expect("the demo builds");
        (serve(demo.app).await, demo.service)
    }
}

/// Serves `app` on a free port, with client addresses as the demo binary does.
async fn serve(app: axum::Router) -> Server {
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

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl demo_common::load::Server for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the server stopped cleanly");
    }
}
