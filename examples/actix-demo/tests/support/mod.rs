//! The actix demo as the shared end-to-end scenarios start it (`demo_common::e2e`).

use std::net::TcpListener;

use actix_demo::{Demo, demo_users};
use demo_common::{
    DemoSettings,
    e2e::{Instance, Site},
};

/// actix-demo, served from a thread of its own with its own actix `System`
/// ([`Demo::spawn`]); its Redis connections live on the scenario's tokio runtime.
pub(crate) struct ActixDemo;

impl Site for ActixDemo {
    const NAME: &'static str = "actix-demo";

    async fn start(settings: DemoSettings) -> Instance {
        let demo = Demo::connect(settings, demo_users())
            .await
            .expect("the demo starts");
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0 for the demo");
        let running = demo.spawn(listener, 2).expect("the demo serves");
        let mount = demo.service.settings().mount_path.clone();
        Instance::new(running.addr(), demo.outbox, mount, running)
    }
}
