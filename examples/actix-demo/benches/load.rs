//! Load run: the actix demo's JSON API under 32 concurrent keep-alive connections, measured in
//! the same run as a bare actix-web handler that returns a fixed 200 (the HTTP stack's own
//! limit on this machine, which client and servers share). The scenarios, client and report are
//! `demo_common::load`'s, shared with axum-demo; this file only serves the apps on actix-web.
//!
//! - baseline: `GET /` on an actix-web app with that one handler;
//! - (a) `POST {mount}/api/login/` on the demo with a null sender;
//! - (b) `POST {mount}/api/login/code/` with a fresh valid code per request.
//!
//! Each server runs in a thread of its own with its own actix `System` and as many workers as
//! the machine has cores (baseline and demo alike); the client is a tokio runtime in the main
//! thread.
//!
//! `cargo bench -p actix-demo --bench load` (and `cargo xtask bench`). Run without `--bench`
//! (`cargo test --benches`), it does a short smoke run instead.

/// The demo's allocator (see `src/main.rs`), for the servers and the client alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    io,
    net::{SocketAddr, TcpListener},
    sync::mpsc,
    thread,
};

use actix_demo::{Demo, Running};
use actix_web::{
    App, HttpServer,
    dev::{Server as ActixServer, ServerHandle},
    rt::System,
    web,
};
use demo_common::{
    DemoParts,
    load::{self, Framework},
};
use nopassword_core::{NoPassword, user::User};

fn main() {
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    load::run(Actix { workers });
}

/// Serves each app in a thread of its own with its own `System` and `workers` workers.
struct Actix {
    workers: usize,
}

impl Framework for Actix {
    type Server = Server;

    fn note(&self) -> String {
        format!(", {} actix workers per server", self.workers)
    }

    async fn serve_baseline(&self) -> Server {
        serve_baseline(self.workers)
    }

    async fn serve_demo(&self, parts: DemoParts) -> (Server, NoPassword<User>) {
        let demo = Demo::from_connected_parts(parts)
            .await
            .expect("the demo builds");
        let running = demo
            .spawn(free_listener(), self.workers)
            .expect("the demo serves");
        let server = Server::Demo {
            addr: running.addr(),
            running,
        };
        (server, demo.service)
    }
}

/// A server running in a thread of its own.
enum Server {
    /// The demo, through [`Demo::spawn`].
    Demo { addr: SocketAddr, running: Running },
    /// The baseline app.
    Baseline {
        addr: SocketAddr,
        handle: ServerHandle,
        thread: thread::JoinHandle<io::Result<()>>,
    },
}

impl load::Server for Server {
    fn addr(&self) -> SocketAddr {
        match self {
            Self::Demo { addr, .. } | Self::Baseline { addr, .. } => *addr,
        }
    }

    /// Stops the server and waits until its thread (with the app and the codes and sessions
    /// it holds) is gone, so one scenario's leftovers do not weigh on the next.
    async fn stop(self) {
        tokio::task::spawn_blocking(move || match self {
            Self::Demo { running, .. } => drop(running),
            Self::Baseline { handle, thread, .. } => {
                drop(handle.stop(false));
                thread
                    .join()
                    .expect("the baseline server thread panicked")
                    .expect("the baseline server failed");
            }
        })
        .await
        .expect("the server stopped cleanly");
    }
}

fn free_listener() -> TcpListener {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("cannot bind 127.0.0.1:0")
}

/// The baseline, `GET /` answering a fixed 200 "ok", served as [`Demo::spawn`] serves the
/// demo: its own thread and `System`, `workers` workers, no signal handling.
fn serve_baseline(workers: usize) -> Server {
    let listener = free_listener();
    let addr = listener.local_addr().expect("the listener has an address");
    let (started, handle) = mpsc::channel();
    let thread = thread::spawn(move || {
        System::new().block_on(async move {
            let server: ActixServer =
                HttpServer::new(|| App::new().route("/", web::get().to(|| async { "ok" })))
                    .workers(workers)
                    .disable_signals()
                    .listen(listener)?
                    .run();
            started.send(server.handle()).expect("the bench waits");
            server.await
        })
    });
    let handle = handle.recv().expect("the baseline server started");
    Server::Baseline {
        addr,
        handle,
        thread,
    }
}
