//! The axum demo as the shared end-to-end scenarios start it (`demo_common::e2e`).

use std::net::SocketAddr;

use axum_demo::{Demo, demo_users};
use demo_common::{
    DemoSettings,
    e2e::{Instance, Site},
};

/// axum-demo, served by `axum::serve` on the scenario's tokio runtime.
pub(crate) struct AxumDemo;

/// Aborts the server task when the instance is dropped.
struct Serving(tokio::task::JoinHandle<()>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Site for AxumDemo {
    const NAME: &'static str = "axum-demo";

    async fn start(settings: DemoSettings) -> Instance {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("cannot bind 127.0.0.1:0 for the demo");
        let addr = listener.local_addr().expect("the listener has an address");
        let demo = Demo::connect(settings, demo_users()).await;
        let demo = demo.expect("the demo starts");
        let app = demo.app.clone();
        let serving = tokio::spawn(async move {
            axum_demo::serve(listener, app)
                .await
                .expect("the demo server failed");
        });
        let mount = demo.service.settings().mount_path.clone();
        Instance::new(addr, demo.outbox, mount, Serving(serving))
    }
}
