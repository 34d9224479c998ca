//! The end-to-end scenarios, written once and run against both demo sites: each demo
//! implements [`Site`] (start an instance of itself in this process) in its `tests/`, and one
//! macro per suite declares a `#[test]` for every scenario.
//!
//! - [`site`]: the whole login over plain HTTP, through the JSON API and the HTML pages;
//! - [`browser`]: a real browser (headless Chromium through chromedriver) logs in as a person
//!   would, with and without JavaScript, and from a second browser profile;
//! - [`two_instances`]: two instances sharing one Redis accept each other's codes and
//!   sessions;
//! - [`cross_device`]: a login asked on one instance and approved from another browser on the
//!   other (issue 15), in Chromium and over the JSON API.
//!
//! Every service they need (chromedriver, Redis, a Redis Cluster) is started by
//! `cargo xtask test`, which exports where it listens; a scenario whose variable is missing
//! fails naming it, never skips.
//!
//! ```no_run
//! use std::net::SocketAddr;
//!
//! use demo_common::e2e::{Instance, Site};
//! use demo_common::DemoSettings;
//!
//! /// A demo serving its built-in users (here only a stand-in for the real one).
//! struct MyDemo;
//!
//! impl Site for MyDemo {
//!     const NAME: &'static str = "my-demo";
//!
//!     async fn start(settings: DemoSettings) -> Instance {
//!         let mount = settings.core.mount_path.clone();
//!         let outbox = nopassword_core::Outbox::new(50);
//!         let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!         let addr: SocketAddr = listener.local_addr().unwrap();
//!         // ... serve the demo on `listener` ...
//!         Instance::new(addr, outbox, mount, listener)
//!     }
//! }
//!
//! demo_common::site_tests!(MyDemo);
//! demo_common::browser_tests!(MyDemo);
//! demo_common::two_instance_tests!(MyDemo);
//! ```

pub mod browser;
pub mod cross_device;
pub mod site;
pub mod two_instances;

use std::{
    future::Future,
    net::SocketAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use nopassword_core::{Outbox, Settings, sender::OutboxMessage};

use crate::DemoSettings;

/// How long a background delivery may take to reach the outbox.
const DELIVERY: Duration = Duration::from_secs(10);

/// A demo site the scenarios can start.
pub trait Site: Send + Sync + 'static {
    /// The demo's package name (`axum-demo`): it names the demo's Redis keys and screenshot
    /// folder, so the two demos' suites never meet when they run at the same time.
    const NAME: &'static str;

    /// Starts the demo in this process, on a free port of 127.0.0.1 and the current tokio
    /// runtime, with its built-in users ([`demo_users`](crate::demo_users)) and `settings`:
    /// as its binary does (`Demo::connect`), so with codes and sessions in Redis when
    /// `redis_url` is set. Panics if it cannot start.
    fn start(settings: DemoSettings) -> impl Future<Output = Instance> + Send;
}

/// A demo instance [`Site::start`] started; dropping it stops the server.
pub struct Instance {
    addr: SocketAddr,
    outbox: Outbox,
    mount: String,
    /// Whatever keeps the server running; dropping it stops the server.
    _serving: Mutex<Box<dyn Send>>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("addr", &self.addr)
            .field("mount", &self.mount)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// A demo listening on `addr`, showing `outbox` at `/outbox`, with nopassword's routes
    /// under `mount` (its `mount_path`); `serving` is dropped when the instance is, and must
    /// stop the server then.
    pub fn new(
        addr: SocketAddr,
        outbox: Outbox,
        mount: impl Into<String>,
        serving: impl Send + 'static,
    ) -> Self {
        Self {
            addr,
            outbox,
            mount: mount.into(),
            _serving: Mutex::new(Box::new(serving)),
        }
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The absolute URL of nopassword's route `path` (`/login/` gives
    /// `http://{addr}/accounts/login/`).
    pub fn mounted(&self, path: &str) -> String {
        self.url(&format!("{}{path}", self.mount))
    }

    /// The development outbox, where codes go without a real sender.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The newest message for `username`, waiting for the background delivery to reach the
    /// outbox; panics after 10 s.
    pub async fn message_for(&self, username: &str) -> OutboxMessage {
        let deadline = Instant::now() + DELIVERY;
        loop {
            if let Some(message) = self.outbox.latest_for(username) {
                return message;
            }
            assert!(
                Instant::now() < deadline,
                "no message for {username} reached the outbox of {}",
                self.url("/")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Runs `scenario` to completion on a tokio runtime of its own (two worker threads, every
/// driver), as each generated test does.
pub fn block_on<F: Future>(scenario: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the scenario")
        .block_on(scenario)
}

/// The value of the environment variable `name`, which `cargo xtask test` sets after starting
/// `service`; panics naming both when it is missing (a scenario never skips).
pub fn service_env(name: &str, service: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this scenario needs {service}; run it with `cargo xtask test`, \
             which starts it and sets {name}"
        )
    })
}

/// Settings every scenario starts from: the built-in defaults and a fixed `secret_key`
/// (instances of one scenario share it, as a deployment's instances do).
pub fn settings() -> Settings {
    Settings {
        secret_key: Some("demo-e2e-secret-key-0123456789abcdef".into()),
        ..Settings::default()
    }
}
